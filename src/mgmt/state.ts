/**
 * The desired state — the daemon's source of truth — and its file.
 *
 * What the switch should be: ports (name, devargs, id, mtu, admin state, rx queues),
 * table settings, meters and flows. It is replayed into the data plane whenever the
 * data plane (re)connects, and written to the state file on every accepted
 * change, atomically: a temporary file in the same directory, fsync, rename
 * over the old one, fsync of the directory. A crash leaves either the old
 * file or the new one, never a mix.
 *
 * The file is JSON, meant to be readable and, with care, editable:
 *   { "version": 1,
 *     "ports":  [{ "name": "p1", "devargs": "net_tap0,iface=sy0", "id": 1, "adminUp": true, "mtu": 1500 }],
 *     "tables": [{ "id": 0, "name": "classify", "miss": "drop" }],
 *     "groups": ["group_id=1,type=select,bucket=weight:1,actions=output:2,bucket=weight:3,actions=output:3"],
 *     "meters": [{ "id": 1, "unit": "kbps", "rate": 100000, "burst": 10000, "band": "drop" }],
 *     "flows":  ["table=0,priority=100,ip,in_port=1,actions=output:2"] }
 * Flows (and groups, in ovs-ofctl add-group syntax) are in text form with port numbers (not names), so
 * they mean the same thing whatever ports are renamed or deleted.
 *
 * A file that cannot be read back is never overwritten: loading it fails
 * with its path and the position of the fault, and the daemon refuses to
 * start until someone fixes or removes it.
 *
 * The journal. Rewriting a million flows for every change would make a
 * one-flow change cost seconds, so a change is appended to a journal beside
 * the file (`state.json.journal`), one JSON line per change, and fsynced
 * before the change is acknowledged:
 *   {"seq":7,"put":["table=0,priority=5,ip,actions=drop"],"del":["table=0,..."]}
 *   {"seq":8,"ports":[...the whole list...],"tables":[...],"meters":[...]}
 *   {"seq":9,"groups":[...the whole list, as text...]}
 *   {"seq":9,"apply":["add in_port=p1,actions=output:p2", "delete ip"]}
 * "put" and "del" are entries set and removed; "apply" is a batch of flow
 * lines as a client gave them (ApplyFlows, `flow add --file`), replayed in
 * order with the port names of that moment: for a large batch, writing the
 * lines back is far cheaper than formatting every entry.
 * Loading reads the file, then replays the journal's records whose seq is
 * above the file's "seq". When the journal outgrows the file (and at least
 * JOURNAL_MIN bytes), the whole state is written as a new file (as above)
 * and the journal emptied; a crash between the two leaves records the next
 * load skips by their seq. A last record cut short (a crash during the
 * append, which was therefore never acknowledged) is set aside in
 * `state.json.journal.torn-<time>` and reported, never silently dropped; a
 * damaged record before the last is a fault like any other, with its path
 * and position.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, unlinkSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BondConfig, FlowMod, GroupConfig, MeterBand, MeterUnit, PortQosConfig, TableMiss } from './addon-types';
import { checkQos, qosDoc } from './qos';
import { checkMeter, meterDoc } from './meters';
import { bondDoc, checkBond } from './bond';
import { checkNshTag, checkVlan, nshTagDoc, vlanDoc, type NshTag, type PortVlan } from './edge';
import { FieldError } from './errors';
import { formatFlowMod, formatGroup, FlowSpecError, parseFlow, parseFlowKeyed, parseFlowLineKeyed, parseGroup } from '../flowspec';
import { FlowChange, FlowSet } from './flowtable';
import { checkPrivateDir } from './auth';

export interface PortConfig {
  name: string;
  devargs: string;
  id: number;
  /** Requested MTU; absent: the device's default. */
  mtu?: number;
  adminUp: boolean;
  /** Rx queues (1..16); absent: 1. */
  nRxq?: number;
  /** A bond port (link aggregation): devargs is then its bonding device's name. */
  bond?: BondConfig;
  /** Egress QoS (qos.ts), checked; absent: none. */
  qos?: PortQosConfig;
  /** VLAN mode (access, trunk); absent: none. */
  vlan?: PortVlan;
  /** NSH port tag; absent: none. */
  nshTag?: NshTag;
}

