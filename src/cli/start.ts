/**
 * switchyard start | stop, and start --demo: bringing switchyardd (and
 * through it switchyard-dp) up and down.
 *
 *   start             spawns switchyardd detached (output appended to
 *                     RUN_DIR/switchyardd.log), waits until its health is
 *                     SERVING (30 s), prints the status.
 *   start --foreground runs switchyardd attached to the terminal, logging to
 *                     stderr, until it exits.
 *   start --demo      in the foreground: builds the demo topology (demo.ts),
 *                     runs a daemon on a temporary state file and run
 *                     directory with the demo's ports and flows, prints the
 *                     next steps, and on Ctrl-C stops the daemon and the data
 *                     plane and removes the topology.
 *   stop              Shutdown(stop_dataplane) and waits for the daemon to go.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkLcores, loadConfigFile, parsePortOption } from '../mgmt/config';
import { isAlive, tailFile } from '../mgmt/supervisor';
import { ClientSecurity, loadClientSecurity, preparePrivateDir, splitHostPort } from '../mgmt/auth';
import { Api, CliError } from './client';
import { statusJson, statusText } from './output';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export interface StartOptions {
  config?: string;
  port: string[];
  flow: string[];
  foreground?: boolean;
  demo?: boolean;
  state?: string;
  runDir?: string;
  listen?: string;
  lcores?: string;
  filePrefix?: string;
  pmdSleepMax?: string;
  maxFlows?: string;
  controllerRate?: string;
  dpBinary?: string;
  dpSocket?: string;
  ealArgs?: string;
  launch?: boolean;
  logLevel?: string;
  /** switchyardd --metrics HOST:PORT (Prometheus). */
  metrics?: string;
  timeout?: string;
  /** The daemon's TLS certificate, key and client CA (switchyardd --tls-cert, --tls-key, --tls-client-ca). */
  serverCert?: string;
  serverKey?: string;
  clientCa?: string;
  /** The global --token-file: the daemon requires the token, and this command presents it. */
  tokenFile?: string;
}

/** How this command's client reaches and authenticates to the daemon at an address. */
export type SecurityFor = (address: string) => ClientSecurity;
const plaintext: SecurityFor = (address) => loadClientSecurity(address, {});

/** Where to reach a daemon listening on `listen`: a wildcard address is reached on loopback. */
export function connectAddress(listen: string): string {
  const hp = splitHostPort(listen);
  if (hp?.host === '0.0.0.0') return `127.0.0.1:${hp.port}`;
  if (hp && /^[0:]+$/.test(hp.host)) return `[::1]:${hp.port}`;
  return listen;
}

/** The demo topology (src/cli/demo.ts, written alongside the test infrastructure). */
export interface DemoTopology {
  ports: { name: string; devargs: string }[];
  flows: string[];
  nextSteps: string[];
  cleanup(): Promise<void>;
}

interface DemoModule {
  createDemoTopology(): Promise<DemoTopology>;
}

function loadDemo(): DemoModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./demo') as DemoModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes('./demo')) {
      throw new CliError('the demo is not part of this build (src/cli/demo.ts is missing)');
    }
    throw e;
  }
}

export function daemonScript(): string {
  return resolve(__dirname, '../mgmt/main.js');
}

function runDirOf(o: StartOptions): string {
  return resolve(o.runDir ?? process.env.SWITCHYARD_RUN_DIR ?? '/run/switchyard');
}

/** switchyardd's arguments for the start options (paths made absolute). */
export function daemonArgs(o: StartOptions, listen: string, extra: { ports?: string[]; flows?: string[] } = {}): string[] {
  const a: string[] = ['--listen', listen];
  const path = (flag: string, v?: string) => v !== undefined && a.push(flag, resolve(v));
  const plain = (flag: string, v?: string) => v !== undefined && a.push(flag, v);
  path('--state', o.state);
  path('--run-dir', o.runDir);
  path('--dp-binary', o.dpBinary);
  path('--dp-socket', o.dpSocket);
  path('--config', o.config);
  path('--tls-cert', o.serverCert);
  path('--tls-key', o.serverKey);
  path('--tls-client-ca', o.clientCa);
  path('--token-file', o.tokenFile);
  plain('--lcores', o.lcores);
  plain('--file-prefix', o.filePrefix);
  plain('--pmd-sleep-max', o.pmdSleepMax);
  plain('--max-flows', o.maxFlows);
  plain('--controller-rate', o.controllerRate);
  plain('--eal-args', o.ealArgs);
  plain('--log-level', o.logLevel);
  plain('--metrics', o.metrics);
  if (o.launch === false) a.push('--no-launch');
  for (const p of [...o.port, ...(extra.ports ?? [])]) a.push('--port', p);
  for (const f of [...o.flow, ...(extra.flows ?? [])]) a.push('--flow', f);
  return a;
}

