/**
 * The native addon's API, as TypeScript sees it.
 *
 * The addon (dpdk-core/addon) is the only code that speaks the control
 * protocol: it encodes requests, decodes replies and events, and reads the
 * field and drop-reason tables straight from the C headers. Everything here
 * is asynchronous: socket I/O runs on libuv's loop, never blocking Node.
 *
 * Value forms (match values, masks and set_field values), by field kind:
 *   u8, u16, u32: number                      u64: bigint (a decimal or 0x string is accepted)
 *   mac: "aa:bb:cc:dd:ee:ff"                  ipv4: "10.0.0.1"        ipv6: "2001:db8::1"
 * Masks use the same form; a missing mask means an exact match.
 * 64-bit counters and cookies are bigint.
 */

export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'mac' | 'ipv4' | 'ipv6';

export type Prereq = 'none' | 'vlan' | 'ip' | 'ipv4' | 'ipv6' | 'l4' | 'tcp' | 'icmp' | 'nsh';

export interface FieldInfo {
  id: number;
  name: string; // ovs-ofctl name: "nw_src"
  kind: FieldKind;
  width: number; // bytes
  prereq: Prereq;
  settable: boolean;
}

export type FieldValue = number | bigint | string;

export interface MatchValue {
  value: FieldValue;
  mask?: FieldValue;
}

/** Match: field name -> value and mask. Values are already masked on the way out. */
export type Match = Record<string, MatchValue>;

export type Action =
  | { type: 'output'; port: number } // reserved ports: PORT_IN_PORT, PORT_FLOOD, ...
  | { type: 'set_field'; field: string; value: FieldValue; mask?: FieldValue } // mask: fields <= 8 bytes only
  | { type: 'push_vlan'; tpid: number }
  | { type: 'pop_vlan' }
  | { type: 'dec_ttl' }
  | { type: 'goto_table'; table: number }
  | { type: 'write_metadata'; value: bigint; mask: bigint }
  | { type: 'controller'; maxLen: number }
  | { type: 'group'; group: number }
  | { type: 'meter'; meter: number }
  | { type: 'mirror'; mirror: number } // a copy, as the packet is then, to mirror id's output
  | { type: 'set_queue'; queue: number }
  | { type: 'push_nsh'; spi: number; si: number; ttl: number; mdType: number; c1: number; c2: number; c3: number; c4: number } // README "The tagged header (NSH)"
  | { type: 'pop_nsh' }
  | { type: 'dec_nsh_ttl' };

/** Groups (proto.h, "Groups"): a bucket's actions are flow actions but goto_table, write_metadata, group. */
export type GroupType = 'all' | 'select' | 'indirect' | 'fast_failover';
export interface GroupBucket {
  weight?: number; // select: share of the flows (default 1)
  watchPort?: number; // fast_failover: the port whose liveness decides
  actions: Action[];
}
export interface GroupConfig {
  id: number; // 0..65535
  type: GroupType;
  fields?: string[]; // select: hashed key fields (dl_src, dl_dst, nw_src, nw_dst, nw_proto, tp_src, tp_dst); default the 5-tuple
  buckets: GroupBucket[];
}
export interface GroupMod extends Partial<GroupConfig> {
  command: 'add' | 'modify' | 'delete';
  id: number;
}
export interface GroupStats {
  id: number;
  type: GroupType;
  flows: number; // flows whose actions name it
  packets: bigint;
  bytes: bigint;
  dropped: bigint; // no live bucket
  buckets: { packets: bigint; bytes: bigint }[];
}

export type FlowCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';

export interface FlowMod {
  command: FlowCommand;
  table: number; // 0..254; 255 (TABLE_ALL) in deletes and dumps
  priority: number; // 0..65535, default 32768 as in OpenFlow
  cookie?: bigint;
  cookieMask?: bigint;
  idleTimeout?: number;
  hardTimeout?: number;
  flags?: number;
  outPort?: number; // deletes and dumps: only entries that output here
  match: Match;
  actions: Action[];
}

export interface FlowStats {
  packets: bigint;
  bytes: bigint;
  durationNs: bigint;
  idleNs: bigint;
}

export interface FlowEntry extends Omit<FlowMod, 'command' | 'cookieMask' | 'outPort'> {
  cookie: bigint;
  stats: FlowStats;
}

export interface PortDesc {
  id: number;
  dpdkPort: number;
  name: string;
  driver: string;
  devargs: string;
  mtu: number;
  adminUp: boolean;
  linkUp: boolean;
  linkSpeed: number; // Mbit/s
  mac: string;
  nRxq: number;
  nTxq: number;
  /** Set for a bond port. */
  bond?: BondDesc;
  /** Set when the port has a VLAN mode (edge.ts). */
  vlan?: PortVlanDesc;
  /** Set when the port has an NSH tag. */
  nshTag?: PortNshTagDesc;
}

