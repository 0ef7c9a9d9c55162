/**
 * Several poll-mode lcores, end to end: the CLI, switchyardd, the addon and
 * switchyard-dp with two PMD lcores sharing CPU 1 (--lcores 0@0,1@1,2@1).
 *
 * Two hosts on veth pairs; p1 is net_af_packet with qpairs=2 added with
 * --rxq 2 (the kernel's fanout spreads flows over its two sockets), p2 has
 * one queue. TCP with 8 parallel streams (iperf3 -P 8) crosses the switch.
 * `pmd stats` lists both lcores; each rx queue is polled by exactly one of
 * them, and p1's two queues by different ones; the lcores' packets add up
 * to the ports' rx packets, each lcore's cache hits and misses to its
 * packets; `pmd clear` zeroes them; `pmd stats --watch --json` prints rates
 * until SIGINT; and `port set --rxq` changes a port's queue count (re-dealing
 * every port's queues) while traffic goes on flowing.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nsExec, Topology } from '../../src/lib/netns';
import { StateStore } from '../../src/mgmt/state';
import { afPacket, twoHosts } from '../helpers/hosts';
import { CLI_JS, IS_ROOT } from '../helpers/paths';
import { portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping } from '../helpers/traffic';

interface PmdJson {
  slot: number;
  lcore: number;
  cpu: number | null;
  packets: string;
  busyCycles: string;
  idleCycles: string;
  busyPct: number | null;
  cacheHits: string;
  cacheMisses: string;
  lookups: string;
  probes: string;
  rxQueues: { port: string; portId: number; queue: number; packets: string }[];
}

interface PortJson {
  name: string;
  nRxq: number;
}

const FORWARD = ['table=0,priority=100,in_port=p1,actions=output:p2', 'table=0,priority=100,in_port=p2,actions=output:p1'];

/** "p1:0" for every queue of every lcore. */
const queuesOf = (pmds: PmdJson[]) => pmds.flatMap((p) => p.rxQueues.map((q) => `${q.port}:${q.queue}`));
const sum = (xs: (string | number)[]) => xs.reduce<bigint>((a, x) => a + BigInt(x), 0n);

