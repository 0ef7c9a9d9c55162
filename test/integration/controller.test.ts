/**
 * Packet-in with real traffic: a flow with actions=controller,output:p2 on
 * a namespace's ping sends each echo request to the controller and on to
 * the other host. The events arrive on a real gRPC WatchEvents stream and
 * through `switchyard events --type packet-in`, with the right in_port,
 * table, cookie, reason and length, and the bytes tcpdump saw leave the
 * pinging namespace; ping is unharmed. A table whose miss is controller
 * sends what nothing matches (128 bytes, reason no_match). A burst of 2,000
 * frames over a rate limit of 100/s passes the burst (25) and counts the
 * rest under the drop reason `controller`.
 *
 * Packet-out: an ARP reply given in hex (the CLI) and a UDP frame built
 * from fields (gRPC) reach a tcpdump in the other namespace byte for byte
 * and count in the port's tx counter; `table` runs the frame through the
 * flows as if received on in_port (and not when it comes from no port);
 * bad requests are refused naming what is wrong, and send nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology } from '../../src/lib/netns';
import { CLI_JS, IS_ROOT, PROTO_DIR } from '../helpers/paths';
import { afPacket, PING_FRAME, twoHosts, twoHostSwitch } from '../helpers/hosts';
import { nonZeroDrops, portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { macBytes, ping, readPcap, removeCapture, startCapture, writePcap, type Capture } from '../helpers/traffic';
import { udpFrame } from '../helpers/frames';
import { GrpcStatus } from '../helpers/grpc';

let v1: any;
function eventClient(address: string): any {
  if (!v1) {
    const def = protoLoader.loadSync('switchyard/v1/switchyard.proto', { includeDirs: [PROTO_DIR], longs: String, enums: String, defaults: true, oneofs: true });
    v1 = (grpc.loadPackageDefinition(def) as any).switchyard.v1;
  }
  return new v1.EventService(address, grpc.credentials.createInsecure());
}

/** A WatchEvents stream: the events so far. */
function watch(address: string, types: string[]): { events: any[]; cancel(): void } {
  const events: any[] = [];
  const call = eventClient(address).WatchEvents({ types });
  call.on('data', (e: any) => events.push(e));
  call.on('error', () => undefined);
  return { events, cancel: () => call.cancel() };
}

