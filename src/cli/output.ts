/**
 * What the CLI prints: the --json shapes (scripts and tests depend on them;
 * 64-bit numbers as decimal strings) and the human tables.
 */
import type { DatapathStats__Output } from '../gen/switchyard/v1/DatapathStats';
import type { FlowEntry__Output } from '../gen/switchyard/v1/FlowEntry';
import type { GetPmdStatsResponse__Output } from '../gen/switchyard/v1/GetPmdStatsResponse';
import type { PmdStats__Output } from '../gen/switchyard/v1/PmdStats';
import type { BondStatus__Output } from '../gen/switchyard/v1/BondStatus';
import type { Port__Output } from '../gen/switchyard/v1/Port';
import { qosJson, qosLine, type QosJson } from './qos';
import { nshTagShown, vlanShown } from './edge';
import type { PortStats__Output } from '../gen/switchyard/v1/PortStats';
import type { Status__Output } from '../gen/switchyard/v1/Status';
import type { Table__Output } from '../gen/switchyard/v1/Table';

export interface PortJson {
  id: number;
  name: string;
  devargs: string;
  driver: string;
  mtu: number;
  adminUp: boolean;
  linkUp: boolean;
  mac: string;
  nRxq: number;
  nTxq: number;
  /** A bond port (link aggregation). */
  bond?: BondJson;
  /** Egress QoS (rates in kbit/s, bursts in kbit). */
  qos?: QosJson;
  /** VLAN mode: "access 10", "trunk 10,20-30 native 10". */
  vlan?: string;
  /** NSH port tag: "spi=0x123,si=255,ttl=63". */
  nshTag?: string;
}

export interface BondJson {
  mode: string; // active-backup, balance-xor, round-robin, broadcast
  xmitPolicy: string; // l2, l23, l34
  primary: string;
  members: { devargs: string; linkUp: boolean; active: boolean; attached: boolean; rxPackets: string; txPackets: string }[];
}

/** BOND_MODE_ACTIVE_BACKUP -> active-backup */
const enumWord = (prefix: string, v: string) => v.replace(prefix, '').toLowerCase().replace(/_/g, '-');

export function bondJson(b: BondStatus__Output): BondJson {
  return {
    mode: enumWord('BOND_MODE_', b.mode),
    xmitPolicy: enumWord('BOND_XMIT_POLICY_', b.xmitPolicy),
    primary: b.primary,
    members: b.members.map((m) => ({
      devargs: m.devargs,
      linkUp: m.linkUp,
      active: m.active,
      attached: m.attached,
      rxPackets: m.rxPackets,
      txPackets: m.txPackets,
    })),
  };
}

/** "active-backup: net_af_packet0,iface=a (up, active) net_af_packet1,iface=b (down)" */
function bondText(b: BondJson): string {
  const policy = b.mode === 'balance-xor' ? ` ${b.xmitPolicy}` : '';
  const members = b.members.map((m) => `${m.devargs} (${m.linkUp ? 'up' : 'down'}${m.active ? ', active' : ''})`);
  return `${b.mode}${policy}: ${members.join(' ')}`;
}

export function portJson(p: Port__Output): PortJson {
  return {
    id: p.id,
    name: p.name,
    devargs: p.devargs,
    driver: p.driver,
    mtu: p.mtu,
    adminUp: p.adminUp,
    linkUp: p.linkUp,
    mac: p.mac,
    nRxq: p.nRxq,
    nTxq: p.nTxq,
    ...(p.bond ? { bond: bondJson(p.bond) } : {}),
    ...(p.qos ? { qos: qosJson(p.qos) } : {}),
    ...(vlanShown(p.vlan) ? { vlan: vlanShown(p.vlan) } : {}),
    ...(nshTagShown(p.nshTag) ? { nshTag: nshTagShown(p.nshTag) } : {}),
  };
}

export function portStatsJson(s: PortStats__Output) {
  return {
    id: s.id,
    name: s.name,
    rxPackets: s.rxPackets,
    rxBytes: s.rxBytes,
    txPackets: s.txPackets,
    txBytes: s.txBytes,
    rxErrors: s.rxErrors,
    txErrors: s.txErrors,
    rxMissed: s.rxMissed,
    drops: { ...s.drops },
  };
}

export function cookieHex(u64: string): string {
  return '0x' + BigInt(u64 || '0').toString(16);
}

export function flowJson(e: FlowEntry__Output) {
  return {
    table: e.tableId,
    priority: e.priority,
    cookie: cookieHex(e.cookie),
    match: e.match,
    actions: e.actions,
    idleTimeout: e.idleTimeout,
    hardTimeout: e.hardTimeout,
    packets: e.packets,
    bytes: e.bytes,
    durationSec: Math.round(e.durationSec * 1000) / 1000,
  };
}

