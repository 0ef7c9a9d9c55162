/**
 * Port egress QoS: checking a port's QoS (from a request, the desired-state
 * file or a configuration document), its stored form, and the rate and
 * size texts people write for it. Shared by PortService, the state file,
 * the declarative configuration, reconciliation and the CLI.
 *
 * A port's QoS (dpdk-core/src/qos.h) is a policer on what it sends: a rate
 * in kbit/s of frame bytes and a burst in kbit (absent: the data plane's
 * default, 100 ms of the rate, at least 25 kbit), and up to 8 queues with
 * rates of their own. A packet that went through `set_queue:N` is charged
 * to queue N's bucket and then to the port's; queue 0 holds the packets
 * without set_queue and those naming a queue the port does not configure.
 * Over-rate packets are dropped and counted under drop reason `policed` of
 * the port.
 *
 * Text forms (the CLI's --egress-rate, --egress-burst, --queue):
 *   rates:  a plain number is kbit/s (as OVS's ingress_policing_rate), or a
 *           number with a unit: bit, kbit, mbit, gbit (per second; tc's
 *           units, k/m/g = 1000s), e.g. 100mbit, 1.5gbit, 64000
 *   bursts: a plain number is kbit (as OVS's ingress_policing_burst), or
 *           kbit, mbit, or bytes as tc writes them: b, kb, mb (1 kb = 8 kbit)
 *   queue:  N=RATE[/BURST], N 0..7
 */
import type { PortQosConfig, QosQueue } from './addon-types';
import { QOS_QUEUES } from './addon-types';
import { FieldError, fieldInt } from './errors';

export const QOS_RATE_MAX = 100_000_000; // SY_METER_RATE_MAX, kbit/s
export const QOS_BURST_MAX = QOS_RATE_MAX * 10; // kbit

/** A field of a QoS setting that is wrong, and why. */
export class QosError extends FieldError {}

function int(v: unknown, field: string, min: number, max: number, what: string): number {
  return fieldInt(QosError, v, field, min, max, what);
}

/**
 * Checks a port's QoS (any value: it may come from a file) and returns it
 * in canonical form (no burst 0, queues in order), or undefined when it
 * limits nothing (rate 0 and no queues). Fields are relative to `where`.
 */
export function checkQos(v: unknown, where = 'qos'): PortQosConfig | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new QosError(where, 'expected an object { rate, burst?, queues? }');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['rate', 'burst', 'queues'].includes(k)) throw new QosError(`${where}.${k}`, 'unknown field (expected rate, burst, queues)');
  const rate = o.rate === undefined ? 0 : int(o.rate, `${where}.rate`, 0, QOS_RATE_MAX, 'kbit/s, 0: no port limit');
  const q: PortQosConfig = { rate };
  if (o.burst !== undefined && o.burst !== 0) {
    if (rate === 0) throw new QosError(`${where}.burst`, 'a burst needs a rate');
    q.burst = int(o.burst, `${where}.burst`, 1, QOS_BURST_MAX, 'kbit');
  }
  if (o.queues !== undefined) {
    if (!Array.isArray(o.queues)) throw new QosError(`${where}.queues`, 'expected a list of { queue, rate, burst? }');
    const qs: QosQueue[] = [];
    o.queues.forEach((e, i) => {
      const w = `${where}.queues[${i}]`;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new QosError(w, 'expected an object { queue, rate, burst? }');
      const eo = e as Record<string, unknown>;
      const id = int(eo.queue, `${w}.queue`, 0, QOS_QUEUES - 1, 'a queue number');
      if (qs.some((x) => x.queue === id)) throw new QosError(`${w}.queue`, `queue ${id} appears twice`);
      const x: QosQueue = { queue: id, rate: int(eo.rate, `${w}.rate`, 1, QOS_RATE_MAX, 'kbit/s') };
      if (eo.burst !== undefined && eo.burst !== 0) x.burst = int(eo.burst, `${w}.burst`, 1, QOS_BURST_MAX, 'kbit');
      qs.push(x);
    });
    if (qs.length) q.queues = qs.sort((a, b) => a.queue - b.queue);
  }
  return q.rate === 0 && !q.queues ? undefined : q;
}

/** The stored (and document) form of a checked QoS. */
export function qosDoc(q: PortQosConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { rate: q.rate };
  if (q.burst !== undefined) o.burst = q.burst;
  if (q.queues?.length) o.queues = q.queues.map((x) => (x.burst !== undefined ? { queue: x.queue, rate: x.rate, burst: x.burst } : { queue: x.queue, rate: x.rate }));
  return o;
}

