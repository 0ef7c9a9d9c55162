/**
 * What every benchmark scenario does the same way: alternate the ceiling
 * (testpmd io) and the switch on the same traffic and cores, take rate
 * samples after a warm-up, and summarise them as a median with the range.
 */
import { rxPpsSamples } from '../../test/helpers/guests';
import { sleep, waitUntil } from '../../test/helpers/switch';

export { sleep, waitUntil };

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median, min and max of samples (NaN for none). */
export function spread(xs: number[]): Spread {
  return { median: median(xs), min: xs.length ? Math.min(...xs) : NaN, max: xs.length ? Math.max(...xs) : NaN };
}

/** "0.13..0.14 Mpps" from samples in packets per second. */
export function rangeText(xs: number[]): string {
  return `${(Math.min(...xs) / 1e6).toFixed(2)}..${(Math.max(...xs) / 1e6).toFixed(2)} Mpps`;
}

export interface SampleOptions {
  warmupS: number;
  samples: number;
  /** how many ports testpmd prints per period (their Rx-pps are summed per period) */
  ports?: number;
}

/**
 * testpmd's Rx-pps (--stats-period) over the next `samples` periods after
 * `warmupS` seconds, summed over its `ports` ports per period. `output`
 * returns everything the testpmd process printed so far.
 */
export async function testpmdRxPps(output: () => string, o: SampleOptions): Promise<number[]> {
  const ports = o.ports ?? 1;
  await sleep(o.warmupS * 1000);
  const n = o.samples * ports;
  let from = rxPpsSamples(output()).length;
  from -= from % ports; // start at a sample of port 0
  await waitUntil('rate samples', async () => rxPpsSamples(output()).length >= from + n, (o.samples * 3 + 10) * 1000, 200);
  const all = rxPpsSamples(output()).slice(from, from + n);
  const out: number[] = [];
  for (let i = 0; i < all.length; i += ports) out.push(all.slice(i, i + ports).reduce((a, b) => a + b, 0));
  return out;
}

/**
 * Runs the ceiling, then the switch, `rounds` times back to back, each
 * bringing up its own middle and returning its samples; returns every
 * sample of each, in order.
 */
export async function ceilingVersusSwitch<C, S>(rounds: number, legs: { ceiling: (round: number) => Promise<C[]>; switch: (round: number) => Promise<S[]> }): Promise<{ ceiling: C[]; switch: S[] }> {
  const out = { ceiling: [] as C[], switch: [] as S[] };
  for (let round = 0; round < rounds; round++) {
    out.ceiling.push(...(await legs.ceiling(round)));
    out.switch.push(...(await legs.switch(round)));
  }
  return out;
}
