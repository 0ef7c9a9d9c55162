/**
 * The gRPC server: the five switchyard.v1 services, the standard health
 * service ("" and each service SERVING while the data plane is connected,
 * NOT_SERVING otherwise) and server reflection.
 *
 * Listening is on loopback (or a unix socket) unless the server has TLS and
 * client certificates or a token (auth.ts); a token is checked by one server
 * interceptor in front of every service, health checks excepted.
 */
import { Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, ServingStatusMap } from 'grpc-health-check';
import { exposureProblem, isLoopback, rateLimited, serverCredentials, serverInterceptors, ServerSecurity, splitHostPort } from './auth';
import { configService } from './config-service';
import { flowService } from './flow-service';
import type { Logger } from './log';
import { portService } from './port-service';
import { loadProto, MESSAGE_LIMITS, SERVICE_NAMES } from './proto';
import { DropReasonInfo, statsService } from './stats-service';
import { eventService, StreamSet } from './event-service';
import type { Switch } from './switch';
import { SystemControl, systemService } from './system-service';
import { groupService } from './group-service';
import { tableService } from './table-service';
import { meterService } from './meter-service';
import { packetService } from './packet-service';
import { mirrorService } from './mirror-service';

export interface ServerOptions {
  listen: string;
  sw: Switch;
  system: SystemControl;
  reasons: readonly DropReasonInfo[];
  log: Logger;
  /** TLS and token (auth.ts); absent: plaintext, no token. */
  security?: ServerSecurity;
}

export interface RunningServer {
  server: Server;
  /** The bound TCP port (0 for a unix socket). */
  port: number;
  health: HealthImplementation;
  /** Stops accepting calls, lets running ones finish (up to graceMs), then closes. */
  close(graceMs?: number): Promise<void>;
}

export { isLoopback, splitHostPort };

/** Why a --listen address is refused with this security, or undefined if it is fine. */
export function checkListen(listen: string, security: ServerSecurity = {}): string | undefined {
  if (listen.startsWith('unix:')) return undefined;
  const hp = splitHostPort(listen);
  if (!hp) return `--listen '${listen}' is not HOST:PORT`;
  if (!isLoopback(hp.host)) return exposureProblem(listen, security);
  return undefined;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const security = o.security ?? {};
  const refused = checkListen(o.listen, security);
  if (refused) throw new Error(refused);
  const { def, proto } = loadProto();
  const v1 = proto.switchyard.v1;
  const refusedCall = rateLimited(10_000, (missed: number, path: string, peer: string, why: string) =>
    o.log.warn(`UNAUTHENTICATED ${path} from ${peer}: ${why}${missed ? ` (${missed} more refused calls not logged)` : ''}`),
  );
  // One interceptor in front of every service (health excepted): no service checks the token itself.
  const server = new Server({ ...MESSAGE_LIMITS, interceptors: serverInterceptors(security, refusedCall) });
  const add = (svc: ServiceDefinition, impl: UntypedServiceImplementation) => server.addService(svc, impl);
  add(v1.PortService.service, portService(o.sw));
  add(v1.FlowService.service, flowService(o.sw));
  add(v1.TableService.service, tableService(o.sw));
  add(v1.GroupService.service, groupService(o.sw));
  add(v1.MeterService.service, meterService(o.sw));
  add(v1.PacketService.service, packetService(o.sw));
  add(v1.MirrorService.service, mirrorService(o.sw));
  add(v1.ConfigService.service, configService(o.sw));
  const streams = new StreamSet(); // WatchStats and WatchEvents end when the server closes
  add(v1.StatsService.service, statsService(o.sw, o.reasons, streams));
  add(v1.EventService.service, eventService(o.sw, streams));
  add(v1.SystemService.service, systemService(o.system));

  const initial: ServingStatusMap = { '': 'NOT_SERVING' };
  for (const s of SERVICE_NAMES) initial[s] = 'NOT_SERVING';
  const health = new HealthImplementation(initial);
  health.addToServer(server);
  const setHealth = () => {
    const st = o.sw.connected ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', st);
    for (const s of SERVICE_NAMES) health.setStatus(s, st);
  };
  o.sw.on('ready', setHealth);
  o.sw.on('unready', setHealth);
  o.sw.on('state', setHealth);
  setHealth();

  new ReflectionService(def).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(o.listen, serverCredentials(security), (err, p) => (err ? reject(new Error(`cannot listen on ${o.listen}: ${err.message}`)) : resolve(p)));
  });

  const close = (graceMs = 3000) =>
    new Promise<void>((resolve) => {
      o.sw.off('ready', setHealth);
      o.sw.off('unready', setHealth);
      o.sw.off('state', setHealth);
      streams.endAll();
      for (const s of ['', ...SERVICE_NAMES]) health.setStatus(s, 'NOT_SERVING');
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });

  return { server, port, health, close };
}
