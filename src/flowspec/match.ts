/**
 * Matches: the ovs-ofctl match keywords, parsed into field bits (value and
 * mask per field of flow.h), checked for prerequisites as the data plane
 * checks them (sy_flow_mod_validate), and formatted back.
 *
 * Views. Several keywords are views of one key field, as in Open vSwitch:
 * dl_vlan and dl_vlan_pcp set bits of vlan_tci; nw_tos, ip_dscp and nw_ecn
 * set bits of nw_tos; icmp_type/icmp_code and the tcp_/udp_/sctp_ port
 * names set tp_src/tp_dst. Keywords that set the same bits must agree.
 *
 * Canonical form (what parse returns, and what the daemon compares): a field
 * is present only when its mask is not zero; values are masked; a full mask
 * is left out; icmp_type/icmp_code are stored as tp_src/tp_dst.
 */
import type { Match, Prereq } from '../mgmt/addon-types';
import { PORT_LOCAL } from '../mgmt/addon-types';
import { fail, Site, UnknownPortError } from './errors';
import { field, FIELD_BY_NAME, FieldDef, FIELDS, SHARED_MEMBER } from './fields';
import {
  formatIpv4,
  formatIpv6,
  formatMac,
  fromAny,
  hex,
  maskPrefix,
  parseIpv4,
  parseIpv6,
  parseMac,
  parseUint,
  prefixMask,
  toCanonical,
} from './values';

export interface FieldBits {
  value: bigint;
  mask: bigint;
}

/** Field name -> bits, only fields with a non-zero mask. */
export type MatchBits = Map<string, FieldBits>;

export interface PortNames {
  /** Port name -> number, for in_port=NAME and output:NAME. */
  resolvePort?: (name: string) => number | undefined;
  /** Port number -> name, for formatting. */
  portName?: (id: number) => string | undefined;
  /** Mirror name -> id, for mirror:NAME. */
  resolveMirror?: (name: string) => number | undefined;
  /** Mirror id -> name, for formatting. */
  mirrorName?: (id: number) => string | undefined;
}

export const MAX_PORT_ID = 0xffffff00;

/** Reserved port words usable in in_port= and output:, lower case. */
export const RESERVED_PORTS: Readonly<Record<string, number>> = {
  in_port: 0xfffffff8,
  flood: 0xfffffffb,
  all: 0xfffffffc,
  controller: 0xfffffffd,
  local: 0xfffffffe,
};

/** Protocol shorthands: ip, tcp, udp6, ... */
export const SHORTHANDS: Readonly<Record<string, { dlType: number; nwProto?: number }>> = {
  ip: { dlType: 0x0800 },
  ipv6: { dlType: 0x86dd },
  icmp: { dlType: 0x0800, nwProto: 1 },
  icmp6: { dlType: 0x86dd, nwProto: 58 },
  tcp: { dlType: 0x0800, nwProto: 6 },
  tcp6: { dlType: 0x86dd, nwProto: 6 },
  udp: { dlType: 0x0800, nwProto: 17 },
  udp6: { dlType: 0x86dd, nwProto: 17 },
  sctp: { dlType: 0x0800, nwProto: 132 },
  sctp6: { dlType: 0x86dd, nwProto: 132 },
  arp: { dlType: 0x0806 },
  rarp: { dlType: 0x8035 },
};

const SHORTHAND_LIST = Object.entries(SHORTHANDS);

/** Prerequisites as flow.h's, plus the stricter ones of the protocol-specific port names. */
type AnyPrereq = Prereq | 'udp' | 'sctp';

const PREREQ_TEXT: Record<AnyPrereq, string> = {
  none: '',
  vlan: 'a VLAN tag (vlan_tci=0x1000/0x1000)',
  ip: 'ip or ipv6',
  ipv4: 'ip (dl_type=0x0800)',
  ipv6: 'ipv6 (dl_type=0x86dd)',
  l4: 'tcp, udp or sctp',
  tcp: 'tcp',
  udp: 'udp',
  sctp: 'sctp',
  icmp: 'icmp or icmp6',
  nsh: 'nsh (dl_type=0x894f)',
};

/** Direct keywords: a field (possibly under another name) with the usual value[/mask] syntax. */
interface Direct {
  field: string;
  /** Largest value (the field's meaningful width), if less than the field's width. */
  max?: bigint;
  /** Prerequisite of the keyword, if stricter than the field's. */
  prereq?: AnyPrereq;
}

