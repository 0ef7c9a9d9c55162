/**
 * The switch as the daemon manages it: the desired state, the data plane it
 * is pushed to, and every operation of the API.
 *
 * Rules
 *   - A change is accepted only if the data plane accepted it: it is applied
 *     to the data plane first, then persisted, then the RPC returns. If
 *     persisting fails the data plane is rolled back and the caller gets
 *     INTERNAL.
 *   - Changes run one at a time (a promise chain), so the desired state, the
 *     data plane and the file never see two interleaved.
 *   - Input is checked before the data plane is asked for: a malformed flow
 *     is INVALID_ARGUMENT, an unknown port NOT_FOUND, a duplicate port
 *     ALREADY_EXISTS, whether or not the data plane is connected; anything
 *     that needs the data plane while it is not connected is UNAVAILABLE.
 *   - When a data plane connects (attach), it is reconciled with the desired
 *     state (reconcile.ts) before any change or query is served.
 */
import { EventEmitter } from 'node:events';
import { status as Status } from '@grpc/grpc-js';
import type {
  CookieStats,
  DataplaneClient,
  DpEvent,
  DpInfo,
  DpStats,
  PmdStats,
  FlowEntry,
  FlowMod,
  PortDesc,
  PortStats,
  TableDesc,
  TableMiss,
  StatsSnapshot,
} from './addon-types';
import { TABLE_ALL } from './addon-types';
import {
  entryToFlowMod,
  flowKey,
  FlowParts,
  parseFlowLineKeyed,
  parseFlowParts,
  PortNames,
  RESERVED_PORTS,
  sameFlow,
} from '../flowspec';
import { ApiError, inBatch, isDpError } from './errors';
import { FlowSet } from './flowtable';
import type { Logger } from './log';
import { diffFlows, isEmptyPlan, planReconcile, ReconcilePlan } from './reconcile';
import { DesiredState, PortConfig, StateChange, StateSaver, TableConfig } from './state';

export type DpStateName = 'disconnected' | 'launching' | 'connecting' | 'reconciling' | 'connected' | 'stopped';

export interface PortRequest {
  name: string;
  devargs: string;
  id?: number;
  mtu?: number;
  adminUp?: boolean;
  /** Rx queues, 1..16 (default 1). */
  nRxq?: number;
}

/** Ports, tables and flows to add once, when the data plane first connects (--port, --flow, --config). */
export interface StartupConfig {
  ports: PortRequest[];
  tables: TableConfig[];
  flows: string[];
}

export interface NamedPortStats extends PortStats {
  name: string;
}

const PORT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,30}$/;
const RESERVED_NAMES = new Set([...Object.keys(RESERVED_PORTS), 'normal', 'drop', 'any', 'none', 'table', 'actions']);

/** Checks a port name: it must read unambiguously in flow text. */
export function checkPortName(name: string): void {
  if (!PORT_NAME.test(name)) {
    throw new ApiError(
      Status.INVALID_ARGUMENT,
      `port name '${name}' is not valid: 1 to 31 characters, a letter or '_' first, then letters, digits, '_', '-' or '.'`,
    );
  }
  if (RESERVED_NAMES.has(name.toLowerCase())) {
    throw new ApiError(Status.INVALID_ARGUMENT, `port name '${name}' is reserved in flow syntax`);
  }
}

function checkDevargs(devargs: string): void {
  if (devargs.trim() === '' || devargs.length > 255 || /[\n\r\0]/.test(devargs)) {
    throw new ApiError(Status.INVALID_ARGUMENT, `devargs '${devargs}' is not valid: 1 to 255 characters on one line`);
  }
}

/**
 * Most flow-mods in one request: the data plane's SY_FLOW_BATCH_MAX (a batch
 * is one FLOW_MOD message, all or nothing).  Checked before parsing; the
 * daemon refuses to start if the addon was built with another value.
 */
export const FLOW_BATCH_MAX = 131072;

function checkBatch(n: number, field: string): void {
  if (n > FLOW_BATCH_MAX) {
    throw new ApiError(Status.INVALID_ARGUMENT, `${field}: ${n} in one request, at most ${FLOW_BATCH_MAX} (split the batch)`);
  }
}