/** `switchyard --json events --type packet-in`, left running. */
function follow(sw: Switch, args: string[]): { child: ChildProcess; lines(): any[]; stop(): Promise<void> } {
  const child = spawn(process.execPath, [CLI_JS, '--server', sw.server, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => (l.startsWith('{') ? JSON.parse(l) : l)),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

describe.skipIf(!IS_ROOT)('packet-in between two hosts', () => {
  const topo = new Topology('sypi');
  let sw: Switch;
  let a: Awaited<ReturnType<typeof twoHosts>>[0];
  let b: Awaited<ReturnType<typeof twoHosts>>[1];
  let cap: Capture | undefined;

  beforeAll(async () => {
    ({ a, b, sw } = await twoHostSwitch(topo, {
      flows: [
        'table=0,priority=100,cookie=0x42,icmp,in_port=p1,icmp_type=8,actions=controller,output:p2',
        'table=0,priority=10,in_port=p2,actions=output:p1',
      ],
    }));
  });

  afterAll(async () => {
    await removeCapture(cap);
    await sw?.stop();
    await topo.cleanup();
  });

  it('each echo request reaches the controller (gRPC and CLI) with in_port, cookie and the bytes sent, and ping still works', async () => {
    const stream = watch(sw.server, ['packet_in']);
    const cli = follow(sw, ['--json', 'events', '--type', 'packet-in']);
    const text = follow(sw, ['events', '--type', 'packet-in']);
    const isProbe = (hex: string) => hex.slice(24, 28) === '88b5';
    try {
      // Subscribed once a probe reaches each (nothing is replayed): a packet-out
      // to the controller, a frame of the local experimental EtherType 0x88b5.
      const probe = Buffer.concat([Buffer.from('ffffffffffff020000000001', 'hex'), Buffer.from('88b5', 'hex'), Buffer.alloc(46)]);
      await waitUntil(
        'the event followers to subscribe',
        async () => {
          await sw.api.call('PacketService', 'PacketOut', { inPort: 'p1', actions: 'controller', frame: probe });
          await sleep(300);
          return (stream.events.length > 0 && cli.lines().length > 0 && text.lines().length > 0) || undefined;
        },
        20_000,
        0,
      );
      await sleep(500);
      const [s0, c0, t0] = [stream.events.length, cli.lines().length, text.lines().length];
      cap = await startCapture(a.ns, a.nsIf, { filter: 'icmp', direction: 'out' });
      const r = await ping(a.ns, b.ip!, { count: 3 });
      await cap.stop();
      expect(r.received).toBe(3);
      const requests = (await readPcap(cap.file)).map((f) => f.toString('hex'));
      await waitUntil('3 packet-ins on the gRPC stream', async () => stream.events.length >= s0 + 3 || undefined, 10_000);
      await waitUntil('3 packet-ins from the CLI', async () => (cli.lines().length >= c0 + 3 && text.lines().length >= t0 + 3) || undefined, 10_000);
      await sleep(300);
      expect(stream.events.slice(0, s0).every((e) => isProbe(Buffer.from(e.packetIn.frame).toString('hex')))).toBe(true);
      const events = stream.events.slice(s0);
      expect(events).toHaveLength(3);
      for (const [i, e] of events.entries()) {
        const p = e.packetIn;
        expect(e.event).toBe('packetIn');
        expect(p.inPort).toBe('p1');
        expect(p.tableId).toBe(0);
        expect(p.cookie).toBe(String(0x42));
        expect(p.reason).toBe('action');
        expect(p.totalLen).toBe(PING_FRAME);
        expect(p.frame.length).toBe(PING_FRAME);
        expect(p.summary).toMatch(new RegExp(`IPv4 ${a.ip} > ${b.ip}: ICMP echo request, id \\d+, seq ${i + 1}, length 64$`));
        expect(Buffer.from(p.frame).toString('hex')).toBe(requests[i]); // the very bytes that left the namespace
      }
      expect(requests).toHaveLength(3);
      const j = cli.lines().slice(c0);
      expect(j).toHaveLength(3);
      expect(j.map((e: any) => [e.type, e.inPort, e.table, e.cookie, e.reason, e.totalLen])).toEqual(Array(3).fill(['packet_in', 'p1', 0, '0x42', 'action', PING_FRAME]));
      expect(j.map((e: any) => e.frame)).toEqual(requests);
      const lines = text.lines().slice(t0);
      expect(lines).toHaveLength(3);
      console.log(`switchyard events: ${lines[0]}`);
      expect(lines[0]).toMatch(new RegExp(`packet-in in_port p1 table 0 cookie 0x42 reason action ${PING_FRAME} bytes: .* > .*, IPv4 10\\.0\\.0\\.1 > 10\\.0\\.0\\.2: ICMP echo request, id \\d+, seq 1, length 64$`));
      // none refused (a stray frame of the namespace's own may meet a table miss)
      expect(nonZeroDrops(await portStats(sw, 'p1')).controller).toBeUndefined();
    } finally {
      stream.cancel();
      await cli.stop();
      await text.stop();
    }
  });

  it('a table whose miss is controller sends the first 128 bytes of what nothing matches (no_match)', async () => {
    const stream = watch(sw.server, ['packet_in']);
    try {
      const missBefore = nonZeroDrops(await portStats(sw, 'p1')).table_miss ?? 0;
      let r = await sw.cli(['table', 'set', '0', '--miss', 'controller']);
      expect(r.code, r.stderr).toBe(0);
      r = await sw.cli(['flow', 'del', 'table=0,in_port=p1']);
      expect(r.code, r.stderr).toBe(0);
      await sleep(500);
      const pr = await ping(a.ns, b.ip!, { count: 2, size: 400 });
      expect(pr.received).toBe(0); // the controller does not answer
      await waitUntil('2 no_match packet-ins', async () => stream.events.length >= 2 || undefined, 10_000);
      for (const e of stream.events) {
        expect(e.packetIn).toMatchObject({ inPort: 'p1', tableId: 0, cookie: '0', reason: 'no_match', totalLen: 14 + 20 + 8 + 400 });
        expect(e.packetIn.frame.length).toBe(128);
      }
      expect(stream.events).toHaveLength(2);
      const drops = nonZeroDrops(await portStats(sw, 'p1'));
      expect(drops.table_miss ?? 0).toBe(missBefore); // sent to the controller, not dropped
      expect(drops.controller).toBeUndefined();
    } finally {
      stream.cancel();
      await sw.cli(['table', 'set', '0', '--miss', 'drop']);
    }
  });
});

describe.skipIf(!IS_ROOT)('the packet-in rate limit', () => {
  let sw: Switch;
  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-pin-'));
    sw = await startSwitch({ daemonArgs: ['--controller-rate', '100'] });
  });

  afterAll(async () => {
    await sw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('2,000 packet-ins at once at 100/s: the burst of 25 goes, the rest is counted controller', async () => {
    const stream = watch(sw.server, ['packet_in']);
    try {
      await sleep(500);
      const file = path.join(dir, 'burst.pcap');
      await writePcap(file, Array.from({ length: 2000 }, (_, i) => udpFrame('10.0.0.1', '10.0.0.2', 1000 + (i % 1000), 9)));
      let r = await sw.cli(['flow', 'add', 'table=0,priority=10,in_port=7,actions=controller(max_len=42)']);
      expect(r.code, r.stderr).toBe(0);
      r = await sw.cli(['port', 'add', 'src', `net_pcap0,rx_pcap=${file}`, '--id', '7']);
      expect(r.code, r.stderr).toBe(0);
      const src = await waitUntil('the burst to be read', async () => {
        const s = await portStats(sw, 'src');
        return Number(s.rxPackets) === 2000 ? s : undefined;
      });
      await sleep(500);
      const got = stream.events.length;
      const dropped = nonZeroDrops(src).controller ?? 0;
      console.log(`packet-in rate 100/s (burst 25): 2000 sent at once, ${got} packet-ins, ${dropped} counted controller`);
      expect(got).toBeGreaterThanOrEqual(25);
      expect(got).toBeLessThan(35); // the burst, plus what 100/s refills while the pcap is read
      expect(got + dropped).toBe(2000);
      expect(nonZeroDrops(src)).toEqual({ controller: 2000 - got });
      for (const e of stream.events) expect(e.packetIn.frame.length).toBe(42);
    } finally {
      stream.cancel();
    }
  });
});

describe.skipIf(!IS_ROOT)('packet-out into two hosts', () => {
  const topo = new Topology('sypo');
  let sw: Switch;
  let a: Awaited<ReturnType<typeof twoHosts>>[0];
  let b: Awaited<ReturnType<typeof twoHosts>>[1];
  let cap: Capture | undefined;

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      flows: ['table=0,priority=100,cookie=0x7,udp,in_port=p1,tp_dst=9999,actions=output:p2'],
    });
  });

  afterAll(async () => {
    await removeCapture(cap);
    await sw?.stop();
    await topo.cleanup();
  });

  /** What b's namespace received while fn ran. */
  async function receivedByB(fn: () => Promise<void>): Promise<Buffer[]> {
    await removeCapture(cap);
    cap = await startCapture(b.ns, b.nsIf, { direction: 'in' });
    await fn();
    await sleep(300);
    await cap.stop();
    return readPcap(cap.file);
  }

  it('an ARP reply in hex (CLI) and a UDP frame from fields (gRPC) arrive byte for byte, counted in tx', async () => {
    const arp = Buffer.concat([
      macBytes(b.nsMac), macBytes('02:00:00:00:00:aa'), Buffer.from('0806', 'hex'),
      Buffer.from('0001080006040002', 'hex'), macBytes('02:00:00:00:00:aa'), Buffer.from([10, 0, 0, 99]),
      macBytes(b.nsMac), Buffer.from([10, 0, 0, 2]), Buffer.alloc(18),
    ]);
    const before = Number((await portStats(sw, 'p2')).txPackets);
    let udp!: Buffer;
    const got = await receivedByB(async () => {
      const r = await sw.cli(['packet-out', '--actions', 'output:p2', '--hex', arp.toString('hex')]);
      expect(r.code, r.stderr).toBe(0);
      console.log(`switchyard packet-out: ${r.stdout.trim()}`);
      expect(r.stdout).toMatch(/^sent 60 bytes, actions=output:p2: 02:00:00:00:00:aa > .*, ARP, Reply 10\.0\.0\.99 is-at 02:00:00:00:00:aa/);
      const res = await sw.api.call('PacketService', 'PacketOut', {
        inPort: 'p1',
        actions: 'output:p2',
        flow: `udp,dl_src=${a.nsMac},dl_dst=${b.nsMac},nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=4000,tp_dst=5000`,
      });
      udp = Buffer.from(res.frame);
      expect(res).toMatchObject({ actions: 'output:p2', inPortId: 1 });
    });
    expect(got.map((f) => f.toString('hex'))).toEqual([arp.toString('hex'), udp.toString('hex')]);
    expect(udp.readUInt16BE(12)).toBe(0x0800);
    expect(udp.readUInt16BE(36)).toBe(5000);
    expect(Number((await portStats(sw, 'p2')).txPackets) - before).toBe(2);
  });

  it('table runs the frame through the flows as if received on in_port', async () => {
    const flow = `udp,dl_src=${a.nsMac},dl_dst=${b.nsMac},nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=4000,tp_dst=9999`;
    const got = await receivedByB(async () => {
      let r = await sw.cli(['packet-out', '--in-port', 'p1', '--actions', 'table', '--frame', flow]);
      expect(r.code, r.stderr).toBe(0);
      // from no port, in_port=p1 does not match: a table miss, nothing sent
      r = await sw.cli(['packet-out', '--actions', 'table', '--frame', flow]);
      expect(r.code, r.stderr).toBe(0);
    });
    expect(got).toHaveLength(1);
    expect(got[0].readUInt16BE(36)).toBe(9999);
    const [f] = await sw.cliJson<any[]>(['flow', 'dump']);
    expect(Number(f.packets ?? f.nPackets)).toBe(1);
  });

  it('refuses what is wrong, naming it, and sends nothing', async () => {
    const udp = `udp,dl_dst=${b.nsMac},nw_src=10.0.0.1,nw_dst=10.0.0.2`;
    const cases: [object, number, RegExp][] = [
      [{ inPort: 'nosuch', actions: 'output:p2', flow: udp }, GrpcStatus.NOT_FOUND, /port 'nosuch' does not exist/],
      [{ actions: 'output:p2', frame: Buffer.alloc(0) }, GrpcStatus.INVALID_ARGUMENT, /frame: empty/],
      [{ actions: 'output:p2', frame: Buffer.alloc(2000) }, GrpcStatus.INVALID_ARGUMENT, /frame: 1986 bytes after the Ethernet header, over port 2's MTU 1500/],
      [{ actions: 'goto_table:1', flow: udp }, GrpcStatus.INVALID_ARGUMENT, /goto_table is not for a packet-out/],
      [{ actions: 'output:p9', flow: udp }, GrpcStatus.NOT_FOUND, /p9/],
      [{ actions: 'in_port', flow: udp }, GrpcStatus.INVALID_ARGUMENT, /output:in_port needs an in_port/],
      [{ actions: 'table,output:p2', flow: udp }, GrpcStatus.INVALID_ARGUMENT, /output:table must be the last/],
      [{ actions: '', flow: udp }, GrpcStatus.INVALID_ARGUMENT, /actions: none/],
    ];
    const got = await receivedByB(async () => {
      for (const [req, code, msg] of cases) {
        const err = await sw.api.call('PacketService', 'PacketOut', req).then(() => null, (e) => e);
        expect(err?.code, JSON.stringify(req)).toBe(code);
        expect(err?.details).toMatch(msg);
      }
      const r = await sw.cli(['packet-out', '--actions', 'output:p2', '--hex', '0x0g']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--hex: 'g' is not a hexadecimal digit/);
    });
    expect(got).toEqual([]);
  });
});
