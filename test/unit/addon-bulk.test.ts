/**
 * The addon's bulk paths, replies in parts, PMD statistics and rx queues.
 *
 *  - FLOW_MOD batches go through bulk.cc (a JS packer and typed arrays):
 *    the bytes must be those of the reference conversion (convert.cc,
 *    property by property), and every malformed value still gets the
 *    reference's TypeError/RangeError naming mods[i].
 *  - A reply may come in parts (SY_MSGF_MORE): a fake data plane sends
 *    dumps, lists and a single struct in parts, an ERROR in the middle, and
 *    a part of the wrong type.
 *  - PMD_STATS decoding (cpu UINT32_MAX -> null, the first n_rxq queues),
 *    nRxq on portAdd/portMod (PORT_RXQ on the wire).
 *  - Against a real switchyard-dp with two PMD lcores (--lcores
 *    0@0,1@1,2@1): queues spread over both, their count changed, counters
 *    cleared, and a dump big enough to come in parts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { constants, createDataplaneClient, loadAddon } from '../../src/mgmt/addon';
import type { DpError, FlowMod } from '../../src/mgmt/addon-types';
import { DP_BINARY } from '../helpers/paths';
import { attrs, bodyOf, fakeDataplane, message, portDescBytes, u32, type RawMsg } from '../helpers/raw-proto';

const native = loadAddon();

const MSG = { ERROR: 1, HELLO: 2, ECHO: 3, PORT_ADD: 10, PORT_MOD: 12, PORT_LIST: 13, FLOW_DUMP: 21, DP_STATS: 40, PMD_STATS: 41, PMD_STATS_CLEAR: 42 } as const;
const ATTR = { ERR_CODE: 1, ERR_MSG: 2, VERSION: 4, DP_INFO: 5, PORT_ID: 10, PORT_DESC: 15, PORT_RXQ: 18, DP_STATS: 40, PMD_STATS: 41, PACKET: 50 } as const;
const REPLY = 1;
const MORE = 4;

/** struct sy_pmd_stats: slot, lcore, cpu, n_rxq, 7 counters, then rxq[64] of { port u32, queue u16, pad, packets u64 }. */
function pmdBytes(s: { slot: number; lcore: number; cpu: number; counters: bigint[]; rxqs: [number, number, bigint][]; nRxq?: number }): Buffer {
  const b = Buffer.alloc(constants.PMD_STATS_SIZE);
  b.writeUInt32LE(s.slot, 0);
  b.writeUInt32LE(s.lcore, 4);
  b.writeUInt32LE(s.cpu, 8);
  b.writeUInt32LE(s.nRxq ?? s.rxqs.length, 12);
  s.counters.forEach((v, i) => b.writeBigUInt64LE(v, 16 + 8 * i));
  s.rxqs.forEach(([port, queue, packets], i) => {
    b.writeUInt32LE(port, 72 + 16 * i);
    b.writeUInt16LE(queue, 76 + 16 * i);
    b.writeBigUInt64LE(packets, 80 + 16 * i);
  });
  return b;
}

