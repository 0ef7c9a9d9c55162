/**
 * The stats segment through the addon, against a REAL switchyard-dp, and
 * flows summed by cookie.
 *
 * Traffic: a pcap of UDP frames to three destination ports, replayed for
 * ever (net_pcap, infinite_rx) into p1 while it is up, forwarded through
 * two tables to p2 (net_null). The source is set down around the exact
 * checks, so that the counters stand still.
 *
 *  - HELLO names the segment (beside the socket, mode 0600), the client
 *    maps it and readStats() answers synchronously, without a message;
 *  - under traffic, readStats() agrees with portStats()/dpStats()/
 *    pmdStats()/tableList(): never ahead of a message answered after it,
 *    caught up within one refresh (100 ms) after it, monotonic;
 *  - with the source down, it equals the messages' answers field by field;
 *    after portStatsClear()/pmdStatsClear() it shows the cleared values at
 *    once (the data plane publishes before it replies);
 *  - flowCookieStats() sums every entry of every table by cookie, as a dump
 *    summed by hand, busiest first, and refuses a bad limit;
 *  - SIGTERM removes the file and readStats() returns null saying why; a
 *    SIGKILLed data plane's file is replaced by the next one, which the
 *    client maps after its new HELLO; --stats-segment none publishes none.
 *
 * Skipped, saying why, when switchyard-dp is not built.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDataplaneClient, type AddonDataplaneClient } from '../../src/mgmt/addon';
import type { CookieStats, DpInfo, FlowMod, PmdStats, StatsSnapshot } from '../../src/mgmt/addon-types';
import { udpFrame } from '../helpers/frames';
import { DP_BINARY } from '../helpers/paths';
import { writePcap } from '../helpers/traffic';

const DP = process.env.SWITCHYARD_DP || DP_BINARY;
const HAVE_DP = existsSync(DP);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PMD counters that stand still while the lcore idles (its cycles do not). */
const pmdCounters = ({ busyCycles: _b, idleCycles: _i, ...rest }: PmdStats) => rest;

