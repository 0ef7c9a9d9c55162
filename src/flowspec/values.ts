/**
 * Value codecs for the flow text: numbers, MAC, IPv4 and IPv6 addresses,
 * each as a bigint while parsing and masking, and the addon's canonical
 * forms (addon-types.ts) on the way out.
 *
 * Parsers return undefined on malformed text; the caller reports the error
 * with its context (see errors.ts).
 */
import type { FieldKind, FieldValue } from '../mgmt/addon-types';

const DEC = /^[0-9]+$/;
const HEX = /^0x[0-9a-f]+$/i;

/** Decimal or 0x hexadecimal, without sign; undefined if malformed. */
export function parseUint(text: string): bigint | undefined {
  // the common case, a short decimal number, without a regex or a string copy
  if (text.length > 0 && text.length <= 15) {
    let n = 0;
    let i = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
    }
    if (i === text.length) return BigInt(n);
  }
  const t = text.trim();
  if (DEC.test(t) || HEX.test(t)) {
    if (t.length > 40) return undefined;
    return BigInt(t);
  }
  return undefined;
}

export function parseMac(text: string): bigint | undefined {
  const parts = text.split(':');
  if (parts.length !== 6) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^[0-9a-f]{1,2}$/i.test(p)) return undefined;
    v = (v << 8n) | BigInt(parseInt(p, 16));
  }
  return v;
}

export function formatMac(v: bigint): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push(((v >> BigInt(i * 8)) & 0xffn).toString(16).padStart(2, '0'));
  return out.join(':');
}

export function parseIpv4(text: string): bigint | undefined {
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      v = v * 256 + octet;
      octet = digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return BigInt(v * 256 + octet);
}

export function formatIpv4(v: bigint): string {
  const n = v <= 0xffffffffn ? Number(v) : Number(v & 0xffffffffn);
  return `${(n / 16777216) >>> 0}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function parseIpv6(text: string): bigint | undefined {
  if (text.length === 0 || text.length > 45 || !/^[0-9a-f:.]+$/i.test(text)) return undefined;
  let groups: number[] = [];
  let head = text;
  let v4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    if (lastColon < 0) return undefined;
    v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" keeps its "::"; "::ffff:1.2.3.4" drops the colon before the address
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const tailGroups = v4 === undefined ? 0 : 2;
  const dbl = head.indexOf('::');
  if (dbl >= 0 && head.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right) return undefined;
    const missing = 8 - tailGroups - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== 8 - tailGroups) return undefined;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (v4 !== undefined) v = (v << 32n) | v4;
  return v;
}

/** RFC 5952: lowercase, no leading zeros, the longest run of zero groups (two or more) as "::". */
export function formatIpv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // IPv4-mapped: ::ffff:a.b.c.d
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${formatIpv4(v & 0xffffffffn)}`;
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

/** Mask of the `prefix` leading bits of a `bits`-bit value. */
export function prefixMask(prefix: number, bits: number): bigint {
  if (prefix <= 0) return 0n;
  if (bits === 32) return PREFIX32[Math.min(prefix, 32)];
  const full = (1n << BigInt(bits)) - 1n;
  return full ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** IPv4 prefix masks by length, made once. */
const PREFIX32: readonly bigint[] = Array.from({ length: 33 }, (_, p) => (p === 0 ? 0n : 0xffffffffn ^ ((1n << BigInt(32 - p)) - 1n)));

/** The prefix length if `mask` is a contiguous prefix mask, else -1. */
export function maskPrefix(mask: bigint, bits: number): number {
  const full = (1n << BigInt(bits)) - 1n;
  if (mask < 0n || mask > full) return -1;
  const inv = full ^ mask; // the host part: 0...01...1 for a prefix
  if ((inv & (inv + 1n)) !== 0n) return -1;
  return bits - (inv === 0n ? 0 : inv.toString(2).length);
}

export function hex(v: bigint, minDigits = 1): string {
  return '0x' + v.toString(16).padStart(minDigits, '0');
}

/** Parses a value of a field kind in text form (not masks). */
export function parseOfKind(kind: FieldKind, text: string): bigint | undefined {
  switch (kind) {
    case 'mac':
      return parseMac(text);
    case 'ipv4':
      return parseIpv4(text);
    case 'ipv6':
      return parseIpv6(text);
    default:
      return parseUint(text);
  }
}

/** Formats a value of a field kind in text form: addresses as such, numbers in hex. */
export function formatOfKind(kind: FieldKind, v: bigint): string {
  switch (kind) {
    case 'mac':
      return formatMac(v);
    case 'ipv4':
      return formatIpv4(v);
    case 'ipv6':
      return formatIpv6(v);
    default:
      return hex(v);
  }
}

/** Converts a bigint to the addon's canonical form for the kind. */
export function toCanonical(kind: FieldKind, v: bigint): FieldValue {
  switch (kind) {
    case 'u8':
    case 'u16':
    case 'u32':
      return Number(v);
    case 'u64':
      return v;
    case 'mac':
      return formatMac(v);
    case 'ipv4':
      return formatIpv4(v);
    case 'ipv6':
      return formatIpv6(v);
  }
}

/**
 * Converts any value form the addon accepts (number, bigint, decimal or 0x
 * string for integers; address text for addresses) to a bigint. Throws a
 * plain Error on a malformed value: this is for values from the data plane
 * or a state file, not for user text.
 */
export function fromAny(kind: FieldKind, v: FieldValue, bits: number): bigint {
  let out: bigint | undefined;
  if (typeof v === 'bigint') out = v;
  else if (typeof v === 'number') out = Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined;
  else if (kind === 'mac' || kind === 'ipv4' || kind === 'ipv6') out = parseOfKind(kind, v);
  else out = parseUint(v);
  if (out === undefined || out < 0n || out >> BigInt(bits) !== 0n) {
    throw new Error(`bad ${kind} value ${String(v)}`);
  }
  return out;
}
