/**
 * Containers on memif: dpdk-testpmd with net_memif as the guests, the
 * switch in both roles.
 *
 * Port m1 is the memif server and a txonly guest connects to it as a
 * client; port m2 is a memif client (zero-copy: the guest's ring slots
 * point into the switch's own mbufs) of an rxonly guest that serves. Frames
 * cross m1 -> m2, the counts agree at every step, and the switch copies
 * nothing. Guests stop before the switch (testpmd as memif server may crash
 * on SIGINT otherwise).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGuest, waitForwarding, type Guest } from '../helpers/guests';
import { IS_ROOT } from '../helpers/paths';
import { nonZeroDrops, portStats, startSwitch, waitUntil, type Switch } from '../helpers/switch';

describe.skipIf(!IS_ROOT)('memif guests, the switch as server and as client', () => {
  let dir: string;
  let sw: Switch | undefined;
  const guests: Guest[] = [];
  const tag = `${process.pid}`;
  let txg: Guest;
  let rxg: Guest;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-memif-'));
    const s1 = path.join(dir, 'm1.sock');
    const s2 = path.join(dir, 'm2.sock');
    // The serving guest first, then the switch (server of m1, client of m2), then the client guest.
    rxg = startGuest({ prefix: `sy-memif-${tag}-rx`, vdev: `net_memif0,role=server,socket=${s2},socket-abstract=no`, mode: 'rxonly' });
    guests.push(rxg);
    await waitForwarding(rxg);
    sw = await startSwitch({
      ports: [
        { name: 'm1', devargs: `net_memif0,role=server,socket=${s1},socket-abstract=no` },
        { name: 'm2', devargs: `net_memif1,role=client,socket=${s2},socket-abstract=no,zero-copy=yes` },
      ],
      flows: ['table=0,priority=10,in_port=m1,actions=output:m2'],
      waitLinkUp: false,
    });
    await waitUntil('m1 to listen', async () => (await fs.readdir(dir)).includes('m1.sock'), 20_000);
    txg = startGuest({ prefix: `sy-memif-${tag}-tx`, vdev: `net_memif0,role=client,socket=${s1},socket-abstract=no`, mode: 'txonly' });
    guests.push(txg);
  });

  afterAll(async () => {
    for (const g of guests) await g.stop().catch(() => undefined);
    await sw?.stop();
    for (const g of guests) await g.kill().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('both memif links come up and frames cross m1 -> m2', async () => {
    await waitForwarding(txg);
    await waitUntil(
      'both memif links up',
      async () => {
        const ports = await sw!.cliJson<any[]>(['port', 'list']);
        return ports.length === 2 && ports.every((p) => p.linkUp);
      },
      30_000,
      200,
    );
    const ports = await sw!.cliJson<any[]>(['port', 'list']);
    expect(ports.map((p) => p.driver)).toEqual(['net_memif', 'net_memif']);
    await waitUntil('frames to reach m2', async () => Number((await portStats(sw!, 'm2')).txPackets) > 10_000, 20_000, 200);
  });

  it('counts agree, and the switch copies nothing', async () => {
    const [txTotals] = await txg.stop();
    let last = -1;
    const rx1 = await waitUntil('m1 rx to settle', async () => {
      const n = Number((await portStats(sw!, 'm1')).rxPackets);
      const done = n === last;
      last = n;
      return done ? n : undefined;
    }, 10_000, 300);
    const [rxTotals] = await rxg.stop();
    const m1 = await portStats(sw!, 'm1');
    const m2 = await portStats(sw!, 'm2');
    expect(rx1).toBe(txTotals.tx); // every frame the guest queued, the switch took
    expect(Number(m1.rxBytes)).toBe(64 * rx1);
    expect(nonZeroDrops(m1)).toEqual({});
    expect(Number(m2.txPackets) + (Number(m2.drops.tx_full) || 0)).toBe(rx1);
    expect(Object.keys(nonZeroDrops(m2)).filter((k) => k !== 'tx_full')).toEqual([]);
    expect(rxTotals.rx).toBe(Number(m2.txPackets));
    expect((await sw!.cliJson<any>(['stats'])).copies).toBe('0');
  });
});
