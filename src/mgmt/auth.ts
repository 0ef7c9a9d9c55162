/**
 * Who may talk to the switch: TLS and authentication of the gRPC API, and
 * the private directories of the control socket, the stats segment and the
 * state file.
 *
 * The API. On loopback (127.0.0.0/8, ::1, localhost) or a unix socket the
 * daemon serves without anything, as before. Any other address is refused
 * unless the server has TLS (--tls-cert, --tls-key) and a way to know its
 * clients: client certificates (--tls-client-ca: mutual TLS, checked by
 * grpc-js in the handshake, so a client without a valid certificate never
 * gets a call through; it sees UNAVAILABLE "certificate required") and/or a
 * bearer token (--token-file or SWITCHYARD_TOKEN: every call carries
 * `authorization: Bearer TOKEN`, checked by one server interceptor in front
 * of every service, so no service checks anything itself). With both, both
 * are required. TLS and the token may be used on loopback too.
 *
 * What the token does not guard: the standard health service
 * (grpc.health.v1.Health), which probes and load balancers query without
 * credentials, as with OVS and VPP; it tells only SERVING or NOT_SERVING.
 * Server reflection describes the API, so it needs the token like any other
 * call. Under mutual TLS every call, health included, needs a certificate:
 * the handshake comes before any method.
 *
 * Secrets are never taken from a command-line value (anyone on the machine
 * reads those in ps): the token comes from a file only its owner may read
 * (mode 0600 or 0400; a group/world-readable file is refused, as ssh refuses
 * a private key) or from the environment (readable in /proc only by the
 * same user and root). The TLS key may be group-readable (0640, the usual
 * ssl-cert group), never world-readable.
 *
 * Directories. The control socket (dp.sock) and the stats segment give full
 * control and a view of every counter, so they are created mode 0600 in a
 * directory that only the daemon's user can write: the run directory is
 * created 0700, and an existing one that is group/world-writable or owned by
 * another user (root excepted) is refused, since whoever can write it can
 * replace the socket with their own. The state file's directory follows the
 * same rule: its contents are replayed into the data plane.
 */
import {
  ChannelCredentials,
  credentials,
  InterceptingCall,
  Interceptor,
  Metadata,
  ResponderBuilder,
  ServerCredentials,
  ServerInterceptingCall,
  ServerInterceptor,
  ServerListenerBuilder,
  ServiceError,
  status as Status,
} from '@grpc/grpc-js';
import { createHash, createPrivateKey, KeyObject, timingSafeEqual, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, Stats } from 'node:fs';
import { isIP } from 'node:net';

export const TOKEN_ENV = 'SWITCHYARD_TOKEN';
/** Shorter tokens are refused: a guessable token is no token (`openssl rand -hex 32` makes a good one). */
export const TOKEN_MIN = 16;
/** Paths of methods a client may call without the token. */
const OPEN_SERVICE = '/grpc.health.v1.Health/';

export class SecurityError extends Error {
  override readonly name = 'SecurityError';
}

// ---------------------------------------------------------------- addresses

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

/** Whether an address reaches only this machine (loopback or a unix socket). */
export function isLocalAddress(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const hp = splitHostPort(address);
  return hp !== undefined && isLoopback(hp.host);
}

// ---------------------------------------------------------------- files

function octal(mode: number): string {
  return '0' + (mode & 0o777).toString(8).padStart(3, '0');
}

