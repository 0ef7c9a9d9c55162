/**
 * Security options and their checks (src/mgmt/auth.ts): what the daemon
 * refuses to start with and why, token files and their modes, private
 * directories, the bearer-token check, the client's options and the CLI's
 * explanation of TLS and authentication failures; then the token
 * interceptor on a real gRPC server (in-process, no data plane) spoken to by
 * plain grpc-js clients. Certificates are made by openssl.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonArgs, connectAddress } from '../../src/cli/start';
import {
  bearerProblem,
  checkPrivateDir,
  describeSecurity,
  explainSecurityError,
  loadClientSecurity,
  loadServerSecurity,
  loadToken,
  preparePrivateDir,
  readTokenFile,
  ServerSecurity,
} from '../../src/mgmt/auth';
import { parseDaemonArgs } from '../../src/mgmt/daemon';
import { silentLogger } from '../../src/mgmt/log';
import { checkListen, RunningServer, startServer } from '../../src/mgmt/server';
import { emptyState, StateStore } from '../../src/mgmt/state';
import { Switch } from '../../src/mgmt/switch';
import { Certs, makeCerts } from '../helpers/certs';

const REPO = join(__dirname, '../..');
const TOKEN = 'c2d9f1e0a7b44c6e9f3a8b1d5e7c2a90';
const dir = mkdtempSync(join(tmpdir(), 'sy-security-'));
let certs: Certs;

beforeAll(() => {
  mkdirSync(join(dir, 'certs'));
  certs = makeCerts(join(dir, 'certs'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokenFile(name: string, content: string, mode = 0o600): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

const argv = (...a: string[]) => ['node', 'switchyardd', ...a];

describe('token files', () => {
  it('a file of mode 0600 or 0400 gives its token, surrounding whitespace dropped', () => {
    expect(readTokenFile(tokenFile('t600', `${TOKEN}\n`))).toBe(TOKEN);
    expect(readTokenFile(tokenFile('t400', `  ${TOKEN}  \n`, 0o400))).toBe(TOKEN);
  });

  it('a group- or world-readable (or writable) file is refused, naming its mode and the fix', () => {
    for (const mode of [0o640, 0o604, 0o644, 0o620, 0o602]) {
      const f = tokenFile(`t${mode.toString(8)}`, TOKEN, mode);
      expect(() => readTokenFile(f), mode.toString(8)).toThrow(
        `token file ${f} has mode 0${mode.toString(8)}: it must be readable by its owner only (chmod 600 ${f})`,
      );
    }
  });

  it('an empty, short, non-ASCII or missing token is refused', () => {
    expect(() => readTokenFile(tokenFile('empty', '\n'))).toThrow(/token file .*empty is empty/);
    expect(() => readTokenFile(tokenFile('short', 'secret'))).toThrow(/the token has 6 characters, at least 16 are needed/);
    expect(() => readTokenFile(tokenFile('spaces', 'two words that are long enough'))).toThrow(/printable ASCII without spaces/);
    expect(() => readTokenFile(join(dir, 'nosuch'))).toThrow(`token file ${join(dir, 'nosuch')}: no such file`);
    expect(() => readTokenFile(dir)).toThrow(`token file ${dir} is not a regular file`);
  });

  it('--token-file wins over SWITCHYARD_TOKEN; the environment alone works; neither gives none', () => {
    const f = tokenFile('tfile', TOKEN);
    const env = { SWITCHYARD_TOKEN: 'e'.repeat(32) };
    expect(loadToken(f, env)).toEqual({ token: TOKEN, source: `--token-file ${f}` });
    expect(loadToken(undefined, env)).toEqual({ token: 'e'.repeat(32), source: 'SWITCHYARD_TOKEN' });
    expect(loadToken(undefined, {})).toBeUndefined();
    expect(() => loadToken(undefined, { SWITCHYARD_TOKEN: 'short' })).toThrow(/SWITCHYARD_TOKEN: the token has 5 characters/);
  });
});

describe('server security options', () => {
  it('switchyardd takes --tls-cert, --tls-key, --tls-client-ca and --token-file as absolute paths (no token value on the command line)', () => {
    const o = parseDaemonArgs(argv('--tls-cert', 'a.pem', '--tls-key', 'a.key', '--tls-client-ca', 'ca.pem', '--token-file', 'tok'), {});
    expect(o).toMatchObject({ tlsCert: join(process.cwd(), 'a.pem'), tlsKey: join(process.cwd(), 'a.key'), tlsClientCa: join(process.cwd(), 'ca.pem'), tokenFile: join(process.cwd(), 'tok') });
    expect(() => parseDaemonArgs(argv('--token', TOKEN), {})).toThrow(/unknown option '--token'/);
  });

  it('reads a matching certificate and key, the client CA and the token', () => {
    const sec = loadServerSecurity({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsClientCa: certs.ca, tokenFile: tokenFile('tok', TOKEN) }, {});
    expect(sec.tls?.cert.toString()).toBe(readFileSync(certs.serverCert, 'utf8'));
    expect(sec.tls?.clientCa?.toString()).toBe(readFileSync(certs.ca, 'utf8'));
    expect(sec.token).toBe(TOKEN);
    expect(describeSecurity(sec)).toBe('TLS, client certificates, bearer token');
    expect(describeSecurity({})).toBe('plaintext');
  });

  it('refuses half a TLS configuration, naming the missing flag', () => {
    expect(() => loadServerSecurity({ tlsCert: certs.serverCert }, {})).toThrow('--tls-cert needs --tls-key (its private key)');
    expect(() => loadServerSecurity({ tlsKey: certs.serverKey }, {})).toThrow('--tls-key needs --tls-cert (the certificate it belongs to)');
    expect(() => loadServerSecurity({ tlsClientCa: certs.ca }, {})).toThrow('--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked in the TLS handshake');
  });

  it('refuses a key of another certificate, a file that is no certificate, and a world-readable key', () => {
    expect(() => loadServerSecurity({ tlsCert: certs.serverCert, tlsKey: certs.clientKey }, {})).toThrow(
      `--tls-key ${certs.clientKey} is not the key of the certificate in --tls-cert ${certs.serverCert}`,
    );
    const notCert = tokenFile('not-a-cert.pem', 'hello\n', 0o644);
    expect(() => loadServerSecurity({ tlsCert: notCert, tlsKey: certs.serverKey }, {})).toThrow(`--tls-cert ${notCert} holds no PEM certificate`);
    expect(() => loadServerSecurity({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsClientCa: notCert }, {})).toThrow(`--tls-client-ca ${notCert} holds no PEM certificate`);
    const key = join(dir, 'world.key');
    writeFileSync(key, readFileSync(certs.serverKey));
    chmodSync(key, 0o644);
    expect(() => loadServerSecurity({ tlsCert: certs.serverCert, tlsKey: key }, {})).toThrow(`--tls-key ${key} has mode 0644: a private key must not be readable by everyone (chmod o-rwx ${key})`);
    chmodSync(key, 0o640); // the ssl-cert group's way
    expect(loadServerSecurity({ tlsCert: certs.serverCert, tlsKey: key }, {}).tls).toBeDefined();
    expect(() => loadServerSecurity({ tlsCert: join(dir, 'nosuch.pem'), tlsKey: key }, {})).toThrow(`--tls-cert ${join(dir, 'nosuch.pem')}: no such file`);
  });
});

describe('listening beyond loopback', () => {
  const tls: ServerSecurity = { tls: { cert: Buffer.from('c'), key: Buffer.from('k') } };
  const mtls: ServerSecurity = { tls: { cert: Buffer.from('c'), key: Buffer.from('k'), clientCa: Buffer.from('ca') } };

  it('loopback and unix sockets need nothing, and may have TLS and a token', () => {
    for (const l of ['127.0.0.1:50051', '[::1]:1', 'localhost:2', 'unix:/run/switchyard/api.sock']) {
      expect(checkListen(l), l).toBeUndefined();
      expect(checkListen(l, { ...tls, token: TOKEN }), l).toBeUndefined();
      expect(checkListen(l, { token: TOKEN }), l).toBeUndefined();
    }
  });

  it('without TLS and authentication: refused, naming every option it needs', () => {
    expect(checkListen('0.0.0.0:50051')).toBe(
      'refusing to listen on 0.0.0.0:50051: no TLS and no authentication; an address other than loopback needs --tls-cert and --tls-key, ' +
        'and --tls-client-ca (client certificates) or --token-file / SWITCHYARD_TOKEN (a bearer token)',
    );
  });

  it('a token without TLS: refused (it would cross the network in the clear)', () => {
    expect(checkListen('10.1.2.3:50051', { token: TOKEN })).toBe(
      'refusing to listen on 10.1.2.3:50051: no TLS, so the token would cross the network in the clear; an address other than loopback needs --tls-cert and --tls-key',
    );
  });

  it('TLS without authentication: refused', () => {
    expect(checkListen('[::]:50051', tls)).toBe(
      'refusing to listen on [::]:50051: TLS but no authentication, so anyone who reaches the port controls the switch; ' +
        'give --tls-client-ca (client certificates) or --token-file / SWITCHYARD_TOKEN (a bearer token)',
    );
  });

  it('TLS with client certificates, a token, or both: served', () => {
    expect(checkListen('0.0.0.0:50051', mtls)).toBeUndefined();
    expect(checkListen('0.0.0.0:50051', { ...tls, token: TOKEN })).toBeUndefined();
    expect(checkListen('switch1.example:50051', { ...mtls, token: TOKEN })).toBeUndefined();
  });
});

describe('private directories', () => {
  it('are created mode 0700 whatever the umask, parents too', () => {
    const old = process.umask(0o022);
    try {
      const d = join(dir, 'run', 'a', 'b');
      preparePrivateDir(d, 'run directory');
      expect(statSync(d).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
      preparePrivateDir(d, 'run directory'); // an existing good one is fine
    } finally {
      process.umask(old);
    }
  });

  it('an existing one that others can write is refused, with the fix', () => {
    for (const mode of [0o777, 0o770, 0o1777, 0o722]) {
      const d = join(dir, `open-${mode.toString(8)}`);
      mkdirSync(d);
      chmodSync(d, mode);
      expect(() => checkPrivateDir(d, 'run directory'), mode.toString(8)).toThrow(
        `run directory ${d} has mode 0${(mode & 0o777).toString(8)}: others can write it and so replace its sockets and files; ` +
          `use a directory only its owner can write (chmod 700 ${d}, or another directory)`,
      );
    }
    const ok = join(dir, 'readable');
    mkdirSync(ok, { mode: 0o755 });
    expect(() => checkPrivateDir(ok, 'run directory')).not.toThrow(); // readable is fine: the socket itself is 0600
  });

  it.runIf(process.getuid?.() === 0)("one owned by another user is refused (root's are trusted)", () => {
    const d = join(dir, 'nobodys');
    mkdirSync(d, { mode: 0o700 });
    chownSync(d, 65534, 65534);
    expect(() => checkPrivateDir(d, 'run directory')).toThrow(`run directory ${d} belongs to uid 65534, not to this user (uid 0): refusing to put sockets and state there`);
  });

  it('a file is not a directory', () => {
    const f = tokenFile('plain', 'x');
    expect(() => preparePrivateDir(f, 'run directory')).toThrow(/cannot create the run directory .*plain|run directory .*plain is not a directory/);
  });

  it('the state directory may not be writable by others either', () => {
    const d = join(dir, 'state-open');
    mkdirSync(d);
    chmodSync(d, 0o777);
    expect(() => new StateStore(join(d, 'state.json')).checkWritable()).toThrow(`state directory ${d} has mode 0777`);
    chmodSync(d, 0o700);
    expect(() => new StateStore(join(d, 'state.json')).checkWritable()).not.toThrow();
  });
});

describe('the bearer token check', () => {
  const want = require('node:crypto').createHash('sha256').update(TOKEN).digest();
  const md = (...values: string[]) => {
    const m = new grpc.Metadata();
    for (const v of values) m.add('authorization', v);
    return m;
  };

  it('accepts exactly "Bearer TOKEN" (scheme in any case)', () => {
    expect(bearerProblem(md(`Bearer ${TOKEN}`), want)).toBeUndefined();
    expect(bearerProblem(md(`bearer ${TOKEN}`), want)).toBeUndefined();
  });

  it('says what is wrong otherwise', () => {
    expect(bearerProblem(md(), want)).toBe('this call needs a bearer token (metadata authorization: Bearer TOKEN)');
    expect(bearerProblem(md(`Bearer ${TOKEN}x`), want)).toBe('the bearer token is not valid');
    expect(bearerProblem(md(`Bearer ${TOKEN.slice(0, 16)}`), want)).toBe('the bearer token is not valid');
    expect(bearerProblem(md(TOKEN), want)).toBe('the authorization header is not "Bearer TOKEN"');
    expect(bearerProblem(md(`Basic ${TOKEN}`), want)).toBe('the authorization header is not "Bearer TOKEN"');
    expect(bearerProblem(md(`Bearer ${TOKEN}`, `Bearer ${TOKEN}`), want)).toBe('more than one authorization header');
  });
});

describe('client security options', () => {
  it('plaintext by default; TLS with --tls-ca; a client certificate with --tls-cert and --tls-key', () => {
    expect(loadClientSecurity('127.0.0.1:50051', {}, {})).toMatchObject({ tls: false, clientCert: false, token: false });
    expect(loadClientSecurity('127.0.0.1:50051', { tlsCa: certs.ca }, {})).toMatchObject({ tls: true, clientCert: false });
    expect(loadClientSecurity('h:1', { tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey }, {})).toMatchObject({ tls: true, clientCert: true });
    expect(() => loadClientSecurity('h:1', { tlsCert: certs.clientCert }, {})).toThrow("--tls-cert needs --tls-key (the client certificate's private key)");
    expect(() => loadClientSecurity('h:1', { tlsCa: join(dir, 'nosuch') }, {})).toThrow(`--tls-ca ${join(dir, 'nosuch')}: no such file`);
  });

  it('sends the token over TLS, or in the clear only to a local address', () => {
    const f = tokenFile('ctok', TOKEN);
    expect(loadClientSecurity('127.0.0.1:50051', { tokenFile: f }, {}).token).toBe(true);
    expect(loadClientSecurity('unix:/run/switchyard/api.sock', {}, { SWITCHYARD_TOKEN: TOKEN }).token).toBe(true);
    expect(loadClientSecurity('10.0.0.1:50051', { tokenFile: f, tlsCa: certs.ca }, {}).token).toBe(true);
    expect(() => loadClientSecurity('10.0.0.1:50051', { tokenFile: f }, {})).toThrow(
      `refusing to send the token (--token-file ${f}) in the clear to 10.0.0.1:50051: pass --tls-ca FILE to talk TLS`,
    );
    expect(() => loadClientSecurity('127.0.0.1:1', { tokenFile: tokenFile('ctok644', TOKEN, 0o644) }, {})).toThrow(/has mode 0644/);
  });

  it('--server-name needs TLS', () => {
    expect(() => loadClientSecurity('h:1', { serverName: 'switch1' }, {})).toThrow(/--server-name .* needs --tls-ca/);
    expect(loadClientSecurity('h:1', { serverName: 'switch1', tlsCa: certs.ca }, {}).options).toMatchObject({ 'grpc.ssl_target_name_override': 'switch1' });
  });

  it('failures of TLS and authentication are explained with what to pass', () => {
    const e = (code: grpc.status, details: string) => Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
    const none = { tls: false, clientCert: false, token: false };
    const tls = { tls: true, clientCert: false, token: false };
    const a = '127.0.0.1:50051';
    expect(explainSecurityError(e(grpc.status.UNAUTHENTICATED, 'this call needs a bearer token (metadata authorization: Bearer TOKEN)'), a, none)).toBe(
      'switchyardd at 127.0.0.1:50051 requires a bearer token (this call needs a bearer token (metadata authorization: Bearer TOKEN)): pass --token-file FILE or set SWITCHYARD_TOKEN',
    );
    expect(explainSecurityError(e(grpc.status.UNAUTHENTICATED, 'the bearer token is not valid'), a, { ...none, token: true })).toBe(
      'switchyardd at 127.0.0.1:50051 refused the token: the bearer token is not valid',
    );
    const dropped = 'No connection established. Last error: Failed to connect (2026-01-01T00:00:00.000Z). Resolution note: ';
    // a client certificate the server refused: the close comes as either words
    for (const d of [dropped, 'No connection established. Last error: read ECONNRESET (2026-01-01T00:00:00.000Z). Resolution note: ']) {
      expect(explainSecurityError(e(grpc.status.UNAVAILABLE, d), a, { ...tls, clientCert: true })).toMatch(
        /^switchyardd at 127\.0\.0\.1:50051 closed the connection after the TLS handshake \((Failed to connect|read ECONNRESET)\): it may have refused the client certificate/,
      );
    }
    expect(explainSecurityError(e(grpc.status.UNAVAILABLE, dropped), a, none)).toBe(
      'cannot talk to switchyardd at 127.0.0.1:50051 (Failed to connect): if it serves TLS, pass --tls-ca FILE (and --tls-cert/--tls-key, --token-file as it requires)',
    );
    expect(explainSecurityError(e(grpc.status.UNAVAILABLE, 'No connection established. Last error: Error: unable to verify the first certificate. Resolution note: '), a, tls)).toBe(
      'cannot verify the certificate of switchyardd at 127.0.0.1:50051 (unable to verify the first certificate): pass the CA that signed it with --tls-ca FILE, and --server-name NAME if the certificate names another host',
    );
    expect(
      explainSecurityError(
        e(grpc.status.UNAVAILABLE, 'No connection established. Last error: 80:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:rec_layer_s3.c:1601:SSL alert number 116\n (2026-01-01T00:00:00.000Z). Resolution note: '),
        a,
        tls,
      ),
    ).toBe('switchyardd at 127.0.0.1:50051 requires a client certificate (tlsv13 alert certificate required): pass --tls-cert FILE --tls-key FILE, signed by the CA of its --tls-client-ca');
    expect(explainSecurityError(e(grpc.status.UNAVAILABLE, 'No connection established. Last error: Error: 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:350:\n. Resolution note: '), a, tls)).toBe(
      'switchyardd at 127.0.0.1:50051 does not talk TLS (wrong version number): leave out --tls-ca/--tls-cert, or start it with --tls-cert and --tls-key',
    );
    expect(
      explainSecurityError(
        e(grpc.status.UNAVAILABLE, "No connection established. Last error: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: foo. is not in the cert's altnames: DNS:localhost. Resolution note: "),
        a,
        tls,
      ),
    ).toBe(
      "cannot verify the certificate of switchyardd at 127.0.0.1:50051 (Hostname/IP does not match certificate's altnames: Host: foo. is not in the cert's altnames: DNS:localhost): " +
        'pass the CA that signed it with --tls-ca FILE, and --server-name NAME if the certificate names another host',
    );
    expect(explainSecurityError(e(grpc.status.UNAVAILABLE, dropped), a, { tls: true, clientCert: true, token: false })).toMatch(/may have refused the client certificate/);
    // anything else is not ours to explain
    expect(explainSecurityError(e(grpc.status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:50051.'), a, none)).toBeUndefined();
    expect(explainSecurityError(e(grpc.status.NOT_FOUND, "port 'p9' does not exist"), a, tls)).toBeUndefined();
  });
});

describe('switchyard start passes the security flags through', () => {
  it('--server-cert, --server-key, --client-ca and the token file become switchyardd flags', () => {
    const a = daemonArgs({ port: [], flow: [], serverCert: 's.pem', serverKey: 's.key', clientCa: 'ca.pem', tokenFile: 'tok' }, '0.0.0.0:50051');
    expect(a).toEqual(['--listen', '0.0.0.0:50051', '--tls-cert', join(process.cwd(), 's.pem'), '--tls-key', join(process.cwd(), 's.key'),
      '--tls-client-ca', join(process.cwd(), 'ca.pem'), '--token-file', join(process.cwd(), 'tok')]);
  });

  it('a wildcard --listen is reached on loopback', () => {
    expect(connectAddress('0.0.0.0:50051')).toBe('127.0.0.1:50051');
    expect(connectAddress('[::]:50051')).toBe('[::1]:50051');
    expect(connectAddress('10.0.0.1:50051')).toBe('10.0.0.1:50051');
  });
});

describe('the token interceptor on a real server', () => {
  let server: RunningServer;
  let address: string;
  const clients: grpc.Client[] = [];
  const OPTS = { longs: String, enums: String, defaults: true, oneofs: true };
  let v1: any;
  let Health: any;
  let Reflection: any;

  beforeAll(async () => {
    const sw = new Switch(emptyState(), { save: async () => undefined }, silentLogger);
    server = await startServer({
      listen: '127.0.0.1:0',
      sw,
      system: { status: () => ({ daemonPid: process.pid }), shutdown: () => undefined },
      reasons: [],
      log: silentLogger,
      security: { token: TOKEN },
    });
    address = `127.0.0.1:${server.port}`;
    v1 = (grpc.loadPackageDefinition(protoLoader.loadSync('switchyard/v1/switchyard.proto', { ...OPTS, includeDirs: [join(REPO, 'proto')] })) as any).switchyard.v1;
    Health = (grpc.loadPackageDefinition(protoLoader.loadSync('health/v1/health.proto', { ...OPTS, includeDirs: [join(REPO, 'node_modules/grpc-health-check/proto')] })) as any).grpc.health.v1
      .Health;
    Reflection = (
      grpc.loadPackageDefinition(
        protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { ...OPTS, includeDirs: [join(REPO, 'node_modules/@grpc/reflection/build/proto')] }),
      ) as any
    ).grpc.reflection.v1.ServerReflection;
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close(500);
  });

  const client = (Ctor: any) => {
    const c = new Ctor(address, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  };
  const auth = (token?: string) => {
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    return md;
  };
  const unary = (c: any, method: string, md: grpc.Metadata): Promise<{ code: string; details: string }> =>
    new Promise((resolve) =>
      c[method]({}, md, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null) =>
        resolve(err ? { code: grpc.status[err.code], details: err.details } : { code: 'OK', details: '' }),
      ),
    );

  it('a call without the token, or with a wrong one, is UNAUTHENTICATED; with it the call runs', async () => {
    const system = client(v1.SystemService);
    expect(await unary(system, 'GetStatus', auth())).toEqual({ code: 'UNAUTHENTICATED', details: 'this call needs a bearer token (metadata authorization: Bearer TOKEN)' });
    expect(await unary(system, 'GetStatus', auth('x'.repeat(32)))).toEqual({ code: 'UNAUTHENTICATED', details: 'the bearer token is not valid' });
    expect((await unary(system, 'GetStatus', auth(TOKEN))).code).toBe('OK');
  });

  it('every method the server registers, of every service, needs the token (health excepted)', async () => {
    // The server's own table of methods (grpc-js keeps it in `handlers`), so a service added later is covered too.
    const paths = [...((server.server as any).handlers as Map<string, unknown>).keys()];
    expect(paths).toEqual(expect.arrayContaining(['/switchyard.v1.PortService/AddPort', '/switchyard.v1.FlowService/StreamFlows', '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo']));
    const raw = client(grpc.makeGenericClientConstructor({}, 'Raw'));
    const id = (b: Buffer) => b;
    const code = (path: string) =>
      new Promise<string>((resolve) => {
        // Sent as a bidi call with no message: the interceptor answers on the metadata alone.
        const s = raw.makeBidiStreamRequest(path, id, id, auth(), { deadline: Date.now() + 5000 });
        s.on('data', () => undefined);
        s.on('status', (st: grpc.StatusObject) => resolve(grpc.status[st.code]));
        s.on('error', () => undefined);
        s.end();
      });
    const codes = new Map<string, string>();
    for (const path of paths) codes.set(path, await code(path));
    const health = paths.filter((p) => p.startsWith('/grpc.health.v1.Health/'));
    expect(health.length).toBeGreaterThan(0);
    for (const path of paths) {
      if (health.includes(path)) expect(codes.get(path), path).not.toBe('UNAUTHENTICATED');
      else expect(codes.get(path), path).toBe('UNAUTHENTICATED');
    }
  });

  it('a streaming call without the token ends UNAUTHENTICATED before any message', async () => {
    const flow = client(v1.FlowService);
    const run = (md: grpc.Metadata) =>
      new Promise<{ code: string; messages: number }>((resolve) => {
        let messages = 0;
        const s = flow.StreamFlows({}, md, { deadline: Date.now() + 5000 });
        s.on('data', () => messages++);
        s.on('error', (err: grpc.ServiceError) => resolve({ code: grpc.status[err.code], messages }));
        s.on('end', () => resolve({ code: 'OK', messages }));
      });
    expect(await run(auth())).toEqual({ code: 'UNAUTHENTICATED', messages: 0 });
    expect((await run(auth(TOKEN))).code).toBe('UNAVAILABLE'); // past the check: no data plane here
  });

  it('health checks need no token', async () => {
    const h = client(Health);
    const res = await new Promise<any>((resolve, reject) => h.Check({ service: '' }, auth(), (err: unknown, r: unknown) => (err ? reject(err) : resolve(r))));
    expect(res).toEqual({ status: 'NOT_SERVING' });
  });

  it('reflection needs the token', async () => {
    const r = client(Reflection);
    const list = (md: grpc.Metadata) =>
      new Promise<{ code: string; services: string[] }>((resolve) => {
        const s = r.ServerReflectionInfo(md);
        s.on('data', (m: any) => {
          resolve({ code: 'OK', services: m.listServicesResponse.service.map((x: { name: string }) => x.name) });
          s.end();
        });
        s.on('error', (err: grpc.ServiceError) => resolve({ code: grpc.status[err.code], services: [] }));
        s.write({ listServices: '' });
      });
    expect(await list(auth())).toEqual({ code: 'UNAUTHENTICATED', services: [] });
    expect((await list(auth(TOKEN))).services).toContain('switchyard.v1.PortService');
  });
});
