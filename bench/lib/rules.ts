/**
 * The flow sets of the fast-path benchmark and the traffic they are meant
 * for, generated from fixed seeds (the same on every machine).
 *
 * One neutral form (BenchFlow) turns into a switchyard flow-mod (toFlowMod,
 * for the addon) and into an ovs-ofctl line (toOfctl, for the side-by-side
 * run), so both switches get the very same rules.
 *
 * The ACL (scenario 3): table 0 holds N 5-tuple/prefix rules over four
 * masks plus a catch-all, table 1 forwards by dl_dst.
 *
 *   class   match                                           priority  in the core
 *   exact   tcp|udp, nw_src/32, nw_dst/32, tp_src, tp_dst    400       500 rules
 *   pair    tcp|udp, nw_src/24, nw_dst/24, tp_dst            300       100 rules
 *   src16   tcp|udp, nw_src/16                               200        40 rules
 *   dst24   ip, nw_dst/24                                    100        60 rules
 *   any     (everything)                                     0          1 rule, goto_table:1
 *
 * Every tenth rule of a class (index % 10 == 9) drops, the rest
 * goto_table:1. The "core" rules are the ones the traffic hits; they are the
 * same for every N, so the traffic mix does not change with N. The rest of
 * the N rules ("filler") use the same masks and priorities but addresses
 * the traffic never carries (sources in 11.0.0.0-117.255.255.255 for the
 * classes that match a source, destinations from 192.0.0.0 for dst24), so
 * they make the classifier's tables as big as N says without changing which
 * rule a packet hits. Filler shares: exact 50%, pair 35%, src16 5%, dst24
 * 10%.
 *
 * The traffic (aclTraffic): 100,000 distinct 5-tuples, sources in 10/8,
 * destinations in 172.16/12, 70% TCP, 30% UDP, each to one of 1,000 host
 * MACs (hostMacs) that table 1 knows. By the rule each hits:
 *   exact   500 tuples x 10 packets each   5,000 packets
 *   pair    100 rules x 250 tuples        25,000
 *   src16    40 rules x 625 tuples        25,000
 *   dst24    60 rules x 250 tuples        15,000
 *   any                                  34,500
 * 104,500 packets in a shuffled order; aclMix() computes the exact shares
 * (and the share dropped) with a reference lookup over the rules.
 */
import { IPPROTO_TCP, IPPROTO_UDP, Rng, ipv4ToString, prefixMask } from './pcap';
import type { FlowMod, Match } from '../../src/mgmt/addon-types';

export type Proto = 'tcp' | 'udp' | 'ip';

/** A flow in a form both switches can take. Ports are switch port numbers (1, 2). */
export interface BenchFlow {
  table: number;
  priority: number;
  inPort?: number;
  dlDst?: string;
  proto?: Proto;
  /** host-order address and prefix length */
  nwSrc?: [number, number];
  nwDst?: [number, number];
  tpSrc?: number;
  tpDst?: number;
  action: { kind: 'output'; port: number } | { kind: 'goto'; table: number } | { kind: 'drop' };
}

export type AclClass = 'exact' | 'pair' | 'src16' | 'dst24' | 'any';

export const ACL_PRIORITY: Record<AclClass, number> = { exact: 400, pair: 300, src16: 200, dst24: 100, any: 0 };

/** The switch ports of the benchmark: traffic enters on 1 and leaves on 2. */
export const IN_PORT = 1;
export const OUT_PORT = 2;

const ETH_P_IP = 0x0800;

function maskString(len: number): string {
  return ipv4ToString(prefixMask(len));
}

