/**
 * Actions: the ovs-ofctl action list, parsed into the addon's Action[] and
 * formatted back.
 *
 * Supported: output:PORT (number, name, in_port, flood, all, local,
 * controller), a bare port number or name, in_port, flood, all, local, drop
 * (alone; an empty list drops too), mod_dl_src/mod_dl_dst, mod_nw_src/
 * mod_nw_dst, mod_nw_tos/mod_nw_ecn/mod_nw_ttl, mod_tp_src/mod_tp_dst,
 * mod_vlan_vid, mod_vlan_pcp, strip_vlan/pop_vlan, push_vlan:TPID, dec_ttl,
 * set_field:VALUE[/MASK]->FIELD, write_metadata:V[/M], goto_table:N, group:N,
 * meter:N, set_queue:N (the egress QoS queue of the outputs after it);
 * the tagged header's push_nsh(...), pop_nsh, dec_nsh_ttl and OVS's
 * encap(nsh(...)), encap(ethernet), decap() (see nsh.ts).
 *
 * Order, as the data plane wants it: apply-actions first, then at most one
 * write_metadata, then at most one goto_table (to a higher table), last.
 *
 * Canonical form: set_field values in the addon's forms, a mask only when it
 * does not cover the whole field; strip_vlan is pop_vlan; the mod_* actions
 * are set_field (mod_vlan_vid:N is set_field of vlan_tci, value N|0x1000,
 * mask 0x1fff, which pushes a tag on an untagged packet as in OVS).
 */
import type { Action } from '../mgmt/addon-types';
import { PORT_ALL, PORT_CONTROLLER, PORT_FLOOD, PORT_IN_PORT, PORT_LOCAL, PORT_TABLE, TABLE_ALL } from '../mgmt/addon-types';
import { fail, Site, UnknownPortError } from './errors';
import { formatPushNsh, parseEncap, parsePushNsh } from './nsh';
import { field, FIELD_BY_NAME, FieldDef } from './fields';
import { MAX_PORT_ID, PortNames, RESERVED_PORTS } from './match';
import { formatOfKind, fromAny, hex, parseOfKind, parseUint, toCanonical } from './values';

export const MAX_ACTIONS = 32;
export const MAX_GROUP_ID = 65535;
const MAX_TABLE = 254;

/** Recognised but not (yet) supported by the data plane: a clear error, not "unknown". */
const NOT_SUPPORTED = new Set([
  'normal',
  'enqueue',
  'resubmit',
  'learn',
  'load',
  'move',
  'note',
  'conjunction',
  'clone',
  'ct',
  'ct_clear',
  'multipath',
  'bundle',
  'bundle_load',
  'output_reg',
  'push_mpls',
  'pop_mpls',
  'set_tunnel',
  'set_tunnel64',
  'dec_mpls_ttl',
  'set_mpls_label',
  'set_mpls_tc',
  'set_mpls_ttl',
  'mod_nw_ttl_dec',
  'sample',
  'exit',
  'fin_timeout',
  'check_pkt_larger',
  'meter_id',
  'write_actions',
  'clear_actions',
  'mirror',
]);

/** set_field targets that are views of a key field. */
interface View {
  field: string;
  /** value in the view -> bits of the field */
  encode(v: bigint): bigint;
  mask: bigint;
  max: bigint;
}

const VIEWS: Readonly<Record<string, View>> = {
  vlan_vid: { field: 'vlan_tci', encode: (v) => (v & 0xfffn) | 0x1000n, mask: 0x1fffn, max: 0x1fffn },
  dl_vlan: { field: 'vlan_tci', encode: (v) => (v & 0xfffn) | 0x1000n, mask: 0x1fffn, max: 0xfffn },
  vlan_pcp: { field: 'vlan_tci', encode: (v) => (v << 13n) | 0x1000n, mask: 0xf000n, max: 7n },
  dl_vlan_pcp: { field: 'vlan_tci', encode: (v) => (v << 13n) | 0x1000n, mask: 0xf000n, max: 7n },
  ip_dscp: { field: 'nw_tos', encode: (v) => v << 2n, mask: 0xfcn, max: 63n },
  nw_ecn: { field: 'nw_tos', encode: (v) => v, mask: 0x03n, max: 3n },
  ip_ecn: { field: 'nw_tos', encode: (v) => v, mask: 0x03n, max: 3n },
};