/** A port's VLAN mode as the data plane reports it (PORT_VLAN). */
export interface PortVlanDesc {
  mode: 'none' | 'access' | 'trunk';
  tag: number;
  /** Allowed VIDs of a trunk; [] = all. */
  trunks: number[];
  /** 0: none. */
  native: number;
}

/** A port's NSH tag as the data plane reports it (PORT_NSH_TAG). */
export interface PortNshTagDesc {
  spi: number;
  si: number;
  ttl: number;
  mdtype: number;
  context: number[];
}

/** Edge settings in a port add or change: vlan mode 'none' and nshTag null clear. */
export interface PortEdgeRequest {
  vlan?: { mode: 'none' | 'access' | 'trunk'; tag?: number; trunks?: number[]; native?: number };
  nshTag?: { spi: number; si?: number; ttl?: number; mdtype?: number; context?: number[] } | null;
}

/** Link aggregation: DPDK's bonding PMD modes the switch offers. */
export type BondMode = 'round-robin' | 'active-backup' | 'balance-xor' | 'broadcast';
export const BOND_MODES: readonly BondMode[] = ['round-robin', 'active-backup', 'balance-xor', 'broadcast'];
/** Which headers balance-xor hashes to pick a member. */
export type BondXmitPolicy = 'l2' | 'l23' | 'l34';
export const BOND_XMIT_POLICIES: readonly BondXmitPolicy[] = ['l2', 'l23', 'l34'];

/** What makes a bond port: members are devargs the data plane probes and owns. */
export interface BondConfig {
  mode: BondMode;
  members: string[];
  /** Default l2. */
  xmitPolicy?: BondXmitPolicy;
  /** Device name of the preferred member (the devargs up to the first comma). */
  primary?: string;
}

export interface BondMemberDesc {
  devargs: string;
  /** null while detached (a net_af_packet member whose interface lost its carrier). */
  dpdkPort: number | null;
  linkUp: boolean;
  /** Carries traffic now (active-backup: the current member). */
  active: boolean;
  rxPackets: bigint;
  txPackets: bigint;
}

export interface BondDesc {
  mode: BondMode;
  xmitPolicy: BondXmitPolicy;
  /** '' when none was given. */
  primary: string;
  members: BondMemberDesc[];
}

export interface PortStats {
  id: number;
  rxPackets: bigint;
  rxBytes: bigint;
  txPackets: bigint;
  txBytes: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxMissed: bigint;
  drops: Record<string, bigint>; // by drop reason name, every reason present
}

export type TableMiss = 'drop' | 'continue' | 'controller';

export interface TableDesc {
  id: number;
  name: string;
  miss: TableMiss;
  nFlows: number;
  maxFlows: number;
  lookups: bigint;
  matched: bigint;
}

export interface DpStats {
  drops: Record<string, bigint>;
  rxPackets: bigint;
  txPackets: bigint;
  nPorts: number;
  nFlows: number;
  /** Packets the data path copied (zero when every packet moved by reference). */
  copies: bigint;
}

/** One forwarding (poll-mode) lcore; counters since start or the last clear. */
export interface PmdStats {
  slot: number;
  lcoreId: number;
  cpu: number | null; // null: not pinned to one CPU
  packets: bigint;
  busyCycles: bigint;
  idleCycles: bigint;
  cacheHits: bigint;
  cacheMisses: bigint;
  clsLookups: bigint;
  clsProbes: bigint;
  rxqs: { port: number; queue: number; packets: bigint }[];
}

/**
 * Every counter of the data plane at one instant, as published in its stats
 * segment (shared memory; see dpdk-core/include/switchyard/stats_segment.h)
 * or, failing that, gathered with messages.
 */
export interface StatsSnapshot {
  /** The data plane's monotonic clock when the counters were read (ns). */
  timeNs: bigint;
  rxPackets: bigint;
  txPackets: bigint;
  /** By drop reason name, every reason present. */
  drops: Record<string, bigint>;
  ports: (PortStats & { linkUp: boolean })[];
  tables: { id: number; nFlows: number; lookups: bigint; matched: bigint }[];
  pmds: PmdStats[];
}

