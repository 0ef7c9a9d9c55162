/**
 * switchyardd: options, start-up checks, wiring of the state store, the
 * Switch, the data-plane supervisor and the gRPC server, and shutdown.
 *
 * Start-up refuses (exit status 1, one message) on: a bad option, a
 * non-loopback --listen without TLS and client certificates or a token, a
 * bad certificate, key or token file, a run directory that others can write
 * (auth.ts), another switchyardd on the same run directory, an
 * unusable state file (named with the position of the fault; the file is
 * kept), a malformed --port/--flow/--config, an addon whose field table
 * differs from flowspec's, or an address already in use.
 *
 * SIGTERM/SIGINT: stop serving, close the connection to the data plane,
 * exit; the data plane keeps forwarding. Shutdown(stop_dataplane) stops it too.
 */
import { Command, CommanderError, Option } from 'commander';
import { fstatSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DataplaneClient, FieldInfo } from './addon-types';
import { compareFieldTables, FlowSpecError, parseFlowLine } from '../flowspec';
import { checkLcores, ConfigError, DEFAULT_LCORES, loadConfigFile, parsePortOption } from './config';
import { createLogger, Level, Logger } from './log';
import { describeSecurity, loadServerSecurity, preparePrivateDir, ServerSecurity, TOKEN_ENV } from './auth';
import { checkListen, RunningServer, startServer } from './server';
import { checkMetricsAddress, MetricsServer, startMetricsServer } from './metrics';
import { StateFileError, StateStore } from './state';
import type { Status } from '../gen/switchyard/v1/Status';
import { isAlive, Supervisor } from './supervisor';
import { FLOW_BATCH_MAX, StartupConfig, Switch, checkPortName } from './switch';
import { packageVersion } from './version';
import { dpStateToWire } from './wire';
import type { ApiError } from './errors';

/** What main.ts takes from the native addon (src/mgmt/addon.ts). */
export interface AddonModule {
  createDataplaneClient(): DataplaneClient;
  fields: FieldInfo[];
  dropReasons: { name: string; help: string }[];
  flowBatchMax: number; // SY_FLOW_BATCH_MAX, as the addon was compiled with
}

export const REPO_ROOT = resolve(__dirname, '../..');

export interface DaemonOptions {
  listen: string;
  runDir: string;
  state: string;
  dpBinary: string;
  dpSocket: string;
  launch: boolean;
  lcores: string;
  filePrefix: string;
  ealArgs: string[];
  pmdSleepMax: number;
  /** switchyard-dp --max-flows: flow entries in the whole switch (undefined: its default). */
  maxFlows?: number;
  /** switchyard-dp --controller-rate: packet-ins per second (undefined: its default, 1000). */
  controllerRate?: number;
  ports: string[];
  flows: string[];
  config?: string;
  foreground: boolean;
  logLevel: Level;
  /** Serve Prometheus metrics on this HOST:PORT (metrics.ts; loopback only); undefined: off. */
  metrics?: string;
  /** TLS and authentication of the API (auth.ts): file paths, read at start. */
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  tokenFile?: string;
}