/** Other names of settable fields. */
const SET_ALIASES: Readonly<Record<string, string>> = {
  eth_src: 'dl_src',
  eth_dst: 'dl_dst',
  ip_src: 'nw_src',
  ip_dst: 'nw_dst',
  ipv4_src: 'nw_src',
  ipv4_dst: 'nw_dst',
  ip_ttl: 'nw_ttl',
  tcp_src: 'tp_src',
  tcp_dst: 'tp_dst',
  udp_src: 'tp_src',
  udp_dst: 'tp_dst',
  sctp_src: 'tp_src',
  sctp_dst: 'tp_dst',
  tunnel_id: 'tun_id',
};

/** Meaningful width of settable fields narrower than their key member. */
const SET_MAX: Readonly<Record<string, bigint>> = {
  ipv6_label: 0xfffffn,
  nsh_spi: 0xffffffn,
};

/** mod_* shorthands -> the set_field they are. */
const MODS: Readonly<Record<string, string>> = {
  mod_dl_src: 'dl_src',
  mod_dl_dst: 'dl_dst',
  mod_nw_src: 'nw_src',
  mod_nw_dst: 'nw_dst',
  mod_nw_tos: 'nw_tos',
  mod_nw_ecn: 'nw_ecn',
  mod_nw_ttl: 'nw_ttl',
  mod_tp_src: 'tp_src',
  mod_tp_dst: 'tp_dst',
  mod_vlan_vid: 'dl_vlan',
  mod_vlan_pcp: 'vlan_pcp',
};

export interface ActionContext extends PortNames {
  /** The flow's table, for the goto_table check; TABLE_ALL (255) skips it. */
  table: number;
}

/** Splits text at commas and white space outside parentheses, with positions. */
export function splitTokens(text: string, from = 0, to = text.length): { text: string; pos: number }[] {
  const out: { text: string; pos: number }[] = [];
  let depth = 0;
  let start = -1;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text[i] : ',';
    const sep = depth === 0 && (c === ',' || c === ' ' || c === '\t' || c === '\r' || c === '\n');
    if (sep) {
      if (start >= 0) out.push({ text: text.slice(start, i), pos: start });
      start = -1;
      continue;
    }
    if (start < 0) start = i;
    if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
  }
  return out;
}

function parsePort(arg: string, name: string, site: Site, ctx: ActionContext): number {
  const t = arg.replace(/^"(.*)"$/, '$1');
  const n = parseUint(t);
  if (n !== undefined) {
    if (n < 1n || n > BigInt(MAX_PORT_ID)) fail(`${name}:${t} is not a port number (1..${MAX_PORT_ID})`, site);
    return Number(n);
  }
  const reserved = RESERVED_PORTS[t.toLowerCase()];
  if (reserved !== undefined) return reserved;
  if (t === '' || !ctx.resolvePort) fail(`${name}: '${t}' is not a port number`, site);
  const id = ctx.resolvePort(t);
  if (id === undefined) throw new UnknownPortError(t, site.field, site.position, site.text);
  return id;
}

function uintArg(arg: string, max: bigint, what: string, site: Site): bigint {
  const v = parseUint(arg);
  if (v === undefined) fail(`${what}: '${arg}' is not a number`, site);
  if (v > max) fail(`${what}: ${arg} is out of range (at most ${max <= 0xffffn ? max : hex(max)})`, site);
  return v;
}

