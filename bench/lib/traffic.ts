/**
 * The fast-path benchmark's traffic files, in build/bench/:
 *
 *   one-flow-64.pcap    1,024 copies of one UDP frame (one 5-tuple), 64 B
 *   l2-1000-64.pcap     10,000 frames: 10 distinct UDP/TCP 5-tuples to each of
 *                       the 1,000 host MACs, shuffled, 64 B
 *   acl-64.pcap         the ACL traffic (rules.ts: 100,000 distinct 5-tuples,
 *                       104,500 frames), 64 B
 *   acl-1518.pcap       the same packets, 1518 B
 *
 * Each file is made once and made again only when pcap.ts, rules.ts or this
 * file change (ensurePcap's stamp).
 */
import * as path from 'node:path';
import { IPPROTO_TCP, IPPROTO_UDP, Rng, buildFrame, ensurePcap, sourcesOf, type PcapInfo } from './pcap';
import { ROUTER_MACS, aclWorld, hostMacs, type Tuple } from './rules';

export const BENCH_DIR = path.resolve(__dirname, '../../build/bench');

export type TrafficName = 'one-flow-64' | 'l2-1000-64' | 'acl-64' | 'acl-1518';

function frameOf(t: Tuple, frameBytes: number, id: number): Buffer {
  return buildFrame({ ...t, proto: t.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, frameBytes, ipId: id });
}

function* oneFlow(): Iterable<Buffer> {
  const f = buildFrame({ dlSrc: ROUTER_MACS[0], dlDst: hostMacs(1)[0], nwSrc: 0x0a000001, nwDst: 0xac100001, proto: IPPROTO_UDP, tpSrc: 1024, tpDst: 80, frameBytes: 64 });
  for (let i = 0; i < 1024; i++) yield f;
}

function* l2(): Iterable<Buffer> {
  const rng = new Rng(0x12000);
  const pkts: Tuple[] = [];
  for (const mac of hostMacs(1000)) {
    for (let k = 0; k < 10; k++) {
      pkts.push({
        dlSrc: ROUTER_MACS[rng.below(ROUTER_MACS.length)],
        dlDst: mac,
        nwSrc: (0x0a000000 + rng.below(1 << 24)) >>> 0,
        nwDst: (0xac100000 + rng.below(1 << 20)) >>> 0,
        proto: rng.below(10) < 7 ? 'tcp' : 'udp',
        tpSrc: rng.between(1024, 65535),
        tpDst: rng.between(1, 65535),
      });
    }
  }
  rng.shuffle(pkts);
  let i = 0;
  for (const t of pkts) yield frameOf(t, 64, i++);
}

function* acl(frameBytes: number): Iterable<Buffer> {
  let i = 0;
  for (const t of aclWorld().packets) yield frameOf(t, frameBytes, i++);
}

/** The file of one traffic set, made if missing or stale. */
export async function traffic(name: TrafficName): Promise<PcapInfo> {
  const src = await sourcesOf('pcap.ts', 'rules.ts', 'traffic.ts');
  const file = path.join(BENCH_DIR, `${name}.pcap`);
  const inputs = [name, ...src];
  switch (name) {
    case 'one-flow-64':
      return ensurePcap(file, inputs, 64, oneFlow);
    case 'l2-1000-64':
      return ensurePcap(file, inputs, 64, l2);
    case 'acl-64':
      return ensurePcap(file, inputs, 64, () => acl(64));
    case 'acl-1518':
      return ensurePcap(file, inputs, 1518, () => acl(1518));
  }
}
