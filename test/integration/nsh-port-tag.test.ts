/**
 * The NSH port tag on real traffic: two hosts on ports that tag everything
 * they receive with their own service path (n1: SPI 0x123, n2: SPI 0x124,
 * SI 200, TTL 20) and pop it toward their host. Flows match nsh_spi only;
 * ping passes end to end and neither host ever sees NSH, while a third port
 * that gets a copy of each packet shows the NSH header, field by field, in
 * tshark's dissector. The tag survives a daemon restart; --no-nsh-tag takes
 * it away (the host then gets the frames still in their NSH header).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setStaticArp, Topology, type Veth } from '../../src/lib/netns';
import { PING_FRAME, WAIT, afPacket } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { ping, removeCapture, startCapture, type Capture } from '../helpers/traffic';

const NSH_FRAME = 14 + 24 + PING_FRAME; // outer Ethernet, NSH MD type 1, the frame

describe.skipIf(!IS_ROOT)('NSH port tag: push on ingress, pop on egress', () => {
  const topo = new Topology('syt');
  const caps: Capture[] = [];
  let sw: Switch;
  let a: Veth; // 10.0.0.1 on n1
  let b: Veth; // 10.0.0.2 on n2
  let c: Veth; // the observer, on n3 (plain)

  beforeAll(async () => {
    a = await topo.addHost('10.0.0.1/24');
    b = await topo.addHost('10.0.0.2/24');
    c = await topo.addHost('10.0.0.3/24');
    await setStaticArp(a.ns, a.nsIf, b.ip!, b.nsMac);
    await setStaticArp(b.ns, b.nsIf, a.ip!, a.nsMac);
    sw = await startSwitch({
      ports: [
        { name: 'n3', devargs: afPacket(2, c) },
      ],
      flows: [],
    });
    for (const [name, v, n, tag] of [
      ['n1', a, 0, 'spi=0x123'],
      ['n2', b, 1, 'spi=0x124,si=200,ttl=20,c1=0xcafe'],
    ] as const) {
      const r = await sw.cli(['port', 'add', name, afPacket(n, v), '--nsh-tag', tag]);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const f of [
      'table=0,priority=100,in_port=n1,dl_type=0x894f,nsh_spi=0x123,actions=output:n2,output:n3',
      'table=0,priority=100,in_port=n2,dl_type=0x894f,nsh_spi=0x124,actions=output:n1,output:n3',
    ]) {
      const r = await sw.cli(['flow', 'add', f]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    for (const x of caps) await removeCapture(x);
    await sw?.stop();
    await topo.cleanup();
  });

  it('port list shows the tags', async () => {
    const ports = await sw.cliJson<any[]>(['port', 'list']);
    expect(ports.map((p) => [p.name, p.nshTag])).toEqual([
      ['n3', undefined],
      ['n1', 'spi=0x123,si=255,ttl=63'],
      ['n2', 'spi=0x124,si=200,ttl=20,c1=0xcafe,c2=0x0,c3=0x0,c4=0x0'],
    ]);
  });

  it('ping passes end to end, the hosts see no NSH, the observer sees every header field', async () => {
    const atA = await startCapture(a.ns, a.nsIf, { direction: 'in' });
    const atB = await startCapture(b.ns, b.nsIf, { direction: 'in' });
    const atC = await startCapture(c.ns, c.nsIf, { direction: 'in' });
    caps.push(atA, atB, atC);
    expect(await ping(a.ns, '10.0.0.2', { count: 3 })).toMatchObject({ transmitted: 3, received: 3 });
    await vi.waitFor(async () => expect((await portStats(sw, 'n3')).txPackets).toBe('6'), WAIT);
    await atA.stop();
    await atB.stop();
    await atC.stop();
    const plain = (type: string) => [String(PING_FRAME), '0x0800', type];
    expect(await atB.fields(['frame.len', 'eth.type', 'icmp.type'])).toEqual([plain('8'), plain('8'), plain('8')]);
    expect(await atA.fields(['frame.len', 'eth.type', 'icmp.type'])).toEqual([plain('0'), plain('0'), plain('0')]);
    const req = [String(NSH_FRAME), String(0x123), '255', '0x003f', '10.0.0.1', '8'];
    const rep = [String(NSH_FRAME), String(0x124), '200', '0x0014', '10.0.0.2', '0'];
    expect(await atC.fields(['frame.len', 'nsh.spi', 'nsh.si', 'nsh.ttl', 'ip.src', 'icmp.type'])).toEqual([req, rep, req, rep, req, rep]);

    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'in_port=n1').packets).toBe('3');
    expect(findFlow(flows, 0, 100, 'in_port=n2').packets).toBe('3');
    // n1 and n2 sent the frames without the tag; n3 with it
    expect(await portStats(sw, 'n2')).toMatchObject({ txPackets: '3', txBytes: String(3 * PING_FRAME) });
    expect(await portStats(sw, 'n3')).toMatchObject({ txPackets: '6', txBytes: String(6 * NSH_FRAME) });
  });

  it('the tag survives a daemon restart; --no-nsh-tag takes it away', async () => {
    await sw.restartDaemon();
    expect((await sw.cliJson<any[]>(['port', 'list'])).map((p) => p.nshTag ?? '')).toEqual(['', 'spi=0x123,si=255,ttl=63', 'spi=0x124,si=200,ttl=20,c1=0xcafe,c2=0x0,c3=0x0,c4=0x0']);
    expect(await ping(a.ns, '10.0.0.2', { count: 2 })).toMatchObject({ received: 2 });

    const r = await sw.cli(['port', 'set', 'n2', '--no-nsh-tag']);
    expect(r.code, r.stderr).toBe(0);
    expect((await sw.cliJson<any[]>(['port', 'list']))[2].nshTag).toBeUndefined();
    expect((await sw.cli(['port', 'stats', '--clear'])).code).toBe(0);
    // n2 no longer pops: b gets a's requests still in their NSH header, and cannot answer them
    const atB = await startCapture(b.ns, b.nsIf, { direction: 'in' });
    caps.push(atB);
    expect(await ping(a.ns, '10.0.0.2', { count: 2, waitS: 1 })).toMatchObject({ received: 0 });
    await atB.stop();
    const tagged = [String(NSH_FRAME), String(0x123), '10.0.0.1', '8'];
    expect(await atB.fields(['frame.len', 'nsh.spi', 'ip.src', 'icmp.type'])).toEqual([tagged, tagged]);
    expect(await portStats(sw, 'n2')).toMatchObject({ rxPackets: '0', txPackets: '2', txBytes: String(2 * NSH_FRAME) });
    expect(nonZeroDrops(await portStats(sw, 'n2'))).toEqual({});
  });
});