/** A value of the field's kind for set_field. */
function fieldValue(f: FieldDef, text: string, max: bigint, what: string, site: Site): bigint {
  if (f.kind !== 'mac' && f.kind !== 'ipv4' && f.kind !== 'ipv6') return uintArg(text, max, what, site);
  const v = parseOfKind(f.kind, text);
  if (v === undefined) {
    const kindText = f.kind === 'mac' ? 'an Ethernet address' : f.kind === 'ipv4' ? 'an IPv4 address' : 'an IPv6 address';
    fail(`${what}: '${text}' is not ${kindText}`, site);
  }
  return v;
}

function setField(f: FieldDef, value: bigint, mask: bigint | undefined): Action {
  const m = mask === undefined || mask === f.full ? undefined : mask;
  const v = m === undefined ? value : value & m;
  const a: Action = { type: 'set_field', field: f.name, value: toCanonical(f.kind, v) };
  if (m !== undefined) a.mask = toCanonical(f.kind, m);
  return a;
}

/** set_field:VALUE[/MASK]->FIELD, or a mod_* (then `target` is given and there is no mask). */
function parseSetField(arg: string, target: string | undefined, what: string, site: Site): Action {
  let valueText = arg;
  let name = target;
  if (name === undefined) {
    const arrow = arg.lastIndexOf('->');
    if (arrow < 0) fail(`${what}: expected VALUE->FIELD`, site);
    valueText = arg.slice(0, arrow);
    name = arg.slice(arrow + 2);
  }
  if (valueText === '') fail(`${what}: missing value`, site);
  const label = target === undefined ? `${what} ${name}` : what;
  const view = VIEWS[name];
  if (view) {
    if (valueText.includes('/')) fail(`${what}: ${name} cannot be masked`, site);
    const v = uintArg(valueText, view.max, label, site);
    return setField(field(view.field), view.encode(v), view.mask);
  }
  const fname = SET_ALIASES[name] ?? name;
  const f = FIELD_BY_NAME.get(fname);
  if (!f) fail(`${what}: unknown field '${name}'`, site);
  if (!f.settable) fail(`${what}: field '${name}' cannot be set`, site);
  let mask: bigint | undefined;
  const slash = valueText.indexOf('/');
  if (slash >= 0) {
    if (f.width > 8) fail(`${what}: ${name} cannot be masked`, site);
    const mText = valueText.slice(slash + 1);
    valueText = valueText.slice(0, slash);
    const m = parseOfKind(f.kind, mText);
    if (m === undefined || m > f.full) fail(`${what}: bad mask '${mText}'`, site);
    mask = m;
  }
  const v = fieldValue(f, valueText, SET_MAX[f.name] ?? f.full, label, site);
  if (f.name === 'nw_tos' && mask === undefined) {
    // as OVS: nw_tos is the DSCP bits of the TOS byte
    if (v & 3n) fail(`${what}: nw_tos ${valueText} has its low 2 bits set (they are ECN: use nw_ecn)`, site);
    mask = 0xfcn;
  }
  if (f.name === 'vlan_tci') {
    const m = mask ?? 0xffffn;
    if (m & 0x1000n && !(v & 0x1000n)) fail(`${what}: vlan_tci must keep the tag present bit (0x1000)`, site);
  }
  return setField(f, v, mask);
}

/** OpenFlow's (and ovs-ofctl's) largest max_len, the default: the whole frame. */
export const CONTROLLER_MAX_LEN = 65535;

/**
 * controller, controller:N or controller(max_len=N): the bytes of the packet
 * sent (1..65535; the whole frame by default, as ovs-ofctl). OVS's other
 * keys (reason, id, userdata, pause) are refused by name.
 */
function parseControllerArg(arg: string | undefined, paren: boolean, site: Site): number {
  if (arg === undefined || (paren && arg.trim() === '')) return CONTROLLER_MAX_LEN;
  let text = arg.trim();
  if (paren) {
    const kv = text.split(',').map((s) => s.trim());
    for (const p of kv) {
      const eq = p.indexOf('=');
      const key = eq < 0 ? p : p.slice(0, eq).trim();
      if (key !== 'max_len') fail(`controller(${arg}): '${key}' is not supported (only max_len=N)`, site);
    }
    if (kv.length > 1) fail(`controller(${arg}): max_len given twice`, site);
    text = kv[0].slice(kv[0].indexOf('=') + 1).trim();
  }
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= CONTROLLER_MAX_LEN)) fail(`controller: max_len '${text}' must be 1..${CONTROLLER_MAX_LEN} bytes`, site);
  return n;
}

