/**
 * EventService.WatchEvents over a real gRPC server, on a Switch attached to
 * the fake data plane: events by type, flow text with port names and final
 * counters, data plane state changes, an unknown type, a client that does
 * not read (RESOURCE_EXHAUSTED, not unbounded memory), and streams ended
 * when the server closes.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowEntry } from '../../src/mgmt/addon-types';
import { eventService, StreamSet, type EventLimits } from '../../src/mgmt/event-service';
import { silentLogger } from '../../src/mgmt/log';
import { loadProto } from '../../src/mgmt/proto';
import { StateStore } from '../../src/mgmt/state';
import { Switch } from '../../src/mgmt/switch';
import { FakeDataplane } from './fake-dataplane';

let dir: string;
let server: grpc.Server;
let client: grpc.Client & Record<string, any>;
let address: string;
let sw: Switch;
let dp: FakeDataplane;
let streams: StreamSet;

async function serve(limits?: EventLimits) {
  const store = new StateStore(join(dir, 'state.json'));
  sw = new Switch(store.load(), store, silentLogger);
  dp = new FakeDataplane();
  await dp.connect();
  await sw.attach(dp, dp.info);
  await sw.addPort({ name: 'p1', devargs: 'net_ring0', id: 1 });
  streams = new StreamSet();
  server = new grpc.Server();
  const v1 = loadProto().proto.switchyard.v1;
  server.addService(v1.EventService.service, eventService(sw, streams, limits));
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  address = `127.0.0.1:${port}`;
  client = new v1.EventService(address, grpc.credentials.createInsecure()) as any;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mg-events-'));
});
afterEach(async () => {
  client?.close();
  server?.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** A stream on the shared client, or on a connection of its own (own: a stalled stream holds its connection's window). */
