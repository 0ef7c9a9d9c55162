/**
 * Link aggregation: a bond port made with DPDK's bonding PMD, with real
 * traffic.
 *
 * Host A is a namespace whose Linux bridge br0 (10.0.0.1) has two veths;
 * their host ends are the bond's members (net_af_packet). The kernel here has
 * no bonding driver, so the bridge is what lets both members reach host A.
 * Host B (10.0.0.2) is on a plain port p2. Flows join bond0 and p2.
 *
 * - bad input (an unknown mode, no members, a member that does not probe)
 *   is refused with the culprit named, and leaves nothing behind;
 * - active-backup: ping crosses bond0; taking the active member's veth
 *   down moves the traffic to the other one with at most a few losses, and
 *   the port list shows which member is active;
 * - a daemon restart leaves the bond alone; a data-plane SIGKILL replays it;
 * - balance-xor with l34: UDP flows spread over both members, each flow on
 *   one member;
 * - port set works on a bond as on any port (admin state, MTU), and a
 *   member device cannot be a port of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, ip, nsMustRun, setStaticArp, type Veth } from '../../src/lib/netns';
import { afPacket } from '../helpers/hosts';
import { GrpcStatus } from '../helpers/grpc';
import { IS_ROOT } from '../helpers/paths';
import { sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping, removeCapture, scapySend, startCapture, type Capture } from '../helpers/traffic';

const A_MAC = '02:00:00:00:0a:01';

interface MemberJson {
  devargs: string;
  linkUp: boolean;
  active: boolean;
  attached: boolean;
  rxPackets: string;
  txPackets: string;
}
interface PortJson {
  id: number;
  name: string;
  mtu: number;
  adminUp: boolean;
  linkUp: boolean;
  devargs: string;
  driver: string;
  bond?: { mode: string; xmitPolicy: string; primary: string; members: MemberJson[] };
}

describe.skipIf(!IS_ROOT)('link aggregation: bond ports', () => {
  const topo = new Topology('bd');
  let sw: Switch;
  let nsA: string;
  let m1: Veth; // the members' veths: host ends attached, inner ends in br0
  let m2: Veth;
  let b: Veth;

  const member = (n: number, v: Veth) => `net_af_packet${n},iface=${v.hostIf},framecnt=4096`;
  const listPorts = () => sw.cliJson<PortJson[]>(['port', 'list']);
  const bond0 = async () => (await listPorts()).find((p) => p.name === 'bond0');
  const activeMembers = async () => ((await bond0())?.bond?.members ?? []).filter((m) => m.active);

  beforeAll(async () => {
    nsA = await topo.addNamespace();
    await nsMustRun(nsA, ['ip', 'link', 'add', 'br0', 'address', A_MAC, 'type', 'bridge']);
    await nsMustRun(nsA, ['sysctl', '-qw', 'net.ipv6.conf.br0.disable_ipv6=1']);
    await nsMustRun(nsA, ['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'br0']);
    await nsMustRun(nsA, ['ip', 'link', 'set', 'br0', 'up']);
    m1 = await topo.addVeth({ ns: nsA, nsIf: 'a1', hostIf: `${nsA}x` });
    m2 = await topo.addVeth({ ns: nsA, nsIf: 'a2', hostIf: `${nsA}y` });
    for (const v of [m1, m2]) await nsMustRun(nsA, ['ip', 'link', 'set', v.nsIf, 'master', 'br0']);
    b = await topo.addHost('10.0.0.2/24');
    await setStaticArp(nsA, 'br0', '10.0.0.2', b.nsMac);
    await setStaticArp(b.ns, b.nsIf, '10.0.0.1', A_MAC);

    sw = await startSwitch();
    const p2 = await sw.cli(['port', 'add', 'p2', afPacket(1, b)]);
    expect(p2.code, p2.stderr).toBe(0);
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('refuses bad bonds, naming the culprit, and leaves nothing behind', async () => {
    const before = await listPorts();

    const mode = await sw.cli(['port', 'add', 'bond0', '--bond', 'lacp-ish', '--member', member(10, m1)]);
    expect(mode.code).not.toBe(0);
    expect(mode.stderr).toContain("'lacp-ish' is not a bond mode");

    const none = await sw.cli(['port', 'add', 'bond0', '--bond', 'active-backup']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('at least one --member');

    // The daemon checks too (gRPC clients other than the CLI).
    const grpcMode = await sw.api.code('PortService', 'AddPort', { name: 'bond0', bond: { mode: 'BOND_MODE_UNSPECIFIED', members: [member(10, m1)] } });
    expect(grpcMode.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(grpcMode.details).toContain('bond.mode');
    const grpcNone = await sw.api.code('PortService', 'AddPort', { name: 'bond0', bond: { mode: 'BOND_MODE_ACTIVE_BACKUP', members: [] } });
    expect(grpcNone.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(grpcNone.details).toContain('bond.members');

    // The first member probes, the second does not: the first is detached again.
    const bad = 'net_af_packet11,iface=sy-no-such-if';
    const probe = await sw.cli(['port', 'add', 'bond0', '--bond', 'active-backup', '--member', member(10, m1), '--member', bad]);
    expect(probe.code).not.toBe(0);
    expect(probe.stderr).toContain('member 2');
    expect(probe.stderr).toContain(bad);

    expect(await listPorts()).toEqual(before);
  });

  it('active-backup: ping crosses bond0, and survives the active member going down', async () => {
    const add = await sw.cli(['port', 'add', 'bond0', '--bond', 'active-backup', '--member', member(10, m1), '--member', member(11, m2)]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('active-backup');
    for (const f of ['table=0,priority=100,in_port=bond0,actions=output:p2', 'table=0,priority=100,in_port=p2,actions=output:bond0']) {
      const r = await sw.cli(['flow', 'add', f]);
      expect(r.code, r.stderr).toBe(0);
    }
    const port = (await bond0())!;
    expect(port).toMatchObject({ driver: 'net_bonding', devargs: 'net_bonding_bond0', linkUp: true });
    expect(port.bond).toMatchObject({ mode: 'active-backup', primary: '' });
    expect(port.bond!.members.map((m) => [m.devargs, m.linkUp, m.attached])).toEqual([
      [member(10, m1), true, true],
      [member(11, m2), true, true],
    ]);

    expect(await ping(b.ns, '10.0.0.1', { count: 5 })).toMatchObject({ transmitted: 5, received: 5 });
    const active = await activeMembers();
    expect(active.length).toBe(1);
    const [gone, stays] = active[0].devargs === member(10, m1) ? [m1, m2] : [m2, m1];

    // A steady ping; the active member's veth goes down half a second in.
    const running = ping(b.ns, '10.0.0.1', { count: 60, intervalS: 0.05, waitS: 1 });
    await sleep(500);
    await ip('link', 'set', 'dev', gone.hostIf, 'down');
    const r = await running;
    const lost = r.transmitted - r.received;
    console.log(`active-backup failover: ${lost} of ${r.transmitted} pings lost (one every 50 ms)`);
    expect(lost).toBeLessThanOrEqual(5);

    const after = (await bond0())!;
    expect(after.linkUp).toBe(true);
    const byIf = (v: Veth) => after.bond!.members.find((m) => m.devargs.includes(`iface=${v.hostIf},`))!;
    expect(byIf(gone)).toMatchObject({ linkUp: false, active: false, attached: false });
    expect(byIf(stays)).toMatchObject({ linkUp: true, active: true, attached: true });

    // It comes back as a backup; traffic stays where it is.
    await ip('link', 'set', 'dev', gone.hostIf, 'up');
    await waitUntil('the member to come back', async () => {
      const m = (await bond0())!.bond!.members.find((x) => x.devargs.includes(`iface=${gone.hostIf},`))!;
      return m.attached && m.linkUp;
    });
    expect((await activeMembers()).map((m) => m.devargs)).toEqual([byIf(stays).devargs]);
    expect(await ping(b.ns, '10.0.0.1', { count: 5 })).toMatchObject({ transmitted: 5, received: 5 });
  });

  it('a daemon restart leaves the bond alone; a data-plane SIGKILL replays it', async () => {
    const shape = (p: PortJson | undefined) => p && { name: p.name, devargs: p.devargs, mode: p.bond?.mode, members: p.bond?.members.map((m) => m.devargs) };
    const want = shape(await bond0());
    const status = await sw.cliJson<{ pid: number }>(['status']);

    await sw.restartDaemon();
    expect(shape(await bond0())).toEqual(want);
    expect((await sw.cliJson<{ pid: number }>(['status'])).pid).toBe(status.pid);
    expect(await ping(b.ns, '10.0.0.1', { count: 5 })).toMatchObject({ transmitted: 5, received: 5 });

    process.kill(status.pid, 'SIGKILL');
    await waitUntil(
      'a new data plane',
      async () => {
        const s = await sw.cliJson<{ pid: number; dataplane: string }>(['status']);
        return s.dataplane === 'connected' && s.pid && s.pid !== status.pid;
      },
      30_000,
    );
    expect(shape(await bond0())).toEqual(want);
    await waitUntil('ping through the replayed bond', async () => (await ping(b.ns, '10.0.0.1', { count: 1 })).received === 1, 20_000, 200);
    expect(await ping(b.ns, '10.0.0.1', { count: 5 })).toMatchObject({ transmitted: 5, received: 5 });
  });

  it('balance-xor with l34 spreads UDP flows over both members, each flow on one', async () => {
    const del = await sw.cli(['port', 'del', 'bond0']);
    expect(del.code, del.stderr).toBe(0);
    // The same member devices again: deleting the bond detached them.
    const add = await sw.cli(['port', 'add', 'bond0', '--id', '5', '--bond', 'balance-xor', '--xmit-policy', 'l34', '--member', member(10, m1), '--member', member(11, m2)]);
    expect(add.code, add.stderr).toBe(0);
    for (const f of ['table=0,priority=100,in_port=bond0,actions=output:p2', 'table=0,priority=100,in_port=p2,actions=output:bond0']) {
      const r = await sw.cli(['flow', 'add', f]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await bond0())!.bond).toMatchObject({ mode: 'balance-xor', xmitPolicy: 'l34' });
    expect((await activeMembers()).length).toBe(2);

    const FLOWS = 16;
    const EACH = 8;
    const caps: Capture[] = [];
    try {
      for (const v of [m1, m2]) caps.push(await startCapture(nsA, v.nsIf, { filter: 'udp', direction: 'in' }));
      const frames: string[] = [];
      for (let i = 0; i < EACH; i++) {
        for (let f = 0; f < FLOWS; f++) {
          frames.push(`Ether(src='${b.nsMac}',dst='${A_MAC}')/IP(src='10.0.0.2',dst='10.0.0.1')/UDP(sport=${20000 + f},dport=9)/Raw(b'x'*32)`);
        }
      }
      await scapySend(b.ns, b.nsIf, frames);
      await waitUntil('every frame on a member', async () => {
        const tx = (await bond0())!.bond!.members.reduce((s, m) => s + Number(m.txPackets), 0);
        return tx >= FLOWS * EACH;
      }, 10_000);
      for (const c of caps) await c.stop();

      const flowsOn = await Promise.all(caps.map(async (c) => (await c.fields(['udp.srcport'])).map((r) => Number(r[0]))));
      console.log(`balance-xor l34: ${flowsOn[0].length} frames on member 1, ${flowsOn[1].length} on member 2`);
      expect(flowsOn[0].length + flowsOn[1].length).toBe(FLOWS * EACH);
      const on1 = new Set(flowsOn[0]);
      const on2 = new Set(flowsOn[1]);
      expect(on1.size).toBeGreaterThan(0);
      expect(on2.size).toBeGreaterThan(0);
      for (const sport of on1) expect(on2.has(sport)).toBe(false); // a flow stays on one member
      for (const sport of [...on1, ...on2]) {
        const n = flowsOn[0].filter((s) => s === sport).length + flowsOn[1].filter((s) => s === sport).length;
        expect(n).toBe(EACH);
      }
      // The members' own counters agree with the captures.
      const members = (await bond0())!.bond!.members;
      expect(members.map((m) => Number(m.txPackets))).toEqual([flowsOn[0].length, flowsOn[1].length]);
    } finally {
      for (const c of caps) await removeCapture(c);
    }
  });

  it('port set: admin down and up and an MTU, as on any port; not another queue count', async () => {
    const down = await sw.cli(['port', 'set', 'bond0', '--down']);
    expect(down.code, down.stderr).toBe(0);
    expect(await ping(b.ns, '10.0.0.1', { count: 3 })).toMatchObject({ transmitted: 3, received: 0 });
    const up = await sw.cli(['port', 'set', 'bond0', '--up', '--mtu', '1400']);
    expect(up.code, up.stderr).toBe(0);
    expect(await bond0()).toMatchObject({ mtu: 1400, adminUp: true });
    expect(await ping(b.ns, '10.0.0.1', { count: 5 })).toMatchObject({ transmitted: 5, received: 5 });
    const rxq = await sw.cli(['port', 'set', 'bond0', '--rxq', '2']);
    expect(rxq.code).not.toBe(0);
    expect(rxq.stderr).toContain("port 'bond0': a bond keeps the 1 rx queue it was made with");
  });

  it('a member device cannot also be a port of its own', async () => {
    const before = await listPorts();
    const r = await sw.cli(['port', 'add', 'px', member(10, m1)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("device 'net_af_packet10' is a member of bond port 'bond0'");
    expect(await listPorts()).toEqual(before);
  });
});
