/**
 * Whole flows: `table=0,priority=100,in_port=p1,ip,nw_src=10.0.0.0/24,actions=drop`
 * parsed into the addon's FlowMod, and flows formatted back, as ovs-ofctl
 * add-flow/dump-flows write them.
 *
 * Syntax (ovs-ofctl's): keywords separated by commas or white space, then
 * `actions=` and the action list, which runs to the end. Flow keywords:
 * table, priority (default 32768), cookie (V, or V/M in modify and delete),
 * idle_timeout, hard_timeout, send_flow_rem, check_overlap, reset_counts,
 * out_port (delete); the counters a dump prints (duration, n_packets,
 * n_bytes, idle_age, hard_age) are ignored, so a dump can be fed back.
 *
 * Commands: add (default), modify and delete cover every entry the match
 * covers (missing fields are wildcards), modify_strict and delete_strict the
 * entry of exactly this match and priority. A delete takes no actions; table
 * defaults to 0 in an add and to every table (255) in modify and delete.
 */
import type { Action, FlowCommand, FlowEntry, FlowMod, Match } from '../mgmt/addon-types';
import { TABLE_ALL } from '../mgmt/addon-types';
import { canonicalAction, formatActions, parseActions, splitTokens } from './actions';
import { parseSimpleAdd } from './fast';
import { fail, FlowSpecError, Site } from './errors';
import {
  bitsKey,
  bitsToMatch,
  checkPrereqs,
  formatBits,
  MatchBits,
  MatchBuilder,
  matchToBits,
  orderedBits,
  parseMatchKeyword,
  PortNames,
} from './match';
import { hex, parseUint } from './values';

export const DEFAULT_PRIORITY = 32768;
export const MAX_TABLE = 254;

/** Flow-mod flags (OpenFlow's OFPFF_*). */
export const FLOW_FLAGS: readonly [string, number][] = [
  ['send_flow_rem', 0x0001],
  ['check_overlap', 0x0002],
  ['reset_counts', 0x0004],
];
const ALL_FLAGS = 0x0007;

const IGNORED = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age']);
const NOT_SUPPORTED_KEYWORDS = new Set(['importance', 'no_packet_counts', 'no_byte_counts', 'out_group']);

export interface ParseOptions extends PortNames {
  command?: FlowCommand;
  /**
   * Action lists already parsed in this batch, by table and text: a flow
   * file repeats a handful of action lists. The lists are shared between
   * the flow-mods, which never change them.
   */
  actionCache?: Map<string, Action[]>;
}

/** The parts of a flow as the gRPC API carries them (Flow, DeleteFlowsRequest). */
export interface FlowParts {
  table?: number;
  priority?: number;
  cookie?: bigint;
  cookieMask?: bigint;
  idleTimeout?: number;
  hardTimeout?: number;
  flags?: number;
  /** Port name or number: deletes only entries that output there. */
  outPort?: string;
  /** Match text; may carry flow keywords (table=, priority=, ...) too. */
  match: string;
  /** Action text; empty or undefined: drop. */
  actions?: string;
}

interface Header {
  table?: number;
  priority?: number;
  cookie?: bigint;
  cookieMask?: bigint;
  idleTimeout?: number;
  hardTimeout?: number;
  flags: number;
  outPort?: number;
}

function isAddLike(cmd: FlowCommand): boolean {
  return cmd === 'add' || cmd === 'modify' || cmd === 'modify_strict';
}

function isDelete(cmd: FlowCommand): boolean {
  return cmd === 'delete' || cmd === 'delete_strict';
}

function intValue(key: string, value: string | undefined, max: number, site: Site): number {
  if (value === undefined || value === '') fail(`${key} needs a value (${key}=...)`, site);
  const v = parseUint(value);
  if (v === undefined) fail(`${key}: '${value}' is not a number`, site);
  if (v > BigInt(max)) fail(`${key}: ${value} is out of range (at most ${max})`, site);
  return Number(v);
}

function setOnce<K extends keyof Header>(h: Header, key: K, v: Header[K], name: string, site: Site): void {
  if (h[key] !== undefined && h[key] !== v) fail(`${name} given twice with different values`, site);
  h[key] = v;
}

