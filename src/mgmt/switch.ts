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
import { PORT_TABLE, TABLE_ALL } from './addon-types';
import type { Action, TraceResult } from './addon-types';
import { packetFromFlow, TRACE_FRAME_MAX } from '../flowspec/packet';
import {
  entryToFlowMod,
  flowKey,
  FlowParts,
  formatFlowMod,
  parseFlowKeyed,
  parseFlowLineKeyed,
  parseActions,
  parseFlowParts,
  PortNames,
  RESERVED_PORTS,
  sameFlow,
} from '../flowspec';
import {
  ConfigApplyResult,
  ConfigChangeItem,
  ConfigPlan,
  DEVICE_DEFAULT_MTU,
  deviceName,
  flowTexts,
  isAfPacket,
  itemText,
  portItem,
  mirrorItem,
  portNamesOf,
  tableItem,
} from './config';
import { ApiError, classify, inBatch, isDpError } from './errors';
import { asEntry, FlowSet } from './flowtable';
import type { Logger } from './log';
import { diffFlows, isEmptyPlan, planReconcile, ReconcilePlan } from './reconcile';
import { DesiredState, MeterConfig, MIRROR_MAX, MIRROR_PORTS, MirrorConfig, PortConfig, StateChange, StateSaver, TableConfig } from './state';
import { bondDevargs, bondText, checkBond, checkBondDevargs, sameBondConfig } from './bond';
import type { BondConfig, GroupConfig, GroupStats, MeterDesc, MeterStats, MirrorStats, PortChange, PortQos, PortQosConfig } from './addon-types';
import { checkNshTag, checkVlan, edgeAddRequest, edgeChange, nshTagOfDesc, nshTagText, vlanOfDesc, vlanText, vlanWire, type NshTag, type PortVlan } from './edge';
import { checkQos, qosRuns, qosText, sameQos } from './qos';
import { formatGroup, parseGroup } from '../flowspec';
import { checkMeter, meterDoc, METER_ID_MAX, MeterError, usesGroup, usesMeter, usesMirror } from './meters';

export type DpStateName = 'disconnected' | 'launching' | 'connecting' | 'reconciling' | 'connected' | 'stopped';

export interface PortRequest {
  name: string;
  devargs: string;
  id?: number;
  mtu?: number;
  adminUp?: boolean;
  /** Rx queues, 1..16 (default 1). */
  nRxq?: number;
  /** A bond port: checked by addPort; devargs may then be '' (net_bonding_<name>). */
  bond?: BondConfig;
  /** Egress QoS (qos.ts), checked by addPort. */
  qos?: PortQosConfig;
  /** VLAN mode (edge.ts checkVlan: any value, mode 'none' is none). */
  vlan?: unknown;
  /** NSH port tag (edge.ts checkNshTag). */
  nshTag?: unknown;
}

/** A port change: what is absent stays; vlan mode 'none' and nshTag null clear. */
export interface PortUpdate {
  mtu?: number;
  adminUp?: boolean;
  nRxq?: number;
  vlan?: unknown;
  nshTag?: unknown;
  /** Egress QoS as a whole (qos.ts; rate 0 and no queues removes it), set after the other changes. */
  qos?: PortQosConfig;
}

/** A mirror's name and the number of its ports (INVALID_ARGUMENT naming the field). */
function checkMirrorShape(req: { name: string; out: string; src: string[]; dst: string[] }): void {
  const bad = (msg: string) => new ApiError(Status.INVALID_ARGUMENT, msg);
  if (!/^[A-Za-z0-9_.-]{1,31}$/.test(req.name)) throw bad(`name: '${req.name}' must be 1..31 letters, digits, '_', '.' or '-'`);
  if (/^[0-9]+$/.test(req.name)) throw bad(`name: '${req.name}' must not be a number`);
  if (!req.out) throw bad('output: the port the copies go to is required');
  if (req.src.length > MIRROR_PORTS || req.dst.length > MIRROR_PORTS) throw bad(`src, dst: at most ${MIRROR_PORTS} ports each`);
}

/** Port id's egress QoS as the data plane runs it; undefined if it cannot say (onError hears why), but a lost connection throws. */
async function readQos(dp: DataplaneClient, id: number, onError?: (e: unknown) => void): Promise<PortQos | undefined> {
  try {
    return await dp.portQos(id);
  } catch (e) {
    if (isDpError(e) && e.code === 'DISCONNECTED') throw e;
    onError?.(e);
    return undefined;
  }
}

/** The edge settings of a port request, checked and canonical (an EdgeError, INVALID_ARGUMENT, names the field). */
function checkEdgeSettings(req: PortRequest): { vlan?: PortVlan; nshTag?: NshTag } {
  const out: { vlan?: PortVlan; nshTag?: NshTag } = {};
  const vlan = req.vlan === undefined ? undefined : checkVlan(req.vlan, 'vlan');
  if (vlan) out.vlan = vlan;
  if (req.nshTag !== undefined && req.nshTag !== null) out.nshTag = checkNshTag(req.nshTag, 'nsh_tag');
  return out;
}

/** Ports, tables and flows to add once, when the data plane first connects (--port, --flow, --config). */
export interface StartupConfig {
  ports: PortRequest[];
  tables: TableConfig[];
  meters?: MeterConfig[];
  /** In ovs-ofctl add-group syntax, with port names. */
  groups?: string[];
  /** Ports by name or number, as the document gives them. */
  mirrors?: { name: string; output: string; src: string[]; dst: string[] }[];
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

/** A bond port's request, checked, with its bonding device's name filled in. */
function checkBondPort(req: PortRequest): PortRequest {
  const bond = checkBond(req.bond);
  const devargs = req.devargs.trim() || bondDevargs(req.name);
  checkBondDevargs(devargs);
  return { ...req, devargs, bond };
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
  private desired: Pick<DesiredState, 'ports' | 'tables'> & { meters: MeterConfig[] };
  /** The desired flows, changed in place and put back if a change is not accepted. */
  private flows: FlowSet;
  /** The desired groups, by id. */
  private groups: GroupConfig[];
  /** The desired mirrors, by id. */
  private mirrors: MirrorConfig[];
  dpState: DpStateName = 'disconnected';
  dpInfo: DpInfo | null = null;
  lastError = '';
  /** Why the stats segment could not be read last time it was not (logged once per reason). */
  private statsFallback = '';
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
    this.desired = { ports: state.ports, tables: state.tables, meters: state.meters ?? [] };
    this.flows = new FlowSet(state.flows);
    this.groups = state.groups ?? [];
    this.mirrors = state.mirrors ?? [];
    this.startup =
      startup && (startup.ports.length || startup.flows.length || startup.tables.length || startup.meters?.length || startup.groups?.length || startup.mirrors?.length)
        ? startup
        : null;
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
      groups: this.groups,
      ...(this.desired.meters.length ? { meters: this.desired.meters } : {}),
      ...(this.mirrors.length ? { mirrors: this.mirrors } : {}),
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
      groups: this.groups.slice(),
      ...(this.desired.meters.length ? { meters: this.desired.meters.map((m) => ({ ...m })) } : {}),
      ...(this.mirrors.length ? { mirrors: this.mirrors.slice() } : {}),
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
    this.desired = { ports: next.ports, tables: next.tables, meters: next.meters ?? [] };
    if (next.groups) this.groups = next.groups;
    if (next.mirrors) this.mirrors = next.mirrors;
  }

