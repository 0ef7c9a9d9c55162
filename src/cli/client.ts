/**
 * The CLI's gRPC client: one promise per RPC, a deadline on each, and errors
 * turned into the one line the CLI prints (the status details, which the
 * daemon writes for people).
 */
import type { Group__Output } from '../gen/switchyard/v1/Group';
import type { ListGroupsResponse__Output } from '../gen/switchyard/v1/ListGroupsResponse';
import type { GetGroupStatsResponse__Output } from '../gen/switchyard/v1/GetGroupStatsResponse';
import { credentials, makeClientConstructor, Client, ServiceError, status as Status } from '@grpc/grpc-js';
import { service as healthServiceDef } from 'grpc-health-check';
import { loadProto, MESSAGE_LIMITS } from '../mgmt/proto';
import { ClientSecurity, explainSecurityError } from '../mgmt/auth';
import type { AddPortRequest } from '../gen/switchyard/v1/AddPortRequest';
import type { ApplyFlowsRequest } from '../gen/switchyard/v1/ApplyFlowsRequest';
import type { DatapathStats__Output } from '../gen/switchyard/v1/DatapathStats';
import type { DeleteFlowsRequest } from '../gen/switchyard/v1/DeleteFlowsRequest';
import type { DumpFlowsRequest } from '../gen/switchyard/v1/DumpFlowsRequest';
import type { DumpFlowsResponse__Output } from '../gen/switchyard/v1/DumpFlowsResponse';
import type { Flow } from '../gen/switchyard/v1/Flow';
import type { FlowEntry__Output } from '../gen/switchyard/v1/FlowEntry';
import type { FlowModResponse__Output } from '../gen/switchyard/v1/FlowModResponse';
import type { GetPmdStatsResponse__Output } from '../gen/switchyard/v1/GetPmdStatsResponse';
import type { GetPortStatsResponse__Output } from '../gen/switchyard/v1/GetPortStatsResponse';
import type { ListPortsResponse__Output } from '../gen/switchyard/v1/ListPortsResponse';
import type { ListTablesResponse__Output } from '../gen/switchyard/v1/ListTablesResponse';
import type { Port__Output } from '../gen/switchyard/v1/Port';
import type { Status__Output } from '../gen/switchyard/v1/Status';
import type { Table__Output } from '../gen/switchyard/v1/Table';
import type { TraceRequest } from '../gen/switchyard/v1/TraceRequest';
import type { TraceResponse__Output } from '../gen/switchyard/v1/TraceResponse';
import type { UpdatePortRequest } from '../gen/switchyard/v1/UpdatePortRequest';
import type { UpdateTableRequest } from '../gen/switchyard/v1/UpdateTableRequest';
import type { Meter, Meter__Output } from '../gen/switchyard/v1/Meter';
import type { ListMetersResponse__Output } from '../gen/switchyard/v1/ListMetersResponse';
import type { GetMeterStatsResponse__Output } from '../gen/switchyard/v1/GetMeterStatsResponse';
import type { Event__Output } from '../gen/switchyard/v1/Event';
import type { StatsSample__Output } from '../gen/switchyard/v1/StatsSample';
import type { WatchEventsRequest } from '../gen/switchyard/v1/WatchEventsRequest';
import type { PacketOutRequest } from '../gen/switchyard/v1/PacketOutRequest';
import type { Mirror, Mirror__Output } from '../gen/switchyard/v1/Mirror';
import type { ListMirrorsResponse__Output } from '../gen/switchyard/v1/ListMirrorsResponse';
import type { PacketOutResponse__Output } from '../gen/switchyard/v1/PacketOutResponse';
import type { WatchStatsRequest } from '../gen/switchyard/v1/WatchStatsRequest';

export const DEFAULT_SERVER = '127.0.0.1:50051';

/** An error the CLI prints as `switchyard: <message>`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly code?: Status,
  ) {
    super(message);
  }
}

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as ServiceError).code === 'number' && 'details' in e;
}

/** Whether an error means the daemon itself could not be reached. */
export function isUnreachable(e: unknown): boolean {
  if (!isServiceError(e)) return false;
  if (e.code === Status.DEADLINE_EXCEEDED) return /connect|Waiting for LB/i.test(e.details);
  return e.code === Status.UNAVAILABLE && /No connection established|failed to connect|ECONNREFUSED|ENOENT|Connection dropped|connect(ion)? (failed|refused)|Name resolution/i.test(e.details);
}

export type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

/** An open server stream (Api.watchStats, Api.watchEvents). */
export interface Watch {
  done: Promise<void>;
  cancel(): void;
}