/** Parses the keywords of text[from, to) into the header and the match. */
function parseClauses(
  text: string,
  from: number,
  to: number,
  cmd: FlowCommand,
  h: Header,
  mb: MatchBuilder,
  opts: ParseOptions,
): void {
  for (const tok of splitTokens(text, from, to)) {
    const eq = tok.text.indexOf('=');
    const key = eq < 0 ? tok.text : tok.text.slice(0, eq);
    const value = eq < 0 ? undefined : tok.text.slice(eq + 1);
    const site: Site = { field: key, position: tok.pos, text };
    if (key === '') fail(`missing field name before '='`, site);
    if (parseMatchKeyword(mb, key, value, site, opts)) continue;
    if (IGNORED.has(key)) continue;
    const flag = FLOW_FLAGS.find(([n]) => n === key);
    if (flag) {
      if (value !== undefined) fail(`${key} takes no value`, site);
      if (!isAddLike(cmd)) fail(`${key} does not apply to a delete`, site);
      h.flags |= flag[1];
      continue;
    }
    switch (key) {
      case 'table': {
        const max = cmd === 'add' ? MAX_TABLE : TABLE_ALL;
        if (value === 'all' && cmd !== 'add') setOnce(h, 'table', TABLE_ALL, key, site);
        else {
          const t = intValue(key, value, TABLE_ALL, site);
          if (t > max) fail(`table: a flow is added to one table, 0..${MAX_TABLE}`, site);
          setOnce(h, 'table', t, key, site);
        }
        continue;
      }
      case 'priority':
        setOnce(h, 'priority', intValue(key, value, 0xffff, site), key, site);
        continue;
      case 'idle_timeout':
      case 'hard_timeout': {
        if (!isAddLike(cmd)) fail(`${key} does not apply to a delete`, site);
        setOnce(h, key === 'idle_timeout' ? 'idleTimeout' : 'hardTimeout', intValue(key, value, 0xffff, site), key, site);
        continue;
      }
      case 'cookie': {
        if (value === undefined || value === '') fail('cookie needs a value (cookie=...)', site);
        const slash = value.indexOf('/');
        const c = parseUint(slash < 0 ? value : value.slice(0, slash));
        if (c === undefined || c > 0xffffffffffffffffn) fail(`cookie: '${value}' is not a 64-bit number`, site);
        if (slash >= 0) {
          if (cmd === 'add') fail('cookie: a mask is for modify and delete, not add', site);
          // -1: every bit, as ovs-ofctl reads it
          const m = value.slice(slash + 1) === '-1' ? 0xffffffffffffffffn : parseUint(value.slice(slash + 1));
          if (m === undefined || m > 0xffffffffffffffffn) fail(`cookie: bad mask '${value.slice(slash + 1)}'`, site);
          setOnce(h, 'cookieMask', m, key, site);
          setOnce(h, 'cookie', c & m, key, site);
        } else {
          // Without a mask a delete would select every entry, whatever its cookie.
          if (isDelete(cmd)) fail(`cookie: a delete selects by cookie=VALUE/MASK (cookie=${value}/-1 for exactly ${value})`, site);
          setOnce(h, 'cookie', c, key, site);
        }
        continue;
      }
      case 'out_port': {
        if (cmd === 'add') fail('out_port is for modify and delete, not add', site);
        if (value === undefined || value === '') fail('out_port needs a value (out_port=...)', site);
        setOnce(h, 'outPort', parseOutPort(value, site, opts), key, site);
        continue;
      }
      case 'actions':
        fail('actions must come last', site);
    }
    if (NOT_SUPPORTED_KEYWORDS.has(key)) fail(`${key} is not supported (yet)`, site);
    fail(`unknown field '${key}'`, site);
  }
}

function parseOutPort(value: string, site: Site, opts: PortNames): number {
  // an output action's port syntax
  const acts = parseActions(`output:${value}`, { ...opts, table: TABLE_ALL });
  const a = acts[0];
  if (acts.length !== 1 || a.type !== 'output') fail(`out_port: '${value}' is not a port`, site);
  return a.port;
}

