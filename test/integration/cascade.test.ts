/**
 * A two-table cascade: table 0 classifies (ICMP goes on to table 1, anything
 * else is dropped), table 1 forwards by input port. Each entry's counters
 * show the path the packets took.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { PING_FRAME, WAIT, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { ping, scapySend } from '../helpers/traffic';

describe.skipIf(!IS_ROOT)('a two-table cascade: table 0 classifies, table 1 forwards', () => {
  const topo = new Topology('syc');
  let sw: Switch;
  let a: Veth;
  let b: Veth;

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      flows: [
        'table=0,priority=100,icmp,actions=goto_table:1',
        'table=0,priority=0,actions=drop',
        'table=1,priority=100,in_port=p1,actions=output:p2',
        'table=1,priority=100,in_port=p2,actions=output:p1',
      ],
    });
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('ping crosses both tables; every entry on the path counts it once', async () => {
    const r = await ping(a.ns, '10.0.0.2', { count: 5 });
    expect(r).toMatchObject({ transmitted: 5, received: 5 });

    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'icmp')).toMatchObject({ packets: '10', bytes: String(10 * PING_FRAME), actions: 'goto_table:1' });
    expect(findFlow(flows, 0, 0, '')).toMatchObject({ packets: '0' });
    expect(findFlow(flows, 1, 100, 'in_port=p1')).toMatchObject({ packets: '5', bytes: String(5 * PING_FRAME) });
    expect(findFlow(flows, 1, 100, 'in_port=p2')).toMatchObject({ packets: '5', bytes: String(5 * PING_FRAME) });
  });

  it('traffic table 0 does not classify stops there', async () => {
    // Three UDP datagrams: not ICMP, so table 0's catch-all drops them.
    const udp = `Ether(src='${a.nsMac}', dst='${b.nsMac}')/IP(src='10.0.0.1', dst='10.0.0.2')/UDP(sport=4000, dport=5000)/Raw(b'x'*18)`;
    await scapySend(a.ns, a.nsIf, [udp, udp, udp]);

    await vi.waitFor(async () => expect(findFlow(await flowDump(sw), 0, 0, '').packets).toBe('3'), WAIT);
    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 0, '')).toMatchObject({ packets: '3', bytes: String(3 * (14 + 20 + 8 + 18)) });
    expect(findFlow(flows, 0, 100, 'icmp').packets).toBe('10');
    expect(findFlow(flows, 1, 100, 'in_port=p1').packets).toBe('5');
    expect(findFlow(flows, 1, 100, 'in_port=p2').packets).toBe('5');

    const p1 = await portStats(sw, 'p1');
    expect(p1).toMatchObject({ rxPackets: '8', txPackets: '5' });
    expect(nonZeroDrops(p1)).toEqual({ action_drop: 3 });
  });

  it('table list shows both tables with their entries', async () => {
    const tables = await sw.cliJson<{ id: number; flows: number; miss: string }[]>(['table', 'list']);
    expect(tables.filter((t) => t.id <= 1).map((t) => [t.id, t.flows])).toEqual([
      [0, 2],
      [1, 2],
    ]);
  });
});