/** A dumped entry in the add-flows form (flow dump --export), fit for `flow add --file`. */
export function flowExportLine(e: FlowEntry__Output): string {
  const parts = [`table=${e.tableId}`, `priority=${e.priority}`];
  if (BigInt(e.cookie || '0') !== 0n) parts.push(`cookie=${cookieHex(e.cookie)}`);
  if (e.idleTimeout) parts.push(`idle_timeout=${e.idleTimeout}`);
  if (e.hardTimeout) parts.push(`hard_timeout=${e.hardTimeout}`);
  if (e.flags & 1) parts.push('send_flow_rem');
  if (e.flags & 4) parts.push('reset_counts');
  if (e.match) parts.push(e.match);
  return `${parts.join(',')},actions=${e.actions}`;
}

export function missText(m: string): string {
  return m.replace(/^TABLE_MISS_/, '').toLowerCase().replace('unspecified', 'drop');
}

export function tableJson(t: Table__Output) {
  return { id: t.id, name: t.name, miss: missText(t.miss), flows: t.flows, maxFlows: t.maxFlows, lookups: t.lookups, matched: t.matched };
}

export function statsJson(s: DatapathStats__Output) {
  return { rxPackets: s.rxPackets, txPackets: s.txPackets, copies: s.copies, drops: { ...s.drops } };
}

export function stateText(s: string): string {
  return s.replace(/^DATAPLANE_STATE_/, '').toLowerCase();
}

export function statusJson(s: Status__Output) {
  return {
    dataplane: stateText(s.dataplane),
    pid: s.dataplanePid,
    daemonPid: s.daemonPid,
    version: s.version,
    dataplaneVersion: s.dataplaneVersion,
    dpdkVersion: s.dpdkVersion,
    filePrefix: s.filePrefix,
    uptimeSec: Math.round(s.uptimeSec * 1000) / 1000,
    dataplaneUptimeSec: Math.round(s.dataplaneUptimeSec * 1000) / 1000,
    workers: s.workers,
    socket: s.socket,
    stateFile: s.stateFile,
    launched: s.launched,
    lastError: s.lastError,
    ports: s.ports,
    flows: s.flows,
    listen: s.listen,
  };
}

// ---------------------------------------------------------------- human output

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => /^-?[0-9]+(\.[0-9]+)?$/.test(r[i] ?? '')));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 && !numeric[i] ? c : numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

export function portsTable(ports: Port__Output[]): string {
  if (ports.length === 0) return 'no ports\n';
  const t = table(
    ['ID', 'NAME', 'DRIVER', 'MTU', 'ADMIN', 'LINK', 'MAC', 'RXQ', 'TXQ', 'EDGE', 'DEVARGS'],
    ports.map((p) => [
      p.id, p.name, p.driver, p.mtu, p.adminUp ? 'up' : 'down', p.linkUp ? 'up' : 'down', p.mac, p.nRxq, p.nTxq,
      [vlanShown(p.vlan), nshTagShown(p.nshTag) && `nsh ${nshTagShown(p.nshTag)}`].filter((s) => s).join(' ') || '-',
      p.bond ? bondText(bondJson(p.bond)) : p.devargs,
    ]),
  );
  // egress QoS under the table: a column would be mostly empty and wide
  const qos = ports.filter((p) => p.qos).map((p) => `egress ${p.name}: ${qosLine(qosJson(p.qos!))}\n`);
  return t + qos.join('');
}

function dropTotal(drops: Record<string, string>): bigint {
  return Object.values(drops).reduce((a, v) => a + BigInt(v), 0n);
}