/** Whether two checked QoS settings (undefined: none) are the same request. */
export function sameQos(a: PortQosConfig | undefined, b: PortQosConfig | undefined): boolean {
  return JSON.stringify(a ? qosDoc(a) : null) === JSON.stringify(b ? qosDoc(b) : null);
}

/**
 * Whether a port runs the desired QoS (undefined: none): the same rates,
 * and the same bursts where the desired one gives a burst (else the data
 * plane's default, whatever it resolved to).
 */
export function qosRuns(want: PortQosConfig | undefined, have: { rate: number; burst: number; queues: { queue: number; rate: number; burst: number }[] }): boolean {
  if (!want) return have.rate === 0 && have.queues.length === 0;
  if (want.rate !== have.rate || (want.burst !== undefined && want.burst !== have.burst)) return false;
  const wq = want.queues ?? [];
  if (wq.length !== have.queues.length) return false;
  return wq.every((x) => {
    const h = have.queues.find((y) => y.queue === x.queue);
    return h !== undefined && h.rate === x.rate && (x.burst === undefined || x.burst === h.burst);
  });
}

/** One line for logs and the CLI: "100000 kbit/s burst 64 kbit, queue 1 10000 kbit/s". */
export function qosText(q: { rate: number; burst?: number; queues?: QosQueue[] } | undefined): string {
  if (!q || (q.rate === 0 && !q.queues?.length)) return 'none';
  const parts: string[] = [];
  if (q.rate) parts.push(`${q.rate} kbit/s` + (q.burst ? ` burst ${q.burst} kbit` : ''));
  for (const x of q.queues ?? []) parts.push(`queue ${x.queue} ${x.rate} kbit/s` + (x.burst ? ` burst ${x.burst} kbit` : ''));
  return parts.join(', ');
}

const RATE_UNITS: Record<string, number> = { '': 1, bit: 0.001, kbit: 1, mbit: 1000, gbit: 1_000_000 };
const BURST_UNITS: Record<string, number> = { '': 1, kbit: 1, mbit: 1000, b: 0.008, kb: 8, mb: 8000 };

function sized(text: string, units: Record<string, number>, flag: string, what: string, max: number, allowZero: boolean): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-z]*)$/i.exec(text.trim());
  const unit = m?.[2].toLowerCase();
  if (!m || unit === undefined || !(unit in units)) {
    throw new QosError(flag, `'${text}' is not ${what}: a number, plain (${units === RATE_UNITS ? 'kbit/s' : 'kbit'}) or with a unit (${Object.keys(units).filter(Boolean).join(', ')})`);
  }
  const kbit = Number(m[1]) * units[unit];
  if (kbit === 0 && allowZero) return 0;
  const n = Math.round(kbit);
  if (n < 1 || n > max) throw new QosError(flag, `'${text}' is ${kbit} kbit${units === RATE_UNITS ? '/s' : ''}: expected ${allowZero ? '0 or ' : ''}1..${max} kbit${units === RATE_UNITS ? '/s' : ''}`);
  return n;
}

/** A rate text in kbit/s: "100mbit", "64000" (kbit/s), "0" (none, when allowZero). */
export function parseRate(text: string, flag = '--egress-rate', allowZero = true): number {
  return sized(text, RATE_UNITS, flag, 'a rate', QOS_RATE_MAX, allowZero);
}

/** A burst text in kbit: "64kb" (kilobytes, 512 kbit), "512kbit", "512". */
export function parseBurst(text: string, flag = '--egress-burst'): number {
  return sized(text, BURST_UNITS, flag, 'a burst', QOS_BURST_MAX, false);
}

/** A --queue text: "N=RATE[/BURST]". */
export function parseQueue(text: string, flag = '--queue'): QosQueue {
  const m = /^([0-9]+)=([^/]+)(?:\/(.+))?$/.exec(text.trim());
  if (!m) throw new QosError(flag, `'${text}' is not N=RATE[/BURST] (e.g. 1=10mbit/64kb)`);
  const queue = Number(m[1]);
  if (queue >= QOS_QUEUES) throw new QosError(flag, `'${text}': queue ${queue}, expected 0..${QOS_QUEUES - 1}`);
  const q: QosQueue = { queue, rate: parseRate(m[2], `${flag} ${queue}`, false) };
  if (m[3] !== undefined) q.burst = parseBurst(m[3], `${flag} ${queue} burst`);
  return q;
}
