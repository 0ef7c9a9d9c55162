/**
 * The fast path on one poll-mode lcore (issue #3): a pcap replayed for ever
 * (net_pcap, infinite_rx) -> the switch -> net_null, beside dpdk-testpmd
 * --forward-mode=io on the same file and cores, measured back to back in
 * the same run, and Open vSwitch with DPDK on the same traffic and flows
 * when it is installed.
 *
 *   1. one flow, in_port=1,actions=output:2; one 5-tuple, 64 B
 *   2. L2: 1,000 exact dl_dst flows -> output:2; 10,000 frames, 10 5-tuples
 *      per MAC, 64 B
 *   3. ACL: table 0 holds N 5-tuple/prefix rules (bench/lib/rules.ts), ~10%
 *      drop, the rest and a catch-all goto_table:1; table 1 forwards by
 *      dl_dst (1,000 MACs and a default); N = 1K, 100K, 1M; 100,000
 *      distinct 5-tuples, 64 B
 *   4. scenario 3 with 1518-byte frames
 *
 * Each case, in turn: testpmd io, then switchyard (then OVS), each a fresh
 * process with its own --file-prefix on lcores 0 (main) and 1 (forwarding),
 * --no-huge -m 2048 --no-pci. A switch leg loads its flows through the
 * addon (batches of at most 100,000, then a barrier; timed), waits WARMUP
 * seconds and takes WINDOWS windows of WINDOW_S seconds from counter deltas:
 *   Mpps     = (tx on port 2 + action_drop drops) / s: every packet handled,
 *              forwarded or dropped by an ACL rule on purpose;
 *   cyc/pkt  = PMD busy cycles / packets (PMD stats), and TSC Hz / rate (the
 *              core only polls, so that is all its cycles per packet);
 *   cache    = flow-cache hits / (hits + misses) (PMD stats).
 * PMD stats columns say n/a when the data plane or addon lacks them.
 * testpmd's rate is its Rx-pps on port 0, one sample per statistics print
 * (--stats-period 1; about every 2 s here), WINDOWS samples after WARMUP.
 * Median and min-max over the windows.
 *
 * Environment: BENCH_FP_WINDOWS (5), BENCH_FP_WINDOW_S (2), BENCH_FP_WARMUP_S
 * (1), BENCH_FP_ROUNDS (1: testpmd/switch pairs per case), BENCH_FP_RULES
 * ("1000,100000,1000000"), BENCH_FP_CASES (e.g. "s1,s3-100000": only those),
 * BENCH_OVS (0: no OVS column), BENCH_OVS_MAX_RULES (100000: larger ACLs
 * skip OVS, whose add-flows of a million rules and megaflow warm-up take
 * minutes), BENCH_OVS_SETTLE_MAX_S (60: OVS's longest warm-up, waiting for
 * its upcalls to stop).
 * Results: build/bench/fastpath.{json,md}; BENCHMARKS.md "Fast path".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowMod } from '../../src/mgmt/addon-types';
import { loadFlows, sampleSwitch, startDp, type LoadResult, type SwitchWindow } from '../lib/dp';
import { ceilingVersusSwitch, sleep, spread } from '../lib/measure';
import { detectOvsDpdk, startOvs, type OvsDetect, type OvsPmdStats } from '../lib/ovs';
import { report, type Cell, type Table } from '../lib/report';
import { ACL_CORE_RULES, IN_PORT, OUT_PORT, aclMix, aclRules, aclTable1, hostMacs, l2Flows, oneFlow, toFlowMod, toOfctl, type BenchFlow } from '../lib/rules';
import { measureTestpmdIo } from '../lib/testpmd';
import { traffic, type TrafficName } from '../lib/traffic';

const env = process.env;
const WINDOWS = Number(env.BENCH_FP_WINDOWS ?? 5);
const WINDOW_S = Number(env.BENCH_FP_WINDOW_S ?? 2);
const WARMUP_S = Number(env.BENCH_FP_WARMUP_S ?? 1);
const ROUNDS = Number(env.BENCH_FP_ROUNDS ?? 1);
const RULES = (env.BENCH_FP_RULES ?? '1000,100000,1000000').split(',').map(Number);
const ONLY = env.BENCH_FP_CASES ? env.BENCH_FP_CASES.split(',') : null;
const OVS_WANTED = env.BENCH_OVS !== '0';
const OVS_MAX_RULES = Number(env.BENCH_OVS_MAX_RULES ?? 100_000);
/** OVS sets up megaflows through upcalls: it warms up at least this long, then until upcalls stop, at most OVS_SETTLE_MAX_S. */
const OVS_WARMUP_S = Math.max(WARMUP_S, 3);
const OVS_SETTLE_MAX_S = Number(env.BENCH_OVS_SETTLE_MAX_S ?? 60);
const LCORES = '0,1';
const MEM_MB = 2048;
const BATCH = 100_000;