function checkLocalInputs(o: StartOptions): void {
  const badLcores = o.lcores !== undefined ? checkLcores(o.lcores) : undefined;
  if (badLcores) throw new CliError(badLcores);
  try {
    if (o.config) loadConfigFile(o.config);
    for (const p of o.port) parsePortOption(p);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (!existsSync(daemonScript())) throw new CliError(`switchyardd is not built (${daemonScript()} is missing; run 'npm run build')`);
}

function spawnDaemon(args: string[], logPath: string, detached: boolean): { child: ChildProcess; exited: () => string | null } {
  const fd = openSync(logPath, 'a');
  let exited: string | null = null;
  try {
    const child = spawn(process.execPath, [daemonScript(), ...args], { detached, stdio: ['ignore', fd, fd] });
    child.on('error', (e) => (exited = `could not be started: ${e.message}`));
    child.on('exit', (code, sig) => (exited = sig ? `was killed by ${sig}` : `exited with status ${code}`));
    return { child, exited: () => exited };
  } finally {
    closeSync(fd);
  }
}

/** Waits until the daemon's health is SERVING; throws with the log tail if it exits or times out. */
async function waitServing(api: Api, exited: () => string | null, logPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new CliError(`switchyardd ${why}; last lines of ${logPath}:\n${tailFile(logPath, 15)}`);
    if ((await api.healthStatus(1000)) === 'SERVING') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  let detail = '';
  try {
    const s = await api.status(2000);
    detail = ` (data plane ${statusJson(s).dataplane}${s.lastError ? `: ${s.lastError}` : ''})`;
  } catch {
    /* not answering at all */
  }
  throw new CliError(`switchyardd did not become ready within ${Math.round(timeoutMs / 1000)} s${detail}; see ${logPath}`);
}

function timeoutOf(o: StartOptions): number {
  const t = Number(o.timeout ?? 30);
  if (!Number.isFinite(t) || t <= 0) throw new CliError(`--timeout '${o.timeout}': expected seconds`);
  return t * 1000;
}

export async function startDaemon(o: StartOptions, server: string, json: boolean, io: Io, security: SecurityFor = plaintext): Promise<number> {
  if (o.demo) return startDemo(o, server, io, security);
  const listen = o.listen ?? server;
  checkLocalInputs(o);
  const sec = security(connectAddress(listen));
  // This command waits for the daemon through the API, as any client: it must pass the daemon's checks.
  if (o.serverCert !== undefined && !sec.tls) throw new CliError("--server-cert: give --tls-ca FILE too (the CA of the daemon's certificate), so that this command can verify the daemon it starts");
  if (o.clientCa !== undefined && !sec.clientCert) throw new CliError('--client-ca: give --tls-cert FILE --tls-key FILE too (a client certificate signed by it), so that this command can talk to the daemon it starts');
  if (o.foreground) {
    const child = spawn(process.execPath, [daemonScript(), ...daemonArgs(o, listen), '--foreground'], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onTerm = forward('SIGTERM');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', () => undefined); // the terminal sends it to switchyardd too
    const code = await new Promise<number>((r) => child.on('exit', (c, s) => r(c ?? (s ? 1 : 0))));
    process.off('SIGTERM', onTerm);
    return code;
  }
  const api = new Api(connectAddress(listen), undefined, sec);
  try {
    if ((await api.healthStatus(1000)) !== undefined) {
      const s = await api.status();
      if (o.port.length || o.flow.length || o.config) io.err(`switchyard: switchyardd is already running; --port/--flow/--config were not applied\n`);
      io.out(json ? JSON.stringify(statusJson(s), null, 2) + '\n' : `switchyardd is already running\n${statusText(s)}`);
      return 0;
    }
    const runDir = runDirOf(o);
    try {
      preparePrivateDir(runDir, 'run directory'); // as switchyardd does: 0700, nobody else may write it
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const logPath = join(runDir, 'switchyardd.log');
    const { child, exited } = spawnDaemon(daemonArgs(o, listen), logPath, true);
    child.unref();
    try {
      await waitServing(api, exited, logPath, timeoutOf(o));
    } catch (e) {
      if (!exited()) {
        await api.shutdown(true).catch(() => undefined); // do not leave a half-started switch behind
      }
      throw e;
    }
    const s = await api.status();
    io.out(json ? JSON.stringify(statusJson(s), null, 2) + '\n' : statusText(s));
    return 0;
  } finally {
    api.close();
  }
}

/** Waits for a process to be gone. */
async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

export async function stopDaemon(server: string, keepDataplane: boolean, json: boolean, io: Io, security?: ClientSecurity): Promise<number> {
  const api = new Api(server, undefined, security);
  try {
    let s;
    try {
      s = await api.status(3000);
    } catch (e) {
      if (e instanceof CliError && /cannot reach/.test(e.message)) {
        io.out(json ? JSON.stringify({ stopped: false, running: false }) + '\n' : `switchyardd is not running at ${server}\n`);
        return 0;
      }
      throw e;
    }
    await api.shutdown(!keepDataplane);
    const daemonGone = await waitGone(s.daemonPid, 20000);
    const dpGone = keepDataplane || !s.dataplanePid || (await waitGone(s.dataplanePid, 15000));
    if (!daemonGone) throw new CliError(`switchyardd (pid ${s.daemonPid}) did not stop within 20 s`);
    if (!dpGone) throw new CliError(`switchyard-dp (pid ${s.dataplanePid}) did not stop within 15 s`);
    if (json) io.out(JSON.stringify({ stopped: true, dataplaneStopped: !keepDataplane && !!s.dataplanePid }) + '\n');
    else io.out(`switchyardd stopped${keepDataplane ? '; the data plane keeps running' : s.dataplanePid ? ', and switchyard-dp with it' : ''}\n`);
    return 0;
  } finally {
    api.close();
  }
}

async function startDemo(o: StartOptions, server: string, io: Io, security: SecurityFor): Promise<number> {
  if (!existsSync(daemonScript())) throw new CliError(`switchyardd is not built (${daemonScript()} is missing; run 'npm run build')`);
  const demo = loadDemo();
  const listen = o.listen ?? server;
  const api = new Api(connectAddress(listen), undefined, security(connectAddress(listen)));
  if ((await api.healthStatus(1000)) !== undefined) {
    api.close();
    throw new CliError(`a switchyardd already answers on ${listen}; stop it ('switchyard stop') or pass --listen for the demo`);
  }
  io.out('building the demo topology...\n');
  const topo = await demo.createDemoTopology();
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
  const demoOpts: StartOptions = {
    ...o,
    state: join(dir, 'state.json'),
    runDir: dir,
    filePrefix: o.filePrefix ?? 'switchyard-demo',
    config: undefined,
  };
  const logPath = join(dir, 'switchyardd.log');
  let code = 0;
  let dpPid = 0;
  let child: ChildProcess | null = null;
  try {
    const args = daemonArgs(demoOpts, listen, { ports: topo.ports.map((p) => `${p.name}=${p.devargs}`), flows: topo.flows });
    const spawned = spawnDaemon(args, logPath, true); // own process group: Ctrl-C reaches only us
    child = spawned.child;
    await waitServing(api, spawned.exited, logPath, timeoutOf(o));
    const s = await api.status();
    dpPid = s.dataplanePid;
    io.out(statusText(s));
    io.out(`\nports: ${topo.ports.map((p) => p.name).join(', ')}; ${topo.flows.length} flow(s); logs in ${dir}\n\nnext steps:\n`);
    for (const step of topo.nextSteps) io.out(`  ${step}\n`);
    io.out('\nCtrl-C stops the demo (switchyardd, switchyard-dp and the topology).\n');
    const how = await new Promise<string>((res) => {
      process.once('SIGINT', () => res('signal'));
      process.once('SIGTERM', () => res('signal'));
      child!.once('exit', () => res('exit'));
    });
    if (how === 'exit') {
      io.err(`switchyard: switchyardd ${spawned.exited()}; last lines of ${logPath}:\n${tailFile(logPath, 15)}\n`);
      code = 1;
    }
    io.out('\nstopping the demo...\n');
  } catch (e) {
    io.err(`switchyard: ${(e as Error).message}\n`);
    code = 1;
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      await api.shutdown(true).catch(() => undefined);
      const pid = child.pid!;
      if (!(await waitGone(pid, 15000))) child.kill('SIGKILL');
    }
    api.close();
    if (dpPid && isAlive(dpPid)) {
      try {
        process.kill(dpPid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await waitGone(dpPid, 10000);
    }
    if (!dpPid || !isAlive(dpPid)) {
      // DPDK's runtime directory of the demo's own file prefix (no hugepages: nothing else to free)
      rmSync(join('/var/run/dpdk', demoOpts.filePrefix!), { recursive: true, force: true });
    }
    try {
      await topo.cleanup();
    } catch (e) {
      io.err(`switchyard: demo cleanup: ${(e as Error).message}\n`);
      code = 1;
    }
    if (code === 0) rmSync(dir, { recursive: true, force: true });
    else io.err(`switchyard: the demo's logs are kept in ${dir}\n`);
  }
  return code;
}
