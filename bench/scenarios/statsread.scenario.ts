/**
 * What reading the counters costs the data path (issue #6): the fast
 * path's one-flow case (a pcap replayed for ever -> switch -> net_null, one
 * forwarding lcore) run by ONE switchyard-dp, while in turn:
 *
 *   none      nothing reads its counters (but the rate sampler, as in every leg)
 *   segment   readStats() BENCH_SR_HZ (10) times a second: a copy out of the
 *             stats segment (shared memory), no message
 *   messages  pmdStats() and portStats() BENCH_SR_HZ times a second: two
 *             requests over the control socket, answered by the main lcore
 *
 * Each round runs the three legs back to back (the order rotating from
 * round to round), each leg BENCH_SR_WARMUP_S (1) s of warm-up then
 * BENCH_SR_WINDOWS (5) windows of BENCH_SR_WINDOW_S (2) s, the rate taken
 * from port counter deltas exactly as `fastpath` does (two messages per
 * window in every leg); BENCH_SR_ROUNDS (3) rounds. Reported per leg: Mpps
 * (median and range over every window), the ratio to `none`, the reader's
 * calls per second and microseconds per call (in Node), and the share of
 * one CPU the data plane's main lcore (the control thread, which publishes
 * the segment every 100 ms and answers messages) used: from
 * /proc/PID/task/PID/schedstat (nanoseconds on a CPU).
 *
 * The client is src/mgmt/addon.ts's (the one that reads the segment), not
 * dist's. Results: build/bench/statsread.{json,md}; BENCHMARKS.md
 * "Reading the counters".
 */
import { promises as fs } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createDataplaneClient } from '../../src/mgmt/addon';
import { sampleSwitch, startDp, type Dp, type SwitchWindow } from '../lib/dp';
import { sleep, spread } from '../lib/measure';
import { report, type Table } from '../lib/report';
import { IN_PORT, OUT_PORT, oneFlow, toFlowMod } from '../lib/rules';
import { traffic } from '../lib/traffic';

const env = process.env;
const ROUNDS = Number(env.BENCH_SR_ROUNDS ?? 3);
const WINDOWS = Number(env.BENCH_SR_WINDOWS ?? 5);
const WINDOW_S = Number(env.BENCH_SR_WINDOW_S ?? 2);
const WARMUP_S = Number(env.BENCH_SR_WARMUP_S ?? 1);
const HZ = Number(env.BENCH_SR_HZ ?? 10);
const LCORES = '0,1';
const MEM_MB = 2048;

type LegName = 'none' | 'segment' | 'messages';
const LEGS: LegName[] = ['none', 'segment', 'messages'];
const TITLE: Record<LegName, string> = {
  none: 'no reader',
  segment: `readStats() (stats segment), ${HZ}/s`,
  messages: `pmdStats() + portStats() (messages), ${HZ}/s`,
};

interface LegRun {
  windows: SwitchWindow[];
  calls: number;
  callUs: number[];
  seconds: number;
  /** main lcore CPU seconds over the leg */
  mainCpuS: number;
  /** CPU seconds used by everything but the data plane and this process (others' work on the shared machine) */
  othersCpuS: number;
}

const runs: Record<LegName, LegRun[]> = { none: [], segment: [], messages: [] };
let tscHz = 0;
let uptimeBefore = '';

/** CPU time of the data plane's main thread (the main lcore), in seconds:
 * the first field of /proc/PID/task/PID/schedstat, in nanoseconds. */
async function mainLcoreCpuS(pid: number): Promise<number> {
  const s = await fs.readFile(`/proc/${pid}/task/${pid}/schedstat`, 'utf8');
  return Number(s.split(' ')[0]) / 1e9;
}

/** Busy CPU seconds of the whole machine (/proc/stat: all but idle and iowait). */
async function machineBusyS(): Promise<number> {
  const f = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3] - f[4]) / 100;
}

/** CPU seconds of a whole process (utime + stime, /proc/PID/stat). */
async function processCpuS(pid: number): Promise<number> {
  const s = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[14 - 3]) + Number(f[15 - 3])) / 100; // fields 14, 15 of man 5 proc
}

