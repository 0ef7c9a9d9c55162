/**
 * Watching it work, through the real path: a switch forwarding a steady
 * stream (a pcap replayed forever on p1, net_pcap infinite_rx, into p2, a
 * net_null sink), watched with StatsService.WatchStats, `switchyard top`,
 * `port stats --watch`, EventService.WatchEvents, `switchyard events` and
 * the Prometheus endpoint.
 *
 *   - WatchStats: p1's rx rate agrees with GetPortStats deltas over the same
 *     time; tables and PMD lcores are in every sample; an unknown port is
 *     NOT_FOUND.
 *   - top --once --json and port stats --watch show the same live rates.
 *   - WatchEvents and `events --json`: a port added, its link down and up
 *     (a net_tap whose interface is set down with `ip link`), deleted; a
 *     flow expiring by idle_timeout with its final packet count, one by
 *     hard_timeout; the data plane SIGKILLed (disconnected with the reason)
 *     and relaunched by the daemon (connected, a new pid). A WatchStats
 *     stream open meanwhile goes on, starting over after the restart, with
 *     no negative or absurd rate.
 *   - /metrics: the series with HELP, and p1's counter equal to GetPortStats
 *     while the source is paused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, linkExists, run, uniqueName } from '../../src/lib/netns';
import { GrpcStatus } from '../helpers/grpc';
import { CLI_JS, DAEMON_JS, IS_ROOT, PROTO_DIR } from '../helpers/paths';
import { freePort, portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { macBytes, writePcap } from '../helpers/traffic';

/** A 64-byte Ethernet/IPv4/UDP frame to 10.0.0.2:1000. */
function udpFrame(): Buffer {
  const f = Buffer.alloc(60);
  macBytes('02:00:00:00:00:02').copy(f, 0);
  macBytes('02:00:00:00:00:01').copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(46, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([10, 0, 0, 1]).copy(f, 26);
  Buffer.from([10, 0, 0, 2]).copy(f, 30);
  f.writeUInt16BE(5000, 34);
  f.writeUInt16BE(1000, 36);
  f.writeUInt16BE(26, 38);
  return f;
}

// ---------------------------------------------------------------- plain grpc-js streams

let v1: any;
function service(name: string, address: string): any {
  if (!v1) {
    const def = protoLoader.loadSync('switchyard/v1/switchyard.proto', { includeDirs: [PROTO_DIR], longs: String, enums: String, defaults: true, oneofs: true });
    v1 = (grpc.loadPackageDefinition(def) as any).switchyard.v1;
  }
  return new v1[name](address, grpc.credentials.createInsecure());
}

interface Stream<T> {
  messages: T[];
  /** The status it ended with, once it has. */
  ended: Promise<grpc.ServiceError | null>;
  cancel(): void;
  /** Resolves with the first message (from `from` on) for which `pred` holds. */
  next(pred: (m: T) => boolean, what: string, timeoutMs?: number, from?: number): Promise<T>;
}

function open<T>(client: any, method: string, req: object): Stream<T> {
  const messages: T[] = [];
  const call = client[method](req);
  call.on('data', (m: T) => messages.push(m));
  const ended = new Promise<grpc.ServiceError | null>((resolve) => {
    call.on('error', (e: grpc.ServiceError) => resolve(e));
    call.on('end', () => resolve(null));
  });
  call.on('error', () => undefined);
  return {
    messages,
    ended,
    cancel: () => call.cancel(),
    next: (pred, what, timeoutMs = 20_000, from = 0) =>
      waitUntil(what, async () => messages.slice(from).find(pred), timeoutMs, 50),
  };
}

/** A CLI process left running (port stats --watch, events): its stdout as it comes. */
interface Follower {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** SIGINT, then its exit code. */
  stop(): Promise<number | null>;
}

function follow(sw: Switch, args: string[]): Follower {
  const child = spawn(process.execPath, [CLI_JS, '--server', sw.server, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`switchyard ${args.join(' ')} did not stop on SIGINT`);
      }
      return code;
    },
  };
}

const n = (s: string | undefined) => Number(s ?? '0');