function build(cmd: FlowCommand, h: Header, bits: MatchBits, actions: Action[], keyed?: { key: string }): FlowMod {
  const add = cmd === 'add';
  const ordered = orderedBits(bits);
  const mod: FlowMod = {
    command: cmd,
    table: h.table ?? (add ? 0 : TABLE_ALL),
    priority: h.priority ?? DEFAULT_PRIORITY,
    match: bitsToMatch(bits, ordered),
    actions,
  };
  if (keyed) keyed.key = `${mod.table}/${mod.priority}/${bitsKey(bits, ordered)}`;
  if (add) {
    mod.cookie = h.cookie ?? 0n;
    mod.idleTimeout = h.idleTimeout ?? 0;
    mod.hardTimeout = h.hardTimeout ?? 0;
    mod.flags = h.flags;
  } else {
    if (h.cookie !== undefined) mod.cookie = h.cookie;
    if (h.cookieMask !== undefined) mod.cookieMask = h.cookieMask;
    if (isAddLike(cmd)) {
      mod.idleTimeout = h.idleTimeout ?? 0;
      mod.hardTimeout = h.hardTimeout ?? 0;
      mod.flags = h.flags;
    }
    if (h.outPort !== undefined) mod.outPort = h.outPort;
  }
  return mod;
}

