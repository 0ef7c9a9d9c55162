/**
 * Restarts under traffic, with the cost of each measured.
 *
 * Data plane killed (SIGKILL) while two hosts ping each other through it
 * every 10 ms: the daemon notices, launches a new switchyard-dp, replays the
 * whole desired state (tables, ports, flows) before the ports come up, and
 * the pings resume with no manual step. The recovery time is the longest
 * gap between two replies, printed for BENCHMARKS.md. Replay before ports
 * up shows in the counters: not one packet of the new data plane missed a
 * table (a port up before its flows would count table_miss drops).
 *
 * Daemon killed (SIGKILL) while a pcap replays as fast as the switch takes
 * it: forwarding never stops. Counted exactly (the source paused around the
 * window, as in hitless.test.ts): every packet received left, no drop of any
 * reason, and the flow entries were never replaced (their counters and ages
 * run on). The new daemon reconciles only the difference: a flow whose
 * hard_timeout ran out while no daemon was running is dropped from the
 * desired state instead of being put back.
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology } from '../../src/lib/netns';
import { ICMP_FORWARD, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping, writePcap } from '../helpers/traffic';
import { udpFrame } from '../helpers/frames';

/** Echo replies of `ping -D` (timestamps in seconds) printed so far. */
function replyTimes(out: string): number[] {
  const t: number[] = [];
  for (const m of out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=\d+/gm)) t.push(Number(m[1]));
  return t;
}

/** The entries without their counters, for comparing two dumps. */
function shapes(flows: { table: number; priority: number; match: string; actions: string; cookie: string }[]): string[] {
  return flows.map((f) => `${f.table}/${f.priority}/${f.cookie}/${f.match}/${f.actions}`).sort();
}

