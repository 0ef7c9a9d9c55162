/**
 * The egress QoS options of `switchyard port add` and `port set`:
 *
 *   --egress-rate RATE    the port's limit: 100mbit, 1gbit, 64000 (kbit/s);
 *                         0 (with no --queue) removes the port's QoS
 *   --egress-burst SIZE   its bucket: 512kbit, 64kb (kilobytes), 512 (kbit);
 *                         default 100 ms of the rate
 *   --queue N=RATE[/SIZE] queue N (0..7) of set_queue:N (repeatable);
 *                         queue 0: packets without set_queue
 *
 * The options replace the port's QoS as a whole. Units: see src/mgmt/qos.ts.
 */
import type { PortQos } from '../gen/switchyard/v1/PortQos';
import type { PortQos__Output } from '../gen/switchyard/v1/PortQos';
import { parseBurst, parseQueue, parseRate, QosError } from '../mgmt/qos';
import { CliError } from './client';

export interface QosOptions {
  egressRate?: string;
  egressBurst?: string;
  queue?: string[];
}

export function hasQosOptions(o: QosOptions): boolean {
  return o.egressRate !== undefined || o.egressBurst !== undefined || (o.queue?.length ?? 0) > 0;
}

/** The PortQos of the options, or undefined when none is given. */
export function qosRequest(o: QosOptions): PortQos | undefined {
  if (!hasQosOptions(o)) return undefined;
  try {
    const rate = o.egressRate === undefined ? 0 : parseRate(o.egressRate);
    if (o.egressBurst !== undefined && rate === 0) throw new QosError('--egress-burst', 'needs --egress-rate (a non-zero rate)');
    const burst = o.egressBurst === undefined ? 0 : parseBurst(o.egressBurst);
    const queues = (o.queue ?? []).map((t) => parseQueue(t));
    const seen = new Set<number>();
    for (const q of queues) {
      if (seen.has(q.queue)) throw new QosError('--queue', `queue ${q.queue} given twice`);
      seen.add(q.queue);
    }
    return { rateKbps: rate, burstKbit: burst, queues: queues.map((q) => ({ queue: q.queue, rateKbps: q.rate, burstKbit: q.burst ?? 0 })) };
  } catch (e) {
    if (e instanceof QosError) throw new CliError(e.message);
    throw e;
  }
}

export interface QosJson {
  rateKbps: number;
  burstKbit: number;
  queues: { queue: number; rateKbps: number; burstKbit: number }[];
}

export function qosJson(q: PortQos__Output): QosJson {
  return { rateKbps: Number(q.rateKbps), burstKbit: Number(q.burstKbit), queues: q.queues.map((x) => ({ queue: x.queue, rateKbps: Number(x.rateKbps), burstKbit: Number(x.burstKbit) })) };
}

/** "100 Mbit/s burst 1000 kbit, q1 10 Mbit/s burst 1000 kbit" */
export function qosLine(q: QosJson): string {
  const rate = (k: number) => (k % 1_000_000 === 0 ? `${k / 1_000_000} Gbit/s` : k % 1000 === 0 ? `${k / 1000} Mbit/s` : `${k} kbit/s`);
  const parts: string[] = [];
  if (q.rateKbps) parts.push(`${rate(q.rateKbps)} burst ${q.burstKbit} kbit`);
  for (const x of q.queues) parts.push(`q${x.queue} ${rate(x.rateKbps)} burst ${x.burstKbit} kbit`);
  return parts.join(', ');
}
