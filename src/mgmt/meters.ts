/**
 * Meters: checking a MeterConfig (from a request or a file), its stored
 * form, and what to send a data plane so that its meters match the desired
 * ones. Shared by MeterService, the desired-state file, the declarative
 * configuration and reconciliation.
 *
 * A meter is 1..4 bands (dpdk-core/src/meters.h), each a token bucket: a
 * rate in kbit/s (frame bytes) or packets/s, a burst in kbit or packets
 * (absent: the data plane's default, 100 ms of the rate), and what happens
 * to a packet over it: drop (counted under drop reason `meter`) or
 * dscp_remark (the IP DSCP is rewritten to `dscp` and the packet goes on).
 * The band of the highest rate a packet exceeds handles it. A one-band
 * meter is written with rate, burst, band, dscp (as before bands); one with
 * several with `bands`. Flows use it with `actions=meter:N,...`.
 *
 * Deleting a meter that flows use is refused (FAILED_PRECONDITION naming a
 * flow): OpenFlow would delete those flows with it, which is easy to do by
 * accident and hard to undo. Delete the flows first.
 */
import type { Action, MeterBand, MeterDesc, MeterUnit } from './addon-types';
import type { MeterBandConfig, MeterConfig } from './state';
import { FieldError, fieldInt } from './errors';

export const METER_ID_MAX = 65535; // SY_METER_ID_MAX
export const METER_RATE_MAX = 100_000_000; // SY_METER_RATE_MAX
export const METER_UNITS: readonly MeterUnit[] = ['kbps', 'pps'];
export const METER_BANDS: readonly MeterBand[] = ['drop', 'dscp_remark'];
export const METER_BANDS_MAX = 4; // SY_METER_BANDS_MAX

/** A field of a meter that is wrong, and why. */
export class MeterError extends FieldError {}

function int(v: unknown, field: string, min: number, max: number, what: string): number {
  return fieldInt(MeterError, v, field, min, max, what);
}

function checkBand(v: unknown, where: string, unit: string): MeterBandConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MeterError(where, 'expected an object { type, rate, burst?, dscp? }');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['type', 'rate', 'burst', 'dscp'].includes(k)) throw new MeterError(`${where}.${k}`, 'unknown field (expected type, rate, burst, dscp)');
  const type = o.type ?? 'drop';
  if (!METER_BANDS.includes(type as MeterBand)) throw new MeterError(`${where}.type`, `'${String(type)}' is not one of drop, dscp_remark`);
  const b: MeterBandConfig = { type: type as MeterBand, rate: int(o.rate, `${where}.rate`, 1, METER_RATE_MAX, unit === 'pps' ? 'packets per second' : 'kbit/s') };
  if (o.burst !== undefined && o.burst !== 0) b.burst = int(o.burst, `${where}.burst`, 1, METER_RATE_MAX * 10, unit === 'pps' ? 'packets' : 'kbit');
  if (type === 'dscp_remark') b.dscp = int(o.dscp, `${where}.dscp`, 0, 63, 'the DSCP to write');
  else if (o.dscp !== undefined) throw new MeterError(`${where}.dscp`, 'only a dscp_remark band rewrites the DSCP');
  return b;
}

/**
 * Checks a meter (any value: it may come from a file) and returns it in
 * canonical form (no burst 0, no dscp on a drop band; several bands sorted
 * by rate, with rate..dscp the first one's; one band in `bands` folded into
 * rate..dscp). Field names are relative to `where` ("meter", "meters[2]").
 */