function watch(types: string[] = [], own = false) {
  const got: any[] = [];
  const c = own
    ? (new (loadProto().proto.switchyard.v1.EventService)(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as any)
    : client;
  const call = c.WatchEvents({ types });
  call.on('data', (m: any) => got.push(m));
  const ended = new Promise<grpc.ServiceError | null>((resolve) => {
    call.on('error', (e: grpc.ServiceError) => resolve(e));
    call.on('end', () => resolve(null));
  });
  return { got, call, ended };
}

const until = async (f: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A subscription is live once the server has it: poke until the first event arrives. */
async function subscribed(w: ReturnType<typeof watch>) {
  const desc = (await sw.listPorts())[0];
  await until(() => {
    if (w.got.length === 0) sw.handleEvent({ type: 'port_status', reason: 'modify', port: desc });
    return w.got.length > 0;
  });
  w.got.length = 0;
}

const removed = (): FlowEntry => ({
  table: 0,
  priority: 200,
  cookie: 0x20n,
  idleTimeout: 2,
  hardTimeout: 0,
  flags: 1,
  match: { in_port: { value: 1 } },
  actions: [{ type: 'output', port: 1 }],
  stats: { packets: 12345n, bytes: 790080n, durationNs: 3_000_000_000n, idleNs: 2_000_000_000n },
});

describe('WatchEvents', () => {
  it('sends data-plane events as they happen: port status, flow removed with port names and final counters', async () => {
    await serve();
    const w = watch();
    await subscribed(w);
    const desc = (await sw.listPorts())[0];
    sw.handleEvent({ type: 'port_status', reason: 'link', port: { ...desc, linkUp: false } });
    sw.handleEvent({ type: 'flow_removed', reason: 'idle_timeout', flow: removed() });
    sw.handleEvent({ type: 'packet_in', port: 1, table: 3, cookie: 7n, packet: Buffer.from('abcd', 'hex'), reason: 'no_match', totalLen: 60 });
    await until(() => w.got.length === 3);
    const [link, flow, pin] = w.got;
    expect(link.event).toBe('portStatus');
    expect(link.portStatus).toMatchObject({ reason: 'link', port: { id: 1, name: 'p1', linkUp: false } });
    expect(Math.abs(Number(BigInt(link.timeUnixNs) / 1_000_000n) - Date.now())).toBeLessThan(5000);
    expect(flow.flowRemoved.reason).toBe('idle_timeout');
    expect(flow.flowRemoved.flow).toMatchObject({ tableId: 0, priority: 200, cookie: '32', match: 'in_port=p1', actions: 'output:p1', idleTimeout: 2, packets: '12345', bytes: '790080' });
    expect(flow.flowRemoved.flow.text).toContain('n_packets=12345');
    expect(pin.packetIn).toMatchObject({ inPortId: 1, inPort: 'p1', tableId: 3, cookie: '7', reason: 'no_match', totalLen: 60 });
    expect(pin.packetIn.summary).toBe('2 bytes (shorter than an Ethernet header)');
    expect(Buffer.from(pin.packetIn.frame).toString('hex')).toBe('abcd');
    w.call.cancel();
  });

  it('filters by type; an unknown type is INVALID_ARGUMENT naming it', async () => {
    await serve();
    const bad = await watch(['port_status', 'link_flap']).ended;
    expect(bad?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad?.details).toBe("types: unknown event type 'link_flap' (expected port_status, flow_removed, packet_in, dataplane)");

    const all = watch();
    const flows = watch(['flow_removed']);
    await subscribed(all);
    const desc = (await sw.listPorts())[0];
    sw.handleEvent({ type: 'port_status', reason: 'modify', port: desc });
    sw.handleEvent({ type: 'flow_removed', reason: 'hard_timeout', flow: removed() });
    await until(() => all.got.length === 2 && flows.got.length === 1);
    expect(flows.got.map((m) => m.flowRemoved.reason)).toEqual(['hard_timeout']);
    all.call.cancel();
    flows.call.cancel();
  });

  it('data plane state changes: disconnected with the reason and the pid that went, connected with the new one', async () => {
    await serve();
    const w = watch(['dataplane']);
    const any = watch();
    await subscribed(any);
    any.call.cancel();
    const pid = dp.info.pid;
    sw.detach('connection lost: the data plane closed the socket');
    const fresh = new FakeDataplane();
    fresh.info.pid = pid + 1;
    await fresh.connect();
    await sw.attach(fresh, fresh.info);
    await until(() => w.got.length === 3);
    expect(w.got.map((m) => [m.dataplane.state, m.dataplane.pid, m.dataplane.reason])).toEqual([
      ['DATAPLANE_STATE_DISCONNECTED', pid, 'connection lost: the data plane closed the socket'],
      ['DATAPLANE_STATE_RECONCILING', pid + 1, ''],
      ['DATAPLANE_STATE_CONNECTED', pid + 1, ''],
    ]);
    w.call.cancel();
  });

  it('a client that does not read has its stream ended with RESOURCE_EXHAUSTED, not an unbounded queue', async () => {
    await serve({ events: 1000, bytes: 1 << 30 });
    const slow = watch(['port_status'], true);
    const fast = watch(['port_status'], true);
    await subscribed(slow);
    await subscribed(fast);
    slow.call.pause();
    const desc = (await sw.listPorts())[0];
    // Far more than the HTTP/2 windows and the limit hold; the reading client keeps up all along.
    let sent = 0;
    while (sent < 6000) {
      for (let i = 0; i < 50; i++, sent++) sw.handleEvent({ type: 'port_status', reason: 'modify', port: { ...desc, devargs: 'x'.repeat(200) } });
      await until(() => fast.got.length === sent, 10_000);
    }
    slow.call.resume();
    const err = await slow.ended;
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err?.details).toMatch(/not reading its events: more than 1000 events waiting to be sent; stream ended/);
    expect(slow.got.length).toBeLessThan(3000);
    expect(slow.got.length).toBeGreaterThan(1000);
    fast.call.cancel();
  }, 30_000);

  it('ends every open stream when the server closes (UNAVAILABLE), and refuses new ones', async () => {
    await serve();
    const w = watch();
    await subscribed(w);
    streams.endAll();
    const err = await w.ended;
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toBe('switchyardd is shutting down');
    expect((await watch().ended)?.code).toBe(grpc.status.UNAVAILABLE);
  });
});
