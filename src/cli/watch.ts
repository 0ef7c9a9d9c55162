/**
 * Watching the switch work: live rates and events, from the daemon's
 * server streams (StatsService.WatchStats, EventService.WatchEvents).
 *
 *   port stats --watch [S]   every port's pps, bit/s, drops/s and errors/s
 *                            over each interval of S seconds (default 1),
 *                            redrawn in place until Ctrl-C
 *   top                      one screen: per port rx/tx pps and bit/s and
 *                            drops/s, drops by reason, PMD busy %, the
 *                            busiest cookies by pps; --once prints one
 *                            screen (after one interval) and exits
 *   events [--type T]...     events line by line until Ctrl-C
 *
 * Rates come from the daemon (over the data plane's own clock), so the
 * first sample of a stream, which has none, is not shown: the first screen
 * appears after one interval. When stdout is not a terminal each refresh is
 * printed after the last (no cursor movement); with --json every refresh is
 * one JSON object on one line (64-bit counters as decimal strings, rates as
 * numbers per second), and `top --once --json` prints one object.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Counter__Output } from '../gen/switchyard/v1/Counter';
import type { Event__Output } from '../gen/switchyard/v1/Event';
import type { PortSample__Output } from '../gen/switchyard/v1/PortSample';
import type { StatsSample__Output } from '../gen/switchyard/v1/StatsSample';
import type { Api } from './client';
import { cookieHex, flowJson, portJson, stateText, table } from './output';
import { PmdCliContext, watchInterval } from './pmd';
import type { Io } from './start';

const CLEAR = '\x1b[H\x1b[2J';

/** 1234567 -> "1.23M": rates for people (SI prefixes, three significant digits). */
export function si(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return '0';
  const units = ['', 'k', 'M', 'G', 'T', 'P'];
  let i = 0;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 ? (v < 10 ? 1 : 0) : v < 10 ? 2 : v < 100 ? 1 : 0;
  return v.toFixed(digits).replace(/\.0+$/, '') + units[i];
}

const rate = (c: Counter__Output | null | undefined): number => c?.rate ?? 0;
const value = (c: Counter__Output | null | undefined): string => c?.value ?? '0';
const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------- JSON shapes

export function portRateJson(p: PortSample__Output) {
  return {
    id: p.id,
    name: p.name,
    linkUp: p.linkUp,
    rxPps: round(rate(p.rxPackets)),
    txPps: round(rate(p.txPackets)),
    rxBitsPerSec: round(rate(p.rxBytes) * 8),
    txBitsPerSec: round(rate(p.txBytes) * 8),
    dropsPerSec: round(rate(p.drops)),
    errorsPerSec: round(rate(p.rxErrors) + rate(p.txErrors) + rate(p.rxMissed)),
    rxPackets: value(p.rxPackets),
    txPackets: value(p.txPackets),
    rxBytes: value(p.rxBytes),
    txBytes: value(p.txBytes),
    rxErrors: value(p.rxErrors),
    txErrors: value(p.txErrors),
    rxMissed: value(p.rxMissed),
    drops: value(p.drops),
    dropsByReason: p.dropsByReason.map((d) => ({ reason: d.name, count: d.value, perSec: round(d.rate) })),
  };
}

/** One sample of `top --json` (and, ports only, of `port stats --watch --json`). */
export function sampleJson(s: StatsSample__Output) {
  return {
    time: new Date().toISOString(),
    intervalSec: round(Number(s.intervalNs) / 1e9, 3),
    rxPps: round(rate(s.rxPackets)),
    txPps: round(rate(s.txPackets)),
    dropsPerSec: round(s.drops.reduce((a, d) => a + d.rate, 0)),
    ports: s.ports.map(portRateJson),
    drops: s.drops.map((d) => ({ reason: d.name, count: d.value, perSec: round(d.rate) })),
    tables: s.tables.map((t) => ({
      id: t.id,
      name: t.name,
      flows: t.flows,
      lookups: value(t.lookups),
      matched: value(t.matched),
      lookupsPerSec: round(rate(t.lookups)),
      matchedPerSec: round(rate(t.matched)),
    })),
    pmds: s.pmds.map((p) => ({
      slot: p.slot,
      lcore: p.lcoreId,
      pps: round(rate(p.packets)),
      busyPct: round(100 * p.busyRatio, 2),
      cyclesPerPacket: round(p.cyclesPerPacket),
      cacheHitPct: round(100 * p.cacheHitRate, 2),
    })),
    flows: [...s.flows]
      .sort((a, b) => rate(b.packets) - rate(a.packets))
      .map((f) => ({
        cookie: cookieHex(f.cookie),
        flows: f.flows,
        pps: round(rate(f.packets)),
        bitsPerSec: round(rate(f.bytes) * 8),
        packets: value(f.packets),
        bytes: value(f.bytes),
      })),
  };
}

// ---------------------------------------------------------------- screens