function statOf(path: string, what: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw new SecurityError(`${what} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

function readSecretFile(path: string, what: string, forbidden: number, fix: string): Buffer {
  const st = statOf(path, what);
  if (!st.isFile()) throw new SecurityError(`${what} ${path} is not a regular file`);
  if (st.mode & forbidden) {
    throw new SecurityError(`${what} ${path} has mode ${octal(st.mode)}: ${fix} (chmod ${forbidden === 0o077 ? '600' : 'o-rwx'} ${path})`);
  }
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SecurityError(`${what} ${path}: ${(e as Error).message}`);
  }
}

function readPublicFile(path: string, what: string): Buffer {
  statOf(path, what);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SecurityError(`${what} ${path}: ${(e as Error).message}`);
  }
}

/** A token as it travels in a header: printable ASCII without spaces, at least TOKEN_MIN characters. */
export function checkToken(token: string, from: string): string {
  const t = token.trim();
  if (t === '') throw new SecurityError(`${from} is empty`);
  if (!/^[\x21-\x7e]+$/.test(t)) throw new SecurityError(`${from}: the token must be printable ASCII without spaces (e.g. openssl rand -hex 32)`);
  if (t.length < TOKEN_MIN) throw new SecurityError(`${from}: the token has ${t.length} characters, at least ${TOKEN_MIN} are needed (e.g. openssl rand -hex 32)`);
  return t;
}

/** Reads a token file: a regular file readable by its owner only, holding one token (surrounding whitespace ignored). */
export function readTokenFile(path: string): string {
  const data = readSecretFile(path, 'token file', 0o077, 'it must be readable by its owner only');
  return checkToken(data.toString('utf8'), `token file ${path}`);
}

/** The token of --token-file, else of SWITCHYARD_TOKEN; undefined if neither. */
export function loadToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): { token: string; source: string } | undefined {
  if (tokenFile !== undefined && tokenFile !== '') return { token: readTokenFile(tokenFile), source: `--token-file ${tokenFile}` };
  const v = env[TOKEN_ENV];
  if (v !== undefined && v !== '') return { token: checkToken(v, TOKEN_ENV), source: TOKEN_ENV };
  return undefined;
}

/**
 * Refuses a directory that someone other than this user could write: group
 * or world-writable, or owned by another user (root's own are trusted).
 */
export function checkPrivateDir(dir: string, what: string): void {
  const st = statOf(dir, what);
  if (!st.isDirectory()) throw new SecurityError(`${what} ${dir} is not a directory`);
  const uid = process.geteuid?.() ?? st.uid;
  if (st.uid !== uid && st.uid !== 0) {
    throw new SecurityError(`${what} ${dir} belongs to uid ${st.uid}, not to this user (uid ${uid}): refusing to put sockets and state there`);
  }
  if (st.mode & 0o022) {
    throw new SecurityError(
      `${what} ${dir} has mode ${octal(st.mode)}: others can write it and so replace its sockets and files; ` +
        `use a directory only its owner can write (chmod 700 ${dir}, or another directory)`,
    );
  }
}

/** Creates a directory mode 0700 (parents too) if absent, then checks it as checkPrivateDir does. */
export function preparePrivateDir(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new SecurityError(`cannot create the ${what} ${dir}: ${(e as Error).message}`);
  }
  checkPrivateDir(dir, what);
}

// ---------------------------------------------------------------- the server

/** The daemon's security flags (paths), as given. */
export interface ServerSecurityOptions {
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  tokenFile?: string;
}

export interface ServerSecurity {
  /** PEM: certificate chain and key; with clientCa, client certificates are required (mutual TLS). Absent: plaintext. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** The bearer token every call except health checks must carry. */
  token?: string;
}

/** Reads PEM certificates (one or more) and says what is wrong with them, if anything. */
function parseCerts(pem: Buffer, path: string, what: string): X509Certificate[] {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new SecurityError(`${what} ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new SecurityError(`${what} ${path}: certificate #${i + 1} cannot be read: ${(e as Error).message}`);
    }
  });
}

/**
 * Reads and checks the files of the security flags: both of --tls-cert and
 * --tls-key or neither, a key that matches the certificate, a token file of
 * mode 0600. Throws SecurityError naming the flag or file at fault.
 */
export function loadServerSecurity(o: ServerSecurityOptions, env: NodeJS.ProcessEnv = process.env): ServerSecurity {
  const sec: ServerSecurity = {};
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new SecurityError(o.tlsCert === undefined ? '--tls-key needs --tls-cert (the certificate it belongs to)' : '--tls-cert needs --tls-key (its private key)');
  }
  if (o.tlsClientCa !== undefined && o.tlsCert === undefined) {
    throw new SecurityError('--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked in the TLS handshake');
  }
  if (o.tlsCert !== undefined && o.tlsKey !== undefined) {
    const cert = readPublicFile(o.tlsCert, '--tls-cert');
    const key = readSecretFile(o.tlsKey, '--tls-key', 0o007, 'a private key must not be readable by everyone');
    const leaf = parseCerts(cert, o.tlsCert, '--tls-cert')[0];
    let keyObj: KeyObject;
    try {
      keyObj = createPrivateKey(key);
    } catch (e) {
      throw new SecurityError(`--tls-key ${o.tlsKey} holds no usable private key: ${(e as Error).message}`);
    }
    if (!leaf.checkPrivateKey(keyObj)) throw new SecurityError(`--tls-key ${o.tlsKey} is not the key of the certificate in --tls-cert ${o.tlsCert}`);
    sec.tls = { cert, key };
    if (o.tlsClientCa !== undefined) {
      const ca = readPublicFile(o.tlsClientCa, '--tls-client-ca');
      parseCerts(ca, o.tlsClientCa, '--tls-client-ca');
      sec.tls.clientCa = ca;
    }
  }
  const t = loadToken(o.tokenFile, env);
  if (t) sec.token = t.token;
  return sec;
}

/** What the server asks of clients, for the log and status ("TLS, client certificates, bearer token"). */
export function describeSecurity(sec: ServerSecurity): string {
  const parts = [sec.tls ? 'TLS' : 'plaintext'];
  if (sec.tls?.clientCa) parts.push('client certificates');
  if (sec.token) parts.push('bearer token');
  return parts.join(', ');
}