/**
 * Parses an action list (the text after "actions="). `base` is the offset
 * of the list in `site.text`, for positions.
 */
export function parseActions(text: string, ctx: ActionContext, siteText = text, base = 0): Action[] {
  const actions: Action[] = [];
  let phase = 0; // 0: apply-actions, 1: after write_metadata, 2: after goto_table
  let sawDrop = false;
  const tokens = splitTokens(text);
  for (const tok of tokens) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:([:=])([\s\S]*)|\(([\s\S]*)\))?$/.exec(tok.text);
    const isNumber = /^[0-9]/.test(tok.text);
    const name = m ? m[1] : tok.text;
    const site: Site = { field: isNumber ? tok.text : name, position: base + tok.pos, text: siteText };
    const arg = m ? (m[3] ?? m[4]) : undefined;
    const lname = name.toLowerCase();
    const noArg = () => {
      if (arg !== undefined) fail(`${name} takes no argument`, site);
    };
    const needArg = (): string => {
      if (arg === undefined || arg === '') fail(`${name} needs an argument (${name}:...)`, site);
      return arg;
    };
    const push = (a: Action, kind: 0 | 1 | 2) => {
      if (phase === 2) fail(`goto_table must be the last action; ${name} follows it`, site);
      if (kind === 0 && phase === 1) fail(`write_metadata must follow the other actions; ${name} comes after it`, site);
      if (kind === 1 && phase === 1) fail('write_metadata given twice', site);
      phase = Math.max(phase, kind);
      actions.push(a);
    };
    if (isNumber) {
      push({ type: 'output', port: parsePort(tok.text, 'output', site, ctx) }, 0);
      continue;
    }
    if (!m) {
      const id = ctx.resolvePort?.(tok.text.replace(/^"(.*)"$/, '$1'));
      if (id === undefined) fail(`bad action '${tok.text}'`, site);
      push({ type: 'output', port: id }, 0);
      continue;
    }
    if (lname in RESERVED_PORTS && lname !== 'controller') {
      noArg();
      push({ type: 'output', port: RESERVED_PORTS[lname] }, 0);
      continue;
    }
    if (lname === 'controller') {
      // also as OVS dumps it: CONTROLLER:65535
      push({ type: 'controller', maxLen: parseControllerArg(arg, m?.[4] !== undefined, site) }, 0);
      continue;
    }
    switch (name) {
      case 'drop':
        noArg();
        sawDrop = true;
        continue;
      case 'output':
        push({ type: 'output', port: parsePort(needArg(), 'output', site, ctx) }, 0);
        continue;
      case 'strip_vlan':
      case 'pop_vlan':
        noArg();
        push({ type: 'pop_vlan' }, 0);
        continue;
      case 'push_vlan': {
        const tpid = uintArg(needArg(), 0xffffn, name, site);
        if (tpid !== 0x8100n && tpid !== 0x88a8n) fail(`push_vlan:${arg}, the TPID must be 0x8100 or 0x88a8`, site);
        push({ type: 'push_vlan', tpid: Number(tpid) }, 0);
        continue;
      }
      case 'dec_ttl':
        noArg();
        push({ type: 'dec_ttl' }, 0);
        continue;
      case 'group':
        push({ type: 'group', group: Number(uintArg(needArg(), BigInt(MAX_GROUP_ID), name, site)) }, 0);
        continue;
      case 'set_field':
        push(parseSetField(needArg(), undefined, name, site), 0);
        continue;
      case 'push_nsh':
      case 'push_tag': // DESIGN.md's names for the tagged header
        push(parsePushNsh(arg, name, site), 0);
        continue;
      case 'encap': {
        const a = parseEncap(arg, actions, site);
        if (a) push(a, 0);
        continue;
      }
      case 'pop_nsh':
      case 'pop_tag':
      case 'decap':
        if (arg !== undefined && arg.trim() !== '') fail(`${name} takes no argument`, site);
        push({ type: 'pop_nsh' }, 0);
        continue;
      case 'dec_nsh_ttl':
      case 'dec_tag_ttl':
        noArg();
        push({ type: 'dec_nsh_ttl' }, 0);
        continue;
      case 'goto_table': {
        const t = uintArg(needArg(), BigInt(MAX_TABLE), name, site);
        if (ctx.table !== TABLE_ALL && t <= BigInt(ctx.table)) {
          fail(`goto_table:${t} must name a table after ${ctx.table}`, site);
        }
        if (phase === 2) fail('goto_table given twice', site);
        phase = 2;
        actions.push({ type: 'goto_table', table: Number(t) });
        continue;
      }
      case 'mirror': {
        // mirror:NAME: a copy of the packet as it is here, to the mirror's output port
        const ref = needArg();
        const id = ctx.resolveMirror?.(ref) ?? (/^[0-9]+$/.test(ref) && !ctx.resolveMirror ? Number(ref) : undefined);
        if (id === undefined) fail(`mirror:${ref}: no such mirror (switchyard mirror list)`, site);
        push({ type: 'mirror', mirror: id }, 0);
        continue;
      }
      case 'meter': {
        // meter:N runs where it stands in the list: write it first, as OpenFlow's meter instruction
        const id = uintArg(needArg(), 65535n, name, site);
        if (id === 0n) fail('meter:0: meters are 1..65535', site);
        push({ type: 'meter', meter: Number(id) }, 0);
        continue;
      }
      case 'set_queue': {
        // the egress QoS queue of the outputs after it (a queue the port lacks: queue 0)
        const q = uintArg(needArg(), 0xffffffffn, name, site);
        push({ type: 'set_queue', queue: Number(q) }, 0);
        continue;
      }
      case 'write_metadata': {
        const a = needArg();
        const slash = a.indexOf('/');
        const v = uintArg(slash < 0 ? a : a.slice(0, slash), 0xffffffffffffffffn, name, site);
        const mk = slash < 0 ? 0xffffffffffffffffn : uintArg(a.slice(slash + 1), 0xffffffffffffffffn, `${name} mask`, site);
        push({ type: 'write_metadata', value: v & mk, mask: mk }, 1);
        continue;
      }
    }
    if (name in MODS) {
      push(parseSetField(needArg(), MODS[name], name, site), 0);
      continue;
    }
    if (NOT_SUPPORTED.has(lname)) fail(`action '${name}' is not supported (yet)`, site);
    if (arg === undefined && ctx.resolvePort) {
      const id = ctx.resolvePort(tok.text);
      if (id !== undefined) {
        push({ type: 'output', port: id }, 0);
        continue;
      }
    }
    fail(`unknown action '${name}'`, { ...site, field: name });
  }
  if (sawDrop && actions.length > 0) {
    const t = tokens.find((x) => x.text === 'drop')!;
    fail('drop must be the only action', { field: 'drop', position: base + t.pos, text: siteText });
  }
  if (actions.length > MAX_ACTIONS) {
    fail(`${actions.length} actions, at most ${MAX_ACTIONS} allowed`, { field: 'actions', position: base, text: siteText });
  }
  return actions;
}