/** Rx queues of a port: 1..PORT_RXQ_MAX (SY_PORT_RXQ_MAX). */
export const PORT_RXQ_MAX = 16;

/** An optional port number, MTU or rx queue count from the wire: in range, or INVALID_ARGUMENT naming the field. */
function checkPortNumbers(req: { id?: number; mtu?: number; nRxq?: number }): void {
  if (req.nRxq !== undefined && (!Number.isInteger(req.nRxq) || req.nRxq < 1 || req.nRxq > PORT_RXQ_MAX)) {
    throw new ApiError(Status.INVALID_ARGUMENT, `n_rxq ${req.nRxq}: out of range 1..${PORT_RXQ_MAX} (rx queues of the port)`);
  }
  if (req.id !== undefined && (!Number.isInteger(req.id) || req.id < 1 || req.id > 0xffffff00)) {
    throw new ApiError(Status.INVALID_ARGUMENT, `id ${req.id}: port numbers are 1..4294967040`);
  }
  if (req.mtu !== undefined && (!Number.isInteger(req.mtu) || req.mtu < 64 || req.mtu > 65535)) {
    throw new ApiError(Status.INVALID_ARGUMENT, `mtu ${req.mtu}: out of range 64..65535`);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Switch extends EventEmitter {
  /** Ports and table settings of the desired state; its flows are in `flows`. */
  private desired: Pick<DesiredState, 'ports' | 'tables'>;
  /** The desired flows, changed in place and put back if a change is not accepted. */
  private flows: FlowSet;
  dpState: DpStateName = 'disconnected';
  dpInfo: DpInfo | null = null;
  lastError = '';
  /** Problems met replaying the state into the data plane, cleared on the next attach. */
  replayWarnings: string[] = [];

  private dp: DataplaneClient | null = null;
  private attaching = false;
  private chain: Promise<void> = Promise.resolve();
  private startup: StartupConfig | null;

  constructor(
    state: DesiredState,
    private readonly saver: StateSaver,
    private readonly log: Logger,
    startup?: StartupConfig,
  ) {
    super();
    this.desired = { ports: state.ports, tables: state.tables };
    this.flows = new FlowSet(state.flows);
    this.startup = startup && (startup.ports.length || startup.flows.length || startup.tables.length) ? startup : null;
  }

  // ---------------------------------------------------------------- plumbing

  /** Runs fn after every change before it has finished. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private requireDp(): DataplaneClient {
    if (this.dp && (this.dpState === 'connected' || this.attaching)) return this.dp;
    const why = this.lastError ? `: ${this.lastError}` : '';
    throw new ApiError(Status.UNAVAILABLE, `the data plane is not connected (${this.dpState}${why})`);
  }

  get connected(): boolean {
    return this.dpState === 'connected';
  }

  setDpState(s: DpStateName, error?: string): void {
    const was = this.dpState;
    this.dpState = s;
    if (error !== undefined) this.lastError = error;
    if (s === 'connected') this.lastError = '';
    if (was !== s) this.emit('state', s);
    if (was === 'connected' && s !== 'connected') this.emit('unready');
  }

  /** The desired state (its flow list is built when first read after a change). */
  get state(): DesiredState {
    const flows = this.flows;
    return {
      ports: this.desired.ports,
      tables: this.desired.tables,
      get flows() {
        return flows.list() as FlowMod[];
      },
    };
  }

  /** A copy of the ports and tables to change, with the current flows. */
  private draft(): DesiredState {
    const flows = this.flows;
    return {
      ports: this.desired.ports.map((p) => ({ ...p })),
      tables: this.desired.tables.map((t) => ({ ...t })),
      get flows() {
        return flows.list() as FlowMod[];
      },
    };
  }

  /**
   * Persists `next` (its ports and tables; the flows are already changed in
   * place), journaling `change`. On failure runs `undo` (the data plane and
   * the flows) and throws INTERNAL.
   */
  private async commit(next: DesiredState, change: StateChange | undefined, undo: () => Promise<unknown>): Promise<void> {
    try {
      await this.saver.save(next, change);
    } catch (e) {
      this.log.error(`cannot persist the desired state: ${errText(e)}; rolling the change back`);
      try {
        await undo();
      } catch (u) {
        this.log.error(`rollback failed: ${errText(u)}; the data plane differs from the desired state until it reconnects`);
      }
      throw new ApiError(Status.INTERNAL, `cannot persist the state (${errText(e)}); the change was rolled back`);
    }
    this.desired = { ports: next.ports, tables: next.tables };
  }

  /** Name lookups for flow text, from the desired ports. */
  portNames(): Required<PortNames> {
    const byName = new Map(this.desired.ports.map((p) => [p.name, p.id]));
    const byId = new Map(this.desired.ports.map((p) => [p.id, p.name]));
    return { resolvePort: (n) => byName.get(n), portName: (id) => byId.get(id) };
  }

  /** A port by name or number ("p1", "3"); NOT_FOUND otherwise. */
  findPort(ref: string): PortConfig {
    const r = ref.trim();
    if (r === '') throw new ApiError(Status.INVALID_ARGUMENT, 'port: a port name or number is required');
    const p = /^[0-9]+$/.test(r) ? this.desired.ports.find((q) => q.id === Number(r)) : this.desired.ports.find((q) => q.name === r);
    if (!p) throw new ApiError(Status.NOT_FOUND, `port '${ref}' does not exist`);
    return p;
  }

  // ---------------------------------------------------------------- data plane lifecycle

  /**
   * A data plane has connected: reconcile it with the desired state, apply
   * the startup configuration the first time, then serve. Rejects if the
   * data plane disconnects meanwhile (the supervisor retries); replay
   * problems of single items are logged and kept in replayWarnings.
   */
  attach(dp: DataplaneClient, info: DpInfo): Promise<void> {
    return this.serialize(async () => {
      this.dp = dp;
      this.dpInfo = info;
      this.attaching = true;
      this.setDpState('reconciling');
      try {
        await this.reconcile(dp);
        if (this.startup) {
          const s = this.startup;
          this.startup = null;
          try {
            await this.applyStartup(s);
          } catch (e) {
            this.emit('fatal', new Error(`startup configuration failed: ${errText(e)}`));
            throw e;
          }
        }
      } catch (e) {
        this.dp = null;
        this.setDpState('disconnected', errText(e));
        throw e;
      } finally {
        this.attaching = false;
      }
      this.setDpState('connected');
      this.emit('ready');
    });
  }

  /** The data plane went away (or is being replaced). */
  detach(reason: string): void {
    this.dp = null;
    this.setDpState('disconnected', reason);
  }

  private async reconcile(dp: DataplaneClient): Promise<void> {
    this.replayWarnings = [];
    const [ports, tables, entries] = await Promise.all([dp.portList(), dp.tableList(), dp.flowDump()]);
    // The dump as it is: diffing reads only identities and bodies, which
    // tolerate the addon's value forms (no canonical copy of a million entries).
    const flows = new Map<string, FlowEntry>();
    for (const e of entries) {
      try {
        flows.set(flowKey(e), e);
      } catch (err) {
        this.warn(`replay: cannot read a flow of the data plane (table ${e.table}, priority ${e.priority}): ${errText(err)}`);
      }
    }
    const fresh = ports.length === 0 && entries.length === 0;
    const plan = planReconcile(this.state, { ports, tables, flows }, fresh, this.flows.byKey());
    if (isEmptyPlan(plan)) {
      this.log.info('data plane matches the desired state');
      return;
    }
    this.log.info(
      `reconciling: ${plan.tableMods.length} table(s), ${plan.portDeletes.length} port deletion(s), ` +
        `${plan.portAdds.length} port addition(s), ${plan.portMods.length} port change(s), ${plan.flowMods.length} flow-mod(s)` +
        (plan.expired.length ? `, ${plan.expired.length} expired flow(s) dropped` : ''),
    );
    await this.execute(dp, plan);
    if (plan.expired.length) {
      try {
        await this.forget(plan.expired);
      } catch (e) {
        this.warn(`cannot persist the removal of expired flows: ${errText(e)}`);
      }
    }
  }

  /** Removes flows that left the data plane by themselves (timeouts) from the desired state. */
  private async forget(keys: readonly string[]): Promise<void> {
    const mods: FlowMod[] = [];
    for (const k of keys) {
      const f = this.flows.get(k);
      if (f) mods.push({ command: 'delete_strict', table: f.table, priority: f.priority, match: f.match, actions: [] });
    }
    if (!mods.length) return;
    const applied = this.flows.apply(mods, keys);
    try {
      await this.saver.save(this.state, { flows: applied.change });
    } catch (e) {
      applied.undo();
      throw e;
    }
  }

  private warn(msg: string): void {
    this.log.warn(msg);
    this.replayWarnings.push(msg);
  }

  /** Runs one replay step; a lost connection aborts, anything else is logged and skipped. */
  private async step(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      if (isDpError(e) && e.code === 'DISCONNECTED') throw e;
      this.warn(`replay: ${what}: ${errText(e)}`);
      return false;
    }
  }

  private async execute(dp: DataplaneClient, plan: ReconcilePlan): Promise<void> {
    for (const t of plan.tableMods) await this.step(`table ${t.id}`, () => dp.tableMod(t));
    for (const id of plan.portDeletes) await this.step(`deleting port ${id}`, () => dp.portDel(id));
    const failed = new Set<number>();
    for (const req of plan.portAdds) {
      if (!(await this.step(`adding port ${req.name}`, () => dp.portAdd(req)))) failed.add(req.id!);
    }
    for (const m of plan.portMods) await this.step(`changing port ${m.id}`, () => dp.portMod(m.id, m.change));
    let mods = plan.flowMods;
    // One batch; if the data plane refuses an item, leave that one out and retry the rest.
    while (mods.length) {
      try {
        await dp.flowMod(mods);
        break;
      } catch (e) {
        if (isDpError(e) && e.code === 'DISCONNECTED') throw e;
        const i = isDpError(e) ? e.index : -1;
        if (i < 0 || i >= mods.length) {
          this.warn(`replay: flows refused: ${errText(e)}`);
          break;
        }
        this.warn(`replay: flow refused and left out: ${errText(e)}`);
        mods = mods.filter((_, j) => j !== i);
      }
    }
    await dp.barrier();
    for (const id of plan.portUps) {
      if (!failed.has(id)) await this.step(`bringing port ${id} up`, () => dp.portMod(id, { adminUp: true }));
    }
  }

  private async applyStartup(s: StartupConfig): Promise<void> {
    for (const t of s.tables) await this.doUpdateTable(t);
    for (const p of s.ports) {
      const have = this.desired.ports.find((q) => q.name === p.name);
      if (have) {
        if (have.devargs !== p.devargs) {
          this.log.warn(`port ${p.name} is already configured with devargs '${have.devargs}'; keeping it (not '${p.devargs}')`);
        }
        continue;
      }
      checkPortName(p.name);
      checkDevargs(p.devargs);
      await this.doAddPort(p);
      this.log.info(`added port ${p.name} (${p.devargs})`);
    }
    if (s.flows.length) {
      const names = this.portNames();
      const parsed = s.flows.map((text, i) => {
        try {
          return parseFlowLineKeyed(text, names);
        } catch (e) {
          throw inBatch(e, i, s.flows.length);
        }
      });
      // The same --flow/--config flows come with every start of the daemon.
      // An add the desired state already holds as it is changes nothing, and
      // is left out: replacing the entry would restart its age and timeouts.
      const todo = parsed.filter(({ mod, key }) => {
        const have = mod.command === 'add' ? this.flows.get(key) : undefined;
        return !(have && sameFlow(have, mod));
      });
      if (!todo.length) {
        this.log.info(`startup flows: all ${parsed.length} already in place`);
        return;
      }
      const n = await this.doApplyMods(
        todo.map((t) => t.mod),
        todo.map((t) => t.key),
      );
      this.log.info(`startup flows applied: ${n} entries changed` + (todo.length < parsed.length ? ` (${parsed.length - todo.length} already in place)` : ''));
    }
  }

  /**
   * A data-plane event: flows that expired leave the desired state. Every
   * event is re-emitted as 'dpevent' (EventService, metrics).
   */
  handleEvent(ev: DpEvent): void {
    this.emit('dpevent', ev);
    if (ev.type === 'flow_removed' && ev.reason !== 'delete') {
      let key: string;
      try {
        key = flowKey(ev.flow);
      } catch {
        return;
      }
      void this.serialize(async () => {
        try {
          await this.forget([key]);
        } catch (e) {
          this.log.error(`cannot persist the removal of an expired flow: ${errText(e)}`);
        }
      });
    } else if (ev.type === 'port_status') {
      this.log.debug(`port ${ev.port.name} ${ev.reason}: link ${ev.port.linkUp ? 'up' : 'down'}`);
    }
  }

  // ---------------------------------------------------------------- ports

  async addPort(req: PortRequest): Promise<PortDesc> {
    checkPortName(req.name);
    checkDevargs(req.devargs);
    checkPortNumbers(req);
    return this.serialize(() => this.doAddPort(req));
  }

  private async doAddPort(req: PortRequest): Promise<PortDesc> {
    if (this.desired.ports.some((p) => p.name === req.name)) {
      throw new ApiError(Status.ALREADY_EXISTS, `port '${req.name}' already exists`);
    }
    const taken = req.id ? this.desired.ports.find((p) => p.id === req.id) : undefined;
    if (taken) throw new ApiError(Status.ALREADY_EXISTS, `port number ${req.id} is already taken by '${taken.name}'`);
    const dp = this.requireDp();
    const desc = await dp.portAdd({
      name: req.name,
      devargs: req.devargs,
      ...(req.id ? { id: req.id } : {}),
      ...(req.mtu ? { mtu: req.mtu } : {}),
      ...(req.nRxq ? { nRxq: req.nRxq } : {}),
      adminUp: req.adminUp ?? true,
    });
    const next = this.draft();
    const cfg: PortConfig = { name: req.name, devargs: req.devargs, id: desc.id, adminUp: req.adminUp ?? true };
    if (req.mtu) cfg.mtu = req.mtu;
    if (req.nRxq) cfg.nRxq = req.nRxq;
    next.ports.push(cfg);
    await this.commit(next, { ports: true }, () => dp.portDel(desc.id));
    return desc;
  }

  deletePort(ref: string): Promise<void> {
    return this.serialize(async () => {
      const p = this.findPort(ref);
      const dp = this.requireDp();
      await dp.portDel(p.id);
      const next = this.draft();
      next.ports = next.ports.filter((q) => q.name !== p.name);
      await this.commit(next, { ports: true }, () => dp.portAdd({ name: p.name, devargs: p.devargs, id: p.id, mtu: p.mtu, adminUp: p.adminUp, nRxq: p.nRxq }));
    });
  }

  updatePort(ref: string, change: { mtu?: number; adminUp?: boolean; nRxq?: number }): Promise<PortDesc> {
    checkPortNumbers({ mtu: change.mtu, nRxq: change.nRxq });
    return this.serialize(async () => {
      const p = this.findPort(ref);
      const dp = this.requireDp();
      const before = (await dp.portList()).find((d) => d.id === p.id);
      if (change.mtu === undefined && change.adminUp === undefined && change.nRxq === undefined && before) return before;
      const desc = await dp.portMod(p.id, change);
      const next = this.draft();
      const q = next.ports.find((x) => x.name === p.name)!;
      if (change.mtu !== undefined) q.mtu = change.mtu;
      if (change.adminUp !== undefined) q.adminUp = change.adminUp;
      if (change.nRxq !== undefined) q.nRxq = change.nRxq;
      const undo: { mtu?: number; adminUp?: boolean; nRxq?: number } = {};
      if (change.mtu !== undefined && before) undo.mtu = before.mtu;
      if (change.nRxq !== undefined && before) undo.nRxq = before.nRxq;
      if (change.adminUp !== undefined) undo.adminUp = before ? before.adminUp : p.adminUp;
      await this.commit(next, { ports: true }, () => dp.portMod(p.id, undo));
      return desc;
    });
  }

  async listPorts(): Promise<PortDesc[]> {
    return this.requireDp().portList();
  }

  async portStats(ref?: string): Promise<NamedPortStats[]> {
    const id = ref ? this.findPort(ref).id : undefined;
    const stats = await this.requireDp().portStats(id);
    const names = this.portNames();
    return stats.map((s) => ({ ...s, name: names.portName(s.id) ?? '' }));
  }

  async clearPortStats(ref?: string): Promise<void> {
    const id = ref ? this.findPort(ref).id : undefined;
    await this.requireDp().portStatsClear(id);
  }

  // ---------------------------------------------------------------- flows

  private parseBatch(items: FlowParts[], command: FlowMod['command']): { mods: FlowMod[]; keys: string[] } {
    const names = this.portNames();
    const mods: FlowMod[] = [];
    const keys: string[] = [];
    items.forEach((p, i) => {
      const keyed = { key: '' };
      try {
        mods.push(parseFlowParts(p, { ...names, command }, keyed));
        keys.push(keyed.key);
      } catch (e) {
        throw inBatch(e, i, items.length);
      }
    });
    return { mods, keys };
  }

  async addFlows(items: FlowParts[]): Promise<number> {
    checkBatch(items.length, 'flows');
    const { mods, keys } = this.parseBatch(items, 'add');
    return this.applyMods(mods, keys);
  }

  async modifyFlows(items: FlowParts[], strict: boolean): Promise<number> {
    checkBatch(items.length, 'flows');
    const { mods, keys } = this.parseBatch(items, strict ? 'modify_strict' : 'modify');
    return this.applyMods(mods, keys);
  }

  async deleteFlows(filter: FlowParts, strict: boolean): Promise<number> {
    const { mods, keys } = this.parseBatch([filter], strict ? 'delete_strict' : 'delete');
    return this.applyMods(mods, keys);
  }

  /** ovs-ofctl bundle lines: "[add|modify|modify_strict|delete|delete_strict] FLOW"; one batch. */
  async applyFlowLines(lines: string[]): Promise<number> {
    checkBatch(lines.length, 'lines');
    const t0 = performance.now();
    const names = { ...this.portNames(), actionCache: new Map() };
    const mods: FlowMod[] = [];
    const keys: string[] = [];
    lines.forEach((l, i) => {
      try {
        const { mod, key } = parseFlowLineKeyed(l, names);
        mods.push(mod);
        keys.push(key);
      } catch (e) {
        throw inBatch(e, i, lines.length);
      }
    });
    return this.applyMods(mods, keys, performance.now() - t0, lines);
  }

  private applyMods(mods: FlowMod[], keys?: string[], parseMs?: number, lines?: readonly string[]): Promise<number> {
    return this.serialize(() => this.doApplyMods(mods, keys, parseMs, lines));
  }

  private async doApplyMods(mods: FlowMod[], keys?: string[], parseMs?: number, lines?: readonly string[]): Promise<number> {
    const dp = this.requireDp();
    if (mods.length === 0) return 0;
    const t0 = performance.now();
    // The desired flows take the batch at once (it is undone if the data
    // plane refuses it).
    const applied = this.flows.apply(mods, keys);
    const pending = dp.flowMod(mods);
    const t1 = performance.now();
    let n: number;
    try {
      n = await pending;
    } catch (e) {
      applied.undo();
      throw isDpError(e) ? inBatch(e, e.index, mods.length) : e;
    }
    let change: StateChange | undefined = { flows: applied.change, flowLines: lines };
    let undoFlows = applied.undo;
    let inverse = applied.inverse();
    if (n !== applied.changed) {
      this.log.warn(`data plane changed ${n} entries where ${applied.changed} were expected; re-reading its flows`);
      const before = this.flows;
      applied.undo();
      const was = before.list();
      this.flows = new FlowSet((await dp.flowDump()).map(entryToFlowMod));
      undoFlows = () => {
        this.flows = before;
      };
      inverse = diffFlows(was, this.flows.list()).mods;
      change = undefined; // the whole state is written
    }
    const t2 = performance.now();
    await this.commit(this.draft(), change, async () => {
      undoFlows();
      if (inverse.length) await dp.flowMod(inverse);
    });
    if (mods.length >= 10000) {
      const ms = (a: number, b: number) => `${Math.round(b - a)} ms`;
      this.log.info(
        `${mods.length} flow-mods applied in ${ms(t0, performance.now())}` +
          (parseMs !== undefined ? ` after ${Math.round(parseMs)} ms of parsing` : '') +
          ` (desired state and encoding ${ms(t0, t1)}, data plane ${ms(t1, t2)}, persisting ${ms(t2, performance.now())})`,
      );
    }
    return n;
  }

  /** Entries covered by a non-strict filter (match text may carry table=, cookie=V/M). */
  async dumpFlows(filter: FlowParts): Promise<FlowEntry[]> {
    const names = this.portNames();
    const f = parseFlowParts(filter, { ...names, command: 'delete' });
    const dp = this.requireDp();
    const q: Partial<FlowMod> = { table: f.table, match: f.match };
    if (f.cookieMask !== undefined) {
      q.cookie = f.cookie ?? 0n;
      q.cookieMask = f.cookieMask;
    }
    if (f.outPort !== undefined) q.outPort = f.outPort;
    const noFilter = f.table === TABLE_ALL && Object.keys(f.match).length === 0 && q.cookieMask === undefined && q.outPort === undefined;
    return dp.flowDump(noFilter ? undefined : q);
  }

  // ---------------------------------------------------------------- tables

  async listTables(): Promise<TableDesc[]> {
    return this.requireDp().tableList();
  }

  async updateTable(change: { id: number; name?: string; miss?: TableMiss; maxFlows?: number }): Promise<TableDesc> {
    if (!Number.isInteger(change.id) || change.id < 0 || change.id > 254) {
      throw new ApiError(Status.INVALID_ARGUMENT, `table ${change.id} is out of range 0..254`);
    }
    if (change.name !== undefined && (change.name.length > 31 || /[\0\n]/.test(change.name))) {
      throw new ApiError(Status.INVALID_ARGUMENT, `table name '${change.name}' is too long (at most 31 characters)`);
    }
    return this.serialize(() => this.doUpdateTable(change));
  }

  private async doUpdateTable(change: { id: number; name?: string; miss?: TableMiss; maxFlows?: number }): Promise<TableDesc> {
    const dp = this.requireDp();
    const old = this.desired.tables.find((t) => t.id === change.id) ?? { id: change.id, name: '', miss: 'drop' as TableMiss };
    const want: TableConfig = {
      id: change.id,
      name: change.name ?? old.name,
      miss: change.miss ?? old.miss,
    };
    const maxFlows = change.maxFlows ?? old.maxFlows;
    if (maxFlows !== undefined) want.maxFlows = maxFlows;
    const desc = await dp.tableMod(want);
    const next = this.draft();
    next.tables = next.tables.filter((t) => t.id !== change.id);
    if (want.name !== '' || want.miss !== 'drop' || want.maxFlows) next.tables.push(want);
    next.tables.sort((a, b) => a.id - b.id);
    await this.commit(next, { tables: true }, () => dp.tableMod({ id: old.id, name: old.name, miss: old.miss, maxFlows: old.maxFlows ?? 0 }));
    return desc;
  }

  // ---------------------------------------------------------------- statistics

  async dpStats(): Promise<DpStats> {
    return this.requireDp().dpStats();
  }

  /** Every PMD lcore's counters and rx queues, and the clock their cycles count. */
  async pmdStats(): Promise<{ pmds: PmdStats[]; tscHz: bigint }> {
    const pmds = await this.requireDp().pmdStats();
    return { pmds, tscHz: this.dpInfo?.tscHz ?? 0n };
  }

  async clearPmdStats(): Promise<void> {
    await this.requireDp().pmdStatsClear();
  }

  /**
   * Every counter at one instant: read from the data plane's stats segment
   * (shared memory, no message) when it publishes one, else gathered with
   * messages (timed by this process's monotonic clock).
   */
  async statsSnapshot(): Promise<StatsSnapshot> {
    const dp = this.requireDp();
    const seg = dp.readStats();
    if (seg) return seg;
    const [ports, descs, dps, tables, pmds] = await Promise.all([dp.portStats(), dp.portList(), dp.dpStats(), dp.tableList(), dp.pmdStats()]);
    const link = new Map(descs.map((d) => [d.id, d.linkUp]));
    return {
      timeNs: process.hrtime.bigint(),
      rxPackets: dps.rxPackets,
      txPackets: dps.txPackets,
      drops: dps.drops,
      ports: ports.map((p) => ({ ...p, linkUp: link.get(p.id) ?? false })),
      tables: tables.map((t) => ({ id: t.id, nFlows: t.nFlows, lookups: t.lookups, matched: t.matched })),
      pmds,
    };
  }

  /** Flows summed by cookie (the busiest `limit` cookies). */
  async flowCookieStats(limit?: number): Promise<CookieStats[]> {
    return this.requireDp().flowCookieStats(limit);
  }
}
