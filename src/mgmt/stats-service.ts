/**
 * switchyard.v1.StatsService: datapath totals and drops by reason, once or as
 * a stream; PMD lcores; WatchStats, every counter with its rate per interval.
 *
 * WatchStats samples Switch.statsSnapshot() (the stats segment when the data
 * plane publishes one, else messages) every interval_ms; rates are over the
 * snapshots' own clock (rates.ts). It outlives the data plane: while none is
 * connected no sample is sent, and the first after a reconnection starts over
 * (interval_ns 0, rates 0), since every counter began again. A client that
 * does not read is sent no new sample until it has taken the last ones.
 *
 * Flows by cookie (WatchStatsRequest.flows) cost a walk of every table in
 * the data plane (about 0.2 s per million flows), so they are read at most
 * once a sample and only while the walks take under a tenth of the time; a
 * sample between two reads carries the last one again. Their rates are over
 * the time between two reads, timed by the daemon. A data plane without
 * FLOW_COOKIE_STATS (UNSUPP) leaves `flows` empty.
 */
import { ServerWritableStream, status as Status } from '@grpc/grpc-js';
import type { CookieStats, StatsSnapshot } from './addon-types';
import type { CookieSample } from '../gen/switchyard/v1/CookieSample';
import type { Counter } from '../gen/switchyard/v1/Counter';
import type { StatsSample } from '../gen/switchyard/v1/StatsSample';
import type { StatsServiceHandlers } from '../gen/switchyard/v1/StatsService';
import { classify, isDpError, toServiceError } from './errors';
import { StreamSet } from './event-service';
import { counterRate, intervalBetween, pmdRatios } from './rates';
import { unary } from './rpc';
import type { Switch } from './switch';
import { toWireDpStats, toWirePmdStats, u64 } from './wire';

export interface DropReasonInfo {
  name: string;
  help: string;
}

/**
 * The life of a server stream: ended by the client (cancelled, closed), by
 * the server closing (StreamSet), or by fail() with a status. `done` turns
 * true once, and every timer stops with `onEnd`.
 */
function openStream(call: ServerWritableStream<unknown, unknown>, streams: StreamSet, onEnd: () => void) {
  let done = false;
  let unregister: (() => void) | undefined;
  const finish = () => {
    if (done) return;
    done = true;
    onEnd();
    unregister?.();
  };
  const fail = (code: Status, details: string) => {
    if (done) return;
    finish();
    call.emit('error', { code, details });
  };
  call.on('cancelled', finish);
  call.on('close', finish);
  unregister = streams.add(fail);
  return {
    get done() {
      return done;
    },
    fail,
    /** Ends the stream with the status an error maps to (INTERNAL if none). */
    failWith(e: unknown) {
      const err = toServiceError(e);
      fail(err.code ?? Status.INTERNAL, err.details ?? String(e));
    },
  };
}