export interface TableConfig {
  id: number;
  name: string;
  miss: TableMiss;
  maxFlows?: number;
}

/** One band of a meter with several (meters.ts). */
export interface MeterBandConfig {
  type: MeterBand;
  rate: number;
  burst?: number;
  dscp?: number;
}

/** A meter (meters.ts): one band (rate..dscp), or several (bands). */
export interface MeterConfig {
  id: number;
  unit: MeterUnit;
  /** kbit/s or packets/s (with bands: the first band's) */
  rate: number;
  /** kbit or packets; absent: the data plane's default (100 ms of the rate) */
  burst?: number;
  band: MeterBand;
  /** band dscp_remark: the DSCP written into packets over the rate */
  dscp?: number;
  /** 2..4 bands, by rate (distinct); absent: the one band above */
  bands?: MeterBandConfig[];
}

/** A mirror (switchyard mirror add): copies of what src ports receive and dst ports send to out. */
export interface MirrorConfig {
  name: string;
  /** The data plane's slot, 0..31 (flows name it as mirror:NAME). */
  id: number;
  outPort: number;
  src: number[];
  dst: number[];
}

export const MIRROR_MAX = 32;
export const MIRROR_PORTS = 16;

export interface DesiredState {
  ports: PortConfig[];
  /** Tables with non-default settings only (default: no name, miss drop). */
  tables: TableConfig[];
  /** Meters, by id; replayed before the flows that use them. Absent: none. */
  meters?: MeterConfig[];
  /** Canonical add FlowMods (flowspec's parse form), one per (table, priority, match). */
  flows: FlowMod[];
  /** Groups by id (absent: none); replayed after the ports, before the flows. */
  groups?: GroupConfig[];
  /** Mirrors by id (absent: none); replayed after the ports, before the flows. */
  mirrors?: MirrorConfig[];
}

function mirrorDoc(m: MirrorConfig): MirrorConfig {
  return { name: m.name, id: m.id, outPort: m.outPort, src: m.src.slice(), dst: m.dst.slice() };
}

export const STATE_VERSION = 1;

export function emptyState(): DesiredState {
  return { ports: [], tables: [], flows: [] };
}

export function cloneState(s: DesiredState): DesiredState {
  return {
    ports: s.ports.map((p) => ({ ...p })),
    tables: s.tables.map((t) => ({ ...t })),
    ...(s.meters?.length ? { meters: s.meters.map((m) => ({ ...m, ...(m.bands ? { bands: m.bands.map((b) => ({ ...b })) } : {}) })) } : {}),
    flows: s.flows.slice(),
    ...(s.groups ? { groups: s.groups.slice() } : {}),
    ...(s.mirrors?.length ? { mirrors: s.mirrors.map(mirrorDoc) } : {}),
  };
}

/** A state file that cannot be loaded; the file is left as it is. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly position?: number,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(
      `state file ${path} is unusable: ${problem}` +
        (position !== undefined ? ` (line ${line}, column ${column}, position ${position})` : '') +
        '; it was left untouched: fix it, or move it away to start empty',
    );
  }
}

// ---------------------------------------------------------------- serialisation

/** The stored text of a flow: its add-flows form with port numbers. */
export function flowText(f: FlowMod): string {
  return formatFlowMod(f);
}

