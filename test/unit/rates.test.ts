/**
 * The rate arithmetic of WatchStats (src/mgmt/rates.ts) and the samples
 * built from it (buildStatsSample): rates per second over the snapshots'
 * clock, 0 in a first sample, and a counter that goes backwards (a clear, a
 * data plane restart) taken as a reset, never as a negative or absurd rate.
 */
import { describe, expect, it } from 'vitest';
import type { PmdStats, StatsSnapshot } from '../../src/mgmt/addon-types';
import { counterRate, increase, intervalBetween, pmdRatios, ratePerSec } from '../../src/mgmt/rates';
import { buildStatsSample, cookieSamples, type SampleContext } from '../../src/mgmt/stats-service';

const SEC = 1_000_000_000n;

describe('intervalBetween', () => {
  it('is the time between two reads, or says why there is none', () => {
    expect(intervalBetween(undefined, 5n)).toBe('first');
    expect(intervalBetween(5n, 5n)).toBe('same');
    expect(intervalBetween(7n, 5n)).toBe('backwards');
    expect(intervalBetween(5n, 5n + SEC)).toBe(SEC);
  });
});

describe('ratePerSec', () => {
  it('is the increase per second over the interval', () => {
    expect(ratePerSec(1000n, 3000n, SEC)).toBe(2000);
    expect(ratePerSec(0n, 500n, SEC / 2n)).toBe(1000);
    expect(ratePerSec(10n, 10n, SEC)).toBe(0);
  });

  it('is 0 without a previous value or an interval', () => {
    expect(ratePerSec(undefined, 1000n, SEC)).toBe(0);
    expect(ratePerSec(0n, 1000n, 0n)).toBe(0);
  });

  it('takes a counter that went backwards as a reset: rate 0, never negative', () => {
    expect(increase(5000n, 10n)).toBeNull();
    expect(ratePerSec(5000n, 10n, SEC)).toBe(0);
  });

  it('keeps 64-bit counters beyond 2^53 exact in the increase', () => {
    const big = 2n ** 63n;
    expect(increase(big, big + 3n)).toBe(3n);
    expect(ratePerSec(big, big + 3n, SEC)).toBe(3);
  });

  it('names the counter with its value', () => {
    expect(counterRate('rx_packets', 300n, 100n, 2n * SEC)).toEqual({ name: 'rx_packets', value: 300n, rate: 100 });
  });
});

const pmd = (o: Partial<PmdStats> = {}): PmdStats => ({
  slot: 0,
  lcoreId: 1,
  cpu: 1,
  packets: 0n,
  busyCycles: 0n,
  idleCycles: 0n,
  cacheHits: 0n,
  cacheMisses: 0n,
  clsLookups: 0n,
  clsProbes: 0n,
  rxqs: [],
  ...o,
});

describe('pmdRatios', () => {
  it('are over the interval, not since start', () => {
    const a = pmd({ packets: 1000n, busyCycles: 100_000n, idleCycles: 900_000n, cacheHits: 0n, cacheMisses: 1000n });
    const b = pmd({ packets: 3000n, busyCycles: 700_000n, idleCycles: 1_300_000n, cacheHits: 1800n, cacheMisses: 1200n });
    expect(pmdRatios(a, b)).toEqual({ busyRatio: 0.6, cyclesPerPacket: 300, cacheHitRate: 0.9 });
  });

  it('are since start without a previous read', () => {
    expect(pmdRatios(undefined, pmd({ packets: 10n, busyCycles: 250n, idleCycles: 750n, cacheHits: 5n, cacheMisses: 5n }))).toEqual({
      busyRatio: 0.25,
      cyclesPerPacket: 25,
      cacheHitRate: 0.5,
    });
  });

  it('are since the clear when the counters went back (ClearPmdStats)', () => {
    const before = pmd({ packets: 1_000_000n, busyCycles: 9_000_000n, idleCycles: 1_000_000n, cacheHits: 1_000_000n });
    const after = pmd({ packets: 100n, busyCycles: 1000n, idleCycles: 3000n, cacheHits: 50n, cacheMisses: 50n });
    expect(pmdRatios(before, after)).toEqual({ busyRatio: 0.25, cyclesPerPacket: 10, cacheHitRate: 0.5 });
  });

  it('are 0 for an idle lcore, not NaN', () => {
    const a = pmd({ idleCycles: 100n });
    expect(pmdRatios(a, a)).toEqual({ busyRatio: 0, cyclesPerPacket: 0, cacheHitRate: 0 });
  });
});

