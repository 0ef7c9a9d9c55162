/**
 * Soak: traffic through the switch while it adds and deletes thousands of
 * flows, adds and removes ports and has its daemon killed (SIGKILL) and
 * restarted, for SOAK_SECONDS (40 in npm test; `npm run soak` runs 600).
 * Then:
 *  - the data plane's memory is flat: its resident size (VmRSS) at the end
 *    is at most RSS_BOUND_MB above the size after the first round (warm-up);
 *  - every packet is accounted for, from the switch's own counters: frames
 *    received on the two traffic ports = frames sent on them + frames
 *    dropped by named reason, and what the pings sent is what the ports
 *    received;
 *  - the final state is the desired one: the ports and the flows the test
 *    configured, nothing more (churned flows and ports are gone).
 */
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { ICMP_FORWARD, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { portStats, startSwitch, type Switch } from '../helpers/switch';
import { ping } from '../helpers/traffic';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 40);
/** Most growth of the data plane's resident memory after warm-up. */
const RSS_BOUND_MB = 16;
const CHURN_FLOWS = 2000;
/** Restart the daemon every this many rounds. */
const RESTART_EVERY = 4;

async function rssKb(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

function sumDrops(d: Record<string, string>): number {
  return Object.values(d).reduce((a, v) => a + Number(v), 0);
}

describe.skipIf(!IS_ROOT)(`soak: ${SECONDS} s of traffic under flow, port and daemon churn`, () => {
  const topo = new Topology('syk');
  let sw: Switch;
  let a: Veth;
  let b: Veth;

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
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

  it('keeps memory flat, accounts for every packet and ends in the desired state', async () => {
    const base = (await sw.api.call('FlowService', 'DumpFlows', {})).flows.map((f: any) => `${f.tableId}/${f.priority}/${f.match}/${f.actions}`).sort();
    const dpPid: number = (await sw.api.call('SystemService', 'GetStatus', {})).dataplanePid;
    expect(dpPid).toBeGreaterThan(0);

    // Traffic: pings from a to b, back to back, until the churn is over.
    let stop = false;
    let sent = 0;
    let answered = 0;
    const traffic = (async () => {
      while (!stop) {
        const r = await ping(a.ns, b.ip!, { count: 200, intervalS: 0.005, waitS: 1 });
        sent += r.transmitted;
        answered += r.received;
      }
    })();

    // Desired flows of table 6: each round adds ten and deletes those of two rounds ago.
    const want6 = new Set<number>();
    const end = Date.now() + SECONDS * 1000;
    let round = 0;
    let warm = 0;
    let restarts = 0;
    const rss: number[] = [];
    try {
      while (round < 2 || Date.now() < end) {
        const churn = Array.from({ length: CHURN_FLOWS }, (_, i) => ({ tableId: 5, priority: 1 + (round % 7), match: `udp,tp_src=${i}`, actions: 'drop' }));
        expect((await sw.api.call('FlowService', 'AddFlows', { flows: churn })).changed).toBe(CHURN_FLOWS);

        const add = Array.from({ length: 10 }, (_, i) => round * 10 + i);
        await sw.api.call('FlowService', 'AddFlows', { flows: add.map((p) => ({ tableId: 6, priority: 5, match: `tcp,tp_dst=${p}`, actions: 'output:p2' })) });
        add.forEach((p) => want6.add(p));
        if (round >= 2) {
          for (let i = 0; i < 10; i++) {
            const p = (round - 2) * 10 + i;
            await sw.api.call('FlowService', 'DeleteFlows', { strict: true, tableId: 6, priority: 5, match: `tcp,tp_dst=${p}` });
            want6.delete(p);
          }
        }

        const port = `n${round}`;
        await sw.api.call('PortService', 'AddPort', { name: port, devargs: `net_null${round},no-rx=1` });
        if (round % RESTART_EVERY === RESTART_EVERY - 1) {
          await sw.restartDaemon();
          restarts++;
        }
        await sw.api.call('PortService', 'DeletePort', { port });
        expect((await sw.api.call('FlowService', 'DeleteFlows', { tableId: 5 })).changed).toBe(CHURN_FLOWS);

        rss.push(await rssKb(dpPid));
        if (round === 1) warm = rss[rss.length - 1];
        round++;
      }
    } finally {
      stop = true;
      await traffic;
    }
    // Let the last replies land.
    await new Promise((r) => setTimeout(r, 1500));

    // Memory: flat after warm-up.
    const last = await rssKb(dpPid);
    const growthMb = (last - warm) / 1024;
    console.log(`soak: ${round} rounds, ${restarts} daemon restarts, ${sent} pings (${answered} answered); dp VmRSS warm ${warm} kB, max ${Math.max(...rss)} kB, end ${last} kB (growth ${growthMb.toFixed(1)} MB, bound ${RSS_BOUND_MB} MB)`);
    expect(growthMb).toBeLessThanOrEqual(RSS_BOUND_MB);
    expect((await sw.api.call('SystemService', 'GetStatus', {})).dataplanePid, 'the data plane never restarted').toBe(dpPid);

    // Every packet accounted for.
    const s1 = await portStats(sw, 'p1');
    const s2 = await portStats(sw, 'p2');
    const rx = Number(s1.rxPackets) + Number(s2.rxPackets);
    const tx = Number(s1.txPackets) + Number(s2.txPackets);
    const dropped = sumDrops(s1.drops) + sumDrops(s2.drops);
    expect({ rx, accounted: tx + dropped }).toEqual({ rx, accounted: rx });
    expect(Number(s1.rxPackets), 'every ping request reached the switch').toBe(sent);
    expect(Number(s1.txPackets), 'every reply the switch sent to a was answered to ping').toBe(answered);
    expect(sent).toBeGreaterThan(0);

    // Final state = desired state.
    const ports = (await sw.api.call('PortService', 'ListPorts', {})).ports.map((p: any) => p.name).sort();
    expect(ports).toEqual(['p1', 'p2']);
    const flows = (await sw.api.call('FlowService', 'DumpFlows', {})).flows;
    const t6 = flows.filter((f: any) => f.tableId === 6).map((f: any) => Number(/tp_dst=(\d+)/.exec(f.match)![1])).sort((x: number, y: number) => x - y);
    expect(t6).toEqual([...want6].sort((x, y) => x - y));
    const rest = flows.filter((f: any) => f.tableId !== 6).map((f: any) => `${f.tableId}/${f.priority}/${f.match}/${f.actions}`).sort();
    expect(rest).toEqual(base);
    // The exported text holds the same flows (what `flow add --file` would restore).
    const exported = await sw.cli(['flow', 'dump', '--export']);
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim().split('\n').length).toBe(base.length + want6.size);
  }, SECONDS * 1000 + 120_000);
});