// ---------------------------------------------------------------- canonical form and formatting

/** An action in canonical form (values in the addon's forms, full masks dropped); throws on nonsense. */
export function canonicalAction(a: Action): Action {
  switch (a.type) {
    case 'set_field': {
      const f = FIELD_BY_NAME.get(a.field);
      if (!f) throw new Error(`set_field of unknown field ${a.field}`);
      const v = fromAny(f.kind, a.value, f.bits);
      const m = a.mask === undefined ? undefined : fromAny(f.kind, a.mask, f.bits);
      return setField(f, v, m === 0n ? undefined : m);
    }
    case 'write_metadata': {
      const mask = BigInt(a.mask);
      return { type: 'write_metadata', value: BigInt(a.value) & mask, mask };
    }
    case 'output':
      return { type: 'output', port: a.port >>> 0 };
    case 'push_vlan':
      return { type: 'push_vlan', tpid: a.tpid };
    case 'goto_table':
      return { type: 'goto_table', table: a.table };
    default:
      return { ...a };
  }
}

function portText(port: number, ports: PortNames): string {
  switch (port) {
    case PORT_IN_PORT:
      return 'in_port';
    case PORT_FLOOD:
      return 'flood';
    case PORT_ALL:
      return 'all';
    case PORT_LOCAL:
      return 'local';
    case PORT_CONTROLLER:
      return 'output:controller';
    case PORT_TABLE: // a packet-out's (never a flow's)
      return 'table';
  }
  return `output:${ports.portName?.(port) ?? port}`;
}