describe.skipIf(!HAVE_DP)(`the stats segment of a real switchyard-dp${HAVE_DP ? '' : ` (skipped: ${DP} is not built)`}`, () => {
  let dir: string;
  let sock: string;
  let segPath: string;
  let pcap: string;
  let dp: ChildProcess;
  let dpLog = '';
  let c: AddonDataplaneClient;
  let info: DpInfo & { statsSegment?: string | null };
  let run = 0;
  const prefixes: string[] = [];

  /** Starts switchyard-dp on `sock` with these extra options and waits until it serves. */
  async function startDp(extra: string[] = []): Promise<ChildProcess> {
    const prefix = `sy-seg-${process.pid}-${run++}`;
    prefixes.push(prefix);
    dpLog = '';
    const child = spawn(DP, ['-l', '0,1', '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix, '--', '--socket', sock, '--pmd-sleep-max', '1000', '--mbufs', '8192', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (dpLog += d));
    child.stderr!.on('data', (d) => (dpLog += d));
    const until = Date.now() + 30_000;
    while (!/ready, control socket/.test(dpLog)) {
      if (child.exitCode !== null) throw new Error(`switchyard-dp exited with ${child.exitCode}:\n${dpLog}`);
      if (Date.now() > until) throw new Error(`switchyard-dp did not start within 30 s:\n${dpLog}`);
      await sleep(50);
    }
    return child;
  }

  async function stopDp(child: ChildProcess, sig: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Sets the source up or down; down waits until nothing is in flight any more. */
  async function source(up: boolean): Promise<void> {
    await c.portMod(1, { adminUp: up });
    if (!up) {
      await c.barrier();
      await sleep(50);
    }
  }

  /** A snapshot published after now: waits for the next refresh. */
  async function freshStats(): Promise<StatsSnapshot> {
    const before = c.readStats();
    expect(before, c.statsError ?? '').not.toBeNull();
    for (let i = 0; i < 50; i++) {
      await sleep(20);
      const s = c.readStats()!;
      if (s.timeNs > before!.timeNs) return s;
    }
    throw new Error('the stats segment was not refreshed within 1 s');
  }

  const mod = (table: number, priority: number, cookie: bigint, match: FlowMod['match'], actions: FlowMod['actions']): FlowMod => ({ command: 'add', table, priority, cookie, match, actions });
  const udpTo = (port: number) => ({ dl_type: { value: 0x0800 }, nw_proto: { value: 17 }, tp_dst: { value: port } });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sy-seg-'));
    sock = path.join(dir, 'dp.sock');
    segPath = path.join(dir, 'dp.stats');
    pcap = path.join(dir, 'in.pcap');
    // tp_dst 1000, 2000, 3000, 1000: cookie 0xa gets half, 0xb and 0xc a quarter each
    await writePcap(pcap, [1000, 2000, 3000, 1000].map((d) => udpFrame('10.0.0.1', '10.0.0.2', 5000, d)));
    dp = await startDp();
    c = createDataplaneClient();
    info = await c.connect(sock);
    await c.portAdd({ name: 'p1', devargs: `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, id: 1, adminUp: false });
    await c.portAdd({ name: 'p2', devargs: 'net_null0,no-rx=1', id: 2 });
    await c.flowMod([
      mod(0, 100, 0xan, udpTo(1000), [{ type: 'goto_table', table: 1 }]),
      mod(0, 100, 0xbn, udpTo(2000), [{ type: 'goto_table', table: 1 }]),
      mod(0, 100, 0xcn, udpTo(3000), [{ type: 'goto_table', table: 1 }]),
      mod(0, 100, 0xan, udpTo(4000), [{ type: 'goto_table', table: 1 }]), // no traffic
      mod(1, 10, 0xdn, { in_port: { value: 1 } }, [{ type: 'output', port: 2 }]),
      mod(1, 5, 0xdn, {}, []), // a catch-all that drops (no traffic: the entry above takes it all)
    ]);
  });

  afterAll(async () => {
    c?.close();
    if (dp) await stopDp(dp, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    for (const prefix of prefixes) rmSync(path.join('/var/run/dpdk', prefix), { recursive: true, force: true });
  });

  it('maps the segment HELLO names: beside the socket, mode 0600, read without a message', async () => {
    expect(info.statsSegment).toBe(segPath);
    expect(statSync(segPath).mode & 0o777).toBe(0o600);
    expect(dpLog).toContain(`stats segment ${segPath}`);
    expect(c.readStats(), c.statsError ?? '').not.toBeNull();
    expect(c.statsError).toBeNull();
    // ports added are in it at once (published before PORT_ADD's reply); the
    // flows' counts with the next refresh
    expect(c.readStats()!.ports.map((p) => p.id)).toEqual([1, 2]);
    const s = await freshStats();
    expect(s!.ports.map((p) => [p.id, p.rxPackets, typeof p.linkUp])).toEqual([
      [1, 0n, 'boolean'],
      [2, 0n, 'boolean'],
    ]);
    expect(s!.tables.map((t) => [t.id, t.nFlows])).toEqual([
      [0, 4],
      [1, 2],
    ]);
    expect(s!.pmds.map((p) => p.slot)).toEqual([0]);
    expect(Object.keys(s!.drops)).toContain('table_miss');
    // the data plane's CLOCK_MONOTONIC, as process.hrtime's: at most a refresh or two old
    const age = Number(process.hrtime.bigint() - s!.timeNs) / 1e6;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(1000);
  });

  it('agrees with the stats messages under traffic: never ahead of them, caught up within one refresh', async () => {
    await source(true);
    await sleep(200);
    let prev = c.readStats()!;
    for (let i = 0; i < 10; i++) {
      const before = c.readStats()!;
      const [ports, dps, pmds, tables] = await Promise.all([c.portStats(), c.dpStats(), c.pmdStats(), c.tableList()]);
      const after = await freshStats();
      const msgRx = ports.find((p) => p.id === 1)!.rxPackets;
      const msgTx = ports.find((p) => p.id === 2)!.txPackets;
      const rx = (s: StatsSnapshot) => s.ports.find((p) => p.id === 1)!.rxPackets;
      const tx = (s: StatsSnapshot) => s.ports.find((p) => p.id === 2)!.txPackets;
      const lookups = (s: { id: number; lookups: bigint }[]) => s.find((t) => t.id === 0)!.lookups;
      expect(rx(before)).toBeLessThanOrEqual(msgRx);
      expect(msgRx).toBeLessThanOrEqual(rx(after));
      expect(tx(before)).toBeLessThanOrEqual(msgTx);
      expect(msgTx).toBeLessThanOrEqual(tx(after));
      expect(before.rxPackets).toBeLessThanOrEqual(dps.rxPackets);
      expect(dps.rxPackets).toBeLessThanOrEqual(after.rxPackets);
      expect(before.pmds[0].packets).toBeLessThanOrEqual(pmds[0].packets);
      expect(pmds[0].packets).toBeLessThanOrEqual(after.pmds[0].packets);
      expect(lookups(before.tables)).toBeLessThanOrEqual(lookups(tables));
      expect(lookups(tables)).toBeLessThanOrEqual(lookups(after.tables));
      // monotonic, and refreshed about every 100 ms
      expect(after.timeNs).toBeGreaterThan(prev.timeNs);
      expect(rx(after)).toBeGreaterThanOrEqual(rx(prev));
      expect(after.pmds[0].busyCycles).toBeGreaterThanOrEqual(prev.pmds[0].busyCycles);
      prev = after;
    }
    expect(prev.ports.find((p) => p.id === 1)!.rxPackets).toBeGreaterThan(10_000n);
  });

  it('equals the messages field by field once the counters stand still', async () => {
    await source(false);
    const s = await freshStats();
    const [ports, descs, dps, pmds, tables] = await Promise.all([c.portStats(), c.portList(), c.dpStats(), c.pmdStats(), c.tableList()]);
    const link = new Map(descs.map((d) => [d.id, d.linkUp]));
    expect(s.ports).toEqual(ports.map((p) => ({ ...p, linkUp: link.get(p.id) })));
    expect(s.rxPackets).toBe(dps.rxPackets);
    expect(s.txPackets).toBe(dps.txPackets);
    expect(s.drops).toEqual(dps.drops);
    expect(s.tables).toEqual(tables.map((t) => ({ id: t.id, nFlows: t.nFlows, lookups: t.lookups, matched: t.matched })));
    expect(s.pmds.map(pmdCounters)).toEqual(pmds.map(pmdCounters));
    // every packet received was forwarded (the pcap's four frames all match)
    const p1 = s.ports.find((p) => p.id === 1)!;
    expect(s.ports.find((p) => p.id === 2)!.txPackets).toBe(p1.rxPackets);
    expect(Object.values(s.drops).every((n) => n === 0n)).toBe(true);
  });

  it('shows cleared counters as soon as the clear is answered', async () => {
    await c.portStatsClear();
    const s = c.readStats()!; // no wait: published before the reply
    expect(s.ports.map((p) => [p.id, p.rxPackets, p.txPackets])).toEqual([
      [1, 0n, 0n],
      [2, 0n, 0n],
    ]);
    expect(s.rxPackets).toBeGreaterThan(0n); // DP_STATS counts since start
    await c.pmdStatsClear();
    const t = c.readStats()!;
    expect(t.pmds[0].packets).toBe(0n);
    expect(t.pmds[0].rxqs.every((q) => q.packets === 0n)).toBe(true);
    expect(t.pmds.map(pmdCounters)).toEqual((await c.pmdStats()).map(pmdCounters));

    await source(true);
    await sleep(300);
    await source(false);
    const u = await freshStats();
    expect(u.ports).toEqual((await c.portStats()).map((p) => ({ ...p, linkUp: u.ports.find((q) => q.id === p.id)!.linkUp })));
    expect(u.pmds[0].packets).toBe(u.ports.find((p) => p.id === 1)!.rxPackets);
  });

  it('sums flows by cookie over every table, busiest first', async () => {
    const sums = new Map<bigint, CookieStats>();
    for (const f of await c.flowDump()) {
      const e = sums.get(f.cookie) ?? { cookie: f.cookie, flows: 0, packets: 0n, bytes: 0n };
      e.flows++;
      e.packets += f.stats.packets;
      e.bytes += f.stats.bytes;
      sums.set(f.cookie, e);
    }
    const busier = (a: CookieStats, b: CookieStats) => (a.packets !== b.packets ? (a.packets > b.packets ? -1 : 1) : a.bytes !== b.bytes ? (a.bytes > b.bytes ? -1 : 1) : a.cookie < b.cookie ? -1 : 1);
    const got = await c.flowCookieStats();
    expect(got).toEqual([...sums.values()].sort(busier));
    expect(got.map((x) => x.cookie)).toEqual([0xdn, 0xan, 0xbn, 0xcn].sort((a, b) => busier(sums.get(a)!, sums.get(b)!)));
    const by = new Map(got.map((x) => [x.cookie, x]));
    // 0xa: two entries, one with traffic (half the frames); 0xd: every packet, in table 1
    expect(by.get(0xan)!.flows).toBe(2);
    expect(by.get(0xdn)!.flows).toBe(2);
    expect(by.get(0xdn)!.packets).toBe(by.get(0xan)!.packets + by.get(0xbn)!.packets + by.get(0xcn)!.packets);
    expect(by.get(0xdn)!.bytes).toBe(by.get(0xdn)!.packets * 60n);
    const half = Number(by.get(0xan)!.packets) / Number(by.get(0xdn)!.packets);
    expect(half).toBeGreaterThan(0.49);
    expect(half).toBeLessThan(0.51);
    expect(by.get(0xbn)!.packets).toBeGreaterThan(0n);

    expect(await c.flowCookieStats(2)).toEqual(got.slice(0, 2));
    await expect(c.flowCookieStats(0)).rejects.toThrow(/limit: 0 is out of range 1\.\.65536/);
    await expect(c.flowCookieStats(70_000)).rejects.toThrow(/limit/);
  });

  it('goes away on SIGTERM; a killed data plane\'s file is replaced by the next, which the client maps after HELLO', async () => {
    await stopDp(dp, 'SIGTERM');
    expect(existsSync(segPath)).toBe(false);
    await sleep(50);
    expect(c.connected).toBe(false);
    expect(c.readStats()).toBeNull();
    expect(c.statsError).toMatch(/not connected/);

    dp = await startDp();
    const second = await c.connect(sock);
    expect(second.pid).toBe(dp.pid);
    expect(c.readStats()!.ports).toEqual([]);
    await stopDp(dp, 'SIGKILL');
    expect(existsSync(segPath)).toBe(true); // no clean exit: left behind...

    dp = await startDp();
    const third = await c.connect(sock); // ...and replaced
    expect(third.pid).toBe(dp.pid);
    expect(statSync(segPath).mode & 0o777).toBe(0o600);
    // the client checks that the segment is the new data plane's (its pid)
    expect(c.readStats(), c.statsError ?? '').not.toBeNull();
    expect(c.statsError).toBeNull();
    c.close();
    await stopDp(dp, 'SIGTERM');

    dp = await startDp(['--stats-segment', 'none']);
    const fourth = await c.connect(sock);
    expect((fourth as typeof info).statsSegment).toBeNull();
    expect(existsSync(segPath)).toBe(false);
    expect(c.readStats()).toBeNull();
    expect(c.statsError).toMatch(/no stats segment/);
  });
});