const DIRECT: Readonly<Record<string, Direct>> = {
  metadata: { field: 'metadata' },
  dl_src: { field: 'dl_src' },
  dl_dst: { field: 'dl_dst' },
  eth_src: { field: 'dl_src' },
  eth_dst: { field: 'dl_dst' },
  dl_type: { field: 'dl_type' },
  eth_type: { field: 'dl_type' },
  vlan_tci: { field: 'vlan_tci' },
  nw_src: { field: 'nw_src' },
  nw_dst: { field: 'nw_dst' },
  ip_src: { field: 'nw_src' },
  ip_dst: { field: 'nw_dst' },
  nw_proto: { field: 'nw_proto' },
  ip_proto: { field: 'nw_proto' },
  nw_ttl: { field: 'nw_ttl' },
  ipv6_src: { field: 'ipv6_src' },
  ipv6_dst: { field: 'ipv6_dst' },
  ipv6_label: { field: 'ipv6_label', max: 0xfffffn },
  tp_src: { field: 'tp_src' },
  tp_dst: { field: 'tp_dst' },
  tcp_src: { field: 'tp_src', prereq: 'tcp' },
  tcp_dst: { field: 'tp_dst', prereq: 'tcp' },
  udp_src: { field: 'tp_src', prereq: 'udp' },
  udp_dst: { field: 'tp_dst', prereq: 'udp' },
  sctp_src: { field: 'tp_src', prereq: 'sctp' },
  sctp_dst: { field: 'tp_dst', prereq: 'sctp' },
  icmp_type: { field: 'tp_src', max: 0xffn, prereq: 'icmp' },
  icmp_code: { field: 'tp_dst', max: 0xffn, prereq: 'icmp' },
  icmpv6_type: { field: 'tp_src', max: 0xffn, prereq: 'icmp' },
  icmpv6_code: { field: 'tp_dst', max: 0xffn, prereq: 'icmp' },
  nsh_mdtype: { field: 'nsh_mdtype' },
  nsh_np: { field: 'nsh_np' },
  nsh_spi: { field: 'nsh_spi', max: 0xffffffn },
  nsh_si: { field: 'nsh_si' },
  nsh_ttl: { field: 'nsh_ttl', max: 0x3fn },
  nsh_c1: { field: 'nsh_c1' },
  nsh_c2: { field: 'nsh_c2' },
  nsh_c3: { field: 'nsh_c3' },
  nsh_c4: { field: 'nsh_c4' },
  tun_id: { field: 'tun_id' },
  tunnel_id: { field: 'tun_id' },
};

/** Keywords handled specially (views and non-numeric syntaxes). */
const SPECIAL = new Set([
  'in_port',
  'dl_vlan',
  'dl_vlan_pcp',
  'vlan_pcp',
  'nw_tos',
  'ip_dscp',
  'nw_ecn',
  'ip_ecn',
  'nw_frag',
  'ip_frag',
  'tcp_flags',
]);

export function isMatchKeyword(name: string): boolean {
  return name in SHORTHANDS || name in DIRECT || SPECIAL.has(name);
}

export const TCP_FLAG_NAMES: readonly [string, number][] = [
  ['fin', 0x001],
  ['syn', 0x002],
  ['rst', 0x004],
  ['psh', 0x008],
  ['ack', 0x010],
  ['urg', 0x020],
  ['ece', 0x040],
  ['cwr', 0x080],
  ['ns', 0x100],
];

const FRAG_WORDS: readonly [string, number, number][] = [
  // name, value, mask (the first of a name is what parsing picks, as in OVS)
  ['no', 0, 3],
  ['first', 1, 3],
  ['later', 3, 3],
  ['yes', 1, 1],
  ['not_later', 0, 2],
];

/** One keyword that set bits, for prerequisite messages. */
interface Setter {
  keyword: string;
  field: string;
  prereq: AnyPrereq;
  site: Site;
}

/** Accumulates the bits of a match as keywords are parsed. */
export class MatchBuilder {
  readonly bits: MatchBits = new Map();
  readonly setters: Setter[] = [];

