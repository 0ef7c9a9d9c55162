/**
 * An in-memory stand-in for the native addon's DataplaneClient, for unit
 * tests of the daemon's logic (the real one is exercised by the integration
 * tests). Flow semantics come from src/mgmt/flowtable.ts; errors are DpError
 * shaped as the addon's; `failNext` makes the next call of a method reject.
 */
import type {
  Action,
  CookieStats,
  DataplaneClient,
  MirrorStats,
  DpEvent,
  DpInfo,
  DpStats,
  FlowEntry,
  FlowMod,
  GroupConfig,
  GroupMod,
  GroupStats,
  MeterBand,
  MeterCommand,
  MeterDesc,
  MeterStats,
  MeterBandRequest,
  MeterUnit,
  PmdStats,
  PortAddRequest,
  PortChange,
  PortEdgeRequest,
  PortDesc,
  PortQos,
  PortQosConfig,
  PortStats,
  TableDesc,
  TableMiss,
  StatsSnapshot,
  TraceResult,
} from '../../src/mgmt/addon-types';
import { applyFlowMods, selects } from '../../src/mgmt/flowtable';
import { flowKey } from '../../src/flowspec';

export const DROP_REASONS = ['runt', 'table_miss', 'action_drop', 'no_port'];

export function dpError(code: string, message: string, index = -1): Error & { code: string; index: number } {
  return Object.assign(new Error(message), { code, index });
}

export class FakeDataplane implements DataplaneClient {
  connected = false;
  ports: PortDesc[] = [];
  flows: FlowMod[] = [];
  added = new Map<string, number>(); // flow key -> time added (for "untouched" checks)
  tables = new Map<number, TableDesc>();
  groups = new Map<number, GroupConfig>();
  calls: string[] = [];
  private failures = new Map<string, Error>();
  private listeners: { event: ((ev: DpEvent) => void)[]; disconnected: ((r: string) => void)[] } = { event: [], disconnected: [] };
  private clock = 0;

  info: DpInfo = {
    pid: 4242,
    nWorkers: 1,
    startNs: BigInt(Date.now()) * 1000000n,
    tscHz: 1000000000n,
    maxPorts: 256,
    maxTables: 255,
    version: '0.1.0',
    dpdkVersion: 'DPDK 22.11.0',
    filePrefix: 'fake',
  };

  failNext(method: string, err: Error): void {
    this.failures.set(method, err);
  }

  private enter(method: string): void {
    this.calls.push(method);
    const f = this.failures.get(method);
    if (f) {
      this.failures.delete(method);
      throw f;
    }
    if (!this.connected && method !== 'connect') throw dpError('DISCONNECTED', 'not connected');
  }

  async connect(): Promise<DpInfo> {
    this.enter('connect');
    this.connected = true;
    return this.info;
  }

  close(): void {
    if (!this.connected) return;
    this.connected = false;
    for (const cb of this.listeners.disconnected) cb('closed');
  }

  /** Simulates the data plane going away. */
  crash(): void {
    this.close();
  }

  emit(ev: DpEvent): void {
    for (const cb of this.listeners.event) cb(ev);
  }

  on(event: 'event', cb: (ev: DpEvent) => void): void;
  on(event: 'disconnected', cb: (reason: string) => void): void;
  on(event: 'event' | 'disconnected', cb: ((ev: DpEvent) => void) | ((r: string) => void)): void {
    (this.listeners[event] as unknown[]).push(cb);
  }

  async portAdd(req: PortAddRequest): Promise<PortDesc> {
    this.enter('portAdd');
    if (this.ports.some((p) => p.name === req.name)) throw dpError('EXIST', `port '${req.name}' exists`);
    if (!/^net_/.test(req.devargs)) throw dpError('INVAL', `cannot parse devargs '${req.devargs}'`);
    let id = req.id ?? 0;
    if (!id) for (id = 1; this.ports.some((p) => p.id === id); id++);
    if (this.ports.some((p) => p.id === id)) throw dpError('EXIST', `port ${id} exists`);
    const d: PortDesc = {
      id,
      dpdkPort: this.ports.length,
      name: req.name,
      driver: req.devargs.replace(/[0-9]*,.*$/, '').replace(/[0-9]+$/, ''),
      devargs: req.devargs,
      mtu: req.mtu ?? 1500,
      adminUp: req.adminUp ?? true,
      linkUp: req.adminUp ?? true,
      linkSpeed: 10000,
      mac: `02:00:00:00:00:${id.toString(16).padStart(2, '0')}`,
      nRxq: req.nRxq ?? 1,
      nTxq: 1,
    };
    fakeEdge(d, req);
    this.ports.push(d);
    this.ports.sort((a, b) => a.id - b.id);
    return { ...d };
  }

