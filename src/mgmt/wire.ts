/**
 * Conversions between the domain (the addon's types, bigint counters) and
 * the wire (generated message types, uint64 as decimal strings).
 */
import type { BondConfig, BondDesc, BondMode, BondXmitPolicy, DpStats, FlowEntry, PmdStats, PortDesc, TableDesc, TableMiss } from './addon-types';
import type { BondConfig__Output } from '../gen/switchyard/v1/BondConfig';
import type { BondMode__Output } from '../gen/switchyard/v1/BondMode';
import type { BondStatus } from '../gen/switchyard/v1/BondStatus';
import type { BondXmitPolicy__Output } from '../gen/switchyard/v1/BondXmitPolicy';
import { formatActions, formatFlowEntry, formatMatch, FlowParts, PortNames } from '../flowspec';
import type { DatapathStats } from '../gen/switchyard/v1/DatapathStats';
import type { DataplaneState } from '../gen/switchyard/v1/DataplaneState';
import type { Flow__Output } from '../gen/switchyard/v1/Flow';
import type { FlowEntry as WireFlowEntry } from '../gen/switchyard/v1/FlowEntry';
import type { PmdStats as WirePmdStats } from '../gen/switchyard/v1/PmdStats';
import type { Port } from '../gen/switchyard/v1/Port';
import type { PortQos as WirePortQos, PortQos__Output } from '../gen/switchyard/v1/PortQos';
import type { PortQos } from './addon-types';
import type { PortVlan, PortVlan__Output } from '../gen/switchyard/v1/PortVlan';
import type { NshTag, NshTag__Output } from '../gen/switchyard/v1/NshTag';
import type { PortNshTagDesc, PortVlanDesc } from './addon-types';
import type { PortStats as WirePortStats } from '../gen/switchyard/v1/PortStats';
import type { Table } from '../gen/switchyard/v1/Table';
import type { TableMiss__Output } from '../gen/switchyard/v1/TableMiss';
import type { DpStateName, NamedPortStats } from './switch';

export function u64(v: bigint | number | undefined): string {
  return (v === undefined ? 0n : BigInt(v)).toString();
}

/** A uint64 from the wire (longs: String) as a bigint. */
export function fromU64(v: string | number | undefined): bigint {
  if (v === undefined || v === '') return 0n;
  return BigInt(v);
}

/** A port's QoS as the data plane runs it, for Port.qos (none: null). */
export function toWireQos(q: PortQos | undefined): WirePortQos | null {
  if (!q || (q.rate === 0 && q.queues.length === 0)) return null;
  return { rateKbps: q.rate, burstKbit: q.burst, queues: q.queues.map((x) => ({ queue: x.queue, rateKbps: x.rate, burstKbit: x.burst })) };
}

/** A PortQos message as a QoS to check (qos.ts checkQos names bad fields); unset: undefined. */
export function fromWireQos(q: PortQos__Output | null | undefined): Record<string, unknown> | undefined {
  if (!q) return undefined;
  const n = (v: string | number) => Number(v);
  return {
    rate: n(q.rateKbps),
    ...(n(q.burstKbit) ? { burst: n(q.burstKbit) } : {}),
    ...(q.queues.length ? { queues: q.queues.map((x) => ({ queue: x.queue, rate: n(x.rateKbps), ...(n(x.burstKbit) ? { burst: n(x.burstKbit) } : {}) })) } : {}),
  };
}

export function toWirePort(d: PortDesc, qos?: PortQos): Port {
  return {
    id: d.id,
    name: d.name,
    devargs: d.devargs,
    driver: d.driver,
    mtu: d.mtu,
    adminUp: d.adminUp,
    linkUp: d.linkUp,
    linkSpeedMbps: d.linkSpeed,
    mac: d.mac,
    nRxq: d.nRxq,
    nTxq: d.nTxq,
    dpdkPort: d.dpdkPort,
    bond: d.bond ? toWireBond(d.bond) : null,
    qos: toWireQos(qos),
    vlan: d.vlan ? toWireVlan(d.vlan) : null,
    nshTag: d.nshTag ? toWireNshTag(d.nshTag) : null,
  };
}

const WIRE_VLAN_MODES = { none: 'VLAN_MODE_NONE', access: 'VLAN_MODE_ACCESS', trunk: 'VLAN_MODE_TRUNK' } as const;

function toWireVlan(v: PortVlanDesc): PortVlan {
  return { mode: WIRE_VLAN_MODES[v.mode], tag: v.tag, trunks: v.trunks, native: v.native };
}

function toWireNshTag(t: PortNshTagDesc): NshTag {
  return { spi: t.spi, si: t.si, ttl: t.ttl, mdtype: t.mdtype, context: t.context };
}