export class Api {
  private readonly clients: Client[] = [];
  private readonly port;
  private readonly flow;
  private readonly table;
  private readonly group;
  private readonly meter;
  private readonly packet;
  private readonly mirror;
  private readonly stats;
  private readonly system;
  private readonly events;
  private readonly health: Client;

  /** security: TLS and token (auth.ts loadClientSecurity); absent: plaintext, no token. */
  constructor(
    readonly address: string,
    private readonly timeoutMs = 60000,
    private readonly security?: ClientSecurity,
  ) {
    const v1 = loadProto().proto.switchyard.v1;
    const creds = security?.creds ?? credentials.createInsecure();
    const opts = { ...MESSAGE_LIMITS, ...security?.options };
    const track = <T extends Client>(c: T): T => {
      this.clients.push(c);
      return c;
    };
    this.port = track(new v1.PortService(address, creds, opts));
    this.flow = track(new v1.FlowService(address, creds, opts));
    this.table = track(new v1.TableService(address, creds, opts));
    this.group = track(new v1.GroupService(address, creds, opts));
    this.meter = track(new v1.MeterService(address, creds, opts));
    this.packet = track(new v1.PacketService(address, creds, opts));
    this.mirror = track(new v1.MirrorService(address, creds, opts));
    this.stats = track(new v1.StatsService(address, creds, opts));
    this.system = track(new v1.SystemService(address, creds, opts));
    this.events = track(new v1.EventService(address, creds, opts));
    const Health = makeClientConstructor(healthServiceDef, 'Health');
    this.health = track(new Health(address, creds, opts));
  }

  close(): void {
    for (const c of this.clients) c.close();
  }