/** The switchyard flow-mod (addon form) of f. */
export function toFlowMod(f: BenchFlow): FlowMod {
  const match: Match = {};
  if (f.inPort !== undefined) match.in_port = { value: f.inPort };
  if (f.dlDst !== undefined) match.dl_dst = { value: f.dlDst };
  if (f.proto) {
    match.dl_type = { value: ETH_P_IP };
    if (f.proto !== 'ip') match.nw_proto = { value: f.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP };
  }
  const addr = (a: [number, number]) => (a[1] === 32 ? { value: ipv4ToString(a[0]) } : { value: ipv4ToString(a[0]), mask: maskString(a[1]) });
  if (f.nwSrc) match.nw_src = addr(f.nwSrc);
  if (f.nwDst) match.nw_dst = addr(f.nwDst);
  if (f.tpSrc !== undefined) match.tp_src = { value: f.tpSrc };
  if (f.tpDst !== undefined) match.tp_dst = { value: f.tpDst };
  const a = f.action;
  const actions: FlowMod['actions'] = a.kind === 'output' ? [{ type: 'output', port: a.port }] : a.kind === 'goto' ? [{ type: 'goto_table', table: a.table }] : [];
  return { command: 'add', table: f.table, priority: f.priority, match, actions };
}

/** The ovs-ofctl add-flows line of f (OpenFlow 1.1+ for goto_table). */
export function toOfctl(f: BenchFlow): string {
  const parts = [`table=${f.table}`, `priority=${f.priority}`];
  if (f.proto) parts.push(f.proto);
  if (f.inPort !== undefined) parts.push(`in_port=${f.inPort}`);
  if (f.dlDst !== undefined) parts.push(`dl_dst=${f.dlDst}`);
  const addr = (a: [number, number]) => (a[1] === 32 ? ipv4ToString(a[0]) : `${ipv4ToString(a[0])}/${a[1]}`);
  if (f.nwSrc) parts.push(`nw_src=${addr(f.nwSrc)}`);
  if (f.nwDst) parts.push(`nw_dst=${addr(f.nwDst)}`);
  if (f.tpSrc !== undefined) parts.push(`tp_src=${f.tpSrc}`);
  if (f.tpDst !== undefined) parts.push(`tp_dst=${f.tpDst}`);
  const a = f.action;
  parts.push(`actions=${a.kind === 'output' ? `output:${a.port}` : a.kind === 'goto' ? `goto_table:${a.table}` : 'drop'}`);
  return parts.join(',');
}

// ---------------------------------------------------------------------------
// Scenarios 1 and 2

/** Scenario 1: in_port=1,actions=output:2. */
export function oneFlow(): BenchFlow[] {
  return [{ table: 0, priority: 32768, inPort: IN_PORT, action: { kind: 'output', port: OUT_PORT } }];
}

