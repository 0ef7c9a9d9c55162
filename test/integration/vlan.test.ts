/**
 * VLAN tagging: push_vlan on the way in from an access port, pop_vlan on the
 * way out of it. A capture on the trunk side shows the 802.1Q tag with the
 * right VID; tagged frames injected on the trunk (scapy) reach the access
 * host untagged, and its replies go back tagged.
 *
 * The kernel here has no 802.1Q module, so the trunk host cannot answer
 * tagged frames itself: the captures are the evidence.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { PING_FRAME, WAIT, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { ping, removeCapture, scapySend, startCapture, type Capture } from '../helpers/traffic';

const TAGGED = PING_FRAME + 4;

describe.skipIf(!IS_ROOT)('VLAN: push_vlan towards the trunk, pop_vlan towards the access port', () => {
  const topo = new Topology('syl');
  const caps: Capture[] = [];
  let sw: Switch;
  let access: Veth; // 10.0.0.1 on p1
  let trunk: Veth; // 10.0.0.2 on p2

  beforeAll(async () => {
    [access, trunk] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, access) },
        { name: 'p2', devargs: afPacket(1, trunk) },
      ],
      flows: [
        'table=0,priority=100,in_port=p1,actions=push_vlan:0x8100,mod_vlan_vid:10,output:p2',
        'table=0,priority=100,in_port=p2,dl_vlan=10,actions=pop_vlan,output:p1',
      ],
    });
  });

  afterAll(async () => {
    for (const c of caps) await removeCapture(c);
    await sw?.stop();
    await topo.cleanup();
  });

  it('frames from the access port reach the trunk tagged with VID 10', async () => {
    const cap = await startCapture(trunk.ns, trunk.nsIf, { direction: 'in' });
    caps.push(cap);
    const r = await ping(access.ns, '10.0.0.2', { count: 5 });
    await cap.stop();
    // The trunk host drops tagged frames (no VLAN interface): no replies.
    expect(r).toMatchObject({ transmitted: 5, received: 0 });

    const frames = await cap.fields(['frame.len', 'vlan.id', 'vlan.etype', 'ip.src', 'ip.dst', 'icmp.type']);
    expect(frames).toEqual(Array(5).fill([String(TAGGED), '10', '0x0800', '10.0.0.1', '10.0.0.2', '8']));

    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'in_port=p1')).toMatchObject({ packets: '5', bytes: String(5 * PING_FRAME) });
    expect(await portStats(sw, 'p2')).toMatchObject({ txPackets: '5', txBytes: String(5 * TAGGED) });
  });

  it('tagged frames from the trunk reach the access host untagged; its replies go back tagged', async () => {
    const atAccess = await startCapture(access.ns, access.nsIf, { direction: 'in' });
    const atTrunk = await startCapture(trunk.ns, trunk.nsIf, { direction: 'in' });
    caps.push(atAccess, atTrunk);
    const req = (seq: number) =>
      `Ether(src='${trunk.nsMac}', dst='${access.nsMac}')/Dot1Q(vlan=10)/` +
      `IP(src='10.0.0.2', dst='10.0.0.1')/ICMP(type=8, id=0x5359, seq=${seq})/Raw(b'\\x00'*56)`;
    await scapySend(trunk.ns, trunk.nsIf, [req(1), req(2), req(3)]);
    await atAccess.stop();
    await atTrunk.stop();

    expect(await atAccess.fields(['frame.len', 'vlan.id', 'icmp.type', 'icmp.seq'])).toEqual([
      [String(PING_FRAME), '', '8', '1'],
      [String(PING_FRAME), '', '8', '2'],
      [String(PING_FRAME), '', '8', '3'],
    ]);
    expect(await atTrunk.fields(['frame.len', 'vlan.id', 'icmp.type', 'icmp.seq'])).toEqual([
      [String(TAGGED), '10', '0', '1'],
      [String(TAGGED), '10', '0', '2'],
      [String(TAGGED), '10', '0', '3'],
    ]);

    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'in_port=p2,dl_vlan=10')).toMatchObject({ packets: '3', bytes: String(3 * TAGGED) });
    expect(findFlow(flows, 0, 100, 'in_port=p1').packets).toBe('8');
  });

  it('a frame tagged with another VID matches nothing and is counted as a table miss', async () => {
    await scapySend(trunk.ns, trunk.nsIf, [
      `Ether(src='${trunk.nsMac}', dst='${access.nsMac}')/Dot1Q(vlan=20)/IP(src='10.0.0.2', dst='10.0.0.1')/ICMP()`,
    ]);
    await vi.waitFor(async () => {
      const p2 = await portStats(sw, 'p2');
      expect(p2.rxPackets).toBe('4');
      expect(nonZeroDrops(p2)).toEqual({ table_miss: 1 });
    }, WAIT);
  });
});
