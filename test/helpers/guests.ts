/**
 * DPDK guests for the tests and the bench: `dpdk-testpmd` processes on a
 * virtio-user (vhost-user socket) or memif port, in txonly, rxonly or io
 * mode, with their own --file-prefix, no stdin, line-buffered output.
 *
 * EAL options: `--no-huge -m 256 --no-pci --single-file-segments`. With
 * --no-huge, EAL backs its memory with one memfd, which is what vhost-user
 * and memif need to share it (the memory regions are passed as fds); so no
 * hugepages are needed on either side. (With hugepages, the guest needs
 * --single-file-segments or vhost-user fails with "Too many memory regions".)
 *
 * stop() sends SIGINT, waits for testpmd's final "Forward statistics" and
 * removes /var/run/dpdk/<prefix>.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { sleep, waitUntil } from './switch';

export const TESTPMD = '/usr/bin/dpdk-testpmd';

export const GUEST_EAL = ['--no-huge', '-m', '256', '--no-pci', '--single-file-segments'];

export interface GuestOptions {
  /** unique --file-prefix */
  prefix: string;
  /** the --vdev, e.g. net_virtio_user0,path=/tmp/x.sock,server=1 */
  vdev: string;
  mode: 'txonly' | 'rxonly' | 'io' | 'flowgen';
  /** -l (default "0,1": testpmd forwards on lcores other than the main one) */
  lcores?: string;
  /** testpmd arguments after the mode (--txpkts, --mbuf-size, ...) */
  args?: string[];
  /** a second --vdev (io mode between two ports: the ceiling of the bench) */
  vdev2?: string;
  /** more EAL arguments (--main-lcore N) */
  eal?: string[];
  /** -m (MB of memory, default 256) */
  memMb?: number;
}

export interface PortTotals {
  rx: number;
  tx: number;
  txDropped: number;
}

export interface Guest {
  prefix: string;
  child: ChildProcess;
  output(): string;
  /** Stops it (SIGINT) and returns the final forward statistics of each port. */
  stop(): Promise<PortTotals[]>;
  /** Kills it without waiting for statistics (cleanup). */
  kill(): Promise<void>;
}

/** Parses testpmd's final "Forward statistics for port N" blocks. */
export function parseForwardStats(out: string): PortTotals[] {
  const res: PortTotals[] = [];
  const re = /Forward statistics for port (\d+)\s*-+\s*RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+)\s+RX-total:\s*(\d+)\s*TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)/g;
  for (let m = re.exec(out); m; m = re.exec(out)) {
    res[Number(m[1])] = { rx: Number(m[2]), tx: Number(m[5]), txDropped: Number(m[6]) };
  }
  return res;
}

export function startGuest(o: GuestOptions): Guest {
  const argv = [
    '-oL',
    TESTPMD,
    '-l',
    o.lcores ?? '0,1',
    ...GUEST_EAL.map((a) => (a === '256' && o.memMb ? String(o.memMb) : a)),
    ...(o.eal ?? []),
    '--file-prefix',
    o.prefix,
    `--vdev=${o.vdev}`,
    ...(o.vdev2 ? [`--vdev=${o.vdev2}`] : []),
    '--',
    `--forward-mode=${o.mode}`,
    '--stats-period',
    '1',
    '--nb-cores=1',
    ...(o.args?.some((a) => a.startsWith('--total-num-mbufs')) ? [] : ['--total-num-mbufs=8192']), // its default (~155K) does not fit in -m 256
    ...(o.args ?? []),
  ];
  const child = spawn('stdbuf', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => fs.rm(`/var/run/dpdk/${o.prefix}`, { recursive: true, force: true });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    prefix: o.prefix,
    child,
    output: () => out,
    async stop() {
      if (!gone()) {
        child.kill('SIGINT');
        await Promise.race([exited, sleep(10_000)]);
        if (!gone()) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await cleanup();
      return parseForwardStats(out);
    },
    async kill() {
      if (!gone()) {
        child.kill('SIGKILL');
        await exited;
      }
      await cleanup();
    },
  };
}

/** The Rx-pps figures testpmd printed (--stats-period), in order, over all its ports. */
export function rxPpsSamples(out: string): number[] {
  return [...out.matchAll(/Rx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
}

/** Waits until testpmd says it forwards (or fails with its output). */
export async function waitForwarding(g: Guest, timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    `testpmd ${g.prefix} to start`,
    async () => {
      if (g.child.exitCode !== null || g.child.signalCode !== null) throw new Error(`testpmd exited:\n${g.output().slice(-3000)}`);
      return /Press enter to exit|Start automatic packet forwarding|forwarding packets/i.test(g.output());
    },
    timeoutMs,
    100,
  );
}