/** Meters (proto.h, "Meters"): one token bucket and one band each. */
export type MeterUnit = 'kbps' | 'pps';
export type MeterBand = 'drop' | 'dscp_remark';
export type MeterCommand = 'add' | 'modify' | 'delete';
/** One band of a meter (proto.h, struct sy_meter_band_desc). */
export interface MeterBandDesc {
  type: MeterBand;
  rate: number;
  /** as the data plane resolved it */
  burst: number;
  dscp: number;
}
export interface MeterDesc {
  id: number;
  unit: MeterUnit;
  /** rate, burst, band, dscp: the first (lowest-rate) band */
  rate: number;
  /** kbit or packets, as the data plane resolved it (0 given: 100 ms of the rate) */
  burst: number;
  band: MeterBand;
  dscp: number;
  /** every band, by rate (a data plane without bands: absent) */
  bands?: MeterBandDesc[];
}
/** A band as a request gives it (burst absent or 0: the default). */
export interface MeterBandRequest {
  type: MeterBand;
  rate: number;
  burst?: number;
  dscp?: number;
}
export interface MeterStats extends MeterDesc {
  durationNs: bigint;
  /** conformed to the rate */
  passPackets: bigint;
  passBytes: bigint;
  /** over the rate: dropped or remarked */
  bandPackets: bigint;
  bandBytes: bigint;
  /** by band, as bands */
  bandStats?: { packets: bigint; bytes: bigint }[];
}

/**
 * Port egress QoS (proto.h, "Port egress QoS"): a policer on what the port
 * sends, and per queue (set_queue:N, queue 0: the rest). kbit/s of frame
 * bytes and kbit; rate 0 and no queues: none.
 */
export interface QosQueue {
  queue: number; // 0..7
  rate: number;
  /** kbit; 0 or absent given: 100 ms of the rate (resolved in replies) */
  burst?: number;
}
export interface PortQosConfig {
  rate: number;
  burst?: number;
  queues?: QosQueue[];
}
export interface PortQos {
  portId: number;
  rate: number;
  burst: number;
  queues: Required<QosQueue>[];
}
export const QOS_QUEUES = 8;

/** Flows summed by cookie (one walk of the tables in the data plane). */
export interface CookieStats {
  cookie: bigint;
  flows: number;
  packets: bigint;
  bytes: bigint;
}

/** A field a traced action rewrote; values in the field's value form. */
export interface TraceChange {
  field: string;
  before: FieldValue;
  after: FieldValue;
}

export interface TraceStepResult {
  table: number;
  /** The entry matched (stats zero), or null on a miss. */
  entry: FlowEntry | null;
  /** On a miss, what the table does. */
  miss?: TableMiss;
  /** The actions run, in order, each with the fields it rewrote. */
  actions: { action: Action; changes: TraceChange[] }[];
}

/** What the data plane would do with one frame (SY_MSG_TRACE). */
export interface TraceResult {
  /** The frame's fields as the data plane parsed them (in_port included). */
  packet: Match;
  steps: TraceStepResult[];
  /** Where copies would be sent, each frame as it would leave. */
  outputs: { port: number; frame: Buffer }[];
  /** The drop reason name, or null if it would be sent somewhere. */
  drop: string | null;
}

export interface DpInfo {
  pid: number;
  nWorkers: number;
  startNs: bigint;
  tscHz: bigint;
  maxPorts: number;
  maxTables: number;
  version: string;
  dpdkVersion: string;
  filePrefix: string;
  /** The stats segment's path (null: the data plane publishes none). */
  statsSegment?: string | null;
}

export type DpEvent =
  | { type: 'port_status'; reason: 'add' | 'delete' | 'modify' | 'link'; port: PortDesc }
  | { type: 'flow_removed'; reason: 'idle_timeout' | 'hard_timeout' | 'delete'; flow: FlowEntry }
  /** A packet sent to the controller: `packet` holds its first max_len bytes of `totalLen`;
   * reason `action` (an entry's controller action; cookie is that entry's) or `no_match`
   * (a table whose miss is controller; cookie 0). */
  | { type: 'packet_in'; port: number; table: number; cookie: bigint; packet: Buffer; reason: 'action' | 'no_match'; totalLen: number };

/**
 * Error thrown (as a rejected promise) for an ERROR reply. `code` is the
 * control protocol's error name ("INVAL", "NOENT", "EXIST", "NOSPC", "BUSY",
 * "UNSUPP", "PROTO", "VERSION", "DEVICE", "INTERNAL"); `index` is the batch
 * item that failed, or -1. Lost connections reject with code "DISCONNECTED".
 */
export interface DpError extends Error {
  code: string;
  index: number;
}

/** A change of a port (PORT_MOD): what is absent stays. */
export type PortChange = { mtu?: number; adminUp?: boolean; nRxq?: number } & PortEdgeRequest;