  /** Calls a unary method; rejects with CliError carrying the status details. */
  private call<Res>(client: Client, method: string, req: object, timeoutMs = this.timeoutMs): Promise<Res> {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, req, { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, res: Res) => {
        if (!err) return resolve(res);
        reject(this.cliError(err));
      });
    });
  }

  private cliError(err: ServiceError): CliError {
    const why = explainSecurityError(err, this.address, this.security ?? { tls: false, clientCert: false, token: false });
    if (why) return new CliError(why, err.code);
    if (isUnreachable(err)) {
      return new CliError(`cannot reach switchyardd at ${this.address} (is it running? 'switchyard start' starts it): ${err.details}`, err.code);
    }
    return new CliError(err.details || err.message, err.code);
  }

  addPort(req: AddPortRequest): Promise<Port__Output> {
    return this.call(this.port, 'AddPort', req);
  }
  deletePort(port: string): Promise<object> {
    return this.call(this.port, 'DeletePort', { port });
  }
  updatePort(req: UpdatePortRequest): Promise<Port__Output> {
    return this.call(this.port, 'UpdatePort', req);
  }
  listPorts(): Promise<ListPortsResponse__Output> {
    return this.call(this.port, 'ListPorts', {});
  }
  portStats(port: string): Promise<GetPortStatsResponse__Output> {
    return this.call(this.port, 'GetPortStats', { port });
  }
  clearPortStats(port: string): Promise<object> {
    return this.call(this.port, 'ClearPortStats', { port });
  }

  addFlows(flows: Flow[]): Promise<FlowModResponse__Output> {
    return this.call(this.flow, 'AddFlows', { flows });
  }
  modifyFlows(flows: Flow[], strict: boolean): Promise<FlowModResponse__Output> {
    return this.call(this.flow, 'ModifyFlows', { flows, strict });
  }
  deleteFlows(req: DeleteFlowsRequest): Promise<FlowModResponse__Output> {
    return this.call(this.flow, 'DeleteFlows', req);
  }
  applyFlows(req: ApplyFlowsRequest): Promise<FlowModResponse__Output> {
    return this.call(this.flow, 'ApplyFlows', req);
  }
  dumpFlows(req: DumpFlowsRequest): Promise<DumpFlowsResponse__Output> {
    return this.call(this.flow, 'DumpFlows', req);
  }
  /** StreamFlows: onChunk gets each message's entries as they arrive; resolves after the last. */
  streamFlows(req: DumpFlowsRequest, onChunk: (flows: FlowEntry__Output[]) => void): Promise<void> {
    const fn = (this.flow as unknown as Record<string, (...a: unknown[]) => NodeJS.ReadableStream>).StreamFlows;
    return new Promise<void>((resolve, reject) => {
      const stream = fn.call(this.flow, req);
      stream.on('data', (m: DumpFlowsResponse__Output) => onChunk(m.flows));
      stream.on('end', () => resolve());
      stream.on('error', (err: ServiceError) => reject(this.cliError(err)));
    });
  }

  trace(req: TraceRequest): Promise<TraceResponse__Output> {
    return this.call(this.flow, 'Trace', req);
  }

  addMirror(req: Mirror): Promise<Mirror__Output> {
    return this.call(this.mirror, 'AddMirror', req);
  }

  deleteMirror(name: string): Promise<unknown> {
    return this.call(this.mirror, 'DeleteMirror', { name });
  }

  listMirrors(): Promise<ListMirrorsResponse__Output> {
    return this.call(this.mirror, 'ListMirrors', {});
  }

  packetOut(req: PacketOutRequest): Promise<PacketOutResponse__Output> {
    return this.call(this.packet, 'PacketOut', req);
  }

  listTables(): Promise<ListTablesResponse__Output> {
    return this.call(this.table, 'ListTables', {});
  }
  updateTable(req: UpdateTableRequest): Promise<Table__Output> {
    return this.call(this.table, 'UpdateTable', req);
  }

  addGroup(req: { spec: string; modify: boolean }): Promise<Group__Output> {
    return this.call(this.group, 'AddGroup', req);
  }
  deleteGroup(id: number): Promise<object> {
    return this.call(this.group, 'DeleteGroup', { id });
  }
  listGroups(): Promise<ListGroupsResponse__Output> {
    return this.call(this.group, 'ListGroups', {});
  }
  groupStats(id?: number): Promise<GetGroupStatsResponse__Output> {
    return this.call(this.group, 'GetGroupStats', id === undefined ? {} : { id });
  }

  addMeter(req: Meter, modify = false): Promise<Meter__Output> {
    return this.call(this.meter, modify ? 'ModifyMeter' : 'AddMeter', req);
  }
  deleteMeter(id: number): Promise<object> {
    return this.call(this.meter, 'DeleteMeter', { id });
  }
  listMeters(): Promise<ListMetersResponse__Output> {
    return this.call(this.meter, 'ListMeters', {});
  }
  meterStats(id = 0): Promise<GetMeterStatsResponse__Output> {
    return this.call(this.meter, 'GetMeterStats', { id });
  }

  datapathStats(): Promise<DatapathStats__Output> {
    return this.call(this.stats, 'GetDatapathStats', {});
  }
  pmdStats(): Promise<GetPmdStatsResponse__Output> {
    return this.call(this.stats, 'GetPmdStats', {});
  }
  clearPmdStats(): Promise<object> {
    return this.call(this.stats, 'ClearPmdStats', {});
  }

  /**
   * A server stream: onMessage gets each message as it arrives; `done`
   * resolves when the server ends the stream or after cancel(), and rejects
   * with a CliError if the stream fails.
   */
  private watch<Msg>(client: Client, method: string, req: object, onMessage: (m: Msg) => void): Watch {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => NodeJS.ReadableStream & { cancel(): void }>)[method];
    const stream = fn.call(client, req);
    let cancelled = false;
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', onMessage);
      stream.on('end', () => resolve());
      stream.on('error', (err: ServiceError) => (cancelled && err.code === Status.CANCELLED ? resolve() : reject(this.cliError(err))));
    });
    return {
      done,
      cancel: () => {
        cancelled = true;
        stream.cancel();
      },
    };
  }
  watchStats(req: WatchStatsRequest, onSample: (s: StatsSample__Output) => void): Watch {
    return this.watch(this.stats, 'WatchStats', req, onSample);
  }
  watchEvents(req: WatchEventsRequest, onEvent: (e: Event__Output) => void): Watch {
    return this.watch(this.events, 'WatchEvents', req, onEvent);
  }

  status(timeoutMs?: number): Promise<Status__Output> {
    return this.call(this.system, 'GetStatus', {}, timeoutMs);
  }
  shutdown(stopDataplane: boolean): Promise<object> {
    return this.call(this.system, 'Shutdown', { stopDataplane });
  }

  /** The health of the whole server (""); undefined if the daemon does not answer. */
  async healthStatus(timeoutMs = 1000): Promise<HealthStatus | undefined> {
    try {
      const res = await this.call<{ status: HealthStatus }>(this.health, 'Check', { service: '' }, timeoutMs);
      return res.status;
    } catch (e) {
      if (e instanceof CliError && (e.code === Status.UNAVAILABLE || e.code === Status.DEADLINE_EXCEEDED)) return undefined;
      throw e;
    }
  }
}
