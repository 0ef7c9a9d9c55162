/**
 * Guest to guest over vhost-user, through the switch and through the
 * ceiling, in one run.
 *
 * Two guests, dpdk-testpmd on net_virtio_user listening on their sockets
 * (server=1): one txonly, one rxonly. Between them, in turn and on the same
 * sockets and cores:
 *   - testpmd --forward-mode=io with two net_vhost ports (client=1): the
 *     ceiling, nothing but vhost-user copies and a forwarding loop;
 *   - switchyard: two vhost ports and the flow in_port=vm1,actions=output:vm2.
 * The guests stay up across both (vhost-user reconnect); the rate is what
 * the rxonly guest receives (its Rx-pps: SAMPLES one-second samples after
 * WARMUP seconds, ROUNDS times alternating ceiling and switch; the median
 * is reported, with the range). At 64 and 9000 bytes. Then the same with
 * one flowgen guest on both sockets (both ways, 64 B), where no two busy
 * guests share a core. Results: build/bench/guests.{json,md}, BENCHMARKS.md.
 *
 * Cores: the middle (the switch's forwarding lcore, testpmd io's forwarding
 * lcore) runs alone on CPU 0; by default both guests forward on CPU 1 and
 * main lcores sit on CPU 1 and mostly sleep. On a two-core machine the two
 * busy-polling guests share a core and run in turns of a scheduler slice,
 * so the rate is bounded by how many frames a guest's ring holds per turn,
 * for both middles alike: the ratio to the ceiling is the figure that
 * matters. With more cores give each its own: BENCH_MIDDLE_LCORES=0,1
 * BENCH_TX_LCORES=1,2 BENCH_RX_LCORES=1,3 (a list is "main,forwarding").
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ceilingVersusSwitch, median, rangeText, testpmdRxPps, waitUntil } from '../lib/measure';
import { report, type Row } from '../lib/report';
import { startGuest, waitForwarding, type Guest } from '../../test/helpers/guests';
import { startSwitch, type Switch } from '../../test/helpers/switch';

const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SIZES = [64, 9000];
// Placement (-l, main lcore first): the middle forwards on CPU 0, each guest on the second lcore of its list.
const MIDDLE_LCORES = process.env.BENCH_MIDDLE_LCORES ?? '0,1'; // with --main-lcore = the second
const TX_LCORES = process.env.BENCH_TX_LCORES ?? '0,1';
const RX_LCORES = process.env.BENCH_RX_LCORES ?? '0,1';
const MIDDLE_MAIN = MIDDLE_LCORES.split(',')[1];

/** The rx guest's Rx-pps over the next SAMPLES seconds, after WARMUP. */
/** The ceiling: testpmd io between the two vhost-user sockets, forwarding on the switch's CPU. */
function ioBetween(prefix: string, sa: string, sb: string): Guest {
  return startGuest({
    prefix,
    vdev: `net_vhost0,iface=${sa},client=1,queues=1`,
    vdev2: `net_vhost1,iface=${sb},client=1,queues=1`,
    mode: 'io',
    lcores: MIDDLE_LCORES,
    eal: ['--main-lcore', MIDDLE_MAIN],
    memMb: 512,
    args: ['--total-num-mbufs=16384'],
  });
}

/** The switch on the same sockets (ports vm1, vm2), its forwarding lcore where the ceiling's was; MTU 9000 for jumbo sizes. */
async function switchBetween(sa: string, sb: string, size: number, flows: string[]): Promise<Switch> {
  const sw = await startSwitch({
    lcores: MIDDLE_LCORES,
    ealArgs: `--main-lcore ${MIDDLE_MAIN}`,
    ports: [
      { name: 'vm1', devargs: `net_vhost0,iface=${sa}` },
      { name: 'vm2', devargs: `net_vhost1,iface=${sb}` },
    ],
    flows,
  });
  try {
    if (size > 1500) {
      for (const p of ['vm1', 'vm2']) expect((await sw.cli(['port', 'set', p, '--mtu', '9000'])).code).toBe(0);
    }
  } catch (e) {
    await sw.stop();
    throw e;
  }
  return sw;
}

function measure(rx: Guest, ports = 1): Promise<number[]> {
  return testpmdRxPps(rx.output, { warmupS: WARMUP_S, samples: SAMPLES, ports });
}

function row(pathName: string, size: number, pps: number, note?: string): Row {
  return { path: pathName, frameBytes: size, mpps: pps / 1e6, gbps: (pps * size * 8) / 1e9, note };
}

const rows: Row[] = [];
const details: Record<string, unknown> = {};

