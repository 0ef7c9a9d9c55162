/**
 * Hitless updates: steady traffic crosses the switch while thousands of
 * unrelated flows per second are added, modified and deleted through the
 * gRPC API, and not one packet of it is dropped or mis-forwarded.
 *
 * The traffic is two UDP flows, A and B, replayed back to back from a pcap
 * (net_pcap, infinite_rx) as fast as the switch takes them: A must leave
 * on p2, B on p3 (net_null sinks). The churn lands in the same tables,
 * with higher priorities and overlapping masks (so the classifier gains and
 * loses subtables above the steady entries and the flow cache must be
 * invalidated), and rewrites the steady entries' own actions in place
 * (modify_strict to the same output). The source is paused (admin down)
 * around the measured window, so the counts are exact:
 *   received on p1 = sent on p2 + sent on p3, A on p2 and B on p3 only
 *   (the pcap alternates A, B: the two differ by at most one), each steady
 *   entry counted exactly what its port sent, no drop of any reason
 *   anywhere, and the churned entries never matched a packet.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, sleep, startSwitch, type Switch } from '../helpers/switch';
import { udpFrame } from '../helpers/frames';
import { writePcap } from '../helpers/traffic';

/** How long the churn runs under traffic. */
const CHURN_MS = 6000;
/** Flows per churn request. */
const BATCH = 500;

const STEADY = [
  'table=0,priority=100,udp,nw_dst=10.0.0.2,actions=goto_table:1',
  'table=0,priority=100,udp,nw_dst=10.0.0.3,actions=goto_table:1',
  'table=1,priority=100,udp,nw_dst=10.0.0.2,tp_dst=1000,actions=output:p2',
  'table=1,priority=100,udp,nw_dst=10.0.0.3,tp_dst=1000,actions=output:p3',
];

describe.skipIf(!IS_ROOT)('hitless updates: no steady packet lost while flows churn', () => {
  let sw: Switch;
  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-hitless-'));
    const pcap = path.join(dir, 'steady.pcap');
    await writePcap(pcap, [udpFrame('10.0.0.1', '10.0.0.2', 5000, 1000), udpFrame('10.0.0.1', '10.0.0.3', 5000, 1000)]);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: `net_pcap0,rx_pcap=${pcap},infinite_rx=1` },
        { name: 'p2', devargs: 'net_null0,no-rx=1' },
        { name: 'p3', devargs: 'net_null1,no-rx=1' },
      ],
      flows: STEADY,
    });
  });

  afterAll(async () => {
    await sw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const counters = async () => {
    const [p1, p2, p3] = await Promise.all(['p1', 'p2', 'p3'].map((p) => portStats(sw, p)));
    const flows = await flowDump(sw);
    const n = (f: { packets: string }) => Number(f.packets);
    return {
      rx: Number(p1.rxPackets),
      txA: Number(p2.txPackets),
      txB: Number(p3.txPackets),
      drops: [p1, p2, p3].map(nonZeroDrops),
      flowA: n(findFlow(flows, 1, 100, 'nw_dst=10.0.0.2')),
      flowB: n(findFlow(flows, 1, 100, 'nw_dst=10.0.0.3')),
      churnHits: flows.filter((f) => f.priority >= 200).reduce((a, f) => a + n(f), 0),
    };
  };

  const source = (up: boolean) => sw.api.call('PortService', 'UpdatePort', { port: 'p1', adminUp: up });
  /** The churned entries carry this cookie; the steady ones 0. */
  const CHURN = { cookie: '119', cookieMask: '255' };

  it('counts every packet of the steady flows on its own port, under thousands of flow changes a second', async () => {
    // Quiet and measured: the source paused, nothing in flight, the drops of
    // the start (packets before the flows were in) cleared.
    await source(false);
    await sleep(200);
    await sw.api.call('PortService', 'ClearPortStats', {});
    const before = await counters();
    expect(before.drops).toEqual([{}, {}, {}]);

    await source(true);
    let changes = 0;
    let round = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < CHURN_MS) {
      const prio = 200 + (round % 50);
      const net = round % 250;
      // Higher priority than the steady entries, overlapping their fields, never matching their packets.
      const adds = Array.from({ length: BATCH }, (_, i) => ({
        tableId: round % 2,
        priority: prio,
        cookie: CHURN.cookie,
        match: i % 2 ? `udp,nw_src=172.${16 + (i % 16)}.${net}.${i >> 4}` : `udp,nw_dst=10.0.0.2,tp_dst=${2000 + i}`,
        actions: i % 3 ? 'drop' : 'output:p3',
      }));
      changes += (await sw.api.call('FlowService', 'AddFlows', { flows: adds })).changed;
      // New actions for half of them (a non-strict modify, by cookie, of the entries a match covers).
      changes += (await sw.api.call('FlowService', 'ModifyFlows', { flows: [{ tableId: round % 2, ...CHURN, match: 'udp,nw_dst=10.0.0.2', actions: 'output:p2' }], strict: false })).changed;
      // The steady entries' actions rewritten in place, to the same output.
      await sw.api.call('FlowService', 'ModifyFlows', { flows: [{ tableId: 1, priority: 100, match: 'udp,nw_dst=10.0.0.2,tp_dst=1000', actions: 'output:p2' }], strict: true });
      await sw.api.call('FlowService', 'ModifyFlows', { flows: [{ tableId: 1, priority: 100, match: 'udp,nw_dst=10.0.0.3,tp_dst=1000', actions: 'output:p3' }], strict: true });
      // And gone again.
      const del = await sw.api.call('FlowService', 'DeleteFlows', { tableId: round % 2, ...CHURN, match: '', strict: false });
      expect(del.changed).toBe(BATCH);
      changes += del.changed;
      round++;
    }
    const seconds = (Date.now() - t0) / 1000;
    await source(false);
    await sleep(200);
    const after = await counters();

    const d = {
      rx: after.rx - before.rx,
      txA: after.txA - before.txA,
      txB: after.txB - before.txB,
      flowA: after.flowA - before.flowA,
      flowB: after.flowB - before.flowB,
    };
    console.log(
      `hitless: ${d.rx} packets (${(d.rx / seconds / 1e6).toFixed(2)} Mpps) while ${changes} flow changes ` +
        `(${Math.round(changes / seconds)}/s) in ${round} rounds; A ${d.txA}, B ${d.txB}`,
    );
    expect(changes / seconds, 'flow changes per second').toBeGreaterThan(1000);
    expect(d.rx, 'the steady traffic flowed').toBeGreaterThan(100_000);
    expect(after.drops, 'no drop of any reason on any port').toEqual([{}, {}, {}]);
    expect(d.txA + d.txB, 'every packet received was sent').toBe(d.rx);
    expect(Math.abs(d.txA - d.txB), 'A and B alternate in the pcap').toBeLessThanOrEqual(1);
    expect(d.flowA, 'flow A counted exactly what p2 sent').toBe(d.txA);
    expect(d.flowB, 'flow B counted exactly what p3 sent').toBe(d.txB);
    expect(after.churnHits, 'no churned entry ever matched steady traffic').toBe(0);
    // The switch is back to exactly the steady flows.
    expect((await flowDump(sw)).length).toBe(STEADY.length);
  }, 60_000);
});
