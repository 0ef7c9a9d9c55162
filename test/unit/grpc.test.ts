/**
 * The real gRPC server with the real services on 127.0.0.1:0, spoken to by
 * a plain grpc-js client loaded from the .proto files: health and
 * reflection, status codes with the data plane absent, and the wire forms
 * (uint64 as strings, enums as names, proto3 optional fields) with an
 * in-memory data plane attached. No part of gRPC is mocked.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/mgmt/log';
import { RunningServer, startServer, checkListen, isLoopback } from '../../src/mgmt/server';
import { emptyState } from '../../src/mgmt/state';
import { Switch } from '../../src/mgmt/switch';
import { DROP_REASONS, FakeDataplane } from './fake-dataplane';

const REPO = join(__dirname, '../..');
const OPTS = { longs: String, enums: String, defaults: true, oneofs: true };

function loadClients(address: string) {
  const def = protoLoader.loadSync('switchyard/v1/switchyard.proto', { ...OPTS, includeDirs: [join(REPO, 'proto')] });
  const v1 = (grpc.loadPackageDefinition(def) as any).switchyard.v1;
  const health = (
    grpc.loadPackageDefinition(
      protoLoader.loadSync('health/v1/health.proto', { ...OPTS, includeDirs: [join(REPO, 'node_modules/grpc-health-check/proto')] }),
    ) as any
  ).grpc.health.v1;
  const refl = (
    grpc.loadPackageDefinition(
      protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { ...OPTS, includeDirs: [join(REPO, 'node_modules/@grpc/reflection/build/proto')] }),
    ) as any
  ).grpc.reflection.v1;
  const creds = grpc.credentials.createInsecure();
  const mk = (C: any) => new C(address, creds);
  return {
    port: mk(v1.PortService),
    flow: mk(v1.FlowService),
    table: mk(v1.TableService),
    stats: mk(v1.StatsService),
    system: mk(v1.SystemService),
    health: mk(health.Health),
    reflection: mk(refl.ServerReflection),
  };
}

type Clients = ReturnType<typeof loadClients>;

function call(client: any, method: string, req: object = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: any) => (err ? reject(err) : resolve(res)));
  });
}

async function fails(client: any, method: string, req: object = {}): Promise<{ code: string; details: string }> {
  try {
    await call(client, method, req);
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: grpc.status[err.code], details: err.details };
  }
  return { code: 'OK', details: '' };
}

describe('gRPC API', () => {
  let server: RunningServer;
  let sw: Switch;
  let c: Clients;
  const shutdowns: boolean[] = [];

  beforeAll(async () => {
    const state = emptyState();
    state.ports.push({ name: 'p1', devargs: 'net_null0', id: 1, adminUp: true });
    sw = new Switch(state, { save: async () => undefined }, silentLogger);
    server = await startServer({
      listen: '127.0.0.1:0',
      sw,
      system: {
        status: () => ({ dataplane: sw.dpState === 'connected' ? 'DATAPLANE_STATE_CONNECTED' : 'DATAPLANE_STATE_DISCONNECTED', daemonPid: process.pid, lastError: sw.lastError }),
        shutdown: (stop) => shutdowns.push(stop),
      },
      reasons: DROP_REASONS.map((name) => ({ name, help: `help for ${name}` })),
      log: silentLogger,
    });
    expect(server.port).toBeGreaterThan(0);
    c = loadClients(`127.0.0.1:${server.port}`);
  });

  afterAll(async () => {
    for (const k of Object.values(c ?? {})) (k as grpc.Client).close();
    await server?.close(500);
  });

  describe('with the data plane absent', () => {
    it('health says NOT_SERVING, for the server and each service', async () => {
      for (const service of ['', 'switchyard.v1.PortService', 'switchyard.v1.FlowService', 'switchyard.v1.TableService', 'switchyard.v1.StatsService', 'switchyard.v1.SystemService']) {
        expect(await call(c.health, 'Check', { service }), service).toEqual({ status: 'NOT_SERVING' });
      }
      expect((await fails(c.health, 'Check', { service: 'nosuch' })).code).toBe('NOT_FOUND');
    });

    it('reflection lists the services', async () => {
      const stream = c.reflection.ServerReflectionInfo();
      const res = await new Promise<any>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.write({ listServices: '' });
      });
      stream.end();
      const names = res.listServicesResponse.service.map((s: { name: string }) => s.name);
      expect(names).toEqual(expect.arrayContaining(['switchyard.v1.PortService', 'switchyard.v1.FlowService', 'switchyard.v1.TableService', 'switchyard.v1.StatsService', 'switchyard.v1.SystemService']));
    });

    it('data-plane calls are UNAVAILABLE', async () => {
      for (const [client, method, req] of [
        [c.port, 'ListPorts', {}],
        [c.port, 'AddPort', { name: 'p2', devargs: 'net_null1' }],
        [c.port, 'GetPortStats', {}],
        [c.flow, 'AddFlows', { flows: [{ match: 'in_port=p1', actions: 'drop' }] }],
        [c.flow, 'DumpFlows', {}],
        [c.table, 'ListTables', {}],
        [c.stats, 'GetDatapathStats', {}],
      ] as const) {
        const r = await fails(client, method, req);
        expect(r.code, method).toBe('UNAVAILABLE');
        expect(r.details, method).toMatch(/data plane is not connected/);
      }
    });

    it('flow text errors are still INVALID_ARGUMENT naming the field; unknown ports NOT_FOUND; duplicates ALREADY_EXISTS', async () => {
      expect(await fails(c.flow, 'AddFlows', { flows: [{ match: 'in_port=1,nw_srcx=1', actions: 'drop' }] })).toEqual({
        code: 'INVALID_ARGUMENT',
        details: "unknown field 'nw_srcx' in 'in_port=1,nw_srcx=1'",
      });
      expect(await fails(c.flow, 'AddFlows', { flows: [{ match: 'table=2', actions: 'goto_table:1' }] })).toEqual({
        code: 'INVALID_ARGUMENT',
        details: "goto_table:1 must name a table after 2 in 'goto_table:1'",
      });
      expect(await fails(c.flow, 'DeleteFlows', { match: 'frobnicate=1' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await fails(c.flow, 'ApplyFlows', { lines: ['ip,actions=drop', 'ip,nw_src=1.2.3.4/40,actions=drop'] })).toEqual({
        code: 'INVALID_ARGUMENT',
        details: "flow #2: nw_src: bad prefix length /40 (at most 32) in 'ip,nw_src=1.2.3.4/40,actions=drop'",
      });
      expect(await fails(c.flow, 'AddFlows', { flows: [{ match: 'in_port=nosuch', actions: 'drop' }] })).toEqual({
        code: 'NOT_FOUND',
        details: "unknown port 'nosuch' in 'in_port=nosuch'",
      });
      expect(await fails(c.port, 'DeletePort', { port: 'nosuch' })).toEqual({ code: 'NOT_FOUND', details: "port 'nosuch' does not exist" });
      expect(await fails(c.port, 'AddPort', { name: 'p1', devargs: 'net_null5' })).toEqual({ code: 'ALREADY_EXISTS', details: "port 'p1' already exists" });
      expect((await fails(c.port, 'AddPort', { name: 'p2', devargs: '' })).code).toBe('INVALID_ARGUMENT');
    });

    it('GetStatus answers', async () => {
      expect(await call(c.system, 'GetStatus')).toMatchObject({ dataplane: 'DATAPLANE_STATE_DISCONNECTED', daemonPid: process.pid });
    });
  });

  describe('with a data plane attached', () => {
    let dp: FakeDataplane;

    beforeAll(async () => {
      dp = new FakeDataplane();
      await dp.connect();
      await sw.attach(dp, dp.info);
    });

    it('health says SERVING', async () => {
      expect(await call(c.health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
      expect(await call(c.health, 'Check', { service: 'switchyard.v1.FlowService' })).toEqual({ status: 'SERVING' });
    });

    it('ports: optional fields, wire forms, uint64 counters as strings', async () => {
      const p = await call(c.port, 'AddPort', { name: 'p2', devargs: 'net_null1', mtu: 9000, adminUp: false });
      expect(p).toMatchObject({ id: 2, name: 'p2', devargs: 'net_null1', mtu: 9000, adminUp: false, driver: 'net_null' });
      expect((await call(c.port, 'ListPorts')).ports.map((x: any) => x.name)).toEqual(['p1', 'p2']);
      const up = await call(c.port, 'UpdatePort', { port: '2', adminUp: true });
      expect(up).toMatchObject({ adminUp: true, mtu: 9000 }); // mtu not sent: unchanged
      const { stats } = await call(c.port, 'GetPortStats', { port: 'p2' });
      expect(stats).toHaveLength(1);
      expect(stats[0]).toMatchObject({ id: 2, name: 'p2', rxPackets: '3', rxBytes: '294' });
      expect(stats[0].drops.table_miss).toBe('18446744073709551615'); // 2^64-1 survives the trip
      expect(await call(c.port, 'ClearPortStats', { port: 'p2' })).toEqual({});
      expect(await call(c.port, 'DeletePort', { port: 'p2' })).toEqual({});
    });

    it('flows: text in, text out, tables unset or set', async () => {
      expect(await call(c.flow, 'AddFlows', { flows: [{ match: 'ip,in_port=p1,nw_src=10.0.0.7/24', actions: 'output:p1', priority: 100 }, { tableId: 3, match: 'arp', actions: 'drop', cookie: '18446744073709551615' }] })).toEqual({ changed: 2 });
      const { flows } = await call(c.flow, 'DumpFlows', {});
      expect(flows).toHaveLength(2);
      expect(flows[0]).toMatchObject({
        tableId: 0,
        priority: 100,
        cookie: '0',
        match: 'ip,in_port=p1,nw_src=10.0.0.0/24',
        actions: 'output:p1',
        packets: '5',
        bytes: '490',
        durationSec: 1.234,
        text: 'cookie=0x0, duration=1.234s, table=0, n_packets=5, n_bytes=490, priority=100,ip,in_port=p1,nw_src=10.0.0.0/24 actions=output:p1',
      });
      expect(flows[1]).toMatchObject({ tableId: 3, priority: 32768, cookie: '18446744073709551615', match: 'arp', actions: 'drop' });
      expect((await call(c.flow, 'DumpFlows', { tableId: 3 })).flows).toHaveLength(1);
      expect((await call(c.flow, 'DumpFlows', { tableId: 0 })).flows).toHaveLength(1);
      expect(await call(c.flow, 'ModifyFlows', { flows: [{ match: 'arp', actions: 'flood' }], strict: false })).toEqual({ changed: 1 });
      expect(await call(c.flow, 'DeleteFlows', { match: 'arp', strict: true, tableId: 3 })).toEqual({ changed: 1 });
      expect(await call(c.flow, 'DeleteFlows', { match: '' })).toEqual({ changed: 1 });
      expect(await call(c.flow, 'ApplyFlows', { lines: ['table=1,actions=drop', 'delete_strict table=1'] })).toEqual({ changed: 2 });
    });

    it('tables: miss as an enum name, unchanged when unspecified', async () => {
      expect(await call(c.table, 'UpdateTable', { id: 4, name: 'acl', miss: 'TABLE_MISS_CONTINUE' })).toMatchObject({ id: 4, name: 'acl', miss: 'TABLE_MISS_CONTINUE', lookups: '10', matched: '8' });
      expect(await call(c.table, 'UpdateTable', { id: 4, name: 'acl2' })).toMatchObject({ name: 'acl2', miss: 'TABLE_MISS_CONTINUE' });
      const { tables } = await call(c.table, 'ListTables');
      expect(tables.find((t: any) => t.id === 4)).toMatchObject({ name: 'acl2', miss: 'TABLE_MISS_CONTINUE' });
    });

    it('statistics, once and as a stream', async () => {
      const s = await call(c.stats, 'GetDatapathStats');
      expect(s).toMatchObject({ rxPackets: '100', txPackets: '90', dropsTotal: String(DROP_REASONS.length) });
      expect(s.drops).toEqual(Object.fromEntries(DROP_REASONS.map((r) => [r, '1'])));
      expect(s.reasons.map((r: any) => r.name)).toEqual(DROP_REASONS);
      const stream = c.stats.WatchDatapathStats({ intervalMs: 100 });
      const got: any[] = [];
      await new Promise<void>((resolve) => {
        stream.on('data', (d: any) => {
          got.push(d);
          if (got.length === 2) {
            stream.cancel();
            resolve();
          }
        });
        stream.on('error', () => resolve());
      });
      expect(got[1]).toMatchObject({ rxPackets: '100' });
    });

    it('Shutdown answers, then asks the daemon to stop', async () => {
      expect(await call(c.system, 'Shutdown', { stopDataplane: true })).toEqual({});
      await new Promise((r) => setImmediate(r));
      expect(shutdowns).toEqual([true]);
    });

    it('a lost data plane: health NOT_SERVING again, calls UNAVAILABLE', async () => {
      dp.crash();
      sw.detach('connection lost: closed');
      expect(await call(c.health, 'Check', { service: '' })).toEqual({ status: 'NOT_SERVING' });
      expect((await fails(c.port, 'ListPorts')).code).toBe('UNAVAILABLE');
    });
  });
});

describe('listen address', () => {
  it('loopback only', () => {
    for (const ok of ['127.0.0.1:50051', 'localhost:1', '[::1]:50051', '127.1.2.3:9', 'unix:/run/switchyard/api.sock']) expect(checkListen(ok), ok).toBeUndefined();
    expect(checkListen('0.0.0.0:50051')).toMatch(/refusing to listen on 0.0.0.0:50051: .*no TLS/);
    expect(checkListen('[::]:50051')).toMatch(/refusing/);
    expect(checkListen('10.0.0.1:50051')).toMatch(/refusing/);
    expect(checkListen('example.com:50051')).toMatch(/refusing/);
    expect(checkListen('50051')).toMatch(/not HOST:PORT/);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::')).toBe(false);
  });

  it('the server refuses to start on a non-loopback address', async () => {
    const sw = new Switch(emptyState(), { save: async () => undefined }, silentLogger);
    await expect(startServer({ listen: '0.0.0.0:0', sw, system: { status: () => ({}), shutdown() {} }, reasons: [], log: silentLogger })).rejects.toThrow(/refusing/);
  });
});