  async portDel(id: number): Promise<void> {
    this.enter('portDel');
    if (!this.ports.some((p) => p.id === id)) throw dpError('NOENT', `port ${id} does not exist`);
    this.ports = this.ports.filter((p) => p.id !== id);
  }

  async portMod(id: number, change: PortChange): Promise<PortDesc> {
    this.enter('portMod');
    const p = this.ports.find((q) => q.id === id);
    if (!p) throw dpError('NOENT', `port ${id} does not exist`);
    if (change.mtu !== undefined) {
      if (change.mtu < 64 || change.mtu > 9600) throw dpError('INVAL', `MTU ${change.mtu} out of range`);
      p.mtu = change.mtu;
    }
    if (change.adminUp !== undefined) p.adminUp = p.linkUp = change.adminUp;
    fakeEdge(p, change);
    if (change.nRxq !== undefined) {
      if (change.nRxq < 1 || change.nRxq > 16) throw dpError('INVAL', `${change.nRxq} rx queues is out of range 1..16`);
      p.nRxq = change.nRxq;
    }
    return { ...p };
  }

  async portList(): Promise<PortDesc[]> {
    this.enter('portList');
    return this.ports.map((p) => ({ ...p }));
  }

  async portStats(id?: number): Promise<PortStats[]> {
    this.enter('portStats');
    const ports = id ? this.ports.filter((p) => p.id === id) : this.ports;
    if (id && !ports.length) throw dpError('NOENT', `port ${id} does not exist`);
    return ports.map((p) => ({
      id: p.id,
      rxPackets: 3n,
      rxBytes: 294n,
      txPackets: 3n,
      txBytes: 294n,
      rxErrors: 0n,
      txErrors: 0n,
      rxMissed: 0n,
      drops: Object.fromEntries(DROP_REASONS.map((r) => [r, r === 'table_miss' ? 18446744073709551615n : 0n])),
    }));
  }

  async portStatsClear(): Promise<void> {
    this.enter('portStatsClear');
  }

  async flowMod(mods: FlowMod[]): Promise<number> {
    this.enter('flowMod');
    mods.forEach((m, i) => {
      if (m.actions.some((a) => a.type === 'goto_table' && a.table <= m.table)) {
        throw dpError('INVAL', `flow ${i}: goto_table must name a later table`, i);
      }
    });
    const r = applyFlowMods(this.flows, mods);
    this.flows = r.flows;
    for (const f of this.flows) if (!this.added.has(flowKey(f))) this.added.set(flowKey(f), ++this.clock);
    for (const m of mods) if (m.command === 'add') this.added.set(flowKey(m), ++this.clock);
    return r.changed;
  }

  async flowDump(filter?: Partial<FlowMod>): Promise<FlowEntry[]> {
    this.enter('flowDump');
    const sel = filter
      ? this.flows.filter((f) => selects({ command: 'delete', table: 255, priority: 0, match: {}, actions: [], ...filter } as FlowMod, f))
      : this.flows;
    return sel.map((f) => ({
      table: f.table,
      priority: f.priority,
      cookie: f.cookie ?? 0n,
      idleTimeout: f.idleTimeout,
      hardTimeout: f.hardTimeout,
      flags: f.flags,
      match: f.match,
      actions: f.actions,
      stats: { packets: 5n, bytes: 490n, durationNs: 1234000000n, idleNs: 0n },
    }));
  }

  async tableList(): Promise<TableDesc[]> {
    this.enter('tableList');
    const ids = new Set([...this.tables.keys(), ...this.flows.map((f) => f.table)]);
    return [...ids].sort((a, b) => a - b).map((id) => this.table(id));
  }

  private table(id: number): TableDesc {
    const t = this.tables.get(id) ?? { id, name: '', miss: 'drop' as TableMiss, nFlows: 0, maxFlows: 0, lookups: 10n, matched: 8n };
    return { ...t, nFlows: this.flows.filter((f) => f.table === id).length };
  }