function portRatesTable(ports: PortSample__Output[]): string {
  if (ports.length === 0) return 'no ports\n';
  let out = table(
    ['ID', 'PORT', 'LINK', 'RX PPS', 'RX BIT/S', 'TX PPS', 'TX BIT/S', 'DROPS/S', 'ERRORS/S'],
    ports.map((p) => {
      const j = portRateJson(p);
      return [p.id, p.name || String(p.id), p.linkUp ? 'up' : 'down', si(j.rxPps), si(j.rxBitsPerSec), si(j.txPps), si(j.txBitsPerSec), si(j.dropsPerSec), si(j.errorsPerSec)];
    }),
  );
  for (const p of ports) {
    const busy = p.dropsByReason.filter((d) => d.rate > 0);
    if (busy.length) out += `${p.name || p.id} drops/s: ${busy.map((d) => `${d.name}=${si(d.rate)}`).join(' ')}\n`;
  }
  return out;
}

/** The screen of `port stats --watch`. */
export function portStatsScreen(s: StatsSample__Output, seconds: number): string {
  return `port rates over the last ${seconds.toFixed(1)} s, ${new Date().toLocaleTimeString()} (Ctrl-C to stop)\n` + portRatesTable(s.ports);
}

/** The screen of `switchyard top`. */
export function topScreen(s: StatsSample__Output, seconds: number, flowsShown: number): string {
  const drops = s.drops.reduce((a, d) => a + d.rate, 0);
  let out =
    `switchyard top - ${new Date().toLocaleTimeString()}, rates over ${seconds.toFixed(1)} s (Ctrl-C to quit)\n` +
    `rx ${si(rate(s.rxPackets))} pps   tx ${si(rate(s.txPackets))} pps   drops ${si(drops)}/s\n\n`;
  out += portRatesTable(s.ports);

  const seen = s.drops.filter((d) => d.value !== '0');
  out += '\n';
  out += seen.length
    ? table(['DROP REASON', 'PER SEC', 'TOTAL'], seen.map((d) => [d.name, si(d.rate), d.value]))
    : 'no drops\n';

  out += '\n';
  out += s.pmds.length
    ? table(
        ['LCORE', 'BUSY%', 'PPS', 'CYCLES/PKT', 'HIT%'],
        s.pmds.map((p) => [p.lcoreId, (100 * p.busyRatio).toFixed(1), si(rate(p.packets)), p.cyclesPerPacket.toFixed(0), (100 * p.cacheHitRate).toFixed(1)]),
      )
    : 'no PMD lcores\n';

  out += '\n';
  const flows = [...s.flows].sort((a, b) => rate(b.packets) - rate(a.packets)).slice(0, flowsShown);
  out += flows.length
    ? table(
        ['COOKIE', 'FLOWS', 'PPS', 'BIT/S', 'PACKETS'],
        flows.map((f) => [cookieHex(f.cookie), f.flows, si(rate(f.packets)), si(rate(f.bytes) * 8), value(f.packets)]),
      )
    : 'flows by cookie: none reported\n';
  return out;
}

// ---------------------------------------------------------------- following a stream