describe('guests: vhost-user guest to guest', () => {
  afterAll(async () => {
    const md = await report({ scenario: 'guests', mode: 'no-huge (EAL --no-huge on every process)', command: 'npm run bench -- guests', rows, details });
    console.log(`\n${md}`);
  });

  it('txonly guest -> rxonly guest: switch vs testpmd io ceiling, 64 B and 9000 B', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-bench-'));
    const tag = `${process.pid}`;
    try {
      for (const size of SIZES) {
        // Deep rings: both guests share a core and run in scheduler time slices.
        const rings = ['--rxd=1024', '--txd=1024'];
        const jumbo = [...rings, ...(size > 1500 ? ['--mbuf-size=10240', '--max-pkt-len=9018'] : [])];
        const sa = path.join(dir, `a${size}.sock`);
        const sb = path.join(dir, `b${size}.sock`);
        const rx = startGuest({ prefix: `sy-bench-${tag}-rx${size}`, vdev: `net_virtio_user0,path=${sb},server=1,queues=1,queue_size=1024`, mode: 'rxonly', lcores: RX_LCORES, args: jumbo });
        const tx = startGuest({
          prefix: `sy-bench-${tag}-tx${size}`,
          vdev: `net_virtio_user0,path=${sa},server=1,queues=1,queue_size=1024`,
          mode: 'txonly',
          lcores: TX_LCORES,
          args: [...jumbo, `--txpkts=${size}`],
        });
        try {
          await waitUntil('the guests to listen', async () => (await fs.readdir(dir)).filter((f) => f.includes(`${size}.sock`)).length === 2, 20_000);

          let stats: any;
          const samples = await ceilingVersusSwitch(ROUNDS, {
            // The ceiling: testpmd io between the same two sockets, forwarding on CPU 0.
            ceiling: async () => {
              const io = ioBetween(`sy-bench-${tag}-io${size}`, sa, sb);
              try {
                await waitForwarding(io);
                await waitForwarding(tx);
                return await measure(rx);
              } finally {
                await io.stop();
              }
            },
            // The switch on the same sockets, its forwarding lcore on CPU 0.
            switch: async () => {
              const sw = await switchBetween(sa, sb, size, ['table=0,priority=10,in_port=vm1,actions=output:vm2']);
              try {
                const xs = await measure(rx);
                stats = await sw.cliJson(['stats']);
                return xs;
              } finally {
                await sw.stop(); // the guests wait for the next one to connect
              }
            },
          });
          await tx.stop();
          await rx.stop();
          const ceiling = median(samples.ceiling);
          const through = median(samples.switch);
          rows.push(row('txonly -> rxonly: testpmd io (ceiling)', size, ceiling, `samples ${rangeText(samples.ceiling)}`));
          const pct = (100 * through) / ceiling;
          rows.push(row('txonly -> rxonly: switchyard', size, through, `${pct.toFixed(0)}% of the ceiling; samples ${rangeText(samples.switch)}; copies ${stats.copies}`));
          details[`${size}`] = { ceilingSamples: samples.ceiling, switchSamples: samples.switch, switchStats: stats };
        } finally {
          await tx.kill();
          await rx.kill();
        }
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    expect(rows.length).toBe(2 * SIZES.length);
  });


  // One guest process with both virtio-user ports in flowgen mode (sends on
  // both, receives and drops on both, on one forwarding lcore on CPU 1): no
  // two busy guests share a core, so the middle's own cost shows. Traffic
  // crosses the middle both ways.
  it('one flowgen guest on two ports, both ways: switch vs testpmd io ceiling', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-bench-'));
    const tag = `${process.pid}`;
    try {
      // flowgen makes 64-byte frames whatever --txpkts says: 64 B only.
      for (const size of [64]) {
        const args = ['--rxd=1024', '--txd=1024'];
        const sa = path.join(dir, `fa${size}.sock`);
        const sb = path.join(dir, `fb${size}.sock`);
        const g = startGuest({
          prefix: `sy-bench-${tag}-fg${size}`,
          vdev: `net_virtio_user0,path=${sa},server=1,queues=1,queue_size=1024`,
          vdev2: `net_virtio_user1,path=${sb},server=1,queues=1,queue_size=1024`,
          mode: 'flowgen',
          lcores: TX_LCORES,
          args,
        });
        try {
          // virtio-user server=1 waits in its probe for the first port's client
          // before it makes the second socket; vhost clients retry until it exists.
          await waitUntil('the guest to listen', async () => (await fs.readdir(dir)).includes(`fa${size}.sock`), 20_000);
          let stats: any;
          const samples = await ceilingVersusSwitch(ROUNDS, {
            ceiling: async () => {
              const io = ioBetween(`sy-bench-${tag}-fio${size}`, sa, sb);
              try {
                await waitForwarding(io);
                await waitForwarding(g);
                return await measure(g, 2);
              } finally {
                await io.stop();
              }
            },
            switch: async () => {
              const sw = await switchBetween(sa, sb, size, [
                'table=0,priority=10,in_port=vm1,actions=output:vm2',
                'table=0,priority=10,in_port=vm2,actions=output:vm1',
              ]);
              try {
                const xs = await measure(g, 2);
                stats = await sw.cliJson(['stats']);
                const p1 = await sw.cliJson<any[]>(['port', 'stats', 'vm1']);
                stats.frameBytes = Number(p1[0].rxBytes) / Number(p1[0].rxPackets); // the frames really are `size` bytes
                return xs;
              } finally {
                await sw.stop();
              }
            },
          });
          await g.stop();
          const ceiling = median(samples.ceiling);
          const through = median(samples.switch);
          rows.push(row('flowgen guest, both ways: testpmd io (ceiling)', size, ceiling, `samples ${rangeText(samples.ceiling)}`));
          rows.push(
            row('flowgen guest, both ways: switchyard', size, through, `${((100 * through) / ceiling).toFixed(0)}% of the ceiling; samples ${rangeText(samples.switch)}; frames ${stats.frameBytes.toFixed(0)} B; copies ${stats.copies}`),
          );
          details[`flowgen-${size}`] = { ceilingSamples: samples.ceiling, switchSamples: samples.switch, switchStats: stats };
        } finally {
          await g.kill();
        }
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
