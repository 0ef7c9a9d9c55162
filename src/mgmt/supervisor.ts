/**
 * The data-plane supervisor: finds or launches switchyard-dp, connects the
 * addon's client to it, hands it to the Switch to reconcile, and starts over
 * with backoff whenever the connection is lost.
 *
 *   1. Something answers on the control socket: connect to it (a data plane
 *      keeps forwarding across daemon restarts) and reconcile.
 *   2. Nothing answers and launching is allowed: start switchyard-dp
 *      detached (its own session, output appended to RUN_DIR/dp.log), wait
 *      for its socket (15 s; on failure the error carries the tail of
 *      dp.log), connect, replay.
 *   3. Otherwise (--no-launch) wait and try again.
 *
 * Stopping the supervisor leaves the data plane running; stopDataplane()
 * stops it (SIGTERM, then SIGKILL after 10 s).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import type { DataplaneClient } from './addon-types';
import { preparePrivateDir } from './auth';
import { DEFAULT_LCORES } from './config';
import type { Logger } from './log';
import type { Switch } from './switch';

export interface SupervisorOptions {
  socketPath: string;
  runDir: string;
  /** Launch switchyard-dp when nothing answers on the socket (not with --no-launch). */
  launch: boolean;
  dpBinary: string;
  /** EAL --lcores list: the main lcore, then the poll-mode lcores (DEFAULT_LCORES: -l 0,1). */
  lcores: string;
  filePrefix: string;
  ealArgs: string[];
  pmdSleepMax: number;
  /** --max-flows of switchyard-dp (undefined: its default). */
  maxFlows?: number;
  /** --controller-rate of switchyard-dp (undefined: its default). */
  controllerRate?: number;
  createClient: () => DataplaneClient;
  log: Logger;
  socketTimeoutMs?: number;
}

const BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10000];

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Whether something accepts connections on a unix socket. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(path);
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The last `n` lines of a file, or a note that it cannot be read. */
export function tailFile(path: string, n = 20): string {
  try {
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    return lines.slice(-n).join('\n');
  } catch (e) {
    return `(cannot read ${path}: ${errText(e)})`;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie is dead
  } catch {
    return true;
  }
}

/**
 * The command line switchyard-dp is launched with. `--no-huge` memory is one
 * memfd, so vhost-user and memif guests can map it without hugepages;
 * `--single-file-segments` is what memif zero-copy (zero-copy=yes) asks of
 * EAL, and what vhost-user needs under hugepages (one fd per memory region).
 * The lcores go to EAL as `--lcores LIST` (lcore N may run on CPU M:
 * 0@0,1@1,2@1 puts two poll-mode lcores on CPU 1); the default stays
 * `-l 0,1`, which places them the same way as `--lcores 0,1`.
 */
export function dataplaneArgs(o: Pick<SupervisorOptions, 'lcores' | 'filePrefix' | 'ealArgs' | 'socketPath' | 'pmdSleepMax' | 'maxFlows' | 'controllerRate'>): string[] {
  return [
    ...(o.lcores === DEFAULT_LCORES ? ['-l', o.lcores] : ['--lcores', o.lcores]),
    '--no-huge',
    '-m',
    '1024',
    '--no-pci',
    '--single-file-segments',
    '--file-prefix',
    o.filePrefix,
    ...o.ealArgs,
    '--',
    '--socket',
    o.socketPath,
    '--pmd-sleep-max',
    String(o.pmdSleepMax),
    ...(o.maxFlows !== undefined ? ['--max-flows', String(o.maxFlows)] : []),
    ...(o.controllerRate !== undefined ? ['--controller-rate', String(o.controllerRate)] : []),
  ];
}

export class Supervisor {
  /** This daemon started the running data plane. */
  launched = false;
  childPid: number | undefined;