/** Finds the `actions=` token; returns the offset of the action list, or -1. */
function findActions(text: string): { at: number; listAt: number } {
  // the usual case: one "actions=" after a separator, nothing bracketed before it
  const i = text.indexOf('actions=');
  if (i >= 0 && (i === 0 || /[\s,]/.test(text[i - 1])) && text.indexOf('actions', i + 1) < 0 && !/[("]/.test(text.slice(0, i))) {
    return { at: i, listAt: i + 8 };
  }
  for (const tok of splitTokens(text)) {
    if (tok.text.startsWith('actions=') || tok.text === 'actions') {
      return { at: tok.pos, listAt: tok.pos + (tok.text === 'actions' ? 7 : 8) };
    }
  }
  return { at: -1, listAt: -1 };
}

/**
 * Splits flow text at `actions=` into the match part (flow keywords
 * included) and the action list; actions is undefined if there is none.
 */
export function splitFlowText(text: string): { match: string; actions?: string } {
  const { at, listAt } = findActions(text);
  if (at < 0) return { match: text.trim() };
  const match = text.slice(0, at).replace(/[\s,]+$/, '').trim();
  return { match, actions: text.slice(listAt).replace(/^=/, '').trim() };
}

/**
 * Parses one flow line. Throws FlowSpecError (UnknownPortError for a port
 * name the lookup does not know), and nothing else, whatever the input.
 */
export function parseFlow(text: string, opts: ParseOptions = {}): FlowMod {
  return parseFlowText(text, opts);
}

/** parseFlow, and the flow's identity key (flowKey()) as a by-product. */
export function parseFlowKeyed(text: string, opts: ParseOptions = {}): { mod: FlowMod; key: string } {
  const keyed = { key: '' };
  return { mod: parseFlowText(text, opts, keyed), key: keyed.key };
}

function parseFlowText(text: string, opts: ParseOptions, keyed?: { key: string }): FlowMod {
  if ((opts.command ?? 'add') === 'add') {
    const simple = parseSimpleAdd(text, opts, keyed);
    if (simple) return simple;
  }
  return parseFlowGeneral(text, opts, keyed);
}

/** The general parser alone (parseFlow() tries fast.ts's first): for tests that hold the two to agreement. */
export function parseFlowGeneral(text: string, opts: ParseOptions = {}, keyed?: { key: string }): FlowMod {
  return guard(text, () => {
    const cmd = opts.command ?? 'add';
    const { at, listAt } = findActions(text);
    const h: Header = { flags: 0 };
    const mb = new MatchBuilder();
    parseClauses(text, 0, at < 0 ? text.length : at, cmd, h, mb, opts);
    checkPrereqs(mb);
    let actions: Action[] = [];
    if (isAddLike(cmd)) {
      if (at < 0) fail('no actions: end the flow with actions=... (actions=drop to drop)', { field: 'actions', position: text.length, text });
      if (text[listAt - 1] !== '=') fail('actions needs a value (actions=...)', { field: 'actions', position: at, text });
      const table = h.table ?? (cmd === 'add' ? 0 : TABLE_ALL);
      const list = text.slice(listAt);
      const cacheKey = opts.actionCache ? `${table}\0${list}` : '';
      const cached = opts.actionCache?.get(cacheKey);
      if (cached) actions = cached;
      else {
        actions = parseActions(list, { ...opts, table }, text, listAt);
        opts.actionCache?.set(cacheKey, actions);
      }
    } else if (at >= 0) {
      fail('a delete takes no actions', { field: 'actions', position: at, text });
    }
    return build(cmd, h, mb.bits, actions, keyed);
  });
}

/**
 * Parses a flow given as parts (the gRPC form). Errors in the match name the
 * match text, errors in the actions the action text. Values given both in a
 * part and as a keyword in the match must agree.
 */
export function parseFlowParts(parts: FlowParts, opts: ParseOptions = {}, keyed?: { key: string }): FlowMod {
  const cmd = opts.command ?? 'add';
  const match = parts.match ?? '';
  const h: Header = { flags: 0 };
  const mb = new MatchBuilder();
  guard(match, () => {
    const { at } = findActions(match);
    if (at >= 0) fail('actions belong in the actions, not in the match', { field: 'actions', position: at, text: match });
    parseClauses(match, 0, match.length, cmd, h, mb, opts);
    checkPrereqs(mb);
    const site = (field: string): Site => ({ field, position: 0, text: match });
    if (parts.table !== undefined) {
      if (!Number.isInteger(parts.table) || parts.table < 0 || parts.table > TABLE_ALL || (cmd === 'add' && parts.table > MAX_TABLE)) {
        fail(`table: ${parts.table} is out of range 0..${cmd === 'add' ? MAX_TABLE : TABLE_ALL}`, site('table'));
      }
      setOnce(h, 'table', parts.table, 'table', site('table'));
    }
    if (parts.priority !== undefined) {
      if (!Number.isInteger(parts.priority) || parts.priority < 0 || parts.priority > 0xffff) {
        fail(`priority: ${parts.priority} is out of range 0..65535`, site('priority'));
      }
      setOnce(h, 'priority', parts.priority, 'priority', site('priority'));
    }
    for (const [key, name] of [
      ['idleTimeout', 'idle_timeout'],
      ['hardTimeout', 'hard_timeout'],
    ] as const) {
      const v = parts[key];
      if (v === undefined || v === 0) continue;
      if (!isAddLike(cmd)) fail(`${name} does not apply to a delete`, site(name));
      if (!Number.isInteger(v) || v < 0 || v > 0xffff) fail(`${name}: ${v} is out of range 0..65535`, site(name));
      setOnce(h, key, v, name, site(name));
    }
    if (parts.flags) {
      if (parts.flags & ~ALL_FLAGS) fail(`flags: unknown bits ${hex(BigInt(parts.flags & ~ALL_FLAGS))}`, site('flags'));
      if (!isAddLike(cmd)) fail('flags do not apply to a delete', site('flags'));
      h.flags |= parts.flags;
    }
    if (parts.cookieMask !== undefined && parts.cookieMask !== 0n) {
      if (cmd === 'add') fail('cookie: a mask is for modify and delete, not add', site('cookie'));
      setOnce(h, 'cookieMask', parts.cookieMask, 'cookie mask', site('cookie'));
    }
    // cookie 0 is proto3's "not given", unless a mask comes with it
    if (parts.cookie !== undefined && parts.cookie !== 0n && (parts.cookieMask ?? 0n) === 0n && isDelete(cmd)) {
      fail(`cookie: a delete selects by cookie with cookie_mask (0xffffffffffffffff for exactly ${hex(parts.cookie)})`, site('cookie'));
    }
    if (parts.cookie !== undefined && (parts.cookie !== 0n || (parts.cookieMask ?? 0n) !== 0n)) {
      const c = h.cookieMask !== undefined ? parts.cookie & h.cookieMask : parts.cookie;
      setOnce(h, 'cookie', c, 'cookie', site('cookie'));
    }
    if (parts.outPort) {
      if (cmd === 'add') fail('out_port is for modify and delete, not add', site('out_port'));
      setOnce(h, 'outPort', parseOutPort(parts.outPort, site('out_port'), opts), 'out_port', site('out_port'));
    }
  });
  const actionText = parts.actions ?? '';
  const actions = guard(actionText, () => {
    if (!isAddLike(cmd)) {
      if (actionText.trim() !== '' && actionText.trim() !== 'drop') fail('a delete takes no actions', { field: 'actions', position: 0, text: actionText });
      return [];
    }
    const table = h.table ?? (cmd === 'add' ? 0 : TABLE_ALL);
    return parseActions(actionText, { ...opts, table });
  });
  return guard(match, () => build(cmd, h, mb.bits, actions, keyed));
}

/**
 * Runs a parser and turns anything but a FlowSpecError (a bug, or a value no
 * check anticipated) into one, so callers can rely on the contract.
 */
function guard<T>(text: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FlowSpecError) throw e;
    throw new FlowSpecError(`cannot parse: ${(e as Error)?.message ?? String(e)}`, '', 0, text);
  }
}