function portsDoc(ports: readonly PortConfig[]): Record<string, unknown>[] {
  return ports.map((p) => {
    const o: Record<string, unknown> = { name: p.name, devargs: p.devargs, id: p.id, adminUp: p.adminUp };
    if (p.mtu !== undefined) o.mtu = p.mtu;
    if (p.nRxq !== undefined) o.nRxq = p.nRxq;
    if (p.bond) o.bond = bondDoc(p.bond);
    if (p.qos) o.qos = qosDoc(p.qos);
    if (p.vlan) o.vlan = vlanDoc(p.vlan);
    if (p.nshTag) o.nshTag = nshTagDoc(p.nshTag);
    return o;
  });
}

function tablesDoc(tables: readonly TableConfig[]): Record<string, unknown>[] {
  return tables.map((t) => {
    const o: Record<string, unknown> = { id: t.id, name: t.name, miss: t.miss };
    if (t.maxFlows !== undefined) o.maxFlows = t.maxFlows;
    return o;
  });
}

function groupsDoc(groups: readonly GroupConfig[]): string[] {
  return groups.map((g) => formatGroup(g));
}

export function serializeState(s: DesiredState, seq?: number): string {
  const groups = s.groups?.length ? { groups: groupsDoc(s.groups) } : {};
  const head = JSON.stringify(
    {
      version: STATE_VERSION,
      ...(seq ? { seq } : {}),
      ports: portsDoc(s.ports),
      tables: tablesDoc(s.tables),
      ...(s.meters?.length ? { meters: s.meters.map(meterDoc) } : {}),
      ...(s.mirrors?.length ? { mirrors: s.mirrors.map(mirrorDoc) } : {}),
      ...groups,
    },
    null,
    2,
  );
  // the flows one per line, as before, without building one huge object first
  const flows = s.flows.length ? '[\n    ' + s.flows.map((f) => JSON.stringify(flowText(f))).join(',\n    ') + '\n  ]' : '[]';
  return head.slice(0, -2) + `,\n  "flows": ${flows}\n}\n`;
}

/**
 * Offset of the first JSON syntax error in `s`, or -1 if it is valid. V8's
 * JSON.parse messages do not always carry a position, hence this scanner.
 */
export function jsonErrorPosition(s: string): number {
  let i = 0;
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const str = () => {
    i++; // opening quote
    for (;;) {
      if (i >= s.length) throw i;
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw i;
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) throw i;
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw i;
        i += 2;
        continue;
      }
      i++;
    }
  };
  const num = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (s[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (s[i] !== '"') throw i;
          str();
          ws();
          if (s[i] !== ':') throw i;
          i++;
        }
        value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === close) {
          i++;
          return;
        }
        throw i;
      }
    }
    if (c === '"') return str();
    num.lastIndex = i;
    if (num.test(s)) {
      i = num.lastIndex;
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (s.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    throw i;
  };
  try {
    value();
    ws();
    if (i < s.length) throw i;
    return -1;
  } catch (p) {
    if (typeof p === 'number') return p;
    return 0; // nesting too deep for the stack: blame the start
  }
}