/** Starts counting the CPU seconds every other process on the machine uses; the function returned says how many so far. */
async function othersCpu(dpPid: number): Promise<() => Promise<number>> {
  const read = async () => ({ busy: await machineBusyS(), dp: await processCpuS(dpPid), self: process.cpuUsage() });
  const a = await read();
  return async () => {
    const b = await read();
    const self = (b.self.user + b.self.system - a.self.user - a.self.system) / 1e6;
    return Math.max(0, b.busy - a.busy - (b.dp - a.dp) - self);
  };
}

/** Calls the leg's reader HZ times a second until stopped; never two at once. */
function startReader(dp: Dp, leg: LegName): { stop(): Promise<{ calls: number; callUs: number[] }> } {
  const callUs: number[] = [];
  let busy: Promise<void> | null = null;
  let failure: Error | null = null;
  const once = async () => {
    const t0 = process.hrtime.bigint();
    if (leg === 'segment') {
      if (!dp.client.readStats()) throw new Error(`readStats() returned null: ${dp.client.statsError}`);
    } else {
      await Promise.all([dp.client.pmdStats(), dp.client.portStats()]);
    }
    callUs.push(Number(process.hrtime.bigint() - t0) / 1e3);
  };
  const timer =
    leg === 'none'
      ? null
      : setInterval(() => {
          if (busy || failure) return;
          busy = once()
            .catch((e: Error) => void (failure = e))
            .finally(() => (busy = null));
        }, 1000 / HZ);
  return {
    async stop() {
      if (timer) clearInterval(timer);
      await busy;
      if (failure) throw failure;
      return { calls: callUs.length, callUs };
    },
  };
}