// ---------------------------------------------------------------- files

export interface FlowLine {
  /** 1-based line number of the first physical line. */
  line: number;
  text: string;
}

/**
 * Splits a flow file as ovs-ofctl reads it: `#` starts a comment, blank
 * lines are skipped, a backslash at the end of a line continues it.
 */
export function splitFlowFile(content: string): FlowLine[] {
  const out: FlowLine[] = [];
  const lines = content.split(/\r?\n/);
  let cur = '';
  let startLine = 0;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i];
    const hash = l.indexOf('#');
    if (hash >= 0) l = l.slice(0, hash);
    if (cur === '' && startLine === 0) startLine = i + 1;
    const cont = /\\\s*$/.test(l);
    if (cont) l = l.replace(/\\\s*$/, '');
    cur += l;
    if (cont && i < lines.length - 1) continue;
    if (cur.trim() !== '') out.push({ line: startLine, text: cur.trim() });
    cur = '';
    startLine = 0;
  }
  return out;
}

const COMMAND_WORDS: Readonly<Record<string, FlowCommand>> = {
  add: 'add',
  modify: 'modify',
  mod: 'modify',
  modify_strict: 'modify_strict',
  delete: 'delete',
  del: 'delete',
  delete_strict: 'delete_strict',
};

/**
 * Parses one line of a flow file: an optional command word (add, modify,
 * modify_strict, delete, delete_strict) then the flow. Errors name the line.
 */
export function parseFlowLine(text: string, opts: PortNames = {}): FlowMod {
  const m = /^\s*([a-z_]+)\s+(?=\S)/.exec(text);
  const cmd = m && !m[1].includes('=') ? COMMAND_WORDS[m[1]] : undefined;
  if (cmd) return parseFlow(text.slice(m![0].length), { ...opts, command: cmd });
  return parseFlow(text, { ...opts, command: 'add' });
}

/** parseFlowLine, and the flow's identity key. */
export function parseFlowLineKeyed(text: string, opts: PortNames & Pick<ParseOptions, 'actionCache'> = {}): { mod: FlowMod; key: string } {
  const m = /^\s*([a-z_]+)\s+(?=\S)/.exec(text);
  const cmd = m && !m[1].includes('=') ? COMMAND_WORDS[m[1]] : undefined;
  if (cmd) return parseFlowKeyed(text.slice(m![0].length), { ...opts, command: cmd });
  return parseFlowKeyed(text, { ...opts, command: 'add' });
}

// ---------------------------------------------------------------- canonical forms

/** The canonical form of a match from any source (the addon's dumps included). */
export function canonicalMatch(match: Match): Match {
  return bitsToMatch(matchToBits(match));
}

/** An add FlowMod, canonical, from a dumped entry. */
export function entryToFlowMod(e: FlowEntry): FlowMod {
  return {
    command: 'add',
    table: e.table,
    priority: e.priority,
    match: canonicalMatch(e.match),
    actions: e.actions.map(canonicalAction),
    cookie: BigInt(e.cookie ?? 0n),
    idleTimeout: e.idleTimeout ?? 0,
    hardTimeout: e.hardTimeout ?? 0,
    flags: e.flags ?? 0,
  };
}

/**
 * Identity of an entry in the switch: table, priority and match. Not cached
 * (a WeakMap of hundreds of thousands of live matches doubles the cost of
 * parsing, in the garbage collector): parse with parseFlowKeyed() to get it
 * for free.
 */
export function flowKey(f: { table: number; priority: number; match: Match }): string {
  return `${f.table}/${f.priority}/${bitsKey(matchToBits(f.match))}`;
}

/** The parts of an entry that sameFlow() compares. */
export type FlowBody = Pick<FlowMod, 'actions' | 'cookie' | 'idleTimeout' | 'hardTimeout' | 'flags'>;