const port = (id: number, rx: bigint, o: Partial<StatsSnapshot['ports'][number]> = {}): StatsSnapshot['ports'][number] => ({
  id,
  rxPackets: rx,
  rxBytes: rx * 64n,
  txPackets: 0n,
  txBytes: 0n,
  rxErrors: 0n,
  txErrors: 0n,
  rxMissed: 0n,
  drops: { table_miss: 0n, too_big: 0n },
  linkUp: true,
  ...o,
});

const snap = (timeNs: bigint, o: Partial<StatsSnapshot> = {}): StatsSnapshot => ({
  timeNs,
  rxPackets: 0n,
  txPackets: 0n,
  drops: { table_miss: 0n, too_big: 0n },
  ports: [],
  tables: [],
  pmds: [],
  ...o,
});

const ctx: SampleContext = {
  portName: (id) => ({ 1: 'p1', 2: 'p2' })[id],
  tableName: (id) => (id === 0 ? 'classify' : ''),
  reasons: ['table_miss', 'too_big'],
};

describe('buildStatsSample', () => {
  it('first sample: counters with rate 0 and interval 0', () => {
    const s = buildStatsSample(null, snap(10n * SEC, { rxPackets: 500n, ports: [port(1, 500n)] }), ctx);
    expect(s.intervalNs).toBe('0');
    expect(s.timeNs).toBe('10000000000');
    expect(s.rxPackets).toEqual({ name: 'rx_packets', value: '500', rate: 0 });
    expect(s.ports![0]).toMatchObject({ id: 1, name: 'p1', linkUp: true, rxPackets: { value: '500', rate: 0 } });
  });

  it('rates per second over the snapshots clock: ports, bytes, drops, tables, pmds', () => {
    const a = snap(10n * SEC, {
      rxPackets: 1000n,
      drops: { table_miss: 10n, too_big: 0n },
      ports: [port(1, 1000n, { drops: { table_miss: 10n, too_big: 0n } }), port(2, 0n, { txPackets: 990n })],
      tables: [{ id: 0, nFlows: 2, lookups: 1000n, matched: 990n }],
      pmds: [pmd({ packets: 1000n, busyCycles: 1000n, idleCycles: 1000n })],
    });
    const b = snap(12n * SEC, {
      rxPackets: 5000n,
      drops: { table_miss: 30n, too_big: 0n },
      ports: [port(1, 5000n, { drops: { table_miss: 30n, too_big: 0n } }), port(2, 0n, { txPackets: 4970n })],
      tables: [{ id: 0, nFlows: 2, lookups: 5000n, matched: 4970n }],
      pmds: [pmd({ packets: 5000n, busyCycles: 5000n, idleCycles: 1000n })],
    });
    const s = buildStatsSample(a, b, ctx);
    expect(s.intervalNs).toBe('2000000000');
    expect(s.rxPackets!.rate).toBe(2000);
    expect(s.drops).toEqual([
      { name: 'table_miss', value: '30', rate: 10 },
      { name: 'too_big', value: '0', rate: 0 },
    ]);
    const [p1, p2] = s.ports!;
    expect(p1.rxPackets!.rate).toBe(2000);
    expect(p1.rxBytes!.rate).toBe(2000 * 64);
    expect(p1.drops).toEqual({ name: 'drops', value: '30', rate: 10 });
    expect(p1.dropsByReason).toEqual([{ name: 'table_miss', value: '30', rate: 10 }]); // non-zero reasons only
    expect(p2.txPackets!.rate).toBe(1990);
    expect(p2.dropsByReason).toEqual([]);
    expect(s.tables).toEqual([
      { id: 0, name: 'classify', flows: 2, lookups: { name: 'lookups', value: '5000', rate: 2000 }, matched: { name: 'matched', value: '4970', rate: 1990 } },
    ]);
    expect(s.pmds![0]).toMatchObject({ slot: 0, lcoreId: 1, packets: { rate: 2000 }, busyRatio: 1, cyclesPerPacket: 1 });
  });

  it('a cleared port (ClearPortStats) has rate 0 for that interval, then rates again', () => {
    const a = snap(1n * SEC, { ports: [port(1, 1_000_000n)] });
    const b = snap(2n * SEC, { ports: [port(1, 300n)] });
    const c = snap(3n * SEC, { ports: [port(1, 1300n)] });
    const s1 = buildStatsSample(a, b, ctx);
    expect(s1.ports![0].rxPackets).toEqual({ name: 'rx_packets', value: '300', rate: 0 });
    expect(s1.ports![0].rxBytes!.rate).toBe(0);
    const s2 = buildStatsSample(b, c, ctx);
    expect(s2.ports![0].rxPackets!.rate).toBe(1000);
  });

  it('a port new since the last sample starts at rate 0', () => {
    const s = buildStatsSample(snap(SEC, { ports: [] }), snap(2n * SEC, { ports: [port(2, 5000n)] }), ctx);
    expect(s.ports![0]).toMatchObject({ name: 'p2', rxPackets: { value: '5000', rate: 0 } });
  });

  it('keeps only the ports asked for, in port order', () => {
    const cur = snap(SEC, { ports: [port(2, 1n), port(1, 1n)] });
    expect(buildStatsSample(null, cur, ctx).ports!.map((p) => p.name)).toEqual(['p1', 'p2']);
    expect(buildStatsSample(null, cur, { ...ctx, ports: new Set([2]) }).ports!.map((p) => p.name)).toEqual(['p2']);
  });

});