/**
 * Why an address other than loopback may not be served with this security,
 * or undefined when it may: it needs TLS and client certificates or a token.
 */
export function exposureProblem(listen: string, sec: ServerSecurity): string | undefined {
  const auth = '--tls-client-ca (client certificates) or --token-file / SWITCHYARD_TOKEN (a bearer token)';
  if (!sec.tls && !sec.token) {
    return `refusing to listen on ${listen}: no TLS and no authentication; an address other than loopback needs --tls-cert and --tls-key, and ${auth}`;
  }
  if (!sec.tls) {
    return `refusing to listen on ${listen}: no TLS, so the token would cross the network in the clear; an address other than loopback needs --tls-cert and --tls-key`;
  }
  if (!sec.tls.clientCa && !sec.token) {
    return `refusing to listen on ${listen}: TLS but no authentication, so anyone who reaches the port controls the switch; give ${auth}`;
  }
  return undefined;
}

export function serverCredentials(sec: ServerSecurity): ServerCredentials {
  if (!sec.tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(sec.tls.clientCa ?? null, [{ cert_chain: sec.tls.cert, private_key: sec.tls.key }], sec.tls.clientCa !== undefined);
}

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();

/** Why a call's metadata does not carry the token, or undefined if it does. Constant time in the token. */
export function bearerProblem(md: Metadata, want: Buffer): string | undefined {
  const values = md.get('authorization');
  if (values.length === 0) return 'this call needs a bearer token (metadata authorization: Bearer TOKEN)';
  if (values.length > 1) return 'more than one authorization header';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(String(values[0]));
  if (!m) return 'the authorization header is not "Bearer TOKEN"';
  // Hashing first gives equal lengths, so the comparison says nothing about the token's length either.
  if (!timingSafeEqual(digest(m[1]), want)) return 'the bearer token is not valid';
  return undefined;
}

/**
 * The server interceptor that checks the token on every call except health
 * checks, before any handler runs: a call without it ends UNAUTHENTICATED.
 * `onRefused` hears about each refusal (the daemon logs them, rate-limited).
 */
export function tokenInterceptor(token: string, onRefused?: (path: string, peer: string, why: string) => void): ServerInterceptor {
  const want = digest(token);
  return (method, call) => {
    if (method.path.startsWith(OPEN_SERVICE)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((md, next) => {
        const why = bearerProblem(md, want);
        if (why === undefined) return next(md);
        onRefused?.(method.path, call.getPeer(), why);
        call.sendStatus({ code: Status.UNAUTHENTICATED, details: why });
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

/** The interceptors of a server with this security (none without a token). */
export function serverInterceptors(sec: ServerSecurity, onRefused?: (path: string, peer: string, why: string) => void): ServerInterceptor[] {
  return sec.token ? [tokenInterceptor(sec.token, onRefused)] : [];
}

/** Calls f at most once per intervalMs, with the number of calls it missed. */
export function rateLimited<A extends unknown[]>(intervalMs: number, f: (suppressed: number, ...a: A) => void): (...a: A) => void {
  let last = 0;
  let missed = 0;
  return (...a: A) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      missed++;
      return;
    }
    last = now;
    f(missed, ...a);
    missed = 0;
  };
}

// ---------------------------------------------------------------- the client

/** The CLI's (and any Node client's) security flags, as given. */
export interface ClientSecurityOptions {
  /** CA to verify the server with; turns TLS on. */
  tlsCa?: string;
  /** Client certificate and key (mutual TLS); turn TLS on. */
  tlsCert?: string;
  tlsKey?: string;
  tokenFile?: string;
  /** The name the server's certificate must carry, when not the --server host. */
  serverName?: string;
}

export interface ClientSecurity {
  creds: ChannelCredentials;
  /** Channel options: the server-name override and the interceptor that adds the token. */
  options: Record<string, unknown>;
  tls: boolean;
  clientCert: boolean;
  token: boolean;
}

/**
 * grpc-js sets the TLS server name to the target's host even when it is an
 * IP address, and Node then warns (DEP0123) on every connection
 * (grpc/grpc-node#1919); a CLI must not print that. This drops that one
 * warning and passes every other on.
 */
function quietIpServernameWarning(): void {
  const p = process as NodeJS.Process & { __syQuietDep0123?: boolean };
  if (p.__syQuietDep0123) return;
  p.__syQuietDep0123 = true;
  const emit = process.emitWarning.bind(process) as (...a: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** A client interceptor that puts `authorization: Bearer TOKEN` on every call. */
export function bearerInterceptor(token: string): Interceptor {
  const value = `Bearer ${token}`;
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', value);
        next(metadata, listener);
      },
    });
}

/**
 * Credentials and channel options for a client of `address`. The token is
 * sent over TLS, or in the clear only to a local address: a plaintext
 * client aimed elsewhere is refused rather than leak it.
 */
export function loadClientSecurity(address: string, o: ClientSecurityOptions, env: NodeJS.ProcessEnv = process.env): ClientSecurity {
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new SecurityError(o.tlsCert === undefined ? '--tls-key needs --tls-cert (the client certificate it belongs to)' : '--tls-cert needs --tls-key (the client certificate\'s private key)');
  }
  const tls = o.tlsCa !== undefined || o.tlsCert !== undefined;
  const options: Record<string, unknown> = {};
  let creds = credentials.createInsecure();
  if (tls) {
    const ca = o.tlsCa !== undefined ? readPublicFile(o.tlsCa, '--tls-ca') : null;
    const cert = o.tlsCert !== undefined ? readPublicFile(o.tlsCert, '--tls-cert') : null;
    const key = o.tlsKey !== undefined ? readSecretFile(o.tlsKey, '--tls-key', 0o007, 'a private key must not be readable by everyone') : null;
    if (ca) parseCerts(ca, o.tlsCa!, '--tls-ca');
    creds = credentials.createSsl(ca, key, cert);
    quietIpServernameWarning();
  }
  if (o.serverName !== undefined && o.serverName !== '') {
    if (!tls) throw new SecurityError('--server-name is the name in the server\'s TLS certificate: it needs --tls-ca (or --tls-cert)');
    options['grpc.ssl_target_name_override'] = o.serverName;
    options['grpc.default_authority'] = o.serverName;
  }
  const t = loadToken(o.tokenFile, env);
  if (t) {
    if (!tls && !isLocalAddress(address)) {
      throw new SecurityError(`refusing to send the token (${t.source}) in the clear to ${address}: pass --tls-ca FILE to talk TLS`);
    }
    options.interceptors = [bearerInterceptor(t.token)];
  }
  return { creds, options, tls, clientCert: o.tlsCert !== undefined, token: t !== undefined };
}

/** The cause in grpc-js's "No connection established. Last error: ..." details, without its wrapping ("wrong version number"). */
function lastError(details: string): string {
  const m = /Last error: ([\s\S]*?)(?:\s*\(\d{4}-\d\d-\d\dT[^)]*\))?\.?\s*(?:Resolution note:[\s\S]*)?$/.exec(details);
  const s = (m ? m[1] : details).replace(/^Error(?: \[[A-Z0-9_]+\])?: /, '').trim();
  return /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+)/.exec(s)?.[1] ?? s;
}