describe.skipIf(!IS_ROOT)('watching it work: WatchStats, top, port stats --watch, events, metrics', () => {
  let sw: Switch;
  let dir: string;
  let metricsPort: number;
  const tap = uniqueName('sywt');
  const followers: Follower[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-watch-'));
    const pcap = path.join(dir, 'steady.pcap');
    await writePcap(pcap, [udpFrame()]);
    metricsPort = await freePort();
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: `net_pcap0,rx_pcap=${pcap},infinite_rx=1` },
        { name: 'p2', devargs: 'net_null0,no-rx=1' },
      ],
      flows: ['table=0,priority=100,cookie=0x10,in_port=p1,actions=output:p2'],
      daemonArgs: ['--metrics', `127.0.0.1:${metricsPort}`],
    });
  });

  afterAll(async () => {
    for (const f of followers) await f.stop().catch(() => undefined);
    await sw?.stop();
    if (await linkExists(tap)) await ip('link', 'del', tap).catch(() => undefined);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const source = (up: boolean) => sw.api.call('PortService', 'UpdatePort', { port: 'p1', adminUp: up });

  it('WatchStats: rates agree with GetPortStats deltas; tables and PMD lcores in every sample', async () => {
    const stats = service('StatsService', sw.server);
    const s = open<any>(stats, 'WatchStats', { intervalMs: 250, flows: true });
    try {
      await s.next((m) => m.intervalNs !== '0', 'a sample with rates');
      const t0 = performance.now();
      const rx0 = n((await portStats(sw, 'p1')).rxPackets);
      const from = s.messages.length;
      await sleep(3000);
      const t1 = performance.now();
      const rx1 = n((await portStats(sw, 'p1')).rxPackets);
      const window = s.messages.slice(from).filter((m) => m.intervalNs !== '0');
      expect(window.length, 'about 12 samples in 3 s at 250 ms').toBeGreaterThanOrEqual(8);

      const byPort = (m: any, name: string) => m.ports.find((p: any) => p.name === name);
      // Rate times interval over the window, against the counters read by GetPortStats over the same time.
      const ns = window.reduce((a, m) => a + n(m.intervalNs), 0);
      const counted = window.reduce((a, m) => a + byPort(m, 'p1').rxPackets.rate * (n(m.intervalNs) / 1e9), 0);
      const watched = counted / (ns / 1e9);
      const polled = (rx1 - rx0) / ((t1 - t0) / 1000);
      console.log(`WatchStats: p1 rx ${Math.round(watched)} pps; GetPortStats deltas ${Math.round(polled)} pps`);
      expect(polled).toBeGreaterThan(10_000);
      expect(watched / polled).toBeGreaterThan(0.7);
      expect(watched / polled).toBeLessThan(1.4);

      for (const m of window) {
        const p1 = byPort(m, 'p1');
        const p2 = byPort(m, 'p2');
        // each rate is its counter's increase over the sample's interval
        expect(p1.rxPackets.rate).toBeGreaterThan(0);
        expect(p1.linkUp).toBe(true);
        expect(p2.txPackets.rate).toBeGreaterThan(0);
        expect(p1.rxBytes.rate / p1.rxPackets.rate).toBeCloseTo(60, 1); // 60-byte frames (no FCS)
        expect(m.rxPackets.rate).toBeGreaterThan(0);
        expect(m.drops.map((d: any) => d.name)).toContain('table_miss');
        expect(m.tables.find((t: any) => t.id === 0)).toMatchObject({ flows: 1 });
        expect(m.tables.find((t: any) => t.id === 0).lookups.rate).toBeGreaterThan(0);
        expect(m.pmds.length).toBeGreaterThanOrEqual(1);
        expect(m.pmds[0].packets.rate).toBeGreaterThan(0);
        expect(m.pmds[0].busyRatio).toBeGreaterThan(0);
        expect(m.pmds[0].busyRatio).toBeLessThanOrEqual(1);
      }
      const last = window[window.length - 1];
      expect(n(last.ports.find((p: any) => p.name === 'p1').rxPackets.value)).toBeLessThanOrEqual(rx1);
      if (last.flows.length) {
        // the data plane sums flows by cookie: our one flow is cookie 0x10
        expect(last.flows.find((f: any) => f.cookie === '16')).toMatchObject({ flows: 1 });
        expect(last.flows.find((f: any) => f.cookie === '16').packets.rate).toBeGreaterThan(0);
      }

      // Only the ports asked for; an unknown one is NOT_FOUND.
      const one = open<any>(stats, 'WatchStats', { intervalMs: 100, ports: ['p2'] });
      const m = await one.next(() => true, 'a p2 sample');
      one.cancel();
      expect(m.ports.map((p: any) => p.name)).toEqual(['p2']);
      const bad = await open<any>(stats, 'WatchStats', { ports: ['nope'] }).ended;
      expect(bad?.code).toBe(GrpcStatus.NOT_FOUND);
      expect(bad?.details).toMatch(/port 'nope' does not exist/);
    } finally {
      s.cancel();
      stats.close();
    }
  }, 60_000);

  it('top --once --json: per port pps and bit/s, drops by reason, PMD busy %', async () => {
    const top = await sw.cliJson<any>(['top', '--once', '--interval', '0.5']);
    expect(top.intervalSec).toBeGreaterThan(0.3);
    const p1 = top.ports.find((p: any) => p.name === 'p1');
    const p2 = top.ports.find((p: any) => p.name === 'p2');
    expect(p1.rxPps).toBeGreaterThan(10_000);
    expect(p1.rxBitsPerSec / p1.rxPps).toBeCloseTo(60 * 8, 0);
    expect(p2.txPps).toBeGreaterThan(10_000);
    expect(p1.dropsPerSec).toBe(0);
    expect(top.drops.map((d: any) => d.reason)).toContain('table_miss');
    expect(top.pmds[0].busyPct).toBeGreaterThan(0);
    expect(top.pmds[0].pps).toBeGreaterThan(10_000);
    if (top.flows.length) {
      // the busiest cookie first: our one flow's, at the rate p1 receives
      expect(top.flows[0]).toMatchObject({ cookie: '0x10', flows: 1 });
      expect(top.flows[0].pps / p1.rxPps).toBeGreaterThan(0.5);
    }

    // Plain text when stdout is not a terminal: one screen, then exit.
    const r = await sw.cli(['top', '--once', '--interval', '0.3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/^switchyard top/);
    expect(r.stdout).toMatch(/\n\s*1\s+p1\s+up\s+[0-9.]+[kM]\s/);
    expect(r.stdout).toMatch(/LCORE\s+BUSY%/);
  }, 30_000);

  it('port stats --watch: refreshed rates until interrupted', async () => {
    const w = follow(sw, ['port', 'stats', '--watch', '0.5']);
    followers.push(w);
    await waitUntil('two refreshes', async () => (w.out().match(/port rates over the last/g) ?? []).length >= 2, 20_000, 100);
    expect(await w.stop()).toBe(0);
    const screens = w.out().split(/(?=port rates over the last)/).slice(1);
    for (const s of screens.slice(0, 2)) {
      const row = s.split('\n').find((l) => /^\s*1\s+p1\s/.test(l));
      expect(row, s).toBeDefined();
      const [, , link, rxPps] = row!.trim().split(/\s+/);
      expect(link).toBe('up');
      expect(rxPps).toMatch(/^[0-9.]+[kM]$/);
    }
    expect(w.err()).toBe('');

    const j = follow(sw, ['--json', 'port', 'stats', 'p1', '--watch', '0.3']);
    followers.push(j);
    await waitUntil('a JSON line', async () => j.out().includes('\n'), 20_000, 100);
    expect(await j.stop()).toBe(0);
    const line = JSON.parse(j.out().split('\n')[0]);
    expect(line.ports.map((p: any) => p.name)).toEqual(['p1']);
    expect(line.ports[0].rxPps).toBeGreaterThan(10_000);
  }, 40_000);

  it('the metrics endpoint: series with HELP, counters equal to GetPortStats', async () => {
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    let text = await (await fetch(url)).text();
    for (const name of [
      'switchyard_port_rx_packets_total',
      'switchyard_port_tx_bytes_total',
      'switchyard_port_drops_total',
      'switchyard_drops_total',
      'switchyard_table_lookups_total',
      'switchyard_table_flows',
      'switchyard_pmd_busy_ratio',
      'switchyard_pmd_packets_total',
      'switchyard_dataplane_connected',
      'switchyard_flow_cookie_packets_total',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
    expect(text).toMatch(/^switchyard_dataplane_connected 1$/m);
    expect(text).toMatch(/^switchyard_port_drops_total\{port="p1",reason="table_miss"\} \d+$/m); // packets before the flow was in
    expect(text).toMatch(/^switchyard_drops_total\{reason="table_miss"\} \d+$/m);
    expect(text).toMatch(/^switchyard_table_flows\{table="0"\} 1$/m);
    expect(Number(/^switchyard_pmd_busy_ratio\{lcore="1"\} (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);

    // Paused, the counters hold still: the scrape and GetPortStats agree exactly.
    await source(false);
    try {
      await sleep(300);
      text = await (await fetch(url)).text();
      const metric = (name: string, port: string) => Number(new RegExp(`^${name}\\{port="${port}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      const [p1, p2] = await Promise.all([portStats(sw, 'p1'), portStats(sw, 'p2')]);
      expect(metric('switchyard_port_rx_packets_total', 'p1')).toBe(n(p1.rxPackets));
      expect(metric('switchyard_port_rx_bytes_total', 'p1')).toBe(n(p1.rxBytes));
      expect(metric('switchyard_port_tx_packets_total', 'p2')).toBe(n(p2.txPackets));
      expect(n(p1.rxPackets)).toBeGreaterThan(0);
    } finally {
      await source(true);
    }
    expect((await fetch(`http://127.0.0.1:${metricsPort}/nope`)).status).toBe(404);

    // Served on loopback only, as the API without TLS.
    const r = await run(process.execPath, [DAEMON_JS, '--metrics', '0.0.0.0:9464', '--run-dir', path.join(dir, 'refused')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to serve metrics on 0\.0\.0\.0:9464: .*loopback only/);
  }, 30_000);

  it('the metrics endpoint: groups and meters, equal to their own stats', async () => {
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const must = async (args: string[]) => {
      const r = await sw.cli(args);
      expect(r.code, r.stderr).toBe(0);
    };
    await must(['group', 'add', 'group_id=1,type=all,bucket=actions=output:p2']);
    await must(['meter', 'add', '1', '--pps', '100000']);
    await must(['flow', 'mod', '--strict', 'table=0,priority=100,in_port=p1,actions=meter:1,group:1']);
    try {
      await sleep(300);
      await source(false);
      await sleep(300);
      const text = await (await fetch(url)).text();
      const metric = (re: RegExp) => Number(re.exec(text)?.[1]);
      const [g] = await sw.cliJson<any[]>(['group', 'stats', '1']);
      const [m] = await sw.cliJson<any[]>(['meter', 'stats', '1']);
      expect(n(g.packets)).toBeGreaterThan(0);
      expect(n(m.bandPackets)).toBeGreaterThan(0); // a pcap at full speed is over 100,000 pps
      expect(metric(/^switchyard_group_packets_total\{group="1",type="all"\} (\S+)$/m)).toBe(n(g.packets));
      expect(metric(/^switchyard_group_bucket_packets_total\{group="1",bucket="0"\} (\S+)$/m)).toBe(n(g.buckets[0].packets));
      expect(metric(/^switchyard_group_dropped_total\{group="1",type="all"\} (\S+)$/m)).toBe(0);
      expect(metric(/^switchyard_meter_pass_packets_total\{meter="1"\} (\S+)$/m)).toBe(n(m.passPackets));
      expect(metric(/^switchyard_meter_band_packets_total\{meter="1",band="0",type="drop"\} (\S+)$/m)).toBe(n(m.bandPackets));
      // every packet the meter passed went through the group
      expect(n(m.passPackets)).toBe(n(g.packets));
    } finally {
      await must(['flow', 'mod', '--strict', 'table=0,priority=100,in_port=p1,actions=output:p2']);
      await must(['group', 'del', '1']);
      await must(['meter', 'del', '1']);
      await source(true);
    }
    const after = await (await fetch(url)).text();
    expect(after).not.toMatch(/^switchyard_group_packets_total\{/m);
    expect(after).not.toMatch(/^switchyard_meter_pass_packets_total\{/m);
  }, 30_000);

  it('WatchEvents and `events --json`: ports, link, flow timeouts, data plane restart', async () => {
    const events = service('EventService', sw.server);
    const stats = service('StatsService', sw.server);
    const ev = open<any>(events, 'WatchEvents', {});
    const cli = follow(sw, ['--json', 'events']);
    followers.push(cli);
    const cliEvents = () =>
      cli
        .out()
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
    try {
      // The CLI is subscribed once it reports a port change we make (repeated until it does).
      let flip = false;
      await waitUntil(
        'the events CLI to follow',
        async () => {
          flip = !flip;
          await sw.api.call('PortService', 'UpdatePort', { port: 'p2', adminUp: !flip });
          await sleep(200);
          return cliEvents().some((e) => e.type === 'port_status' && e.reason === 'modify' && e.port.name === 'p2');
        },
        20_000,
        0,
      );
      await sw.api.call('PortService', 'UpdatePort', { port: 'p2', adminUp: true });
      const bad = await open<any>(events, 'WatchEvents', { types: ['port_status', 'bogus'] }).ended;
      expect(bad?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(bad?.details).toMatch(/types: unknown event type 'bogus'/);
      const onlyFlows = open<any>(events, 'WatchEvents', { types: ['flow_removed'] });

      // A port: added, link down and up (its interface set down with ip link), deleted.
      await sw.api.call('PortService', 'AddPort', { name: 'p3', devargs: `net_tap0,iface=${tap}` });
      const added = await ev.next((m) => m.portStatus?.reason === 'add' && m.portStatus.port.name === 'p3', 'port_status add p3');
      expect(added.event).toBe('portStatus');
      expect(added.portStatus.port).toMatchObject({ name: 'p3', driver: 'net_tap', adminUp: true });
      expect(Math.abs(n(added.timeUnixNs) / 1e6 - Date.now())).toBeLessThan(30_000);
      await waitUntil('p3 link up', async () => (await sw.api.call('PortService', 'ListPorts', {})).ports.find((p: any) => p.name === 'p3')?.linkUp, 10_000, 100);
      let from = ev.messages.length;
      await ip('link', 'set', tap, 'down');
      const down = await ev.next((m) => m.portStatus?.reason === 'link', 'port_status link (down)', 10_000, from);
      expect(down.portStatus.port).toMatchObject({ name: 'p3', linkUp: false, adminUp: true });
      from = ev.messages.length;
      await ip('link', 'set', tap, 'up');
      const up = await ev.next((m) => m.portStatus?.reason === 'link', 'port_status link (up)', 10_000, from);
      expect(up.portStatus.port).toMatchObject({ name: 'p3', linkUp: true });
      await sw.api.call('PortService', 'DeletePort', { port: 'p3' });
      await ev.next((m) => m.portStatus?.reason === 'delete' && m.portStatus.port.name === 'p3', 'port_status delete p3');

      // idle_timeout: the flow takes the traffic, the source pauses, the flow expires with its final count.
      await sw.api.call('FlowService', 'AddFlows', {
        flows: [{ match: 'table=0,priority=200,cookie=0x20,idle_timeout=2,send_flow_rem,in_port=p1,udp', actions: 'output:p2' }],
      });
      await sleep(500);
      await source(false);
      await sleep(300);
      const dumped = (await sw.api.call('FlowService', 'DumpFlows', { cookie: '32', cookieMask: '18446744073709551615' })).flows;
      expect(dumped).toHaveLength(1);
      const finalCount = n(dumped[0].packets);
      expect(finalCount).toBeGreaterThan(1000);
      const idle = await ev.next((m) => m.flowRemoved?.flow.cookie === '32', 'flow_removed (idle_timeout)', 10_000);
      expect(idle.flowRemoved.reason).toBe('idle_timeout');
      expect(idle.flowRemoved.flow).toMatchObject({ tableId: 0, priority: 200, idleTimeout: 2, packets: String(finalCount), bytes: String(finalCount * 60) });
      expect(idle.flowRemoved.flow.match).toContain('in_port=p1'); // port names in flow text
      expect(idle.flowRemoved.flow.text).toContain(`n_packets=${finalCount}`);
      await source(true);

      // hard_timeout: removed after its time whatever the traffic.
      const t0 = Date.now();
      await sw.api.call('FlowService', 'AddFlows', {
        flows: [{ match: 'table=0,priority=300,cookie=0x30,hard_timeout=1,in_port=p1,udp', actions: 'output:p2' }], // expiry is reported without send_flow_rem
      });
      const hard = await ev.next((m) => m.flowRemoved?.flow.cookie === '48', 'flow_removed (hard_timeout)', 10_000);
      expect(hard.flowRemoved.reason).toBe('hard_timeout');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      expect(n(hard.flowRemoved.flow.packets)).toBeGreaterThan(0);
      expect(onlyFlows.messages.map((m) => m.event)).toEqual(['flowRemoved', 'flowRemoved']);
      onlyFlows.cancel();

      // The data plane killed: disconnected, relaunched by the daemon, connected with a new pid.
      const watch = open<any>(stats, 'WatchStats', { intervalMs: 200 });
      await watch.next((m) => m.intervalNs !== '0', 'a stats sample before the kill');
      const oldPid = (await sw.api.call('SystemService', 'GetStatus', {})).dataplanePid;
      expect(oldPid).toBeGreaterThan(0);
      from = ev.messages.length;
      const statsFrom = watch.messages.length;
      process.kill(oldPid, 'SIGKILL');
      const gone = await ev.next((m) => m.dataplane?.state === 'DATAPLANE_STATE_DISCONNECTED', 'dataplane disconnected', 10_000, from);
      expect(gone.dataplane.pid).toBe(oldPid);
      expect(gone.dataplane.reason).not.toBe('');
      const back = await ev.next((m) => m.dataplane?.state === 'DATAPLANE_STATE_CONNECTED', 'dataplane connected', 30_000, from);
      expect(back.dataplane.pid).toBeGreaterThan(0);
      expect(back.dataplane.pid).not.toBe(oldPid);
      const states = ev.messages.slice(from).filter((m) => m.dataplane).map((m) => m.dataplane.state.replace('DATAPLANE_STATE_', ''));
      expect(states[0]).toBe('DISCONNECTED');
      expect(states[states.length - 1]).toBe('CONNECTED');
      expect(states).toContain('RECONCILING');

      // The stats stream lived through it: it starts over (interval 0), then rates again, never negative or absurd.
      const restart = await watch.next((m) => m.intervalNs === '0', 'a fresh first sample after the restart', 30_000, statsFrom);
      const ri = watch.messages.indexOf(restart);
      await watch.next((m) => m.intervalNs !== '0' && m.ports.find((p: any) => p.name === 'p1')?.rxPackets.rate > 0, 'rates after the restart', 30_000, ri);
      for (const m of watch.messages.slice(statsFrom)) {
        for (const p of m.ports) {
          for (const c of [p.rxPackets, p.txPackets, p.drops]) {
            expect(c.rate).toBeGreaterThanOrEqual(0);
            expect(c.rate).toBeLessThan(1e9); // packets per second: far above what one lcore forwards
          }
          for (const c of [p.rxBytes, p.txBytes]) {
            expect(c.rate).toBeGreaterThanOrEqual(0);
            expect(c.rate).toBeLessThan(60e9);
          }
        }
        expect(m.rxPackets.rate).toBeGreaterThanOrEqual(0);
        expect(m.rxPackets.rate).toBeLessThan(1e9);
      }
      watch.cancel();
      expect(ev.messages.filter((m) => m.packetIn)).toEqual([]);

      // The CLI printed the same events, one JSON object per line.
      await waitUntil('the CLI to print the reconnection', async () => cliEvents().some((e) => e.type === 'dataplane' && e.state === 'connected'), 10_000, 100);
      expect(await cli.stop()).toBe(0);
      const printed = cliEvents();
      const has = (pred: (e: any) => boolean, what: string) => expect(printed.some(pred), what).toBe(true);
      has((e) => e.type === 'port_status' && e.reason === 'add' && e.port.name === 'p3', 'port add');
      has((e) => e.type === 'port_status' && e.reason === 'link' && e.port.linkUp === false, 'link down');
      has((e) => e.type === 'port_status' && e.reason === 'link' && e.port.linkUp === true, 'link up');
      has((e) => e.type === 'port_status' && e.reason === 'delete' && e.port.name === 'p3', 'port delete');
      has((e) => e.type === 'flow_removed' && e.reason === 'idle_timeout' && e.flow.cookie === '0x20' && e.flow.packets === String(finalCount), 'idle timeout');
      has((e) => e.type === 'flow_removed' && e.reason === 'hard_timeout' && e.flow.cookie === '0x30', 'hard timeout');
      has((e) => e.type === 'dataplane' && e.state === 'disconnected' && e.pid === oldPid && e.reason !== '', 'disconnected');
      has((e) => e.type === 'dataplane' && e.state === 'connected' && e.pid === back.dataplane.pid, 'connected');
      for (const e of printed) expect(new Date(e.time).getTime()).toBeGreaterThan(Date.now() - 600_000);
    } finally {
      ev.cancel();
      events.close();
      stats.close();
    }
  }, 120_000);
});
