/**
 * The desired state — the daemon's source of truth — and its file.
 *
 * What the switch should be: ports (name, devargs, id, mtu, admin state),
 * table settings and flows. It is replayed into the data plane whenever the
 * data plane (re)connects, and written to the state file on every accepted
 * change, atomically: a temporary file in the same directory, fsync, rename
 * over the old one, fsync of the directory. A crash leaves either the old
 * file or the new one, never a mix.
 *
 * The file is JSON, meant to be readable and, with care, editable:
 *   { "version": 1,
 *     "ports":  [{ "name": "p1", "devargs": "net_tap0,iface=sy0", "id": 1, "adminUp": true, "mtu": 1500 }],
 *     "tables": [{ "id": 0, "name": "classify", "miss": "drop" }],
 *     "flows":  ["table=0,priority=100,ip,in_port=1,actions=output:2"] }
 * Flows are in the add-flows text form with port numbers (not names), so
 * they mean the same thing whatever ports are renamed or deleted.
 *
 * A file that cannot be read back is never overwritten: loading it fails
 * with its path and the position of the fault, and the daemon refuses to
 * start until someone fixes or removes it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FlowMod, TableMiss } from './addon-types';
import { formatFlowMod, FlowSpecError, parseFlow } from '../flowspec';

export interface PortConfig {
  name: string;
  devargs: string;
  id: number;
  /** Requested MTU; absent: the device's default. */
  mtu?: number;
  adminUp: boolean;
}

export interface TableConfig {
  id: number;
  name: string;
  miss: TableMiss;
  maxFlows?: number;
}

export interface DesiredState {
  ports: PortConfig[];
  /** Tables with non-default settings only (default: no name, miss drop). */
  tables: TableConfig[];
  /** Canonical add FlowMods (flowspec's parse form), one per (table, priority, match). */
  flows: FlowMod[];
}

export const STATE_VERSION = 1;

export function emptyState(): DesiredState {
  return { ports: [], tables: [], flows: [] };
}

export function cloneState(s: DesiredState): DesiredState {
  return {
    ports: s.ports.map((p) => ({ ...p })),
    tables: s.tables.map((t) => ({ ...t })),
    flows: s.flows.slice(),
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

export function serializeState(s: DesiredState): string {
  const doc = {
    version: STATE_VERSION,
    ports: s.ports.map((p) => {
      const o: Record<string, unknown> = { name: p.name, devargs: p.devargs, id: p.id, adminUp: p.adminUp };
      if (p.mtu !== undefined) o.mtu = p.mtu;
      return o;
    }),
    tables: s.tables.map((t) => {
      const o: Record<string, unknown> = { id: t.id, name: t.name, miss: t.miss };
      if (t.maxFlows !== undefined) o.maxFlows = t.maxFlows;
      return o;
    }),
    flows: s.flows.map((f) => formatFlowMod(f)),
  };
  return JSON.stringify(doc, null, 2) + '\n';
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
  arr('flows').forEach((f, i) => {
    const w = `flows[${i}]`;
    try {
      state.flows.push(parseFlow(str(f, w)));
    } catch (e) {
      if (e instanceof FlowSpecError) bad(w, e.message);
      throw e;
    }
  });
  return state;
}

// ---------------------------------------------------------------- the file

export interface StateSaver {
  save(state: DesiredState): Promise<void>;
}

export interface StateStoreHooks {
  /** Called with the temporary file written and synced, before the rename (tests). */
  beforeRename?(tmpPath: string): void | Promise<void>;
}

export class StateStore implements StateSaver {
  private seq = 0;

  constructor(
    readonly path: string,
    private readonly hooks: StateStoreHooks = {},
  ) {}

  /** The state in the file; an empty state if there is no file. Throws StateFileError. */
  load(): DesiredState {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new StateFileError(this.path, `cannot read it: ${(e as Error).message}`);
    }
    return deserializeState(text, this.path);
  }

  /** Writes the state atomically (temp file, fsync, rename, fsync of the directory). */
  async save(state: DesiredState): Promise<void> {
    const data = serializeState(state);
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.path)}.tmp-${process.pid}-${this.seq++}`);
    try {
      const fh = await open(tmp, 'w', 0o644);
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
  }

  /** Checks that the directory can hold the file (at start, before anything is changed). */
  checkWritable(): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.${basename(this.path)}.probe-${process.pid}`);
    const fd = openSync(probe, 'w');
    fsyncSync(fd);
    closeSync(fd);
    unlinkSync(probe);
  }
}
