/**
 * The native addon (dpdk-core/addon, built by meson as switchyard.node),
 * loaded and wrapped as a DataplaneClient (addon-types.ts).
 *
 * Where it is found: $SWITCHYARD_ADDON, else
 * <repo>/build/dpdk-core/addon/switchyard.node, <repo> being two directories
 * above this file's (src/mgmt under vitest, dist/mgmt after tsc).
 *
 * Everything that touches the wire is in C (the addon); this file only
 * gives it types, turns the addon's single callback into 'event' and
 * 'disconnected' listeners, and makes argument errors (TypeError and
 * RangeError naming the field, thrown by the addon before anything is sent)
 * come out as rejected promises like every other failure.
 *
 * Notes on semantics the types do not spell out:
 *  - tableMod: a field left out takes its default (name '', miss 'drop',
 *    maxFlows 0), it is not "left as is": the wire carries a whole table
 *    description.
 *  - flowMod([]) resolves 0 without a round trip; a batch holds at most
 *    constants.FLOW_BATCH_MAX flow-mods.  Batches and dumps are converted
 *    in bulk (dpdk-core/addon/bulk.h): on the 2-CPU test machine 100,000
 *    flow-mods encode in about 0.15 s, and a dump of a million flows takes
 *    about 2 s of Node's time.
 *  - A reply in parts (a dump over 4 MB) resolves once, after its last
 *    part; the parts of a list are decoded as they arrive.
 *  - In a flow-mod, table defaults to 0 (255, all tables, for deletes) and
 *    priority to 32768.  Match values are masked by the addon, so
 *    nw_src=10.0.0.1/24 is sent, and dumped back, as 10.0.0.0/24.
 *  - Dumps name tp_src/tp_dst icmp_type/icmp_code when the entry matches
 *    ICMP or ICMPv6 (the same key bits).
 *  - While connected the client keeps Node's event loop alive (as a socket
 *    does); unref() stops that.  After close() or a lost connection nothing
 *    of it does.
 */
import { existsSync } from 'fs';
import { resolve } from 'path';

import type {
  Action,
  CookieStats,
  MeterBand,
  MeterCommand,
  MeterDesc,
  MeterStats,
  MeterUnit,
  MeterBandRequest,
  PortQos,
  PortQosConfig,
  MirrorStats,
  DataplaneClient,
  DpEvent,
  DpInfo,
  DpStats,
  PmdStats,
  FieldInfo,
  FlowEntry,
  FlowMod,
  GroupMod,
  GroupStats,
  FlowStats,
  PortAddRequest,
  PortChange,
  PortDesc,
  PortStats,
  TableDesc,
  TableMiss,
  StatsSnapshot,
  TraceResult,
} from './addon-types';

export type { DpError } from './addon-types';

export interface DropReason {
  id: number;
  name: string; // "table_miss"
  help: string;
}

export interface ErrorInfo {
  code: number;
  name: string; // "INVAL"
  text: string; // "invalid argument"
}

export interface AddonConstants {
  PROTO_VERSION: number;
  MSG_MAX: number;
  NAME_MAX: number;
  DEVARGS_MAX: number;
  MAX_ACTIONS: number;
  MAX_TABLES: number;
  MAX_PORTS: number;
  FLOW_BATCH_MAX: number;
  TABLE_ALL: number;
  PORT_IN_PORT: number;
  PORT_FLOOD: number;
  PORT_ALL: number;
  PORT_CONTROLLER: number;
  PORT_LOCAL: number;
  PORT_ANY: number;
  DP_INFO_SIZE: number;
  PORT_DESC_SIZE: number;
  PORT_STATS_SIZE: number;
  TABLE_DESC_SIZE: number;
  DP_STATS_SIZE: number;
  PMD_STATS_SIZE: number;
  PORT_RXQ_MAX: number; // rx queues of a port, 1..PORT_RXQ_MAX
  PMD_RXQ_MAX: number; // rx queues one PMD lcore reports
  REPLY_PART_MAX: number; // a reply longer than this comes in parts
  FLOW_HDR_SIZE: number;
  FLOW_KEY_SIZE: number;
  ACTION_SIZE: number;
  TRACE_FRAME_MAX: number; // the largest frame trace() takes
}

/** A flow as decodeFlows() returns it: a flow-mod, with stats when the message had them. */
export type DecodedFlow = FlowMod & { cookie: bigint; cookieMask: bigint; outPort: number; stats?: FlowStats };

/** The native client (one connection), as the addon exports it: the
 * DataplaneClient API, with one callback in place of on(), plus ref/unref and echo. */
export interface NativeClient extends Omit<DataplaneClient, 'on'> {
  setCallback(cb: ((kind: 'event' | 'disconnected', payload: unknown) => void) | null): void;
  /** Why readStats() returns null (the segment is not mapped, or the last read failed), or null. */
  readonly statsError: string | null;
  ref(): void;
  unref(): void;
  echo(data?: Buffer): Promise<Buffer>;
}