/** Splits a command line the way a shell would for plain words and '...'/"..." quoting. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s'"]+)/g;
  let cur: string | null = null;
  let last = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const piece = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]);
    if (cur !== null && m.index === last) cur += piece;
    else {
      if (cur !== null) out.push(cur);
      cur = piece;
    }
    last = re.lastIndex;
  }
  if (cur !== null) out.push(cur);
  return out;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function daemonCommand(): Command {
  return new Command('switchyardd')
    .description('Switchyard management daemon: desired state, data-plane supervisor, gRPC API')
    .version(packageVersion())
    .addOption(
      new Option('--listen <host:port>', 'gRPC address (other than loopback: needs --tls-cert/--tls-key and --tls-client-ca or a token)')
        .env('SWITCHYARD_LISTEN')
        .default('127.0.0.1:50051'),
    )
    .addOption(new Option('--tls-cert <file>', 'serve TLS with this certificate (PEM, chain allowed)').env('SWITCHYARD_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'private key of --tls-cert (PEM; not world-readable)').env('SWITCHYARD_TLS_KEY'))
    .addOption(new Option('--tls-client-ca <file>', 'require client certificates signed by this CA (mutual TLS)').env('SWITCHYARD_TLS_CLIENT_CA'))
    .addOption(
      new Option('--token-file <file>', `require this bearer token on every call but health checks (file mode 0600; or env ${TOKEN_ENV})`).env(
        'SWITCHYARD_TOKEN_FILE',
      ),
    )
    .addOption(new Option('--run-dir <dir>', 'holds dp.sock, switchyardd.pid, dp.log, switchyardd.log').env('SWITCHYARD_RUN_DIR').default('/run/switchyard'))
    .addOption(new Option('--state <file>', 'desired-state file').env('SWITCHYARD_STATE').default('/var/lib/switchyard/state.json'))
    .addOption(new Option('--dp-binary <path>', 'switchyard-dp to launch').env('SWITCHYARD_DP_BINARY').default(join(REPO_ROOT, 'build/dpdk-core/src/switchyard-dp')))
    .addOption(new Option('--dp-socket <path>', 'data-plane control socket (default RUN_DIR/dp.sock)').env('SWITCHYARD_DP_SOCKET'))
    .option('--no-launch', 'never launch switchyard-dp: connect to a running one (env SWITCHYARD_NO_LAUNCH=1)')
    .addOption(
      new Option('--lcores <list>', 'EAL --lcores of switchyard-dp: the main lcore, then its poll-mode lcores, e.g. 0@0,1@1,2@1 (default: -l 0,1)')
        .env('SWITCHYARD_LCORES')
        .default(DEFAULT_LCORES),
    )
    .addOption(new Option('--file-prefix <name>', 'EAL --file-prefix').env('SWITCHYARD_FILE_PREFIX').default('switchyard'))
    .addOption(new Option('--eal-args <args>', 'more EAL arguments for switchyard-dp').env('SWITCHYARD_EAL_ARGS').default(''))
    .addOption(
      new Option('--pmd-sleep-max <us>', 'longest idle sleep of a forwarding lcore, microseconds (0: pure polling)')
        .env('SWITCHYARD_PMD_SLEEP_MAX')
        .default('250'),
    )
    .addOption(
      new Option('--max-flows <n>', 'flow entries in the whole switch (switchyard-dp --max-flows; default 1048576, at most 8388608)').env(
        'SWITCHYARD_MAX_FLOWS',
      ),
    )
    .addOption(
      new Option('--controller-rate <n>', 'packet-ins per second, the whole switch; bursts of a quarter of that, at least 25 (switchyard-dp --controller-rate; default 1000)').env(
        'SWITCHYARD_CONTROLLER_RATE',
      ),
    )
    .addOption(new Option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (loopback only; off by default)').env('SWITCHYARD_METRICS'))
    .option('--port <name=devargs>', 'port to add at start if not in the state (repeatable)', collect, [])
    .option('--flow <text>', 'flow to add at start (repeatable)', collect, [])
    .option('--config <file>', 'JSON/YAML start-up configuration {ports, tables, flows}')
    .option('--foreground', 'log to stderr (else to RUN_DIR/switchyardd.log)', false)
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).env('SWITCHYARD_LOG_LEVEL').default('info'));
}

/** Parses switchyardd's command line (argv as process.argv). Throws a one-line Error on a bad option. */
export function parseDaemonArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DaemonOptions {
  const cmd = daemonCommand().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (s) => process.stdout.write(s) });
  try {
    cmd.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version')) {
      process.exit(0);
    }
    throw new Error((e as Error).message.replace(/^error: /, ''));
  }
  const o = cmd.opts();
  const sleep = Number(o.pmdSleepMax);
  if (!Number.isInteger(sleep) || sleep < 0 || sleep > 1_000_000) throw new Error(`--pmd-sleep-max '${o.pmdSleepMax}': expected microseconds 0..1000000`);
  const badLcores = checkLcores(o.lcores);
  if (badLcores) throw new Error(badLcores);
  let maxFlows: number | undefined;
  if (o.maxFlows !== undefined) {
    maxFlows = Number(o.maxFlows);
    if (!/^\d+$/.test(String(o.maxFlows)) || maxFlows < 1 || maxFlows > 8_388_608) throw new Error(`--max-flows '${o.maxFlows}': expected a number 1..8388608`);
  }
  let controllerRate: number | undefined;
  if (o.controllerRate !== undefined) {
    controllerRate = Number(o.controllerRate);
    if (!/^\d+$/.test(String(o.controllerRate)) || controllerRate < 1 || controllerRate > 1_000_000)
      throw new Error(`--controller-rate '${o.controllerRate}': expected packet-ins per second 1..1000000`);
  }
  const badMetrics = o.metrics !== undefined ? checkMetricsAddress(o.metrics) : undefined;
  if (badMetrics) throw new Error(badMetrics);
  const noLaunchEnv = env.SWITCHYARD_NO_LAUNCH;
  const launch = o.launch !== false && !(noLaunchEnv !== undefined && noLaunchEnv !== '' && noLaunchEnv !== '0');
  const runDir = resolve(o.runDir);
  return {
    listen: o.listen,
    runDir,
    state: resolve(o.state),
    dpBinary: resolve(o.dpBinary),
    dpSocket: resolve(o.dpSocket ?? join(runDir, 'dp.sock')),
    launch,
    lcores: o.lcores,
    filePrefix: o.filePrefix,
    ealArgs: splitArgs(o.ealArgs ?? ''),
    pmdSleepMax: sleep,
    maxFlows,
    controllerRate,
    ports: o.port,
    flows: o.flow,
    config: o.config,
    foreground: o.foreground === true,
    logLevel: o.logLevel as Level,
    metrics: o.metrics,
    tlsCert: o.tlsCert !== undefined ? resolve(o.tlsCert) : undefined,
    tlsKey: o.tlsKey !== undefined ? resolve(o.tlsKey) : undefined,
    tlsClientCa: o.tlsClientCa !== undefined ? resolve(o.tlsClientCa) : undefined,
    tokenFile: o.tokenFile !== undefined ? resolve(o.tokenFile) : undefined,
  };
}

