/**
 * The daemon's domain logic (switch.ts) against an in-memory data plane:
 * apply to the data plane first, then persist; roll back when persisting
 * fails; check input before asking for the data plane; reconcile on attach
 * without touching what matches; replay into a fresh data plane.
 */
import { status } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flowKey, formatFlowMod, parseFlow } from '../../src/flowspec';
import { ApiError, classify } from '../../src/mgmt/errors';
import { silentLogger } from '../../src/mgmt/log';
import { DesiredState, emptyState, StateSaver, StateStore } from '../../src/mgmt/state';
import { Switch } from '../../src/mgmt/switch';
import { dpError, FakeDataplane } from './fake-dataplane';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-switch-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A saver that can be told to fail. */
class FlakySaver implements StateSaver {
  fail = false;
  saved: DesiredState[] = [];
  async save(s: DesiredState): Promise<void> {
    if (this.fail) throw new Error('ENOSPC: no space left on device');
    this.saved.push(s);
  }
}

async function connected(state: DesiredState = emptyState(), saver: StateSaver = new FlakySaver(), dp = new FakeDataplane()) {
  const sw = new Switch(state, saver, silentLogger);
  await dp.connect();
  await sw.attach(dp, dp.info);
  return { sw, dp, saver };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return classify(e);
  }
  return { code: status.OK, message: '' };
}