export function portStatsTable(stats: PortStats__Output[]): string {
  if (stats.length === 0) return 'no ports\n';
  let out = table(
    ['ID', 'NAME', 'RX_PACKETS', 'RX_BYTES', 'TX_PACKETS', 'TX_BYTES', 'RX_ERRORS', 'TX_ERRORS', 'RX_MISSED', 'DROPS'],
    stats.map((s) => [s.id, s.name, s.rxPackets, s.rxBytes, s.txPackets, s.txBytes, s.rxErrors, s.txErrors, s.rxMissed, dropTotal(s.drops).toString()]),
  );
  for (const s of stats) {
    const nz = Object.entries(s.drops).filter(([, v]) => v !== '0');
    if (nz.length) out += `${s.name || s.id} drops: ${nz.map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
  }
  return out;
}

export function tablesTable(tables: Table__Output[]): string {
  if (tables.length === 0) return 'no tables with flows or settings\n';
  return table(
    ['ID', 'NAME', 'MISS', 'FLOWS', 'MAX', 'LOOKUPS', 'MATCHED'],
    tables.map((t) => [t.id, t.name || '-', missText(t.miss), t.flows, t.maxFlows || '-', t.lookups, t.matched]),
  );
}

export function statsText(s: DatapathStats__Output): string {
  let out = `rx_packets  ${s.rxPackets}\ntx_packets  ${s.txPackets}\nports       ${s.nPorts}\nflows       ${s.nFlows}\ncopies      ${s.copies}\ndrops       ${s.dropsTotal}\n\n`;
  const help = new Map(s.reasons.map((r) => [r.name, r.help]));
  const names = s.reasons.length ? s.reasons.map((r) => r.name) : Object.keys(s.drops);
  out += table(
    ['REASON', 'COUNT', 'MEANING'],
    names.map((n) => [n, s.drops[n] ?? '0', help.get(n) ?? '']),
  );
  return out;
}

function duration(sec: number): string {
  if (sec <= 0) return '-';
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = Math.floor(sec % 60);
  return (d ? `${d}d ` : '') + (d || h ? `${h}h ` : '') + (d || h || m ? `${m}m ` : '') + `${s}s`;
}

export function statusText(s: Status__Output): string {
  const rows: [string, string][] = [
    ['switchyardd', `${s.version}, pid ${s.daemonPid}, up ${duration(s.uptimeSec)}, listening on ${s.listen}`],
    ['data plane', stateText(s.dataplane) + (s.dataplanePid ? `, pid ${s.dataplanePid}${s.launched ? ' (launched by switchyardd)' : ''}` : '')],
  ];
  if (s.dataplaneVersion) rows.push(['versions', `switchyard-dp ${s.dataplaneVersion}, ${/^DPDK/i.test(s.dpdkVersion) ? '' : 'DPDK '}${s.dpdkVersion}`]);
  if (s.dataplanePid) rows.push(['uptime', `${duration(s.dataplaneUptimeSec)}, ${s.workers} forwarding lcore(s), file prefix ${s.filePrefix}`]);
  rows.push(['socket', s.socket], ['state', `${s.stateFile}: ${s.ports} port(s), ${s.flows} flow(s)`]);
  if (s.lastError) rows.push(['last error', s.lastError]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

// ---------------------------------------------------------------- PMD lcores

/** The CPU of a PMD lcore, or null when it may run on several. */
export function pmdCpu(p: PmdStats__Output): number | null {
  return p._cpu === 'cpu' ? (p.cpu ?? null) : null; // proto3 optional: oneofs name a set field in _cpu
}

function ratio(num: bigint, den: bigint): number | null {
  return den > 0n ? Number(num) / Number(den) : null;
}

function pct(r: number | null): string {
  return r === null ? '-' : (100 * r).toFixed(1);
}

function fixed(r: number | null, digits: number): string {
  return r === null ? '-' : r.toFixed(digits);
}

/** "p1:0 p2:1": the rx queues of one lcore, ports by name (by number if the daemon has no name). */
export function rxqText(p: PmdStats__Output): string {
  return p.rxQueues.length ? p.rxQueues.map((q) => `${q.port || q.portId}:${q.queue}`).join(' ') : '-';
}

export interface PmdJson {
  slot: number;
  lcore: number;
  cpu: number | null;
  packets: string;
  busyCycles: string;
  idleCycles: string;
  busyPct: number | null;
  cyclesPerPacket: number | null;
  cacheHits: string;
  cacheMisses: string;
  cacheHitPct: number | null;
  lookups: string;
  probes: string;
  probesPerLookup: number | null;
  rxQueues: { port: string; portId: number; queue: number; packets: string }[];
}

const round = (v: number | null, digits = 2): number | null => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

export function pmdJson(p: PmdStats__Output): PmdJson {
  const busy = BigInt(p.busyCycles || '0');
  const idle = BigInt(p.idleCycles || '0');
  const hits = BigInt(p.cacheHits || '0');
  const misses = BigInt(p.cacheMisses || '0');
  const lookups = BigInt(p.classifierLookups || '0');
  const r = ratio(busy, busy + idle);
  const h = ratio(hits, hits + misses);
  return {
    slot: p.slot,
    lcore: p.lcoreId,
    cpu: pmdCpu(p),
    packets: p.packets,
    busyCycles: p.busyCycles,
    idleCycles: p.idleCycles,
    busyPct: r === null ? null : round(100 * r),
    cyclesPerPacket: round(ratio(busy, BigInt(p.packets || '0')), 1),
    cacheHits: p.cacheHits,
    cacheMisses: p.cacheMisses,
    cacheHitPct: h === null ? null : round(100 * h),
    lookups: p.classifierLookups,
    probes: p.classifierProbes,
    probesPerLookup: round(ratio(BigInt(p.classifierProbes || '0'), lookups)),
    rxQueues: p.rxQueues.map((q) => ({ port: q.port, portId: q.portId, queue: q.queue, packets: q.packets })),
  };
}

/** One row per PMD lcore, counters since start or the last `pmd clear` (ovs-appctl dpif-netdev/pmd-stats-show). */
export function pmdTable(pmds: PmdStats__Output[]): string {
  if (pmds.length === 0) return 'no PMD lcores\n';
  return table(
    ['LCORE', 'CPU', 'PACKETS', 'BUSY%', 'CYCLES/PKT', 'HIT%', 'LOOKUPS', 'PROBES/LOOKUP', 'RX QUEUES (PORT:QUEUE)'],
    pmds.map((p) => {
      const j = pmdJson(p);
      return [
        p.lcoreId,
        j.cpu ?? 'any',
        p.packets,
        j.busyPct === null ? '-' : j.busyPct.toFixed(1),
        fixed(j.cyclesPerPacket, 0),
        j.cacheHitPct === null ? '-' : j.cacheHitPct.toFixed(1),
        p.classifierLookups,
        fixed(j.probesPerLookup, 2),
        rxqText(p),
      ];
    }),
  );
}

export interface PmdRateJson {
  slot: number;
  lcore: number;
  cpu: number | null;
  /** Packets per second received over the interval. */
  pps: number;
  busyPct: number | null;
  cyclesPerPacket: number | null;
  cacheHitPct: number | null;
  lookupsPerSec: number;
  probesPerLookup: number | null;
  rxQueues: { port: string; portId: number; queue: number; pps: number }[];
}

/**
 * Rates of each lcore between two samples `seconds` apart. A counter that
 * went down was cleared meanwhile: its rate counts from zero.
 */
export function pmdRates(prev: GetPmdStatsResponse__Output, cur: GetPmdStatsResponse__Output, seconds: number): PmdRateJson[] {
  const before = new Map(prev.pmds.map((p) => [p.slot, p]));
  const dt = seconds > 0 ? seconds : 1;
  return cur.pmds.map((p) => {
    const b = before.get(p.slot);
    const d = (now: string, was: string | undefined) => {
      const n = BigInt(now || '0');
      const w = BigInt(was || '0');
      return n >= w ? n - w : n;
    };
    const packets = d(p.packets, b?.packets);
    const busy = d(p.busyCycles, b?.busyCycles);
    const idle = d(p.idleCycles, b?.idleCycles);
    const hits = d(p.cacheHits, b?.cacheHits);
    const misses = d(p.cacheMisses, b?.cacheMisses);
    const lookups = d(p.classifierLookups, b?.classifierLookups);
    const probes = d(p.classifierProbes, b?.classifierProbes);
    const oldQ = new Map((b?.rxQueues ?? []).map((q) => [`${q.portId}:${q.queue}`, q.packets]));
    const r = ratio(busy, busy + idle);
    const h = ratio(hits, hits + misses);
    return {
      slot: p.slot,
      lcore: p.lcoreId,
      cpu: pmdCpu(p),
      pps: Math.round(Number(packets) / dt),
      busyPct: r === null ? null : round(100 * r),
      cyclesPerPacket: round(ratio(busy, packets), 1),
      cacheHitPct: h === null ? null : round(100 * h),
      lookupsPerSec: Math.round(Number(lookups) / dt),
      probesPerLookup: round(ratio(probes, lookups)),
      rxQueues: p.rxQueues.map((q) => ({
        port: q.port,
        portId: q.portId,
        queue: q.queue,
        pps: Math.round(Number(d(q.packets, oldQ.get(`${q.portId}:${q.queue}`))) / dt),
      })),
    };
  });
}

/** The rates table of `pmd stats --watch`. */
export function pmdRatesTable(rates: PmdRateJson[]): string {
  if (rates.length === 0) return 'no PMD lcores\n';
  return table(
    ['LCORE', 'CPU', 'PPS', 'BUSY%', 'CYCLES/PKT', 'HIT%', 'LOOKUPS/S', 'PROBES/LOOKUP', 'RX QUEUES (PORT:QUEUE PPS)'],
    rates.map((r) => [
      r.lcore,
      r.cpu ?? 'any',
      r.pps,
      pct(r.busyPct === null ? null : r.busyPct / 100),
      fixed(r.cyclesPerPacket, 0),
      pct(r.cacheHitPct === null ? null : r.cacheHitPct / 100),
      r.lookupsPerSec,
      fixed(r.probesPerLookup, 2),
      r.rxQueues.length ? r.rxQueues.map((q) => `${q.port || q.portId}:${q.queue} ${q.pps}`).join(', ') : '-',
    ]),
  );
}
