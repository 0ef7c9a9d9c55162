/**
 * startSwitch(): a real switchyardd, which launches a real switchyard-dp,
 * for one test file.
 *
 * Each switch gets a temporary run directory (control socket, state file,
 * logs), a free gRPC port on 127.0.0.1 and its own DPDK --file-prefix
 * (sy-test-<pid>-<n>), so that switches never share anything. stop() asks
 * the daemon to stop itself and the data plane, then makes sure: it kills
 * (by pid) any process still carrying the file prefix, and removes the run
 * directory and /var/run/dpdk/<prefix>.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, type ExecResult } from '../../src/lib/netns';
import { ApiClient, type ClientAuth } from './grpc';
import { CLI_JS, DAEMON_JS, DP_BINARY, IS_ROOT } from './paths';

export interface PortSpec {
  name: string;
  devargs: string;
}

export interface SwitchOptions {
  ports?: PortSpec[];
  flows?: string[];
  lcores?: string;
  /** Extra EAL arguments (the daemon's --eal-args). */
  ealArgs?: string;
  /** Wait until every port in `ports` reports link up (default true). */
  waitLinkUp?: boolean;
  startTimeoutMs?: number;
  /** The data plane to launch (default: build/'s). */
  dpBinary?: string;
  /** More daemon arguments (e.g. ['--max-flows', '100']). */
  daemonArgs?: string[];
  /** Environment of the daemon and so of the data plane (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The daemon's --listen host (default 127.0.0.1); clients reach 0.0.0.0 on 127.0.0.1. */
  listenHost?: string;
  /** TLS and token of `api` and `cli` (the CLI gets --tls-ca, --tls-cert, --tls-key, --token-file, --server-name). */
  client?: ClientAuth;
}

/** The CLI's global options and environment for ClientAuth. */
export function cliAuth(auth: ClientAuth = {}): { args: string[]; env: NodeJS.ProcessEnv } {
  const args: string[] = [];
  const opt = (flag: string, v?: string) => v !== undefined && args.push(flag, v);
  opt('--tls-ca', auth.tlsCa);
  opt('--tls-cert', auth.tlsCert);
  opt('--tls-key', auth.tlsKey);
  opt('--token-file', auth.tokenFile);
  opt('--server-name', auth.serverName);
  return { args, env: auth.token !== undefined && auth.tokenFile === undefined ? { SWITCHYARD_TOKEN: auth.token } : {} };
}

