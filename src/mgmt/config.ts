/**
 * Configuration documents: the start-up configuration (switchyard start
 * --config, switchyardd --config) and the declarative configuration of
 * `switchyard config apply` / `config export` (ConfigService). One format,
 * YAML or JSON (JSON is also YAML):
 *
 *   ports:  [{ name: p1, devargs: "net_tap0,iface=sy0", id: 1, mtu: 1500, adminUp: true, nRxq: 1,
 *             vlan: { mode: access, tag: 10 }, nshTag: { spi: 0x123, si: 255, ttl: 63 },
 *             qos: { rate: 100000, burst: 512, queues: [{ queue: 1, rate: 10000 }] } }]   (edge.ts, qos.ts)
 *   tables: [{ id: 0, name: classify, miss: drop, maxFlows: 1000 }]
 *   meters: [{ id: 1, unit: kbps, rate: 100000, burst: 10000, band: drop }]
 *   groups: ["group_id=1,type=select,bucket=weight:1,actions=output:p2,bucket=weight:3,actions=output:p3"]
 *   mirrors: [{ name: m0, src: [p1], dst: [p1], output: p3 }]
 *   flows:  ["table=0,priority=100,in_port=p1,actions=meter:1,output:p2", ...]
 *
 * Only name and devargs are required of a port (id: the lowest free number;
 * mtu and nRxq: the device's default; adminUp: true), only id of a table
 * (name: none, miss: drop, maxFlows: no limit but the switch's), id and
 * rate of a meter (unit: kbps, band: drop, burst: the data plane's
 * default; dscp with band dscp_remark). Groups are in ovs-ofctl add-group
 * text. Flows are flow text. Port names in groups and flows are the
 * document's, and the meters and groups flows name must be in it.
 *
 * At start-up, ports already in the desired state (by name) are left as
 * they are and flows are added (an identical match and priority replaces
 * the entry); start-up flows may start with a command word (modify,
 * delete, ...), as in a flow file. `config apply` instead makes the desired
 * state exactly the document's (Switch.applyConfig).
 *
 * Parsing checks the document's shape and names the path of a fault
 * ("c.yaml: ports[2].mtu: expected an integer 64..65535"; a syntax error
 * gives its line and column). What needs the switch (port names, devargs,
 * flow text) is checked by Switch.applyConfig, naming paths the same way.
 *
 * Exporting writes the desired state in a stable order: ports by number,
 * tables, meters and groups by id, flows by table, then priority (highest first), then text;
 * each port with what was asked of it (mtu and nRxq if set, adminUp only
 * when false), flows in canonical flow text with port names. Applying an
 * export changes nothing.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, stringify } from 'yaml';
import { FLOW_FLAGS, formatActions, formatFlowMod, formatGroup, formatMatch, type PortNames } from '../flowspec';
import type { FlowMod, GroupConfig, PortChange, PortQosConfig, TableMiss } from './addon-types';
import { checkNshTag, checkVlan, nshTagDoc, vlanDoc } from './edge';
import { checkQos, qosDoc } from './qos';
import { checkMeter, meterDoc } from './meters';
import { bondDevargs, bondDoc, checkBond } from './bond';
import { FieldError } from './errors';
import { jsonErrorPosition, type DesiredState, type MeterConfig, type MirrorConfig, type PortConfig, type TableConfig } from './state';
import type { PortRequest, StartupConfig } from './switch';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The encodings of a document: "" (or undefined) when the reader should tell them apart. */
export type ConfigFormat = 'yaml' | 'json';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TOP_KEYS = ['ports', 'tables', 'meters', 'groups', 'mirrors', 'flows'];
const MIRROR_KEYS = ['name', 'src', 'dst', 'output'];
const PORT_KEYS = ['name', 'devargs', 'id', 'mtu', 'adminUp', 'nRxq', 'bond', 'vlan', 'nshTag', 'qos'];
const TABLE_KEYS = ['id', 'name', 'miss', 'maxFlows'];

