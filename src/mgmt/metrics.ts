/**
 * The Prometheus endpoint (switchyardd --metrics HOST:PORT, off by default):
 * GET /metrics in the text exposition format, from prom-client.
 *
 * Nothing is sampled on a timer: each scrape reads the counters once
 * (Switch.statsSnapshot(): the stats segment when the data plane publishes
 * one, else messages) and every metric's collect() takes its values from
 * that one reading; flows by cookie are one walk of the tables per scrape,
 * bounded to the busiest MAX_COOKIES cookies; groups and meters are one
 * message each. While no data plane is
 * connected, switchyard_dataplane_connected is 0 and the other switchyard_*
 * series are absent (not zero: a restarted data plane's counters start
 * again, which Prometheus's rate() takes as a reset).
 *
 * Like the gRPC API without TLS, the endpoint has no authentication, so it
 * is served on loopback only; expose it through a local agent or proxy.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CookieStats, GroupStats, MeterStats, PmdStats, StatsSnapshot } from './addon-types';
import { isDpError } from './errors';
import type { Logger } from './log';
import { pmdRatios } from './rates';
import { isLoopback, splitHostPort } from './server';
import type { Switch } from './switch';

/** Flows by cookie: at most this many cookies (the busiest by packets), to bound the series. */
export const MAX_COOKIES = 100;
/** Scrapes this close together share one reading of the counters. */
const READING_TTL_MS = 250;

/** Why a --metrics address is refused, or undefined if it is fine. */
export function checkMetricsAddress(addr: string): string | undefined {
  const hp = splitHostPort(addr);
  if (!hp) return `--metrics '${addr}' is not HOST:PORT (e.g. 127.0.0.1:9464)`;
  if (!isLoopback(hp.host)) {
    return (
      `refusing to serve metrics on ${addr}: the endpoint has no TLS or authentication, so it is served on ` +
      `loopback only (127.0.0.1, ::1 or localhost); let a local agent or proxy expose it`
    );
  }
  return undefined;
}

interface Reading {
  snap: StatsSnapshot | null;
  cookies: CookieStats[];
  groups: GroupStats[];
  meters: MeterStats[];
  /** Each PMD lcore's ratios since the previous reading. */
  busy: Map<number, number>;
}