function flow(i: number, extra: Partial<FlowMod> = {}): FlowMod {
  return {
    command: 'add',
    table: i % 7,
    priority: 100 + (i % 3),
    cookie: BigInt(i),
    match: {
      in_port: { value: 1 + (i % 5) },
      dl_type: { value: 0x0800 },
      nw_proto: { value: 17 },
      nw_src: { value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      tp_dst: { value: i & 0xffff },
    },
    actions: [{ type: 'output', port: 40 }],
    ...extra,
  };
}

// ---------------------------------------------------------------------------

describe('FLOW_MOD in bulk: the same bytes as the reference conversion', () => {
  const reference = (mods: unknown[]) => native.encodeFlowMod(mods as FlowMod[], 7, { reference: true });
  const bulk = (mods: unknown[]) => native.encodeFlowMod(mods as FlowMod[], 7);

  it('every field kind, every action, masks, defaults and value forms', () => {
    const mods: unknown[] = [
      flow(1),
      { command: 'add', match: {}, actions: [] },
      { command: 'delete', match: {} },
      { command: 'delete_strict', table: 3, priority: 9, match: { tun_id: { value: '0x2a' } } },
      { command: 'modify', cookie: '12345678901234567890', cookieMask: 0xffn, match: { metadata: { value: 5n, mask: '0xff' } }, actions: [{ type: 'dec_ttl' }] },
      {
        command: 'add', table: 2n, priority: 7, idleTimeout: 10, hardTimeout: 20, flags: 1, outPort: 3,
        match: {
          vlan_tci: { value: 0x1064, mask: 0x1fff }, dl_type: { value: 0x86dd },
          ipv6_src: { value: '2001:db8::1', mask: 'ffff:ffff::' }, ipv6_dst: { value: 'fe80::1', mask: null },
          ipv6_label: { value: 0x12345 }, nw_proto: { value: 58 }, icmp_type: { value: 128 }, icmp_code: { value: 0 },
          dl_src: { value: '2:0:0:0:0:1' }, dl_dst: { value: '01:00:5E:00:00:00', mask: 'ff:ff:ff:80:00:00' },
        },
        actions: [
          { type: 'set_field', field: 'dl_dst', value: '02:00:00:00:00:09' },
          { type: 'set_field', field: 'vlan_tci', value: 0x1005, mask: 0x1fff },
          { type: 'set_field', field: 'ipv6_dst', value: '::2' },
          { type: 'push_vlan' }, { type: 'push_vlan', tpid: 0x88a8 }, { type: 'pop_vlan' }, { type: 'dec_ttl' },
          { type: 'controller' }, { type: 'controller', maxLen: 128 }, { type: 'group', group: 4 }, { type: 'meter', meter: 5 }, { type: 'mirror', mirror: 7 },
          { type: 'set_queue', queue: 6 }, { type: 'push_nsh', spi: 0x123, si: 9, ttl: 7, mdType: 1, c1: 1, c4: 0xffffffff }, { type: 'pop_nsh' }, { type: 'dec_nsh_ttl' },
          { type: 'write_metadata', value: 5n }, { type: 'write_metadata', value: '0x10', mask: 0xf0n },
          { type: 'output', port: 0xfffffffb }, { type: 'goto_table', table: 9 },
        ],
      },
      { command: 'add', match: { nsh_spi: { value: 0x123456 }, nsh_si: { value: 255 }, nsh_c1: { value: 0xdeadbeef }, dl_type: { value: 0x894f } }, actions: [] },
    ];
    const a = bulk(mods);
    expect(native.checkMessage(a)).toBeNull();
    expect(a.equals(reference(mods))).toBe(true);
  });

  it('a batch of several chunks: identical, and in order', () => {
    const mods = Array.from({ length: 10_000 }, (_, i) => flow(i));
    const a = bulk(mods);
    expect(a.equals(reference(mods))).toBe(true);
    const back = native.decodeFlows(a);
    expect(back).toHaveLength(10_000);
    expect(back[9_999]).toMatchObject({ cookie: 9_999n, table: 9_999 % 7 });
  });

  it('values the packer does not take as they are go the reference way, with the same result', () => {
    const getter = { get value() { return 17; } };
    const mods: unknown[] = [
      flow(1, { match: { nw_proto: getter, dl_type: { value: 0x0800 } } as never }),
      flow(2, { cookie: Object(5n) as never }), // a boxed bigint: an object, refused by both
    ];
    expect(bulk([mods[0]]).equals(reference([mods[0]]))).toBe(true);
    expect(() => bulk([mods[1]])).toThrow(/mods\[0\]\.cookie: expected a bigint, got an object/);
  });

  const bad: [string, (m: FlowMod) => unknown, RegExp][] = [
    ['a priority out of range', (m) => ({ ...m, priority: 70000 }), /^mods\[5000\]\.priority: 70000 is out of range 0\.\.65535$/],
    ['an unknown match field', (m) => ({ ...m, match: { ...m.match, nw_srcx: { value: 1 } } }), /^mods\[5000\]\.match\.nw_srcx: unknown match field$/],
    ['a bad address', (m) => ({ ...m, match: { ...m.match, nw_src: { value: '10.0.0.300' } } }), /^mods\[5000\]\.match\.nw_src\.value: '10\.0\.0\.300' is not an IPv4 address$/],
    ['a NUL in a string', (m) => ({ ...m, match: { ...m.match, nw_src: { value: '10.0.0.1\0junk' } } }), /^mods\[5000\]\.match\.nw_src\.value: .* is not an IPv4 address$/],
    ['a negative bigint', (m) => ({ ...m, cookie: -1n }), /^mods\[5000\]\.cookie: -1n is negative$/],
    ['a fraction', (m) => ({ ...m, table: 1.5 }), /^mods\[5000\]\.table: expected an integer, got 1\.5$/],
    ['an unknown action', (m) => ({ ...m, actions: [{ type: 'outptu' }] }), /^mods\[5000\]\.actions\[0\]\.type: unknown action 'outptu'/],
    ['an output without a port', (m) => ({ ...m, actions: [{ type: 'output' }] }), /^mods\[5000\]\.actions\[0\]\.port: missing$/],
    ['too many actions', (m) => ({ ...m, actions: Array(33).fill({ type: 'dec_ttl' }) }), /^mods\[5000\]\.actions: 33 actions, at most 32$/],
    ['a hole in the batch', () => undefined, /^mods\[5000\]: expected a flow object, got undefined$/],
  ];
  for (const [what, make, message] of bad) {
    it(`${what} deep in a batch: the reference error, naming mods[5000]`, () => {
      const mods: unknown[] = Array.from({ length: 6000 }, (_, i) => flow(i));
      mods[5000] = make(mods[5000] as FlowMod);
      expect(() => bulk(mods)).toThrow(message);
      expect(() => reference(mods)).toThrow(message);
    });
  }

  it('the client refuses the same way before sending anything', async () => {
    const c = createDataplaneClient();
    const mods = Array.from({ length: 5 }, (_, i) => flow(i));
    mods[3] = { ...mods[3], match: { tp_dst: { value: 'x' as never } } };
    await expect(c.flowMod(mods)).rejects.toThrow(/^mods\[3\]\.match\.tp_dst\.value: expected a number, got 'x'$/);
  });
});

describe('replies in parts, PMD statistics and rx queues (fake data plane)', () => {
  let dir: string;
  const servers: net.Server[] = [];
  const seen: RawMsg[] = [];
  let sock: string;
  const dumpBody = (from: number, n: number) => bodyOf(native.encodeFlowMod(Array.from({ length: n }, (_, i) => flow(from + i))));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mg-addon-parts-'));
    sock = path.join(dir, 'dp.sock');
    servers.push(
      await fakeDataplane(sock, (m, s) => {
        seen.push(m);
        const x = m.xid;
        switch (m.type) {
          case MSG.FLOW_DUMP: // 3 parts of flows, then an empty last part
            s.write(message(MSG.FLOW_DUMP, REPLY | MORE, x, dumpBody(0, 1000)));
            s.write(message(MSG.FLOW_DUMP, REPLY | MORE, x, dumpBody(1000, 10)));
            s.write(message(MSG.FLOW_DUMP, REPLY | MORE, x, dumpBody(1010, 990)));
            s.write(message(MSG.FLOW_DUMP, REPLY, x));
            break;
          case MSG.PORT_LIST: // a list in two parts, an ERROR in the middle of the second answer
            if (seen.filter((q) => q.type === MSG.PORT_LIST).length === 1) {
              s.write(message(MSG.PORT_LIST, REPLY | MORE, x, attrs([[ATTR.PORT_DESC, portDescBytes(1, 'a')]])));
              s.write(message(MSG.PORT_LIST, REPLY, x, attrs([[ATTR.PORT_DESC, portDescBytes(2, 'b', 4)]])));
            } else {
              s.write(message(MSG.PORT_LIST, REPLY | MORE, x, attrs([[ATTR.PORT_DESC, portDescBytes(1, 'a')]])));
              s.write(message(MSG.ERROR, REPLY, x, attrs([[ATTR.ERR_CODE, u32(5)], [ATTR.ERR_MSG, Buffer.from('busy dumping\0')]])));
            }
            break;
          case MSG.DP_STATS: {
            // one struct, its attribute in the last part
            const st = Buffer.alloc(constants.DP_STATS_SIZE);
            st.writeBigUInt64LE(77n, 24 * 8); // rx_packets, after the drops
            s.write(message(MSG.DP_STATS, REPLY | MORE, x));
            s.write(message(MSG.DP_STATS, REPLY, x, attrs([[ATTR.DP_STATS, st]])));
            break;
          }
          case MSG.PMD_STATS: {
            const many: [number, number, bigint][] = Array.from({ length: 64 }, (_, i) => [1, i, BigInt(i)]);
            s.write(
              message(MSG.PMD_STATS, REPLY | MORE, x, attrs([[ATTR.PMD_STATS, pmdBytes({ slot: 0, lcore: 1, cpu: 1, counters: [100n, 2000n, 8000n, 90n, 10n, 12n, 30n], rxqs: [[1, 0, 60n], [2, 1, 40n]] })]])),
            );
            s.write(
              message(MSG.PMD_STATS, REPLY, x, attrs([[ATTR.PMD_STATS, pmdBytes({ slot: 1, lcore: 2, cpu: 0xffffffff, counters: [0n, 0n, 5n, 0n, 0n, 0n, 0n], rxqs: many, nRxq: 70 })]])),
            );
            break;
          }
          case MSG.PMD_STATS_CLEAR:
            s.write(message(MSG.PMD_STATS_CLEAR, REPLY, x));
            break;
          case MSG.PORT_ADD:
          case MSG.PORT_MOD: {
            const rxq = m.attrs.get(ATTR.PORT_RXQ);
            s.write(message(m.type, REPLY, x, attrs([[ATTR.PORT_DESC, portDescBytes(3, 'q', rxq ? rxq.readUInt32LE(0) : 1)]])));
            break;
          }
          case MSG.ECHO: // a part of the wrong type, then the rest of the answer
            s.write(message(MSG.PORT_LIST, REPLY | MORE, x));
            s.write(message(MSG.ECHO, REPLY, x, attrs([[ATTR.PACKET, Buffer.from('late')]])));
            break;
        }
      }),
    );
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a dump in parts resolves once, with every part\'s flows in order', async () => {
    const c = createDataplaneClient();
    await c.connect(sock);
    const flows = await c.flowDump();
    expect(flows).toHaveLength(2000);
    expect(flows.map((f) => Number(f.cookie))).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(flows[1500]).toEqual({
      table: 1500 % 7,
      priority: 100 + (1500 % 3),
      cookie: 1500n,
      idleTimeout: 0,
      hardTimeout: 0,
      flags: 0,
      match: { in_port: { value: 1 }, dl_type: { value: 0x0800 }, nw_src: { value: '10.0.5.220' }, nw_proto: { value: 17 }, tp_dst: { value: 1500 } },
      actions: [{ type: 'output', port: 40 }],
      stats: { packets: 0n, bytes: 0n, durationNs: 0n, idleNs: 0n },
    });
    c.close();
  });

  it('a list in parts; an ERROR in the middle of an answer rejects it, and the client goes on', async () => {
    const c = createDataplaneClient();
    await c.connect(sock);
    expect((await c.portList()).map((p) => [p.name, p.nRxq])).toEqual([['a', 1], ['b', 4]]);
    const e = (await c.portList().catch((x: unknown) => x)) as DpError;
    expect(e).toMatchObject({ code: 'BUSY', message: 'busy dumping' });
    expect((await c.dpStats()).rxPackets).toBe(77n); // a single struct, in the last of two parts
    expect(c.connected).toBe(true);
    c.close();
  });

  it('a part of another type rejects with PROTO, and the rest of that answer is dropped', async () => {
    const c = createDataplaneClient();
    await c.connect(sock);
    const e = (await c.echo(Buffer.from('x')).catch((x: unknown) => x)) as DpError;
    expect(e).toMatchObject({ code: 'PROTO' });
    expect(e.message).toMatch(/a PORT_LIST reply to ECHO/);
    expect(await c.pmdStatsClear()).toBeUndefined(); // still in step
    c.close();
  });

  it('pmdStats: every lcore of every part; cpu null when not pinned; the first n_rxq queues (at most 64)', async () => {
    const c = createDataplaneClient();
    await c.connect(sock);
    const pmds = await c.pmdStats();
    expect(pmds).toHaveLength(2);
    expect(pmds[0]).toEqual({
      slot: 0,
      lcoreId: 1,
      cpu: 1,
      packets: 100n,
      busyCycles: 2000n,
      idleCycles: 8000n,
      cacheHits: 90n,
      cacheMisses: 10n,
      clsLookups: 12n,
      clsProbes: 30n,
      rxqs: [
        { port: 1, queue: 0, packets: 60n },
        { port: 2, queue: 1, packets: 40n },
      ],
    });
    expect(pmds[1].cpu).toBeNull();
    expect(pmds[1].rxqs).toHaveLength(constants.PMD_RXQ_MAX);
    expect(pmds[1].rxqs[63]).toEqual({ port: 1, queue: 63, packets: 63n });
    c.close();
  });

  it('nRxq travels as PORT_RXQ on portAdd and portMod, and is checked before', async () => {
    const c = createDataplaneClient();
    await c.connect(sock);
    expect((await c.portAdd({ name: 'q', devargs: 'net_ring0', nRxq: 4 })).nRxq).toBe(4);
    expect(seen.at(-1)!.attrs.get(ATTR.PORT_RXQ)!.readUInt32LE(0)).toBe(4);
    expect((await c.portMod(3, { nRxq: 2 })).nRxq).toBe(2);
    expect(seen.at(-1)!.attrs.get(ATTR.PORT_RXQ)!.readUInt32LE(0)).toBe(2);
    await c.portMod(3, { mtu: 1400 });
    expect(seen.at(-1)!.attrs.has(ATTR.PORT_RXQ)).toBe(false);
    const n = seen.length;
    await expect(c.portAdd({ name: 'q', devargs: 'net_ring0', nRxq: 0 })).rejects.toThrow(/^req\.nRxq: 0 is out of range 1\.\.16$/);
    await expect(c.portMod(3, { nRxq: 17 })).rejects.toThrow(/^change\.nRxq: 17 is out of range 1\.\.16$/);
    await expect(c.portMod(3, { nRxq: '2' as never })).rejects.toThrow(/^change\.nRxq: expected a number, got '2'$/);
    expect(seen.length).toBe(n); // nothing sent
    c.close();
  });
});