export function checkMeter(v: unknown, where = 'meter'): MeterConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MeterError(where, 'expected an object');
  const o = v as Record<string, unknown>;
  const id = int(o.id, `${where}.id`, 1, METER_ID_MAX, 'a meter id');
  const unit = o.unit ?? 'kbps';
  if (!METER_UNITS.includes(unit as MeterUnit)) throw new MeterError(`${where}.unit`, `'${String(unit)}' is not one of kbps, pps`);
  if (o.bands !== undefined) {
    for (const k of ['rate', 'burst', 'band', 'dscp']) {
      if (o[k] !== undefined && o[k] !== 0) throw new MeterError(`${where}.${k}`, 'give either bands or rate/burst/band/dscp, not both');
    }
    if (!Array.isArray(o.bands) || o.bands.length < 1 || o.bands.length > METER_BANDS_MAX) {
      throw new MeterError(`${where}.bands`, `expected a list of 1..${METER_BANDS_MAX} bands { type, rate, burst?, dscp? }`);
    }
    const bands = o.bands.map((b, i) => checkBand(b, `${where}.bands[${i}]`, unit as string));
    const seen = new Map<number, number>();
    bands.forEach((b, i) => {
      const j = seen.get(b.rate);
      if (j !== undefined) throw new MeterError(`${where}.bands[${i}].rate`, `${b.rate} is also bands[${j}]'s: each band needs its own rate`);
      seen.set(b.rate, i);
    });
    bands.sort((a, b) => a.rate - b.rate);
    const m: MeterConfig = { id, unit: unit as MeterUnit, rate: bands[0].rate, band: bands[0].type };
    if (bands[0].burst !== undefined) m.burst = bands[0].burst;
    if (bands[0].dscp !== undefined) m.dscp = bands[0].dscp;
    if (bands.length > 1) m.bands = bands;
    return m;
  }
  const rate = int(o.rate, `${where}.rate`, 1, METER_RATE_MAX, unit === 'pps' ? 'packets per second' : 'kbit/s');
  const band = o.band ?? 'drop';
  if (!METER_BANDS.includes(band as MeterBand)) throw new MeterError(`${where}.band`, `'${String(band)}' is not one of drop, dscp_remark`);
  const m: MeterConfig = { id, unit: unit as MeterUnit, rate, band: band as MeterBand };
  if (o.burst !== undefined && o.burst !== 0) m.burst = int(o.burst, `${where}.burst`, 1, METER_RATE_MAX * 10, unit === 'pps' ? 'packets' : 'kbit');
  if (band === 'dscp_remark') m.dscp = int(o.dscp, `${where}.dscp`, 0, 63, 'the DSCP to write');
  else if (o.dscp !== undefined) throw new MeterError(`${where}.dscp`, 'only a dscp_remark band rewrites the DSCP');
  return m;
}

function bandDoc(b: MeterBandConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { type: b.type, rate: b.rate };
  if (b.burst !== undefined) o.burst = b.burst;
  if (b.dscp !== undefined) o.dscp = b.dscp;
  return o;
}

/** The stored (file, journal, config export) form: one band as rate..dscp, several as bands. */
export function meterDoc(m: MeterConfig): Record<string, unknown> {
  if (m.bands && m.bands.length > 1) return { id: m.id, unit: m.unit, bands: m.bands.map(bandDoc) };
  const o: Record<string, unknown> = { id: m.id, unit: m.unit, rate: m.rate };
  if (m.burst !== undefined) o.burst = m.burst;
  o.band = m.band;
  if (m.dscp !== undefined) o.dscp = m.dscp;
  return o;
}

/** The bands of a checked meter (one: its rate..dscp). */
export function meterBands(m: MeterConfig): MeterBandConfig[] {
  if (m.bands && m.bands.length > 1) return m.bands;
  const b: MeterBandConfig = { type: m.band, rate: m.rate };
  if (m.burst !== undefined) b.burst = m.burst;
  if (m.dscp !== undefined) b.dscp = m.dscp;
  return [b];
}

/** Whether the data plane's meter is the desired one (a burst left to the default matches any). */
export function sameMeter(d: MeterConfig, a: MeterDesc): boolean {
  const want = meterBands(d);
  const have = a.bands ?? [{ type: a.band, rate: a.rate, burst: a.burst, dscp: a.dscp }];
  return (
    d.id === a.id &&
    d.unit === a.unit &&
    d.rate === a.rate && // the first band's, in both
    want.length === have.length &&
    want.every(
      (w, i) =>
        w.type === have[i].type &&
        w.rate === have[i].rate &&
        (w.burst === undefined || w.burst === have[i].burst) &&
        (w.type !== 'dscp_remark' || w.dscp === have[i].dscp),
    )
  );
}

export interface MeterPlan {
  /** Before the flows: meters to add or change. */
  adds: MeterConfig[];
  modifies: MeterConfig[];
  /** After the flows (that may use them) are gone. */
  deletes: number[];
}

export function planMeters(desired: readonly MeterConfig[], actual: readonly MeterDesc[]): MeterPlan {
  const plan: MeterPlan = { adds: [], modifies: [], deletes: [] };
  const want = new Map(desired.map((m) => [m.id, m]));
  const have = new Map(actual.map((m) => [m.id, m]));
  for (const a of actual) if (!want.has(a.id)) plan.deletes.push(a.id);
  for (const d of desired) {
    const a = have.get(d.id);
    if (!a) plan.adds.push(d);
    else if (!sameMeter(d, a)) plan.modifies.push(d);
  }
  return plan;
}

/** Whether an action list runs meter id. */
export function usesMeter(actions: readonly Action[], id: number): boolean {
  return actions.some((a) => a.type === 'meter' && a.meter === id);
}

/** Whether actions name group id (group:N); deleting a group some flow uses is refused. */
export function usesGroup(actions: readonly Action[], id: number): boolean {
  return actions.some((a) => a.type === 'group' && a.group === id);
}

/** Whether actions name mirror id (mirror:NAME); deleting a mirror some flow uses is refused. */
export function usesMirror(actions: readonly Action[], id: number): boolean {
  return actions.some((a) => a.type === 'mirror' && a.mirror === id);
}