async function runLeg(dp: Dp, leg: LegName): Promise<LegRun> {
  const reader = startReader(dp, leg);
  const others = await othersCpu(dp.pid);
  const cpu0 = await mainLcoreCpuS(dp.pid);
  const t0 = process.hrtime.bigint();
  const s = await sampleSwitch(dp, { inPort: IN_PORT, outPort: OUT_PORT, warmupS: WARMUP_S, windows: WINDOWS, windowS: WINDOW_S, intentional: [] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = await mainLcoreCpuS(dp.pid);
  const othersCpuS = await others();
  const r = await reader.stop();
  return { windows: s.windows, calls: r.calls, callUs: r.callUs, seconds, mainCpuS: cpu1 - cpu0, othersCpuS };
}

const mppsOf = (xs: number[]) => {
  const s = spread(xs.map((x) => x / 1e6));
  return { median: s.median, min: s.min, max: s.max };
};

async function writeReport(): Promise<string> {
  const pps = (leg: LegName) => runs[leg].flatMap((r) => r.windows.map((w) => w.pps));
  const base = spread(pps('none')).median;
  const rows = LEGS.filter((l) => runs[l].length).map((leg) => {
    const rs = runs[leg];
    const seconds = rs.reduce((a, r) => a + r.seconds, 0);
    const calls = rs.reduce((a, r) => a + r.calls, 0);
    const us = rs.flatMap((r) => r.callUs);
    return {
      reader: TITLE[leg],
      callsPerS: leg === 'none' ? null : calls / seconds,
      us: us.length ? spread(us).median : null,
      mpps: mppsOf(pps(leg)),
      ratio: spread(pps(leg)).median / base,
      cpu: rs.reduce((a, r) => a + r.mainCpuS, 0) / seconds,
      others: rs.reduce((a, r) => a + r.othersCpuS, 0) / seconds,
      busy: spread(rs.flatMap((r) => r.windows.map((w) => w.busyCyclesPerPacket ?? NaN)).filter(Number.isFinite)).median,
    };
  });
  const table: Table = {
    columns: [
      { key: 'reader', title: 'reader', kind: 'text' },
      { key: 'callsPerS', title: 'calls/s', kind: 'number', digits: 1 },
      { key: 'us', title: 'µs per call (Node)', kind: 'number', digits: 0 },
      { key: 'mpps', title: 'Mpps (min–max)', kind: 'range', digits: 3 },
      { key: 'ratio', title: 'vs no reader', kind: 'number', digits: 3 },
      { key: 'busy', title: 'cycles/pkt (PMD busy)', kind: 'number', digits: 1 },
      { key: 'cpu', title: 'main lcore CPU', kind: 'percent', digits: 2 },
      { key: 'others', title: 'other processes\' CPU', kind: 'percent', digits: 1 },
    ],
    rows,
  };
  const noneSpread = spread(pps('none'));
  const notes = [
    `One switchyard-dp for every leg (lcores ${LCORES}: 0 main, 1 forwarding; --no-huge -m ${MEM_MB} --no-pci; --pmd-sleep-max 0), the one-flow case of \`fastpath\` (in_port=1,actions=output:2; one 64-byte UDP frame replayed by net_pcap infinite_rx into net_null). ` +
      `${ROUNDS} rounds of the three legs, the order rotating; each leg ${WARMUP_S} s of warm-up and ${WINDOWS} windows of ${WINDOW_S} s. Mpps: tx on port 2 per second, median and range over every window of the leg.`,
    `The no-reader windows themselves spread ${((100 * (noneSpread.max - noneSpread.min)) / noneSpread.median).toFixed(1)}% (min to max): a ratio inside that is no measurable cost.`,
    `µs per call: in Node, readStats() copies the segment under its seqlock and builds the JavaScript snapshot; the messages leg is the round trip of both requests. Main lcore CPU: the data plane's control thread, which publishes the segment every 100 ms in every leg and, in the messages leg, also answers the requests.`,
    `Machine load before the run (load average): ${uptimeBefore}. Other processes' CPU: what the rest of the machine used during each leg (busy time in /proc/stat minus the data plane's and this process's), in share of one CPU: a leg that others disturbed shows here.`,
  ];
  return report({
    scenario: 'statsread',
    mode: `no-huge (EAL --no-huge -m ${MEM_MB} --no-pci)`,
    command: 'npm run bench -- statsread',
    rows: [],
    tables: [table],
    notes,
    details: { config: { ROUNDS, WINDOWS, WINDOW_S, WARMUP_S, HZ, lcores: LCORES, tscHz }, runs },
  });
}

describe('statsread: what reading the counters costs the fast path', () => {
  afterAll(async () => {
    if (runs.none.length) await writeReport();
  });

  it(`one flow, 64 B: no reader, readStats() ${HZ}/s, messages ${HZ}/s`, async () => {
    uptimeBefore = (await fs.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const pcap = await traffic('one-flow-64');
    const dp = await startDp({
      prefix: `bn${process.pid}-sr`,
      lcores: LCORES,
      memMb: MEM_MB,
      mbufs: pcap.packets + 16_384,
      maxFlows: 1 << 16,
      ports: [
        { name: 'p1', devargs: `net_pcap0,rx_pcap=${pcap.file},infinite_rx=1` },
        { name: 'p2', devargs: 'net_null0,no-rx=1' },
      ],
      createClient: createDataplaneClient,
    });
    try {
      tscHz = Number(dp.info.tscHz);
      expect(dp.client.readStats(), `the stats segment: ${dp.client.statsError}`).not.toBeNull();
      await dp.client.flowMod(oneFlow().map(toFlowMod));
      await dp.client.barrier();
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < LEGS.length; i++) {
          const leg = LEGS[(i + round) % LEGS.length];
          const r = await runLeg(dp, leg);
          runs[leg].push(r);
          console.log(`round ${round + 1}, ${leg}: ${(spread(r.windows.map((w) => w.pps)).median / 1e6).toFixed(3)} Mpps, ${r.calls} calls, main lcore ${((100 * r.mainCpuS) / r.seconds).toFixed(2)}%, others ${((100 * r.othersCpuS) / r.seconds).toFixed(1)}%`);
        }
        await sleep(100);
      }
      expect(runs.segment.every((r) => r.calls >= HZ * (r.seconds - 1))).toBe(true);
    } finally {
      await dp.stop();
    }
  }, 900_000);
});
