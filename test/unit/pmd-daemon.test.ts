/**
 * Several PMD lcores, as the daemon and the CLI see them: rx queues in the
 * desired state (kept, replayed, reconciled, validated), GetPmdStats and
 * ClearPmdStats, the --lcores flag, and the CLI's PMD tables and rates.
 */
import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pmdJson, pmdRates, pmdRatesTable, pmdTable } from '../../src/cli/output';
import { watchInterval } from '../../src/cli/pmd';
import { daemonArgs } from '../../src/cli/start';
import type { GetPmdStatsResponse__Output } from '../../src/gen/switchyard/v1/GetPmdStatsResponse';
import type { PmdStats__Output } from '../../src/gen/switchyard/v1/PmdStats';
import { checkLcores, parseConfig } from '../../src/mgmt/config';
import { parseDaemonArgs } from '../../src/mgmt/daemon';
import { classify } from '../../src/mgmt/errors';
import { silentLogger } from '../../src/mgmt/log';
import { planPorts } from '../../src/mgmt/reconcile';
import { deserializeState, emptyState, StateStore } from '../../src/mgmt/state';
import { statsService } from '../../src/mgmt/stats-service';
import { dataplaneArgs } from '../../src/mgmt/supervisor';
import { Switch } from '../../src/mgmt/switch';
import { toWirePmdStats } from '../../src/mgmt/wire';
import { FakeDataplane } from './fake-dataplane';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mg-pmd-daemon-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function connected(store = new StateStore(join(dir, 'state.json')), dp = new FakeDataplane()) {
  const sw = new Switch(store.load(), store, silentLogger);
  await dp.connect();
  await sw.attach(dp, dp.info);
  return { sw, dp, store };
}

/** The status of a call (one that throws at once counts as rejected). */
async function codeOf(p: Promise<unknown> | (() => Promise<unknown>)): Promise<{ code: number; message: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return classify(e);
  }
  return { code: status.OK, message: '' };
}

const desc = (id: number, name: string, nRxq: number) => ({
  id, dpdkPort: id, name, driver: 'net_ring', devargs: `net_ring${id}`, mtu: 1500, adminUp: true, linkUp: true, linkSpeed: 0, mac: '02:00:00:00:00:01', nRxq, nTxq: 2,
});

describe('rx queues in the desired state', () => {
  it('add and set keep n_rxq in the state file; an out-of-range count is INVALID_ARGUMENT naming n_rxq', async () => {
    const { sw, dp, store } = await connected();
    expect((await sw.addPort({ name: 'p1', devargs: 'net_ring0', nRxq: 2 })).nRxq).toBe(2);
    expect(store.load().ports[0]).toMatchObject({ name: 'p1', nRxq: 2 });
    expect((await sw.updatePort('p1', { nRxq: 4 })).nRxq).toBe(4);
    expect(store.load().ports[0].nRxq).toBe(4);
    expect(dp.ports[0].nRxq).toBe(4);
    for (const bad of [0, 17, 1.5]) {
      const r = await codeOf(() => sw.updatePort('p1', { nRxq: bad }));
      expect(r.code).toBe(status.INVALID_ARGUMENT);
      expect(r.message).toMatch(new RegExp(`^n_rxq ${bad}: out of range 1\\.\\.16`));
      expect((await codeOf(() => sw.addPort({ name: 'p2', devargs: 'net_ring1', nRxq: bad }))).code).toBe(status.INVALID_ARGUMENT);
    }
    expect(store.load().ports.map((p) => p.nRxq)).toEqual([4]);
  });

  it('a data plane that refuses the count leaves the state as it was', async () => {
    const { sw, dp, store } = await connected();
    await sw.addPort({ name: 'p1', devargs: 'net_ring0' });
    dp.failNext('portMod', Object.assign(new Error("port 'p1': 3 rx queues asked, but net_af_packet has at most 2"), { code: 'INVAL', index: -1 }));
    const r = await codeOf(sw.updatePort('p1', { nRxq: 3 }));
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, message: expect.stringMatching(/at most 2/) });
    expect(store.load().ports[0].nRxq).toBeUndefined();
  });

  it('the state file reads nRxq back, and refuses one out of range', () => {
    const text = JSON.stringify({ version: 1, ports: [{ name: 'p1', devargs: 'net_ring0', id: 1, adminUp: true, nRxq: 2 }] });
    expect(deserializeState(text, 's.json').ports[0].nRxq).toBe(2);
    const bad = JSON.stringify({ version: 1, ports: [{ name: 'p1', devargs: 'net_ring0', id: 1, nRxq: 40 }] });
    expect(() => deserializeState(bad, 's.json')).toThrow(/ports\[0\]\.nRxq: expected an integer 1\.\.16/);
    expect(parseConfig('ports: [{ name: p1, devargs: net_ring0, nRxq: 2 }]', 'c.yaml').ports[0].nRxq).toBe(2);
    expect(() => parseConfig('ports: [{ name: p1, devargs: net_ring0, nRxq: 0 }]', 'c.yaml')).toThrow(/ports\[0\]\.nRxq/);
  });

  it('reconcile: a port whose queue count differs is modified; an unset count is the device\'s to choose', () => {
    const plan = planPorts(
      [
        { name: 'a', devargs: 'net_ring1', id: 1, adminUp: true, nRxq: 2 },
        { name: 'b', devargs: 'net_ring2', id: 2, adminUp: true },
        { name: 'c', devargs: 'net_ring3', id: 3, adminUp: true, nRxq: 4 },
      ],
      [desc(1, 'a', 1), desc(2, 'b', 2)],
    );
    expect(plan.portMods).toEqual([{ id: 1, change: { nRxq: 2 } }]);
    expect(plan.portAdds).toEqual([{ name: 'c', devargs: 'net_ring3', id: 3, adminUp: false, nRxq: 4 }]);
  });

  it('replay: a fresh data plane gets every port with its queue count', async () => {
    const store = new StateStore(join(dir, 'state.json'));
    await connected(store).then(({ sw }) => sw.addPort({ name: 'p1', devargs: 'net_ring0', nRxq: 3 }));
    const fresh = new FakeDataplane();
    await connected(store, fresh);
    expect(fresh.ports.map((p) => [p.name, p.nRxq])).toEqual([['p1', 3]]);
  });
});