/** A PortVlan from the wire as edge.ts checkVlan takes it (UNSPECIFIED: none); undefined when absent. */
export function fromWireVlan(v: PortVlan__Output | null | undefined): Record<string, unknown> | undefined {
  if (!v) return undefined;
  const mode = (Object.keys(WIRE_VLAN_MODES) as (keyof typeof WIRE_VLAN_MODES)[]).find((k) => WIRE_VLAN_MODES[k] === v.mode) ?? (v.mode === 'VLAN_MODE_UNSPECIFIED' ? 'none' : String(v.mode));
  return { mode, tag: v.tag, trunks: v.trunks, native: v.native };
}

/** An NshTag from the wire as edge.ts checkNshTag takes it; undefined when absent. */
export function fromWireNshTag(t: NshTag__Output | null | undefined): Record<string, unknown> | undefined {
  if (!t) return undefined;
  const o: Record<string, unknown> = { spi: t.spi, context: t.context };
  if (t.si !== undefined) o.si = t.si;
  if (t.ttl !== undefined) o.ttl = t.ttl;
  if (t.mdtype !== undefined) o.mdtype = t.mdtype;
  return o;
}

const WIRE_BOND_MODES: Record<BondMode, BondMode__Output> = {
  'round-robin': 'BOND_MODE_ROUND_ROBIN',
  'active-backup': 'BOND_MODE_ACTIVE_BACKUP',
  'balance-xor': 'BOND_MODE_BALANCE_XOR',
  broadcast: 'BOND_MODE_BROADCAST',
};
const WIRE_XMIT_POLICIES: Record<BondXmitPolicy, BondXmitPolicy__Output> = {
  l2: 'BOND_XMIT_POLICY_L2',
  l23: 'BOND_XMIT_POLICY_L23',
  l34: 'BOND_XMIT_POLICY_L34',
};

function toWireBond(b: BondDesc): BondStatus {
  return {
    mode: WIRE_BOND_MODES[b.mode],
    xmitPolicy: WIRE_XMIT_POLICIES[b.xmitPolicy],
    primary: b.primary,
    members: b.members.map((m) => ({
      devargs: m.devargs,
      linkUp: m.linkUp,
      active: m.active,
      attached: m.dpdkPort !== null,
      rxPackets: u64(m.rxPackets),
      txPackets: u64(m.txPackets),
    })),
  };
}

/**
 * A BondConfig from the wire, or undefined if none was sent. Unknown or
 * unspecified values pass through as they are, for checkBond() to name.
 */
export function fromWireBond(b: BondConfig__Output | null | undefined): Record<string, unknown> | undefined {
  if (!b) return undefined;
  const mode = (Object.keys(WIRE_BOND_MODES) as BondMode[]).find((k) => WIRE_BOND_MODES[k] === b.mode) ?? String(b.mode);
  const xp = b.xmitPolicy === 'BOND_XMIT_POLICY_UNSPECIFIED' ? undefined : (Object.keys(WIRE_XMIT_POLICIES) as BondXmitPolicy[]).find((k) => WIRE_XMIT_POLICIES[k] === b.xmitPolicy) ?? String(b.xmitPolicy);
  const out: Record<string, unknown> = { mode, members: b.members };
  if (xp !== undefined) out.xmitPolicy = xp;
  if (b.primary) out.primary = b.primary;
  return out satisfies Partial<Record<keyof BondConfig, unknown>>;
}

function dropMap(drops: Record<string, bigint>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(drops)) out[k] = u64(v);
  return out;
}

export function toWirePortStats(s: NamedPortStats): WirePortStats {
  return {
    id: s.id,
    name: s.name,
    rxPackets: u64(s.rxPackets),
    rxBytes: u64(s.rxBytes),
    txPackets: u64(s.txPackets),
    txBytes: u64(s.txBytes),
    rxErrors: u64(s.rxErrors),
    txErrors: u64(s.txErrors),
    rxMissed: u64(s.rxMissed),
    drops: dropMap(s.drops),
  };
}

export function toWireFlowEntry(e: FlowEntry, ports: PortNames): WireFlowEntry {
  const formatted = { match: formatMatch(e.match, ports), actions: formatActions(e.actions, ports) };
  return {
    tableId: e.table,
    priority: e.priority,
    cookie: u64(e.cookie),
    match: formatted.match,
    actions: formatted.actions,
    idleTimeout: e.idleTimeout ?? 0,
    hardTimeout: e.hardTimeout ?? 0,
    flags: e.flags ?? 0,
    packets: u64(e.stats.packets),
    bytes: u64(e.stats.bytes),
    durationSec: Number(e.stats.durationNs) / 1e9,
    idleSec: Number(e.stats.idleNs) / 1e9,
    text: formatFlowEntry(e, ports, formatted),
  };
}