describe.skipIf(!IS_ROOT)('two PMD lcores on one CPU, rx queues spread over them', () => {
  const topo = new Topology('mgp');
  let sw: Switch | undefined;
  let a: { ns: string };
  let b: { ns: string };

  const pmd = () => sw!.cliJson<PmdJson[]>(['pmd', 'stats']);

  /** iperf3 -P streams for seconds from a to b (TCP); resolves with the bits per second received. */
  async function iperf(streams: number, seconds: number, port: number): Promise<number> {
    topo.spawn(b.ns, ['iperf3', '-s', '-1', '-p', String(port)]);
    await sleep(500);
    const r = await nsExec(a.ns, ['iperf3', '-c', '10.0.0.2', '-p', String(port), '-P', String(streams), '-t', String(seconds), '-J'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    return JSON.parse(r.stdout).end.sum_received.bits_per_second as number;
  }

  beforeAll(async () => {
    const [ha, hb] = await twoHosts(topo);
    a = ha;
    b = hb;
    sw = await startSwitch({ lcores: '0@0,1@1,2@1' });
    const p1 = await sw.cli(['port', 'add', 'p1', afPacket(0, ha, 'qpairs=2'), '--rxq', '2']);
    expect(p1.code, p1.stderr).toBe(0);
    const p2 = await sw.cli(['port', 'add', 'p2', afPacket(1, hb)]);
    expect(p2.code, p2.stderr).toBe(0);
    const f = await sw.cli(['flow', 'add', ...FORWARD]);
    expect(f.code, f.stderr).toBe(0);
    await waitUntil('the ports to come up', async () => (await sw!.api.call('PortService', 'ListPorts', {})).ports.every((p: { linkUp: boolean }) => p.linkUp), 20_000, 200);
  }, 60_000);

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('pmd stats lists the two PMD lcores, and every rx queue exactly once', async () => {
    const ports = await sw!.cliJson<PortJson[]>(['port', 'list']);
    expect(ports.map((p) => [p.name, p.nRxq])).toEqual([
      ['p1', 2],
      ['p2', 1],
    ]);
    const pmds = await pmd();
    expect(pmds.map((p) => [p.slot, p.lcore, p.cpu])).toEqual([
      [0, 1, 1],
      [1, 2, 1],
    ]);
    expect(queuesOf(pmds).sort()).toEqual(['p1:0', 'p1:1', 'p2:0']);
    // p1's two queues are polled by different lcores; each lcore polls something
    const lcoreOf = new Map(pmds.flatMap((p) => p.rxQueues.map((q) => [`${q.port}:${q.queue}`, p.lcore])));
    expect(lcoreOf.get('p1:0')).not.toBe(lcoreOf.get('p1:1'));
    for (const p of pmds) expect(p.rxQueues.length).toBeGreaterThan(0);

    const human = await sw!.cli(['pmd', 'stats']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^LCORE\s+CPU\s+PACKETS\s+BUSY%\s+CYCLES\/PKT\s+HIT%\s+LOOKUPS\s+PROBES\/LOOKUP\s+RX QUEUES/);
    expect(human.stdout).toMatch(/p1:[01]/);
  });

  it('TCP streams: the lcores\' packets add up to the ports\' rx packets, hits and misses to each lcore\'s packets', async () => {
    expect((await sw!.cli(['port', 'stats', '--clear'])).code).toBe(0);
    expect((await sw!.cli(['pmd', 'clear'])).code).toBe(0);
    const bps = await iperf(8, 2, 5411);
    expect(bps).toBeGreaterThan(1e6);
    await sleep(500); // the last ACKs and FINs
    const pmds = await pmd();
    const p1 = await portStats(sw!, 'p1');
    const p2 = await portStats(sw!, 'p2');

    const packets = sum(pmds.map((p) => p.packets));
    expect(packets).toBeGreaterThan(1000n);
    expect(packets).toBe(BigInt(p1.rxPackets) + BigInt(p2.rxPackets));
    for (const p of pmds) {
      // every packet parsed, so each went through the cache: a hit or a miss
      expect(BigInt(p.cacheHits) + BigInt(p.cacheMisses), JSON.stringify(p)).toBe(BigInt(p.packets));
      expect(sum(p.rxQueues.map((q) => q.packets))).toBe(BigInt(p.packets));
      // a miss walks at least one table
      expect(BigInt(p.lookups)).toBeGreaterThanOrEqual(BigInt(p.cacheMisses));
    }
    // the flows are few and long: the cache answers nearly everything
    const hits = sum(pmds.map((p) => p.cacheHits));
    expect(hits * 10n).toBeGreaterThan(packets * 9n);
    // per queue: p1's packets are p1:0 + p1:1, and both queues carried some of the 8 streams
    const q = new Map(pmds.flatMap((p) => p.rxQueues.map((x) => [`${x.port}:${x.queue}`, BigInt(x.packets)])));
    expect(q.get('p1:0')! + q.get('p1:1')!).toBe(BigInt(p1.rxPackets));
    expect(q.get('p2:0')).toBe(BigInt(p2.rxPackets));
    expect(q.get('p1:0')).toBeGreaterThan(0n);
    expect(q.get('p1:1')).toBeGreaterThan(0n);
    for (const p of pmds) expect(BigInt(p.busyCycles)).toBeGreaterThan(0n);
  }, 60_000);

  it('pmd clear zeroes the counters', async () => {
    const c = await sw!.cli(['pmd', 'clear']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe('cleared the PMD counters\n');
    for (const p of await pmd()) {
      expect(p).toMatchObject({ packets: '0', busyCycles: '0', cacheHits: '0', cacheMisses: '0', lookups: '0', probes: '0' });
      for (const x of p.rxQueues) expect(x.packets).toBe('0');
    }
  });

  it('pmd stats --watch --json prints the rates of each interval until SIGINT', async () => {
    const child = spawn(process.execPath, [CLI_JS, '--server', sw!.server, '--json', 'pmd', 'stats', '--watch', '0.3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const pinger = ping(a.ns, '10.0.0.2', { count: 10, intervalS: 0.1 });
    await waitUntil('two samples', async () => out.split('\n').filter(Boolean).length >= 2, 10_000, 50);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect((await pinger).received).toBe(10);
    const samples = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    for (const s of samples) {
      expect(s.intervalSec).toBeGreaterThan(0.2);
      expect(s.pmds.map((p: { lcore: number }) => p.lcore)).toEqual([1, 2]);
      expect(Object.keys(s.pmds[0])).toEqual(['slot', 'lcore', 'cpu', 'pps', 'busyPct', 'cyclesPerPacket', 'cacheHitPct', 'lookupsPerSec', 'probesPerLookup', 'rxQueues']);
    }
  });

  it('port set --rxq changes a port\'s queue count, the queues are dealt again, traffic flows on', async () => {
    const add = await sw!.cli(['port', 'add', 'r0', 'net_ring0', '--rxq', '1']);
    expect(add.code, add.stderr).toBe(0);
    const set = await sw!.cliJson<PortJson>(['port', 'set', 'r0', '--rxq', '4']);
    expect(set.nRxq).toBe(4);
    expect((await sw!.cliJson<PortJson[]>(['port', 'list'])).find((p) => p.name === 'r0')?.nRxq).toBe(4);
    const pmds = await pmd();
    expect(queuesOf(pmds).sort()).toEqual(['p1:0', 'p1:1', 'p2:0', 'r0:0', 'r0:1', 'r0:2', 'r0:3']);
    for (const p of pmds) expect(p.rxQueues.some((x) => x.port === 'r0')).toBe(true);
    // the desired state has it (a restart of the daemon would keep it)
    expect(new StateStore(sw!.stateFile).load().ports.find((p) => p.name === 'r0')).toMatchObject({ nRxq: 4 });

    expect(await ping(a.ns, '10.0.0.2', { count: 5 })).toMatchObject({ transmitted: 5, received: 5 });
    expect(await iperf(4, 1, 5412)).toBeGreaterThan(1e6);

    // net_af_packet takes as many rx queues as its qpairs=, no other count
    const bad = await sw!.cli(['port', 'set', 'p2', '--rxq', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^switchyard: .*qpairs/);
    const range = await sw!.cli(['port', 'set', 'p2', '--rxq', '17']);
    expect(range.code).toBe(1);
    expect(range.stderr).toMatch(/--rxq/);
    const grpc = await sw!.api.code('PortService', 'UpdatePort', { port: 'p2', nRxq: 0 });
    expect(grpc).toEqual({ code: 3, details: 'n_rxq 0: out of range 1..16 (rx queues of the port)' }); // INVALID_ARGUMENT
    expect((await sw!.cliJson<PortJson[]>(['port', 'list'])).find((p) => p.name === 'p2')?.nRxq).toBe(1);
    expect(await ping(a.ns, '10.0.0.2', { count: 3 })).toMatchObject({ received: 3 });
  }, 60_000);
});