  private stopped = false;
  private client: DataplaneClient | null = null;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly o: SupervisorOptions,
    private readonly sw: Switch,
  ) {}

  start(): void {
    if (!this.running) this.running = this.loop();
  }

  /** Stops connecting and closes the connection; the data plane keeps running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const c = this.client;
    this.client = null;
    if (c) {
      try {
        c.close();
      } catch {
        /* already closed */
      }
    }
    this.sw.setDpState('stopped');
    await this.running;
  }

  /** Stops switchyard-dp (the one connected, or the one launched). Returns whether one was stopped. */
  async stopDataplane(timeoutMs = 10000): Promise<boolean> {
    const pid = this.sw.dpInfo?.pid || this.childPid;
    await this.stop();
    if (!pid || !isAlive(pid)) return false;
    this.o.log.info(`stopping switchyard-dp (pid ${pid})`);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return false;
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.o.log.warn(`switchyard-dp (pid ${pid}) ignored SIGTERM for ${timeoutMs} ms; killing it`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    return true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const began = Date.now();
      try {
        const { gone } = await this.connectOnce();
        this.o.log.info(`data plane connected (pid ${this.sw.dpInfo?.pid}, ${this.sw.dpInfo?.version})`);
        const reason = await gone;
        if (this.stopped) break;
        this.o.log.warn(`data plane connection lost: ${reason}`);
        if (Date.now() - began > 10000) attempt = 0;
      } catch (e) {
        if (this.stopped) break;
        this.sw.setDpState('disconnected', errText(e));
        this.o.log.warn(`data plane: ${errText(e)}`);
      }
      const delay = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)];
      await this.sleep(delay);
    }
  }

  /** Connects (launching first if need be) and attaches; resolves with a promise of the disconnection. */
  private async connectOnce(): Promise<{ gone: Promise<string> }> {
    const sock = this.o.socketPath;
    if (!(await socketAnswers(sock))) {
      if (!this.o.launch) throw new Error(`no data plane answers on ${sock} (--no-launch: waiting for one)`);
      await this.launch();
    }
    if (this.stopped) throw new Error('stopping');
    this.sw.setDpState('connecting');
    const client = this.o.createClient();
    const gone = new Promise<string>((resolve) => {
      client.on('disconnected', (reason) => {
        if (this.client === client) this.client = null;
        if (!this.stopped) this.sw.detach(`connection lost: ${reason}`);
        resolve(reason);
      });
    });
    client.on('event', (ev) => this.sw.handleEvent(ev));
    try {
      const info = await client.connect(sock);
      this.client = client;
      await this.sw.attach(client, info);
    } catch (e) {
      try {
        client.close();
      } catch {
        /* not connected */
      }
      throw e;
    }
    return { gone };
  }

  private async launch(): Promise<void> {
    const o = this.o;
    if (!existsSync(o.dpBinary)) {
      throw new Error(`switchyard-dp not found at ${o.dpBinary} (build it with meson, or pass --dp-binary PATH)`);
    }
    preparePrivateDir(o.runDir, 'run directory'); // 0700: dp.sock and the stats segment go here
    try {
      unlinkSync(o.socketPath); // stale: nothing answered on it
    } catch {
      /* absent */
    }
    const logPath = join(o.runDir, 'dp.log');
    const args = dataplaneArgs(o);
    const fd = openSync(logPath, 'a');
    writeSync(fd, `\n=== ${new Date().toISOString()} switchyardd launches: ${o.dpBinary} ${args.join(' ')}\n`);
    this.sw.setDpState('launching');
    o.log.info(`launching ${o.dpBinary} ${args.join(' ')} (output in ${logPath})`);
    let exited: string | null = null;
    try {
      const child = spawn(o.dpBinary, args, { detached: true, stdio: ['ignore', fd, fd] });
      child.on('error', (e) => (exited = `could not be started: ${e.message}`));
      child.on('exit', (code, signal) => {
        exited = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        if (!this.stopped) o.log.warn(`switchyard-dp (pid ${child.pid}) ${exited}`);
      });
      child.unref();
      this.childPid = child.pid;
      this.launched = true;
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + (o.socketTimeoutMs ?? 15000);
    while (Date.now() < deadline && !this.stopped) {
      if (exited) {
        throw new Error(`switchyard-dp ${exited} before opening ${o.socketPath}; last lines of ${logPath}:\n${tailFile(logPath)}`);
      }
      if (await socketAnswers(o.socketPath, 500)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.childPid && isAlive(this.childPid)) {
      try {
        process.kill(this.childPid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    throw new Error(
      `switchyard-dp did not open ${o.socketPath} within ${Math.round((o.socketTimeoutMs ?? 15000) / 1000)} s; last lines of ${logPath}:\n${tailFile(logPath)}`,
    );
  }
}
