/**
 * 9000-byte frames end to end over net_af_packet, and honest MTU limits.
 *
 * Two hosts on veth pairs with MTU 9000 on both ends; the switch attaches
 * the host ends with the frame size jumbo frames need on af_packet
 * (framesz=10240,blocksz=20480) and `port set --mtu 9000`. A ping with
 * don't-fragment and 8972 data bytes (a 9014-byte frame) crosses both ways
 * whole, iperf3 runs over it, a frame above the egress port's MTU is counted
 * too_big and never sent truncated, and an af_packet port whose frame size
 * cannot carry an MTU refuses it, naming the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, nsExec, setStaticArp } from '../../src/lib/netns';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, sleep, startSwitch, type Switch } from '../helpers/switch';
import { ping } from '../helpers/traffic';

const JUMBO = 'framesz=10240,blocksz=20480,framecnt=512';
const FRAME_9000 = 8972 + 8 + 20 + 14; // ping -s 8972: ICMP + IPv4 + Ethernet

describe.skipIf(!IS_ROOT)('jumbo frames over net_af_packet', () => {
  const topo = new Topology('syj');
  let sw: Switch | undefined;
  let a: { ns: string; hostIf: string };
  let b: { ns: string; hostIf: string };
  let c: { ns: string; hostIf: string };

  beforeAll(async () => {
    const ha = await topo.addHost('10.0.0.1/24', { mtu: 9000 });
    const hb = await topo.addHost('10.0.0.2/24', { mtu: 9000 });
    const hc = await topo.addHost('10.0.0.3/24', { mtu: 9000 });
    await setStaticArp(ha.ns, ha.nsIf, hb.ip!, hb.nsMac);
    await setStaticArp(hb.ns, hb.nsIf, ha.ip!, ha.nsMac);
    [a, b, c] = [ha, hb, hc];
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: `net_af_packet0,iface=${ha.hostIf},${JUMBO}` },
        { name: 'p2', devargs: `net_af_packet1,iface=${hb.hostIf},${JUMBO}` },
      ],
      flows: ['table=0,priority=10,in_port=p1,actions=output:p2', 'table=0,priority=10,in_port=p2,actions=output:p1'],
    });
    for (const p of ['p1', 'p2']) {
      const r = await sw.cli(['port', 'set', p, '--mtu', '9000']);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('an af_packet port refuses an MTU its frame size cannot carry, naming the limit', async () => {
    const add = await sw!.cli(['port', 'add', 'p3', `net_af_packet2,iface=${c.hostIf}`, '--mtu', '9000']);
    expect(add.code).not.toBe(0);
    expect(add.stderr).toMatch(/MTU 9000 is above what net_af_packet carries with framesz=2048 \(at most 1902\)/);
    const ok = await sw!.cli(['port', 'add', 'p3', `net_af_packet2,iface=${c.hostIf}`]);
    expect(ok.code, ok.stderr).toBe(0);
    const set = await sw!.cli(['port', 'set', 'p3', '--mtu', '9000']);
    expect(set.code).not.toBe(0);
    expect(set.stderr).toMatch(/at most 1902.*framesz=10240,blocksz=20480/);
    const ports = await sw!.cliJson<any[]>(['port', 'list']);
    expect(ports.find((p) => p.name === 'p3').mtu).toBe(1500);
    expect(ports.find((p) => p.name === 'p1').mtu).toBe(9000);
    const del = await sw!.cli(['port', 'del', 'p3']);
    expect(del.code, del.stderr).toBe(0);
  });

  it('ping -M do -s 8972 crosses whole, both ways', async () => {
    await sw!.cli(['port', 'stats', '--clear']);
    const ab = await nsExec(a.ns, ['ping', '-n', '-q', '-M', 'do', '-s', '8972', '-c', '5', '-i', '0.2', '-W', '1', '10.0.0.2']);
    expect(ab.stdout).toMatch(/5 packets transmitted, 5 received/);
    const ba = await nsExec(b.ns, ['ping', '-n', '-q', '-M', 'do', '-s', '8972', '-c', '5', '-i', '0.2', '-W', '1', '10.0.0.1']);
    expect(ba.stdout).toMatch(/5 packets transmitted, 5 received/);

    const p1 = await portStats(sw!, 'p1');
    const p2 = await portStats(sw!, 'p2');
    // 5 requests and 5 replies each way: 10 frames of 9014 bytes in and out of each port.
    expect(p1).toMatchObject({ rxPackets: '10', rxBytes: String(10 * FRAME_9000), txPackets: '10', txBytes: String(10 * FRAME_9000) });
    expect(p2).toMatchObject({ rxPackets: '10', rxBytes: String(10 * FRAME_9000), txPackets: '10', txBytes: String(10 * FRAME_9000) });
    expect(nonZeroDrops(p1)).toEqual({});
    expect(nonZeroDrops(p2)).toEqual({});
  });

  it('iperf3 (TCP) runs over MTU 9000 with 9014-byte frames', async () => {
    await sw!.cli(['port', 'stats', '--clear']);
    topo.spawn(b.ns, ['iperf3', '-s', '-1', '-p', '5399']);
    await sleep(500);
    const r = await nsExec(a.ns, ['iperf3', '-c', '10.0.0.2', '-p', '5399', '-t', '2', '-J'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const j = JSON.parse(r.stdout);
    const bps = j.end.sum_received.bits_per_second as number;
    expect(bps).toBeGreaterThan(1e6);
    expect(j.start.tcp_mss_default ?? j.start.tcp_mss ?? 8948).toBeGreaterThan(8000);
    // The data direction carried jumbo segments: many frames near 9014 bytes.
    const p2 = await portStats(sw!, 'p2');
    expect(Number(p2.txBytes) / Number(p2.txPackets)).toBeGreaterThan(8000);
    expect(nonZeroDrops(p2)).toEqual({});
  });

  it('a frame above the egress port MTU is counted too_big, never truncated', async () => {
    const set = await sw!.cli(['port', 'set', 'p2', '--mtu', '1500']);
    expect(set.code, set.stderr).toBe(0);
    await sw!.cli(['port', 'stats', '--clear']);
    const flowsBefore = await flowDump(sw!);
    const before = Number(findFlow(flowsBefore, 0, 10, 'in_port=p1').packets);
    const r = await ping(a.ns, '10.0.0.2', { count: 3, size: 8972 });
    expect(r).toMatchObject({ transmitted: 3, received: 0 });
    const p1 = await portStats(sw!, 'p1');
    const p2 = await portStats(sw!, 'p2');
    expect(p1).toMatchObject({ rxPackets: '3', rxBytes: String(3 * FRAME_9000) });
    expect(p2).toMatchObject({ txPackets: '0', txBytes: '0' });
    expect(nonZeroDrops(p2)).toEqual({ too_big: 3 });
    expect(nonZeroDrops(p1)).toEqual({});
    const flows = await flowDump(sw!);
    expect(Number(findFlow(flows, 0, 10, 'in_port=p1').packets) - before).toBe(3);
    // A frame within the MTU still goes.
    const small = await ping(a.ns, '10.0.0.2', { count: 2, size: 1472 });
    expect(small).toMatchObject({ transmitted: 2, received: 2 });
    await sw!.cli(['port', 'set', 'p2', '--mtu', '9000']);
  });
});