/** Everything switchyard.node exports. */
export interface NativeAddon {
  Client: new () => NativeClient;
  fields: FieldInfo[];
  dropReasons: DropReason[];
  errorNames: string[];
  errors: ErrorInfo[];
  actionNames: string[];
  constants: AddonConstants;
  /** null, or why the data plane would refuse mod (the C validation itself). */
  validateFlowMod(mod: FlowMod): string | null;
  /**
   * The FLOW_MOD message the client would send. reference: convert one
   * property at a time (the reference the bulk path must agree with).
   */
  encodeFlowMod(mods: FlowMod[], xid?: number, opts?: { reference?: boolean }): Buffer;
  /** The FLOW attributes of a message. */
  decodeFlows(msg: Buffer): DecodedFlow[];
  /** null, or what the strict parser finds wrong with msg. */
  checkMessage(msg: Buffer): string | null;
}

/** <repo>: two directories above this file's. */
export const REPO_ROOT = resolve(__dirname, '..', '..');
export const DEFAULT_ADDON_PATH = resolve(REPO_ROOT, 'build', 'dpdk-core', 'addon', 'switchyard.node');

/** Where the addon is loaded from. */
export function addonPath(): string {
  return process.env.SWITCHYARD_ADDON || DEFAULT_ADDON_PATH;
}

