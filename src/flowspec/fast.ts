/**
 * The common add-flow line, parsed without BigInts: what flow files of
 * ACLs and forwarding tables are made of.
 *
 *   table=0,priority=300,tcp,nw_src=10.1.2.0/24,nw_dst=172.16.0.9,tp_dst=80,actions=goto_table:1
 *
 * parseFlow() tries this first for an add. It takes table, priority,
 * cookie, idle_timeout and hard_timeout, the protocol shorthands, in_port
 * (a number), dl_src/dl_dst (exact, lower-case), dl_type, nw_src/nw_dst
 * (an address with an optional /prefix), nw_proto and tp_src/tp_dst (exact
 * numbers), each at most once and separated by commas only, and returns
 * exactly what the general parser returns for them (the same FlowMod, the
 * same identity key); for anything else (another keyword, a mask, a port
 * name, white space, a repeated field, an unmet prerequisite, any error)
 * it returns undefined and the general parser, which has the messages,
 * takes the line. test/unit/flowspec.test.ts holds the two to agreement on
 * random lines.
 *
 * Why: the general parser carries every value as a BigInt, and in V8 each
 * BigInt operation allocates; for a flow file of 100,000 lines that was
 * half of the daemon's time.
 */
import type { Action, FlowMod, Match } from '../mgmt/addon-types';
import { parseActions } from './actions';
import { FIELDS } from './fields';
import { MAX_PORT_ID, SHORTHANDS, type PortNames } from './match';

/** The keywords taken here: the field they set and how its value reads. */
interface Simple {
  field: string;
  read: 'port' | 'mac' | 'uint' | 'ipv4';
  max: number;
  /** the field's place in flow.h's order (filled in below) */
  slot?: number;
}

const SIMPLE: Readonly<Record<string, Simple>> = {
  in_port: { field: 'in_port', read: 'port', max: MAX_PORT_ID },
  dl_src: { field: 'dl_src', read: 'mac', max: 0 },
  dl_dst: { field: 'dl_dst', read: 'mac', max: 0 },
  eth_src: { field: 'dl_src', read: 'mac', max: 0 },
  eth_dst: { field: 'dl_dst', read: 'mac', max: 0 },
  dl_type: { field: 'dl_type', read: 'uint', max: 0xffff },
  eth_type: { field: 'dl_type', read: 'uint', max: 0xffff },
  nw_src: { field: 'nw_src', read: 'ipv4', max: 0 },
  nw_dst: { field: 'nw_dst', read: 'ipv4', max: 0 },
  ip_src: { field: 'nw_src', read: 'ipv4', max: 0 },
  ip_dst: { field: 'nw_dst', read: 'ipv4', max: 0 },
  nw_proto: { field: 'nw_proto', read: 'uint', max: 0xff },
  ip_proto: { field: 'nw_proto', read: 'uint', max: 0xff },
  tp_src: { field: 'tp_src', read: 'uint', max: 0xffff },
  tp_dst: { field: 'tp_dst', read: 'uint', max: 0xffff },
};

/** Field order of flow.h: the slot of each field. */
const SLOT = new Map(FIELDS.map((f, i) => [f.name, i]));
for (const s of Object.values(SIMPLE)) s.slot = SLOT.get(s.field)!;
const S_DL_TYPE = SLOT.get('dl_type')!;
const S_NW_PROTO = SLOT.get('nw_proto')!;
const S_NW_SRC = SLOT.get('nw_src')!;
const S_NW_DST = SLOT.get('nw_dst')!;
const S_TP_SRC = SLOT.get('tp_src')!;
const S_TP_DST = SLOT.get('tp_dst')!;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** A decimal (or, for `hex`, 0x) number without sign, at most max; -1 otherwise. */
function uint(t: string, max: number, hex = false): number {
  let n: number;
  if (hex && t.length > 2 && t[0] === '0' && (t[1] === 'x' || t[1] === 'X')) {
    if (t.length > 10 || !/^0[xX][0-9a-fA-F]+$/.test(t)) return -1;
    n = parseInt(t.slice(2), 16);
  } else {
    if (t.length === 0 || t.length > 10) return -1;
    n = 0;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return -1;
      n = n * 10 + c;
    }
  }
  return n <= max ? n : -1;
}

/** a.b.c.d as a number, or -1. */
function ipv4(t: string): number {
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + octet;
      octet = digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? v * 256 + octet : -1;
}