/** One PMD lcore, its rx queues' ports named by portName (unknown: ""). */
export function toWirePmdStats(p: PmdStats, portName: (id: number) => string | undefined): WirePmdStats {
  const lookups = p.cacheHits + p.cacheMisses;
  const out: WirePmdStats = {
    slot: p.slot,
    lcoreId: p.lcoreId,
    packets: u64(p.packets),
    busyCycles: u64(p.busyCycles),
    idleCycles: u64(p.idleCycles),
    cyclesPerPacket: p.packets > 0n ? Number(p.busyCycles) / Number(p.packets) : 0,
    cacheHits: u64(p.cacheHits),
    cacheMisses: u64(p.cacheMisses),
    cacheHitRate: lookups > 0n ? Number(p.cacheHits) / Number(lookups) : 0,
    classifierLookups: u64(p.clsLookups),
    classifierProbes: u64(p.clsProbes),
    rxQueues: p.rxqs.map((q) => ({ portId: q.port, port: portName(q.port) ?? '', queue: q.queue, packets: u64(q.packets) })),
  };
  if (p.cpu !== null) out.cpu = p.cpu;
  return out;
}

const MISS_TO_WIRE: Record<TableMiss, TableMiss__Output> = {
  drop: 'TABLE_MISS_DROP',
  continue: 'TABLE_MISS_CONTINUE',
  controller: 'TABLE_MISS_CONTROLLER',
};

export function missToWire(m: TableMiss): TableMiss__Output {
  return MISS_TO_WIRE[m] ?? 'TABLE_MISS_UNSPECIFIED';
}

/** A TableMiss from the wire; undefined for UNSPECIFIED (unchanged). */
export function missFromWire(m: string | number | undefined): TableMiss | undefined {
  switch (m) {
    case 'TABLE_MISS_DROP':
    case 1:
      return 'drop';
    case 'TABLE_MISS_CONTINUE':
    case 2:
      return 'continue';
    case 'TABLE_MISS_CONTROLLER':
    case 3:
      return 'controller';
    default:
      return undefined;
  }
}

export function toWireTable(t: TableDesc): Table {
  return {
    id: t.id,
    name: t.name,
    miss: missToWire(t.miss),
    flows: t.nFlows,
    maxFlows: t.maxFlows,
    lookups: u64(t.lookups),
    matched: u64(t.matched),
  };
}

export function toWireDpStats(s: DpStats, reasons: readonly { name: string; help: string }[]): DatapathStats {
  let total = 0n;
  for (const v of Object.values(s.drops)) total += BigInt(v);
  const known = reasons.length ? reasons : Object.keys(s.drops).map((name) => ({ name, help: '' }));
  return {
    rxPackets: u64(s.rxPackets),
    txPackets: u64(s.txPackets),
    nPorts: s.nPorts,
    nFlows: s.nFlows,
    copies: u64(s.copies ?? 0n),
    drops: dropMap(s.drops),
    dropsTotal: total.toString(),
    reasons: known.map((r) => ({ name: r.name, help: r.help })),
  };
}

const STATE_TO_WIRE: Record<DpStateName, DataplaneState> = {
  disconnected: 'DATAPLANE_STATE_DISCONNECTED',
  launching: 'DATAPLANE_STATE_LAUNCHING',
  connecting: 'DATAPLANE_STATE_CONNECTING',
  reconciling: 'DATAPLANE_STATE_RECONCILING',
  connected: 'DATAPLANE_STATE_CONNECTED',
  stopped: 'DATAPLANE_STATE_STOPPED',
};

export function dpStateToWire(s: DpStateName): DataplaneState {
  return STATE_TO_WIRE[s];
}

/** Whether a proto3 `optional` field was sent (oneofs: true names it in `_field`). */
export function has<T extends object>(msg: T, field: keyof T & string): boolean {
  const m = msg as Record<string, unknown>;
  return m[`_${field}`] === field || (m[`_${field}`] === undefined && m[field] !== undefined && m[field] !== null);
}

/** A Flow message as flowspec parts. */
export function flowPartsFromWire(f: Flow__Output): FlowParts {
  const parts: FlowParts = {
    match: f.match ?? '',
    actions: f.actions ?? '',
    cookie: fromU64(f.cookie),
    cookieMask: fromU64(f.cookieMask),
    idleTimeout: f.idleTimeout ?? 0,
    hardTimeout: f.hardTimeout ?? 0,
    flags: f.flags ?? 0,
  };
  if (has(f, 'tableId')) parts.table = f.tableId;
  if (has(f, 'priority')) parts.priority = f.priority;
  return parts;
}