/** Loads switchyard.node from path (default: addonPath()), with an actionable error when it is missing. */
export function loadAddon(path: string = addonPath()): NativeAddon {
  if (!existsSync(path)) {
    const how = process.env.SWITCHYARD_ADDON
      ? ` (SWITCHYARD_ADDON points there; unset it, or build the addon)`
      : '';
    throw new Error(`the switchyard native addon is not built: ${path} is missing${how}; run \`npm run build\``);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as NativeAddon;
}

const addon: NativeAddon = loadAddon();

/** The match fields, read from the C field table (flow.h). */
export const fields: FieldInfo[] = addon.fields;
/** Drop reasons with their help text, from SY_DROPS (proto.h), in counter order. */
export const dropReasons: DropReason[] = addon.dropReasons;
/** Control-protocol error names by code ("OK", "INVAL", ...). */
export const errorNames: string[] = addon.errorNames;
export const errors: ErrorInfo[] = addon.errors;
export const actionNames: string[] = addon.actionNames;
export const constants: AddonConstants = addon.constants;

/** null, or the message the data plane would refuse mod with. Throws TypeError/RangeError on malformed values. */
export function validateFlowMod(mod: FlowMod): string | null {
  return addon.validateFlowMod(mod);
}

type Listener<T> = (arg: T) => void;

/** The DataplaneClient over one native client. */
export class AddonDataplaneClient implements DataplaneClient {
  private readonly native: NativeClient;
  private readonly eventListeners: Listener<DpEvent>[] = [];
  private readonly disconnectListeners: Listener<string>[] = [];

  constructor(native: NativeAddon = addon) {
    this.native = new native.Client();
  }

  private readonly onNative = (kind: 'event' | 'disconnected', payload: unknown): void => {
    const list: Listener<never>[] = kind === 'event' ? this.eventListeners : this.disconnectListeners;
    for (const cb of [...list]) {
      try {
        (cb as Listener<unknown>)(payload);
      } catch (e) {
        // A listener's bug surfaces as an uncaught exception, as with EventEmitter.
        process.nextTick(() => {
          throw e;
        });
      }
    }
  };

  async connect(socketPath: string): Promise<DpInfo> {
    this.native.setCallback(this.onNative);
    try {
      return await this.native.connect(socketPath);
    } catch (e) {
      // Never connected (or refused): drop the callback, which holds us.
      if (!this.native.connected) this.native.setCallback(null);
      throw e;
    }
  }

  close(): void {
    this.native.close();
  }

  get connected(): boolean {
    return this.native.connected;
  }

  on(event: 'event', cb: (ev: DpEvent) => void): void;
  on(event: 'disconnected', cb: (reason: string) => void): void;
  on(event: 'event' | 'disconnected', cb: Listener<DpEvent> | Listener<string>): void {
    if (event === 'event') this.eventListeners.push(cb as Listener<DpEvent>);
    else if (event === 'disconnected') this.disconnectListeners.push(cb as Listener<string>);
    else throw new TypeError(`unknown event '${String(event)}' (event, disconnected)`);
  }

  /** Keeps Node's event loop alive while connected (the default). */
  ref(): void {
    this.native.ref();
  }

  /** Lets Node exit while connected. */
  unref(): void {
    this.native.unref();
  }

  async portAdd(req: PortAddRequest): Promise<PortDesc> {
    return this.native.portAdd(req);
  }

  async portDel(id: number): Promise<void> {
    return this.native.portDel(id);
  }

  async portMod(id: number, change: PortChange): Promise<PortDesc> {
    return this.native.portMod(id, change);
  }

  async portList(): Promise<PortDesc[]> {
    return this.native.portList();
  }

  async portStats(id?: number): Promise<PortStats[]> {
    return this.native.portStats(id);
  }

  async portStatsClear(id?: number): Promise<void> {
    return this.native.portStatsClear(id);
  }

  async flowMod(mods: FlowMod[]): Promise<number> {
    return this.native.flowMod(mods);
  }

  async flowDump(filter?: Partial<FlowMod>): Promise<FlowEntry[]> {
    return this.native.flowDump(filter);
  }

  async tableList(): Promise<TableDesc[]> {
    return this.native.tableList();
  }

  async tableMod(desc: { id: number; name?: string; miss?: TableMiss; maxFlows?: number }): Promise<TableDesc> {
    return this.native.tableMod(desc);
  }

  async dpStats(): Promise<DpStats> {
    return this.native.dpStats();
  }

  async pmdStats(): Promise<PmdStats[]> {
    return this.native.pmdStats();
  }

  async pmdStatsClear(): Promise<void> {
    return this.native.pmdStatsClear();
  }

  async barrier(): Promise<void> {
    return this.native.barrier();
  }

  /**
   * The counters of the data plane's stats segment (shared memory, mapped
   * after HELLO), copied under its seqlock: no message, no wait on the data
   * plane. At most SY_SSEG_PERIOD_MS (100 ms) old, and fresh after any
   * clear or port change that has been answered. Null when there is no
   * segment to read; `statsError` says why.
   */
  readStats(): StatsSnapshot | null {
    return this.native.readStats();
  }

  /**
   * Why readStats() returns null ("cannot open the stats segment
   * /run/switchyard/dp.stats: Permission denied ...", "not connected to
   * the data plane"), or null while it reads. Log it once when it changes.
   */
  get statsError(): string | null {
    return this.native.statsError;
  }

  /** FLOW_COOKIE_STATS: one walk of every table in the data plane (about 0.2 s per million flows). */
  async flowCookieStats(limit?: number): Promise<CookieStats[]> {
    return this.native.flowCookieStats(limit);
  }

  async groupMod(mod: GroupMod): Promise<void> {
    return this.native.groupMod(mod);
  }

  async groupStats(id?: number): Promise<GroupStats[]> {
    return this.native.groupStats(id);
  }

  /**
   * TRACE: the frame through the live tables as if it arrived on inPort,
   * with the data plane's own parser, classifier and action code, sending
   * nothing and counting nothing. A frame over constants.TRACE_FRAME_MAX or
   * the port's MTU (plus Ethernet and two tags) is refused (INVAL); an
   * unknown port is NOENT. `drop` is set only when no copy would be sent.
   */
  async trace(inPort: number, frame: Buffer): Promise<TraceResult> {
    return this.native.trace(inPort, frame);
  }

  /** MIRROR_MOD: set or delete a mirror (refusals: NOENT for ports, INVAL for a mirrored output, EXIST for a name). */
  async mirrorMod(command: 'set' | 'delete', desc: { id: number; name?: string; outPort?: number; src?: number[]; dst?: number[] }): Promise<void> {
    return this.native.mirrorMod(command, desc);
  }

  /** MIRROR_STATS: every mirror, by id, with its counters. */
  async mirrorStats(): Promise<MirrorStats[]> {
    return this.native.mirrorStats();
  }

  /**
   * PACKET_OUT: the data plane queues frame with its actions to the lcore
   * that polls inPort (null: none, as from the controller), which runs
   * them and sends what they output. Refusals name what is wrong: INVAL
   * (frame empty, short or over an output port's MTU; goto_table,
   * write_metadata, output:in_port without inPort, output:table not last),
   * NOENT (a port), BUSY (the lcore's queue is full).
   */
  async packetOut(inPort: number | null, frame: Buffer, actions: Action[]): Promise<void> {
    return this.native.packetOut(inPort, frame, actions);
  }

  /** METER_MOD: add, modify or delete a meter (a meter that flows use cannot be deleted: BUSY). */
  async meterMod(command: MeterCommand, desc: { id: number; unit?: MeterUnit; rate?: number; burst?: number; band?: MeterBand; dscp?: number; bands?: MeterBandRequest[] }): Promise<MeterDesc | undefined> {
    return this.native.meterMod(command, desc);
  }

  /** PORT_QOS: sets a port's egress QoS (qos given; rate 0 and no queues: none) or reads it. */
  async portQos(portId: number, qos?: PortQosConfig): Promise<PortQos> {
    return qos === undefined ? this.native.portQos(portId) : this.native.portQos(portId, qos);
  }

  async meterStats(id?: number): Promise<MeterStats[]> {
    return this.native.meterStats(id);
  }

  /** ECHO: the data plane sends data back (a liveness check). */
  async echo(data?: Buffer): Promise<Buffer> {
    return this.native.echo(data);
  }
}

export function createDataplaneClient(): AddonDataplaneClient {
  return new AddonDataplaneClient();
}