// ---------------------------------------------------------------------------

const DP = process.env.SWITCHYARD_DP || DP_BINARY;
const HAVE_DP = existsSync(DP);

describe.skipIf(!HAVE_DP)('two PMD lcores of a real switchyard-dp', () => {
  let dir: string;
  let dp: ChildProcess;
  let log = '';
  const prefix = `mg-addon-pmd-${process.pid}`;
  const c = createDataplaneClient();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mg-addon-pmd-'));
    const sock = path.join(dir, 'dp.sock');
    dp = spawn(DP, ['--lcores', '0@0,1@1,2@1', '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix, '--', '--socket', sock, '--pmd-sleep-max', '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dp.stdout!.on('data', (d) => (log += d));
    dp.stderr!.on('data', (d) => (log += d));
    for (let i = 0; ; i++) {
      if (dp.exitCode !== null) throw new Error(`switchyard-dp exited ${dp.exitCode}:\n${log}`);
      try {
        await c.connect(sock);
        break;
      } catch (e) {
        if (i > 300) throw new Error(`switchyard-dp did not listen: ${String(e)}\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 40_000);

  afterAll(async () => {
    c.close();
    if (dp && dp.exitCode === null && dp.signalCode === null) {
      const exited = new Promise((r) => dp.once('exit', r));
      dp.kill('SIGTERM');
      const t = setTimeout(() => dp.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join('/var/run/dpdk', prefix), { recursive: true, force: true });
  });

  it('lists both lcores, pinned to CPU 1, and spreads a port\'s queues over them', async () => {
    const ring = await c.portAdd({ name: 'r', devargs: 'net_ring0', id: 7, nRxq: 3 });
    expect(ring.nRxq).toBe(3);
    const pmds = await c.pmdStats();
    expect(pmds.map((p) => [p.slot, p.lcoreId, p.cpu])).toEqual([
      [0, 1, 1],
      [1, 2, 1],
    ]);
    const queues = pmds.flatMap((p) => p.rxqs.filter((q) => q.port === 7).map((q) => q.queue)).sort();
    expect(queues).toEqual([0, 1, 2]);
    expect(pmds.every((p) => p.rxqs.some((q) => q.port === 7))).toBe(true);
  });

  it('portMod changes the queue count; every queue is polled exactly once', async () => {
    expect((await c.portMod(7, { nRxq: 2 })).nRxq).toBe(2);
    const pmds = await c.pmdStats();
    expect(pmds.flatMap((p) => p.rxqs.filter((q) => q.port === 7).map((q) => q.queue)).sort()).toEqual([0, 1]);
    const e = (await c.portMod(7, { nRxq: 17 }).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(RangeError);
  });

  it('pmdStatsClear zeroes the counters', async () => {
    await c.pmdStatsClear();
    for (const p of await c.pmdStats()) {
      expect(p.packets).toBe(0n);
      expect(p.busyCycles).toBe(0n);
      expect(p.cacheHits + p.cacheMisses).toBe(0n);
    }
  });

  it('a dump bigger than one part (4 MB) comes back whole', async () => {
    const n = 30_000; // about 12 MB of FLOW attributes
    const mods = Array.from({ length: n }, (_, i) => flow(i, { table: 1, actions: [{ type: 'output', port: 7 }] }));
    expect(await c.flowMod(mods)).toBe(n);
    const flows = await c.flowDump({ table: 1 });
    expect(flows).toHaveLength(n);
    expect(new Set(flows.map((f) => f.cookie)).size).toBe(n);
    const one = flows.find((f) => f.cookie === 12_345n);
    expect(one?.match).toEqual(flow(12_345).match);
    expect(await c.flowMod([{ command: 'delete', table: 1, priority: 0, match: {}, actions: [] }])).toBe(n);
  }, 60_000);
});