describe('changes: data plane first, then the state file', () => {
  it('port add: in the data plane and in the file before it returns', async () => {
    const store = new StateStore(join(dir, 'state.json'));
    const { sw, dp } = await connected(emptyState(), store);
    const desc = await sw.addPort({ name: 'p1', devargs: 'net_null0', mtu: 9000 });
    expect(desc.id).toBe(1);
    expect(dp.ports.map((p) => p.name)).toEqual(['p1']);
    expect(store.load().ports).toEqual([{ name: 'p1', devargs: 'net_null0', id: 1, mtu: 9000, adminUp: true }]);
  });

  it('flows: parsed with port names, applied, persisted with numbers', async () => {
    const store = new StateStore(join(dir, 'state.json'));
    const { sw, dp } = await connected(emptyState(), store);
    await sw.addPort({ name: 'p1', devargs: 'net_null0' });
    await sw.addPort({ name: 'p2', devargs: 'net_null1' });
    expect(await sw.addFlows([{ match: 'table=0,priority=100,in_port=p1,ip', actions: 'output:p2' }, { match: 'in_port=p2', actions: 'output:p1' }])).toBe(2);
    expect(dp.flows).toHaveLength(2);
    // journaled: one record per change, read back by a store that knows nothing else
    const journal = readFileSync(join(dir, 'state.json.journal'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(journal.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(journal[2].put).toEqual(['table=0,priority=100,ip,in_port=1,actions=output:2', 'table=0,priority=32768,in_port=2,actions=output:1']);
    expect(new StateStore(join(dir, 'state.json')).load().flows.map((f) => formatFlowMod(f))).toEqual([
      'table=0,priority=100,ip,in_port=1,actions=output:2',
      'table=0,priority=32768,in_port=2,actions=output:1',
    ]);
    expect(await sw.modifyFlows([{ match: 'in_port=p2', actions: 'drop' }], true)).toBe(1);
    expect(store.load().flows[1].actions).toEqual([]);
    expect(await sw.deleteFlows({ match: 'ip' }, false)).toBe(1);
    expect(store.load().flows.map((f) => formatFlowMod(f))).toEqual(['table=0,priority=32768,in_port=2,actions=drop']);
    expect(await sw.applyFlowLines(['add table=1,actions=drop', 'delete in_port=p2', 'add table=2,in_port=p1,actions=output:p2'])).toBe(3);
    expect(dp.flows.map((f) => f.table)).toEqual([1, 2]);
    // a batch of lines is journaled as given, and replays with the port names of its moment
    const last = readFileSync(join(dir, 'state.json.journal'), 'utf8').trim().split('\n').pop()!;
    expect(JSON.parse(last).apply).toEqual(['add table=1,actions=drop', 'delete in_port=p2', 'add table=2,in_port=p1,actions=output:p2']);
    await sw.deletePort('p2');
    await sw.addPort({ name: 'p2', devargs: 'net_null2', id: 7 });
    const reloaded = new StateStore(join(dir, 'state.json')).load();
    expect(reloaded.flows.map((f) => formatFlowMod(f))).toEqual(['table=1,priority=32768,actions=drop', 'table=2,priority=32768,in_port=1,actions=output:2']);
    expect(reloaded.ports.map((p) => `${p.name}/${p.id}`)).toEqual(['p1/1', 'p2/7']);
  });

  it('a refused change is not persisted, and keeps the data plane error', async () => {
    const saver = new FlakySaver();
    const { sw } = await connected(emptyState(), saver);
    const r = await codeOf(sw.addPort({ name: 'p3', devargs: 'bogus0' }));
    expect(r).toEqual({ code: status.INVALID_ARGUMENT, message: "cannot parse devargs 'bogus0'" });
    expect(saver.saved).toHaveLength(0);
    expect(sw.state.ports).toEqual([]);
  });

  it('a failed write rolls the data plane back and answers INTERNAL', async () => {
    const saver = new FlakySaver();
    const { sw, dp } = await connected(emptyState(), saver);
    await sw.addPort({ name: 'p1', devargs: 'net_null0' });
    await sw.addFlows([{ match: 'in_port=p1', actions: 'drop' }]);
    const flowsBefore = dp.flows.map((f) => formatFlowMod(f));
    saver.fail = true;

    const r1 = await codeOf(sw.addPort({ name: 'p2', devargs: 'net_null1' }));
    expect(r1.code).toBe(status.INTERNAL);
    expect(r1.message).toMatch(/cannot persist the state \(ENOSPC.*\); the change was rolled back/);
    expect(dp.ports.map((p) => p.name)).toEqual(['p1']);

    expect((await codeOf(sw.addFlows([{ match: 'ip', actions: 'output:p1' }, { match: 'in_port=p1', actions: 'output:1' }]))).code).toBe(status.INTERNAL);
    expect(dp.flows.map((f) => formatFlowMod(f)).sort()).toEqual(flowsBefore.sort());

    expect((await codeOf(sw.deleteFlows({ match: '' }, false))).code).toBe(status.INTERNAL);
    expect(dp.flows.map((f) => formatFlowMod(f))).toEqual(flowsBefore);

    expect((await codeOf(sw.deletePort('p1'))).code).toBe(status.INTERNAL);
    expect(dp.ports.map((p) => p.name)).toEqual(['p1']);

    expect((await codeOf(sw.updatePort('p1', { mtu: 9000 }))).code).toBe(status.INTERNAL);
    expect(dp.ports[0].mtu).toBe(1500);

    expect((await codeOf(sw.updateTable({ id: 3, name: 'acl', miss: 'continue' }))).code).toBe(status.INTERNAL);
    expect((await dp.tableList()).find((t) => t.id === 3)).toMatchObject({ name: '', miss: 'drop' });

    expect(sw.state.ports.map((p) => p.name)).toEqual(['p1']);
    expect(sw.state.flows).toHaveLength(1);
  });
});

describe('input is checked before the data plane is asked', () => {
  it('with no data plane: bad input is still INVALID_ARGUMENT/NOT_FOUND/ALREADY_EXISTS, the rest UNAVAILABLE', async () => {
    const state = emptyState();
    state.ports.push({ name: 'p1', devargs: 'net_null0', id: 1, adminUp: true });
    const sw = new Switch(state, new FlakySaver(), silentLogger);
    expect(await codeOf(sw.addFlows([{ match: 'in_port=1,nw_srcx=1', actions: 'drop' }]))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "unknown field 'nw_srcx' in 'in_port=1,nw_srcx=1'",
    });
    expect(await codeOf(sw.addFlows([{ match: 'in_port=p9', actions: 'drop' }]))).toEqual({ code: status.NOT_FOUND, message: "unknown port 'p9' in 'in_port=p9'" });
    expect((await codeOf(sw.addPort({ name: 'p1', devargs: 'net_null1' }))).code).toBe(status.ALREADY_EXISTS);
    expect((await codeOf(sw.addPort({ name: '1abc', devargs: 'net_null1' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await codeOf(sw.addPort({ name: 'local', devargs: 'net_null1' }))).message).toMatch(/reserved/);
    expect((await codeOf(sw.addPort({ name: 'p2', devargs: '' }))).message).toMatch(/devargs/);
    expect((await codeOf(sw.deletePort('nosuch'))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(sw.updateTable({ id: 300 }))).code).toBe(status.INVALID_ARGUMENT);
    const r = await codeOf(sw.addFlows([{ match: 'in_port=p1', actions: 'drop' }]));
    expect(r.code).toBe(status.UNAVAILABLE);
    expect(r.message).toMatch(/data plane is not connected/);
    for (const p of [sw.addPort({ name: 'p2', devargs: 'net_null1' }), sw.deletePort('p1'), sw.listPorts(), sw.portStats(), sw.dumpFlows({ match: '' }), sw.listTables(), sw.dpStats()]) {
      expect((await codeOf(p)).code).toBe(status.UNAVAILABLE);
    }
  });

  it('batch errors name the flow', async () => {
    const { sw } = await connected();
    const r = await codeOf(sw.addFlows([{ match: 'ip', actions: 'drop' }, { match: 'frobnicate=1', actions: 'drop' }]));
    expect(r).toEqual({ code: status.INVALID_ARGUMENT, message: "flow #2: unknown field 'frobnicate' in 'frobnicate=1'" });
    expect(sw.state.flows).toEqual([]);
  });

  it('a port name the syntax would misread is refused', async () => {
    const { sw } = await connected();
    for (const name of ['a,b', 'p=1', 'x'.repeat(32), 'flood', 'ALL', 'in_port', '']) {
      const e = await sw.addPort({ name, devargs: 'net_null0' }).catch((x: unknown) => x);
      expect(e, name).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe(status.INVALID_ARGUMENT);
    }
  });
});

describe('attach: reconcile and replay', () => {
  function desired(): DesiredState {
    return {
      ports: [
        { name: 'p1', devargs: 'net_null0', id: 1, adminUp: true },
        { name: 'p2', devargs: 'net_null1', id: 7, adminUp: true, mtu: 9000 },
      ],
      tables: [{ id: 1, name: 'acl', miss: 'continue' }],
      flows: [parseFlow('in_port=1,actions=goto_table:1'), parseFlow('table=1,in_port=1,actions=output:7'), parseFlow('table=1,in_port=7,actions=output:1')],
    };
  }

  it('replays into a fresh data plane: tables, ports with their ids (down, then up), flows, barrier', async () => {
    const { sw, dp } = await connected(desired());
    expect(sw.dpState).toBe('connected');
    expect(dp.ports.map((p) => [p.id, p.name, p.mtu, p.adminUp])).toEqual([
      [1, 'p1', 1500, true],
      [7, 'p2', 9000, true],
    ]);
    expect(dp.flows).toHaveLength(3);
    expect((await dp.tableList()).find((t) => t.id === 1)).toMatchObject({ name: 'acl', miss: 'continue' });
    const order = dp.calls.filter((c) => !['connect', 'portList', 'tableList', 'flowDump', 'groupStats', 'meterStats'].includes(c));
    expect(order).toEqual(['tableMod', 'portAdd', 'portAdd', 'flowMod', 'barrier', 'portMod', 'portMod']);
  });

  it('a daemon restart against a running data plane touches nothing that matches', async () => {
    const { dp } = await connected(desired());
    const stamps = new Map(dp.added);
    dp.calls = [];
    // a new daemon, same state, same data plane
    const sw2 = new Switch(desired(), new FlakySaver(), silentLogger);
    await sw2.attach(dp, dp.info);
    expect(dp.calls.sort()).toEqual(['flowDump', 'groupStats', 'meterStats', 'portList', 'tableList']);
    expect(dp.added).toEqual(stamps);
  });

  it('reconciles differences: adds missing, deletes extra, modifies changed, leaves the rest', async () => {
    const { dp } = await connected(desired());
    const keep = flowKey(parseFlow('in_port=1,actions=goto_table:1'));
    const stamp = dp.added.get(keep);
    await dp.flowMod([
      parseFlow('table=5,actions=drop'), // extra
      parseFlow('table=1,in_port=1,actions=drop'), // changed actions
      parseFlow('table=1,in_port=7', { command: 'delete_strict' }), // missing
    ]);
    await dp.portMod(7, { mtu: 1500 });
    const sw2 = new Switch(desired(), new FlakySaver(), silentLogger);
    await sw2.attach(dp, dp.info);
    expect(dp.flows.map((f) => formatFlowMod(f)).sort()).toEqual(desired().flows.map((f) => formatFlowMod(f)).sort());
    expect(dp.ports.find((p) => p.id === 7)!.mtu).toBe(9000);
    expect(dp.added.get(keep)).toBe(stamp);
  });

  it('a flow the data plane refuses at replay is left out, the rest applied, the problem reported', async () => {
    const dp = new FakeDataplane();
    dp.failNext('flowMod', dpError('INVAL', 'flow 1: no', 1));
    const { sw } = await connected(desired(), new FlakySaver(), dp);
    expect(sw.dpState).toBe('connected');
    expect(dp.flows).toHaveLength(2);
    expect(sw.replayWarnings.join()).toMatch(/flow refused and left out: flow 1: no/);
  });

  it('the startup configuration is applied once, after the replay', async () => {
    const dp = new FakeDataplane();
    await dp.connect();
    const sw = new Switch(emptyState(), new FlakySaver(), silentLogger, {
      ports: [{ name: 'a', devargs: 'net_null0' }, { name: 'b', devargs: 'net_null1', id: 9 }],
      tables: [{ id: 2, name: 'two', miss: 'continue' }],
      flows: ['in_port=a,actions=output:b', 'in_port=b,actions=output:a'],
    });
    await sw.attach(dp, dp.info);
    expect(sw.state.ports.map((p) => [p.name, p.id])).toEqual([
      ['a', 1],
      ['b', 9],
    ]);
    expect(sw.state.flows.map((f) => formatFlowMod(f))).toEqual(['table=0,priority=32768,in_port=1,actions=output:9', 'table=0,priority=32768,in_port=9,actions=output:1']);
    expect(sw.state.tables).toEqual([{ id: 2, name: 'two', miss: 'continue' }]);
    // a second attach (reconnect) does not apply it again
    dp.calls = [];
    await sw.attach(dp, dp.info);
    expect(dp.calls.filter((c) => c === 'portAdd' || c === 'flowMod')).toEqual([]);
  });

  it('a restarted daemon given the same startup flows leaves the entries alone, adding only what is new', async () => {
    const dp = new FakeDataplane();
    await dp.connect();
    const startup = {
      ports: [{ name: 'a', devargs: 'net_null0' }, { name: 'b', devargs: 'net_null1' }],
      tables: [],
      flows: ['in_port=a,actions=output:b', 'in_port=b,actions=output:a'],
    };
    const saver = new FlakySaver();
    const sw = new Switch(emptyState(), saver, silentLogger, startup);
    await sw.attach(dp, dp.info);
    const stamps = new Map(dp.added);
    // the next daemon: the state it saved, the same --flow options and one more
    dp.calls = [];
    const sw2 = new Switch(saver.saved.at(-1)!, new FlakySaver(), silentLogger, { ...startup, flows: [...startup.flows, 'in_port=a,udp,actions=drop'] });
    await sw2.attach(dp, dp.info);
    expect(dp.calls.filter((c) => c === 'portAdd' || c === 'flowMod')).toEqual(['flowMod']);
    expect(dp.flows).toHaveLength(3);
    for (const [k, t] of stamps) expect(dp.added.get(k)).toBe(t);
  });

  it('a flow that expired in the data plane leaves the desired state', async () => {
    const saver = new FlakySaver();
    const state = emptyState();
    state.flows.push(parseFlow('idle_timeout=5,udp,actions=drop'));
    const { sw, dp } = await connected(state, saver);
    const f = dp.flows[0];
    sw.handleEvent({ type: 'flow_removed', reason: 'idle_timeout', flow: { ...f, cookie: 0n, stats: { packets: 0n, bytes: 0n, durationNs: 0n, idleNs: 0n } } });
    await sw.listTables(); // let the queued change run
    await new Promise((r) => setTimeout(r, 10));
    expect(sw.state.flows).toEqual([]);
    expect(saver.saved.at(-1)!.flows).toEqual([]);
  });

  it('detach makes everything UNAVAILABLE; a disconnect during attach rejects it', async () => {
    const { sw, dp } = await connected();
    const events: string[] = [];
    sw.on('unready', () => events.push('unready'));
    sw.detach('connection lost: test');
    expect(events).toEqual(['unready']);
    expect((await codeOf(sw.listPorts())).message).toMatch(/not connected \(disconnected: connection lost: test\)/);
    dp.failNext('flowDump', dpError('DISCONNECTED', 'gone'));
    await expect(sw.attach(dp, dp.info)).rejects.toThrow('gone');
    expect(sw.dpState).toBe('disconnected');
  });

  it('a data plane that changed more entries than predicted is re-read', async () => {
    const { sw, dp } = await connected();
    await sw.addFlows([{ match: 'ip', actions: 'drop' }]);
    // someone else adds an entry behind the daemon's back; a delete of all then changes 2, not 1
    await dp.flowMod([parseFlow('arp,actions=drop')]);
    expect(await sw.deleteFlows({ match: '' }, false)).toBe(2);
    expect(sw.state.flows).toEqual([]);
  });
});

describe('meters', () => {
  const flow = 'table=0,priority=10,in_port=1,actions=meter:3,output:2';

  it('are replayed before the flows that use them, and only when they differ', async () => {
    const state: DesiredState = { ...emptyState(), meters: [{ id: 3, unit: 'kbps', rate: 100000, band: 'drop' }], flows: [parseFlow(flow)] };
    const { dp } = await connected(state);
    expect(dp.calls.filter((c) => c === 'meterMod' || c === 'flowMod')).toEqual(['meterMod', 'flowMod']);
    expect([...dp.meters.values()]).toEqual([{ id: 3, unit: 'kbps', rate: 100000, burst: 10000, band: 'drop', dscp: 0, bands: [{ type: 'drop', rate: 100000, burst: 10000, dscp: 0 }] }]);
    dp.calls = [];
    const sw2 = new Switch(state, new FlakySaver(), silentLogger);
    await sw2.attach(dp, dp.info);
    expect(dp.calls).not.toContain('meterMod');
    // a meter the desired state lacks goes after the flows; a changed one is modified before them
    dp.meters.set(9, { id: 9, unit: 'pps', rate: 5, burst: 1, band: 'drop', dscp: 0 });
    dp.meters.set(3, { ...dp.meters.get(3)!, rate: 5 });
    dp.calls = [];
    await new Switch(state, new FlakySaver(), silentLogger).attach(dp, dp.info);
    expect([...dp.meters.keys()]).toEqual([3]);
    expect(dp.meters.get(3)!.rate).toBe(100000);
  });

  it('add, modify and delete are persisted; a meter in use cannot be deleted; bad input names the field', async () => {
    const saver = new FlakySaver();
    const { sw, dp } = await connected(emptyState(), saver);
    expect(await sw.setMeter('add', { id: 3, unit: 'pps', rate: 1000, band: 'dscp_remark', dscp: 46 })).toMatchObject({ id: 3, burst: 100 });
    expect(saver.saved.at(-1)!.meters).toEqual([{ id: 3, unit: 'pps', rate: 1000, band: 'dscp_remark', dscp: 46 }]);
    expect(await codeOf(sw.setMeter('add', { id: 3, rate: 1 }))).toEqual({ code: status.ALREADY_EXISTS, message: 'meter 3 already exists' });
    expect(await codeOf(sw.setMeter('add', { id: 4, rate: 0 }))).toEqual({ code: status.INVALID_ARGUMENT, message: "meter.rate: '0' is not valid: kbit/s (1..100000000)" });
    expect(await codeOf(sw.setMeter('add', { id: 4, rate: 5, dscp: 3 }))).toEqual({ code: status.INVALID_ARGUMENT, message: 'meter.dscp: only a dscp_remark band rewrites the DSCP' });
    expect(await codeOf(sw.setMeter('modify', { id: 5, rate: 5 }))).toMatchObject({ code: status.NOT_FOUND });
    await sw.setMeter('modify', { id: 3, unit: 'pps', rate: 2000 });
    expect(dp.meters.get(3)).toMatchObject({ rate: 2000, band: 'drop' });
    await sw.addPort({ name: 'p1', devargs: 'net_null0' });
    await sw.addPort({ name: 'p2', devargs: 'net_null1' });
    await sw.addFlows([{ match: 'table=0,priority=10,in_port=p1', actions: 'meter:3,output:p2' }]);
    const busy = await codeOf(sw.deleteMeter(3));
    expect(busy).toEqual({ code: status.FAILED_PRECONDITION, message: "meter 3 is used by 1 flow(s), such as 'table=0,priority=10,in_port=p1,actions=meter:3,output:p2'; delete them first" });
    expect(dp.meters.has(3)).toBe(true);
    expect(await sw.deleteFlows({ match: 'table=0,priority=10,in_port=p1' }, true)).toBe(1);
    await sw.deleteMeter(3);
    expect(dp.meters.size).toBe(0);
    expect(saver.saved.at(-1)!.meters ?? []).toEqual([]);
  });

  it('a failed write rolls the data plane back', async () => {
    const saver = new FlakySaver();
    const { sw, dp } = await connected(emptyState(), saver);
    saver.fail = true;
    expect(await codeOf(sw.setMeter('add', { id: 1, rate: 10 }))).toMatchObject({ code: status.INTERNAL });
    expect(dp.meters.size).toBe(0);
  });
});