describe.skipIf(!IS_ROOT)('data plane killed under traffic', () => {
  const topo = new Topology('syrs');
  let sw: Switch;
  let pinger: ChildProcess | undefined;
  let out = '';

  beforeAll(async () => {
    const [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      // Two tables, so the replay has table settings and a cascade to restore.
      flows: ['table=0,priority=100,icmp,actions=goto_table:1', ...ICMP_FORWARD.map((f) => f.replace('table=0', 'table=1'))],
    });
    const t = await sw.cli(['table', 'set', '1', '--name', 'forward', '--miss', 'drop']);
    expect(t.code, t.stderr).toBe(0);
    // -D: a timestamp per reply; -W 1 so a lost request does not hold up the next.
    pinger = topo.spawn(a.ns, ['ping', '-n', '-D', '-i', '0.01', '-W', '1', '10.0.0.2']);
    pinger.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitUntil('ping replies', async () => replyTimes(out).length >= 50, 10_000, 50);
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('relaunches it, replays the whole state before the ports come up, and traffic resumes by itself', async () => {
    const before = await sw.cliJson<any>(['status']);
    const flowsBefore = await flowDump(sw);
    const tablesBefore = await sw.cliJson<any[]>(['table', 'list']);
    const repliesBefore = replyTimes(out).length;

    const killedAt = Date.now() / 1000;
    process.kill(before.pid, 'SIGKILL');
    const after = await waitUntil(
      'a new data plane',
      async () => {
        const s = await sw.cliJson<any>(['status']);
        return s.dataplane === 'connected' && s.pid && s.pid !== before.pid ? s : undefined;
      },
      30_000,
      100,
    );
    await waitUntil('replies again', async () => replyTimes(out).length > repliesBefore + 100, 30_000, 50);

    // The longest silence is the outage; it spans the kill.
    const times = replyTimes(out);
    let gap = 0;
    let gapStart = 0;
    for (let i = 1; i < times.length; i++) {
      if (times[i] - times[i - 1] > gap) {
        gap = times[i] - times[i - 1];
        gapStart = times[i - 1];
      }
    }
    expect(gapStart).toBeLessThanOrEqual(killedAt + 0.05);
    expect(gapStart + gap).toBeGreaterThan(killedAt);
    console.log(`data plane SIGKILL under traffic: ping answered again after ${gap.toFixed(2)} s (pid ${before.pid} -> ${after.pid})`);
    expect(gap).toBeLessThan(20);

    // Everything came back as it was (the new process's counters start at zero).
    expect(shapes(await flowDump(sw))).toEqual(shapes(flowsBefore));
    const tables = await sw.cliJson<any[]>(['table', 'list']);
    expect(tables.map((t) => [t.id, t.name, t.miss])).toEqual(tablesBefore.map((t) => [t.id, t.name, t.miss]));
    const ports = await sw.cliJson<any[]>(['port', 'list']);
    expect(ports.map((p) => [p.name, p.linkUp, p.adminUp])).toEqual([
      ['p1', true, true],
      ['p2', true, true],
    ]);
    // Flows were in before the ports came up: no packet of the new data
    // plane missed a table. (Ports come up one after the other, so a few
    // replies may meet the other port still down: counted as port_down.)
    for (const p of ['p1', 'p2']) {
      const s = await portStats(sw, p);
      expect(Number(s.rxPackets)).toBeGreaterThan(50);
      const { port_down: _, ...others } = nonZeroDrops(s);
      expect(others).toEqual({});
    }
    const st = await sw.cliJson<any>(['stats']);
    expect(Number(st.drops.table_miss)).toBe(0);
    expect(await sw.log()).toMatch(/reconciling: .*port addition/);
  });
});

describe.skipIf(!IS_ROOT)('daemon killed under traffic', () => {
  let sw: Switch;
  let dir: string;
  let hostA: string;
  const topo = new Topology('syrd');

  const STEADY = ['table=0,priority=100,udp,actions=goto_table:1', 'table=1,priority=100,udp,nw_dst=10.0.0.2,actions=output:p2'];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-restart-'));
    const pcap = path.join(dir, 'steady.pcap');
    await writePcap(pcap, [udpFrame('10.0.0.1', '10.0.0.2', 5000, 1000)]);
    const [a, b] = await twoHosts(topo);
    hostA = a.ns;
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: `net_pcap0,rx_pcap=${pcap},infinite_rx=1` },
        { name: 'p2', devargs: 'net_null0,no-rx=1' },
        { name: 'h1', devargs: afPacket(1, a) },
        { name: 'h2', devargs: afPacket(2, b) },
      ],
      flows: [
        ...STEADY,
        'table=0,priority=100,icmp,in_port=h1,actions=output:h2',
        'table=0,priority=100,icmp,in_port=h2,actions=output:h1',
      ],
    });
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const source = (up: boolean) => sw.api.call('PortService', 'UpdatePort', { port: 'p1', adminUp: up });

  it('forwarding never stops: every packet counted, the entries untouched, the expired one not put back', async () => {
    await source(false);
    await sleep(200);
    await sw.api.call('PortService', 'ClearPortStats', {});
    const desired = async () => (await sw.cliJson<any>(['status'])).flows as number;
    expect(await desired()).toBe(STEADY.length + 2);
    const steady0 = findFlow(await flowDump(sw), 1, 100, 'nw_dst=10.0.0.2');
    await source(true);
    // Ping through the same switch meanwhile: not one reply may go missing.
    const pings = ping(hostA, '10.0.0.2', { count: 600, intervalS: 0.01, waitS: 2 });
    await sleep(300);

    const oldPid = sw.daemon.pid;
    const dpPid = (await sw.cliJson<any>(['status'])).pid;
    // A flow that runs out while no daemon is running: the daemon is killed
    // right after adding it, and started again once it has expired.
    const HARD_S = 4;
    const add = await sw.cli(['flow', 'add', `table=0,priority=50,cookie=0x77,hard_timeout=${HARD_S},arp,actions=drop`]);
    expect(add.code, add.stderr).toBe(0);
    const t0 = Date.now();
    // down past the timeout and the data plane's next expiry check (once a second)
    const down = HARD_S * 1000 + 1500;
    await sw.restartDaemon(down);
    const serving = (Date.now() - t0 - down) / 1000;
    expect(sw.daemon.pid).not.toBe(oldPid);
    expect((await sw.cliJson<any>(['status'])).pid).toBe(dpPid);
    console.log(`daemon SIGKILL under traffic: a new daemon served ${serving.toFixed(2)} s after it was started; forwarding never paused`);

    const r = await pings;
    expect(r).toMatchObject({ transmitted: 600, received: 600 });
    await source(false);
    await sleep(200);

    const [p1, p2] = await Promise.all([portStats(sw, 'p1'), portStats(sw, 'p2')]);
    const flows = await flowDump(sw);
    const steady = findFlow(flows, 1, 100, 'nw_dst=10.0.0.2');
    expect(Number(p1.rxPackets)).toBeGreaterThan(100_000);
    expect(Number(p2.txPackets)).toBe(Number(p1.rxPackets));
    expect([nonZeroDrops(p1), nonZeroDrops(p2)]).toEqual([{}, {}]);
    // The same entry, counting on: never deleted and re-added.
    expect(Number(steady.packets)).toBe(Number(p2.txPackets) + Number(steady0.packets));
    expect(steady.durationSec).toBeGreaterThan(steady0.durationSec + HARD_S);
    // The expired entry stays gone, from the data plane and from the desired state.
    expect(flows.some((f) => f.cookie === '0x77')).toBe(false);
    expect(await desired()).toBe(STEADY.length + 2);
    const log = await sw.log();
    expect(log).toMatch(/startup flows: all 4 already in place/);
    expect(log).toMatch(/reconciling: 0 table\(s\), 0 port deletion\(s\), 0 port addition\(s\), 0 port change\(s\), 0 flow-mod\(s\), 1 expired flow\(s\) dropped/);
  });
});
