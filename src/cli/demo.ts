/**
 * The topology behind `switchyard start --demo`: two namespaces, each a host
 * on one switch port, joined by forwarding flows.
 *
 *   sy-demo-a (eth0 10.0.0.1/24) ── veth ── sy-demo-a-h ═ net_af_packet0 ═ port a ┐
 *                                                                                switchyard
 *   sy-demo-b (eth0 10.0.0.2/24) ── veth ── sy-demo-b-h ═ net_af_packet1 ═ port b ┘
 *
 * Flows: in_port=a → b and in_port=b → a (ARP included). The caller starts
 * the switch with these ports and flows, prints nextSteps, and calls
 * cleanup() on exit. Leftovers of a crashed run are removed first.
 */
import { createNamespace, createVeth, deleteLink, deleteNamespace } from '../lib/netns';

export interface DemoTopology {
  ports: { name: string; devargs: string }[];
  flows: string[];
  nextSteps: string[];
  cleanup(): Promise<void>;
}

const HOSTS = [
  { port: 'a', ns: 'sy-demo-a', hostIf: 'sy-demo-a-h', address: '10.0.0.1/24' },
  { port: 'b', ns: 'sy-demo-b', hostIf: 'sy-demo-b-h', address: '10.0.0.2/24' },
] as const;

/** Removes the demo topology (namespaces and host-side veths), if any. Idempotent. */
export async function removeDemoTopology(): Promise<void> {
  for (const h of HOSTS) {
    await deleteLink(h.hostIf);
    await deleteNamespace(h.ns);
  }
}

export async function createDemoTopology(): Promise<DemoTopology> {
  await removeDemoTopology();
  try {
    for (const h of HOSTS) {
      // IPv6 stays on: the demo is for looking at, not for exact counts.
      await createNamespace(h.ns, { disableIpv6: false });
      await createVeth({
        ns: h.ns,
        hostIf: h.hostIf,
        nsIf: 'eth0',
        address: h.address,
        disableIpv6: false,
        txOffloadOff: true, // so that TCP (iperf3) works over af_packet
      });
    }
  } catch (e) {
    await removeDemoTopology().catch(() => undefined);
    throw e;
  }

  return {
    ports: HOSTS.map((h, i) => ({
      name: h.port,
      devargs: `net_af_packet${i},iface=${h.hostIf},framecnt=4096`,
    })),
    flows: ['in_port=a,actions=output:b', 'in_port=b,actions=output:a'],
    nextSteps: [
      'sudo ip netns exec sy-demo-a ping -c 3 10.0.0.2',
      'npx switchyard port stats',
      'npx switchyard flow dump',
      'sudo ip netns exec sy-demo-b iperf3 -s -1 -D && sudo ip netns exec sy-demo-a iperf3 -c 10.0.0.2 -t 5',
      'npx switchyard flow add "table=0,priority=200,icmp,in_port=a,actions=drop"   # ping now fails',
    ],
    cleanup: removeDemoTopology,
  };
}