/** The registry of one daemon: switchyard_* from the switch, and the default process metrics. */
export function metricsRegistry(sw: Switch, maxCookies = MAX_COOKIES): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  let last: { at: number; reading: Promise<Reading> } | null = null;
  let prevPmds = new Map<number, PmdStats>();
  const read = async (): Promise<Reading> => {
    let snap: StatsSnapshot | null = null;
    let cookies: CookieStats[] = [];
    let groups: GroupStats[] = [];
    let meters: MeterStats[] = [];
    try {
      snap = await sw.statsSnapshot();
    } catch {
      return { snap: null, cookies, groups, meters, busy: new Map() }; // no data plane
    }
    // UNSUPP (a data plane without them), or gone meanwhile: no such series this time
    const optional = async <T>(fn: () => Promise<T[]>): Promise<T[]> => {
      try {
        return await fn();
      } catch (e) {
        if (!isDpError(e)) throw e;
        return [];
      }
    };
    [cookies, groups, meters] = await Promise.all([
      optional(() => sw.flowCookieStats(maxCookies)),
      optional(() => (sw.listGroups().length ? sw.groupStats() : Promise.resolve([]))),
      optional(() => (sw.state.meters?.length ? sw.meterStats() : Promise.resolve([]))),
    ]);
    const busy = new Map(snap.pmds.map((p) => [p.slot, pmdRatios(prevPmds.get(p.slot), p).busyRatio]));
    prevPmds = new Map(snap.pmds.map((p) => [p.slot, p]));
    return { snap, cookies, groups, meters, busy };
  };
  /** One reading for every metric of a scrape (prom-client collects them all at once). */
  const reading = (): Promise<Reading> => {
    const now = performance.now();
    if (!last || now - last.at > READING_TTL_MS) last = { at: now, reading: read() };
    return last.reading;
  };

  type Labels = Record<string, string>;
  type Fill = (r: Reading & { snap: StatsSnapshot }, put: (labels: Labels, v: bigint | number) => void) => void;
  const define = (kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[], fill: Fill) => {
    const collect = async function (this: Counter | Gauge) {
      const r = await reading();
      this.reset();
      if (!r.snap) return;
      fill(r as Reading & { snap: StatsSnapshot }, (labels, v) => {
        if (this instanceof Counter) this.inc(labels, Number(v));
        else this.set(labels, Number(v));
      });
    };
    const config = { name, help, labelNames, registers: [registry], collect };
    if (kind === 'counter') new Counter(config);
    else new Gauge(config);
  };

  const portName = (id: number) => sw.portNames().portName(id) ?? String(id);
  type PortCounter = 'rxPackets' | 'rxBytes' | 'txPackets' | 'txBytes' | 'rxErrors' | 'txErrors' | 'rxMissed';
  const portCounter = (name: string, field: PortCounter, help: string) =>
    define('counter', `switchyard_port_${name}_total`, help, ['port'], (r, put) => {
      for (const p of r.snap.ports) put({ port: portName(p.id) }, p[field]);
    });
  portCounter('rx_packets', 'rxPackets', 'Packets received by the port');
  portCounter('rx_bytes', 'rxBytes', 'Bytes received by the port');
  portCounter('tx_packets', 'txPackets', 'Packets sent by the port');
  portCounter('tx_bytes', 'txBytes', 'Bytes sent by the port');
  portCounter('rx_errors', 'rxErrors', 'Receive errors of the port (device counter)');
  portCounter('tx_errors', 'txErrors', 'Transmit errors of the port (device counter)');
  portCounter('rx_missed', 'rxMissed', 'Packets the device dropped for want of rx descriptors');
  define('counter', 'switchyard_port_drops_total', 'Packets dropped by the switch, by port and drop reason', ['port', 'reason'], (r, put) => {
    for (const p of r.snap.ports) for (const [reason, v] of Object.entries(p.drops)) put({ port: portName(p.id), reason }, v);
  });
  define('gauge', 'switchyard_port_link_up', 'Link state of the port (1 up, 0 down)', ['port'], (r, put) => {
    for (const p of r.snap.ports) put({ port: portName(p.id) }, p.linkUp ? 1 : 0);
  });

  define('counter', 'switchyard_rx_packets_total', 'Packets received by the data path, every port', [], (r, put) => put({}, r.snap.rxPackets));
  define('counter', 'switchyard_tx_packets_total', 'Packets sent by the data path, every port', [], (r, put) => put({}, r.snap.txPackets));
  define('counter', 'switchyard_drops_total', 'Packets dropped by the data path, by drop reason', ['reason'], (r, put) => {
    for (const [reason, v] of Object.entries(r.snap.drops)) put({ reason }, v);
  });

  define('counter', 'switchyard_table_lookups_total', 'Lookups in the flow table (flow cache hits included)', ['table'], (r, put) => {
    for (const t of r.snap.tables) put({ table: String(t.id) }, t.lookups);
  });
  define('counter', 'switchyard_table_matched_total', 'Lookups in the flow table that matched an entry', ['table'], (r, put) => {
    for (const t of r.snap.tables) put({ table: String(t.id) }, t.matched);
  });
  define('gauge', 'switchyard_table_flows', 'Entries in the flow table', ['table'], (r, put) => {
    for (const t of r.snap.tables) put({ table: String(t.id) }, t.nFlows);
  });

  const cookie = (c: CookieStats) => `0x${c.cookie.toString(16)}`;
  define('counter', 'switchyard_flow_cookie_packets_total', `Packets matched by the flows of a cookie (the ${maxCookies} busiest cookies)`, ['cookie'], (r, put) => {
    for (const c of r.cookies) put({ cookie: cookie(c) }, c.packets);
  });
  define('counter', 'switchyard_flow_cookie_bytes_total', `Bytes matched by the flows of a cookie (the ${maxCookies} busiest cookies)`, ['cookie'], (r, put) => {
    for (const c of r.cookies) put({ cookie: cookie(c) }, c.bytes);
  });
  define('gauge', 'switchyard_flow_cookie_flows', `Flow entries with the cookie (the ${maxCookies} busiest cookies)`, ['cookie'], (r, put) => {
    for (const c of r.cookies) put({ cookie: cookie(c) }, c.flows);
  });

  const group = (g: GroupStats) => ({ group: String(g.id), type: g.type });
  define('counter', 'switchyard_group_packets_total', 'Packets sent through the group', ['group', 'type'], (r, put) => {
    for (const g of r.groups) put(group(g), g.packets);
  });
  define('counter', 'switchyard_group_bytes_total', 'Bytes sent through the group', ['group', 'type'], (r, put) => {
    for (const g of r.groups) put(group(g), g.bytes);
  });
  define('counter', 'switchyard_group_dropped_total', 'Packets the group dropped: no live bucket', ['group', 'type'], (r, put) => {
    for (const g of r.groups) put(group(g), g.dropped);
  });
  define('counter', 'switchyard_group_bucket_packets_total', 'Packets sent through the bucket of the group (buckets numbered from 0)', ['group', 'bucket'], (r, put) => {
    for (const g of r.groups) g.buckets.forEach((b, i) => put({ group: String(g.id), bucket: String(i) }, b.packets));
  });
  const meter = (m: MeterStats) => ({ meter: String(m.id) });
  define('counter', 'switchyard_meter_pass_packets_total', 'Packets within the rate of the meter', ['meter'], (r, put) => {
    for (const m of r.meters) put(meter(m), m.passPackets);
  });
  define('counter', 'switchyard_meter_pass_bytes_total', 'Bytes within the rate of the meter', ['meter'], (r, put) => {
    for (const m of r.meters) put(meter(m), m.passBytes);
  });
  /** Each band of a meter with its counters (bands numbered from 0, lowest rate first). */
  const bands = (m: MeterStats) =>
    (m.bandStats ?? [{ packets: m.bandPackets, bytes: m.bandBytes }]).map((c, i) => ({
      labels: { meter: String(m.id), band: String(i), type: m.bands?.[i]?.type ?? m.band },
      ...c,
    }));
  define('counter', 'switchyard_meter_band_packets_total', 'Packets the band of the meter handled (over its rate: dropped or remarked)', ['meter', 'band', 'type'], (r, put) => {
    for (const m of r.meters) for (const b of bands(m)) put(b.labels, b.packets);
  });
  define('counter', 'switchyard_meter_band_bytes_total', 'Bytes the band of the meter handled', ['meter', 'band', 'type'], (r, put) => {
    for (const m of r.meters) for (const b of bands(m)) put(b.labels, b.bytes);
  });

  const lcore = (p: PmdStats) => ({ lcore: String(p.lcoreId) });
  define('counter', 'switchyard_pmd_packets_total', 'Packets received by the poll-mode lcore', ['lcore'], (r, put) => {
    for (const p of r.snap.pmds) put(lcore(p), p.packets);
  });
  define('counter', 'switchyard_pmd_busy_cycles_total', 'Cycles of poll-mode loop iterations that received packets', ['lcore'], (r, put) => {
    for (const p of r.snap.pmds) put(lcore(p), p.busyCycles);
  });
  define('counter', 'switchyard_pmd_idle_cycles_total', 'Cycles of poll-mode loop iterations that received nothing (sleep included)', ['lcore'], (r, put) => {
    for (const p of r.snap.pmds) put(lcore(p), p.idleCycles);
  });
  define('gauge', 'switchyard_pmd_busy_ratio', 'Busy share of the poll-mode lcore\'s cycles since the previous scrape (0..1)', ['lcore'], (r, put) => {
    for (const p of r.snap.pmds) put(lcore(p), r.busy.get(p.slot) ?? 0);
  });

  new Gauge({
    name: 'switchyard_dataplane_connected',
    help: 'Whether switchyardd is connected to the data plane (1) or not (0)',
    registers: [registry],
    async collect() {
      const r = await reading();
      this.set(r.snap && sw.connected ? 1 : 0);
    },
  });
  return registry;
}

export interface MetricsServer {
  /** The bound TCP port. */
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics on addr (checked with checkMetricsAddress first). */
export async function startMetricsServer(addr: string, sw: Switch, log: Logger): Promise<MetricsServer> {
  const refused = checkMetricsAddress(addr);
  if (refused) throw new Error(refused);
  const { host, port } = splitHostPort(addr)!;
  const registry = metricsRegistry(sw);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('switchyardd serves Prometheus metrics at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (e: unknown) => {
        log.warn(`metrics: ${e instanceof Error ? e.message : String(e)}`);
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot collect the metrics: ${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot serve metrics on ${addr}: ${e.message}`)));
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
