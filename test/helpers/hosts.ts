/**
 * Hosts for the switch to serve: namespaces on veth pairs, quiet enough
 * that every packet on the wire is one the test sent. IPv6 is off (no router
 * solicitations, neighbour discovery or MLD), and ARP entries are static
 * (no ARP requests), so `ping -c 5` makes exactly 5 requests and 5 replies.
 */
import { Topology, setStaticArp, type Veth } from '../../src/lib/netns';
import { startSwitch, type Switch, type SwitchOptions } from './switch';

/** Two hosts, 10.0.0.1/24 and 10.0.0.2/24, that know each other's MAC. */
export async function twoHosts(topo: Topology, opts: { mtu?: number } = {}): Promise<[Veth, Veth]> {
  const a = await topo.addHost('10.0.0.1/24', opts);
  const b = await topo.addHost('10.0.0.2/24', opts);
  await setStaticArp(a.ns, a.nsIf, b.ip!, b.nsMac);
  await setStaticArp(b.ns, b.nsIf, a.ip!, a.nsMac);
  return [a, b];
}

/** Devargs for attaching a veth's host end with net_af_packet (n: unique per switch). */
export function afPacket(n: number, v: Veth, extra = ''): string {
  return `net_af_packet${n},iface=${v.hostIf},framecnt=4096${extra ? `,${extra}` : ''}`;
}

/** ICMP forwarding both ways between ports p1 and p2, at priority 100 in table 0. */
export const ICMP_FORWARD = [
  'table=0,priority=100,icmp,in_port=p1,actions=output:p2',
  'table=0,priority=100,icmp,in_port=p2,actions=output:p1',
];

/** Everything forwarded both ways between ports p1 and p2, at priority 10 in table 0. */
export const FORWARD_BOTH_WAYS = ['table=0,priority=10,in_port=p1,actions=output:p2', 'table=0,priority=10,in_port=p2,actions=output:p1'];

/**
 * Two hosts (twoHosts) behind a new switch: a on af_packet port p1, b on
 * p2, then any ports opts names; flows FORWARD_BOTH_WAYS unless opts says.
 */
export async function twoHostSwitch(topo: Topology, opts: SwitchOptions = {}): Promise<{ a: Veth; b: Veth; sw: Switch }> {
  const [a, b] = await twoHosts(topo);
  const sw = await startSwitch({
    flows: FORWARD_BOTH_WAYS,
    ...opts,
    ports: [{ name: 'p1', devargs: afPacket(0, a) }, { name: 'p2', devargs: afPacket(1, b) }, ...(opts.ports ?? [])],
  });
  return { a, b, sw };
}

/** Size on the wire of one `ping` packet with the default 56 data bytes. */
export const PING_FRAME = 14 + 20 + 8 + 56;

/**
 * For vi.waitFor around counters of frames nobody answers (injected with
 * scapy): the data plane counts them within microseconds, but the test has no
 * reply to wait for. Waiting until a count equals the expected value keeps
 * the assertion exact: a count that overshoots fails.
 */
export const WAIT = { timeout: 5000, interval: 100 };