describe('cookieSamples', () => {
  it('rates per cookie between two reads of the flows', () => {
    const a = { timeNs: 10n * SEC, cookies: [{ cookie: 0x10n, flows: 2, packets: 990n, bytes: 990n * 64n }] };
    const b = {
      timeNs: 12n * SEC,
      cookies: [
        { cookie: 0x10n, flows: 2, packets: 4970n, bytes: 4970n * 64n },
        { cookie: 0x20n, flows: 1, packets: 100n, bytes: 6400n },
      ],
    };
    expect(cookieSamples(a, b)).toEqual([
      { cookie: '16', flows: 2, packets: { name: 'packets', value: '4970', rate: 1990 }, bytes: { name: 'bytes', value: String(4970 * 64), rate: 1990 * 64 } },
      { cookie: '32', flows: 1, packets: { name: 'packets', value: '100', rate: 0 }, bytes: { name: 'bytes', value: '6400', rate: 0 } }, // new: no rate yet
    ]);
  });

  it('a cookie that lost a flow (its sum went back) has rate 0, not a negative one', () => {
    const a = { timeNs: SEC, cookies: [{ cookie: 1n, flows: 2, packets: 1000n, bytes: 64000n }] };
    const b = { timeNs: 2n * SEC, cookies: [{ cookie: 1n, flows: 1, packets: 600n, bytes: 38400n }] };
    expect(cookieSamples(a, b)[0].packets).toEqual({ name: 'packets', value: '600', rate: 0 });
  });

  it('a first read has rate 0', () => {
    expect(cookieSamples(null, { timeNs: SEC, cookies: [{ cookie: 1n, flows: 1, packets: 5n, bytes: 320n }] })[0].packets!.rate).toBe(0);
  });
});
