/**
 * Security, end to end, with the real daemon and data plane and certificates
 * made by openssl (a CA, a server certificate for 127.0.0.1 and localhost,
 * a client certificate, and a client certificate of another CA):
 *
 * - switchyardd refuses an address other than loopback without TLS and
 *   authentication, naming what is missing; a token file others can read,
 *   and a run or state directory others can write, are refused too.
 * - TLS and a token, on an address of this host that a namespace reaches
 *   over a veth: the CLI in the namespace works with the CA, the token and
 *   --server-name; without the token, with a wrong one, without TLS or
 *   without the CA it exits 1 saying what to pass; plain grpc-js clients get
 *   UNAUTHENTICATED on unary and streaming calls; health answers without
 *   the token, reflection needs it; the token is on no command line.
 * - Mutual TLS: a client with a certificate of the CA works; one without a
 *   certificate, or with another CA's, fails in the handshake (UNAVAILABLE,
 *   "certificate required"), health checks included.
 * - A token on loopback from SWITCHYARD_TOKEN; the data plane does not
 *   inherit it.
 * - switchyard start passes the flags through, creates the run directory
 *   0700, and the data plane's dp.sock is 0600.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, promises as fs, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, nsExec, run, Topology } from '../../src/lib/netns';
import { Certs, makeCerts } from '../helpers/certs';
import { ApiClient, clientCredentials, type ClientAuth } from '../helpers/grpc';
import { CLI_JS, DAEMON_JS, IS_ROOT } from '../helpers/paths';
import { freePort, pidsWithArg, sleep, startSwitch, type Switch } from '../helpers/switch';

const TOKEN = '9b1c2f5e8a7d4c3b2a1f0e9d8c7b6a55';
const WRONG = '0000000000000000000000000000dead';

/** Runs switchyardd directly (no data plane: the checks come first); resolves with how it ended. */
function daemon(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return run(process.execPath, [DAEMON_JS, ...args], { timeoutMs: 15_000, env });
}

/** The health of a server as a plain grpc-js client sees it: the status, or the error code and details. */
function health(address: string, auth: ClientAuth = {}): Promise<string> {
  const { creds, options } = clientCredentials(auth);
  const Health = grpc.makeClientConstructor(healthService, 'Health');
  const c = new Health(address, creds, options) as any;
  return new Promise((resolve) =>
    c.Check({ service: '' }, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: { status: string }) => {
      c.close();
      resolve(err ? `${grpc.status[err.code]}: ${err.details}` : res.status);
    }),
  );
}

/** The code and details of a call expected to fail, or OK. */
async function outcome(p: Promise<unknown>): Promise<{ code: string; details: string }> {
  try {
    await p;
    return { code: 'OK', details: '' };
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: grpc.status[err.code], details: err.details };
  }
}