function setFieldText(a: Extract<Action, { type: 'set_field' }>): string {
  const f = field(a.field);
  const v = fromAny(f.kind, a.value, f.bits);
  const m = a.mask === undefined ? f.full : fromAny(f.kind, a.mask, f.bits) || f.full;
  const full = m === f.full;
  switch (f.name) {
    case 'vlan_tci':
      if (m === 0x1fffn && v & 0x1000n) return `mod_vlan_vid:${v & 0xfffn}`;
      if (m === 0xf000n && v & 0x1000n) return `mod_vlan_pcp:${v >> 13n}`;
      break;
    case 'nw_tos':
      if (m === 0xfcn) return `mod_nw_tos:${v}`;
      if (m === 0x03n) return `mod_nw_ecn:${v}`;
      return `set_field:${hex(v & m, 2)}/${hex(m, 2)}->nw_tos`;
    case 'dl_src':
    case 'dl_dst':
    case 'nw_src':
    case 'nw_dst':
      if (full) return `mod_${f.name}:${formatOfKind(f.kind, v)}`;
      break;
    case 'tp_src':
    case 'tp_dst':
      if (full) return `mod_${f.name}:${v}`;
      break;
    case 'nw_ttl':
      if (full) return `mod_nw_ttl:${v}`;
      break;
  }
  return full ? `set_field:${formatOfKind(f.kind, v)}->${f.name}` : `set_field:${formatOfKind(f.kind, v & m)}/${formatOfKind(f.kind, m)}->${f.name}`;
}

/** Formats one action; port names where known. */
export function formatAction(a: Action, ports: PortNames = {}): string {
  switch (a.type) {
    case 'output':
      return portText(a.port >>> 0, ports);
    case 'set_field':
      return setFieldText(a);
    case 'push_vlan':
      return `push_vlan:${hex(BigInt(a.tpid), 4)}`;
    case 'pop_vlan':
      return 'pop_vlan';
    case 'dec_ttl':
      return 'dec_ttl';
    case 'goto_table':
      return `goto_table:${a.table}`;
    case 'write_metadata': {
      const mask = BigInt(a.mask);
      return mask === 0xffffffffffffffffn ? `write_metadata:${hex(BigInt(a.value))}` : `write_metadata:${hex(BigInt(a.value))}/${hex(mask)}`;
    }
    case 'controller':
      return `controller(max_len=${a.maxLen})`;
    case 'group':
      return `group:${a.group}`;
    case 'meter':
      return `meter:${a.meter}`;
    case 'mirror':
      return `mirror:${ports.mirrorName?.(a.mirror) ?? a.mirror}`;
    case 'set_queue':
      return `set_queue:${a.queue}`;
    case 'push_nsh':
      return formatPushNsh(a);
    case 'pop_nsh':
      return 'pop_nsh';
    case 'dec_nsh_ttl':
      return 'dec_nsh_ttl';
  }
}

/** Formats an action list; "drop" for none. */
export function formatActions(actions: readonly Action[], ports: PortNames = {}): string {
  return actions.length === 0 ? 'drop' : actions.map((a) => formatAction(a, ports)).join(',');
}