export interface PortAddRequest extends PortEdgeRequest {
  name: string;
  devargs: string;
  id?: number;
  mtu?: number;
  adminUp?: boolean;
  nRxq?: number; // rx queues, 1..16 (RSS)
  bond?: BondConfig; // devargs is then the bonding device's name (net_bonding...)
}

export interface DataplaneClient {
  /** Connects and says HELLO. Rejects with a DpError if the socket is absent or the version differs. */
  connect(socketPath: string): Promise<DpInfo>;
  close(): void;
  readonly connected: boolean;
  /** Events, and 'disconnected' once when the connection is lost or closed. */
  on(event: 'event', cb: (ev: DpEvent) => void): void;
  on(event: 'disconnected', cb: (reason: string) => void): void;

  portAdd(req: PortAddRequest): Promise<PortDesc>;
  portDel(id: number): Promise<void>;
  portMod(id: number, change: PortChange): Promise<PortDesc>;
  portList(): Promise<PortDesc[]>;
  portStats(id?: number): Promise<PortStats[]>;
  portStatsClear(id?: number): Promise<void>;
  /** One batch, all or nothing. Resolves with the number of entries changed. */
  flowMod(mods: FlowMod[]): Promise<number>;
  flowDump(filter?: Partial<FlowMod>): Promise<FlowEntry[]>;
  tableList(): Promise<TableDesc[]>;
  tableMod(desc: { id: number; name?: string; miss?: TableMiss; maxFlows?: number }): Promise<TableDesc>;
  dpStats(): Promise<DpStats>;
  pmdStats(): Promise<PmdStats[]>;
  pmdStatsClear(): Promise<void>;
  barrier(): Promise<void>;
  /**
   * Reads the stats segment (shared memory) without a message to the data
   * plane; null if the segment cannot be read (not mapped, or a data plane
   * that does not publish one). Synchronous and cheap: call it as often as
   * needed.
   */
  readStats(): StatsSnapshot | null;
  /** Why readStats() returns null, or null. */
  readonly statsError?: string | null;
  /** Flows summed by cookie, at most `limit` cookies (the busiest by packets). */
  flowCookieStats(limit?: number): Promise<CookieStats[]>;
  /** GROUP_MOD: add (EXIST if present), modify (NOENT if absent) or delete (refused while flows use it). */
  groupMod(mod: GroupMod): Promise<void>;
  /** GROUP_STATS of one group, or of every group. */
  groupStats(id?: number): Promise<GroupStats[]>;
  /** Runs a frame through the tables as if it arrived on inPort, without forwarding it. */
  trace(inPort: number, frame: Buffer): Promise<TraceResult>;
  /** MIRROR_MOD: set (add or replace) mirror desc.id, or delete it (only id is read). */
  mirrorMod(command: 'set' | 'delete', desc: { id: number; name?: string; outPort?: number; src?: number[]; dst?: number[] }): Promise<void>;
  /** MIRROR_STATS: every mirror with its counters. */
  mirrorStats(): Promise<MirrorStats[]>;
  /** PACKET_OUT: runs actions on frame as if received on inPort (null: none) and sends what they output. */
  packetOut(inPort: number | null, frame: Buffer, actions: Action[]): Promise<void>;
  /** METER_MOD; a delete needs only { id } and resolves with undefined. */
  meterMod(command: MeterCommand, desc: { id: number; unit?: MeterUnit; rate?: number; burst?: number; band?: MeterBand; dscp?: number; bands?: MeterBandRequest[] }): Promise<MeterDesc | undefined>;
  /** PORT_QOS: sets a port's egress QoS (qos given) or reads it. */
  portQos(portId: number, qos?: PortQosConfig): Promise<PortQos>;
  /** METER_STATS: one meter, or every meter by id. */
  meterStats(id?: number): Promise<MeterStats[]>;
}

/** Reserved port numbers (OpenFlow's). */
export const PORT_IN_PORT = 0xfffffff8;
/** A mirror as the data plane has it, with the copies it made. */
export interface MirrorStats {
  id: number;
  name: string;
  outPort: number;
  src: number[];
  dst: number[];
  packets: bigint;
  bytes: bigint;
  /** copies that found no mbuf (the original went on) */
  noMbuf: bigint;
}

/** output:table of a packet-out (OpenFlow's OFPP_TABLE): through the tables from table 0. */
export const PORT_TABLE = 0xfffffff9;
export const PORT_FLOOD = 0xfffffffb;
export const PORT_ALL = 0xfffffffc;
export const PORT_CONTROLLER = 0xfffffffd;
export const PORT_LOCAL = 0xfffffffe;
export const PORT_ANY = 0xffffffff;
export const TABLE_ALL = 255;
export const MAX_TABLES = 255;