/**
 * A one-line explanation of a failed call that comes from TLS or
 * authentication, with what to pass; undefined for any other failure.
 */
export function explainSecurityError(err: ServiceError, address: string, sec: Pick<ClientSecurity, 'tls' | 'clientCert' | 'token'>): string | undefined {
  const d = err.details ?? '';
  if (err.code === Status.UNAUTHENTICATED) {
    return sec.token
      ? `switchyardd at ${address} refused the token: ${d}`
      : `switchyardd at ${address} requires a bearer token (${d}): pass --token-file FILE or set ${TOKEN_ENV}`;
  }
  if (err.code !== Status.UNAVAILABLE) return undefined;
  const why = lastError(d);
  if (sec.tls) {
    if (/wrong version number|packet length too long|http request/i.test(d)) {
      return `switchyardd at ${address} does not talk TLS (${why}): leave out --tls-ca/--tls-cert, or start it with --tls-cert and --tls-key`;
    }
    if (/certificate required/i.test(d)) {
      return `switchyardd at ${address} requires a client certificate (${why}): pass --tls-cert FILE --tls-key FILE, signed by the CA of its --tls-client-ca`;
    }
    if (/altnames|certificate|self.signed|verify|issuer/i.test(d)) {
      return (
        `cannot verify the certificate of switchyardd at ${address} (${why}): pass the CA that signed it with --tls-ca FILE, ` +
        `and --server-name NAME if the certificate names another host`
      );
    }
    // A refused client certificate shows as the server closing the
    // connection, in whichever words the moment of the close gives.
    if (/Failed to connect|No connection established|ECONNRESET|Connection dropped|socket hang up/i.test(d) && sec.clientCert) {
      return `switchyardd at ${address} closed the connection after the TLS handshake (${why}): it may have refused the client certificate (--tls-cert), which must be signed by the CA of its --tls-client-ca`;
    }
  } else if (/Failed to connect/.test(d)) {
    // Something accepted the TCP connection but did not speak plaintext HTTP/2: most likely TLS.
    return `cannot talk to switchyardd at ${address} (${why}): if it serves TLS, pass --tls-ca FILE (and --tls-cert/--tls-key, --token-file as it requires)`;
  }
  return undefined;
}