  set(fieldName: string, value: bigint, mask: bigint, keyword: string, site: Site, prereq?: AnyPrereq): void {
    const f = field(fieldName);
    // (bigint operations allocate: skip the ones that change nothing)
    if (mask !== f.full) {
      mask &= f.full;
      value &= mask;
    }
    const cur = this.bits.get(fieldName);
    if (cur) {
      if ((cur.mask & mask & (cur.value ^ value)) !== 0n) {
        fail(`${keyword} conflicts with an earlier setting of ${fieldName}`, site);
      }
      value |= cur.value;
      mask |= cur.mask;
    }
    if (mask !== 0n) this.bits.set(fieldName, { value, mask });
    this.setters.push({ keyword, field: fieldName, prereq: prereq ?? f.prereq, site });
  }
}

/** Parses an integer in a keyword's value; range-checked. */
function uintOf(text: string, max: bigint, keyword: string, site: Site, what = 'a number'): bigint {
  const v = parseUint(text);
  if (v === undefined) fail(`${keyword}: '${text}' is not ${what}`, site);
  if (v > max) fail(`${keyword}: ${text} is out of range (at most ${max <= 0xffffn ? max : hex(max)})`, site);
  return v;
}

/** value[/mask] of a field's kind. */
function valueMask(text: string, f: FieldDef, max: bigint, keyword: string, site: Site): FieldBits {
  const slash = text.indexOf('/');
  const vText = slash < 0 ? text : text.slice(0, slash);
  const mText = slash < 0 ? undefined : text.slice(slash + 1);
  let value: bigint | undefined;
  let mask: bigint | undefined;
  switch (f.kind) {
    case 'mac':
      value = parseMac(vText);
      if (value === undefined) fail(`${keyword}: '${vText}' is not an Ethernet address`, site);
      if (mText !== undefined) {
        mask = parseMac(mText);
        if (mask === undefined) fail(`${keyword}: bad mask '${mText}'`, site);
      }
      break;
    case 'ipv4':
    case 'ipv6': {
      const v6 = f.kind === 'ipv6';
      value = v6 ? parseIpv6(vText) : parseIpv4(vText);
      if (value === undefined) fail(`${keyword}: '${vText}' is not an ${v6 ? 'IPv6' : 'IPv4'} address`, site);
      if (mText !== undefined) {
        if (/^[0-9]{1,3}$/.test(mText)) {
          const p = Number(mText);
          if (p > f.bits) fail(`${keyword}: bad prefix length /${mText} (at most ${f.bits})`, site);
          mask = prefixMask(p, f.bits);
        } else {
          mask = v6 ? parseIpv6(mText) : parseIpv4(mText);
          if (mask === undefined) fail(`${keyword}: bad mask '${mText}'`, site);
        }
      }
      break;
    }
    default:
      value = uintOf(vText, max, keyword, site);
      if (mText !== undefined) {
        mask = parseUint(mText);
        if (mask === undefined || mask > f.full) fail(`${keyword}: bad mask '${mText}'`, site);
      }
  }
  return { value, mask: mask ?? f.full };
}

function parseInPort(text: string, keyword: string, site: Site, ports: PortNames): bigint {
  const t = text.replace(/^"(.*)"$/, '$1');
  const n = parseUint(t);
  if (n !== undefined) {
    if (n < 1n || n > BigInt(MAX_PORT_ID)) fail(`${keyword}: ${t} is not a port number (1..${MAX_PORT_ID})`, site);
    return n;
  }
  if (t.toLowerCase() === 'local') return BigInt(PORT_LOCAL);
  if (t === '' || !ports.resolvePort) fail(`${keyword}: '${t}' is not a port number`, site);
  const id = ports.resolvePort(t);
  if (id === undefined) throw new UnknownPortError(t, site.field, site.position, site.text);
  return BigInt(id);
}

