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
import { afPacket, PING_FRAME, twoHosts } from '../helpers/hosts';
import { nonZeroDrops, portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { macBytes, ping, removeCapture, startCapture, writePcap, type Capture } from '../helpers/traffic';

let v1: any;
function eventClient(address: string): any {
  if (!v1) {
    const def = protoLoader.loadSync('switchyard/v1/switchyard.proto', { includeDirs: [PROTO_DIR], longs: String, enums: String, defaults: true, oneofs: true });
    v1 = (grpc.loadPackageDefinition(def) as any).switchyard.v1;
  }
  return new v1.EventService(address, grpc.credentials.createInsecure());
}

/** The frames of a classic pcap file (as tcpdump -w writes it). */
function readPcap(buf: Buffer): Buffer[] {
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const frames: Buffer[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const len = u32(o + 8);
    frames.push(buf.subarray(o + 16, o + 16 + len));
    o += 16 + len;
  }
  return frames;
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
    [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
      ],
      flows: [
        'table=0,priority=100,cookie=0x42,icmp,in_port=p1,icmp_type=8,actions=controller,output:p2',
        'table=0,priority=10,in_port=p2,actions=output:p1',
      ],
    });
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
    try {
      await sleep(1000); // both subscribed (nothing is replayed)
      cap = await startCapture(a.ns, a.nsIf, { filter: 'icmp', direction: 'out' });
      const r = await ping(a.ns, b.ip!, { count: 3 });
      await cap.stop();
      expect(r.received).toBe(3);
      const requests = readPcap(await fs.readFile(cap.file)).map((f) => f.toString('hex'));
      await waitUntil('3 packet-ins on the gRPC stream', async () => stream.events.length >= 3 || undefined, 10_000);
      await waitUntil('3 packet-ins from the CLI', async () => (cli.lines().length >= 3 && text.lines().length >= 3) || undefined, 10_000);
      await sleep(300);
      expect(stream.events).toHaveLength(3);
      for (const [i, e] of stream.events.entries()) {
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
      const j = cli.lines();
      expect(j).toHaveLength(3);
      expect(j.map((e: any) => [e.type, e.inPort, e.table, e.cookie, e.reason, e.totalLen])).toEqual(Array(3).fill(['packet_in', 'p1', 0, '0x42', 'action', PING_FRAME]));
      expect(j.map((e: any) => e.frame)).toEqual(requests);
      const lines = text.lines();
      console.log(`switchyard events: ${lines[0]}`);
      expect(lines[0]).toMatch(new RegExp(`packet-in in_port p1 table 0 cookie 0x42 reason action ${PING_FRAME} bytes: .* > .*, IPv4 10\\.0\\.0\\.1 > 10\\.0\\.0\\.2: ICMP echo request, id \\d+, seq 1, length 64$`));
      expect(nonZeroDrops(await portStats(sw, 'p1'))).toEqual({});
    } finally {
      stream.cancel();
      await cli.stop();
      await text.stop();
    }
  });

  it('a table whose miss is controller sends the first 128 bytes of what nothing matches (no_match)', async () => {
    const stream = watch(sw.server, ['packet_in']);
    try {
      let r = await sw.cli(['flow', 'del', 'table=0,in_port=p1']);
      expect(r.code, r.stderr).toBe(0);
      r = await sw.cli(['table', 'set', '0', '--miss', 'controller']);
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
      expect(nonZeroDrops(await portStats(sw, 'p1'))).toEqual({});
    } finally {
      stream.cancel();
      await sw.cli(['table', 'set', '0', '--miss', 'drop']);
    }
  });
});

/** A minimal UDP/IPv4 frame. */
function udpFrame(i: number): Buffer {
  const f = Buffer.alloc(60);
  macBytes('02:00:00:00:00:02').copy(f, 0);
  macBytes('02:00:00:00:00:01').copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(46, 16);
  f[22] = 64;
  f[23] = 17;
  f.writeUInt32BE(0x0a000001, 26);
  f.writeUInt32BE(0x0a000002, 30);
  f.writeUInt16BE(1000 + (i % 1000), 34);
  f.writeUInt16BE(9, 36);
  f.writeUInt16BE(26, 38);
  return f;
}

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
      await writePcap(file, Array.from({ length: 2000 }, (_, i) => udpFrame(i)));
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
