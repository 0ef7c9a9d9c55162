/**
 * VLAN partitions with port VLAN modes, on real traffic: four hosts on four
 * af_packet access ports, two in VLAN 10 and two in VLAN 20, and a trunk
 * host, behind one flow that floods everything everywhere. Within a tenant
 * ping passes; across tenants it fails, and every frame that would have
 * crossed is counted vlan_filtered on the port that refused it. On the
 * trunk, a capture shows each tenant's frames with its VID; a frame
 * injected there with a VID the trunk does not carry is counted and reaches
 * nobody. The settings are made with the CLI and survive a daemon restart
 * and a data-plane kill.
 *
 * The kernel here has no 802.1Q module: the trunk host cannot answer tagged
 * frames, so captures on it are the evidence there.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setStaticArp, Topology, type Veth } from '../../src/lib/netns';
import { PING_FRAME, WAIT, afPacket } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { nonZeroDrops, portStats, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping, removeCapture, scapySend, startCapture, type Capture } from '../helpers/traffic';

const TAGGED = PING_FRAME + 4;

describe.skipIf(!IS_ROOT)('VLAN partitions: access and trunk ports', () => {
  const topo = new Topology('syv');
  const caps: Capture[] = [];
  let sw: Switch;
  let h: Veth[]; // h[0], h[1]: VLAN 10 (p1, p2); h[2], h[3]: VLAN 20 (p3, p4); h[4]: the trunk (p5)

  const clear = async () => expect((await sw.cli(['port', 'stats', '--clear'])).code).toBe(0);
  const filtered = async (p: string) => nonZeroDrops(await portStats(sw, p)).vlan_filtered ?? 0;

  beforeAll(async () => {
    h = [];
    for (let i = 1; i <= 5; i++) h.push(await topo.addHost(`10.0.0.${i}/24`));
    // everyone knows everyone: only the switch keeps tenants apart
    for (const a of h) for (const b of h) if (a !== b) await setStaticArp(a.ns, a.nsIf, b.ip!, b.nsMac);
    sw = await startSwitch({
      ports: h.map((v, i) => ({ name: `p${i + 1}`, devargs: afPacket(i, v) })),
      flows: ['table=0,priority=1,actions=flood'],
    });
    for (const [p, args] of [
      ['p1', ['--vlan-mode', 'access', '--tag', '10']],
      ['p2', ['--vlan-mode', 'access', '--tag', '10']],
      ['p3', ['--vlan-mode', 'access', '--tag', '20']],
      ['p4', ['--vlan-mode', 'access', '--tag', '20']],
      ['p5', ['--vlan-mode', 'trunk', '--trunks', '10,20']],
    ] as const) {
      const r = await sw.cli(['port', 'set', p, ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    for (const c of caps) await removeCapture(c);
    await sw?.stop();
    await topo.cleanup();
  });

  it('port list shows each mode', async () => {
    const ports = await sw.cliJson<any[]>(['port', 'list']);
    expect(ports.map((p) => [p.name, p.vlan])).toEqual([
      ['p1', 'access 10'],
      ['p2', 'access 10'],
      ['p3', 'access 20'],
      ['p4', 'access 20'],
      ['p5', 'trunk 10,20'],
    ]);
    const r = await sw.cli(['port', 'list']);
    expect(r.stdout).toMatch(/ p5 .* trunk 10,20 /);
  });

  it('within a tenant ping passes; the trunk sees its frames tagged with its VID', async () => {
    const cap = await startCapture(h[4].ns, h[4].nsIf, { direction: 'in' });
    caps.push(cap);
    expect(await ping(h[0].ns, '10.0.0.2', { count: 3 })).toMatchObject({ transmitted: 3, received: 3 });
    expect(await ping(h[2].ns, '10.0.0.4', { count: 3 })).toMatchObject({ transmitted: 3, received: 3 });
    await cap.stop();
    const frames = await cap.fields(['frame.len', 'vlan.id', 'ip.src', 'ip.dst', 'icmp.type']);
    const row = (vid: string, src: string, dst: string, type: string) => [String(TAGGED), vid, src, dst, type];
    expect(frames).toEqual([
      ...[1, 2, 3].flatMap(() => [row('10', '10.0.0.1', '10.0.0.2', '8'), row('10', '10.0.0.2', '10.0.0.1', '0')]),
      ...[1, 2, 3].flatMap(() => [row('20', '10.0.0.3', '10.0.0.4', '8'), row('20', '10.0.0.4', '10.0.0.3', '0')]),
    ]);
  });

  it('across tenants ping fails, and each frame that would have crossed is counted vlan_filtered', async () => {
    await clear();
    const atH3 = await startCapture(h[2].ns, h[2].nsIf, { direction: 'in' });
    caps.push(atH3);
    expect(await ping(h[0].ns, '10.0.0.3', { count: 3, waitS: 1 })).toMatchObject({ transmitted: 3, received: 0 });
    await atH3.stop();
    expect(await atH3.fields(['frame.len'])).toEqual([]); // h3 never saw them
    expect(await ping(h[3].ns, '10.0.0.2', { count: 2, waitS: 1 })).toMatchObject({ transmitted: 2, received: 0 });
    // h1's 3 requests were refused by p3 and p4 (VLAN 20), h4's 2 by p1 and p2 (VLAN 10)
    expect(await filtered('p1')).toBe(2);
    expect(await filtered('p2')).toBe(2);
    expect(await filtered('p3')).toBe(3);
    expect(await filtered('p4')).toBe(3);
    expect(await filtered('p5')).toBe(0);
    // each went to its own tenant (untagged) and to the trunk (tagged)
    expect((await portStats(sw, 'p2')).txPackets).toBe('3');
    expect((await portStats(sw, 'p3')).txPackets).toBe('2');
    expect((await portStats(sw, 'p5')).txPackets).toBe('5');
  });

  it('a frame injected on the trunk with a VID it does not carry is counted and reaches nobody; an allowed one reaches its tenant untagged', async () => {
    await clear();
    const atH4 = await startCapture(h[3].ns, h[3].nsIf, { direction: 'in' });
    const atTrunk = await startCapture(h[4].ns, h[4].nsIf, { direction: 'in' });
    caps.push(atH4, atTrunk);
    const frame = (vid: number) =>
      `Ether(src='${h[4].nsMac}', dst='${h[3].nsMac}')/Dot1Q(vlan=${vid})/IP(src='10.0.0.5', dst='10.0.0.4')/ICMP(type=8, id=0x5359, seq=${vid})/Raw(b'\\x00'*56)`;
    await scapySend(h[4].ns, h[4].nsIf, [frame(30), frame(20)]);
    // VID 30: dropped as it came in. VID 20: to h4 untagged, and h4's reply back to the trunk tagged.
    await vi.waitFor(async () => {
      const p5 = await portStats(sw, 'p5');
      expect(p5).toMatchObject({ rxPackets: '2', txPackets: '1' });
      expect(nonZeroDrops(p5)).toEqual({ vlan_filtered: 1 });
    }, WAIT);
    await atH4.stop();
    await atTrunk.stop();
    expect(await atH4.fields(['frame.len', 'vlan.id', 'icmp.type', 'icmp.seq'])).toEqual([[String(PING_FRAME), '', '8', '20']]);
    expect(await atTrunk.fields(['frame.len', 'vlan.id', 'ip.src', 'icmp.type', 'icmp.seq'])).toEqual([[String(TAGGED), '20', '10.0.0.4', '0', '20']]);
    // the request and the reply reached p1 and p2 (VLAN 10) only to be refused
    for (const p of ['p1', 'p2']) {
      expect((await portStats(sw, p)).txPackets).toBe('0');
      expect(await filtered(p)).toBe(2);
    }
  });

  it('a trace shows the tag the port gives, the frame each port would send, and the ports that refuse it', async () => {
    await clear();
    const r = await sw.cli(['trace', 'in_port=p1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^packet  icmp,in_port=p1,.*dl_vlan=10,/);
    // p3 and p4 (VLAN 20) refuse it; p2 gets it untagged, the trunk tagged
    expect(r.stdout).toMatch(/result  output to p2, p5\n\s+p2: 60 bytes, unchanged\n\s+p5: 64 bytes\n/);
    const t = await sw.cli(['trace', 'in_port=p1,dl_vlan=20,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/vlan_filtered/);
    expect(t.stdout).not.toMatch(/output to/);
    expect(await filtered('p1')).toBe(0); // a trace counts nothing
  });

  it('bad settings are refused with a clear error and change nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--vlan-mode', 'access', '--tag', '0'], /VID 0 is out of range 1\.\.4094/],
      [['--vlan-mode', 'access', '--tag', '4096'], /VID 4096 is out of range 1\.\.4094/],
      [['--vlan-mode', 'access'], /an access port needs its VID/],
      [['--vlan-mode', 'trunk', '--trunks', '10,,20'], /'' in '10,,20' is not a VID/],
      [['--vlan-mode', 'trunk', '--trunks', '30-20'], /range 30-20 runs backwards/],
      [['--vlan-mode', 'access', '--tag', '10', '--trunks', '10'], /an access port has no trunks/],
      [['--vlan-mode', 'bridge'], /'bridge' is not a VLAN mode/],
      [['--tag', '10'], /need --vlan-mode/],
      [['--nsh-tag', 'spi=0x1000000'], /spi: 16777216 is out of range 0\.\.16777215/],
      [['--nsh-tag', 'si=3'], /spi: missing/],
    ];
    for (const [args, msg] of cases) {
      const r = await sw.cli(['port', 'set', 'p1', ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(msg);
    }
    // through gRPC, past the CLI's checks: the daemon names the field
    const g = await sw.api.code('PortService', 'UpdatePort', { port: 'p1', vlan: { mode: 'VLAN_MODE_TRUNK', tag: 5 } });
    expect(g).toMatchObject({ code: 3 });
    expect(g.details).toMatch(/vlan\.tag: a trunk port has no access tag/);
    const both = await sw.api.code('PortService', 'UpdatePort', { port: 'p1', nshTag: { spi: 1 }, clearNshTag: true });
    expect(both).toMatchObject({ code: 3, details: 'nsh_tag: give a new NSH tag or clear_nsh_tag, not both' });
    const ports = await sw.cliJson<any[]>(['port', 'list']);
    expect(ports[0].vlan).toBe('access 10');
    expect(ports[0].nshTag).toBeUndefined();
  });

  it('the settings survive a daemon restart and a data-plane kill, and keep the tenants apart', async () => {
    await sw.restartDaemon();
    const want = ['access 10', 'access 10', 'access 20', 'access 20', 'trunk 10,20'];
    expect((await sw.cliJson<any[]>(['port', 'list'])).map((p) => p.vlan)).toEqual(want);
    const before = await sw.cliJson<any>(['status']);
    process.kill(before.pid, 'SIGKILL');
    await waitUntil('a new data plane', async () => {
      const s = await sw.cliJson<any>(['status']);
      return s.dataplane === 'connected' && s.pid && s.pid !== before.pid;
    }, 30_000, 100);
    expect((await sw.cliJson<any[]>(['port', 'list'])).map((p) => p.vlan)).toEqual(want);
    await waitUntil('links up', async () => (await sw.cliJson<any[]>(['port', 'list'])).every((p) => p.linkUp), 20_000, 100);
    await waitUntil('ping within VLAN 10', async () => (await ping(h[0].ns, '10.0.0.2', { count: 1, waitS: 1 })).received === 1, 20_000, 200);
    expect(await ping(h[0].ns, '10.0.0.2', { count: 3 })).toMatchObject({ received: 3 });
    expect(await ping(h[0].ns, '10.0.0.4', { count: 2, waitS: 1 })).toMatchObject({ received: 0 });
  });

  it('config export carries the modes; mode none clears one and the port is plain again', async () => {
    const doc = await sw.cli(['config', 'export']);
    expect(doc.code, doc.stderr).toBe(0);
    expect(doc.stdout).toMatch(/name: p1\n(.*\n)*?\s+vlan:\n\s+mode: access\n\s+tag: 10\n/);
    expect(doc.stdout).toMatch(/name: p5\n(.*\n)*?\s+vlan:\n\s+mode: trunk\n\s+trunks: 10,20\n/);
    const r = await sw.cli(['port', 'set', 'p5', '--vlan-mode', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect((await sw.cliJson<any[]>(['port', 'list']))[4].vlan).toBeUndefined();
    expect((await sw.cli(['config', 'export'])).stdout).not.toMatch(/mode: trunk/);
  });
});