function parseTcpFlags(text: string, keyword: string, site: Site): FieldBits {
  if (text.startsWith('+') || text.startsWith('-')) {
    let value = 0n;
    let mask = 0n;
    const re = /([+-])([a-z]+)/gy;
    let m: RegExpExecArray | null;
    let at = 0;
    while ((m = re.exec(text)) !== null) {
      const flag = TCP_FLAG_NAMES.find(([n]) => n === m![2]);
      if (!flag) fail(`${keyword}: unknown TCP flag '${m[2]}'`, site);
      const bit = BigInt(flag[1]);
      if (mask & bit) fail(`${keyword}: TCP flag '${m[2]}' given twice`, site);
      mask |= bit;
      if (m[1] === '+') value |= bit;
      at = re.lastIndex;
    }
    if (at !== text.length) fail(`${keyword}: bad TCP flags '${text}'`, site);
    return { value, mask };
  }
  if (/^[a-z]+(\|[a-z]+)*$/.test(text)) {
    let value = 0n;
    for (const name of text.split('|')) {
      const flag = TCP_FLAG_NAMES.find(([n]) => n === name);
      if (!flag) fail(`${keyword}: unknown TCP flag '${name}'`, site);
      value |= BigInt(flag[1]);
    }
    return { value, mask: 0xffffn };
  }
  return valueMask(text, field('tcp_flags'), 0xfffn, keyword, site);
}

/**
 * Parses one match keyword into the builder. `value` is undefined for a bare
 * keyword ("ip"). Returns false if `key` is not a match keyword.
 */