export function statsService(sw: Switch, reasons: readonly DropReasonInfo[], streams = new StreamSet()): StatsServiceHandlers {
  return {
    GetDatapathStats: unary(async () => toWireDpStats(await sw.dpStats(), reasons)),

    GetPmdStats: unary(async () => {
      const { pmds, tscHz } = await sw.pmdStats();
      const names = sw.portNames();
      return { pmds: pmds.map((p) => toWirePmdStats(p, names.portName)), tscHz: u64(tscHz) };
    }),

    ClearPmdStats: unary(async () => {
      await sw.clearPmdStats();
      return {};
    }),

    WatchDatapathStats: (call) => {
      const interval = Math.max(100, call.request.intervalMs || 1000);
      let timer: NodeJS.Timeout | undefined;
      const stream = openStream(call, streams, () => clearTimeout(timer));
      const tick = async () => {
        try {
          const s = await sw.dpStats();
          if (stream.done) return;
          call.write(toWireDpStats(s, reasons));
          timer = setTimeout(() => void tick(), interval);
        } catch (e) {
          stream.failWith(e);
        }
      };
      if (!stream.done) void tick();
    },

    WatchStats: (call) => {
      const req = call.request;
      const intervalMs = Math.max(100, req.intervalMs || 1000);
      const refs = req.ports ?? [];
      try {
        for (const r of refs) sw.findPort(r);
      } catch (e) {
        const err = toServiceError(e);
        call.emit('error', { code: err.code, details: `ports: ${err.details}` });
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const stream = openStream(call, streams, () => clearTimeout(timer));
      let prev: { snap: StatsSnapshot; epoch: string } | null = null;
      // Flows by cookie are a walk of the tables in the data plane: read at
      // most once a sample, and walking no more than a tenth of the time
      // (samples in between repeat the last read, rates over its own interval).
      let cookieRead: (CookieRead & { epoch: string; at: number }) | null = null;
      let flows: CookieSample[] = [];
      let walkMs = 0;
      /** The data plane whose flowCookieStats answered UNSUPP (asked again after a reconnection). */
      let noCookies: string | null = null;
      if (stream.done) return; // the server is closing
      const began = performance.now();
      let ticks = 0;
      const schedule = () => {
        if (stream.done) return;
        // On a fixed cadence; a slow sample skips the beats it missed.
        ticks = Math.max(ticks + 1, Math.ceil((performance.now() - began) / intervalMs));
        timer = setTimeout(() => void tick(), Math.max(0, began + ticks * intervalMs - performance.now()));
      };
      const tick = async () => {
        // A client that has not taken the last samples gets no new one yet.
        if (call.writableLength > 2) return schedule();
        try {
          const info = sw.dpInfo;
          const epoch = info ? `${info.pid}/${info.startNs}` : '';
          const snap = await sw.statsSnapshot();
          if (cookieRead && cookieRead.epoch !== epoch) {
            cookieRead = null;
            flows = [];
          }
          const due = !cookieRead || performance.now() - cookieRead.at >= Math.max(intervalMs / 2, 10 * walkMs);
          if (req.flows && noCookies !== epoch && due) {
            try {
              const t0 = performance.now();
              const read = { timeNs: process.hrtime.bigint(), cookies: await sw.flowCookieStats(WATCH_COOKIES_MAX) };
              walkMs = performance.now() - t0;
              flows = cookieSamples(cookieRead, read);
              cookieRead = { ...read, epoch, at: t0 };
            } catch (e) {
              if (isDpError(e) && e.code === 'UNSUPP') noCookies = epoch;
              else if (classify(e).code === Status.UNAVAILABLE) throw e;
              // anything else: the last flows again, the counters still go out
            }
          }
          if (stream.done) return;
          if (prev && prev.epoch !== epoch) prev = null; // another data plane: every counter began again
          const iv = intervalBetween(prev?.snap.timeNs, snap.timeNs);
          if (iv === 'same') return schedule(); // nothing new was read
          if (iv === 'backwards') prev = null;
          const ports = new Set<number>();
          for (const r of refs) {
            try {
              ports.add(sw.findPort(r).id);
            } catch {
              /* deleted meanwhile: no longer sampled */
            }
          }
          const tables = new Map(sw.state.tables.map((t) => [t.id, t.name]));
          const names = sw.portNames();
          const sample = buildStatsSample(prev?.snap ?? null, snap, {
            portName: names.portName,
            tableName: (id) => tables.get(id) ?? '',
            reasons: reasons.map((r) => r.name),
            ports: refs.length ? ports : undefined,
          });
          call.write({ ...sample, flows });
          prev = { snap, epoch };
        } catch (e) {
          if (stream.done) return;
          // No data plane (or it went away during the read): wait for it, the stream goes on.
          if (toServiceError(e).code !== Status.UNAVAILABLE) return stream.failWith(e);
        }
        schedule();
      };
      void tick();
    },
  };
}

/** WatchStats with flows: at most this many cookies, the busiest by packets. */
export const WATCH_COOKIES_MAX = 1024;

/** One read of the flows by cookie, timed by this process's monotonic clock. */
export interface CookieRead {
  timeNs: bigint;
  cookies: CookieStats[];
}

/** Each cookie's counters with rates since the previous read (null: none, rates 0). */
export function cookieSamples(prev: CookieRead | null, cur: CookieRead): CookieSample[] {
  const iv = prev && cur.timeNs > prev.timeNs ? cur.timeNs - prev.timeNs : 0n;
  const before = new Map((prev?.cookies ?? []).map((c) => [c.cookie, c]));
  return cur.cookies.map((c) => {
    const b = before.get(c.cookie);
    return { cookie: u64(c.cookie), flows: c.flows, packets: wireCounter('packets', c.packets, b?.packets, iv), bytes: wireCounter('bytes', c.bytes, b?.bytes, iv) };
  });
}

function wireCounter(name: string, now: bigint, before: bigint | undefined, iv: bigint): Counter {
  const c = counterRate(name, BigInt(now), before === undefined ? undefined : BigInt(before), iv);
  return { name: c.name, value: u64(c.value), rate: c.rate };
}

export interface SampleContext {
  portName(id: number): string | undefined;
  tableName(id: number): string;
  /** Drop reasons in the data plane's order (reasons missing here follow in the snapshot's order). */
  reasons: readonly string[];
  /** Only these ports (by number); undefined: every port. */
  ports?: ReadonlySet<number>;
}

function sumDrops(drops: Record<string, bigint>): bigint {
  let n = 0n;
  for (const v of Object.values(drops)) n += BigInt(v);
  return n;
}

/**
 * A StatsSample (without flows) from two snapshots `p` (null: this is the
 * first) and `s`, whose clock has moved forward since `p`.
 */
export function buildStatsSample(p: StatsSnapshot | null, s: StatsSnapshot, ctx: SampleContext): StatsSample {
  const iv = p ? s.timeNs - p.timeNs : 0n;
  const counter = (name: string, now: bigint, before: bigint | undefined): Counter => wireCounter(name, now, before, iv);
  const reasonOrder = [...ctx.reasons, ...Object.keys(s.drops).filter((r) => !ctx.reasons.includes(r))];

  const prevPorts = new Map((p?.ports ?? []).map((x) => [x.id, x]));
  const ports = s.ports
    .filter((x) => !ctx.ports || ctx.ports.has(x.id))
    .sort((a, b) => a.id - b.id)
    .map((x) => {
      const b = prevPorts.get(x.id);
      const reasons = [...ctx.reasons, ...Object.keys(x.drops).filter((r) => !ctx.reasons.includes(r))];
      return {
        id: x.id,
        name: ctx.portName(x.id) ?? '',
        linkUp: x.linkUp,
        rxPackets: counter('rx_packets', x.rxPackets, b?.rxPackets),
        txPackets: counter('tx_packets', x.txPackets, b?.txPackets),
        rxBytes: counter('rx_bytes', x.rxBytes, b?.rxBytes),
        txBytes: counter('tx_bytes', x.txBytes, b?.txBytes),
        rxErrors: counter('rx_errors', x.rxErrors, b?.rxErrors),
        txErrors: counter('tx_errors', x.txErrors, b?.txErrors),
        rxMissed: counter('rx_missed', x.rxMissed, b?.rxMissed),
        drops: counter('drops', sumDrops(x.drops), b ? sumDrops(b.drops) : undefined),
        dropsByReason: reasons
          .filter((r) => x.drops[r] !== undefined && BigInt(x.drops[r]) !== 0n)
          .map((r) => counter(r, x.drops[r], b?.drops[r])),
      };
    });

  const prevTables = new Map((p?.tables ?? []).map((t) => [t.id, t]));
  const tables = [...s.tables]
    .sort((a, b) => a.id - b.id)
    .map((t) => {
      const b = prevTables.get(t.id);
      return {
        id: t.id,
        name: ctx.tableName(t.id),
        flows: t.nFlows,
        lookups: counter('lookups', t.lookups, b?.lookups),
        matched: counter('matched', t.matched, b?.matched),
      };
    });

  const prevPmds = new Map((p?.pmds ?? []).map((x) => [x.slot, x]));
  const pmds = s.pmds.map((x) => {
    const b = prevPmds.get(x.slot);
    const r = pmdRatios(b, x);
    return {
      slot: x.slot,
      lcoreId: x.lcoreId,
      packets: counter('packets', x.packets, b?.packets),
      busyRatio: r.busyRatio,
      cyclesPerPacket: r.cyclesPerPacket,
      cacheHitRate: r.cacheHitRate,
    };
  });

  return {
    timeNs: u64(s.timeNs),
    intervalNs: u64(iv),
    rxPackets: counter('rx_packets', s.rxPackets, p?.rxPackets),
    txPackets: counter('tx_packets', s.txPackets, p?.txPackets),
    drops: reasonOrder.map((r) => counter(r, s.drops[r] ?? 0n, p ? (p.drops[r] ?? 0n) : undefined)),
    ports,
    tables,
    pmds,
  };
}