  /** Name lookups for flow text, from the desired ports. */
  portNames(): Required<PortNames> {
    return portNamesOf(this.desired.ports, this.mirrors);
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
    const [ports, tables, entries, groups, meters] = await Promise.all([dp.portList(), dp.tableList(), dp.flowDump(), dp.groupStats(), dp.meterStats()]);
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
    const plan = planReconcile(this.state, { ports, tables, flows, groups, meters }, fresh, this.flows.byKey());
    if (isEmptyPlan(plan)) {
      const n = await this.reconcileQos(dp);
      this.log.info(n ? `data plane matches the desired state but for the egress QoS of ${n} port(s), now set` : 'data plane matches the desired state');
      return;
    }
    this.log.info(
      `reconciling: ${plan.tableMods.length} table(s), ` +
        (plan.meters ? `${plan.meters.adds.length + plan.meters.modifies.length + plan.meters.deletes.length} meter change(s), ` : '') +
        `${plan.portDeletes.length} port deletion(s), ` +
        `${plan.portAdds.length} port addition(s), ${plan.portMods.length} port change(s), ` +
        (plan.groupMods.length + plan.groupDeletes.length ? `${plan.groupMods.length} group(s) sent, ${plan.groupDeletes.length} deleted, ` : '') +
        `${plan.flowMods.length} flow-mod(s)` +
        (plan.expired.length ? `, ${plan.expired.length} expired flow(s) dropped` : ''),
    );
    await this.execute(dp, plan);
    const nQos = await this.reconcileQos(dp);
    if (nQos) this.log.info(`reconciled the egress QoS of ${nQos} port(s)`);
    if (plan.expired.length) {
      try {
        await this.forget(plan.expired);
      } catch (e) {
        this.warn(`cannot persist the removal of expired flows: ${errText(e)}`);
      }
    }
  }

  /**
   * Sets the egress QoS of every desired port with one that the data plane
   * does not run as asked (after a data-plane restart: all of them);
   * returns how many were set. Only ports with a desired QoS are read: the
   * daemon is the only writer of QoS, and it removes a port's QoS from the
   * data plane before it forgets it.
   */
  private async reconcileQos(dp: DataplaneClient): Promise<number> {
    let n = 0;
    for (const p of this.state.ports) {
      const want = p.qos;
      if (!want) continue;
      const have = await readQos(dp, p.id, (e) => this.warn(`replay: egress QoS of port ${p.name}: ${errText(e)}`));
      if (!have || qosRuns(want, have)) continue;
      if (await this.step(`egress QoS of port ${p.name}`, () => dp.portQos(p.id, want))) n++;
    }
    return n;
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
    for (const m of plan.meters?.adds ?? []) await this.step(`adding meter ${m.id}`, () => dp.meterMod('add', m));
    for (const m of plan.meters?.modifies ?? []) await this.step(`changing meter ${m.id}`, () => dp.meterMod('modify', m));
    for (const id of plan.portDeletes) await this.step(`deleting port ${id}`, () => dp.portDel(id));
    const failed = new Set<number>();
    for (const req of plan.portAdds) {
      if (!(await this.step(`adding port ${req.name}`, () => dp.portAdd(req)))) failed.add(req.id!);
    }
    for (const m of plan.portMods) await this.step(`changing port ${m.id}`, () => dp.portMod(m.id, m.change));
    // mirrors: set again (a replace) after the ports they name, before the flows that name them
    for (const m of this.mirrors) await this.step(`mirror ${m.name}`, () => dp.mirrorMod('set', m));
    for (const g of plan.groupMods) await this.step(`group ${g.id}`, () => dp.groupMod(g));
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
    for (const id of plan.groupDeletes) await this.step(`deleting group ${id}`, () => dp.groupMod({ command: 'delete', id }));
    for (const id of plan.meters?.deletes ?? []) await this.step(`deleting meter ${id}`, () => dp.meterMod('delete', { id }));
    await dp.barrier();
    for (const id of plan.portUps) {
      if (!failed.has(id)) await this.step(`bringing port ${id} up`, () => dp.portMod(id, { adminUp: true }));
    }
  }