/** Whether two action lists mean the same: equal field by field, or failing that, in text. */
export function sameActions(a: readonly Action[], b: readonly Action[]): boolean {
  if (a === b) return true;
  if (a.length === b.length) {
    let equal = true;
    for (let i = 0; i < a.length && equal; i++) {
      const x = a[i] as unknown as Record<string, unknown>;
      const y = b[i] as unknown as Record<string, unknown>;
      const keys = Object.keys(x);
      equal = keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
    }
    if (equal) return true;
  }
  // value forms may differ (a MAC as text or a number): compare what they say
  return formatActions(a) === formatActions(b);
}

/** Whether two entries of the same key are the same (actions, cookie, timeouts, flags). */
export function sameFlow(a: FlowBody, b: FlowBody): boolean {
  return (
    sameActions(a.actions, b.actions) &&
    (a.cookie ?? 0n) === (b.cookie ?? 0n) &&
    (a.idleTimeout ?? 0) === (b.idleTimeout ?? 0) &&
    (a.hardTimeout ?? 0) === (b.hardTimeout ?? 0) &&
    ((a.flags ?? 0) & ~0x2) === ((b.flags ?? 0) & ~0x2) // check_overlap is a request, not a property
  );
}

// ---------------------------------------------------------------- formatting

function flagWords(flags: number): string[] {
  return FLOW_FLAGS.filter(([, b]) => flags & b).map(([n]) => n);
}

/**
 * A flow in the add-flows form, fit for a file or `switchyard flow add`:
 * `table=0,priority=100,ip,in_port=p1,actions=drop`. Modify and delete mods
 * carry their cookie mask and out_port too.
 */
export function formatFlowMod(f: FlowMod, ports: PortNames = {}): string {
  const parts: string[] = [];
  parts.push(`table=${f.table === TABLE_ALL ? 'all' : f.table}`, `priority=${f.priority}`);
  if (f.cookieMask !== undefined) parts.push(`cookie=${hex(f.cookie ?? 0n)}/${hex(f.cookieMask)}`);
  else if (f.cookie !== undefined && f.cookie !== 0n) parts.push(`cookie=${hex(f.cookie)}`);
  if (f.idleTimeout) parts.push(`idle_timeout=${f.idleTimeout}`);
  if (f.hardTimeout) parts.push(`hard_timeout=${f.hardTimeout}`);
  parts.push(...flagWords(f.flags ?? 0));
  if (f.outPort !== undefined) parts.push(`out_port=${formatActions([{ type: 'output', port: f.outPort }], ports).replace(/^output:/, '')}`);
  const m = formatMatch(f.match, ports);
  if (m) parts.push(m);
  const isDelete = f.command === 'delete' || f.command === 'delete_strict';
  return isDelete ? parts.join(',') : `${parts.join(',')},actions=${formatActions(f.actions, ports)}`;
}

/** Formats a match (no flow keywords). */
export function formatMatch(match: Match, ports: PortNames = {}): string {
  return formatBits(matchToBits(match), ports);
}

function seconds(ns: bigint): string {
  return (Number(ns) / 1e9).toFixed(3);
}

/**
 * A dumped entry as ovs-ofctl dump-flows prints it:
 * `cookie=0x0, duration=1.234s, table=0, n_packets=5, n_bytes=490, priority=100,ip,in_port=p1 actions=drop`.
 */
export function formatFlowEntry(
  e: FlowEntry,
  ports: PortNames = {},
  /** the entry's match and actions already formatted with these ports, if the caller has them */
  formatted?: { match: string; actions: string },
): string {
  const head = [
    `cookie=${hex(BigInt(e.cookie ?? 0n))}`,
    `duration=${seconds(e.stats.durationNs)}s`,
    `table=${e.table}`,
    `n_packets=${e.stats.packets}`,
    `n_bytes=${e.stats.bytes}`,
  ];
  if (e.idleTimeout) head.push(`idle_timeout=${e.idleTimeout}`);
  if (e.hardTimeout) head.push(`hard_timeout=${e.hardTimeout}`);
  head.push(...flagWords(e.flags ?? 0));
  const m = formatted ? formatted.match : formatMatch(e.match, ports);
  const actions = formatted ? formatted.actions : formatActions(e.actions, ports);
  return `${head.join(', ')}, priority=${e.priority}${m ? ',' + m : ''} actions=${actions}`;
}