/** "FORMAT" or "" from a request's format field; throws ConfigError for anything else. */
export function checkFormat(format: string | undefined, field = 'format'): ConfigFormat | '' {
  const f = (format ?? '').trim().toLowerCase();
  if (f === '' || f === 'yaml' || f === 'json') return f as ConfigFormat | '';
  if (f === 'yml') return 'yaml';
  throw new ConfigError(`${field}: '${format}' is not a document format (yaml or json)`);
}

function lineColumn(s: string, pos: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < pos && i < s.length; i++) {
    if (s[i] === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

/** The text as a value; a syntax error names its line and column. */
function readDocument(text: string, prefix: string, format: ConfigFormat | ''): unknown {
  const looksJson = /^\s*[{[]/.test(text);
  if (format === 'json' || (format === '' && looksJson)) {
    try {
      return JSON.parse(text);
    } catch {
      // "" and not JSON after all: YAML's flow style ({ports: []}) starts the same way
      if (format === 'json') {
        let pos = jsonErrorPosition(text);
        if (pos < 0) pos = 0;
        const { line, column } = lineColumn(text, pos);
        const found = pos >= text.length ? 'the end of the document' : JSON.stringify(text[pos]);
        throw new ConfigError(`${prefix}line ${line}, column ${column}: invalid JSON: unexpected ${found}`);
      }
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const e = doc.errors[0];
  if (e) {
    const problem = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    const at = e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : '';
    throw new ConfigError(`${prefix}${at}invalid YAML: ${problem}`);
  }
  try {
    return doc.toJS();
  } catch (err) {
    throw new ConfigError(`${prefix}invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * Parses a document (`source` names it in messages; "" for none) into
 * ports, tables and flow lines. Throws ConfigError naming the path of the
 * first fault.
 */
export function parseConfig(text: string, source: string, format: ConfigFormat | '' = ''): StartupConfig {
  const prefix = source ? `${source}: ` : '';
  const doc = readDocument(text, prefix, format);
  const out: StartupConfig = { ports: [], tables: [], flows: [] };
  if (doc === null || doc === undefined) return out;
  const bad = (where: string, what: string): never => {
    throw new ConfigError(`${prefix}${where}: ${what}`);
  };
  if (!isObject(doc)) bad('top level', 'expected a map with ports, tables and flows');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!TOP_KEYS.includes(k)) bad(k, `unknown key (expected ${TOP_KEYS.join(', ')})`);
  }
  const list = (k: string): unknown[] => {
    const v = d[k] ?? [];
    if (!Array.isArray(v)) bad(k, 'expected a list');
    return v as unknown[];
  };
  const optInt = (v: unknown, where: string, min: number, max: number): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(where, `expected an integer ${min}..${max}`);
    return v as number;
  };
  const unknownKeys = (o: Record<string, unknown>, where: string, keys: string[]) => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) bad(`${where}.${k}`, `unknown key (expected ${keys.join(', ')})`);
  };
  list('ports').forEach((p, i) => {
    const w = `ports[${i}]`;
    if (!isObject(p)) bad(w, 'expected a map with name and devargs');
    const o = p as Record<string, unknown>;
    unknownKeys(o, w, PORT_KEYS);
    if (typeof o.name !== 'string' || o.name === '') bad(`${w}.name`, 'expected a string');
    // A bond port's devargs name its bonding device, net_bonding_<name> unless given.
    if (o.bond !== undefined && (o.devargs === undefined || o.devargs === '')) o.devargs = bondDevargs(o.name as string);
    if (typeof o.devargs !== 'string' || o.devargs === '') bad(`${w}.devargs`, 'expected a string');
    if (o.adminUp !== undefined && typeof o.adminUp !== 'boolean') bad(`${w}.adminUp`, 'expected true or false');
    const req: PortRequest = { name: o.name as string, devargs: o.devargs as string };
    if (o.bond !== undefined) {
      try {
        req.bond = checkBond(o.bond, `${w}.bond`);
      } catch (e) {
        if (e instanceof FieldError) bad(e.field, e.problem);
        throw e;
      }
    }
    const id = optInt(o.id, `${w}.id`, 1, 0xffffff00);
    const mtu = optInt(o.mtu, `${w}.mtu`, 64, 65535);
    const nRxq = optInt(o.nRxq, `${w}.nRxq`, 1, 16);
    if (id !== undefined) req.id = id;
    if (mtu !== undefined) req.mtu = mtu;
    if (nRxq !== undefined) req.nRxq = nRxq;
    if (o.adminUp !== undefined) req.adminUp = o.adminUp as boolean;
    try {
      // vlan: { mode: access, tag: 10 } | { mode: trunk, trunks: "10,20-30", native: 10 }
      if (o.vlan !== undefined) {
        const v = checkVlan(o.vlan, `${w}.vlan`);
        if (v) req.vlan = v;
      }
      // nshTag: { spi: 0x123, si: 255, ttl: 63, context: [c1, c2, c3, c4] }
      if (o.nshTag !== undefined) req.nshTag = checkNshTag(o.nshTag, `${w}.nshTag`);
      if (o.qos !== undefined) {
        const q = checkQos(o.qos, `${w}.qos`);
        if (q) req.qos = q;
      }
    } catch (e) {
      if (e instanceof FieldError) bad(e.field, e.problem);
      throw e;
    }
    out.ports.push(req);
  });
  list('tables').forEach((t, i) => {
    const w = `tables[${i}]`;
    if (!isObject(t)) bad(w, 'expected a map with id, name, miss');
    const o = t as Record<string, unknown>;
    unknownKeys(o, w, TABLE_KEYS);
    const id = optInt(o.id, `${w}.id`, 0, 254);
    if (id === undefined) bad(`${w}.id`, 'missing');
    const miss = o.miss ?? 'drop';
    if (!['drop', 'continue', 'controller'].includes(miss as string)) bad(`${w}.miss`, 'expected drop, continue or controller');
    if (o.name !== undefined && o.name !== null && typeof o.name !== 'string') bad(`${w}.name`, 'expected a string');
    const table: TableConfig = { id: id as number, name: (o.name as string | undefined) ?? '', miss: miss as TableMiss };
    const maxFlows = optInt(o.maxFlows, `${w}.maxFlows`, 0, 0xffffffff);
    if (maxFlows !== undefined) table.maxFlows = maxFlows;
    out.tables.push(table);
  });
  list('meters').forEach((m, i) => {
    try {
      (out.meters ??= []).push(checkMeter(m, `meters[${i}]`));
    } catch (e) {
      if (e instanceof FieldError) bad(e.field, e.problem);
      throw e;
    }
  });
  list('groups').forEach((g, i) => {
    if (typeof g !== 'string') bad(`groups[${i}]`, "expected a string in add-group syntax ('group_id=1,type=all,bucket=actions=output:p2')");
    (out.groups ??= []).push(g as string);
  });
  list('mirrors').forEach((m, i) => {
    const w = `mirrors[${i}]`;
    if (!isObject(m)) bad(w, 'expected a map with name, src, dst and output');
    const o = m as Record<string, unknown>;
    unknownKeys(o, w, MIRROR_KEYS);
    if (typeof o.name !== 'string' || o.name === '') bad(`${w}.name`, 'expected a string');
    const port = (v: unknown, where: string): string => {
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v);
      if (typeof v !== 'string' || v === '') bad(where, 'expected a port name or number');
      return v as string;
    };
    const ports = (k: 'src' | 'dst'): string[] => {
      const v = o[k] ?? [];
      if (!Array.isArray(v)) bad(`${w}.${k}`, 'expected a list of ports');
      return (v as unknown[]).map((x, j) => port(x, `${w}.${k}[${j}]`));
    };
    if (o.output === undefined) bad(`${w}.output`, 'missing: the port the copies go to');
    (out.mirrors ??= []).push({ name: o.name as string, output: port(o.output, `${w}.output`), src: ports('src'), dst: ports('dst') });
  });
  list('flows').forEach((f, i) => {
    if (typeof f !== 'string') bad(`flows[${i}]`, 'expected a string of flow text');
    out.flows.push(f as string);
  });
  return out;
}

export function loadConfigFile(path: string): StartupConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseConfig(text, path, /\.json$/i.test(path) ? 'json' : '');
}

// ---------------------------------------------------------------- document items and export

/** A port as a document writes it: what was asked of it, defaults left out. */
export function portItem(p: PortConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { name: p.name, devargs: p.devargs, id: p.id };
  if (p.mtu !== undefined) o.mtu = p.mtu;
  if (!p.adminUp) o.adminUp = false;
  if (p.nRxq !== undefined) o.nRxq = p.nRxq;
  if (p.bond) o.bond = bondDoc(p.bond);
  if (p.vlan) o.vlan = vlanDoc(p.vlan);
  if (p.nshTag) o.nshTag = nshTagDoc(p.nshTag);
  if (p.qos) o.qos = qosDoc(p.qos);
  return o;
}

/** A table's settings as a document writes them. */
export function tableItem(t: TableConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { id: t.id, name: t.name, miss: t.miss };
  if (t.maxFlows) o.maxFlows = t.maxFlows;
  return o;
}

/** An item on one line, in document syntax (a YAML flow map): `{ name: p1, devargs: net_ring0, id: 1 }`. */
export function itemText(o: Record<string, unknown>): string {
  return stringify(o, { collectionStyle: 'flow', lineWidth: 0 }).trim();
}

/** Port name lookups (both ways) of a list of ports, and of mirrors (for mirror:NAME in flows). */
export function portNamesOf(ports: readonly PortConfig[], mirrors: readonly { name: string; id: number }[] = []): Required<PortNames> {
  const byName = new Map(ports.map((p) => [p.name, p.id]));
  const byId = new Map(ports.map((p) => [p.id, p.name]));
  const mirByName = new Map(mirrors.map((m) => [m.name, m.id]));
  const mirById = new Map(mirrors.map((m) => [m.id, m.name]));
  return { resolvePort: (n) => byName.get(n), portName: (id) => byId.get(id), resolveMirror: (n) => mirByName.get(n), mirrorName: (id) => mirById.get(id) };
}

/**
 * A flow's texts, from one formatting of its match and actions: its
 * identity (`table=0,priority=100,icmp,in_port=p1`), the rest (cookie,
 * timeouts, flags, `actions=...`) and the whole in formatFlowMod's words.
 */
export function flowTexts(f: FlowMod, names: PortNames): { name: string; body: string; text: string } {
  const m = formatMatch(f.match, names);
  const extra: string[] = [];
  if (f.cookie) extra.push(`cookie=0x${f.cookie.toString(16)}`);
  if (f.idleTimeout) extra.push(`idle_timeout=${f.idleTimeout}`);
  if (f.hardTimeout) extra.push(`hard_timeout=${f.hardTimeout}`);
  for (const [word, bit] of FLOW_FLAGS) if ((f.flags ?? 0) & bit) extra.push(word);
  const head = `table=${f.table},priority=${f.priority}`;
  const actions = `actions=${formatActions(f.actions, names)}`;
  return {
    name: m ? `${head},${m}` : head,
    body: [...extra, actions].join(','),
    text: [head, ...extra, ...(m ? [m] : []), actions].join(','),
  };
}

/** A mirror as a document writes it: ports by name, empty lists left out. */
export function mirrorItem(m: MirrorConfig, names: PortNames): Record<string, unknown> {
  const name = (id: number) => names.portName?.(id) ?? id;
  const o: Record<string, unknown> = { name: m.name };
  if (m.src.length) o.src = m.src.map(name);
  if (m.dst.length) o.dst = m.dst.map(name);
  o.output = name(m.outPort);
  return o;
}

/** The document form of a desired state (ports, tables, meters, groups and mirrors if any, and flows in the stable order). */
export function configDocument(state: DesiredState): {
  ports: Record<string, unknown>[];
  tables: Record<string, unknown>[];
  meters?: Record<string, unknown>[];
  groups?: string[];
  mirrors?: Record<string, unknown>[];
  flows: string[];
} {
  const names = portNamesOf(state.ports, state.mirrors);
  const flows = state.flows.map((f) => ({ f, text: formatFlowMod(f, names) }));
  flows.sort((a, b) => a.f.table - b.f.table || b.f.priority - a.f.priority || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return {
    ports: [...state.ports].sort((a, b) => a.id - b.id).map(portItem),
    tables: [...state.tables].sort((a, b) => a.id - b.id).map(tableItem),
    ...(state.meters?.length ? { meters: [...state.meters].sort((a, b) => a.id - b.id).map(meterDoc) } : {}),
    ...(state.groups?.length ? { groups: [...state.groups].sort((a, b) => a.id - b.id).map((g) => formatGroup(g, names)) } : {}),
    ...(state.mirrors?.length ? { mirrors: [...state.mirrors].sort((a, b) => a.id - b.id).map((m) => mirrorItem(m, names)) } : {}),
    flows: flows.map((x) => x.text),
  };
}

/** The desired state as a document (YAML by default). */
export function exportConfig(state: DesiredState, format: ConfigFormat = 'yaml'): string {
  const doc = configDocument(state);
  if (format === 'json') return JSON.stringify(doc, null, 2) + '\n';
  // no folding: a flow stays on its line whatever its length
  return stringify(doc, { lineWidth: 0 });
}

// ---------------------------------------------------------------- applying (Switch.applyConfig)

/**
 * The MTU of a device attached without one: DPDK 22.11 configures every
 * ethdev with RTE_ETHER_MTU unless told otherwise. A document that drops a
 * port's mtu sets it back to this.
 */
export const DEVICE_DEFAULT_MTU = 1500;

/** The device a port's devargs attach (`net_ring0`, a PCI address): one port per device. */
export function deviceName(devargs: string): string {
  return devargs.split(',')[0].trim();
}

/**
 * net_af_packet takes exactly as many rx queues as its devargs open sockets
 * (qpairs=), so its queue count has no default to go back to.
 */
export function isAfPacket(devargs: string): boolean {
  return /^net_af_packet/.test(devargs.trim());
}

/** One item of the difference, as ConfigChange carries it. */
export interface ConfigChangeItem {
  kind: 'port' | 'table' | 'meter' | 'group' | 'mirror' | 'flow';
  op: 'add' | 'delete' | 'modify';
  /** Port name, table, meter or group id, or the flow's table, priority and match. */
  name: string;
  /** The item as it is ("" for add) and as it will be ("" for delete), in document syntax. */
  before: string;
  after: string;
}

export interface ConfigApplyResult {
  /** False for a dry run and when nothing differs. */
  applied: boolean;
  changes: ConfigChangeItem[];
  /** One line per change: "+ port p3 net_ring0", "- flow ...", "~ table 1 miss drop -> continue". */
  diff: string[];
}

/**
 * What applying a document does, in the order it is done. Each data-plane
 * step carries the document path that errors name (`ports[2]`, `flows[12]`).
 */
export interface ConfigPlan {
  /** Table settings, except limits that tighten: the flows may have to go first. */
  tablesBefore: { path: string; want: TableConfig; old: TableConfig }[];
  portDeletes: PortConfig[];
  /** Attached administratively down; brought up after the flows (portUps). */
  portAdds: { path: string; port: PortConfig }[];
  /** MTU, rx queues, going down. */
  portMods: { path: string; old: PortConfig; change: PortChange }[];
  /** Strict deletes, strict modifies and adds, with each one's identity, undoing mod and document path. */
  flowMods: FlowMod[];
  flowKeys: string[];
  flowInverse: FlowMod[];
  flowPaths: string[];
  /** Limits that tighten (a table that must shed flows first). */
  tablesAfter: { path: string; want: TableConfig; old: TableConfig }[];
  portUps: { path: string; id: number }[];
  /** Egress QoS set after the ports are added or changed (want undefined: none). */
  portQos: { path: string; id: number; want?: PortQosConfig; old?: PortQosConfig }[];
  /** Meters added or changed before the flows, and deleted after them. */
  metersBefore: { path: string; want: MeterConfig; old?: MeterConfig }[];
  metersAfter: MeterConfig[];
  /** Groups added or changed after the ports and before the flows, and deleted after the flows. */
  groupsBefore: { path: string; want: GroupConfig; old?: GroupConfig }[];
  groupsAfter: GroupConfig[];
  /** Mirrors set (added or changed) after the ports and before the flows, and deleted after the flows. */
  mirrorsBefore: { path: string; want: MirrorConfig; old?: MirrorConfig }[];
  mirrorsAfter: MirrorConfig[];
  /** The desired ports, tables, meters and groups afterwards. */
  ports: PortConfig[];
  tables: TableConfig[];
  meters: MeterConfig[];
  groups: GroupConfig[];
  mirrors: MirrorConfig[];
  changes: ConfigChangeItem[];
  diff: string[];
}

// ---------------------------------------------------------------- start-up options

/** NAME=DEVARGS (the first '=' splits: devargs have their own). */
export function parsePortOption(s: string): PortRequest {
  const eq = s.indexOf('=');
  if (eq <= 0 || eq === s.length - 1) throw new ConfigError(`--port '${s}': expected NAME=DEVARGS, e.g. p1=net_tap0,iface=sy0`);
  return { name: s.slice(0, eq), devargs: s.slice(eq + 1) };
}

/** The data plane's lcores when --lcores is not given: EAL `-l 0,1` (main lcore 0, one PMD lcore on CPU 1). */
export const DEFAULT_LCORES = '0,1';

const CORE_SET = String.raw`(?:\d+(?:-\d+)?|\(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*\))`;
const LCORE_ITEM = `${CORE_SET}(?:@${CORE_SET})?`;
const LCORES_RE = new RegExp(`^${LCORE_ITEM}(?:,${LCORE_ITEM})*$`);

/**
 * Why an EAL --lcores list is refused, or undefined if it reads well:
 * LCORES[@CPUS] items separated by commas, each side a number, a range
 * (1-3) or a group in parentheses ((1,2) or (0-2)@1). The first lcore is
 * the main one; every other one is a poll-mode (PMD) lcore. EAL checks the
 * rest (CPUs that exist) when the data plane starts.
 */
export function checkLcores(list: string): string | undefined {
  const usage = `expected an EAL lcore list such as 0,1 or 0-2 or 0@0,1@1,2@1 (LCORES[@CPUS],...; groups in parentheses: (1,2)@1)`;
  if (!LCORES_RE.test(list)) return `--lcores '${list}': ${usage}`;
  for (const m of list.matchAll(/(\d+)-(\d+)/g)) {
    if (Number(m[1]) > Number(m[2])) return `--lcores '${list}': the range ${m[0]} runs backwards`;
  }
  for (const n of list.match(/\d+/g) ?? []) {
    if (Number(n) > 1023) return `--lcores '${list}': ${n} is beyond the highest lcore or CPU number (1023)`;
  }
  return undefined;
}