export interface Switch {
  /** "127.0.0.1:PORT" of the gRPC server. */
  server: string;
  runDir: string;
  stateFile: string;
  dpSocket: string;
  filePrefix: string;
  daemon: ChildProcess;
  api: ApiClient;
  /** Runs the CLI against this switch. Never rejects for a non-zero exit. */
  cli(args: string[]): Promise<ExecResult>;
  /** Runs the CLI with --json; rejects unless it exits 0; resolves with the parsed output. */
  cliJson<T = any>(args: string[]): Promise<T>;
  /**
   * Kills the daemon with SIGKILL and starts it again with the same
   * arguments (after downMs without one); resolves once it serves with the
   * data plane connected (it adopts the running data plane, which forwards
   * on meanwhile).
   */
  restartDaemon(downMs?: number): Promise<void>;
  /** The daemon's log so far (stdout and stderr). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

let switches = 0;

/** A TCP port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls fn until it returns a truthy value; rejects with the last error or `what` after timeoutMs. */
export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

/** Pids of running processes with an argument for which `test` holds. */
export async function pidsWithArg(test: (arg: string) => boolean): Promise<number[]> {
  const pids: number[] = [];
  for (const d of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = (await fs.readFile(`/proc/${d}/cmdline`, 'utf8')).split('\0');
      if (cmd.some(test)) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs, for processes started by this test. */
async function killPids(pids: number[], graceMs = 3000): Promise<void> {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const end = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < end) await sleep(50);
  for (const p of pids.filter(alive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export async function startSwitch(opts: SwitchOptions = {}): Promise<Switch> {
  if (!IS_ROOT) throw new Error('integration tests need root (namespaces, af_packet, DPDK)');
  for (const f of [DAEMON_JS, CLI_JS, DP_BINARY]) {
    await fs.access(f).catch(() => {
      throw new Error(`${f} is missing: run scripts/bootstrap.sh`);
    });
  }
  const n = switches++;
  const filePrefix = `sy-test-${process.pid}-${n}`;
  const runDir = await fs.mkdtemp(path.join(os.tmpdir(), `${filePrefix}-`));
  const stateFile = path.join(runDir, 'state.json');
  const dpSocket = path.join(runDir, 'dp.sock');
  const logFile = path.join(runDir, 'daemon.log');
  const port = await freePort();
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const server = `${listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost}:${port}`;

  const args = [
    DAEMON_JS,
    '--listen', `${listenHost}:${port}`,
    '--run-dir', runDir,
    '--state', stateFile,
    '--dp-binary', opts.dpBinary ?? DP_BINARY,
    '--dp-socket', dpSocket,
    '--file-prefix', filePrefix,
    '--lcores', opts.lcores ?? '0,1',
    '--pmd-sleep-max', '100',
  ];
  if (opts.ealArgs) args.push('--eal-args', opts.ealArgs);
  for (const p of opts.ports ?? []) args.push('--port', `${p.name}=${p.devargs}`);
  for (const f of opts.flows ?? []) args.push('--flow', f);
  args.push(...(opts.daemonArgs ?? []));

  const log = createWriteStream(logFile);
  let daemon!: ChildProcess;
  let exited: string | undefined;
  let daemonGone!: Promise<void>;
  const launchDaemon = () => {
    exited = undefined;
    daemon = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    daemon.stdout!.pipe(log, { end: false });
    daemon.stderr!.pipe(log, { end: false });
    const d = daemon;
    daemonGone = new Promise<void>((resolve) =>
      d.once('exit', (code, sig) => {
        if (d === daemon) exited = `daemon exited (${sig ?? code})`;
        resolve();
      }),
    );
  };
  launchDaemon();

  const api = new ApiClient(server, opts.client);
  const auth = cliAuth(opts.client);
  const env = { ...process.env, SWITCHYARD_SERVER: server, ...auth.env };

  const cli = (cliArgs: string[]) =>
    run(process.execPath, [CLI_JS, '--server', server, ...auth.args, ...cliArgs], { env, timeoutMs: 30_000 });

  const cliJson = async <T>(cliArgs: string[]): Promise<T> => {
    const r = await cli(['--json', ...cliArgs]);
    if (r.code !== 0) throw new Error(`switchyard ${cliArgs.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(`switchyard ${cliArgs.join(' ')}: not JSON: ${r.stdout.slice(0, 500)}`);
    }
  };

  const readLog = () => fs.readFile(logFile, 'utf8').catch(() => '');

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    api.close();
    if (!exited) {
      await cli(['stop']).catch(() => undefined);
      await Promise.race([daemonGone, sleep(10_000)]);
      if (!exited) {
        daemon.kill('SIGKILL');
        await daemonGone;
      }
    }
    // Whatever still carries our file prefix is ours: the data plane.
    const left = await pidsWithArg((a) => a === filePrefix || a.endsWith(`=${filePrefix}`) || a.includes(runDir));
    if (left.length) await killPids(left);
    log.end();
    await fs.rm(runDir, { recursive: true, force: true });
    await fs.rm(`/var/run/dpdk/${filePrefix}`, { recursive: true, force: true });
  };

  const connected = async () => {
    if (exited) throw new Error(exited);
    const st = await api.call('SystemService', 'GetStatus', {}, 2000);
    return st.dataplane === 'DATAPLANE_STATE_CONNECTED';
  };

  const restartDaemon = async (downMs = 0) => {
    const gone = daemonGone;
    daemon.kill('SIGKILL');
    await gone;
    if (downMs) await sleep(downMs);
    launchDaemon();
    sw.daemon = daemon;
    await waitUntil('the restarted daemon to serve', connected, opts.startTimeoutMs ?? 30_000, 100);
  };

  const sw: Switch = { server, runDir, stateFile, dpSocket, filePrefix, daemon, api, cli, cliJson, restartDaemon, log: readLog, stop };

  try {
    await waitUntil(
      'the data plane to connect',
      connected,
      opts.startTimeoutMs ?? 30_000,
      200,
    );
    const want = opts.ports ?? [];
    if (want.length) {
      await waitUntil(
        'the ports to come up',
        async () => {
          const res = await api.call('PortService', 'ListPorts', {}, 2000);
          const byName = new Map<string, any>(res.ports.map((p: any) => [p.name, p]));
          return want.every((p) => byName.has(p.name) && (opts.waitLinkUp === false || byName.get(p.name).linkUp));
        },
        20_000,
        200,
      );
    }
    return sw;
  } catch (e) {
    const text = await readLog();
    await stop().catch(() => undefined);
    throw new Error(`startSwitch: ${(e as Error).message}\n--- daemon log ---\n${text.slice(-4000)}`);
  }
}

// ---------------------------------------------------------------------------
// Counters, as the CLI prints them with --json (64-bit values are strings).

export interface PortStatsJson {
  id: number;
  name: string;
  rxPackets: string;
  rxBytes: string;
  txPackets: string;
  txBytes: string;
  rxErrors: string;
  txErrors: string;
  rxMissed: string;
  drops: Record<string, string>;
}

export interface FlowJson {
  table: number;
  priority: number;
  cookie: string;
  match: string;
  actions: string;
  idleTimeout: number;
  hardTimeout: number;
  packets: string;
  bytes: string;
  durationSec: number;
}

export async function portStats(sw: Switch, name: string): Promise<PortStatsJson> {
  const all = await sw.cliJson<PortStatsJson[]>(['port', 'stats', name]);
  const s = all.find((p) => p.name === name);
  if (!s) throw new Error(`port stats: no port ${name} in ${JSON.stringify(all)}`);
  return s;
}

export async function flowDump(sw: Switch): Promise<FlowJson[]> {
  return sw.cliJson<FlowJson[]>(['flow', 'dump']);
}

/**
 * The one flow with this table and priority whose match has every part of
 * `needle` ("icmp,in_port=p1"; "" for any match).
 */
export function findFlow(flows: FlowJson[], table: number, priority: number, needle: string): FlowJson {
  const parts = needle ? needle.split(',') : [];
  const hits = flows.filter((f) => f.table === table && f.priority === priority && parts.every((p) => f.match.split(',').includes(p)));
  if (hits.length !== 1) {
    throw new Error(`expected one flow table=${table},priority=${priority},${needle}; got ${JSON.stringify(hits)} of ${JSON.stringify(flows)}`);
  }
  return hits[0];
}

/** Drop counters that are not zero, as numbers. */
export function nonZeroDrops(s: { drops: Record<string, string> }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.drops)) if (v !== '0') out[k] = Number(v);
  return out;
}