const TAG = `bn${process.pid}`;
let seq = 0;
const prefix = (what: string) => `${TAG}-${what}-${seq++}`;

interface Case {
  id: string;
  scenario: 1 | 2 | 3 | 4;
  title: string;
  traffic: TrafficName;
  rules?: number;
  /** the flows, in batches */
  flows(): Iterable<BenchFlow[]>;
  /** drop reasons the flows cause on purpose */
  intentional: string[];
}

function* batches(fs: BenchFlow[]): Iterable<BenchFlow[]> {
  for (let i = 0; i < fs.length; i += BATCH) yield fs.slice(i, i + BATCH);
}

function* aclFlows(n: number): Iterable<BenchFlow[]> {
  yield* aclRules(n, BATCH);
  yield aclTable1();
}

const kRules = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}K` : String(n));

const CASES: Case[] = ([
  { id: 's1', scenario: 1, title: '1: one flow', traffic: 'one-flow-64', flows: () => batches(oneFlow()), intentional: [] },
  { id: 's2', scenario: 2, title: '2: L2, 1,000 dl_dst', traffic: 'l2-1000-64', flows: () => batches(l2Flows(0, hostMacs(), OUT_PORT, false)), intentional: [] },
  ...[3, 4].flatMap((sc) =>
    RULES.map(
      (n): Case => ({
        id: `s${sc}-${n}`,
        scenario: sc as 3 | 4,
        title: `${sc}: ACL ${kRules(n)} rules${sc === 4 ? ', 1518 B' : ''}`,
        traffic: sc === 3 ? 'acl-64' : 'acl-1518',
        rules: n,
        flows: () => aclFlows(n),
        intentional: ['action_drop'],
      }),
    ),
  ),
] as Case[]).filter((c) => !ONLY || ONLY.includes(c.id));

interface OvsResult {
  pps: number[];
  txPps: number[];
  pmd: OvsPmdStats;
  loadSeconds: number;
  /** warm-up before the windows, and whether upcalls had stopped by then */
  warmupSeconds: number;
  settled: boolean;
}

interface Result {
  c: Case;
  frameBytes: number;
  packetsInFile: number;
  testpmd: number[];
  sw: SwitchWindow[];
  pmdUnavailable: string | null;
  load: LoadResult;
  rssKiB: { before: number; after: number };
  nFlows: number;
  ovs: OvsResult | { skipped: string };
}

const results: Result[] = [];
/** the data plane's TSC rate (from HELLO) */
let tscHz = 0;
let ovsInfo: OvsDetect = { vswitchd: null, text: 'not tried (BENCH_OVS=0)' };

function* flowMods(c: Case): Iterable<FlowMod[]> {
  for (const b of c.flows()) yield b.map(toFlowMod);
}

function* ofctlLines(c: Case): Iterable<string> {
  for (const b of c.flows()) for (const f of b) yield toOfctl(f);
}

async function runCase(c: Case): Promise<Result> {
  const pcap = await traffic(c.traffic);
  const mbufs = pcap.packets + 16_384; // net_pcap infinite_rx holds every packet of the file in an mbuf
  const pcapArgs = `net_pcap0,rx_pcap=${pcap.file},infinite_rx=1`;
  const nullArgs = 'net_null0,no-rx=1';
  let sw: Omit<Result, 'c' | 'frameBytes' | 'packetsInFile' | 'testpmd' | 'ovs'> | undefined;
  const pairs = await ceilingVersusSwitch(ROUNDS, {
    ceiling: async () => (await measureTestpmdIo({ prefix: prefix('io'), pcap: pcap.file, mbufs, statsPeriodS: 1, lcores: LCORES, memMb: MEM_MB, warmupS: WARMUP_S, windows: WINDOWS })).samples,
    switch: async () => {
      const dp = await startDp({
        prefix: prefix('sy'),
        lcores: LCORES,
        memMb: MEM_MB,
        mbufs,
        maxFlows: Math.max(1 << 20, (c.rules ?? 0) + 65_536),
        ports: [
          { name: 'p1', devargs: pcapArgs },
          { name: 'p2', devargs: nullArgs },
        ],
      });
      try {
        tscHz = Number(dp.info.tscHz);
        const ports = await dp.client.portList();
        expect(ports.map((p) => [p.name, p.id])).toEqual([
          ['p1', IN_PORT],
          ['p2', OUT_PORT],
        ]);
        const before = await dp.rssKiB();
        const load = await loadFlows(dp.client, flowMods(c));
        const after = await dp.rssKiB();
        const st = await dp.client.dpStats();
        expect(st.nFlows).toBe(load.flows);
        const s = await sampleSwitch(dp, { inPort: IN_PORT, outPort: OUT_PORT, warmupS: WARMUP_S, windows: WINDOWS, windowS: WINDOW_S, intentional: c.intentional });
        const prev = sw?.sw ?? [];
        sw = { sw: [...prev, ...s.windows], pmdUnavailable: s.pmdUnavailable, load, rssKiB: { before, after }, nFlows: st.nFlows };
        return s.windows;
      } finally {
        await dp.stop();
      }
    },
  });

  let ovs: Result['ovs'];
  if (!ovsInfo.vswitchd) ovs = { skipped: ovsInfo.text };
  else if ((c.rules ?? 0) > OVS_MAX_RULES) ovs = { skipped: `not run above ${kRules(OVS_MAX_RULES)} rules (BENCH_OVS_MAX_RULES)` };
  else {
    try {
      ovs = await runOvs(c, [pcapArgs, nullArgs]);
    } catch (e) {
      ovs = { skipped: `failed: ${(e as Error).message.split('\n')[0]}` };
      console.error(`OVS-DPDK, ${c.id}: ${(e as Error).message}`);
    }
  }
  return { c, frameBytes: pcap.frameBytes, packetsInFile: pcap.packets, testpmd: pairs.ceiling, ...sw!, ovs };
}

async function runOvs(c: Case, devargs: [string, string]): Promise<OvsResult> {
  const ovs = await startOvs({ vswitchd: ovsInfo.vswitchd!, prefix: prefix('ovs'), devargs, memMb: MEM_MB });
  try {
    // Flows first, then the ports (and so the traffic): loading under
    // traffic makes OVS revalidate its megaflows while the table grows,
    // which takes minutes at 100K rules.
    const loadSeconds = await ovs.addFlows(ofctlLines(c));
    await ovs.addPorts();
    // Warm up until OVS has a megaflow for (nearly) everything: at least
    // OVS_WARMUP_S, then until a second passes with upcalls under 0.1% of
    // the packets, at most OVS_SETTLE_MAX_S.
    const t0 = Date.now();
    await sleep(OVS_WARMUP_S * 1000);
    let settled = false;
    while (!settled && Date.now() - t0 < OVS_SETTLE_MAX_S * 1000) {
      await ovs.pmdStatsClear();
      await sleep(1000);
      const p = await ovs.pmdStats();
      settled = p.packets > 0 && p.upcalls < 0.001 * p.packets;
    }
    const warmupSeconds = (Date.now() - t0) / 1000;
    await ovs.pmdStatsClear();
    const pps: number[] = [];
    const txPps: number[] = [];
    let prev = await ovs.ports();
    for (let i = 0; i < WINDOWS; i++) {
      await sleep(WINDOW_S * 1000);
      const cur = await ovs.ports();
      const s = Number(cur.ns - prev.ns) / 1e9;
      pps.push((cur.rx1 - prev.rx1) / s);
      txPps.push((cur.tx2 - prev.tx2) / s);
      prev = cur;
    }
    return { pps, txPps, pmd: await ovs.pmdStats(), loadSeconds, warmupSeconds, settled };
  } finally {
    await ovs.stop();
  }
}

// ---------------------------------------------------------------------------
// The report

const mpps = (xs: number[]) => {
  const s = spread(xs.map((x) => x / 1e6));
  return { median: s.median, min: s.min, max: s.max };
};
const med = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? spread(v).median : null;
};

function swPps(r: Result): number[] {
  return r.sw.map((w) => w.pps);
}

/** Switch rate / testpmd io rate, by medians. */
function ioRatio(r: Result): number {
  return spread(swPps(r)).median / spread(r.testpmd).median;
}

function ovsRatio(r: Result): number | null {
  return 'pps' in r.ovs ? spread(swPps(r)).median / spread(r.ovs.pps).median : null;
}

function find(id: string): Result | undefined {
  return results.find((r) => r.c.id === id);
}

interface Verdict {
  target: string;
  measured: string;
  met: string;
}

function verdicts(): Verdict[] {
  const out: Verdict[] = [];
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const s1 = find('s1');
  if (s1) out.push({ target: 'scenario 1 >= 60% of testpmd io', measured: pct(ioRatio(s1)), met: ioRatio(s1) >= 0.6 ? 'yes' : 'no' });
  const s3 = find('s3-100000');
  if (s3) {
    out.push({ target: 'scenario 3, 100K rules, >= 25% of testpmd io', measured: pct(ioRatio(s3)), met: ioRatio(s3) >= 0.25 ? 'yes' : 'no' });
    const o = ovsRatio(s3);
    out.push({ target: 'scenario 3, 100K rules, >= 5x OVS-DPDK', measured: o === null ? `n/a (OVS-DPDK ${'skipped' in s3.ovs ? s3.ovs.skipped : ''})` : `${o.toFixed(1)}x`, met: o === null ? 'not measured' : o >= 5 ? 'yes' : 'no' });
  }
  const lo = Math.min(...RULES);
  const hi = Math.max(...RULES);
  for (const sc of [3, 4]) {
    const a = find(`s${sc}-${lo}`);
    const b = find(`s${sc}-${hi}`);
    if (!a || !b || lo === hi) continue;
    const raw = spread(swPps(a)).median / spread(swPps(b)).median;
    const norm = ioRatio(a) / ioRatio(b);
    out.push({
      target: `scenario ${sc}: ${kRules(lo)} -> ${kRules(hi)} rules slows down at most 2x`,
      measured: `${norm.toFixed(2)}x as a share of testpmd io (${raw.toFixed(2)}x in Mpps)`,
      met: norm <= 2 ? 'yes' : 'no',
    });
  }
  return out;
}

async function writeReport(): Promise<string> {
  const mix = aclMix();
  const rows: Record<string, Cell>[] = results.map((r) => {
    const pps = swPps(r);
    const m = spread(pps).median;
    const o = r.ovs;
    return {
      scenario: r.c.title,
      frame: `${r.frameBytes} B`,
      mpps: mpps(pps),
      gbps: (m * r.frameBytes * 8) / 1e9,
      busy: r.pmdUnavailable ? null : med(r.sw.map((w) => w.busyCyclesPerPacket)),
      tscpp: tscHz ? tscHz / m : null,
      hit: r.pmdUnavailable ? null : med(r.sw.map((w) => w.cacheHitRate)),
      io: mpps(r.testpmd),
      ioRatio: ioRatio(r),
      ovs: 'pps' in o ? mpps(o.pps) : o.skipped.startsWith('not installed') ? 'n/a' : 'not run',
      ovsRatio: ovsRatio(r),
    };
  });
  const main: Table = {
    columns: [
      { key: 'scenario', title: 'scenario', kind: 'text' },
      { key: 'frame', title: 'frame', kind: 'text', right: true },
      { key: 'mpps', title: 'switchyard Mpps', kind: 'range', digits: 2 },
      { key: 'gbps', title: 'Gbit/s', kind: 'number', digits: 2 },
      { key: 'busy', title: 'cycles/pkt (PMD busy)', kind: 'number', digits: 0 },
      { key: 'tscpp', title: 'cycles/pkt (TSC/rate)', kind: 'number', digits: 0 },
      { key: 'hit', title: 'cache hits', kind: 'percent', digits: 1 },
      { key: 'io', title: 'testpmd io Mpps', kind: 'range', digits: 2 },
      { key: 'ioRatio', title: 'vs io', kind: 'percent' },
      { key: 'ovs', title: 'OVS-DPDK Mpps', kind: 'range', digits: 2 },
      { key: 'ovsRatio', title: 'vs OVS', kind: 'ratio' },
    ],
    rows,
  };
  const loads: Table = {
    title: 'Flow loading (scenario 3/4 ACL through the addon, batches of 100,000, then a barrier) and resident memory of switchyard-dp:',
    columns: [
      { key: 'case', title: 'case', kind: 'text' },
      { key: 'flows', title: 'flows (table 0 + table 1)', kind: 'int' },
      { key: 's', title: 'load s (flowMod calls + barrier)', kind: 'number', digits: 2 },
      { key: 'wall', title: 'wall s (first flowMod to barrier)', kind: 'number', digits: 2 },
      { key: 'rate', title: 'flows/s', kind: 'int' },
      { key: 'before', title: 'RSS before, MiB', kind: 'number', digits: 0 },
      { key: 'after', title: 'RSS after, MiB', kind: 'number', digits: 0 },
      { key: 'ovs', title: 'OVS add-flows s', kind: 'number', digits: 1 },
    ],
    rows: results
      .filter((r) => r.c.rules)
      .map((r) => ({
        case: r.c.title,
        flows: r.load.flows,
        s: r.load.seconds,
        wall: r.load.wallSeconds,
        rate: r.load.flows / r.load.seconds,
        before: r.rssKiB.before / 1024,
        after: r.rssKiB.after / 1024,
        ovs: 'pps' in r.ovs ? r.ovs.loadSeconds : null,
      })),
  };
  const v = verdicts();
  const targets: Table = {
    title: 'Targets (one core; ratios from this run):',
    columns: [
      { key: 'target', title: 'target', kind: 'text' },
      { key: 'measured', title: 'measured', kind: 'text' },
      { key: 'met', title: 'met', kind: 'text' },
    ],
    rows: v.map((x) => ({ ...x })),
  };
  const notes: string[] = [];
  notes.push(`Open vSwitch with DPDK: ${ovsInfo.vswitchd ? ovsInfo.text : `${ovsInfo.text}, no side-by-side column`}.`);
  const ovsFailed = results.filter((r) => 'skipped' in r.ovs && r.ovs.skipped.startsWith('failed'));
  if (ovsFailed.length) notes.push(`Open vSwitch with DPDK ${ovsFailed.map((r) => `${r.c.id}: ${(r.ovs as { skipped: string }).skipped}`).join('; ')} (no OVS figure for those rows).`);
  const pmdNa = results.find((r) => r.pmdUnavailable);
  if (pmdNa) notes.push(`PMD stats: n/a (${pmdNa.pmdUnavailable}); cycles/pkt (PMD busy) and cache hits are not measured.`);
  const shares = Object.entries(mix.byClass)
    .map(([k, x]) => `${k} ${(100 * x).toFixed(1)}%`)
    .join(', ');
  if (results.some((r) => r.c.rules)) notes.push(
    `ACL traffic (scenarios 3 and 4): ${mix.packets.toLocaleString('en-US')} packets, ${mix.tuples.toLocaleString('en-US')} distinct 5-tuples; packets by the rule they hit: ${shares}; ${(100 * mix.dropped).toFixed(1)}% dropped by ACL rules (expected).` +
      ` Measured drop share (action_drop / handled): ${results
        .filter((r) => r.c.rules)
        .map((r) => `${kRules(r.c.rules!)}${r.c.scenario === 4 ? ' 1518 B' : ''} ${(100 * (med(r.sw.map((w) => (w.pps ? w.intendedDropPps / w.pps : null))) ?? NaN)).toFixed(1)}%`)
        .join(', ')}.`,
  );
  const other = results.filter((r) => r.sw.some((w) => w.otherDropPps > 0));
  if (other.length) notes.push(`Unintended drops seen in: ${other.map((r) => `${r.c.id} (${(med(r.sw.map((w) => w.otherDropPps)) ?? 0).toFixed(0)} pps)`).join(', ')}.`);
  const busy = results.filter((r) => !r.pmdUnavailable).map((r) => `${r.c.id} ${(100 * (med(r.sw.map((w) => w.busyShare)) ?? NaN)).toFixed(0)}%`);
  if (busy.length) notes.push(`PMD busy share (busy / busy + idle cycles): ${busy.join(', ')}.`);
  const probes = results.filter((r) => r.sw.some((w) => w.probesPerLookup !== null)).map((r) => `${r.c.id} ${(med(r.sw.map((w) => w.probesPerLookup)) ?? NaN).toFixed(2)}`);
  if (probes.length) notes.push(`Classifier subtables probed per lookup (on cache misses): ${probes.join(', ')}.`);
  const ovsPmd = results.filter((r) => 'pmd' in r.ovs).map((r) => {
    const p = (r.ovs as OvsResult).pmd;
    const o = r.ovs as OvsResult;
    return `${r.c.id} warm-up ${o.warmupSeconds.toFixed(0)} s${o.settled ? '' : ' (upcalls had not stopped)'}, ${p.cyclesPerPacket?.toFixed(0) ?? 'n/a'} cycles/pkt, simple match+EMC+SMC ${p.exactHitRate === null ? 'n/a' : (100 * p.exactHitRate).toFixed(1) + '%'}, megaflow ${p.packets ? ((100 * p.megaflowHits) / p.packets).toFixed(1) : 'n/a'}%, upcalls ${p.upcalls}`;
  });
  if (ovsPmd.length) notes.push(`OVS-DPDK PMD (pmd-stats-show over the windows): ${ovsPmd.join('; ')}.`);
  notes.push(
    `Mpps = (tx on port 2 + action_drop) per second, i.e. every packet handled, forwarded or dropped on purpose by an ACL rule; Gbit/s = Mpps x frame x 8 (FCS counted, no preamble or gap); cycles/pkt (TSC/rate) = TSC Hz / rate, all the forwarding core's cycles since it only polls. ` +
      `${WINDOWS} windows of ${WINDOW_S} s after ${WARMUP_S} s (OVS: at least ${OVS_WARMUP_S} s, then until a second passes with upcalls under 0.1% of packets, at most ${OVS_SETTLE_MAX_S} s); testpmd: ${WINDOWS} statistics periods after ${WARMUP_S} s. Rounds (testpmd, switch) per case: ${ROUNDS}.`,
  );
  return report({
    scenario: 'fastpath',
    mode: 'no-huge (EAL --no-huge -m 2048 --no-pci on every process)',
    command: 'npm run bench -- fastpath',
    rows: [],
    tables: [main, targets, ...(loads.rows.length ? [loads] : [])],
    notes,
    details: {
      config: { WINDOWS, WINDOW_S, WARMUP_S, ROUNDS, RULES, OVS_MAX_RULES, OVS_WARMUP_S, OVS_SETTLE_MAX_S, lcores: LCORES, memMb: MEM_MB, tscHz },
      ovs: ovsInfo,
      aclMix: mix,
      aclCoreRules: ACL_CORE_RULES,
      results: results.map((r) => ({ ...r, c: { id: r.c.id, title: r.c.title, traffic: r.c.traffic, rules: r.c.rules } })),
    },
  });
}


describe('fastpath: one core, pcap -> switch -> null, beside testpmd io', () => {
  beforeAll(async () => {
    for (const t of new Set(CASES.map((c) => c.traffic))) {
      const p = await traffic(t);
      console.log(`traffic ${t}: ${p.file}, ${p.packets} packets${p.generated ? ' (made now)' : ''}`);
    }
    if (OVS_WANTED) ovsInfo = await detectOvsDpdk();
    console.log(`Open vSwitch with DPDK: ${ovsInfo.vswitchd ? ovsInfo.text : `${ovsInfo.text}, no side-by-side column`}`);
  }, 300_000);

  afterAll(async () => {
    if (results.length) await writeReport(); // bench/run.sh prints build/bench/fastpath.md
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const r = await runCase(c);
      results.push(r);
      const m = spread(swPps(r)).median;
      console.log(`${c.id}: switchyard ${(m / 1e6).toFixed(2)} Mpps, testpmd io ${(spread(r.testpmd).median / 1e6).toFixed(2)} Mpps${'pps' in r.ovs ? `, OVS ${(spread(r.ovs.pps).median / 1e6).toFixed(2)} Mpps` : ''}`);
      expect(m).toBeGreaterThan(0);
    }, 900_000);
  }
});
