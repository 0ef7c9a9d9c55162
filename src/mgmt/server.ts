/**
 * The gRPC server: the five switchyard.v1 services, the standard health
 * service ("" and each service SERVING while the data plane is connected,
 * NOT_SERVING otherwise) and server reflection.
 *
 * Listening is on loopback only until TLS exists: a non-loopback --listen is
 * refused (unix: sockets are local and allowed).
 */
import { Server, ServerCredentials, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, ServingStatusMap } from 'grpc-health-check';
import { isIP } from 'node:net';
import { flowService } from './flow-service';
import type { Logger } from './log';
import { portService } from './port-service';
import { loadProto, MESSAGE_LIMITS, SERVICE_NAMES } from './proto';
import { DropReasonInfo, statsService } from './stats-service';
import type { Switch } from './switch';
import { SystemControl, systemService } from './system-service';
import { tableService } from './table-service';

export interface ServerOptions {
  listen: string;
  sw: Switch;
  system: SystemControl;
  reasons: readonly DropReasonInfo[];
  log: Logger;
}

export interface RunningServer {
  server: Server;
  /** The bound TCP port (0 for a unix socket). */
  port: number;
  health: HealthImplementation;
  /** Stops accepting calls, lets running ones finish (up to graceMs), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** Splits HOST:PORT ([v6]:PORT too); undefined if malformed. */
export function splitHostPort(listen: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:([0-9]+)$/.exec(listen) ?? /^([^:\s]+):([0-9]+)$/.exec(listen);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1], port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^(0*:)*:?0*1$/.test(host) || host.toLowerCase().startsWith('::ffff:127.');
  return false;
}

/** Why a --listen address is refused, or undefined if it is fine. */
export function checkListen(listen: string): string | undefined {
  if (listen.startsWith('unix:')) return undefined;
  const hp = splitHostPort(listen);
  if (!hp) return `--listen '${listen}' is not HOST:PORT`;
  if (!isLoopback(hp.host)) {
    return (
      `refusing to listen on ${listen}: the API has no TLS or authentication yet, so it is served on ` +
      `loopback only (127.0.0.1, ::1, localhost or unix:PATH)`
    );
  }
  return undefined;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const refused = checkListen(o.listen);
  if (refused) throw new Error(refused);
  const { def, proto } = loadProto();
  const v1 = proto.switchyard.v1;
  const server = new Server(MESSAGE_LIMITS);
  const add = (svc: ServiceDefinition, impl: UntypedServiceImplementation) => server.addService(svc, impl);
  add(v1.PortService.service, portService(o.sw));
  add(v1.FlowService.service, flowService(o.sw));
  add(v1.TableService.service, tableService(o.sw));
  add(v1.StatsService.service, statsService(o.sw, o.reasons));
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
    server.bindAsync(o.listen, ServerCredentials.createInsecure(), (err, p) => (err ? reject(new Error(`cannot listen on ${o.listen}: ${err.message}`)) : resolve(p)));
  });

  const close = (graceMs = 3000) =>
    new Promise<void>((resolve) => {
      o.sw.off('ready', setHealth);
      o.sw.off('unready', setHealth);
      o.sw.off('state', setHealth);
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