  private async applyStartup(s: StartupConfig): Promise<void> {
    for (const t of s.tables) await this.doUpdateTable(t);
    for (const m of s.meters ?? []) {
      if (this.desired.meters.some((q) => q.id === m.id)) continue;
      await this.doSetMeter('add', m);
      this.log.info(`added meter ${m.id}`);
    }
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
    for (const [i, text] of (s.groups ?? []).entries()) {
      let g: GroupConfig;
      try {
        g = parseGroup(text, this.portNames());
      } catch (e) {
        throw new ApiError(Status.INVALID_ARGUMENT, `groups[${i}]: ${errText(e)}`);
      }
      if (this.groups.some((q) => q.id === g.id)) continue;
      await this.doSetGroup(g, false);
      this.log.info(`added group ${g.id}`);
    }
    for (const m of s.mirrors ?? []) {
      if (this.mirrors.some((q) => q.name === m.name)) continue;
      await this.doAddMirror({ name: m.name, out: m.output, src: m.src, dst: m.dst });
      this.log.info(`added mirror ${m.name}`);
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
    if (req.bond !== undefined) req = checkBondPort(req);
    checkDevargs(req.devargs);
    checkPortNumbers(req);
    const edge = checkEdgeSettings(req);
    req = { ...req, vlan: edge.vlan, nshTag: edge.nshTag };
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
      ...(req.bond ? { bond: req.bond } : {}),
      ...edgeAddRequest(req as { vlan?: PortVlan; nshTag?: NshTag }),
      adminUp: req.adminUp ?? true,
    });
    const qos = req.qos === undefined ? undefined : checkQos(req.qos);
    if (qos) {
      try {
        await dp.portQos(desc.id, qos);
      } catch (e) {
        await dp.portDel(desc.id).catch(() => undefined);
        throw e;
      }
    }
    const next = this.draft();
    const cfg: PortConfig = { name: req.name, devargs: req.devargs, id: desc.id, adminUp: req.adminUp ?? true };
    if (req.mtu) cfg.mtu = req.mtu;
    if (req.nRxq) cfg.nRxq = req.nRxq;
    if (req.bond) cfg.bond = req.bond;
    if (req.vlan) cfg.vlan = req.vlan as PortVlan;
    if (req.nshTag) cfg.nshTag = req.nshTag as NshTag;
    if (qos) cfg.qos = qos;
    next.ports.push(cfg);
    await this.commit(next, { ports: true }, () => dp.portDel(desc.id));
    return desc;
  }

  deletePort(ref: string): Promise<void> {
    return this.serialize(async () => {
      const p = this.findPort(ref);
      const dp = this.requireDp();
      // a group naming the port would not replay (the data plane checks its ports)
      const users = this.groups.filter((g) => g.buckets.some((b) => b.watchPort === p.id || b.actions.some((a) => a.type === 'output' && a.port === p.id)));
      if (users.length) {
        throw new ApiError(Status.FAILED_PRECONDITION, `port '${p.name}' is used by group ${users.map((g) => g.id).join(', ')}: change or delete the group first`);
      }
      const mirrors = this.mirrors.filter((m) => m.outPort === p.id || m.src.includes(p.id) || m.dst.includes(p.id));
      if (mirrors.length) {
        throw new ApiError(Status.FAILED_PRECONDITION, `port '${p.name}' is used by mirror ${mirrors.map((m) => m.name).join(', ')}: delete the mirror first`);
      }
      await dp.portDel(p.id);
      const next = this.draft();
      next.ports = next.ports.filter((q) => q.name !== p.name);
      await this.commit(next, { ports: true }, () => dp.portAdd({ name: p.name, devargs: p.devargs, id: p.id, mtu: p.mtu, adminUp: p.adminUp, nRxq: p.nRxq, ...(p.bond ? { bond: p.bond } : {}), ...edgeAddRequest(p) }));
    });
  }

  /**
   * Changes a port: what is absent stays. qos: its egress QoS as a whole
   * (qos.ts; rate 0 and no queues removes it), set after the other changes.
   */
  updatePort(ref: string, update: PortUpdate): Promise<PortDesc> {
    checkPortNumbers({ mtu: update.mtu, nRxq: update.nRxq });
    const change: PortChange = {};
    if (update.mtu !== undefined) change.mtu = update.mtu;
    if (update.adminUp !== undefined) change.adminUp = update.adminUp;
    if (update.nRxq !== undefined) change.nRxq = update.nRxq;
    const vlan = update.vlan === undefined ? undefined : checkVlan(update.vlan, 'vlan');
    const nshTag = update.nshTag === undefined || update.nshTag === null ? undefined : checkNshTag(update.nshTag, 'nsh_tag');
    if (update.vlan !== undefined) change.vlan = vlanWire(vlan);
    if (update.nshTag !== undefined) change.nshTag = nshTag ?? null;
    const qosSet = update.qos !== undefined;
    const qos = qosSet ? checkQos(update.qos) : undefined;
    return this.serialize(async () => {
      const p = this.findPort(ref);
      const dp = this.requireDp();
      const before = (await dp.portList()).find((d) => d.id === p.id);
      if (Object.keys(change).length === 0 && !qosSet && before) return before;
      const undo: PortChange = {};
      if (change.vlan !== undefined) undo.vlan = vlanWire(before ? vlanOfDesc(before.vlan) : p.vlan);
      if (change.nshTag !== undefined) undo.nshTag = (before ? nshTagOfDesc(before.nshTag) : p.nshTag) ?? null;
      if (change.mtu !== undefined && before) undo.mtu = before.mtu;
      if (change.nRxq !== undefined && before) undo.nRxq = before.nRxq;
      if (change.adminUp !== undefined) undo.adminUp = before ? before.adminUp : p.adminUp;
      const desc = Object.keys(change).length ? await dp.portMod(p.id, change) : before!;
      if (qosSet) {
        try {
          await dp.portQos(p.id, qos ?? { rate: 0 });
        } catch (e) {
          if (Object.keys(undo).length) await dp.portMod(p.id, undo).catch(() => undefined);
          throw e;
        }
      }
      const next = this.draft();
      const q = next.ports.find((x) => x.name === p.name)!;
      if (change.mtu !== undefined) q.mtu = change.mtu;
      if (change.adminUp !== undefined) q.adminUp = change.adminUp;
      if (change.nRxq !== undefined) q.nRxq = change.nRxq;
      if (change.vlan !== undefined) {
        if (vlan) q.vlan = vlan;
        else delete q.vlan;
      }
      if (change.nshTag !== undefined) {
        if (nshTag) q.nshTag = nshTag;
        else delete q.nshTag;
      }
      if (qosSet) {
        if (qos) q.qos = qos;
        else delete q.qos;
      }
      await this.commit(next, { ports: true }, async () => {
        if (Object.keys(undo).length) await dp.portMod(p.id, undo);
        if (qosSet) await dp.portQos(p.id, p.qos ?? { rate: 0 });
      });
      return desc;
    });
  }

  /** The egress QoS of every port that has one, as the data plane runs it (bursts resolved), by port id. */
  async portQos(): Promise<Map<number, PortQos>> {
    const dp = this.requireDp();
    const out = new Map<number, PortQos>();
    for (const p of this.desired.ports) {
      const have = p.qos ? await readQos(dp, p.id) : undefined;
      if (have) out.set(p.id, have);
    }
    return out;
  }

  /** portQos() of one port: a reply about one port asks only about it. */
  async portQosOf(id: number): Promise<PortQos | undefined> {
    const dp = this.requireDp();
    return this.desired.ports.some((p) => p.id === id && p.qos) ? readQos(dp, id) : undefined;
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

  // ---------------------------------------------------------------- groups

  /** The desired groups, by id. */
  listGroups(): GroupConfig[] {
    return this.groups.slice();
  }

  /**
   * Adds a group given in ovs-ofctl add-group syntax (port names resolved
   * now), or replaces one with `modify`. ALREADY_EXISTS / NOT_FOUND as
   * ovs-ofctl add-group / mod-group.
   */
  addGroup(spec: string, modify: boolean): Promise<GroupConfig> {
    const g = parseGroup(spec, this.portNames());
    return this.serialize(() => this.doSetGroup(g, modify));
  }

  private async doSetGroup(g: GroupConfig, modify: boolean): Promise<GroupConfig> {
    const dp = this.requireDp();
    const old = this.groups.find((q) => q.id === g.id);
    if (old && !modify) throw new ApiError(Status.ALREADY_EXISTS, `group ${g.id} already exists (modify replaces it)`);
    if (!old && modify) throw new ApiError(Status.NOT_FOUND, `group ${g.id} does not exist`);
    await dp.groupMod({ command: old ? 'modify' : 'add', ...g });
    const next = this.draft();
    next.groups = [...this.groups.filter((q) => q.id !== g.id), g].sort((a, b) => a.id - b.id);
    await this.commit(next, { groups: true }, () => (old ? dp.groupMod({ command: 'modify', ...old }) : dp.groupMod({ command: 'delete', id: g.id })));
    return g;
  }

  /** Deletes group id; FAILED_PRECONDITION while flows use it (delete or change them first). */
  deleteGroup(id: number): Promise<void> {
    return this.serialize(async () => {
      const dp = this.requireDp();
      const old = this.groups.find((q) => q.id === id);
      if (!old) throw new ApiError(Status.NOT_FOUND, `group ${id} does not exist`);
      const users = this.flows.list().filter((f) => usesGroup(f.actions, id));
      if (users.length) {
        throw new ApiError(
          Status.FAILED_PRECONDITION,
          `group ${id} is used by ${users.length} flow(s) (${formatFlowMod(users[0], this.portNames())}${users.length > 1 ? ', ...' : ''}): delete or change them first`,
        );
      }
      await dp.groupMod({ command: 'delete', id });
      const next = this.draft();
      next.groups = this.groups.filter((q) => q.id !== id);
      await this.commit(next, { groups: true }, () => dp.groupMod({ command: 'add', ...old }));
    });
  }

  async groupStats(id?: number): Promise<GroupStats[]> {
    if (id !== undefined && !this.groups.some((g) => g.id === id)) throw new ApiError(Status.NOT_FOUND, `group ${id} does not exist`);
    return this.requireDp().groupStats(id);
  }

  // ---------------------------------------------------------------- meters (meters.ts)

  /** Every meter of the data plane with its counters, by id; or one (NOT_FOUND). */
  async meterStats(id?: number): Promise<MeterStats[]> {
    if (id !== undefined && (!Number.isInteger(id) || id < 1 || id > METER_ID_MAX)) {
      throw new ApiError(Status.INVALID_ARGUMENT, `id: ${id} is not a meter id (1..${METER_ID_MAX})`);
    }
    return this.requireDp().meterStats(id);
  }

  /** Adds a meter (ALREADY_EXISTS if its id is taken) or changes one (NOT_FOUND if it is not). */
  async setMeter(command: 'add' | 'modify', v: unknown): Promise<MeterDesc> {
    const want = checkMeter(v); // a MeterError is INVALID_ARGUMENT naming the field
    return this.serialize(() => this.doSetMeter(command, want));
  }

  private async doSetMeter(command: 'add' | 'modify', want: MeterConfig): Promise<MeterDesc> {
    const dp = this.requireDp();
    const old = this.desired.meters.find((m) => m.id === want.id);
    if (command === 'add' && old) throw new ApiError(Status.ALREADY_EXISTS, `meter ${want.id} already exists`);
    if (command === 'modify' && !old) throw new ApiError(Status.NOT_FOUND, `meter ${want.id} does not exist`);
    const desc = (await dp.meterMod(command, want))!;
    const next = this.draft();
    next.meters = [...(next.meters ?? []).filter((m) => m.id !== want.id), want].sort((a, b) => a.id - b.id);
    await this.commit(next, { meters: true }, () => (old ? dp.meterMod('modify', old) : dp.meterMod('delete', { id: want.id })));
    return desc;
  }

  /** Deletes a meter; FAILED_PRECONDITION while flows use it (delete them first). */
  async deleteMeter(id: number): Promise<void> {
    if (!Number.isInteger(id) || id < 1 || id > METER_ID_MAX) {
      throw new ApiError(Status.INVALID_ARGUMENT, `id: ${id} is not a meter id (1..${METER_ID_MAX})`);
    }
    return this.serialize(async () => {
      const dp = this.requireDp();
      const old = this.desired.meters.find((m) => m.id === id);
      if (!old) throw new ApiError(Status.NOT_FOUND, `meter ${id} does not exist`);
      const users = this.flows.list().filter((f) => usesMeter(f.actions, id));
      if (users.length) {
        throw new ApiError(
          Status.FAILED_PRECONDITION,
          `meter ${id} is used by ${users.length} flow(s), such as '${formatFlowMod(users[0], this.portNames())}'; delete them first`,
        );
      }
      await dp.meterMod('delete', { id });
      const next = this.draft();
      next.meters = (next.meters ?? []).filter((m) => m.id !== id);
      await this.commit(next, { meters: true }, () => dp.meterMod('add', old));
    });
  }

  // ---------------------------------------------------------------- mirrors

  /** Every mirror, by id, with the data plane's counters when it is connected. */
  async listMirrors(): Promise<{ mirror: MirrorConfig; stats?: MirrorStats }[]> {
    const stats = this.dp ? await this.dp.mirrorStats() : [];
    return this.mirrors.map((m) => ({ mirror: m, stats: stats.find((s) => s.id === m.id) }));
  }

  /**
   * Adds mirror `name`: copies of what the src ports receive and the dst
   * ports send (and of what flows' mirror:NAME actions name) to `out`.
   */
  addMirror(req: { name: string; out: string; src: string[]; dst: string[] }): Promise<MirrorConfig> {
    return this.serialize(() => this.doAddMirror(req));
  }

  private async doAddMirror(req: { name: string; out: string; src: string[]; dst: string[] }): Promise<MirrorConfig> {
    checkMirrorShape(req);
    if (this.mirrors.some((m) => m.name === req.name)) throw new ApiError(Status.ALREADY_EXISTS, `mirror '${req.name}' already exists`);
    const out = this.findPort(req.out).id;
    const src = [...new Set(req.src.map((p) => this.findPort(p).id))];
    const dst = [...new Set(req.dst.map((p) => this.findPort(p).id))];
    let id = 0;
    while (id < MIRROR_MAX && this.mirrors.some((m) => m.id === id)) id++;
    if (id === MIRROR_MAX) throw new ApiError(Status.RESOURCE_EXHAUSTED, `mirrors: all ${MIRROR_MAX} are in use`);
    const want: MirrorConfig = { name: req.name, id, outPort: out, src, dst };
    const dp = this.requireDp();
    await dp.mirrorMod('set', want);
    const next = this.draft();
    next.mirrors = [...this.mirrors, want].sort((a, b) => a.id - b.id);
    await this.commit(next, { mirrors: true }, () => dp.mirrorMod('delete', { id }));
    return want;
  }

  /** Deletes a mirror; FAILED_PRECONDITION while flows name it (mirror:NAME). */
  deleteMirror(name: string): Promise<void> {
    return this.serialize(async () => {
      const old = this.mirrors.find((m) => m.name === name);
      if (!old) throw new ApiError(Status.NOT_FOUND, `mirror '${name}' does not exist`);
      const users = this.flows.list().filter((f) => usesMirror(f.actions, old.id));
      if (users.length) {
        throw new ApiError(Status.FAILED_PRECONDITION, `mirror '${name}' is used by ${users.length} flow(s), such as '${formatFlowMod(users[0], this.portNames())}'; delete them first`);
      }
      const dp = this.requireDp();
      await dp.mirrorMod('delete', { id: old.id });
      const next = this.draft();
      next.mirrors = this.mirrors.filter((m) => m.id !== old.id);
      await this.commit(next, { mirrors: true }, () => dp.mirrorMod('set', old));
    });
  }

  // ---------------------------------------------------------------- declarative configuration

  /**
   * Makes the desired state the document's (config apply). Everything is
   * checked first: every port (name, devargs, numbers), table, meter,
   * group, mirror and flow, the port names of groups, mirrors and flows
   * resolved against the document's ports. The difference from the desired
   * state is then made in the order of a replay (table settings, meters
   * added or changed, port deletions, additions administratively down,
   * changes, egress QoS, groups and mirrors added or changed, the flows in
   * batches of FLOW_BATCH_MAX, meters, groups and mirrors deleted, a
   * barrier, tightened table limits, ports up), all or nothing: if the data
   * plane refuses a step, the steps
   * already done are undone in reverse and the error names the item by its
   * path in the document. The new state is persisted once, at the end. A
   * dry run, or a document that matches, changes nothing.
   */
  applyConfig(doc: StartupConfig, dryRun: boolean, source = ''): Promise<ConfigApplyResult> {
    return this.serialize(async () => {
      const plan = this.planConfig(doc, source);
      const result: ConfigApplyResult = { applied: false, changes: plan.changes, diff: plan.diff };
      if (dryRun || plan.changes.length === 0) return result;
      await this.executeConfig(plan, source);
      this.log.info(`configuration${source ? ` ${source}` : ''} applied: ${plan.changes.length} change(s)`);
      return { ...result, applied: true };
    });
  }

  /** A copy of the desired state between changes (config export). */
  configState(): Promise<DesiredState> {
    return this.serialize(async () => ({
      ports: this.desired.ports.map((p) => ({ ...p })),
      tables: this.desired.tables.map((t) => ({ ...t })),
      ...(this.desired.meters.length ? { meters: this.desired.meters.map((m) => ({ ...m })) } : {}),
      ...(this.groups.length ? { groups: this.groups.slice() } : {}),
      // (flows name them: mirror:NAME)
      ...(this.mirrors.length ? { mirrors: this.mirrors.slice() } : {}),
      flows: this.flows.list().slice(),
    }));
  }

  /** Checks a document and works out its difference from the desired state; throws naming the path of a fault. */
  private planConfig(doc: StartupConfig, source: string): ConfigPlan {
    const fault = (path: string, e: unknown): ApiError => {
      const c = classify(e);
      return new ApiError(c.code, `${source ? `${source}: ` : ''}${path}: ${c.message}`);
    };
    const invalid = (path: string, msg: string) => fault(path, new ApiError(Status.INVALID_ARGUMENT, msg));
    const check = (path: string, fn: () => void) => {
      try {
        fn();
      } catch (e) {
        throw fault(path, e);
      }
    };
    const plan: ConfigPlan = {
      tablesBefore: [],
      portDeletes: [],
      portAdds: [],
      portMods: [],
      flowMods: [],
      flowKeys: [],
      flowInverse: [],
      flowPaths: [],
      tablesAfter: [],
      portUps: [],
      portQos: [],
      metersBefore: [],
      metersAfter: [],
      groupsBefore: [],
      groupsAfter: [],
      mirrorsBefore: [],
      mirrorsAfter: [],
      ports: [],
      tables: [],
      meters: [],
      groups: [],
      mirrors: [],
      changes: [],
      diff: [],
    };
    const change = (c: ConfigChangeItem, line: string) => {
      plan.changes.push(c);
      plan.diff.push(line);
    };

    // ports: each valid, names, devices and numbers once
    const byName = new Map<string, number>();
    const byDevice = new Map<string, number>();
    const byId = new Map<number, number>();
    const edges: ReturnType<typeof checkEdgeSettings>[] = []; // checked once, kept for plan.ports
    doc.ports.forEach((q, i) => {
      const w = `ports[${i}]`;
      check(`${w}.name`, () => checkPortName(q.name));
      let p = q;
      if (q.bond !== undefined) check(w, () => (p = checkBondPort(q)));
      check(`${w}.devargs`, () => checkDevargs(p.devargs));
      check(w, () => checkPortNumbers(p));
      check(w, () => (edges[i] = checkEdgeSettings(p)));
      const j = byName.get(p.name);
      if (j !== undefined) throw invalid(`${w}.name`, `port '${p.name}' is also ports[${j}]`);
      byName.set(p.name, i);
      // a bond's members are devices too: each device once, as a port or a member
      for (const [dev, at] of [[deviceName(p.devargs), `${w}.devargs`], ...(p.bond?.members ?? []).map((m, n) => [deviceName(m), `${w}.bond.members[${n}]`])]) {
        const k = byDevice.get(dev);
        if (k !== undefined) throw invalid(at, `device '${dev}' is also in ports[${k}] ('${doc.ports[k].name}'): a device is attached once`);
        byDevice.set(dev, i);
      }
      if (p.id) {
        const l = byId.get(p.id);
        if (l !== undefined) throw invalid(`${w}.id`, `port number ${p.id} is also ports[${l}]'s`);
        byId.set(p.id, i);
      }
    });
    // Numbers: as given; else a port that stays (same name and device) keeps its own; else the lowest free.
    const cur = new Map(this.desired.ports.map((p) => [p.name, p]));
    const taken = new Set(byId.keys());
    const ids = doc.ports.map((p) => p.id);
    doc.ports.forEach((p, i) => {
      const c = cur.get(p.name);
      if (!ids[i] && c && c.devargs.trim() === p.devargs.trim() && !taken.has(c.id)) {
        ids[i] = c.id;
        taken.add(c.id);
      }
    });
    let free = 1;
    doc.ports.forEach((_, i) => {
      if (ids[i]) return;
      while (taken.has(free)) free++;
      ids[i] = free;
      taken.add(free);
    });
    plan.ports = doc.ports.map((p, i) => {
      const c: PortConfig = { name: p.name, devargs: p.devargs, id: ids[i]!, adminUp: p.adminUp ?? true };
      if (p.mtu !== undefined) c.mtu = p.mtu;
      if (p.nRxq !== undefined) c.nRxq = p.nRxq;
      if (p.bond !== undefined) c.bond = checkBond(p.bond);
      Object.assign(c, edges[i]);
      if (p.qos !== undefined) {
        const q = p.qos;
        check(`ports[${i}].qos`, () => {
          const k = checkQos(q);
          if (k) c.qos = k;
        });
      }
      return c;
    });

    // tables: valid, each once; defaults are not kept
    const tablePath = new Map<number, string>();
    doc.tables.forEach((t, i) => {
      const w = `tables[${i}]`;
      if (!Number.isInteger(t.id) || t.id < 0 || t.id > 254) throw invalid(`${w}.id`, `table ${t.id} is out of range 0..254`);
      const name = t.name ?? '';
      if (name.length > 31 || /[\0\n]/.test(name)) throw invalid(`${w}.name`, `table name '${name}' is too long (at most 31 characters on one line)`);
      if (!['drop', 'continue', 'controller'].includes(t.miss ?? 'drop')) throw invalid(`${w}.miss`, `'${t.miss}': expected drop, continue or controller`);
      if (t.maxFlows !== undefined && (!Number.isInteger(t.maxFlows) || t.maxFlows < 0 || t.maxFlows > 0xffffffff)) {
        throw invalid(`${w}.maxFlows`, `${t.maxFlows} is out of range 0..4294967295`);
      }
      const j = tablePath.get(t.id);
      if (j !== undefined) throw invalid(`${w}.id`, `table ${t.id} is also ${j}`);
      tablePath.set(t.id, w);
      const want: TableConfig = { id: t.id, name, miss: t.miss ?? 'drop' };
      if (t.maxFlows) want.maxFlows = t.maxFlows;
      if (want.name !== '' || want.miss !== 'drop' || want.maxFlows) plan.tables.push(want);
    });
    plan.tables.sort((a, b) => a.id - b.id);

    // meters: valid (parseConfig checked them; a document built in code may not be), each once
    const meterPath = new Map<number, string>();
    (doc.meters ?? []).forEach((m, i) => {
      const w = `meters[${i}]`;
      let want: MeterConfig;
      try {
        want = checkMeter(m, w);
      } catch (e) {
        if (e instanceof MeterError) throw invalid(e.field, e.problem);
        throw e;
      }
      const j = meterPath.get(want.id);
      if (j !== undefined) throw invalid(`${w}.id`, `meter ${want.id} is also ${j}`);
      meterPath.set(want.id, w);
      plan.meters.push(want);
    });
    plan.meters.sort((a, b) => a.id - b.id);

    // mirrors: ports by the document's names or numbers, each name once; a
    // mirror keeps its slot (the id mirror:NAME compiles to) by name
    const portsOnly = portNamesOf(plan.ports);
    const mirrorPath = new Map<string, string>();
    const mirrorAt = (ref: string, where: string): number => {
      const id = portsOnly.resolvePort(ref) ?? (/^[0-9]+$/.test(ref) && plan.ports.some((p) => p.id === Number(ref)) ? Number(ref) : undefined);
      if (id === undefined) throw fault(where, new ApiError(Status.NOT_FOUND, `port '${ref}' is not in the document`));
      return id;
    };
    const curMirror = new Map(this.mirrors.map((m) => [m.name, m]));
    const takenSlots = new Set<number>();
    const docMirrors = (doc.mirrors ?? []).map((m, i) => {
      const w = `mirrors[${i}]`;
      check(w, () => checkMirrorShape({ name: m.name, out: m.output, src: m.src, dst: m.dst }));
      const j = mirrorPath.get(m.name);
      if (j !== undefined) throw invalid(`${w}.name`, `mirror '${m.name}' is also ${j}`);
      mirrorPath.set(m.name, w);
      const want = {
        name: m.name,
        outPort: mirrorAt(m.output, `${w}.output`),
        src: [...new Set(m.src.map((r, k) => mirrorAt(r, `${w}.src[${k}]`)))],
        dst: [...new Set(m.dst.map((r, k) => mirrorAt(r, `${w}.dst[${k}]`)))],
      };
      const old = curMirror.get(m.name);
      if (old) takenSlots.add(old.id);
      return { want, path: w, old };
    });
    if (docMirrors.length > MIRROR_MAX) throw invalid('mirrors', `at most ${MIRROR_MAX} mirrors`);
    let slot = 0;
    for (const d of docMirrors) {
      let id = d.old?.id;
      if (id === undefined) {
        while (takenSlots.has(slot)) slot++;
        id = slot;
        takenSlots.add(id);
      }
      plan.mirrors.push({ ...d.want, id });
    }
    plan.mirrors.sort((a, b) => a.id - b.id);

    // groups: add-group text with the document's port names, each id once
    const docNames = portNamesOf(plan.ports, plan.mirrors);
    const groupPath = new Map<number, string>();
    (doc.groups ?? []).forEach((text, i) => {
      const w = `groups[${i}]`;
      if (typeof text !== 'string') throw invalid(w, 'expected a string in add-group syntax');
      let g: GroupConfig;
      try {
        g = parseGroup(text, docNames);
      } catch (e) {
        throw fault(w, e);
      }
      const j = groupPath.get(g.id);
      if (j !== undefined) throw invalid(w, `group ${g.id} is also ${j}`);
      groupPath.set(g.id, w);
      plan.groups.push(g);
    });
    plan.groups.sort((a, b) => a.id - b.id);

    // flows: every one parsed with the document's port names (and the mirrors,
    // which documents leave as they are), each identity once
    const opts = { resolvePort: docNames.resolvePort, resolveMirror: docNames.resolveMirror, actionCache: new Map() };
    const docFlows = new Map<string, FlowMod>();
    const flowAt = new Map<string, number>();
    doc.flows.forEach((text, i) => {
      const w = `flows[${i}]`;
      if (typeof text !== 'string') throw invalid(w, 'expected a string of flow text');
      const cmd = /^\s*(add|modify|mod|modify_strict|delete|del|delete_strict)\s+(?=\S)/.exec(text);
      if (cmd && cmd[1] !== 'add') {
        throw invalid(w, `'${cmd[1]}' is a command: a configuration lists the flows themselves, and applying it adds, changes and deletes entries to match`);
      }
      let parsed: { mod: FlowMod; key: string };
      try {
        parsed = parseFlowKeyed(cmd ? text.slice(cmd[0].length) : text, opts);
      } catch (e) {
        throw fault(w, e);
      }
      const j = flowAt.get(parsed.key);
      if (j !== undefined) throw invalid(w, `the same table, priority and match as flows[${j}]`);
      for (const a of parsed.mod.actions) {
        if (a.type === 'meter' && !meterPath.has(a.meter)) throw fault(w, new ApiError(Status.NOT_FOUND, `meter:${a.meter}: the document has no meter ${a.meter}`));
        if (a.type === 'group' && !groupPath.has(a.group)) throw fault(w, new ApiError(Status.NOT_FOUND, `group:${a.group}: the document has no group ${a.group}`));
      }
      flowAt.set(parsed.key, i);
      docFlows.set(parsed.key, asEntry(parsed.mod));
    });

    // the difference, in the order it is made
    const defaultTable = (id: number): TableConfig => ({ id, name: '', miss: 'drop' });
    const curTables = new Map(this.desired.tables.map((t) => [t.id, t]));
    const wantTables = new Map(plan.tables.map((t) => [t.id, t]));
    for (const id of [...new Set([...curTables.keys(), ...wantTables.keys()])].sort((a, b) => a - b)) {
      const old = curTables.get(id) ?? defaultTable(id);
      const want = wantTables.get(id) ?? defaultTable(id);
      const parts: string[] = [];
      if (old.name !== want.name) parts.push(`name ${JSON.stringify(old.name)} -> ${JSON.stringify(want.name)}`);
      if (old.miss !== want.miss) parts.push(`miss ${old.miss} -> ${want.miss}`);
      if ((old.maxFlows ?? 0) !== (want.maxFlows ?? 0)) parts.push(`maxFlows ${old.maxFlows ?? 0} -> ${want.maxFlows ?? 0}`);
      if (!parts.length) continue;
      const tighter = !!want.maxFlows && (!old.maxFlows || want.maxFlows < old.maxFlows);
      (tighter ? plan.tablesAfter : plan.tablesBefore).push({ path: tablePath.get(id) ?? `table ${id}`, want, old });
      change({ kind: 'table', op: 'modify', name: String(id), before: itemText(tableItem(old)), after: itemText(tableItem(want)) }, `~ table ${id} ${parts.join(', ')}`);
    }
    const curMeters = new Map(this.desired.meters.map((m) => [m.id, m]));
    const wantMeters = new Map(plan.meters.map((m) => [m.id, m]));
    for (const old of this.desired.meters) {
      if (wantMeters.has(old.id)) continue;
      plan.metersAfter.push(old);
      change({ kind: 'meter', op: 'delete', name: String(old.id), before: itemText(meterDoc(old)), after: '' }, `- meter ${itemText(meterDoc(old))}`);
    }
    for (const want of plan.meters) {
      const old = curMeters.get(want.id);
      const [a, b] = [old ? itemText(meterDoc(old)) : '', itemText(meterDoc(want))];
      if (a === b) continue;
      plan.metersBefore.push({ path: meterPath.get(want.id)!, want, old });
      change({ kind: 'meter', op: old ? 'modify' : 'add', name: String(want.id), before: a, after: b }, old ? `~ meter ${want.id}: ${a} -> ${b}` : `+ meter ${b}`);
    }
    const extras = (p: PortConfig) =>
      ` id=${p.id}` + (p.mtu !== undefined ? ` mtu=${p.mtu}` : '') + (p.nRxq !== undefined ? ` nRxq=${p.nRxq}` : '') + (p.adminUp ? '' : ' down') + (p.bond ? ` bond ${bondText(p.bond)}` : '') +
      (p.vlan ? ` vlan ${vlanText(p.vlan)}` : '') + (p.nshTag ? ` nsh-tag ${nshTagText(p.nshTag)}` : '');
    const wantPorts = new Map(plan.ports.map((p) => [p.name, p]));
    const gone = new Set<string>();
    for (const c of this.desired.ports) {
      const d = wantPorts.get(c.name);
      // another device, number or bond is another port: deleted, then added
      if (d && d.id === c.id && d.devargs.trim() === c.devargs.trim() && sameBondConfig(d.bond, c.bond)) continue;
      gone.add(c.name);
      plan.portDeletes.push(c);
      change({ kind: 'port', op: 'delete', name: c.name, before: itemText(portItem(c)), after: '' }, `- port ${c.name} ${c.devargs}${extras(c)}`);
    }
    const mods: { line: string; c: ConfigChangeItem }[] = [];
    const curNames = this.portNames();
    plan.ports.forEach((d, i) => {
      const path = `ports[${i}]`;
      const c = cur.get(d.name);
      if (!c || gone.has(d.name)) {
        plan.portAdds.push({ path, port: d });
        if (d.qos) plan.portQos.push({ path, id: d.id, want: d.qos, old: undefined });
        if (d.adminUp) plan.portUps.push({ path, id: d.id });
        change({ kind: 'port', op: 'add', name: d.name, before: '', after: itemText(portItem(d)) }, `+ port ${d.name} ${d.devargs}${extras(d)}`);
        return;
      }
      const parts: string[] = [];
      const dpChange: PortChange = edgeChange(c, d);
      if (dpChange.vlan) parts.push(`vlan ${vlanText(c.vlan) || 'none'} -> ${vlanText(d.vlan) || 'none'}`);
      if (dpChange.nshTag !== undefined) parts.push(`nsh-tag ${nshTagText(c.nshTag) || 'none'} -> ${nshTagText(d.nshTag) || 'none'}`);
      if (c.mtu !== d.mtu) {
        parts.push(`mtu ${c.mtu ?? 'default'} -> ${d.mtu ?? 'default'}`);
        const to = d.mtu ?? DEVICE_DEFAULT_MTU;
        if ((c.mtu ?? DEVICE_DEFAULT_MTU) !== to) dpChange.mtu = to;
      }
      if (c.nRxq !== d.nRxq) {
        parts.push(`nRxq ${c.nRxq ?? 'default'} -> ${d.nRxq ?? 'default'}`);
        const dflt = isAfPacket(d.devargs) ? undefined : 1;
        const to = d.nRxq ?? dflt;
        if (to !== undefined && to !== (c.nRxq ?? dflt)) dpChange.nRxq = to;
      }
      if (c.adminUp !== d.adminUp) {
        parts.push(`adminUp ${c.adminUp} -> ${d.adminUp}`);
        if (d.adminUp) plan.portUps.push({ path, id: d.id });
        else dpChange.adminUp = false;
      }
      if (!sameQos(c.qos, d.qos)) {
        parts.push(`qos ${qosText(c.qos)} -> ${qosText(d.qos)}`);
        plan.portQos.push({ path, id: d.id, want: d.qos, old: c.qos });
      }
      if (!parts.length) return;
      if (Object.keys(dpChange).length) plan.portMods.push({ path, old: c, change: dpChange });
      mods.push({ c: { kind: 'port', op: 'modify', name: d.name, before: itemText(portItem(c)), after: itemText(portItem(d)) }, line: `~ port ${d.name} ${parts.join(', ')}` });
    });
    for (const m of mods) change(m.c, m.line);

    // groups: compared by their text with port numbers (a port that changes
    // number changes the groups that name it)
    const curGroups = new Map(this.groups.map((g) => [g.id, g]));
    const wantGroups = new Set(plan.groups.map((g) => g.id));
    for (const old of this.groups) {
      if (wantGroups.has(old.id)) continue;
      plan.groupsAfter.push(old);
      const t = formatGroup(old, curNames);
      change({ kind: 'group', op: 'delete', name: String(old.id), before: t, after: '' }, `- group ${t}`);
    }
    for (const want of plan.groups) {
      const old = curGroups.get(want.id);
      if (old && formatGroup(old) === formatGroup(want)) continue;
      plan.groupsBefore.push({ path: groupPath.get(want.id)!, want, old });
      const [a, b] = [old ? formatGroup(old, curNames) : '', formatGroup(want, docNames)];
      change({ kind: 'group', op: old ? 'modify' : 'add', name: String(want.id), before: a, after: b }, old ? `~ group ${want.id}: ${a} -> ${b}` : `+ group ${b}`);
    }

    // mirrors: by name; ports compared by number (as groups)
    const mirrorKey = (m: MirrorConfig) => JSON.stringify([m.id, m.outPort, m.src, m.dst]);
    const wantMirrors = new Set(plan.mirrors.map((m) => m.name));
    for (const old of this.mirrors) {
      if (wantMirrors.has(old.name)) continue;
      plan.mirrorsAfter.push(old);
      const t = itemText(mirrorItem(old, curNames));
      change({ kind: 'mirror', op: 'delete', name: old.name, before: t, after: '' }, `- mirror ${t}`);
    }
    for (const want of plan.mirrors) {
      const old = curMirror.get(want.name);
      if (old && mirrorKey(old) === mirrorKey(want)) continue;
      plan.mirrorsBefore.push({ path: mirrorPath.get(want.name)!, want, old });
      const [a, b] = [old ? itemText(mirrorItem(old, curNames)) : '', itemText(mirrorItem(want, docNames))];
      change({ kind: 'mirror', op: old ? 'modify' : 'add', name: want.name, before: a, after: b }, old ? `~ mirror ${want.name}: ${a} -> ${b}` : `+ mirror ${b}`);
    }

    // The flows' difference (as diffFlows makes it, keeping the keys):
    // strict deletes of entries the document lacks, strict modifies where
    // only the actions differ, adds of the rest (an add replaces).
    const curFlows = this.flows.byKey();
    const todo: { m: FlowMod; key: string; old?: FlowMod; want?: FlowMod; t: ReturnType<typeof flowTexts>; order: number }[] = [];
    for (const [key, old] of curFlows) {
      if (docFlows.has(key)) continue;
      const m: FlowMod = { command: 'delete_strict', table: old.table, priority: old.priority, match: old.match, actions: [] };
      todo.push({ m, key, old, t: flowTexts(old, curNames), order: 0 });
    }
    for (const [key, want] of docFlows) {
      const old = curFlows.get(key);
      if (old && sameFlow(want, old)) continue;
      const onlyActions = old !== undefined && sameFlow({ ...want, actions: old.actions }, old);
      const m: FlowMod = onlyActions
        ? { command: 'modify_strict', table: want.table, priority: want.priority, match: want.match, actions: want.actions }
        : { ...want, command: 'add' };
      todo.push({ m, key, old, want, t: flowTexts(want, docNames), order: old ? 1 : 2 });
    }
    // deletes, then changes, then adds, each as an export orders flows
    todo.sort((a, b) => a.order - b.order || a.m.table - b.m.table || b.m.priority - a.m.priority || (a.t.text < b.t.text ? -1 : a.t.text > b.t.text ? 1 : 0));
    for (const { m, key, old, want, t } of todo) {
      plan.flowMods.push(m);
      plan.flowKeys.push(key);
      if (!want) {
        plan.flowInverse.push({ ...old!, command: 'add' });
        plan.flowPaths.push(`deleting flow ${t.name}`);
        change({ kind: 'flow', op: 'delete', name: t.name, before: t.text, after: '' }, `- flow ${t.text}`);
        continue;
      }
      plan.flowPaths.push(`flows[${flowAt.get(key)}]`);
      if (!old) {
        plan.flowInverse.push({ command: 'delete_strict', table: m.table, priority: m.priority, match: m.match, actions: [] });
        change({ kind: 'flow', op: 'add', name: t.name, before: '', after: t.text }, `+ flow ${t.text}`);
        continue;
      }
      plan.flowInverse.push(m.command === 'modify_strict' ? { ...m, actions: old.actions } : { ...old, command: 'add' });
      const was = flowTexts(old, curNames);
      let [from, to] = [was.body, t.body];
      // the same words for different ports (a port took another's number): say the numbers
      if (from === to) [from, to] = [flowTexts(old, {}).body, flowTexts(want, {}).body];
      change({ kind: 'flow', op: 'modify', name: t.name, before: was.text, after: t.text }, `~ flow ${t.name}: ${from} -> ${to}`);
    }
    return plan;
  }

  /** Makes a plan's changes, all or nothing, then persists the new state. */
  private async executeConfig(plan: ConfigPlan, source: string): Promise<void> {
    interface Step {
      /** The document path an error names. */
      what: string;
      run: () => Promise<unknown>;
      undo?: () => Promise<unknown>;
      /** For a flow batch: the position of its first mod in plan.flowMods. */
      flowBase?: number;
    }
    const steps: Step[] = [];
    const dpSteps =
      plan.metersBefore.length + plan.metersAfter.length + plan.groupsBefore.length + plan.groupsAfter.length + plan.mirrorsBefore.length + plan.mirrorsAfter.length +
      plan.tablesBefore.length + plan.portDeletes.length + plan.portAdds.length + plan.portMods.length + plan.flowMods.length + plan.tablesAfter.length + plan.portUps.length + plan.portQos.length;
    const dp = dpSteps ? this.requireDp() : null;
    if (dp) {
      const tableStep = (t: ConfigPlan['tablesBefore'][number]): Step => ({
        what: t.path,
        run: () => dp.tableMod({ id: t.want.id, name: t.want.name, miss: t.want.miss, maxFlows: t.want.maxFlows ?? 0 }),
        undo: () => dp.tableMod({ id: t.old.id, name: t.old.name, miss: t.old.miss, maxFlows: t.old.maxFlows ?? 0 }),
      });
      const attach = (p: PortConfig, adminUp: boolean) =>
        dp.portAdd({ name: p.name, devargs: p.devargs, id: p.id, adminUp, ...(p.mtu ? { mtu: p.mtu } : {}), ...(p.nRxq ? { nRxq: p.nRxq } : {}), ...(p.bond ? { bond: p.bond } : {}), ...edgeAddRequest(p) });
      const running = plan.portMods.length ? new Map((await dp.portList()).map((d) => [d.id, d])) : new Map<number, PortDesc>();
      for (const t of plan.tablesBefore) steps.push(tableStep(t));
      for (const m of plan.metersBefore) {
        const old = m.old;
        steps.push({ what: m.path, run: () => dp.meterMod(old ? 'modify' : 'add', m.want), undo: () => (old ? dp.meterMod('modify', old) : dp.meterMod('delete', { id: m.want.id })) });
      }
      for (const p of plan.portDeletes) steps.push({ what: `deleting port ${p.name}`, run: () => dp.portDel(p.id), undo: () => attach(p, p.adminUp) });
      for (const a of plan.portAdds) steps.push({ what: a.path, run: () => attach(a.port, false), undo: () => dp.portDel(a.port.id) });
      for (const m of plan.portMods) {
        const r = running.get(m.old.id);
        const back: PortChange = {};
        if (m.change.vlan !== undefined) back.vlan = vlanWire(r ? vlanOfDesc(r.vlan) : m.old.vlan);
        if (m.change.nshTag !== undefined) back.nshTag = (r ? nshTagOfDesc(r.nshTag) : m.old.nshTag) ?? null;
        if (m.change.mtu !== undefined) back.mtu = r?.mtu ?? m.old.mtu ?? DEVICE_DEFAULT_MTU;
        if (m.change.nRxq !== undefined) back.nRxq = r?.nRxq ?? m.old.nRxq ?? 1;
        if (m.change.adminUp !== undefined) back.adminUp = m.old.adminUp;
        steps.push({ what: m.path, run: () => dp.portMod(m.old.id, m.change), undo: () => dp.portMod(m.old.id, back) });
      }
      for (const q of plan.portQos) {
        steps.push({ what: `${q.path}.qos`, run: () => dp.portQos(q.id, q.want ?? { rate: 0 }), undo: () => dp.portQos(q.id, q.old ?? { rate: 0 }) });
      }
      for (const g of plan.groupsBefore) {
        const old = g.old;
        steps.push({
          what: g.path,
          run: () => dp.groupMod({ command: old ? 'modify' : 'add', ...g.want }),
          undo: () => (old ? dp.groupMod({ command: 'modify', ...old }) : dp.groupMod({ command: 'delete', id: g.want.id })),
        });
      }
      for (const m of plan.mirrorsBefore) {
        const old = m.old;
        steps.push({ what: m.path, run: () => dp.mirrorMod('set', m.want), undo: () => (old ? dp.mirrorMod('set', old) : dp.mirrorMod('delete', { id: m.want.id })) });
      }
      for (let i = 0; i < plan.flowMods.length; i += FLOW_BATCH_MAX) {
        const batch = plan.flowMods.slice(i, i + FLOW_BATCH_MAX);
        const inverse = plan.flowInverse.slice(i, i + FLOW_BATCH_MAX);
        steps.push({ what: 'flows', flowBase: i, run: () => dp.flowMod(batch), undo: () => dp.flowMod(inverse) });
      }
      for (const m of plan.metersAfter) steps.push({ what: `deleting meter ${m.id}`, run: () => dp.meterMod('delete', { id: m.id }), undo: () => dp.meterMod('add', m) });
      for (const g of plan.groupsAfter) steps.push({ what: `deleting group ${g.id}`, run: () => dp.groupMod({ command: 'delete', id: g.id }), undo: () => dp.groupMod({ command: 'add', ...g }) });
      for (const m of plan.mirrorsAfter) steps.push({ what: `deleting mirror ${m.name}`, run: () => dp.mirrorMod('delete', { id: m.id }), undo: () => dp.mirrorMod('set', m) });
      if (plan.flowMods.length) steps.push({ what: 'flows', run: () => dp.barrier() });
      for (const t of plan.tablesAfter) steps.push(tableStep(t));
      for (const u of plan.portUps) steps.push({ what: u.path, run: () => dp.portMod(u.id, { adminUp: true }), undo: () => dp.portMod(u.id, { adminUp: false }) });
    }

    const done: Step[] = [];
    /** Undoes the steps done, last first; says what could not be undone ("" if all was). */
    const rollback = async (): Promise<string> => {
      const failed: string[] = [];
      for (const s of [...done].reverse()) {
        if (!s.undo) continue;
        try {
          await s.undo();
        } catch (e) {
          this.log.error(`config: cannot undo ${s.what}: ${errText(e)}`);
          failed.push(`${s.what} (${errText(e)})`);
          if (isDpError(e) && e.code === 'DISCONNECTED') break;
        }
      }
      return failed.join('; ');
    };
    for (const s of steps) {
      try {
        await s.run();
      } catch (e) {
        let what = s.what;
        const c = classify(e);
        let message = c.message;
        if (s.flowBase !== undefined && isDpError(e) && e.index >= 0 && plan.flowPaths[s.flowBase + e.index]) {
          what = plan.flowPaths[s.flowBase + e.index];
          message = message.replace(/^flow \d+: /, '');
        }
        const lost = isDpError(e) && e.code === 'DISCONNECTED';
        const failed = lost ? '' : await rollback();
        const outcome = lost
          ? 'the data plane is reconciled with the unchanged desired state when it reconnects'
          : failed
            ? `undoing the steps already made failed for ${failed}; the data plane differs from the desired state until it reconnects`
            : done.length
              ? `the ${done.length} step(s) already made were undone; nothing changed`
              : 'nothing changed';
        throw new ApiError(c.code, `${source ? `${source}: ` : ''}${what}: ${message} (${outcome})`);
      }
      done.push(s);
    }

    const applied = this.flows.apply(plan.flowMods, plan.flowKeys);
    const next = this.draft();
    next.ports = plan.ports;
    next.tables = plan.tables;
    next.meters = plan.meters;
    next.groups = plan.groups;
    next.mirrors = plan.mirrors;
    await this.commit(next, { ports: true, tables: true, meters: true, groups: true, mirrors: true, flows: applied.change }, async () => {
      applied.undo();
      const failed = await rollback();
      if (failed) throw new Error(`cannot undo ${failed}`);
    });
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
    const why = dp.statsError ?? 'no stats segment';
    if (why !== this.statsFallback) {
      this.statsFallback = why;
      this.log.warn(`statistics are read with messages to the data plane, not from its stats segment: ${why}`);
    }
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

  // ---------------------------------------------------------------- packet trace

  /**
   * What the data plane would do with one packet (FlowService.Trace, as
   * ovs-appctl ofproto/trace): a microflow in match syntax made into a
   * frame (flowspec/packet.ts), or a frame as given with the port it
   * arrives on, run through the live tables by the data plane's own code.
   * Nothing is sent and no counter moves.
   */
  async trace(req: { flow?: string; frame?: Buffer; inPort?: string }): Promise<{ inPort: number; frame: Buffer; result: TraceResult }> {
    const bad = (msg: string) => new ApiError(Status.INVALID_ARGUMENT, msg);
    let inPort: number;
    let frame: Buffer;
    if (req.flow !== undefined && req.frame !== undefined) throw bad('packet: give a flow or a frame, not both');
    if (req.flow !== undefined) {
      if (req.inPort) throw bad(`in_port: with a flow, the port is its in_port= field ('${req.inPort}' was given beside it)`);
      if (req.flow.trim() === '') throw bad('flow: empty; a packet in match syntax, e.g. in_port=p1,tcp,nw_dst=10.0.0.2,tp_dst=80');
      ({ inPort, frame } = packetFromFlow(req.flow, this.portNames()));
      if (!this.desired.ports.some((p) => p.id === inPort)) throw new ApiError(Status.NOT_FOUND, `in_port: port ${inPort} does not exist`);
    } else if (req.frame !== undefined) {
      if (!req.inPort) throw bad('in_port: the port the frame arrives on is required (a name or number)');
      inPort = this.findPort(req.inPort).id;
      frame = req.frame;
      if (frame.length === 0) throw bad('frame: empty');
      if (frame.length > TRACE_FRAME_MAX) throw bad(`frame: ${frame.length} bytes, at most ${TRACE_FRAME_MAX}`);
    } else {
      throw bad('packet: give a flow (in_port=p1,tcp,...) or a frame with its in_port');
    }
    const result = await this.requireDp().trace(inPort, frame);
    return { inPort, frame, result };
  }

  // ---------------------------------------------------------------- packet-out

  /**
   * PacketService.PacketOut: actions in flow text run on one frame (given,
   * or built from match-syntax fields as trace builds one) as if it had
   * been received on inPort (empty: none), sent by the data plane's own
   * lcore. `table` (output:table) runs the tables. Nothing is kept.
   */
  async packetOut(req: { inPort?: string; actions: string; frame?: Buffer; flow?: string }): Promise<{ inPort: number; frame: Buffer; actions: Action[] }> {
    const bad = (msg: string) => new ApiError(Status.INVALID_ARGUMENT, msg);
    const inPort = req.inPort && req.inPort.trim() !== '' ? this.findPort(req.inPort).id : 0;
    let frame: Buffer;
    if (req.flow !== undefined && req.frame !== undefined) throw bad('packet: give a frame or a flow, not both');
    if (req.flow !== undefined) {
      if (req.flow.trim() === '') throw bad('flow: empty; fields in match syntax, e.g. udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=53');
      if (/(^|[,\s])in_port=/.test(req.flow)) throw bad('flow: in_port belongs in the in_port field of the request, not in the frame');
      // in_port only places the packet; any port number builds the same bytes
      ({ frame } = packetFromFlow(`in_port=1,${req.flow}`, this.portNames()));
    } else if (req.frame !== undefined) {
      frame = req.frame;
    } else {
      throw bad('packet: give a frame (bytes) or a flow (match syntax) to build one from');
    }
    if (frame.length === 0) throw bad('frame: empty');
    if (frame.length < 14) throw bad(`frame: ${frame.length} bytes, shorter than an Ethernet header (14)`);
    if (frame.length > TRACE_FRAME_MAX) throw bad(`frame: ${frame.length} bytes, at most ${TRACE_FRAME_MAX}`);
    if (req.actions.trim() === '') throw bad('actions: none; e.g. output:p2, or table to run the flows');
    const names = this.portNames();
    const actions = parseActions(req.actions, {
      table: TABLE_ALL,
      resolvePort: (n) => (n.toLowerCase() === 'table' ? PORT_TABLE : names.resolvePort(n)),
      portName: names.portName,
    });
    if (actions.length === 0) throw bad('actions: drop sends nothing; e.g. output:p2');
    await this.requireDp().packetOut(inPort || null, frame, actions);
    return { inPort, frame, actions };
  }
}
