/**
 * Rates from cumulative counters: the arithmetic of WatchStats (and of the
 * Prometheus busy ratio), kept pure so that its edge cases are tested alone.
 *
 * A counter that goes backwards was reset meanwhile (ClearPortStats,
 * ClearPmdStats, a port deleted and added again, a data plane restart): the
 * interval's increase is unknown, so its rate is 0 rather than a negative
 * or absurd number. Ratios (busy share, cycles per packet, cache hit rate)
 * over an interval with a reset are taken over the counters since the reset,
 * which all lie inside the interval.
 */
import type { PmdStats } from './addon-types';

/**
 * How the clock moved between two snapshots: the interval in ns; 'first'
 * without a previous one; 'same' if it did not move (the counters were not
 * read again: wait for the next); 'backwards' if it went back (another clock:
 * a new data plane, or a switch between the stats segment and messages),
 * which starts over as a first sample.
 */
export type Interval = bigint | 'first' | 'same' | 'backwards';

export function intervalBetween(prevNs: bigint | undefined, curNs: bigint): Interval {
  if (prevNs === undefined) return 'first';
  if (curNs === prevNs) return 'same';
  if (curNs < prevNs) return 'backwards';
  return curNs - prevNs;
}

/** The increase of a counter, or null if it went backwards (a reset) or has no previous value. */
export function increase(prev: bigint | undefined, cur: bigint): bigint | null {
  if (prev === undefined || cur < prev) return null;
  return cur - prev;
}

/** Per second over intervalNs; 0 without a previous value, on a reset, or without an interval. */
export function ratePerSec(prev: bigint | undefined, cur: bigint, intervalNs: bigint): number {
  const d = increase(prev, cur);
  if (d === null || intervalNs <= 0n) return 0;
  return (Number(d) * 1e9) / Number(intervalNs);
}

/** A named counter with its rate, as in the Counter message (value still a bigint). */
export interface CounterRate {
  name: string;
  value: bigint;
  rate: number;
}

export function counterRate(name: string, cur: bigint, prev: bigint | undefined, intervalNs: bigint): CounterRate {
  return { name, value: cur, rate: ratePerSec(prev, cur, intervalNs) };
}

/** num / den, 0 when den is 0. */
function share(num: bigint, den: bigint): number {
  return den > 0n ? Number(num) / Number(den) : 0;
}

export interface PmdRatios {
  /** Busy cycles / all cycles, 0..1. */
  busyRatio: number;
  /** Busy cycles per packet received (0 without packets). */
  cyclesPerPacket: number;
  /** Flow cache hits / lookups, 0..1 (0 without lookups). */
  cacheHitRate: number;
}

type PmdCounters = Pick<PmdStats, 'packets' | 'busyCycles' | 'idleCycles' | 'cacheHits' | 'cacheMisses'>;

/**
 * A PMD lcore's ratios over the interval since `prev`; since its counters
 * started (or were cleared) without `prev`, or if any of them went back.
 */
export function pmdRatios(prev: PmdCounters | undefined, cur: PmdCounters): PmdRatios {
  const keys = ['packets', 'busyCycles', 'idleCycles', 'cacheHits', 'cacheMisses'] as const;
  const reset = prev === undefined || keys.some((k) => cur[k] < prev[k]);
  const d = (k: (typeof keys)[number]) => (reset ? cur[k] : cur[k] - prev![k]);
  const busy = d('busyCycles');
  const hits = d('cacheHits');
  return {
    busyRatio: share(busy, busy + d('idleCycles')),
    cyclesPerPacket: share(busy, d('packets')),
    cacheHitRate: share(hits, hits + d('cacheMisses')),
  };
}
