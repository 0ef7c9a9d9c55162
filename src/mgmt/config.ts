/**
 * The start-up configuration file (switchyard start --config, switchyardd
 * --config): JSON or YAML,
 *
 *   ports:  [{ name: p1, devargs: "net_tap0,iface=sy0", id: 1, mtu: 1500, adminUp: true, nRxq: 1 }]
 *   tables: [{ id: 0, name: classify, miss: drop }]
 *   flows:  ["table=0,priority=100,in_port=p1,actions=output:p2", ...]
 *
 * Ports already in the desired state (by name) are left as they are; flows
 * are added (an identical match and priority replaces the entry). Flows may
 * start with a command word (modify, delete, ...), as in a flow file.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { TableMiss } from './addon-types';
import type { PortRequest, StartupConfig } from './switch';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseConfig(text: string, source: string): StartupConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${source}: ${(e as Error).message.split('\n')[0]}`);
  }
  const out: StartupConfig = { ports: [], tables: [], flows: [] };
  if (doc === null || doc === undefined) return out;
  const bad = (where: string, what: string): never => {
    throw new ConfigError(`${source}: ${where}: ${what}`);
  };
  if (!isObject(doc)) bad('top level', 'expected a map with ports, tables and flows');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['ports', 'tables', 'flows'].includes(k)) bad(k, 'unknown key (expected ports, tables, flows)');
  const list = (k: string): unknown[] => {
    const v = d[k] ?? [];
    if (!Array.isArray(v)) bad(k, 'expected a list');
    return v as unknown[];
  };
  const optInt = (v: unknown, where: string, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(where, `expected an integer ${min}..${max}`);
    return v as number;
  };
  list('ports').forEach((p, i) => {
    const w = `ports[${i}]`;
    if (!isObject(p)) bad(w, 'expected a map with name and devargs');
    const o = p as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name === '') bad(`${w}.name`, 'expected a string');
    if (typeof o.devargs !== 'string' || o.devargs === '') bad(`${w}.devargs`, 'expected a string');
    if (o.adminUp !== undefined && typeof o.adminUp !== 'boolean') bad(`${w}.adminUp`, 'expected true or false');
    const req: PortRequest = { name: o.name as string, devargs: o.devargs as string };
    const id = optInt(o.id, `${w}.id`, 1, 0xffffff00);
    const mtu = optInt(o.mtu, `${w}.mtu`, 64, 65535);
    const nRxq = optInt(o.nRxq, `${w}.nRxq`, 1, 16);
    if (id !== undefined) req.id = id;
    if (mtu !== undefined) req.mtu = mtu;
    if (nRxq !== undefined) req.nRxq = nRxq;
    if (o.adminUp !== undefined) req.adminUp = o.adminUp as boolean;
    out.ports.push(req);
  });
  list('tables').forEach((t, i) => {
    const w = `tables[${i}]`;
    if (!isObject(t)) bad(w, 'expected a map with id, name, miss');
    const o = t as Record<string, unknown>;
    const id = optInt(o.id, `${w}.id`, 0, 254);
    if (id === undefined) bad(`${w}.id`, 'missing');
    const miss = o.miss ?? 'drop';
    if (!['drop', 'continue', 'controller'].includes(miss as string)) bad(`${w}.miss`, 'expected drop, continue or controller');
    if (o.name !== undefined && typeof o.name !== 'string') bad(`${w}.name`, 'expected a string');
    out.tables.push({ id: id as number, name: (o.name as string | undefined) ?? '', miss: miss as TableMiss });
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
  return parseConfig(text, path);
}

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

