/**
 * Logical port groups with real traffic.
 *
 * Host A (10.0.0.1) is on p1. Hosts B and C are both 10.0.0.2, on p2 and
 * p3: whichever of them gets a packet answers it (the buckets toward C
 * rewrite the destination MAC to C's). Replies from p2 and p3 go to p1.
 *
 * - select: 1,000 UDP flows (each sent twice) over weights 1:3 land within
 *   10% of 25% / 75% (bucket counters and the ports' tx agree), and every
 *   flow's two packets take one bucket (captures on B and C);
 * - all: each packet leaves on both buckets' ports; a trace shows both;
 * - fast_failover: a ping every 20 ms through a group watching p2 then p3;
 *   p2's veth taken down moves it to p3 within one carrier poll, losing
 *   at most a few replies; p2 back up moves it back;
 * - bad input is refused, naming the field; a flow naming a missing group,
 *   and deleting a group flows use, are refused;
 * - groups survive a daemon restart and a data-plane SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, ip, setStaticArp, type Veth } from '../../src/lib/netns';
import { afPacket } from '../helpers/hosts';
import { GrpcStatus } from '../helpers/grpc';
import { IS_ROOT } from '../helpers/paths';
import { portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping, removeCapture, scapySend, startCapture, type Capture } from '../helpers/traffic';

interface GroupStatsJson {
  id: number;
  type: string;
  flows: number;
  packets: string;
  bytes: string;
  dropped: string;
  buckets: { packets: string; bytes: string }[];
}

describe.skipIf(!IS_ROOT)('logical port groups', () => {
  const topo = new Topology('gr');
  let sw: Switch;
  let a: Veth;
  let b: Veth;
  let c: Veth;

  const stats = async (id: number) => (await sw.cliJson<GroupStatsJson[]>(['group', 'stats', String(id)]))[0];
  const tx = async (port: string) => Number((await portStats(sw, port)).txPackets);
  const mustCli = async (args: string[]) => {
    const r = await sw.cli(args);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  beforeAll(async () => {
    a = await topo.addHost('10.0.0.1/24');
    b = await topo.addHost('10.0.0.2/24');
    c = await topo.addHost('10.0.0.2/24');
    await setStaticArp(a.ns, a.nsIf, '10.0.0.2', b.nsMac);
    await setStaticArp(b.ns, b.nsIf, '10.0.0.1', a.nsMac);
    await setStaticArp(c.ns, c.nsIf, '10.0.0.1', a.nsMac);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
        { name: 'p3', devargs: afPacket(2, c) },
      ],
      flows: ['table=0,priority=100,in_port=p2,actions=output:p1', 'table=0,priority=100,in_port=p3,actions=output:p1'],
    });
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('refuses bad groups and flows naming missing groups, naming the culprit', async () => {
    const type = await sw.cli(['group', 'add', 'group_id=9,type=bogus,bucket=output:p2']);
    expect(type.code).not.toBe(0);
    expect(type.stderr).toContain("type: 'bogus' is not one of all, select, indirect, fast_failover");
    const ff = await sw.cli(['group', 'add', '9', 'fast_failover', 'actions=output:p2']);
    expect(ff.code).not.toBe(0);
    expect(ff.stderr).toContain('fast_failover needs watch_port');
    const port = await sw.cli(['group', 'add', '9', 'all', 'actions=output:nosuch']);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain("unknown port 'nosuch'");
    const gotoT = await sw.cli(['group', 'add', '9', 'all', 'actions=goto_table:3']);
    expect(gotoT.code).not.toBe(0);
    expect(gotoT.stderr).toContain('goto_table is not allowed in a bucket');
    const flow = await sw.cli(['flow', 'add', 'table=0,priority=50,udp,actions=group:99']);
    expect(flow.code).not.toBe(0);
    expect(flow.stderr).toContain('group:99, no such group');
    const empty = await sw.api.code('GroupService', 'AddGroup', { spec: '' });
    expect(empty.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(empty.details).toContain('missing group_id');
    const none = await sw.api.code('GroupService', 'DeleteGroup', { id: 42 });
    expect(none.code).toBe(GrpcStatus.NOT_FOUND);
    expect(await sw.cliJson<unknown[]>(['group', 'list'])).toEqual([]);
  });

  it('select: 1,000 flows over weights 1:3 land near 25% / 75%, each flow on one bucket', async () => {
    await mustCli([
      'group',
      'add',
      `group_id=1,type=select,bucket=weight:1,actions=output:p2,bucket=weight:3,actions=mod_dl_dst:${c.nsMac},output:p3`,
    ]);
    await mustCli(['flow', 'add', 'table=0,priority=100,udp,in_port=p1,tp_dst=9,actions=group:1']);
    const tx2 = await tx('p2');
    const tx3 = await tx('p3');
    let capB: Capture | undefined;
    let capC: Capture | undefined;
    try {
      capB = await startCapture(b.ns, b.nsIf, { filter: 'udp dst port 9', direction: 'in' });
      capC = await startCapture(c.ns, c.nsIf, { filter: 'udp dst port 9', direction: 'in' });
      // 1,000 flows (source ports), each sent twice
      await scapySend(a.ns, a.nsIf, [
        `*[Ether(src='${a.nsMac}',dst='${b.nsMac}')/IP(src='10.0.0.1',dst='10.0.0.2')/UDP(sport=s,dport=9)/Raw(b'x'*18) for s in list(range(20000,21000))*2]`,
      ]);
      const s = await waitUntil('2,000 packets through group 1', async () => {
        const g = await stats(1);
        return Number(g.packets) >= 2000 ? g : undefined;
      });
      expect(Number(s.packets)).toBe(2000);
      const n0 = Number(s.buckets[0].packets);
      const n1 = Number(s.buckets[1].packets);
      expect(n0 + n1).toBe(2000);
      console.log(`select 1:3 over 1,000 flows x 2: bucket p2 ${n0} (${((n0 / 2000) * 100).toFixed(1)}%), p3 ${n1} (${((n1 / 2000) * 100).toFixed(1)}%)`);
      expect(n0 / 2000).toBeGreaterThanOrEqual(0.225);
      expect(n0 / 2000).toBeLessThanOrEqual(0.275);
      expect((await tx('p2')) - tx2).toBe(n0);
      expect((await tx('p3')) - tx3).toBe(n1);

      await capB.stop();
      await capC.stop();
      const count = async (cap: Capture) => {
        const m = new Map<number, number>();
        for (const [sp] of await cap.fields(['udp.srcport'])) m.set(Number(sp), (m.get(Number(sp)) ?? 0) + 1);
        return m;
      };
      const onB = await count(capB);
      const onC = await count(capC);
      for (const [sport, n] of [...onB, ...onC]) expect(n, `flow ${sport}`).toBe(2); // both packets, one side
      for (const sport of onB.keys()) expect(onC.has(sport), `flow ${sport} on both`).toBe(false);
      expect(onB.size + onC.size).toBe(1000);
    } finally {
      await removeCapture(capB);
      await removeCapture(capC);
    }
  });

  it('all: each packet leaves on every bucket', async () => {
    await mustCli(['group', 'add', '3', 'all', 'actions=output:p2', `actions=mod_dl_dst:${c.nsMac},output:p3`]);
    await mustCli(['flow', 'add', 'table=0,priority=110,udp,in_port=p1,tp_dst=7,actions=group:3']);
    const tx2 = await tx('p2');
    const tx3 = await tx('p3');
    await scapySend(a.ns, a.nsIf, [`*[Ether(src='${a.nsMac}',dst='${b.nsMac}')/IP(src='10.0.0.1',dst='10.0.0.2')/UDP(sport=5000+i,dport=7) for i in range(5)]`]);
    const s = await waitUntil('5 packets through group 3', async () => {
      const g = await stats(3);
      return Number(g.packets) >= 5 ? g : undefined;
    });
    expect(s.buckets.map((x) => Number(x.packets))).toEqual([5, 5]);
    expect((await tx('p2')) - tx2).toBe(5);
    expect((await tx('p3')) - tx3).toBe(5);
    // a packet trace runs the buckets too, and counts nothing
    const t = await mustCli(['trace', 'in_port=p1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=7']);
    expect(t.stdout).toMatch(/group:3/);
    expect(t.stdout).toContain('output to p2, p3');
    expect(t.stdout).toContain('p2: 60 bytes, unchanged'); // the rewrite in bucket 1 is on its own copy
    expect((await stats(3)).packets).toBe('5');
  });

  it('fast_failover: a running ping moves to p3 when p2 goes down, and back', async () => {
    await mustCli([
      'group',
      'add',
      `group_id=2,type=fast_failover,bucket=watch_port:p2,actions=output:p2,bucket=watch_port:p3,actions=mod_dl_dst:${c.nsMac},output:p3`,
    ]);
    await mustCli(['flow', 'add', 'table=0,priority=100,icmp,in_port=p1,actions=group:2']);
    let out = '';
    const pinger: ChildProcess = topo.spawn(a.ns, ['ping', '-n', '-D', '-i', '0.02', '-W', '1', '10.0.0.2']);
    pinger.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const seqs = () => [...out.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
    let capC: Capture | undefined;
    try {
      capC = await startCapture(c.ns, c.nsIf, { filter: 'icmp', direction: 'in' });
      await waitUntil('ping replies', async () => seqs().length >= 50, 10_000, 50);
      expect(Number((await stats(2)).buckets[1].packets)).toBe(0);
      const downAt = Date.now() / 1000;
      await ip('link', 'set', b.hostIf, 'down');
      await waitUntil('ping on p3', async () => Number((await stats(2)).buckets[1].packets) > 0, 10_000, 10);
      const at = seqs().length;
      await waitUntil('replies from C', async () => seqs().length >= at + 50, 10_000, 50);
      await ip('link', 'set', b.hostIf, 'up');
      await sleep(1000); // the carrier poll (50 ms), then traffic is back on p2
      const g1 = await stats(2);
      await sleep(500);
      const g2 = await stats(2);
      expect(Number(g2.buckets[0].packets)).toBeGreaterThan(Number(g1.buckets[0].packets));
      expect(Number(g2.buckets[1].packets)).toBe(Number(g1.buckets[1].packets));
      // the first request C saw, against the moment p2's veth went down
      await capC.stop();
      const first = Number((await capC.fields(['frame.time_epoch'], 'icmp.type == 8'))[0][0]);
      const movedMs = Math.round((first - downAt) * 1000);
      expect(movedMs).toBeLessThan(250); // the carrier poll is 50 ms; a ping leaves every 20 ms
      // replies lost over the whole run: gaps in the sequence numbers
      const got = seqs();
      const lost = got[got.length - 1] - got[0] + 1 - new Set(got).size;
      console.log(`fast_failover: traffic on p3 ${movedMs} ms after p2's veth went down; ${lost} of ${got[got.length - 1] - got[0] + 1} pings lost over down and up`);
      expect(lost).toBeLessThanOrEqual(6);
    } finally {
      pinger.kill('SIGINT');
      await removeCapture(capC);
      await ip('link', 'set', b.hostIf, 'up').catch(() => undefined);
    }
  });

  it('admin down on a watched port fails over too; deleting a group or a port in use is refused', async () => {
    await mustCli(['port', 'set', 'p2', '--down']);
    const before = Number((await stats(2)).buckets[1].packets);
    const r = await ping(a.ns, '10.0.0.2', { count: 3, intervalS: 0.05 });
    expect(r.received).toBe(3);
    expect(Number((await stats(2)).buckets[1].packets) - before).toBe(3);
    await mustCli(['port', 'set', 'p2', '--up']);
    const del = await sw.cli(['group', 'del', '2']);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain('group 2 is used by 1 flow(s)');
    const port = await sw.cli(['port', 'del', 'p3']);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain("port 'p3' is used by group 1, 2, 3: change or delete the group first");
    const dup = await sw.cli(['group', 'add', 'group_id=2,type=indirect,bucket=actions=output:p2']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('group 2 already exists');
  });

  it('groups survive a daemon restart and a data-plane SIGKILL', async () => {
    const list = await sw.cliJson<{ text: string }[]>(['group', 'list']);
    expect(list.map((g) => g.text)).toEqual([
      `group_id=1,type=select,bucket=weight:1,actions=output:p2,bucket=weight:3,actions=mod_dl_dst:${c.nsMac},output:p3`,
      `group_id=2,type=fast_failover,bucket=watch_port:p2,actions=output:p2,bucket=watch_port:p3,actions=mod_dl_dst:${c.nsMac},output:p3`,
      `group_id=3,type=all,bucket=actions=output:p2,bucket=actions=mod_dl_dst:${c.nsMac},output:p3`,
    ]);
    await sw.restartDaemon();
    expect(await sw.cliJson<{ text: string }[]>(['group', 'list'])).toEqual(list);
    expect((await sw.cliJson<GroupStatsJson[]>(['group', 'stats'])).map((g) => [g.id, g.type, g.flows])).toEqual([
      [1, 'select', 1],
      [2, 'fast_failover', 1],
      [3, 'all', 1],
    ]);

    const pid = (await sw.cliJson<any>(['status'])).pid;
    process.kill(pid, 'SIGKILL');
    await waitUntil('a new data plane', async () => {
      const s = await sw.cliJson<any>(['status']);
      return s.dataplane === 'connected' && s.pid && s.pid !== pid ? s : undefined;
    }, 30_000, 100);
    expect(await sw.cliJson<{ text: string }[]>(['group', 'list'])).toEqual(list);
    const after = await sw.cliJson<GroupStatsJson[]>(['group', 'stats']);
    expect(after.map((g) => [g.id, g.type, g.flows, g.packets])).toEqual([
      [1, 'select', 1, '0'],
      [2, 'fast_failover', 1, '0'],
      [3, 'all', 1, '0'],
    ]);
    await waitUntil('ping through group 2 again', async () => (await ping(a.ns, '10.0.0.2', { count: 1 })).received === 1, 20_000, 200);
    expect(Number((await stats(2)).buckets[0].packets)).toBeGreaterThan(0);
  });
});
