/**
 * A plain grpc-js client of the switchyard.v1 API, loaded from the .proto
 * files at run time: the tests see exactly what any other client sees,
 * status codes included.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROTO_DIR } from './paths';

export { status as GrpcStatus } from '@grpc/grpc-js';

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res: any) => void) => void;

let pkg: any;
function api(): any {
  if (!pkg) {
    const dir = path.join(PROTO_DIR, 'switchyard/v1');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.proto'))
      .map((f) => `switchyard/v1/${f}`);
    const def = protoLoader.loadSync(files, {
      includeDirs: [PROTO_DIR],
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    pkg = (grpc.loadPackageDefinition(def) as any).switchyard.v1;
  }
  return pkg;
}

/** TLS and token of a test client (file paths, or the token itself); all optional. */
export interface ClientAuth {
  /** CA file to verify the server with; turns TLS on. */
  tlsCa?: string;
  /** Client certificate and key files (mutual TLS). */
  tlsCert?: string;
  tlsKey?: string;
  /** Sent as `authorization: Bearer TOKEN` on every call. */
  token?: string;
  /** A file holding the token (the CLI's --token-file). */
  tokenFile?: string;
  serverName?: string;
}

/** grpc-js credentials and channel options for ClientAuth, built the plain grpc-js way. */
export function clientCredentials(auth: ClientAuth = {}): { creds: grpc.ChannelCredentials; options: grpc.ClientOptions; metadata: () => grpc.Metadata } {
  const file = (f?: string) => (f ? readFileSync(f) : null);
  const tls = auth.tlsCa !== undefined || auth.tlsCert !== undefined;
  const creds = tls ? grpc.credentials.createSsl(file(auth.tlsCa), file(auth.tlsKey), file(auth.tlsCert)) : grpc.credentials.createInsecure();
  const options: grpc.ClientOptions = auth.serverName ? { 'grpc.ssl_target_name_override': auth.serverName, 'grpc.default_authority': auth.serverName } : {};
  const token = auth.token ?? (auth.tokenFile ? readFileSync(auth.tokenFile, 'utf8').trim() : undefined);
  const metadata = () => {
    const md = new grpc.Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
    return md;
  };
  return { creds, options, metadata };
}

export class ApiClient {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly cred;

  constructor(
    readonly address: string,
    auth: ClientAuth = {},
  ) {
    this.cred = clientCredentials(auth);
  }

  private client(service: string): any {
    let c = this.clients.get(service);
    if (!c) {
      const Ctor = api()[service];
      if (!Ctor) throw new Error(`no service switchyard.v1.${service} in ${PROTO_DIR}`);
      c = new Ctor(this.address, this.cred.creds, this.cred.options) as grpc.Client;
      this.clients.set(service, c);
    }
    return c;
  }

  /** One unary call; rejects with the grpc ServiceError (err.code, err.details). */
  call<T = any>(service: string, method: string, req: object = {}, timeoutMs = 15_000): Promise<T> {
    const c = this.client(service);
    const fn = c[method] as Unary | undefined;
    if (typeof fn !== 'function') throw new Error(`no method ${service}.${method}`);
    return new Promise((resolve, reject) => {
      (c[method] as any).call(c, req, this.cred.metadata(), { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  /** A server-streaming call to its end: the messages, or the grpc ServiceError it ended with. */
  stream<T = any>(service: string, method: string, req: object = {}, timeoutMs = 15_000): Promise<T[]> {
    const c = this.client(service);
    if (typeof c[method] !== 'function') throw new Error(`no method ${service}.${method}`);
    return new Promise((resolve, reject) => {
      const out: T[] = [];
      const s = (c[method] as any).call(c, req, this.cred.metadata(), { deadline: Date.now() + timeoutMs }) as NodeJS.ReadableStream;
      s.on('data', (m: T) => out.push(m));
      s.on('error', reject);
      s.on('end', () => resolve(out));
    });
  }

  /** Resolves with the status code of a call that is expected to fail (OK = 0 if it did not). */
  async code(service: string, method: string, req: object = {}, timeoutMs?: number): Promise<{ code: number; details: string }> {
    try {
      await this.call(service, method, req, timeoutMs);
      return { code: grpc.status.OK, details: '' };
    } catch (e) {
      const err = e as grpc.ServiceError;
      if (typeof err.code !== 'number') throw e;
      return { code: err.code, details: err.details ?? err.message };
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** grpc status number -> name ("INVALID_ARGUMENT"), for readable assertions. */
export function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? String(code);
}