  async tableMod(desc: { id: number; name?: string; miss?: TableMiss; maxFlows?: number }): Promise<TableDesc> {
    this.enter('tableMod');
    const t = { ...this.table(desc.id), name: desc.name ?? '', miss: desc.miss ?? 'drop', maxFlows: desc.maxFlows ?? 0 };
    this.tables.set(desc.id, t);
    return this.table(desc.id);
  }

  /** PMD counters pmdStats() answers (one lcore polling every port's queues by default). */
  pmd: PmdStats[] | null = null;

  async pmdStats(): Promise<PmdStats[]> {
    this.enter('pmdStats');
    if (this.pmd) return this.pmd.map((p) => ({ ...p, rxqs: p.rxqs.map((q) => ({ ...q })) }));
    const rxqs = this.ports.flatMap((p) => Array.from({ length: p.nRxq }, (_, queue) => ({ port: p.id, queue, packets: 0n })));
    return [{ slot: 0, lcoreId: 1, cpu: 1, packets: 0n, busyCycles: 0n, idleCycles: 0n, cacheHits: 0n, cacheMisses: 0n, clsLookups: 0n, clsProbes: 0n, rxqs }];
  }

  async pmdStatsClear(): Promise<void> {
    this.enter('pmdStatsClear');
  }

  async dpStats(): Promise<DpStats> {
    this.enter('dpStats');
    return {
      drops: Object.fromEntries(DROP_REASONS.map((r) => [r, 1n])),
      rxPackets: 100n,
      txPackets: 90n,
      nPorts: this.ports.length,
      nFlows: this.flows.length,
      copies: 0n,
    };
  }

  async barrier(): Promise<void> {
    this.enter('barrier');
  }

  /** No stats segment: the daemon falls back to messages. */
  readStats(): StatsSnapshot | null {
    return null;
  }

  async flowCookieStats(limit = 1024): Promise<CookieStats[]> {
    this.enter('flowCookieStats');
    const by = new Map<bigint, CookieStats>();
    for (const f of this.flows) {
      const c = f.cookie ?? 0n;
      const s = by.get(c) ?? { cookie: c, flows: 0, packets: 0n, bytes: 0n };
      s.flows++;
      by.set(c, s);
    }
    return [...by.values()].slice(0, limit);
  }

  async groupMod(mod: GroupMod): Promise<void> {
    this.enter('groupMod');
    const has = this.groups.has(mod.id);
    if (mod.command === 'delete') {
      this.groups.delete(mod.id);
      return;
    }
    if (mod.command === 'add' && has) throw dpError('EXIST', `group ${mod.id} already exists`);
    if (mod.command === 'modify' && !has) throw dpError('NOENT', `group ${mod.id}: no such group`);
    this.groups.set(mod.id, { id: mod.id, type: mod.type ?? 'all', buckets: mod.buckets ?? [], ...(mod.fields ? { fields: mod.fields } : {}) });
  }

  async groupStats(id?: number): Promise<GroupStats[]> {
    this.enter('groupStats');
    return [...this.groups.values()]
      .filter((g) => id === undefined || g.id === id)
      .map((g) => ({ id: g.id, type: g.type, flows: 0, packets: 0n, bytes: 0n, dropped: 0n, buckets: g.buckets.map(() => ({ packets: 0n, bytes: 0n })) }));
  }

  meters = new Map<number, MeterDesc>();

  async meterMod(command: MeterCommand, d: { id: number; unit?: MeterUnit; rate?: number; burst?: number; band?: MeterBand; dscp?: number; bands?: MeterBandRequest[] }): Promise<MeterDesc | undefined> {
    this.enter('meterMod');
    const have = this.meters.get(d.id);
    if (command === 'add' && have) throw dpError('EXIST', `meter ${d.id} already exists`);
    if (command !== 'add' && !have) throw dpError('NOENT', `meter ${d.id} does not exist`);
    if (command === 'delete') {
      if (this.flows.some((f) => f.actions.some((a) => a.type === 'meter' && a.meter === d.id))) throw dpError('BUSY', `meter ${d.id} is used by flows`);
      this.meters.delete(d.id);
      return undefined;
    }
    const dflt = (r: number, b?: number) => b || Math.max(1, Math.floor(r / 10));
    const bands = (d.bands ?? [{ type: d.band ?? 'drop', rate: d.rate ?? 1, burst: d.burst, dscp: d.dscp }])
      .map((b) => ({ type: b.type, rate: b.rate, burst: dflt(b.rate, b.burst), dscp: b.dscp ?? 0 }))
      .sort((a, b) => a.rate - b.rate);
    const m: MeterDesc = { id: d.id, unit: d.unit ?? 'kbps', rate: bands[0].rate, burst: bands[0].burst, band: bands[0].type, dscp: bands[0].dscp, bands };
    this.meters.set(d.id, m);
    return { ...m };
  }