function ipv4Text(n: number): string {
  return `${(n / 16777216) >>> 0}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** value and mask (numbers; mask -1: exact) of one field, or of a MAC as text. */
interface Val {
  value: number;
  mask: number;
  mac?: string;
}

/**
 * The add-flow `text` as parseFlow() would return it with its identity key
 * (keyed.key), or undefined when the line is not of the simple kind.
 */
export function parseSimpleAdd(
  text: string,
  opts: PortNames & { actionCache?: Map<string, Action[]> },
  keyed?: { key: string },
): FlowMod | undefined {
  const at = text.indexOf('actions=');
  if (at <= 0 || text[at - 1] !== ',' || text.indexOf('actions', at + 1) >= 0) return undefined;
  const head = text.slice(0, at - 1);
  if (/[\s("]/.test(head) || head.indexOf('actions') >= 0) return undefined;

  let table = -1;
  let priority = -1;
  let cookie: bigint | undefined;
  let idle = -1;
  let hard = -1;
  // by slot (flow.h order), so that the match comes out in order
  const fields: (Val | undefined)[] = new Array(FIELDS.length);
  for (const tok of head.split(',')) {
    const eq = tok.indexOf('=');
    const key = eq < 0 ? tok : tok.slice(0, eq);
    const val = eq < 0 ? undefined : tok.slice(eq + 1);
    if (val === undefined) {
      const sh = SHORTHANDS[key];
      if (!sh || fields[S_DL_TYPE]) return undefined;
      fields[S_DL_TYPE] = { value: sh.dlType, mask: -1 };
      if (sh.nwProto !== undefined) {
        if (fields[S_NW_PROTO]) return undefined;
        fields[S_NW_PROTO] = { value: sh.nwProto, mask: -1 };
      }
      continue;
    }
    switch (key) {
      case 'table':
        if (table >= 0 || (table = uint(val, 254)) < 0) return undefined;
        continue;
      case 'priority':
        if (priority >= 0 || (priority = uint(val, 0xffff)) < 0) return undefined;
        continue;
      case 'idle_timeout':
        if (idle >= 0 || (idle = uint(val, 0xffff)) < 0) return undefined;
        continue;
      case 'hard_timeout':
        if (hard >= 0 || (hard = uint(val, 0xffff)) < 0) return undefined;
        continue;
      case 'cookie':
        if (cookie !== undefined || !/^(?:[0-9]{1,19}|0x[0-9a-fA-F]{1,16})$/.test(val)) return undefined;
        cookie = BigInt(val);
        if (cookie > 0xffffffffffffffffn) return undefined;
        continue;
    }
    const s = SIMPLE[key];
    if (!s || fields[s.slot!]) return undefined;
    let v: Val;
    switch (s.read) {
      case 'port': {
        const n = uint(val, s.max);
        if (n < 1) return undefined;
        v = { value: n, mask: -1 };
        break;
      }
      case 'uint': {
        const n = uint(val, s.max, true);
        if (n < 0) return undefined;
        v = { value: n, mask: -1 };
        break;
      }
      case 'mac':
        if (!MAC.test(val)) return undefined;
        v = { value: 0, mask: -1, mac: val };
        break;
      case 'ipv4': {
        const slash = val.indexOf('/');
        const a = ipv4(slash < 0 ? val : val.slice(0, slash));
        if (a < 0) return undefined;
        if (slash < 0) v = { value: a, mask: -1 };
        else {
          const p = uint(val.slice(slash + 1), 32);
          if (p < 0 || val.length - slash - 1 > 2) return undefined;
          if (p === 0) {
            // matches everything: no field, as the general parser leaves it
            fields[s.slot!] = { value: 0, mask: 0 };
            continue;
          }
          const mask = p === 32 ? -1 : (0xffffffff << (32 - p)) >>> 0;
          v = { value: mask === -1 ? a : (a & mask) >>> 0, mask };
        }
        break;
      }
    }
    fields[s.slot!] = v;
  }

  // Prerequisites, as checkPrereqs() has them; an unmet one is the general parser's to report.
  const type = fields[S_DL_TYPE]?.value;
  const p = fields[S_NW_PROTO]?.value;
  const ip4 = type === 0x0800;
  const ip6 = type === 0x86dd;
  const present = (slot: number) => fields[slot] !== undefined && fields[slot]!.mask !== 0;
  if ((present(S_NW_SRC) || present(S_NW_DST)) && !ip4) return undefined;
  if (p !== undefined && !ip4 && !ip6) return undefined;
  if (present(S_TP_SRC) || present(S_TP_DST)) {
    const l4 = (ip4 || ip6) && (p === 6 || p === 17 || p === 132);
    const icmp = (ip4 && p === 1) || (ip6 && p === 58);
    if (!l4 && !icmp) return undefined;
  }

  const list = text.slice(at + 8);
  if (list === '') return undefined;
  const t = table < 0 ? 0 : table;
  const cacheKey = opts.actionCache ? `${t}\0${list}` : '';
  let actions = opts.actionCache?.get(cacheKey);
  if (!actions) {
    try {
      actions = parseActions(list, { ...opts, table: t }, text, at + 8);
    } catch {
      return undefined;
    }
    opts.actionCache?.set(cacheKey, actions);
  }

  const match: Match = {};
  let key = '';
  for (let slot = 0; slot < fields.length; slot++) {
    const f = fields[slot];
    if (f === undefined || f.mask === 0) continue;
    const n = FIELDS[slot].name;
    let hexValue: string;
    let hexMask = '';
    if (f.mac !== undefined) {
      match[n] = { value: f.mac };
      hexValue = parseInt(f.mac.replace(/:/g, ''), 16).toString(16);
    } else if (slot === S_NW_SRC || slot === S_NW_DST) {
      match[n] = f.mask === -1 ? { value: ipv4Text(f.value) } : { value: ipv4Text(f.value), mask: ipv4Text(f.mask) };
      hexValue = f.value.toString(16);
      if (f.mask !== -1) hexMask = f.mask.toString(16);
    } else {
      match[n] = { value: f.value };
      hexValue = f.value.toString(16);
    }
    key += `${key ? ',' : ''}${n}=${hexValue}/${hexMask}`;
  }
  const pr = priority < 0 ? 32768 : priority;
  if (keyed) keyed.key = `${t}/${pr}/${key}`;
  return {
    command: 'add',
    table: t,
    priority: pr,
    match,
    actions,
    cookie: cookie ?? 0n,
    idleTimeout: idle < 0 ? 0 : idle,
    hardTimeout: hard < 0 ? 0 : hard,
    flags: 0,
  };
}