function lineColumn(s: string, pos: number): { line: number; column: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < s.length; i++) {
    if (s[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MISSES: readonly TableMiss[] = ['drop', 'continue', 'controller'];

/** Parses a state file's text; throws StateFileError naming the fault. */
export function deserializeState(text: string, path: string): DesiredState {
  return readState(text, path).state;
}

function readState(text: string, path: string): { state: DesiredState; seq: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    let pos = jsonErrorPosition(text);
    if (pos < 0) pos = 0;
    const { line, column } = lineColumn(text, pos);
    const found = pos >= text.length ? 'the end of the file' : JSON.stringify(text[pos]);
    const msg = text.trim() === '' ? 'the file is empty' : `invalid JSON: unexpected ${found}`;
    throw new StateFileError(path, msg, pos, line, column);
  }
  const bad = (where: string, what: string): never => {
    throw new StateFileError(path, `${where}: ${what}`);
  };
  if (!isObject(doc)) bad('top level', 'expected an object');
  const d = doc as Record<string, unknown>;
  if (d.version !== STATE_VERSION) bad('version', `expected ${STATE_VERSION}, found ${JSON.stringify(d.version)}`);
  const state = emptyState();
  const arr = (k: string): unknown[] => {
    const v = d[k] ?? [];
    if (!Array.isArray(v)) bad(k, 'expected an array');
    return v as unknown[];
  };
  const int = (v: unknown, where: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(where, `expected an integer ${min}..${max}`);
    return v as number;
  };
  const str = (v: unknown, where: string): string => {
    if (typeof v !== 'string') bad(where, 'expected a string');
    return v as string;
  };
  arr('ports').forEach((p, i) => {
    const w = `ports[${i}]`;
    if (!isObject(p)) bad(w, 'expected an object');
    const o = p as Record<string, unknown>;
    const port: PortConfig = {
      name: str(o.name, `${w}.name`),
      devargs: str(o.devargs, `${w}.devargs`),
      id: int(o.id, `${w}.id`, 1, 0xffffff00),
      adminUp: o.adminUp === undefined ? true : o.adminUp === true,
    };
    if (o.adminUp !== undefined && typeof o.adminUp !== 'boolean') bad(`${w}.adminUp`, 'expected true or false');
    if (o.mtu !== undefined) port.mtu = int(o.mtu, `${w}.mtu`, 64, 65535);
    if (o.nRxq !== undefined) port.nRxq = int(o.nRxq, `${w}.nRxq`, 1, 16);
    if (o.bond !== undefined) {
      try {
        port.bond = checkBond(o.bond, `${w}.bond`);
      } catch (e) {
        if (e instanceof FieldError) bad(e.field, e.problem);
        throw e;
      }
    }
    if (o.qos !== undefined) {
      try {
        const q = checkQos(o.qos, `${w}.qos`);
        if (q) port.qos = q;
      } catch (e) {
        if (e instanceof FieldError) bad(e.field, e.problem);
        throw e;
      }
    }
    try {
      if (o.vlan !== undefined) port.vlan = checkVlan(o.vlan, `${w}.vlan`);
      if (o.nshTag !== undefined) port.nshTag = checkNshTag(o.nshTag, `${w}.nshTag`);
    } catch (e) {
      if (e instanceof FieldError) bad(e.field, e.problem);
      throw e;
    }
    if (!port.vlan) delete port.vlan;
    if (state.ports.some((q) => q.name === port.name)) bad(`${w}.name`, `port '${port.name}' appears twice`);
    if (state.ports.some((q) => q.id === port.id)) bad(`${w}.id`, `port number ${port.id} appears twice`);
    state.ports.push(port);
  });
  arr('tables').forEach((t, i) => {
    const w = `tables[${i}]`;
    if (!isObject(t)) bad(w, 'expected an object');
    const o = t as Record<string, unknown>;
    const miss = o.miss ?? 'drop';
    if (!MISSES.includes(miss as TableMiss)) bad(`${w}.miss`, 'expected drop, continue or controller');
    const table: TableConfig = {
      id: int(o.id, `${w}.id`, 0, 254),
      name: o.name === undefined ? '' : str(o.name, `${w}.name`),
      miss: miss as TableMiss,
    };
    if (o.maxFlows !== undefined) table.maxFlows = int(o.maxFlows, `${w}.maxFlows`, 0, 0xffffffff);
    if (state.tables.some((q) => q.id === table.id)) bad(`${w}.id`, `table ${table.id} appears twice`);
    state.tables.push(table);
  });
  arr('groups').forEach((g, i) => {
    const w = `groups[${i}]`;
    try {
      const group = parseGroup(str(g, w));
      if (state.groups?.some((q) => q.id === group.id)) bad(w, `group ${group.id} appears twice`);
      (state.groups ??= []).push(group);
    } catch (e) {
      if (e instanceof FlowSpecError) bad(w, e.message);
      throw e;
    }
  });
  arr('meters').forEach((m, i) => {
    const w = `meters[${i}]`;
    try {
      const meter = checkMeter(m, w);
      if (state.meters?.some((q) => q.id === meter.id)) bad(`${w}.id`, `meter ${meter.id} appears twice`);
      (state.meters ??= []).push(meter);
    } catch (e) {
      if (e instanceof FieldError) bad(e.field, e.problem);
      throw e;
    }
  });
  arr('mirrors').forEach((m, i) => {
    const w = `mirrors[${i}]`;
    if (!isObject(m)) bad(w, 'expected an object');
    const o = m as Record<string, unknown>;
    const ports = (k: 'src' | 'dst'): number[] => {
      if (o[k] === undefined) return [];
      if (!Array.isArray(o[k]) || (o[k] as unknown[]).length > MIRROR_PORTS) bad(`${w}.${k}`, `expected up to ${MIRROR_PORTS} port ids`);
      return (o[k] as unknown[]).map((p, j) => int(p, `${w}.${k}[${j}]`, 1, 0xffffff00));
    };
    const mirror: MirrorConfig = {
      name: str(o.name, `${w}.name`),
      id: int(o.id, `${w}.id`, 0, MIRROR_MAX - 1),
      outPort: int(o.outPort, `${w}.outPort`, 1, 0xffffff00),
      src: ports('src'),
      dst: ports('dst'),
    };
    if (state.mirrors?.some((q) => q.id === mirror.id || q.name === mirror.name)) bad(w, `mirror ${mirror.name} (${mirror.id}) appears twice`);
    (state.mirrors ??= []).push(mirror);
  });
  arr('flows').forEach((f, i) => {
    const w = `flows[${i}]`;
    try {
      state.flows.push(parseFlow(str(f, w)));
    } catch (e) {
      if (e instanceof FlowSpecError) bad(w, e.message);
      throw e;
    }
  });
  const seq = d.seq === undefined ? 0 : int(d.seq, 'seq', 0, Number.MAX_SAFE_INTEGER);
  return { state, seq };
}

/** Ports and tables of a journal record, checked as the file's are. */
function recordParts(rec: Record<string, unknown>, path: string): Pick<DesiredState, 'ports' | 'tables' | 'groups' | 'meters' | 'mirrors'> {
  const { state } = readState(
    JSON.stringify({ version: STATE_VERSION, ports: rec.ports ?? [], tables: rec.tables ?? [], groups: rec.groups ?? [], meters: rec.meters ?? [], mirrors: rec.mirrors ?? [] }),
    path,
  );
  return state;
}

// ---------------------------------------------------------------- the file

/**
 * What one accepted change altered, so that it can be journaled instead of
 * rewriting everything: the whole port or table list when they changed
 * (they are small), the flows put and removed.
 */
export interface StateChange {
  ports?: boolean;
  tables?: boolean;
  groups?: boolean;
  meters?: boolean;
  mirrors?: boolean;
  flows?: FlowChange;
  /**
   * The batch's flow lines exactly as given, when they alone say what
   * happened (applied in order to the previous state, with its port names,
   * they give flows.put and flows.del): journaled instead of the entries'
   * formatted text, which costs more than parsing did.
   */
  flowLines?: readonly string[];
}

export interface StateSaver {
  /** Persists `state`; `change` says what differs from the last save (none: everything may have). */
  save(state: DesiredState, change?: StateChange): Promise<void>;
}

export interface StateStoreHooks {
  /** Called with the temporary file written and synced, before the rename (tests). */
  beforeRename?(tmpPath: string): void | Promise<void>;
}

/** The journal is folded into the file once it is larger than the file and at least this. */
export const JOURNAL_MIN = 8 << 20;

export class StateStore implements StateSaver {
  private tmpSeq = 0;
  /** Seq of the last change persisted (file or journal). */
  private seq = 0;
  private fileBytes = 0;
  private journalBytes = 0;
  /** Things load() had to do that an operator should hear of (a torn last record set aside). */
  readonly warnings: string[] = [];
  readonly journalPath: string;

  constructor(
    readonly path: string,
    private readonly hooks: StateStoreHooks = {},
    private readonly journalMin = JOURNAL_MIN,
  ) {
    this.journalPath = `${path}.journal`;
  }

  /** The state in the file and its journal; an empty state if there is no file. Throws StateFileError. */
  load(): DesiredState {
    this.seq = this.fileBytes = this.journalBytes = 0;
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateFileError(this.path, `cannot read it: ${(e as Error).message}`);
    }
    let state = emptyState();
    if (text !== undefined) {
      const r = readState(text, this.path);
      state = r.state;
      this.seq = r.seq;
      this.fileBytes = Buffer.byteLength(text);
    }
    if (existsSync(this.journalPath)) state = this.replay(state);
    return state;
  }

  private replay(state: DesiredState): DesiredState {
    const path = this.journalPath;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new StateFileError(path, `cannot read it: ${(e as Error).message}`);
    }
    const flows = new FlowSet(state.flows);
    let { ports, tables, meters, mirrors } = state;
    let groups = state.groups;
    let at = 0;
    let lineNo = 1;
    while (at < text.length) {
      const nl = text.indexOf('\n', at);
      const last = nl < 0 || text.slice(nl + 1).trim() === '';
      const line = text.slice(at, nl < 0 ? text.length : nl);
      let rec: Record<string, unknown> | undefined;
      try {
        const v: unknown = JSON.parse(line);
        if (isObject(v)) rec = v;
      } catch {
        rec = undefined;
      }
      if (!rec || nl < 0) {
        if (last) {
          // A record cut short by a crash while it was written: never acknowledged.
          const aside = `${path}.torn-${Date.now()}`;
          copyFileSync(path, aside);
          truncateSync(path, at);
          this.warnings.push(
            `state journal ${path}: the last record (line ${lineNo}, position ${at}) was cut short, ` +
              `as a crash while writing it leaves it; it was never acknowledged and is set aside in ${aside}`,
          );
          break;
        }
        throw new StateFileError(path, 'a damaged record', at, lineNo, 1);
      }
      const where = `record at line ${lineNo}`;
      const seq = rec.seq;
      if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) throw new StateFileError(path, `${where}: seq: expected a positive integer`, at, lineNo, 1);
      if (seq > this.seq) {
        if (rec.ports !== undefined || rec.tables !== undefined || rec.groups !== undefined || rec.meters !== undefined || rec.mirrors !== undefined) {
          const parts = recordParts(rec, path);
          if (rec.mirrors !== undefined) mirrors = parts.mirrors;
          if (rec.ports !== undefined) ports = parts.ports;
          if (rec.tables !== undefined) tables = parts.tables;
          if (rec.groups !== undefined) groups = parts.groups;
          if (rec.meters !== undefined) meters = parts.meters;
        }
        // "apply": a batch as it was given (port names as they were then); "del"/"put": net changes
        const byName = new Map(ports.map((p) => [p.name, p.id]));
        const mirByName = new Map((mirrors ?? []).map((m) => [m.name, m.id]));
        const names = { resolvePort: (n: string) => byName.get(n), resolveMirror: (n: string) => mirByName.get(n) ?? (/^[0-9]+$/.test(n) ? Number(n) : undefined) };
        for (const k of ['apply', 'del', 'put'] as const) {
          const list = rec[k] ?? [];
          if (!Array.isArray(list)) throw new StateFileError(path, `${where}: ${k}: expected an array`, at, lineNo, 1);
          // the parser gives each flow's identity key: FlowSet need not work it out again
          const mods: FlowMod[] = [];
          const keys: string[] = [];
          list.forEach((t: unknown, i: number) => {
            try {
              if (typeof t !== 'string') throw new FlowSpecError('expected a string', '', 0, '');
              const { mod: f, key } = k === 'apply' ? parseFlowLineKeyed(t, names) : parseFlowKeyed(t);
              mods.push(k === 'del' ? { command: 'delete_strict', table: f.table, priority: f.priority, match: f.match, actions: [] } : f);
              keys.push(key);
            } catch (e) {
              if (e instanceof FlowSpecError) throw new StateFileError(path, `${where}: ${k}[${i}]: ${e.message}`, at, lineNo, 1);
              throw e;
            }
          });
          flows.apply(mods, keys);
        }
        this.seq = seq;
      }
      at = nl < 0 ? text.length : nl + 1;
      lineNo++;
    }
    this.journalBytes = at;
    return {
      ports,
      tables,
      ...(meters?.length ? { meters } : {}),
      flows: [...flows.list()],
      ...(groups?.length ? { groups } : {}),
      ...(mirrors?.length ? { mirrors } : {}),
    };
  }

  /**
   * Persists a change before it is acknowledged: appended to the journal
   * (and fsynced) when `change` says what it was, the whole file otherwise
   * or when the journal has grown past the file.
   */
  async save(state: DesiredState, change?: StateChange): Promise<void> {
    if (change && this.journalBytes < Math.max(this.journalMin, this.fileBytes)) {
      await this.append(state, change);
      return;
    }
    await this.writeFile(state);
  }

  private async append(state: DesiredState, change: StateChange): Promise<void> {
    const rec: Record<string, unknown> = { seq: this.seq + 1 };
    if (change.ports) rec.ports = portsDoc(state.ports);
    if (change.tables) rec.tables = tablesDoc(state.tables);
    if (change.groups) rec.groups = groupsDoc(state.groups ?? []);
    if (change.meters) rec.meters = (state.meters ?? []).map(meterDoc);
    if (change.mirrors) rec.mirrors = (state.mirrors ?? []).map(mirrorDoc);
    if (change.flowLines) rec.apply = change.flowLines;
    else {
      if (change.flows?.put.length) rec.put = change.flows.put.map(flowText);
      if (change.flows?.del.length) rec.del = change.flows.del.map(flowText);
    }
    const line = JSON.stringify(rec) + '\n';
    // Opened per record: an fsync costs far more than the open, and no
    // descriptor outlives the call.
    await mkdir(dirname(this.path), { recursive: true });
    const fh = await open(this.journalPath, 'a', 0o600);
    try {
      await fh.write(line);
      await fh.datasync();
    } catch {
      // The record may be partly written: fold everything into the file instead.
      await fh.close().catch(() => undefined);
      await this.writeFile(state);
      return;
    }
    await fh.close();
    this.seq++;
    this.journalBytes += Buffer.byteLength(line);
  }

  /** Writes the whole state atomically (temp file, fsync, rename, fsync of the directory), then empties the journal. */
  private async writeFile(state: DesiredState): Promise<void> {
    const seq = this.seq + 1;
    const data = serializeState(state, seq);
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.path)}.tmp-${process.pid}-${this.tmpSeq++}`);
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(data, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.hooks.beforeRename?.(tmp);
      await rename(tmp, this.path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    this.seq = seq;
    this.fileBytes = Buffer.byteLength(data);
    // Records up to seq are in the file now; a crash before this truncation only leaves records load() skips.
    if (this.journalBytes > 0 || existsSync(this.journalPath)) {
      const jh = await open(this.journalPath, 'r+');
      try {
        await jh.truncate(0);
        await jh.sync();
      } finally {
        await jh.close();
      }
      this.journalBytes = 0;
    }
  }

  /**
   * Checks that the directory can hold the file (at start, before anything is
   * changed), and that no one else can write it: whoever could would rename
   * their own state over ours, to be replayed into the data plane (auth.ts).
   */
  checkWritable(): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    checkPrivateDir(dir, 'state directory');
    const probe = join(dir, `.${basename(this.path)}.probe-${process.pid}`);
    const fd = openSync(probe, 'w');
    fsyncSync(fd);
    closeSync(fd);
    unlinkSync(probe);
  }
}
