/**
 * Malformed packets are dropped and counted by reason, on the port they came
 * in by; nothing crashes and forwarding goes on.
 *
 * Frames from a namespace (scapy, raw AF_PACKET) enter by net_af_packet.
 * Two kinds cannot take that road: the kernel will not send a frame shorter
 * than an Ethernet header, and it drops a frame with a cut-short 802.1Q tag
 * on receive (while untagging it) before af_packet sees it. Those come from
 * a pcap file replayed by a net_pcap port.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { WAIT, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { macBytes, ping, scapySend, sendRaw, writePcap } from '../helpers/traffic';

describe.skipIf(!IS_ROOT)('malformed packets are counted by reason and never forwarded', () => {
  const topo = new Topology('sym');
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
      // Everything from p1 goes to p2 and back: whatever is not forwarded
      // was dropped by the parser.
      flows: ['table=0,priority=100,in_port=p1,actions=output:p2', 'table=0,priority=100,in_port=p2,actions=output:p1'],
    });
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('short, bad-header and truncated frames count under their own reasons', async () => {
    const eth = `Ether(src='${a.nsMac}', dst='${b.nsMac}')`;
    const ip = `IP(src='10.0.0.1', dst='10.0.0.2'`;
    // A bare Ethernet header that says IPv4 follows: 14 bytes, nothing after.
    const bareHeader = Buffer.concat([macBytes(b.nsMac), macBytes(a.nsMac), Buffer.from([0x08, 0x00])]);
    await sendRaw(a.ns, a.nsIf, [bareHeader]);
    await scapySend(a.ns, a.nsIf, [
      // ip_truncated: total length 200, frame carries 28 bytes of IP.
      `${eth}/${ip}, len=200)/ICMP()`,
      // ip_bad_header: IHL 3 (under the minimum of 5).
      `${eth}/${ip}, ihl=3)/ICMP()`,
      // ip_bad_header: version 5 behind EtherType IPv4.
      `${eth}/${ip}, version=5)/ICMP()`,
      // l4_truncated: TCP header cut to 8 of its 20 bytes.
      `${eth}/${ip}, proto=6)/Raw(b'\\x00'*8)`,
      // l4_truncated: UDP header cut to 4 of its 8 bytes.
      `${eth}/${ip}, proto=17)/Raw(b'\\x00'*4)`,
    ]);

    const want = { ip_truncated: 2, ip_bad_header: 2, l4_truncated: 2 };
    await vi.waitFor(async () => expect(nonZeroDrops(await portStats(sw, 'p1'))).toEqual(want), WAIT);
    const p1 = await portStats(sw, 'p1');
    expect(p1.rxPackets).toBe('6');
    expect((await portStats(sw, 'p2')).txPackets).toBe('0');
  });

  it('runts and cut-short VLAN tags from a pcap port count as runt and l2_truncated', async () => {
    const file = path.join(sw.runDir, 'short.pcap');
    // An Ethernet header saying 802.1Q, then 2 of the tag's 4 bytes.
    const cutTag = Buffer.concat([macBytes(b.nsMac), macBytes(a.nsMac), Buffer.from([0x81, 0x00, 0x00, 0x0a])]);
    await writePcap(file, [Buffer.alloc(1, 1), Buffer.alloc(10, 2), Buffer.alloc(13, 3), cutTag]);
    const add = await sw.cli(['port', 'add', 'cap', `net_pcap0,rx_pcap=${file}`]);
    expect(add.code, add.stderr).toBe(0);
    await vi.waitFor(async () => expect(nonZeroDrops(await portStats(sw, 'cap'))).toEqual({ runt: 3, l2_truncated: 1 }), WAIT);
    expect((await portStats(sw, 'cap')).rxPackets).toBe('4');
    await fs.rm(file, { force: true });
  });

  it('the switch totals agree, and forwarding goes on', async () => {
    const stats = await sw.cliJson<{ drops: Record<string, string> }>(['stats']);
    expect(nonZeroDrops(stats)).toEqual({ runt: 3, ip_truncated: 2, ip_bad_header: 2, l4_truncated: 2, l2_truncated: 1 });

    const r = await ping(a.ns, '10.0.0.2', { count: 3 });
    expect(r).toMatchObject({ transmitted: 3, received: 3 });
    const p1 = await portStats(sw, 'p1');
    expect(p1).toMatchObject({ rxPackets: '9', txPackets: '3' });
  });
});
