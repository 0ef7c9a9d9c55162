/**
 * Port egress QoS and meter bands outside the data plane: the rate and size
 * texts people write (qos.ts), checking a QoS or a meter's bands from a file
 * or request, the CLI's options through gRPC into the daemon and its state,
 * and the state file, journal and configuration documents carrying
 * ports[].qos and meters[].bands (old one-band records still loading).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program';
import { qosRequest } from '../../src/cli/qos';
import { meterRequest, parseBand } from '../../src/cli/meter';
import { checkMeter, meterDoc, sameMeter } from '../../src/mgmt/meters';
import { configDocument, exportConfig, parseConfig } from '../../src/mgmt/config';
import { silentLogger } from '../../src/mgmt/log';
import { checkQos, parseBurst, parseQueue, parseRate, qosRuns } from '../../src/mgmt/qos';
import { RunningServer, startServer } from '../../src/mgmt/server';
import { deserializeState, DesiredState, emptyState, StateStore } from '../../src/mgmt/state';
import { Switch } from '../../src/mgmt/switch';
import { DROP_REASONS, FakeDataplane } from './fake-dataplane';

describe('rate and size texts', () => {
  it('rates: plain kbit/s, or bit/kbit/mbit/gbit per second', () => {
    expect(parseRate('64000')).toBe(64000);
    expect(parseRate('100mbit')).toBe(100000);
    expect(parseRate('100Mbit')).toBe(100000);
    expect(parseRate('1.5gbit')).toBe(1500000);
    expect(parseRate('512kbit')).toBe(512);
    expect(parseRate('64000bit')).toBe(64);
    expect(parseRate('0')).toBe(0);
    expect(() => parseRate('0', '--queue 1', false)).toThrow(/--queue 1: '0' is 0 kbit\/s: expected 1\.\.100000000/);
    expect(() => parseRate('100mbps')).toThrow(/--egress-rate: '100mbps' is not a rate: .*\(bit, kbit, mbit, gbit\)/);
    expect(() => parseRate('fast')).toThrow(/'fast' is not a rate/);
    expect(() => parseRate('200gbit')).toThrow(/'200gbit' is 200000000 kbit\/s: expected 0 or 1\.\.100000000/);
    expect(() => parseRate('100bit')).toThrow(/'100bit' is 0\.1 kbit\/s/);
  });

  it('bursts: plain kbit, kbit/mbit, or bytes as tc writes them (b, kb, mb)', () => {
    expect(parseBurst('512')).toBe(512);
    expect(parseBurst('512kbit')).toBe(512);
    expect(parseBurst('64kb')).toBe(512);
    expect(parseBurst('1mb')).toBe(8000);
    expect(parseBurst('1mbit')).toBe(1000);
    expect(parseBurst('1500b')).toBe(12);
    expect(() => parseBurst('0')).toThrow(/--egress-burst: '0' is 0 kbit: expected 1\.\./);
    expect(() => parseBurst('64kib')).toThrow(/'64kib' is not a burst/);
  });

  it('queues: N=RATE[/BURST], N 0..7', () => {
    expect(parseQueue('1=10mbit')).toEqual({ queue: 1, rate: 10000 });
    expect(parseQueue('0=5000/64kb')).toEqual({ queue: 0, rate: 5000, burst: 512 });
    expect(() => parseQueue('8=10mbit')).toThrow(/--queue: '8=10mbit': queue 8, expected 0\.\.7/);
    expect(() => parseQueue('1:10mbit')).toThrow(/is not N=RATE\[\/BURST\]/);
    expect(() => parseQueue('1=0')).toThrow(/--queue 1: '0' is 0 kbit\/s/);
  });

  it('the CLI options make one PortQos; a burst needs a rate; a queue once', () => {
    expect(qosRequest({})).toBeUndefined();
    expect(qosRequest({ egressRate: '100mbit', egressBurst: '64kb', queue: ['1=10mbit'] })).toEqual({
      rateKbps: 100000,
      burstKbit: 512,
      queues: [{ queue: 1, rateKbps: 10000, burstKbit: 0 }],
    });
    expect(qosRequest({ egressRate: '0' })).toEqual({ rateKbps: 0, burstKbit: 0, queues: [] });
    expect(() => qosRequest({ egressBurst: '64kb' })).toThrow(/--egress-burst: needs --egress-rate/);
    expect(() => qosRequest({ queue: ['1=1mbit', '1=2mbit'] })).toThrow(/--queue: queue 1 given twice/);
  });
});

describe('checking a QoS', () => {
  it('canonical form: no burst 0, queues in order; nothing limited is none', () => {
    expect(checkQos({ rate: 100000, burst: 0 })).toEqual({ rate: 100000 });
    expect(checkQos({ rate: 0, queues: [{ queue: 3, rate: 5 }, { queue: 1, rate: 7, burst: 30 }] })).toEqual({ rate: 0, queues: [{ queue: 1, rate: 7, burst: 30 }, { queue: 3, rate: 5 }] });
    expect(checkQos({ rate: 0 })).toBeUndefined();
    expect(checkQos({ rate: 0, queues: [] })).toBeUndefined();
  });

  it('names the bad field', () => {
    expect(() => checkQos({ rate: -1 }, 'ports[0].qos')).toThrow(/ports\[0\]\.qos\.rate: '-1' is not valid: kbit\/s, 0: no port limit \(0\.\.100000000\)/);
    expect(() => checkQos({ rate: 0, burst: 5 })).toThrow(/qos\.burst: a burst needs a rate/);
    expect(() => checkQos({ rate: 1, queues: [{ queue: 9, rate: 1 }] })).toThrow(/qos\.queues\[0\]\.queue: '9' is not valid: a queue number \(0\.\.7\)/);
    expect(() => checkQos({ rate: 1, queues: [{ queue: 1, rate: 1 }, { queue: 1, rate: 2 }] })).toThrow(/qos\.queues\[1\]\.queue: queue 1 appears twice/);
    expect(() => checkQos({ rate: 1, speed: 2 })).toThrow(/qos\.speed: unknown field/);
    expect(() => checkQos('100mbit')).toThrow(/qos: expected an object/);
  });

  it('a running QoS matches the desired one when rates match and given bursts match', () => {
    const have = { rate: 100000, burst: 10000, queues: [{ queue: 1, rate: 10, burst: 25 }] };
    expect(qosRuns({ rate: 100000, queues: [{ queue: 1, rate: 10 }] }, have)).toBe(true);
    expect(qosRuns({ rate: 100000, burst: 10000, queues: [{ queue: 1, rate: 10, burst: 25 }] }, have)).toBe(true);
    expect(qosRuns({ rate: 100000, burst: 512, queues: [{ queue: 1, rate: 10 }] }, have)).toBe(false);
    expect(qosRuns({ rate: 100000 }, have)).toBe(false);
    expect(qosRuns(undefined, have)).toBe(false);
    expect(qosRuns(undefined, { rate: 0, burst: 0, queues: [] })).toBe(true);
  });
});

describe('meter bands', () => {
  it('--band texts: type, rate, burst, dscp; bad ones named', () => {
    expect(parseBand('type=drop,rate=100000')).toEqual({ type: 'METER_BAND_DROP', rate: 100000 });
    expect(parseBand('type=dscp_remark,rate=50000,burst=500,dscp=10')).toEqual({ type: 'METER_BAND_DSCP_REMARK', rate: 50000, burst: 500, dscp: 10 });
    expect(parseBand('rate=7')).toEqual({ type: 'METER_BAND_DROP', rate: 7 });
    expect(() => parseBand('type=red,rate=1')).toThrow(/--band 'type=red,rate=1': type 'red' is not one of drop, dscp_remark/);
    expect(() => parseBand('type=drop')).toThrow(/rate=N is missing/);
    expect(() => parseBand('type=dscp_remark,rate=5')).toThrow(/a dscp_remark band needs dscp=N/);
    expect(() => parseBand('type=drop,rate=5,dscp=3')).toThrow(/only a dscp_remark band takes dscp=N/);
    expect(() => parseBand('type=drop,rate=5,color=red')).toThrow(/unknown key 'color'/);
    expect(() => parseBand('type=dscp_remark,rate=5,dscp=64')).toThrow(/--band 'type=dscp_remark,rate=5,dscp=64': dscp '64': expected 0\.\.63/);
  });

  it('meter add --band ... makes a Meter with bands; the short form stays; the two do not mix', () => {
    expect(meterRequest(5, { band: ['type=dscp_remark,rate=50000,dscp=10', 'type=drop,rate=100000'] })).toEqual({
      id: 5,
      unit: 'METER_UNIT_KBPS',
      bands: [
        { type: 'METER_BAND_DSCP_REMARK', rate: 50000, dscp: 10 },
        { type: 'METER_BAND_DROP', rate: 100000 },
      ],
    });
    expect(meterRequest(6, { unit: 'pps', band: ['rate=10'] }).unit).toBe('METER_UNIT_PPS');
    expect(meterRequest(1, { kbps: '1000', remarkDscp: '46', band: [] })).toMatchObject({ rate: 1000, band: 'METER_BAND_DSCP_REMARK', dscp: 46 });
    expect(() => meterRequest(5, { kbps: '10', band: ['rate=5'] })).toThrow(/--kbps and --band exclude each other/);
    expect(() => meterRequest(5, { band: ['rate=1', 'rate=2', 'rate=3', 'rate=4', 'rate=5'] })).toThrow(/5 --band, at most 4/);
    expect(() => meterRequest(5, { unit: 'pps', kbps: '5' })).toThrow(/--unit goes with --band/);
  });

  it('checking: bands sorted by rate, the first band in rate..dscp; one band folds into the short form', () => {
    const m = checkMeter({ id: 5, bands: [{ type: 'drop', rate: 100000 }, { type: 'dscp_remark', rate: 50000, dscp: 10, burst: 0 }] });
    expect(m).toEqual({ id: 5, unit: 'kbps', rate: 50000, band: 'dscp_remark', dscp: 10, bands: [{ type: 'dscp_remark', rate: 50000, dscp: 10 }, { type: 'drop', rate: 100000 }] });
    expect(meterDoc(m)).toEqual({ id: 5, unit: 'kbps', bands: [{ type: 'dscp_remark', rate: 50000, dscp: 10 }, { type: 'drop', rate: 100000 }] });
    expect(checkMeter(meterDoc(m))).toEqual(m);
    expect(checkMeter({ id: 1, bands: [{ type: 'drop', rate: 7, burst: 3 }] })).toEqual({ id: 1, unit: 'kbps', rate: 7, burst: 3, band: 'drop' });
    expect(() => checkMeter({ id: 5, bands: [{ rate: 5 }, { rate: 5 }] })).toThrow(/meter\.bands\[1\]\.rate: 5 is also bands\[0\]'s/);
    expect(() => checkMeter({ id: 5, rate: 3, bands: [{ rate: 5 }] })).toThrow(/meter\.rate: give either bands or rate/);
    expect(() => checkMeter({ id: 5, bands: [] })).toThrow(/meter\.bands: expected a list of 1\.\.4 bands/);
    expect(() => checkMeter({ id: 5, bands: [{ type: 'dscp_remark', rate: 5 }] })).toThrow(/meter\.bands\[0\]\.dscp: missing/);
    // the data plane's meter matches when every band does
    const desc = { id: 5, unit: 'kbps' as const, rate: 50000, burst: 5000, band: 'dscp_remark' as const, dscp: 10, bands: [{ type: 'dscp_remark' as const, rate: 50000, burst: 5000, dscp: 10 }, { type: 'drop' as const, rate: 100000, burst: 10000, dscp: 0 }] };
    expect(sameMeter(m, desc)).toBe(true);
    expect(sameMeter(m, { ...desc, bands: desc.bands.slice(0, 1) })).toBe(false);
    expect(sameMeter(m, { ...desc, bands: [desc.bands[0], { ...desc.bands[1], rate: 90000 }] })).toBe(false);
  });

  it('state file: bands kept; an old one-band record loads as before', () => {
    const m = checkMeter({ id: 5, bands: [{ type: 'dscp_remark', rate: 50000, dscp: 10 }, { type: 'drop', rate: 100000 }] });
    const s = deserializeState(JSON.stringify({ version: 1, meters: [meterDoc(m), { id: 1, unit: 'kbps', rate: 100000, burst: 1000, band: 'drop' }] }), '/x/s.json');
    expect(s.meters).toEqual([m, { id: 1, unit: 'kbps', rate: 100000, burst: 1000, band: 'drop' }]);
  });
});

describe('state file, journal and documents', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-qos-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ports[].qos is stored, journaled with the ports and loaded back; a bad one is named', async () => {
    const path = join(dir, 'state.json');
    const store = new StateStore(path);
    const s: DesiredState = { ports: [{ name: 'p1', devargs: 'net_ring0', id: 1, adminUp: true, qos: { rate: 100000, burst: 512 } }], tables: [], flows: [] };
    await store.save(s);
    expect(JSON.parse(readFileSync(path, 'utf8')).ports[0].qos).toEqual({ rate: 100000, burst: 512 });
    s.ports = [{ ...s.ports[0], qos: { rate: 0, queues: [{ queue: 1, rate: 10000 }] } }];
    await store.save(s, { ports: true });
    expect(new StateStore(path).load()).toEqual(s);
    // a file without qos (an older daemon's) loads as before
    expect(deserializeState(JSON.stringify({ version: 1, ports: [{ name: 'p1', devargs: 'net_ring0', id: 1 }] }), '/x/s.json').ports[0].qos).toBeUndefined();
    expect(() => deserializeState(JSON.stringify({ version: 1, ports: [{ name: 'p1', devargs: 'net_ring0', id: 1, qos: { rate: 'fast' } }] }), '/x/s.json')).toThrow(
      /ports\[0\]\.qos\.rate: 'fast' is not valid/,
    );
  });

  it('documents: ports[].qos parsed, checked and exported', () => {
    const c = parseConfig('ports:\n  - { name: p1, devargs: net_ring0, qos: { rate: 100000, burst: 512, queues: [{ queue: 1, rate: 10000 }] } }\n', 'c.yaml');
    expect(c.ports[0].qos).toEqual({ rate: 100000, burst: 512, queues: [{ queue: 1, rate: 10000 }] });
    expect(() => parseConfig('ports:\n  - { name: p1, devargs: net_ring0, qos: { rate: 100000, queues: [{ queue: 8, rate: 1 }] } }\n', 'c.yaml')).toThrow(/ports\[0\]\.qos\.queues\[0\]\.queue/);
    const state: DesiredState = { ports: [{ name: 'p1', devargs: 'net_ring0', id: 1, adminUp: true, qos: { rate: 100000, queues: [{ queue: 1, rate: 10000 }] } }], tables: [], flows: [] };
    expect(configDocument(state).ports[0].qos).toEqual({ rate: 100000, queues: [{ queue: 1, rate: 10000 }] });
    // what export writes, apply reads back
    expect(parseConfig(exportConfig(state), 'x.yaml').ports[0].qos).toEqual({ rate: 100000, queues: [{ queue: 1, rate: 10000 }] });
  });
});

describe('the CLI through gRPC', () => {
  let server: RunningServer;
  let sw: Switch;
  let dp: FakeDataplane;
  let addr = '';
  const saved: DesiredState[] = [];

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await run(['node', 'switchyard', '--server', addr, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  }

  beforeAll(async () => {
    sw = new Switch(emptyState(), { save: async (s: DesiredState) => void saved.push(structuredClone(s)) }, silentLogger);
    server = await startServer({
      listen: '127.0.0.1:0',
      sw,
      system: { status: () => ({}) as never, shutdown() {} },
      reasons: DROP_REASONS.map((name) => ({ name, help: `help ${name}` })),
      log: silentLogger,
    });
    addr = `127.0.0.1:${server.port}`;
    dp = new FakeDataplane();
    await dp.connect();
    await sw.attach(dp, dp.info);
  });
  afterAll(async () => {
    await server?.close(500);
  });

  it('port add/set --egress-rate, --queue: sent to the data plane, kept, shown; 0 removes it; bad text named', async () => {
    let r = await cli('--json', 'port', 'add', 'p1', 'net_ring0', '--egress-rate', '100mbit');
    expect(r.err).toBe('');
    expect(JSON.parse(r.out).qos).toEqual({ rateKbps: 100000, burstKbit: 10000, queues: [] });
    expect(dp.qos.get(1)).toEqual({ portId: 1, rate: 100000, burst: 10000, queues: [] });
    r = await cli('--json', 'port', 'set', 'p1', '--egress-rate', '1gbit', '--egress-burst', '64kb', '--queue', '1=10mbit');
    expect(JSON.parse(r.out).qos).toEqual({ rateKbps: 1000000, burstKbit: 512, queues: [{ queue: 1, rateKbps: 10000, burstKbit: 1000 }] });
    expect(saved.at(-1)!.ports[0].qos).toEqual({ rate: 1000000, burst: 512, queues: [{ queue: 1, rate: 10000 }] });
    r = await cli('port', 'list');
    expect(r.out).toContain('egress p1: 1 Gbit/s burst 512 kbit, q1 10 Mbit/s burst 1000 kbit\n');
    r = await cli('--json', 'port', 'set', 'p1', '--egress-rate', '0');
    expect(JSON.parse(r.out).qos).toBeUndefined();
    expect(dp.qos.has(1)).toBe(false);
    expect(saved.at(-1)!.ports[0].qos).toBeUndefined();
    r = await cli('port', 'set', 'p1', '--egress-rate', '100mbps');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^switchyard: --egress-rate: '100mbps' is not a rate/);
  });

  it('meter add --band: the bands reach the data plane, are kept, listed and counted per band', async () => {
    let r = await cli('--json', 'meter', 'add', '5', '--band', 'type=drop,rate=100000', '--band', 'type=dscp_remark,rate=50000,dscp=10');
    expect(r.err).toBe('');
    const m = JSON.parse(r.out);
    expect(m.bands).toEqual([
      { type: 'dscp_remark', rate: 50000, burst: 5000, dscp: 10 },
      { type: 'drop', rate: 100000, burst: 10000, dscp: 0 },
    ]);
    expect(dp.meters.get(5)!.bands!.map((b) => b.rate)).toEqual([50000, 100000]);
    expect(saved.at(-1)!.meters).toEqual([{ id: 5, unit: 'kbps', rate: 50000, band: 'dscp_remark', dscp: 10, bands: [{ type: 'dscp_remark', rate: 50000, dscp: 10 }, { type: 'drop', rate: 100000 }] }]);
    const st = JSON.parse((await cli('--json', 'meter', 'stats', '5')).out);
    expect(st[0].bandStats).toEqual([{ packets: '0', bytes: '0' }, { packets: '0', bytes: '0' }]);
    r = await cli('meter', 'stats', '5');
    expect(r.out).toContain('meter 5 band 1 drop rate 100000 burst 10000: 0 packets, 0 bytes\n');
    r = await cli('meter', 'list');
    expect(r.out).toMatch(/5\s+-\s+kbps\s+-\s+dscp_remark:10@50000\/5000 drop@100000\/10000/);
    r = await cli('meter', 'add', '6', '--band', 'type=drop,rate=5', '--band', 'type=drop,rate=5');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/meter\.bands\[1\]\.rate: 5 is also bands\[0\]'s: each band needs its own rate/);
  });
});