  async meterStats(id?: number): Promise<MeterStats[]> {
    this.enter('meterStats');
    const zero = { durationNs: 0n, passPackets: 0n, passBytes: 0n, bandPackets: 0n, bandBytes: 0n };
    if (id !== undefined && !this.meters.has(id)) throw dpError('NOENT', `meter ${id} does not exist`);
    return [...this.meters.values()].filter((m) => id === undefined || m.id === id).sort((a, b) => a.id - b.id).map((m) => ({ ...m, ...zero, bandStats: (m.bands ?? [m]).map(() => ({ packets: 0n, bytes: 0n })) }));
  }

  qos = new Map<number, PortQos>();

  async portQos(portId: number, q?: PortQosConfig): Promise<PortQos> {
    this.enter('portQos');
    if (!this.ports.some((p) => p.id === portId)) throw dpError('NOENT', `port ${portId} does not exist`);
    if (q !== undefined) {
      const dflt = (r: number, b?: number) => b || Math.max(25, Math.floor(r / 10));
      const set: PortQos = { portId, rate: q.rate, burst: q.rate ? dflt(q.rate, q.burst) : 0, queues: (q.queues ?? []).map((x) => ({ queue: x.queue, rate: x.rate, burst: dflt(x.rate, x.burst) })).sort((a, b) => a.queue - b.queue) };
      if (set.rate === 0 && set.queues.length === 0) this.qos.delete(portId);
      else this.qos.set(portId, set);
    }
    return structuredClone(this.qos.get(portId) ?? { portId, rate: 0, burst: 0, queues: [] });
  }

  async trace(_inPort: number, _frame: Buffer): Promise<TraceResult> {
    this.enter('trace');
    throw dpError('UNSUPP', 'the fake data plane does not trace');
  }

  mirrors = new Map<number, { id: number; name?: string; outPort?: number; src?: number[]; dst?: number[] }>();

  async mirrorMod(command: 'set' | 'delete', desc: { id: number; name?: string; outPort?: number; src?: number[]; dst?: number[] }): Promise<void> {
    this.enter('mirrorMod');
    if (command === 'delete') {
      if (!this.mirrors.delete(desc.id)) throw dpError('NOENT', `mirror ${desc.id} does not exist`);
      return;
    }
    for (const p of [desc.outPort ?? 0, ...(desc.src ?? []), ...(desc.dst ?? [])]) {
      if (!this.ports.some((q) => q.id === p)) throw dpError('NOENT', `mirror '${desc.name}': port ${p} does not exist`);
    }
    this.mirrors.set(desc.id, structuredClone(desc));
  }

  async mirrorStats(): Promise<MirrorStats[]> {
    this.enter('mirrorStats');
    return [...this.mirrors.values()].map((m) => ({ id: m.id, packets: 0n, bytes: 0n, noMbuf: 0n }) as MirrorStats);
  }

  async packetOut(_inPort: number | null, _frame: Buffer, _actions: Action[]): Promise<void> {
    this.enter('packetOut');
    throw dpError('UNSUPP', 'the fake data plane sends no packets');
  }
}

/** The data plane's edge settings (PORT_VLAN, PORT_NSH_TAG) as it would report them. */
function fakeEdge(d: PortDesc, req: PortEdgeRequest): void {
  if (req.vlan) {
    if (req.vlan.mode === 'none') delete d.vlan;
    else d.vlan = { mode: req.vlan.mode, tag: req.vlan.tag ?? 0, trunks: req.vlan.trunks ?? [], native: req.vlan.native ?? 0 };
  }
  if (req.nshTag === null) delete d.nshTag;
  else if (req.nshTag) {
    const c = req.nshTag.context ?? [];
    d.nshTag = { spi: req.nshTag.spi, si: req.nshTag.si ?? 255, ttl: req.nshTag.ttl ?? 63, mdtype: req.nshTag.mdtype ?? 1, context: [0, 1, 2, 3].map((i) => c[i] ?? 0) };
  }
}