describe.skipIf(!IS_ROOT)('security of the API and the run directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-sec-'));
  let certs: Certs;
  let tokenFile: string;
  let wrongFile: string;

  beforeAll(() => {
    mkdirSync(join(dir, 'certs'));
    certs = makeCerts(join(dir, 'certs'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN + '\n', { mode: 0o600 });
    wrongFile = join(dir, 'wrong-token');
    writeFileSync(wrongFile, WRONG + '\n', { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('what switchyardd refuses to start with', () => {
    const base = (name: string, listen: string) => ['--listen', listen, '--run-dir', join(dir, name, 'run'), '--state', join(dir, name, 'state.json'), '--no-launch'];

    it('an address other than loopback without TLS and authentication, naming what it needs', async () => {
      const port = await freePort();
      const r = await daemon(base('r1', `0.0.0.0:${port}`));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `switchyardd: refusing to listen on 0.0.0.0:${port}: no TLS and no authentication; an address other than loopback needs --tls-cert and --tls-key, ` +
          'and --tls-client-ca (client certificates) or --token-file / SWITCHYARD_TOKEN (a bearer token)\n',
      );
    });

    it('TLS without authentication, and a token without TLS', async () => {
      const port = await freePort();
      const tls = await daemon([...base('r2', `0.0.0.0:${port}`), '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey]);
      expect(tls.code).toBe(1);
      expect(tls.stderr).toMatch(/^switchyardd: refusing to listen on 0\.0\.0\.0:\d+: TLS but no authentication, .*give --tls-client-ca \(client certificates\) or --token-file/);
      const tok = await daemon(base('r2', `0.0.0.0:${port}`), { ...process.env, SWITCHYARD_TOKEN: TOKEN });
      expect(tok.code).toBe(1);
      expect(tok.stderr).toMatch(/^switchyardd: refusing to listen on 0\.0\.0\.0:\d+: no TLS, so the token would cross the network in the clear; .*needs --tls-cert and --tls-key\n$/);
      const half = await daemon([...base('r2', `0.0.0.0:${port}`), '--tls-cert', certs.serverCert, '--token-file', tokenFile]);
      expect(half.stderr).toBe('switchyardd: --tls-cert needs --tls-key (its private key)\n');
    });

    it('a token file that others can read', async () => {
      const loose = join(dir, 'loose-token');
      writeFileSync(loose, TOKEN, { mode: 0o644 });
      chmodSync(loose, 0o644);
      const r = await daemon([...base('r3', `127.0.0.1:${await freePort()}`), '--token-file', loose]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`switchyardd: token file ${loose} has mode 0644: it must be readable by its owner only (chmod 600 ${loose})\n`);
    });

    it('a run directory that others can write, or that belongs to another user', async () => {
      const open = join(dir, 'open-run');
      mkdirSync(open);
      chmodSync(open, 0o1777);
      const r = await daemon(['--listen', `127.0.0.1:${await freePort()}`, '--run-dir', open, '--state', join(dir, 'r4', 'state.json'), '--no-launch']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `switchyardd: run directory ${open} has mode 0777: others can write it and so replace its sockets and files; use a directory only its owner can write (chmod 700 ${open}, or another directory)\n`,
      );
      const theirs = join(dir, 'their-run');
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      const t = await daemon(['--listen', `127.0.0.1:${await freePort()}`, '--run-dir', theirs, '--state', join(dir, 'r4', 'state.json'), '--no-launch']);
      expect(t.stderr).toBe(`switchyardd: run directory ${theirs} belongs to uid 65534, not to this user (uid 0): refusing to put sockets and state there\n`);
    });

    it('a state directory that others can write', async () => {
      const open = join(dir, 'open-state');
      mkdirSync(open);
      chmodSync(open, 0o777);
      const r = await daemon(['--listen', `127.0.0.1:${await freePort()}`, '--run-dir', join(dir, 'r5'), '--state', join(open, 'state.json'), '--no-launch']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`state file ${join(open, 'state.json')}: state directory ${open} has mode 0777: others can write it`);
    });
  });

  describe('TLS and a token, on an address of this host reached from a namespace', () => {
    const topo = new Topology('msec');
    const HOST_IP = '10.213.47.1';
    let ns: string;
    let sw: Switch | undefined;
    let address: string;
    // A remote operator: the CLI in the namespace, over the veth.
    const remote = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      nsExec(ns, ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, CLI_JS, '--server', address, ...args], { timeoutMs: 30_000 });
    const trusted = () => ['--tls-ca', certs.ca, '--server-name', 'localhost'];

    beforeAll(async () => {
      const veth = await topo.addHost('10.213.47.2/24');
      ns = veth.ns;
      await ip('addr', 'add', `${HOST_IP}/24`, 'dev', veth.hostIf);
      sw = await startSwitch({
        listenHost: HOST_IP,
        daemonArgs: ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--token-file', tokenFile],
        client: { tlsCa: certs.ca, tokenFile, serverName: 'localhost' },
        flows: ['table=0,priority=5,actions=drop'],
      });
      address = sw.server;
      expect(address).toMatch(/^10\.213\.47\.1:\d+$/);
    });

    afterAll(async () => {
      await sw?.stop();
      await topo.cleanup();
    });

    it('the CLI with the CA, the server name and the token works from the namespace', async () => {
      const r = await remote([...trusted(), '--token-file', tokenFile, '--json', 'status']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ dataplane: 'connected', listen: address });
      const flows = await remote([...trusted(), '--json', 'flow', 'dump'], { SWITCHYARD_TOKEN: TOKEN }); // the token from the environment
      expect(flows.code).toBe(0);
      expect(JSON.parse(flows.stdout)).toHaveLength(1);
      expect((await sw!.log())).toContain(`serving gRPC on ${address} (TLS, bearer token)`);
    });

    it('the CLI without the token, or with a wrong one: exit 1, UNAUTHENTICATED explained', async () => {
      const none = await remote([...trusted(), 'port', 'list']);
      expect(none.code).toBe(1);
      expect(none.stderr).toBe(
        `switchyard: switchyardd at ${address} requires a bearer token (this call needs a bearer token (metadata authorization: Bearer TOKEN)): pass --token-file FILE or set SWITCHYARD_TOKEN\n`,
      );
      const wrong = await remote([...trusted(), '--token-file', wrongFile, 'flow', 'dump']); // a streaming call
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toBe(`switchyard: switchyardd at ${address} refused the token: the bearer token is not valid\n`);
      expect(await sw!.log()).toMatch(/UNAUTHENTICATED \/switchyard\.v1\.PortService\/ListPorts from [0-9.:]+: this call needs a bearer token/);
    });

    it('the CLI without TLS, or without the CA or the server name: exit 1, saying what to pass', async () => {
      const plain = await remote(['status']);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toBe(
        `switchyard: cannot talk to switchyardd at ${address} (Failed to connect): if it serves TLS, pass --tls-ca FILE (and --tls-cert/--tls-key, --token-file as it requires)\n`,
      );
      const leak = await remote(['--token-file', tokenFile, 'status']);
      expect(leak.stderr).toBe(`switchyard: refusing to send the token (--token-file ${tokenFile}) in the clear to ${address}: pass --tls-ca FILE to talk TLS\n`);
      const noCa = await remote(['--tls-cert', certs.clientCert, '--tls-key', certs.clientKey, '--token-file', tokenFile, 'status']);
      expect(noCa.code).toBe(1);
      expect(noCa.stderr).toMatch(/^switchyard: cannot verify the certificate of switchyardd at 10\.213\.47\.1:\d+ \(unable to verify the first certificate\): pass the CA that signed it with --tls-ca FILE/);
      const noName = await remote(['--tls-ca', certs.ca, '--token-file', tokenFile, 'status']);
      expect(noName.code).toBe(1);
      expect(noName.stderr).toMatch(/^switchyard: cannot verify the certificate of switchyardd at .*altnames.*: .*--server-name NAME if the certificate names another host\n$/);
    });

    it('grpc-js clients: UNAUTHENTICATED on unary and streaming calls without the token or with a wrong one', async () => {
      for (const auth of [{ tlsCa: certs.ca, serverName: 'localhost' }, { tlsCa: certs.ca, serverName: 'localhost', token: WRONG }]) {
        const c = new ApiClient(address, auth);
        try {
          expect(await outcome(c.call('PortService', 'ListPorts'))).toMatchObject({ code: 'UNAUTHENTICATED' });
          expect(await outcome(c.call('SystemService', 'Shutdown', { stopDataplane: true }))).toMatchObject({ code: 'UNAUTHENTICATED' });
          expect(await outcome(c.stream('FlowService', 'StreamFlows', {}))).toMatchObject({ code: 'UNAUTHENTICATED' });
        } finally {
          c.close();
        }
      }
      // with it, the same calls answer; the switch is still up after the refused Shutdown
      const flows = await sw!.api.stream('FlowService', 'StreamFlows', {});
      expect(flows.flatMap((m: { flows: unknown[] }) => m.flows)).toHaveLength(1);
      expect((await sw!.api.call('SystemService', 'GetStatus')).dataplane).toBe('DATAPLANE_STATE_CONNECTED');
    });

    it('health answers without the token; reflection needs it', async () => {
      expect(await health(address, { tlsCa: certs.ca, serverName: 'localhost' })).toBe('SERVING');
      const { creds, options } = clientCredentials({ tlsCa: certs.ca, serverName: 'localhost' });
      const Reflection = grpc.makeGenericClientConstructor({}, 'Reflection');
      const r = new Reflection(address, creds, options);
      try {
        const status = await new Promise<grpc.StatusObject>((resolve) => {
          const id = (b: Buffer) => b;
          const s = r.makeBidiStreamRequest('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', id, id, new grpc.Metadata(), {});
          s.on('data', () => undefined);
          s.on('error', () => undefined);
          s.on('status', resolve);
          s.end();
        });
        expect(grpc.status[status.code]).toBe('UNAUTHENTICATED');
      } finally {
        r.close();
      }
    });

    it('the token is on no command line: the daemon got a path', async () => {
      expect(sw!.daemon.spawnargs).toContain(tokenFile);
      expect(sw!.daemon.spawnargs.join(' ')).not.toContain(TOKEN);
      expect(await fs.readFile(`/proc/${sw!.daemon.pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
    });

    it('dp.sock (and the stats segment beside it) is mode 0600 in a run directory of mode 0700', () => {
      expect(statSync(sw!.dpSocket).isSocket()).toBe(true);
      expect(statSync(sw!.dpSocket).mode & 0o777).toBe(0o600);
      expect(statSync(sw!.runDir).mode & 0o777).toBe(0o700);
      // dp.stats: the data plane's stats segment, in a build that has it
      const segment = join(sw!.runDir, 'dp.stats');
      if (existsSync(segment)) expect(statSync(segment).mode & 0o777).toBe(0o600);
    });
  });

  describe('mutual TLS', () => {
    let sw: Switch | undefined;

    beforeAll(async () => {
      sw = await startSwitch({
        listenHost: '0.0.0.0',
        daemonArgs: ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-client-ca', certs.ca],
        client: { tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey },
        flows: ['table=0,priority=5,actions=drop'],
      });
    });
    afterAll(async () => {
      await sw?.stop();
    });

    it('a client with a certificate of the CA works: the CLI, and grpc-js unary and streaming calls', async () => {
      expect((await sw!.cliJson(['status'])).dataplane).toBe('connected');
      expect(await sw!.cliJson(['flow', 'dump'])).toHaveLength(1);
      expect((await sw!.api.call('PortService', 'ListPorts')).ports).toEqual([]);
      expect(await health(sw!.server, { tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey })).toBe('SERVING');
      expect(await sw!.log()).toContain('(TLS, client certificates)');
    });

    it('a client without a certificate fails in the TLS handshake: UNAVAILABLE "certificate required", health too', async () => {
      const c = new ApiClient(sw!.server, { tlsCa: certs.ca });
      try {
        const r = await outcome(c.call('PortService', 'ListPorts'));
        expect(r.code).toBe('UNAVAILABLE');
        expect(r.details).toMatch(/certificate required/);
        expect((await outcome(c.stream('FlowService', 'StreamFlows', {}))).code).toBe('UNAVAILABLE');
      } finally {
        c.close();
      }
      expect(await health(sw!.server, { tlsCa: certs.ca })).toMatch(/^UNAVAILABLE: .*certificate required/);
    });

    it('a certificate of another CA is refused', async () => {
      const c = new ApiClient(sw!.server, { tlsCa: certs.ca, tlsCert: certs.rogueCert, tlsKey: certs.rogueKey });
      try {
        expect((await outcome(c.call('PortService', 'ListPorts'))).code).toBe('UNAVAILABLE');
      } finally {
        c.close();
      }
    });

    it('the CLI without a certificate, or with the wrong one, exits 1 and says so', async () => {
      const none = await run(process.execPath, [CLI_JS, '--server', sw!.server, '--tls-ca', certs.ca, 'status'], { timeoutMs: 30_000 });
      expect(none.code).toBe(1);
      expect(none.stderr).toBe(
        `switchyard: switchyardd at ${sw!.server} requires a client certificate (tlsv13 alert certificate required): pass --tls-cert FILE --tls-key FILE, signed by the CA of its --tls-client-ca\n`,
      );
      const rogue = await run(process.execPath, [CLI_JS, '--server', sw!.server, '--tls-ca', certs.ca, '--tls-cert', certs.rogueCert, '--tls-key', certs.rogueKey, 'status'], {
        timeoutMs: 30_000,
      });
      expect(rogue.code).toBe(1);
      expect(rogue.stderr).toMatch(/^switchyard: switchyardd at .* (may have refused the client certificate|requires a client certificate)/);
    });
  });

  describe('a token on loopback, from SWITCHYARD_TOKEN', () => {
    let sw: Switch | undefined;

    beforeAll(async () => {
      sw = await startSwitch({ env: { ...process.env, SWITCHYARD_TOKEN: TOKEN }, client: { token: TOKEN } });
    });
    afterAll(async () => {
      await sw?.stop();
    });

    it('calls need it, over plaintext loopback; the data plane does not inherit it', async () => {
      const anon = new ApiClient(sw!.server);
      try {
        expect((await outcome(anon.call('TableService', 'ListTables'))).code).toBe('UNAUTHENTICATED');
      } finally {
        anon.close();
      }
      const st = await sw!.api.call('SystemService', 'GetStatus');
      expect(st.dataplanePid).toBeGreaterThan(0);
      expect(await fs.readFile(`/proc/${sw!.daemon.pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
      const environ = (await fs.readFile(`/proc/${st.dataplanePid}/environ`, 'utf8')).split('\0');
      expect(environ.filter((e) => e.startsWith('SWITCHYARD_TOKEN='))).toEqual([]);
      expect(await sw!.log()).toContain('(plaintext, bearer token)');
    });
  });

  describe('switchyard start', () => {
    it('refuses --server-cert without --tls-ca before starting anything', async () => {
      const runDir = join(dir, 'start-refused');
      const r = await run(process.execPath, [CLI_JS, 'start', '--listen', `0.0.0.0:${await freePort()}`, '--server-cert', certs.serverCert, '--server-key', certs.serverKey,
        '--token-file', tokenFile, '--run-dir', runDir], { timeoutMs: 30_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("switchyard: --server-cert: give --tls-ca FILE too (the CA of the daemon's certificate), so that this command can verify the daemon it starts\n");
      await expect(fs.stat(runDir)).rejects.toThrow(/ENOENT/);
    });

    it('passes TLS and the token through to switchyardd, creates the run directory 0700; dp.sock is 0600', async () => {
      const port = await freePort();
      const runDir = join(dir, 'start', 'run'); // absent: start and switchyardd create it
      const prefix = `sy-test-${process.pid}-sec`;
      const client = ['--server', `127.0.0.1:${port}`, '--tls-ca', certs.ca, '--token-file', tokenFile];
      const cli = (args: string[]) => run(process.execPath, [CLI_JS, ...client, ...args], { timeoutMs: 60_000 });
      try {
        const r = await cli(['--json', 'start', '--listen', `0.0.0.0:${port}`, '--server-cert', certs.serverCert, '--server-key', certs.serverKey,
          '--run-dir', runDir, '--state', join(dir, 'start', 'state.json'), '--file-prefix', prefix, '--lcores', '0,1', '--pmd-sleep-max', '100']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ dataplane: 'connected', listen: `0.0.0.0:${port}` });
        expect(statSync(runDir).mode & 0o777).toBe(0o700);
        expect(statSync(join(runDir, 'dp.sock')).mode & 0o777).toBe(0o600);
        // the daemon it started wants the token and TLS
        const anon = await run(process.execPath, [CLI_JS, '--server', `127.0.0.1:${port}`, '--tls-ca', certs.ca, 'status'], { timeoutMs: 30_000 });
        expect(anon.code).toBe(1);
        expect(anon.stderr).toMatch(/requires a bearer token/);
        const stop = await cli(['stop']);
        expect(stop.stderr).toBe('');
        expect(stop.stdout).toMatch(/^switchyardd stopped, and switchyard-dp with it/);
      } finally {
        const left = await pidsWithArg((a) => a === prefix || a.includes(runDir));
        for (const p of left) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        if (left.length) await sleep(500);
        await fs.rm(`/var/run/dpdk/${prefix}`, { recursive: true, force: true });
      }
    });
  });
});

