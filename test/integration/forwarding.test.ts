/**
 * Forwarding between two namespaces through the switch, with exact counts.
 *
 * Two hosts (10.0.0.1, 10.0.0.2) on veth pairs; the switch attaches the host
 * ends, with net_af_packet, and once with net_tap (taps the switch makes,
 * then moved into the namespaces). Forwarding flows let ping through; a drop
 * flow on nw_src blocks it; flow dump --json and port stats --json count
 * exactly the packets sent; deleting the drop flow restores forwarding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, linkMac, moveToNamespace, setStaticArp, uniqueName } from '../../src/lib/netns';
import { ICMP_FORWARD, PING_FRAME, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { ping } from '../helpers/traffic';

const DROP = 'table=0,priority=200,icmp,nw_src=10.0.0.1,actions=drop';

/** The same story on either kind of port. */
function forwardingStory(setup: () => Promise<{ sw: Switch; a: { ns: string }; b: { ns: string } }>) {
  let sw: Switch;
  let a: { ns: string };

  beforeAll(async () => {
    ({ sw, a } = await setup());
  });

  it('forwarding flows let ping through; counters equal the packets sent', async () => {
    const r = await ping(a.ns, '10.0.0.2', { count: 5 });
    expect(r).toMatchObject({ transmitted: 5, received: 5 });

    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'icmp,in_port=p1')).toMatchObject({ packets: '5', bytes: String(5 * PING_FRAME) });
    expect(findFlow(flows, 0, 100, 'icmp,in_port=p2')).toMatchObject({ packets: '5', bytes: String(5 * PING_FRAME) });

    const p1 = await portStats(sw, 'p1');
    const p2 = await portStats(sw, 'p2');
    expect(p1).toMatchObject({ rxPackets: '5', rxBytes: String(5 * PING_FRAME), txPackets: '5', txBytes: String(5 * PING_FRAME) });
    expect(p2).toMatchObject({ rxPackets: '5', rxBytes: String(5 * PING_FRAME), txPackets: '5', txBytes: String(5 * PING_FRAME) });
    expect(nonZeroDrops(p1)).toEqual({});
    expect(nonZeroDrops(p2)).toEqual({});
  });

  it('a drop flow on nw_src blocks ping and counts every request', async () => {
    const add = await sw.cli(['flow', 'add', DROP]);
    expect(add.code, add.stderr).toBe(0);

    const r = await ping(a.ns, '10.0.0.2', { count: 5 });
    expect(r).toMatchObject({ transmitted: 5, received: 0 });

    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 200, 'icmp,nw_src=10.0.0.1')).toMatchObject({ packets: '5', bytes: String(5 * PING_FRAME), actions: 'drop' });
    // The forwarding entries saw nothing more.
    expect(findFlow(flows, 0, 100, 'icmp,in_port=p1').packets).toBe('5');
    expect(findFlow(flows, 0, 100, 'icmp,in_port=p2').packets).toBe('5');

    const p1 = await portStats(sw, 'p1');
    const p2 = await portStats(sw, 'p2');
    expect(p1).toMatchObject({ rxPackets: '10', txPackets: '5' });
    expect(nonZeroDrops(p1)).toEqual({ action_drop: 5 });
    expect(p2).toMatchObject({ rxPackets: '5', txPackets: '5' });
  });

  it('deleting the drop flow restores forwarding', async () => {
    const del = await sw.cli(['flow', 'del', '--strict', DROP.replace(/,actions=.*/, '')]);
    expect(del.code, del.stderr).toBe(0);
    const flows = await flowDump(sw);
    expect(flows.filter((f) => f.priority === 200)).toEqual([]);

    const r = await ping(a.ns, '10.0.0.2', { count: 5 });
    expect(r).toMatchObject({ transmitted: 5, received: 5 });

    const after = await flowDump(sw);
    expect(findFlow(after, 0, 100, 'icmp,in_port=p1').packets).toBe('10');
    expect(findFlow(after, 0, 100, 'icmp,in_port=p2').packets).toBe('10');
    const p1 = await portStats(sw, 'p1');
    expect(p1).toMatchObject({ rxPackets: '15', txPackets: '10' });
    expect(nonZeroDrops(p1)).toEqual({ action_drop: 5 });
  });
}

describe.skipIf(!IS_ROOT)('forwarding over net_af_packet on veth pairs', () => {
  const topo = new Topology('syf');
  let sw: Switch | undefined;

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  forwardingStory(async () => {
    const [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      flows: ICMP_FORWARD,
    });
    return { sw, a, b };
  });
});

describe.skipIf(!IS_ROOT)('forwarding over net_tap, taps moved into namespaces', () => {
  const topo = new Topology('syt');
  let sw: Switch | undefined;

  afterAll(async () => {
    await sw?.stop(); // the taps go with the data plane
    await topo.cleanup();
  });

  forwardingStory(async () => {
    const nsA = await topo.addNamespace();
    const nsB = await topo.addNamespace();
    const tapA = uniqueName('syta');
    const tapB = uniqueName('sytb');
    // The tap PMD configures its interface by name in the host namespace:
    // start the ports first, then move the interfaces.
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: `net_tap0,iface=${tapA}` },
        { name: 'p2', devargs: `net_tap1,iface=${tapB}` },
      ],
      flows: ICMP_FORWARD,
      waitLinkUp: false,
    });
    await moveToNamespace(tapA, nsA, { address: '10.0.0.1/24' });
    await moveToNamespace(tapB, nsB, { address: '10.0.0.2/24' });
    await setStaticArp(nsA, tapA, '10.0.0.2', await linkMac(tapB, nsB));
    await setStaticArp(nsB, tapB, '10.0.0.1', await linkMac(tapA, nsA));
    // While the taps were up in the host namespace, the host's kernel sent
    // IPv6 chatter into them: start the counts from here. (The tap PMD reads
    // link state by name in the host namespace, so after the move it may
    // report the link down; forwarding does not depend on it.)
    const clear = await sw.cli(['port', 'stats', '--clear']);
    expect(clear.code, clear.stderr).toBe(0);
    const flows = await flowDump(sw);
    // Only ICMP entries count, and nothing ICMP has crossed yet.
    expect(flows.map((f) => f.packets)).toEqual(['0', '0']);
    return { sw, a: { ns: nsA }, b: { ns: nsB } };
  });
});
