/**
 * src/lib/netns.ts and the traffic helpers against real namespaces, no
 * switch: two namespaces joined by one veth pair. This pins what the
 * integration tests rely on: with IPv6 off and static ARP, `ping -c 5` puts
 * exactly 10 frames on the wire; tagged frames made by scapy arrive with
 * their 802.1Q tag although the kernel has no VLAN module; and cleanup leaves
 * nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Topology,
  deleteLink,
  deleteNamespace,
  linkExists,
  listNamespaces,
  moveToNamespace,
  namespaceExists,
  nsExec,
  setStaticArp,
  uniqueName,
  type Veth,
} from '../../src/lib/netns';
import { IS_ROOT } from '../helpers/paths';
import { ping, removeCapture, scapySend, sendRaw, startCapture, type Capture } from '../helpers/traffic';

describe('uniqueName', () => {
  it('is unique per call and at most 15 characters', () => {
    const a = uniqueName('syv');
    const b = uniqueName('syv');
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(15);
    expect(() => uniqueName('a-very-long-prefix')).toThrow(/15 characters/);
  });
});

describe.skipIf(!IS_ROOT)('two namespaces joined by a veth pair (no switch)', () => {
  const topo = new Topology('syu');
  let a: Veth;
  let nsB: string;
  const caps: Capture[] = [];

  beforeAll(async () => {
    a = await topo.addHost('10.9.0.1/24');
    nsB = await topo.addNamespace();
    // The "host" end goes into the second namespace: ns A eth0 <-> ns B hostIf.
    await moveToNamespace(a.hostIf, nsB, { address: '10.9.0.2/24' });
    const macB = (JSON.parse((await nsExec(nsB, ['ip', '-j', 'link', 'show', a.hostIf])).stdout) as { address: string }[])[0].address;
    await setStaticArp(a.ns, a.nsIf, '10.9.0.2', macB);
    await setStaticArp(nsB, a.hostIf, '10.9.0.1', a.nsMac);
  });

  afterAll(async () => {
    for (const c of caps) await removeCapture(c);
    await topo.cleanup();
  });

  it('ping -c 5 puts exactly 5 requests and 5 replies on the wire, nothing else', async () => {
    const cap = await startCapture(nsB, a.hostIf);
    caps.push(cap);
    const r = await ping(a.ns, '10.9.0.2', { count: 5 });
    await cap.stop();
    expect(r).toMatchObject({ transmitted: 5, received: 5, code: 0 });
    const frames = await cap.fields(['frame.len', 'icmp.type']);
    expect(frames).toEqual([...Array(5)].flatMap(() => [['98', '8'], ['98', '0']]));
  });

  it('inner ends have tx checksum offload off and IPv6 off', async () => {
    const eth = await nsExec(a.ns, ['ethtool', '-k', a.nsIf]);
    expect(eth.stdout).toMatch(/^tx-checksumming: off/m);
    const v6 = await nsExec(a.ns, ['sysctl', '-n', `net.ipv6.conf.${a.nsIf}.disable_ipv6`]);
    expect(v6.stdout.trim()).toBe('1');
  });

  it('a scapy frame with an 802.1Q tag arrives tagged (vlan.id 10)', async () => {
    const cap = await startCapture(nsB, a.hostIf, { direction: 'in' });
    caps.push(cap);
    await scapySend(a.ns, a.nsIf, [
      `Ether(src='${a.nsMac}', dst='ff:ff:ff:ff:ff:ff')/Dot1Q(vlan=10, prio=3)/IP(src='10.9.0.1', dst='10.9.0.2')/ICMP()`,
    ]);
    await cap.stop();
    expect(await cap.fields(['vlan.id', 'vlan.priority', 'ip.src', 'icmp.type'])).toEqual([['10', '3', '10.9.0.1', '8']]);
  });

  it('raw frames arrive byte for byte; the kernel refuses frames under 14 bytes', async () => {
    const cap = await startCapture(nsB, a.hostIf, { direction: 'in' });
    caps.push(cap);
    const hdr = Buffer.from('ffffffffffff' + a.nsMac.replace(/:/g, '') + '0800', 'hex'); // 14 bytes, IPv4, no IP header
    await sendRaw(a.ns, a.nsIf, [hdr]);
    await expect(sendRaw(a.ns, a.nsIf, [hdr.subarray(0, 10)])).rejects.toThrow(/Invalid argument/);
    await cap.stop();
    expect(await cap.fields(['frame.len', 'eth.type'])).toEqual([['14', '0x0800']]);
  });

  it('cleanup removes namespaces and links, and may run twice', async () => {
    const t = new Topology('syu');
    const h = await t.addHost('10.9.1.1/24');
    expect(await namespaceExists(h.ns)).toBe(true);
    expect(await linkExists(h.hostIf)).toBe(true);
    await t.cleanup();
    await t.cleanup();
    expect(await namespaceExists(h.ns)).toBe(false);
    expect(await linkExists(h.hostIf)).toBe(false);
    // The free-standing deletes are idempotent too.
    await deleteNamespace(h.ns);
    await deleteLink(h.hostIf);
  });

  it('cleanup kills what still runs inside its namespaces', async () => {
    const t = new Topology('syu');
    const ns = await t.addNamespace();
    const child = t.spawn(ns, ['sleep', '300']);
    const exited = new Promise((r) => child.once('exit', r));
    await t.cleanup();
    await exited;
    expect(await listNamespaces()).not.toContain(ns);
  });
});