/** n host MACs, 02:00:00:00:HH:LL for 1..n (locally administered, unicast). */
export function hostMacs(n = 1000): string[] {
  const out: string[] = [];
  for (let i = 1; i <= n; i++) out.push(`02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
  return out;
}

/** The sources' MACs (the upstream routers the traffic comes from). */
export const ROUTER_MACS = ['02:00:00:ff:00:01', '02:00:00:ff:00:02', '02:00:00:ff:00:03', '02:00:00:ff:00:04'];

/** An L2 table: one exact dl_dst entry per MAC, output to `port`, and a default when asked. */
export function l2Flows(table: number, macs: string[], port: number, withDefault: boolean): BenchFlow[] {
  const out: BenchFlow[] = macs.map((m) => ({ table, priority: 100, dlDst: m, action: { kind: 'output', port } }));
  if (withDefault) out.push({ table, priority: 0, action: { kind: 'output', port } });
  return out;
}

// ---------------------------------------------------------------------------
// Scenario 3: the ACL and its traffic

export interface Tuple {
  nwSrc: number;
  nwDst: number;
  proto: 'tcp' | 'udp';
  tpSrc: number;
  tpDst: number;
  dlSrc: string;
  dlDst: string;
}

interface CoreRule extends BenchFlow {
  cls: AclClass;
}

const SERVICE_PORTS = [80, 443, 53, 22, 25, 123, 161, 389, 636, 993, 1812, 3306, 5060, 5432, 6379, 8080, 8443, 9092];

const CORE = { exact: 500, pair: 100, src16: 40, dst24: 60 } as const;
const PER_RULE = { exact: 1, pair: 250, src16: 625, dst24: 250 } as const;
const EXACT_REPEAT = 10;
export const ACL_TUPLES = 100_000;
export const ACL_CORE_RULES = CORE.exact + CORE.pair + CORE.src16 + CORE.dst24;

const a4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

function aclAction(i: number): BenchFlow['action'] {
  return i % 10 === 9 ? { kind: 'drop' } : { kind: 'goto', table: 1 };
}

export interface AclWorld {
  core: CoreRule[];
  /** the distinct 5-tuples */
  tuples: Tuple[];
  /** the packets, in the order they are sent (tuples, some repeated) */
  packets: Tuple[];
}

let world: AclWorld | undefined;

/** The ACL's core rules and its traffic (made once per process). */
export function aclWorld(): AclWorld {
  if (world) return world;
  const rng = new Rng(0x5ca1ab1e);
  const macs = hostMacs();
  const seen = new Set<string>();
  const tuples: Tuple[] = [];
  const core: CoreRule[] = [];
  const proto = (): 'tcp' | 'udp' => (rng.below(10) < 7 ? 'tcp' : 'udp');
  const ephemeral = () => rng.between(1024, 65535);
  const service = () => SERVICE_PORTS[rng.below(SERVICE_PORTS.length)];
  /** Adds the tuple unless it exists; true if added. */
  const add = (t: Omit<Tuple, 'dlSrc' | 'dlDst'>): boolean => {
    const k = `${t.nwSrc},${t.nwDst},${t.proto},${t.tpSrc},${t.tpDst}`;
    if (seen.has(k)) return false;
    seen.add(k);
    tuples.push({ ...t, dlSrc: ROUTER_MACS[rng.below(ROUTER_MACS.length)], dlDst: macs[rng.below(macs.length)] });
    return true;
  };
  const exactTuples: Tuple[] = [];

  // exact: sources 10.1/16, destinations 172.16/16
  for (let i = 0; i < CORE.exact; i++) {
    const t = { nwSrc: a4(10, 1, rng.below(256), rng.between(1, 254)), nwDst: a4(172, 16, rng.below(256), rng.between(1, 254)), proto: proto(), tpSrc: ephemeral(), tpDst: service() };
    if (!add(t)) {
      i--;
      continue;
    }
    exactTuples.push(tuples[tuples.length - 1]);
    core.push({ cls: 'exact', table: 0, priority: ACL_PRIORITY.exact, proto: t.proto, nwSrc: [t.nwSrc, 32], nwDst: [t.nwDst, 32], tpSrc: t.tpSrc, tpDst: t.tpDst, action: aclAction(i) });
  }
  // pair: 10.2.r.0/24 -> 172.17.x.0/24, one protocol and service port per rule
  for (let r = 0; r < CORE.pair; r++) {
    const src = a4(10, 2, r, 0);
    const dst = a4(172, 17, rng.below(256), 0);
    const p = proto();
    const dport = service();
    core.push({ cls: 'pair', table: 0, priority: ACL_PRIORITY.pair, proto: p, nwSrc: [src, 24], nwDst: [dst, 24], tpDst: dport, action: aclAction(r) });
    for (let n = 0; n < PER_RULE.pair; ) if (add({ nwSrc: src + rng.between(1, 254), nwDst: dst + rng.between(1, 254), proto: p, tpSrc: ephemeral(), tpDst: dport })) n++;
  }
  // src16: 10.(16+r).0.0/16, one protocol per rule
  for (let r = 0; r < CORE.src16; r++) {
    const src = a4(10, 16 + r, 0, 0);
    const p = proto();
    core.push({ cls: 'src16', table: 0, priority: ACL_PRIORITY.src16, proto: p, nwSrc: [src, 16], action: aclAction(r) });
    for (let n = 0; n < PER_RULE.src16; ) if (add({ nwSrc: src + rng.between(1, 65534), nwDst: a4(172, 21, rng.below(256), rng.between(1, 254)), proto: p, tpSrc: ephemeral(), tpDst: service() })) n++;
  }
  // dst24: 172.20.r.0/24, any protocol; sources 10.100/16
  for (let r = 0; r < CORE.dst24; r++) {
    const dst = a4(172, 20, r, 0);
    core.push({ cls: 'dst24', table: 0, priority: ACL_PRIORITY.dst24, proto: 'ip', nwDst: [dst, 24], action: aclAction(r) });
    for (let n = 0; n < PER_RULE.dst24; ) if (add({ nwSrc: a4(10, 100, rng.below(256), rng.between(1, 254)), nwDst: dst + rng.between(1, 254), proto: proto(), tpSrc: ephemeral(), tpDst: service() })) n++;
  }
  // the rest only the catch-all matches: sources 10.200-249/16, destinations 172.30/16
  while (tuples.length < ACL_TUPLES) {
    add({ nwSrc: a4(10, 200 + rng.below(50), rng.below(256), rng.between(1, 254)), nwDst: a4(172, 30, rng.below(256), rng.between(1, 254)), proto: proto(), tpSrc: ephemeral(), tpDst: rng.below(4) ? service() : ephemeral() });
  }
  const packets = [...tuples];
  for (const t of exactTuples) for (let k = 1; k < EXACT_REPEAT; k++) packets.push(t);
  rng.shuffle(packets);
  world = { core, tuples, packets };
  return world;
}

/**
 * The N rules of table 0 (core, then filler, then the catch-all), in
 * batches of at most `batch` (the switch takes one flow-mod batch per call).
 */
export function* aclRules(n: number, batch = 100_000): Generator<BenchFlow[]> {
  const { core } = aclWorld();
  if (n < ACL_CORE_RULES + 1) throw new RangeError(`the ACL needs at least ${ACL_CORE_RULES + 1} rules (core and catch-all), not ${n}`);
  let out: BenchFlow[] = [];
  const push = function* (f: BenchFlow) {
    out.push(f);
    if (out.length >= batch) {
      yield out;
      out = [];
    }
  };
  for (const r of core) {
    const { cls: _cls, ...f } = r;
    yield* push(f);
  }
  const rng = new Rng(0xf111e7);
  const nFill = n - ACL_CORE_RULES - 1;
  const share = { exact: Math.floor(nFill * 0.5), pair: Math.floor(nFill * 0.35), src16: Math.floor(nFill * 0.05) };
  const dst24 = nFill - share.exact - share.pair - share.src16;
  if (share.src16 > 2 * (118 - 20) * 256 || dst24 > 4 * 65536 || share.pair > 8 * 65536) throw new RangeError(`${n} rules: more than the filler address plan holds`);
  const p = (): 'tcp' | 'udp' => (rng.below(10) < 7 ? 'tcp' : 'udp');
  for (let i = 0; i < share.exact; i++) {
    yield* push({ table: 0, priority: ACL_PRIORITY.exact, proto: p(), nwSrc: [(a4(11, 0, 0, 0) + i) >>> 0, 32], nwDst: [a4(172, 16 + rng.below(16), rng.below(256), rng.between(1, 254)), 32], tpSrc: rng.between(1024, 65535), tpDst: SERVICE_PORTS[rng.below(SERVICE_PORTS.length)], action: aclAction(i) });
  }
  for (let i = 0; i < share.pair; i++) {
    yield* push({ table: 0, priority: ACL_PRIORITY.pair, proto: p(), nwSrc: [(a4(12, 0, 0, 0) + i * 256) >>> 0, 24], nwDst: [a4(172, 16 + rng.below(16), rng.below(256), 0), 24], tpDst: SERVICE_PORTS[rng.below(SERVICE_PORTS.length)], action: aclAction(i) });
  }
  for (let i = 0; i < share.src16; i++) {
    yield* push({ table: 0, priority: ACL_PRIORITY.src16, proto: i & 1 ? 'udp' : 'tcp', nwSrc: [(a4(20, 0, 0, 0) + (i >> 1) * 65536) >>> 0, 16], action: aclAction(i) });
  }
  for (let i = 0; i < dst24; i++) {
    yield* push({ table: 0, priority: ACL_PRIORITY.dst24, proto: 'ip', nwDst: [(a4(192, 0, 0, 0) + i * 256) >>> 0, 24], action: aclAction(i) });
  }
  yield* push({ table: 0, priority: ACL_PRIORITY.any, action: { kind: 'goto', table: 1 } });
  if (out.length) yield out;
}

/** Table 1 of the ACL scenario: dl_dst of every host MAC -> output:2, and a default. */
export function aclTable1(): BenchFlow[] {
  return l2Flows(1, hostMacs(), OUT_PORT, true);
}

/** Whether flow f matches tuple t (only the fields BenchFlow has). */
export function matches(f: BenchFlow, t: Tuple, inPort = IN_PORT): boolean {
  if (f.inPort !== undefined && f.inPort !== inPort) return false;
  if (f.dlDst !== undefined && f.dlDst !== t.dlDst) return false;
  if (f.proto && f.proto !== 'ip' && f.proto !== t.proto) return false;
  const pre = (a: [number, number] | undefined, x: number) => !a || ((x & prefixMask(a[1])) >>> 0) === ((a[0] & prefixMask(a[1])) >>> 0);
  if (!pre(f.nwSrc, t.nwSrc) || !pre(f.nwDst, t.nwDst)) return false;
  if (f.tpSrc !== undefined && f.tpSrc !== t.tpSrc) return false;
  if (f.tpDst !== undefined && f.tpDst !== t.tpDst) return false;
  return true;
}

export interface AclMix {
  packets: number;
  tuples: number;
  /** share of packets whose highest-priority rule is of each class */
  byClass: Record<AclClass, number>;
  /** share of packets the ACL drops */
  dropped: number;
}

/**
 * The traffic mix by the rule each packet hits, from a reference lookup
 * (highest priority first, over the core rules; filler never matches by
 * construction, which aclRulesMissTraffic checks on a sample).
 */
export function aclMix(): AclMix {
  const { core, packets, tuples } = aclWorld();
  const byPrio = [...core].sort((a, b) => b.priority - a.priority);
  // Index the exact rules; the other classes are few enough to scan.
  const exact = new Map<string, CoreRule>();
  const key = (s: number, d: number, p: string, sp: number, dp: number) => `${s},${d},${p},${sp},${dp}`;
  for (const r of core) if (r.cls === 'exact') exact.set(key(r.nwSrc![0], r.nwDst![0], r.proto!, r.tpSrc!, r.tpDst!), r);
  const rest = byPrio.filter((r) => r.cls !== 'exact');
  const hit = new Map<Tuple, CoreRule | undefined>();
  const lookup = (t: Tuple) => exact.get(key(t.nwSrc, t.nwDst, t.proto, t.tpSrc, t.tpDst)) ?? rest.find((r) => matches(r, t));
  for (const t of tuples) hit.set(t, lookup(t));
  const count: Record<AclClass, number> = { exact: 0, pair: 0, src16: 0, dst24: 0, any: 0 };
  let dropped = 0;
  for (const t of packets) {
    const r = hit.get(t);
    count[r ? r.cls : 'any']++;
    if (r?.action.kind === 'drop') dropped++;
  }
  const byClass = Object.fromEntries(Object.entries(count).map(([k, v]) => [k, v / packets.length])) as Record<AclClass, number>;
  return { packets: packets.length, tuples: tuples.length, byClass, dropped: dropped / packets.length };
}

/** Checks that no filler rule of an n-rule ACL matches any of `sample` tuples; throws naming one that does. */
export function aclFillerMissesTraffic(n: number, sample: Tuple[]): void {
  const coreCount = ACL_CORE_RULES;
  let seen = 0;
  for (const batch of aclRules(n)) {
    for (const f of batch) {
      if (seen++ < coreCount || f.priority === ACL_PRIORITY.any) continue;
      for (const t of sample) if (matches(f, t)) throw new Error(`filler rule ${toOfctl(f)} matches traffic ${JSON.stringify(t)}`);
    }
  }
}
