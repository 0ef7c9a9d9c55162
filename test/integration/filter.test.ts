/**
 * Per-port ingress filters (the virtual firewall): `switchyard filter add p1
 * --src 10.0.0.0/24` makes p1 unable to send from that prefix. Two hosts
 * talk over two address pairs; the filtered pair's pings are dropped on
 * entry and counted (on the filter's flow and as the port's action_drop),
 * the other pair's pass, and removing the filter lets the first pass again.
 * The filter is a flow: it survives a daemon restart like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, nsMustRun, setStaticArp, type Veth } from '../../src/lib/netns';
import { ICMP_FORWARD, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { ping } from '../helpers/traffic';

describe.skipIf(!IS_ROOT)('ingress filters: a port that must never send from 10.0.0.0/24', () => {
  const topo = new Topology('syfw');
  let sw: Switch;
  let a: Veth; // p1: 10.0.0.1 and 192.168.7.1
  let b: Veth; // p2: 10.0.0.2 and 192.168.7.2

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    await nsMustRun(a.ns, ['ip', 'addr', 'add', '192.168.7.1/24', 'dev', a.nsIf]);
    await nsMustRun(b.ns, ['ip', 'addr', 'add', '192.168.7.2/24', 'dev', b.nsIf]);
    await setStaticArp(a.ns, a.nsIf, '192.168.7.2', b.nsMac);
    await setStaticArp(b.ns, b.nsIf, '192.168.7.1', a.nsMac);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      flows: ICMP_FORWARD,
    });
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
  });

  it('both address pairs reach each other before any filter', async () => {
    expect(await ping(a.ns, '10.0.0.2', { count: 3 })).toMatchObject({ received: 3 });
    expect(await ping(a.ns, '192.168.7.2', { count: 3 })).toMatchObject({ received: 3 });
  });

  it('filter add drops what p1 sends from the prefix, counted, and nothing else', async () => {
    const add = await sw.cli(['filter', 'add', 'p1', '--src', '10.0.0.0/24']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('port p1: dropping ip,nw_src=10.0.0.0/24');
    await sw.cli(['port', 'stats', 'p1', '--clear']);

    expect(await ping(a.ns, '10.0.0.2', { count: 4, waitS: 0.5 })).toMatchObject({ transmitted: 4, received: 0 });
    expect(await ping(a.ns, '192.168.7.2', { count: 3 })).toMatchObject({ received: 3 });
    // b's replies to 192.168.7.1 come from p2, which has no filter
    expect(await ping(b.ns, '192.168.7.1', { count: 2 })).toMatchObject({ received: 2 });

    const list = await sw.cliJson<any[]>(['filter', 'list']);
    expect(list).toEqual([{ port: 'p1', match: 'ip,nw_src=10.0.0.0/24', packets: 4, bytes: 4 * 98 }]);
    expect(nonZeroDrops(await portStats(sw, 'p1'))).toEqual({ action_drop: 4 });
    // it is a flow like any other, at the top of table 0
    const dump = await sw.cli(['flow', 'dump', '--table', '0']);
    expect(dump.stdout).toMatch(/cookie=0xf17e000000000000.*priority=65535,ip,in_port=p1,nw_src=10\.0\.0\.0\/24 actions=drop/);
  });

  it('refuses what it cannot make into a filter, naming it', async () => {
    const cases: [string[], RegExp][] = [
      [['filter', 'add', 'p1', '--src', '10.0.0.0/33'], /--src '10\.0\.0\.0\/33': expected an IPv4 or IPv6 address/],
      [['filter', 'add', 'p1', '--mac', '02:00:00:00:00'], /--mac '02:00:00:00:00': expected a MAC address/],
      [['filter', 'add', 'p1', 'ip,in_port=p2'], /may not set 'in_port'/],
      [['filter', 'add', 'p1'], /say what to drop/],
      [['filter', 'add', 'p1', 'ip', '--src', '10.0.0.0/8'], /one of MATCH, --src CIDR or --mac MAC/],
      [['filter', 'add', 'p9', '--src', '10.0.0.0/8'], /p9/],
      [['filter', 'del', 'p1', '--src', '172.16.0.0/12'], /port p1 has no filter 'ip,nw_src=172\.16\.0\.0\/12'/],
    ];
    for (const [args, msg] of cases) {
      const r = await sw.cli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    expect(await sw.cliJson<any[]>(['filter', 'list'])).toHaveLength(1);
  });

  it('survives a daemon restart, and filter del lets the traffic through again', async () => {
    await sw.restartDaemon();
    expect((await sw.cliJson<any[]>(['filter', 'list', 'p1'])).map((f) => f.match)).toEqual(['ip,nw_src=10.0.0.0/24']);
    expect(await ping(a.ns, '10.0.0.2', { count: 2, waitS: 0.5 })).toMatchObject({ received: 0 });

    const del = await sw.cli(['filter', 'del', 'p1', '--src', '10.0.0.0/24']);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toContain('port p1: 1 filter removed');
    expect(await sw.cliJson<any[]>(['filter', 'list'])).toEqual([]);
    expect(await ping(a.ns, '10.0.0.2', { count: 3 })).toMatchObject({ received: 3 });
  });

  it('a MATCH filter and filter del PORT without a match', async () => {
    expect((await sw.cli(['filter', 'add', 'p2', 'icmp,icmp_type=0'])).code).toBe(0); // no echo replies from p2
    expect((await sw.cli(['filter', 'add', 'p2', '--mac', `${b.nsMac}`])).code).toBe(0);
    expect((await sw.cliJson<any[]>(['filter', 'list', 'p2'])).map((f) => f.match).sort()).toEqual([`dl_src=${b.nsMac}`, 'icmp,icmp_type=0']);
    expect(await ping(a.ns, '10.0.0.2', { count: 2, waitS: 0.5 })).toMatchObject({ received: 0 });
    const del = await sw.cli(['filter', 'del', 'p2']);
    expect(del.stdout).toContain('port p2: 2 filters removed');
    expect(await ping(a.ns, '10.0.0.2', { count: 2 })).toMatchObject({ received: 2 });
  });
});