export function parseMatchKeyword(
  b: MatchBuilder,
  key: string,
  value: string | undefined,
  site: Site,
  ports: PortNames,
): boolean {
  const sh = SHORTHANDS[key];
  if (sh) {
    if (value !== undefined) fail(`${key} takes no value`, site);
    b.set('dl_type', BigInt(sh.dlType), 0xffffn, key, site);
    if (sh.nwProto !== undefined) b.set('nw_proto', BigInt(sh.nwProto), 0xffn, key, site, 'none');
    return true;
  }
  const direct = DIRECT[key];
  if (!direct && !SPECIAL.has(key)) return false;
  if (value === undefined || value === '') fail(`${key} needs a value (${key}=...)`, site);
  if (direct) {
    const f = field(direct.field);
    const { value: v, mask } = valueMask(value, f, direct.max ?? f.full, key, site);
    b.set(f.name, v, mask, key, site, direct.prereq);
    return true;
  }
  const noMask = () => {
    if (value.includes('/')) fail(`${key} cannot be masked`, site);
  };
  switch (key) {
    case 'in_port': {
      const slash = value.indexOf('/');
      if (slash >= 0) {
        const v = uintOf(value.slice(0, slash), 0xffffffffn, key, site);
        const m = parseUint(value.slice(slash + 1));
        if (m === undefined || m > 0xffffffffn) fail(`${key}: bad mask '${value.slice(slash + 1)}'`, site);
        b.set('in_port', v, m, key, site);
      } else {
        b.set('in_port', parseInPort(value, key, site, ports), 0xffffffffn, key, site);
      }
      return true;
    }
    case 'dl_vlan': {
      noMask();
      const vid = uintOf(value, 0xffffn, key, site);
      if (vid === 0xffffn) b.set('vlan_tci', 0n, 0xffffn, key, site); // untagged, as OVS
      else if (vid > 0xfffn) fail(`${key}: ${value} is out of range (0..4095, or 0xffff for untagged)`, site);
      else b.set('vlan_tci', vid | 0x1000n, 0x1fffn, key, site);
      return true;
    }
    case 'dl_vlan_pcp':
    case 'vlan_pcp': {
      noMask();
      const pcp = uintOf(value, 7n, key, site);
      b.set('vlan_tci', (pcp << 13n) | 0x1000n, 0xf000n, key, site);
      return true;
    }
    case 'nw_tos': {
      if (value.includes('/')) {
        const { value: v, mask } = valueMask(value, field('nw_tos'), 0xffn, key, site);
        b.set('nw_tos', v, mask, key, site);
        return true;
      }
      const tos = uintOf(value, 0xffn, key, site);
      if (tos & 3n) fail(`${key}: ${value} has its low 2 bits set (they are ECN: use nw_ecn)`, site);
      b.set('nw_tos', tos, 0xfcn, key, site);
      return true;
    }
    case 'ip_dscp': {
      noMask();
      b.set('nw_tos', uintOf(value, 63n, key, site) << 2n, 0xfcn, key, site);
      return true;
    }
    case 'nw_ecn':
    case 'ip_ecn': {
      noMask();
      b.set('nw_tos', uintOf(value, 3n, key, site), 0x03n, key, site);
      return true;
    }
    case 'nw_frag':
    case 'ip_frag': {
      const w = FRAG_WORDS.find(([n]) => n === value);
      if (w) b.set('nw_frag', BigInt(w[1]), BigInt(w[2]), key, site);
      else if (parseUint(value.split('/')[0]) !== undefined) {
        const { value: v, mask } = valueMask(value, field('nw_frag'), 3n, key, site);
        b.set('nw_frag', v, mask & 3n, key, site);
      } else fail(`${key}: '${value}' is not one of no, yes, first, later, not_later`, site);
      return true;
    }
    case 'tcp_flags': {
      const { value: v, mask } = parseTcpFlags(value, key, site);
      b.set('tcp_flags', v, mask, key, site);
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- prerequisites

function isExact(bits: MatchBits, name: string, v: number): boolean {
  const fb = bits.get(name);
  return fb !== undefined && fb.mask === field(name).full && fb.value === BigInt(v);
}

export function prereqMet(bits: MatchBits, pre: AnyPrereq): boolean {
  const ip4 = isExact(bits, 'dl_type', 0x0800);
  const ip6 = isExact(bits, 'dl_type', 0x86dd);
  const proto = (p: number) => isExact(bits, 'nw_proto', p);
  switch (pre) {
    case 'none':
      return true;
    case 'vlan': {
      const t = bits.get('vlan_tci');
      return t !== undefined && (t.mask & 0x1000n) !== 0n && (t.value & 0x1000n) !== 0n;
    }
    case 'ip':
      return ip4 || ip6;
    case 'ipv4':
      return ip4;
    case 'ipv6':
      return ip6;
    case 'l4':
      return (ip4 || ip6) && (proto(6) || proto(17) || proto(132));
    case 'tcp':
      return (ip4 || ip6) && proto(6);
    case 'udp':
      return (ip4 || ip6) && proto(17);
    case 'sctp':
      return (ip4 || ip6) && proto(132);
    case 'icmp':
      return (ip4 && proto(1)) || (ip6 && proto(58));
    case 'nsh':
      return isExact(bits, 'dl_type', 0x894f);
  }
}

/**
 * Checks every keyword's prerequisite against the whole match (order does
 * not matter: "nw_src=10.0.0.1,ip" is fine), as sy_flow_mod_validate does:
 * tp_src/tp_dst need tcp, udp, sctp, icmp or icmp6.
 */
export function checkPrereqs(b: MatchBuilder): void {
  for (const s of b.setters) {
    if (!b.bits.has(s.field)) continue; // wildcarded after all (e.g. a /0 mask)
    let pre = s.prereq;
    if ((s.field === 'tp_src' || s.field === 'tp_dst') && pre === 'l4') {
      if (prereqMet(b.bits, 'l4') || prereqMet(b.bits, 'icmp')) continue;
      fail(`${s.keyword} needs tcp, udp, sctp, icmp or icmp6 to be matched first`, s.site);
    }
    if (!prereqMet(b.bits, pre)) fail(`${s.keyword} needs ${PREREQ_TEXT[pre]} to be matched first`, s.site);
  }
}

// ---------------------------------------------------------------- canonical form

/** Position of each field in flow.h's order. */
const FIELD_ORDER: ReadonlyMap<string, number> = new Map(FIELDS.map((f, i) => [f.name, i]));

/** The non-empty fields of bits, in flow.h order. */
export function orderedBits(bits: MatchBits): [FieldDef, FieldBits][] {
  const out: [FieldDef, FieldBits][] = [];
  for (const [name, fb] of bits) if (fb.mask !== 0n) out.push([field(name), fb]);
  if (out.length > 1) out.sort((a, b) => FIELD_ORDER.get(a[0].name)! - FIELD_ORDER.get(b[0].name)!);
  return out;
}

/** The addon's Match from bits, fields in flow.h order. */
export function bitsToMatch(bits: MatchBits, ordered = orderedBits(bits)): Match {
  const m: Match = {};
  for (const [f, fb] of ordered) {
    const value = toCanonical(f.kind, fb.mask === f.full ? fb.value : fb.value & fb.mask);
    m[f.name] = fb.mask === f.full ? { value } : { value, mask: toCanonical(f.kind, fb.mask) };
  }
  return m;
}

/**
 * Bits from any Match the addon accepts or returns (values in any accepted
 * form, masks optional, icmp_type/icmp_code under either name). Throws a
 * FlowSpecError for an unknown field or a malformed value.
 */
export function matchToBits(match: Match): MatchBits {
  const bits: MatchBits = new Map();
  for (const [name, mv] of Object.entries(match)) {
    const f = FIELD_BY_NAME.get(name);
    const site = { field: name, position: 0, text: '' };
    if (!f) fail(`unknown field '${name}'`, site);
    let value: bigint;
    let mask: bigint;
    try {
      value = fromAny(f.kind, mv.value, f.bits);
      mask = mv.mask === undefined ? f.full : fromAny(f.kind, mv.mask, f.bits);
    } catch (e) {
      fail(`${name}: ${(e as Error).message}`, site);
    }
    value &= mask;
    if (mask === 0n) continue;
    const target = SHARED_MEMBER[name] ?? name;
    const cur = bits.get(target);
    if (cur) {
      if ((cur.mask & mask & (cur.value ^ value)) !== 0n) fail(`${name} conflicts with ${target}`, site);
      bits.set(target, { value: cur.value | value, mask: cur.mask | mask });
    } else bits.set(target, { value, mask });
  }
  return bits;
}

/** A stable string for a match, equal for equal canonical matches. */
export function bitsKey(bits: MatchBits, ordered = orderedBits(bits)): string {
  let key = '';
  for (const [f, fb] of ordered) {
    key += `${key ? ',' : ''}${f.name}=${fb.value.toString(16)}/${fb.mask === f.full ? '' : fb.mask.toString(16)}`;
  }
  return key;
}

/**
 * OpenFlow's non-strict "covers": every packet the entry matches is matched
 * by the filter — each filter field is matched by the entry at least as
 * precisely, with the same bits under the filter's mask.
 */
export function bitsCover(filter: MatchBits, entry: MatchBits): boolean {
  for (const [name, fb] of filter) {
    const eb = entry.get(name);
    if (!eb) return false;
    if ((eb.mask & fb.mask) !== fb.mask) return false;
    if ((eb.value & fb.mask) !== fb.value) return false;
  }
  return true;
}

// ---------------------------------------------------------------- formatting

function portText(id: bigint, ports: PortNames): string {
  const n = Number(id);
  for (const [word, v] of Object.entries(RESERVED_PORTS)) if (v === n) return word;
  return ports.portName?.(n) ?? String(n);
}

function uintText(fb: FieldBits, f: FieldDef, style: 'dec' | 'hex', digits = 1): string {
  if (fb.mask === f.full) return style === 'dec' ? fb.value.toString() : hex(fb.value, digits);
  return `${hex(fb.value, digits)}/${hex(fb.mask, digits)}`;
}

function addrText(fb: FieldBits, f: FieldDef): string {
  if (f.kind === 'mac') return fb.mask === f.full ? formatMac(fb.value) : `${formatMac(fb.value)}/${formatMac(fb.mask)}`;
  const fmt = f.kind === 'ipv4' ? formatIpv4 : formatIpv6;
  if (fb.mask === f.full) return fmt(fb.value);
  const p = maskPrefix(fb.mask, f.bits);
  return p >= 0 ? `${fmt(fb.value)}/${p}` : `${fmt(fb.value)}/${fmt(fb.mask)}`;
}

function vlanText(fb: FieldBits): string[] {
  const vidMask = fb.mask & 0x0fffn;
  const pcpMask = fb.mask & 0xe000n;
  const cfi = fb.mask & 0x1000n;
  if (cfi && fb.value & 0x1000n && (vidMask === 0n || vidMask === 0xfffn) && (pcpMask === 0n || pcpMask === 0xe000n) && (vidMask || pcpMask)) {
    const out: string[] = [];
    if (vidMask) out.push(`dl_vlan=${fb.value & 0xfffn}`);
    if (pcpMask) out.push(`dl_vlan_pcp=${fb.value >> 13n}`);
    return out;
  }
  if (fb.mask === 0xffffn) return [`vlan_tci=${hex(fb.value, 4)}`];
  return [`vlan_tci=${hex(fb.value, 4)}/${hex(fb.mask, 4)}`];
}

function tosText(fb: FieldBits): string[] {
  if (fb.mask === 0xfcn) return [`nw_tos=${fb.value}`];
  if (fb.mask === 0x03n) return [`nw_ecn=${fb.value}`];
  if (fb.mask === 0xffn) return [`nw_tos=${fb.value & 0xfcn}`, `nw_ecn=${fb.value & 3n}`];
  return [`nw_tos=${hex(fb.value, 2)}/${hex(fb.mask, 2)}`];
}

function fragText(fb: FieldBits): string {
  const w = FRAG_WORDS.find(([, v, m]) => BigInt(v) === fb.value && BigInt(m) === fb.mask);
  // a word is used only if it parses back to the same bits (the first of its name)
  if (w && FRAG_WORDS.find(([n]) => n === w[0]) === w) return `nw_frag=${w[0]}`;
  return `nw_frag=${hex(fb.value, 2)}/${hex(fb.mask, 2)}`;
}

function tcpFlagsText(fb: FieldBits): string {
  const known = TCP_FLAG_NAMES.reduce((a, [, b]) => a | BigInt(b), 0n);
  if (fb.mask === 0xffffn) {
    if (fb.value !== 0n && (fb.value & ~known) === 0n) {
      return 'tcp_flags=' + TCP_FLAG_NAMES.filter(([, b]) => fb.value & BigInt(b)).map(([n]) => n).join('|');
    }
    return `tcp_flags=${hex(fb.value, 3)}`;
  }
  if ((fb.mask & ~known) === 0n) {
    return 'tcp_flags=' + TCP_FLAG_NAMES.filter(([, b]) => fb.mask & BigInt(b)).map(([n, b]) => (fb.value & BigInt(b) ? '+' : '-') + n).join('');
  }
  return `tcp_flags=${hex(fb.value, 3)}/${hex(fb.mask, 3)}`;
}

/** Formats a match in ovs-ofctl order: protocol shorthand first, then the fields. */
export function formatBits(bits: MatchBits, ports: PortNames = {}): string {
  const out: string[] = [];
  const has = (n: string) => bits.has(n);
  const get = (n: string) => bits.get(n)!;
  let skipType = false;
  let skipProto = false;
  const dlType = bits.get('dl_type');
  if (dlType && dlType.mask === 0xffffn) {
    const proto = bits.get('nw_proto');
    const exactProto = proto && proto.mask === 0xffn ? Number(proto.value) : undefined;
    for (const [name, sh] of SHORTHAND_LIST) {
      if (sh.dlType !== Number(dlType.value)) continue;
      if (sh.nwProto === undefined) {
        if (!skipType) {
          out.push(name);
          skipType = true;
        }
      } else if (sh.nwProto === exactProto) {
        out.length = 0;
        out.push(name);
        skipType = skipProto = true;
        break;
      }
    }
  }
  const isIcmp = prereqMet(bits, 'icmp');
  for (const f of FIELDS) {
    if (!has(f.name)) continue;
    const fb = get(f.name);
    switch (f.name) {
      case 'in_port':
        out.push(fb.mask === f.full ? `in_port=${portText(fb.value, ports)}` : `in_port=${uintText(fb, f, 'hex')}`);
        break;
      case 'metadata':
      case 'tun_id':
        out.push(`${f.name}=${uintText(fb, f, 'hex')}`);
        break;
      case 'dl_type':
        if (!skipType) out.push(`dl_type=${uintText(fb, f, 'hex', 4)}`);
        break;
      case 'nw_proto':
        if (!skipProto) out.push(`nw_proto=${uintText(fb, f, 'dec')}`);
        break;
      case 'vlan_tci':
        out.push(...vlanText(fb));
        break;
      case 'nw_tos':
        out.push(...tosText(fb));
        break;
      case 'nw_frag':
        out.push(fragText(fb));
        break;
      case 'tcp_flags':
        out.push(tcpFlagsText(fb));
        break;
      case 'tp_src':
      case 'tp_dst': {
        const name = isIcmp ? (f.name === 'tp_src' ? 'icmp_type' : 'icmp_code') : f.name;
        out.push(`${name}=${uintText(fb, f, 'dec')}`);
        break;
      }
      case 'ipv6_label':
        out.push(`ipv6_label=${uintText(fb, f, 'hex')}`);
        break;
      default:
        if (f.kind === 'mac' || f.kind === 'ipv4' || f.kind === 'ipv6') out.push(`${f.name}=${addrText(fb, f)}`);
        else out.push(`${f.name}=${uintText(fb, f, 'dec')}`);
    }
  }
  return out.join(',');
}