describe('GetPmdStats and ClearPmdStats', () => {
  it('name the ports of the rx queues, leave cpu unset when not pinned, and clear', async () => {
    const { sw, dp } = await connected();
    await sw.addPort({ name: 'p1', devargs: 'net_ring0', id: 5 });
    dp.pmd = [
      { slot: 0, lcoreId: 1, cpu: 1, packets: 100n, busyCycles: 3000n, idleCycles: 1000n, cacheHits: 90n, cacheMisses: 10n, clsLookups: 20n, clsProbes: 50n, rxqs: [{ port: 5, queue: 0, packets: 100n }] },
      { slot: 1, lcoreId: 2, cpu: null, packets: 0n, busyCycles: 0n, idleCycles: 7n, cacheHits: 0n, cacheMisses: 0n, clsLookups: 0n, clsProbes: 0n, rxqs: [{ port: 9, queue: 1, packets: 0n }] },
    ];
    const svc = statsService(sw, []);
    const call = <T>(m: keyof typeof svc) =>
      new Promise<T>((resolve, reject) => (svc[m] as (c: unknown, cb: (e: unknown, r: T) => void) => void)({ request: {} }, (e, r) => (e ? reject(e) : resolve(r))));
    const r = await call<{ pmds: ReturnType<typeof toWirePmdStats>[]; tscHz: string }>('GetPmdStats');
    expect(r.tscHz).toBe('1000000000');
    expect(r.pmds[0]).toEqual({
      slot: 0, lcoreId: 1, cpu: 1, packets: '100', busyCycles: '3000', idleCycles: '1000', cyclesPerPacket: 30,
      cacheHits: '90', cacheMisses: '10', cacheHitRate: 0.9, classifierLookups: '20', classifierProbes: '50',
      rxQueues: [{ portId: 5, port: 'p1', queue: 0, packets: '100' }],
    });
    expect('cpu' in r.pmds[1]).toBe(false);
    expect(r.pmds[1]).toMatchObject({ cyclesPerPacket: 0, cacheHitRate: 0, rxQueues: [{ portId: 9, port: '', queue: 1 }] });
    await call('ClearPmdStats');
    expect(dp.calls).toContain('pmdStatsClear');
  });
});

describe('--lcores', () => {
  it('goes to EAL as --lcores LIST; the default stays -l 0,1', () => {
    const base = { filePrefix: 'x', ealArgs: [], socketPath: '/s', pmdSleepMax: 0 };
    expect(dataplaneArgs({ ...base, lcores: '0@0,1@1,2@1' }).slice(0, 2)).toEqual(['--lcores', '0@0,1@1,2@1']);
    expect(dataplaneArgs({ ...base, lcores: '0,1' }).slice(0, 2)).toEqual(['-l', '0,1']);
    expect(parseDaemonArgs(['node', 'switchyardd', '--lcores', '0@0,1@1,2@1'], {}).lcores).toBe('0@0,1@1,2@1');
    expect(daemonArgs({ port: [], flow: [], lcores: '0@0,1@1,2@1' }, '127.0.0.1:1')).toEqual(['--listen', '127.0.0.1:1', '--lcores', '0@0,1@1,2@1']);
  });

  it('a list that does not read as one is refused, saying what a list looks like', () => {
    for (const ok of ['0,1', '0-3', '0@0,1@1,2@1', '0,(1,2)@1', '(0-1)@(0-1)']) expect(checkLcores(ok)).toBeUndefined();
    expect(checkLcores('0@')).toMatch(/^--lcores '0@': expected an EAL lcore list such as 0,1 or 0-2 or 0@0,1@1,2@1/);
    expect(checkLcores('3-1')).toBe("--lcores '3-1': the range 3-1 runs backwards");
    expect(checkLcores('0,,1')).toMatch(/expected an EAL lcore list/);
    expect(() => parseDaemonArgs(['node', 'switchyardd', '--lcores', '1;2'], {})).toThrow(/^--lcores '1;2': expected an EAL lcore list/);
  });
});