/** The ports, tables and flows to add at start, checked now (names, flow syntax). */
export function startupConfig(o: DaemonOptions, knownPorts: readonly string[]): StartupConfig {
  const cfg: StartupConfig = o.config ? loadConfigFile(o.config) : { ports: [], tables: [], flows: [] };
  for (const p of o.ports) cfg.ports.push(parsePortOption(p));
  cfg.flows.push(...o.flows);
  for (const p of cfg.ports) {
    try {
      checkPortName(p.name);
    } catch (e) {
      throw new ConfigError((e as ApiError).message);
    }
  }
  // Syntax now; names resolve once the ports exist. Any known or new name will do here.
  const names = new Set([...knownPorts, ...cfg.ports.map((p) => p.name)]);
  for (const f of cfg.flows) {
    try {
      parseFlowLine(f, { resolvePort: (n) => (names.has(n) ? 1 : undefined) });
    } catch (e) {
      if (e instanceof FlowSpecError) throw new ConfigError(`flow '${f}': ${e.message}`);
      throw e;
    }
  }
  return cfg;
}

/** Whether stderr is a pipe or socket (a supervising process reads it), not a terminal or a file. */
function stderrIsPipe(): boolean {
  try {
    const st = fstatSync(2);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

let logMirrored = false;

/** Logs msg, says it on stderr (once), exits 1. */
function fatal(msg: string, log?: Logger): never {
  log?.error(msg);
  if (!log || !logMirrored) process.stderr.write(`switchyardd: ${msg}\n`);
  process.exit(1);
}

/** Refuses a second daemon on one run directory; returns the pid file's path. */
function claimPidFile(runDir: string): string {
  const path = join(runDir, 'switchyardd.pid');
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        /* not Linux, or gone */
      }
      if (cmdline === '' || cmdline.includes('switchyardd')) {
        throw new Error(`switchyardd is already running (pid ${pid}, ${path})`);
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  writeFileSync(path, `${process.pid}\n`);
  return path;
}

/** Runs the daemon; loadAddon is called once the options are read and checked. */
export async function runDaemon(argv: string[], loadAddon: () => AddonModule): Promise<void> {
  process.title = 'switchyardd';
  let o: DaemonOptions;
  try {
    o = parseDaemonArgs(argv);
  } catch (e) {
    fatal((e as Error).message);
  }
  let security: ServerSecurity;
  try {
    security = loadServerSecurity(o);
  } catch (e) {
    fatal((e as Error).message);
  }
  delete process.env[TOKEN_ENV]; // read; the data plane and its children need not inherit it
  const refused = checkListen(o.listen, security);
  if (refused) fatal(refused);
  try {
    // dp.sock and the stats segment live here: only this user may write it
    preparePrivateDir(o.runDir, 'run directory');
    if (dirname(o.dpSocket) !== o.runDir) preparePrivateDir(dirname(o.dpSocket), 'directory of --dp-socket');
  } catch (e) {
    fatal((e as Error).message);
  }
  logMirrored = !o.foreground && stderrIsPipe();
  const log = createLogger({
    file: o.foreground ? undefined : join(o.runDir, 'switchyardd.log'),
    level: o.logLevel,
    mirror: logMirrored,
  });
  log.info(`switchyardd ${packageVersion()} starting (pid ${process.pid})`);

  let pidFile: string;
  try {
    pidFile = claimPidFile(o.runDir);
  } catch (e) {
    fatal((e as Error).message, log);
  }

  const store = new StateStore(o.state);
  let state;
  try {
    state = store.load();
    store.checkWritable();
  } catch (e) {
    const msg = e instanceof StateFileError ? e.message : `state file ${o.state}: ${(e as Error).message}`;
    unlinkSync(pidFile);
    fatal(msg, log);
  }
  for (const w of store.warnings) log.warn(w);
  log.info(`state ${o.state}: ${state.ports.length} port(s), ${state.tables.length} table setting(s), ${state.flows.length} flow(s)`);

  let startup: StartupConfig;
  try {
    startup = startupConfig(o, state.ports.map((p) => p.name));
  } catch (e) {
    unlinkSync(pidFile);
    fatal((e as Error).message, log);
  }

  let addon: AddonModule;
  try {
    addon = loadAddon();
  } catch (e) {
    unlinkSync(pidFile);
    fatal((e as Error).message, log);
  }
  const drift = compareFieldTables(addon.fields);
  if (drift.length) {
    unlinkSync(pidFile);
    fatal(`the addon and flowspec disagree on the match fields: ${drift.join('; ')}`, log);
  }
  if (addon.flowBatchMax !== FLOW_BATCH_MAX) {
    unlinkSync(pidFile);
    fatal(`the addon's flow batch limit (${addon.flowBatchMax}) differs from the daemon's (${FLOW_BATCH_MAX}): rebuild with 'npm run build'`, log);
  }

  const sw = new Switch(state, store, log, startup);
  const sup = new Supervisor(
    {
      socketPath: o.dpSocket,
      runDir: o.runDir,
      launch: o.launch,
      dpBinary: o.dpBinary,
      lcores: o.lcores,
      filePrefix: o.filePrefix,
      ealArgs: o.ealArgs,
      pmdSleepMax: o.pmdSleepMax,
      maxFlows: o.maxFlows,
      controllerRate: o.controllerRate,
      createClient: addon.createDataplaneClient,
      log,
    },
    sw,
  );

  let server: RunningServer | null = null;
  let metrics: MetricsServer | null = null;
  let stopping = false;
  const shutdown = async (stopDataplane: boolean, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info(`shutting down${stopDataplane ? ' with the data plane' : '; the data plane keeps running'}`);
    await server?.close();
    await metrics?.close();
    if (stopDataplane) await sup.stopDataplane();
    else await sup.stop();
    try {
      if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
    } catch {
      /* gone */
    }
    log.info('switchyardd stopped');
    process.exit(code);
  };
  sw.on('fatal', (e: Error) => {
    log.error(e.message);
    if (!o.foreground && !logMirrored) process.stderr.write(`switchyardd: ${e.message}\n`);
    void shutdown(sup.launched, 1); // a data plane this daemon launched goes with it
  });

  const status = (): Status => {
    const info = sw.dpInfo;
    const live = sw.dpState === 'connected' || sw.dpState === 'reconciling';
    return {
      dataplane: dpStateToWire(sw.dpState),
      dataplanePid: live && info ? info.pid : 0,
      daemonPid: process.pid,
      version: packageVersion(),
      dataplaneVersion: info?.version ?? '',
      dpdkVersion: info?.dpdkVersion ?? '',
      filePrefix: info?.filePrefix || o.filePrefix,
      uptimeSec: process.uptime(),
      dataplaneUptimeSec: live && info ? Math.max(0, Date.now() / 1000 - Number(info.startNs) / 1e9) : 0,
      workers: info?.nWorkers ?? 0,
      socket: o.dpSocket,
      stateFile: o.state,
      launched: sup.launched,
      lastError: sw.lastError || sw.replayWarnings.join('; '),
      ports: sw.state.ports.length,
      flows: sw.state.flows.length,
      listen: o.listen,
    };
  };

  try {
    server = await startServer({
      listen: o.listen,
      sw,
      system: { status, shutdown: (stopDp) => void shutdown(stopDp) },
      reasons: addon.dropReasons,
      log,
      security,
    });
  } catch (e) {
    unlinkSync(pidFile);
    fatal((e as Error).message, log);
  }
  log.info(`serving gRPC on ${o.listen} (${describeSecurity(security)})`);
  if (o.metrics) {
    try {
      metrics = await startMetricsServer(o.metrics, sw, log);
    } catch (e) {
      unlinkSync(pidFile);
      fatal((e as Error).message, log);
    }
    log.info(`serving Prometheus metrics on http://${o.metrics}/metrics`);
  }
  process.on('SIGTERM', () => void shutdown(false));
  process.on('SIGINT', () => void shutdown(false));
  process.on('SIGHUP', () => log.info('SIGHUP ignored'));
  sup.start();
}