/** Cancels `w` on SIGINT/SIGTERM (Ctrl-C ends a watch normally) and waits for it to end. */
async function untilInterrupted(w: { done: Promise<void>; cancel(): void }): Promise<void> {
  const stop = () => w.cancel();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await w.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

interface RefreshOptions {
  seconds: number;
  json: boolean;
  once: boolean;
  ports?: string[];
  flows: boolean;
  /** The human screen of one sample. */
  screen: (s: StatsSample__Output, seconds: number) => string;
  /** The JSON of one sample. */
  toJson: (s: StatsSample__Output) => unknown;
}

/** Follows WatchStats, printing every sample that has rates, until Ctrl-C (or the first, with once). */
async function refresh(api: Api, io: Io, o: RefreshOptions): Promise<void> {
  const tty = !o.json && process.stdout.isTTY === true;
  if (!o.json && !o.once) io.out(`${tty ? CLEAR : ''}rates every ${o.seconds} s (Ctrl-C to stop); first in ${o.seconds} s\n`);
  let first = true;
  const w = api.watchStats({ intervalMs: Math.round(o.seconds * 1000), ports: o.ports ?? [], flows: o.flows }, (s) => {
    const interval = Number(s.intervalNs) / 1e9;
    if (interval <= 0) return; // a first sample (the stream's, or after a data plane restart): no rates yet
    if (o.json) io.out(JSON.stringify(o.toJson(s), null, o.once ? 2 : undefined) + '\n');
    else io.out((tty ? CLEAR : first || o.once ? '' : '\n') + o.screen(s, interval));
    first = false;
    if (o.once) w.cancel();
  });
  await untilInterrupted(w);
}

/** `port stats --watch [SECONDS]`: called by program.ts. */
export async function watchPortStats(api: Api, io: Io, ref: string | undefined, watch: string | boolean, json: boolean): Promise<void> {
  await refresh(api, io, {
    seconds: watchInterval(watch),
    json,
    once: false,
    ports: ref ? [ref] : [],
    flows: false,
    screen: portStatsScreen,
    toJson: (s) => ({ time: new Date().toISOString(), intervalSec: round(Number(s.intervalNs) / 1e9, 3), ports: s.ports.map(portRateJson) }),
  });
}

// ---------------------------------------------------------------- events

function eventType(e: Event__Output): string {
  switch (e.event) {
    case 'portStatus':
      return 'port_status';
    case 'flowRemoved':
      return 'flow_removed';
    case 'packetIn':
      return 'packet_in';
    default:
      return e.event ?? 'unknown';
  }
}

function eventTime(e: Event__Output): Date {
  return new Date(Number(BigInt(e.timeUnixNs || '0') / 1_000_000n));
}

/** One event as a JSON object (`events --json`, one per line). */
export function eventJson(e: Event__Output) {
  const base = { time: eventTime(e).toISOString(), timeUnixNs: e.timeUnixNs, type: eventType(e) };
  if (e.portStatus) return { ...base, reason: e.portStatus.reason, port: e.portStatus.port ? portJson(e.portStatus.port) : null };
  if (e.flowRemoved) return { ...base, reason: e.flowRemoved.reason, flow: e.flowRemoved.flow ? { ...flowJson(e.flowRemoved.flow), text: e.flowRemoved.flow.text } : null };
  if (e.packetIn) {
    const p = e.packetIn;
    return {
      ...base,
      inPort: p.inPort,
      inPortId: p.inPortId,
      table: p.tableId,
      cookie: cookieHex(p.cookie),
      reason: p.reason,
      totalLen: p.totalLen,
      summary: p.summary,
      frame: Buffer.from(p.frame).toString('hex'),
    };
  }
  if (e.dataplane) return { ...base, state: stateText(e.dataplane.state), reason: e.dataplane.reason, pid: e.dataplane.pid };
  return base;
}

/** One event as a line for people. */
export function eventLine(e: Event__Output): string {
  const t = eventTime(e).toISOString().replace('T', ' ').replace('Z', '');
  if (e.portStatus) {
    const { reason, port } = e.portStatus;
    if (!port) return `${t} port ${reason}`;
    const what = reason === 'delete' ? '' : `: admin ${port.adminUp ? 'up' : 'down'}, link ${port.linkUp ? 'up' : 'down'}, mtu ${port.mtu}`;
    return `${t} port ${reason} ${port.name} (${port.id})${what}`;
  }
  if (e.flowRemoved) return `${t} flow removed (${e.flowRemoved.reason}): ${e.flowRemoved.flow?.text ?? ''}`;
  if (e.packetIn) {
    const p = e.packetIn;
    const got = Buffer.from(p.frame).length;
    const len = p.totalLen && p.totalLen !== got ? `${got} of ${p.totalLen} bytes` : `${got} bytes`;
    return `${t} packet-in in_port ${p.inPort || p.inPortId} table ${p.tableId} cookie ${cookieHex(p.cookie)} reason ${p.reason || 'action'} ${len}: ${p.summary}`;
  }
  if (e.dataplane) {
    const d = e.dataplane;
    return `${t} data plane ${stateText(d.state)}${d.pid ? ` (pid ${d.pid})` : ''}${d.reason ? `: ${d.reason}` : ''}`;
  }
  return `${t} ${eventType(e)}`;
}

// ---------------------------------------------------------------- commands

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 10000) throw new InvalidArgumentError(`expected ${name} 1..10000`);
    return Number(v);
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function addWatchCommands(c: PmdCliContext): void {
  c.program
    .command('top')
    .description('live rates, refreshed in place: per port pps, bit/s and drops/s, drops by reason, PMD busy %, busiest cookies')
    .option('--interval <seconds>', 'seconds between refreshes, 0.1..3600', '1')
    .option('--once', 'print one screen (after one interval) and exit')
    .option('--flows <n>', 'cookies shown, the busiest by pps', positiveInt('a count'), 10)
    .action(async (o: { interval: string; once?: boolean; flows: number }, cmd: Command) => {
      const seconds = watchInterval(o.interval);
      await refresh(c.api(cmd), c.io, {
        seconds,
        json: c.globals(cmd).json,
        once: o.once === true,
        flows: true,
        screen: (s, interval) => topScreen(s, interval, o.flows),
        toJson: sampleJson,
      });
    });

  c.program
    .command('events')
    .description('follow the switch\'s events (port status, flow removed, packet-in, data plane) until Ctrl-C')
    .option('--type <type>', 'only this type: port_status, flow_removed, packet_in or dataplane (repeatable; packet-in works too)', collect, [])
    .action(async (o: { type: string[] }, cmd: Command) => {
      const json = c.globals(cmd).json;
      const types = o.type.map((t) => t.replace(/-/g, '_')); // packet-in, as the command is spelled
      const w = c.api(cmd).watchEvents({ types }, (e) => c.io.out((json ? JSON.stringify(eventJson(e)) : eventLine(e)) + '\n'));
      await untilInterrupted(w);
    });
}