describe('the CLI\'s PMD tables', () => {
  const pmd = (o: Partial<PmdStats__Output>): PmdStats__Output => ({
    slot: 0, lcoreId: 1, cpu: 1, _cpu: 'cpu', packets: '0', busyCycles: '0', idleCycles: '0', cyclesPerPacket: 0, cacheHits: '0', cacheMisses: '0',
    cacheHitRate: 0, classifierLookups: '0', classifierProbes: '0', rxQueues: [], ...o,
  });
  const resp = (pmds: PmdStats__Output[]): GetPmdStatsResponse__Output => ({ pmds, tscHz: '1000000000' });

  it('one row per lcore: busy %, cycles per packet, hit %, probes per lookup, queues as port:queue', () => {
    const a = pmd({ packets: '1000', busyCycles: '250000', idleCycles: '750000', cacheHits: '990', cacheMisses: '10', classifierLookups: '20', classifierProbes: '30',
      rxQueues: [{ portId: 1, port: 'p1', queue: 0, packets: '600' }, { portId: 2, port: 'p2', queue: 1, packets: '400' }] });
    const b = pmd({ slot: 1, lcoreId: 2, cpu: 0, _cpu: undefined });
    expect(pmdJson(a)).toMatchObject({ lcore: 1, cpu: 1, busyPct: 25, cyclesPerPacket: 250, cacheHitPct: 99, probesPerLookup: 1.5 });
    expect(pmdJson(b)).toMatchObject({ cpu: null, busyPct: null, cyclesPerPacket: null, cacheHitPct: null });
    const lines = pmdTable([a, b]).trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['LCORE', 'CPU', 'PACKETS', 'BUSY%', 'CYCLES/PKT', 'HIT%', 'LOOKUPS', 'PROBES/LOOKUP', 'RX QUEUES (PORT:QUEUE)']);
    expect(lines[1].trim().split(/\s+/)).toEqual(['1', '1', '1000', '25.0', '250', '99.0', '20', '1.50', 'p1:0', 'p2:1']);
    expect(lines[2].trim().split(/\s+/)).toEqual(['2', 'any', '0', '-', '-', '-', '0', '-', '-']);
  });

  it('--watch shows rates over the interval; a cleared counter counts from zero', () => {
    const before = resp([pmd({ packets: '1000', busyCycles: '1000', idleCycles: '9000', cacheHits: '900', cacheMisses: '100', rxQueues: [{ portId: 1, port: 'p1', queue: 0, packets: '1000' }] })]);
    const after = resp([pmd({ packets: '3000', busyCycles: '5000', idleCycles: '11000', cacheHits: '2800', cacheMisses: '200', classifierLookups: '100', classifierProbes: '150', rxQueues: [{ portId: 1, port: 'p1', queue: 0, packets: '3000' }] })]);
    const [r] = pmdRates(before, after, 2);
    expect(r).toEqual({ slot: 0, lcore: 1, cpu: 1, pps: 1000, busyPct: 66.67, cyclesPerPacket: 2, cacheHitPct: 95, lookupsPerSec: 50, probesPerLookup: 1.5, rxQueues: [{ port: 'p1', portId: 1, queue: 0, pps: 1000 }] });
    const [cleared] = pmdRates(after, resp([pmd({ packets: '10', busyCycles: '100', idleCycles: '100' })]), 1);
    expect(cleared).toMatchObject({ pps: 10, busyPct: 50, cyclesPerPacket: 10 });
    expect(pmdRatesTable([r]).split('\n')[1].trim()).toMatch(/^1\s+1\s+1000\s+66\.7\s+2\s+95\.0\s+50\s+1\.50\s+p1:0 1000$/);
    expect(watchInterval(true)).toBe(1);
    expect(watchInterval('0.5')).toBe(0.5);
    expect(() => watchInterval('0')).toThrow(/--watch '0': expected seconds between refreshes/);
  });
});
