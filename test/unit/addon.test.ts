/**
 * The native addon (dpdk-core/addon) through src/mgmt/addon.ts.
 *
 * Three parts:
 *  - conversions, which need no data plane: every field kind survives the C
 *    codec, and every malformed value is refused with a TypeError or
 *    RangeError naming the field, before anything is sent;
 *  - the client against a small fake data plane written here on a raw unix
 *    socket: events, a lost connection, and that a closed client does not
 *    keep Node alive;
 *  - the client against a REAL switchyard-dp (net_null / net_ring ports,
 *    no hugepages): hello, ports, flows of every field kind, errors,
 *    barrier, events, and garbage on the socket.  Skipped, saying why, when
 *    the binary is not built.
 *
 * The addon is found as src/mgmt/addon.ts finds it ($SWITCHYARD_ADDON, else
 * build/dpdk-core/addon/switchyard.node); the data plane at $SWITCHYARD_DP,
 * else build/dpdk-core/src/switchyard-dp.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addonPath,
  constants,
  createDataplaneClient,
  dropReasons,
  errorNames,
  fields,
  loadAddon,
  validateFlowMod,
  type AddonDataplaneClient,
} from '../../src/mgmt/addon';
import type { DpError, DpEvent, FlowMod, Match } from '../../src/mgmt/addon-types';
import { DP_BINARY } from '../helpers/paths';
import { attrs, fakeDataplane, message, portDescBytes, split, u32, type RawMsg } from '../helpers/raw-proto';

const native = loadAddon();

// ---------------------------------------------------------------------------
// Raw protocol helpers (for the fake data plane and the garbage test)

/** A message with its attributes. */
const encode = (type: number, flags: number, xid: number, list: [number, Buffer][] = []): Buffer => message(type, flags, xid, attrs(list));

const MSG = { ERROR: 1, HELLO: 2, ECHO: 3, PORT_STATUS: 100 } as const;
const ATTR = { ERR_CODE: 1, ERR_MSG: 2, VERSION: 4, DP_INFO: 5, PORT_DESC: 15, PORT_REASON: 17, PACKET: 50 } as const;

const REPLY = 1;
const EVENT = 2;

// ---------------------------------------------------------------------------
// Values of every field kind, as sent and as the data plane gives them back

/** An IPv4 TCP match: u8, u16, u32, u64, MAC and IPv4 fields, exact and masked. */
const MATCH_V4: Match = {
  in_port: { value: 1 },
  metadata: { value: 0x1234n, mask: 0xff00ffn },
  dl_src: { value: '02:00:00:00:00:01' },
  dl_dst: { value: '01:00:5e:00:00:00', mask: 'ff:ff:ff:80:00:00' },
  dl_type: { value: 0x0800 },
  nw_src: { value: '10.1.2.3', mask: '255.255.255.0' },
  nw_dst: { value: '192.168.0.1' },
  nw_proto: { value: 6 },
  nw_tos: { value: 0x28, mask: 0xfc },
  nw_ttl: { value: 64 },
  tp_src: { value: 0x1000, mask: 0xf000 },
  tp_dst: { value: 80 },
  tcp_flags: { value: 0x02, mask: 0x12 },
  tun_id: { value: '0x2a' },
};

/** What the dump says for MATCH_V4: values masked, exact masks left out, canonical forms. */
const MATCH_V4_OUT: Match = {
  in_port: { value: 1 },
  metadata: { value: 0x34n, mask: 0xff00ffn },
  dl_src: { value: '02:00:00:00:00:01' },
  dl_dst: { value: '01:00:5e:00:00:00', mask: 'ff:ff:ff:80:00:00' },
  dl_type: { value: 0x0800 },
  nw_src: { value: '10.1.2.0', mask: '255.255.255.0' },
  nw_dst: { value: '192.168.0.1' },
  nw_proto: { value: 6 },
  nw_tos: { value: 0x28, mask: 0xfc },
  nw_ttl: { value: 64 },
  tp_src: { value: 0x1000, mask: 0xf000 },
  tp_dst: { value: 80 },
  tcp_flags: { value: 0x02, mask: 0x12 },
  tun_id: { value: 42n },
};

/** An IPv6 UDP match on a VLAN: IPv6 fields, the flow label, vlan_tci. */
const MATCH_V6: Match = {
  vlan_tci: { value: 0x1064, mask: 0x1fff },
  dl_type: { value: 0x86dd },
  ipv6_src: { value: '2001:db8:0:0:1::1', mask: 'ffff:ffff:ffff:ffff::' },
  ipv6_dst: { value: 'fe80::1' },
  ipv6_label: { value: 0x12345 },
  nw_proto: { value: 17 },
  tp_dst: { value: 4789 },
};

const MATCH_V6_OUT: Match = {
  vlan_tci: { value: 0x1064, mask: 0x1fff },
  dl_type: { value: 0x86dd },
  ipv6_src: { value: '2001:db8::', mask: 'ffff:ffff:ffff:ffff::' },
  ipv6_dst: { value: 'fe80::1' },
  ipv6_label: { value: 0x12345 },
  nw_proto: { value: 17 },
  tp_dst: { value: 4789 },
};

/** ICMP: tp_src/tp_dst come back under their ICMP names. */
const MATCH_ICMP: Match = {
  dl_type: { value: 0x0800 },
  nw_proto: { value: 1 },
  icmp_type: { value: 8 },
  icmp_code: { value: 0 },
};

/** NSH (the tagged header). */
const MATCH_NSH: Match = {
  dl_type: { value: 0x894f },
  nsh_spi: { value: 0x123456 },
  nsh_si: { value: 255 },
  nsh_c1: { value: 0xdeadbeef },
};

const ACTIONS_V4: FlowMod['actions'] = [
  { type: 'set_field', field: 'dl_dst', value: '02:00:00:00:00:09' },
  { type: 'set_field', field: 'nw_dst', value: '10.9.9.9' },
  { type: 'set_field', field: 'vlan_tci', value: 0x1005, mask: 0x1fff },
  { type: 'dec_ttl' },
  { type: 'push_vlan', tpid: 0x8100 },
  { type: 'pop_vlan' },
  { type: 'output', port: 40 },
  { type: 'write_metadata', value: 0x5n, mask: 0xffn },
  { type: 'goto_table', table: 7 },
];

/** A flow-mod adding one entry; outputs to port 40, the real data plane's ring port. */
function flow(table: number, priority: number, match: Match, actions: FlowMod['actions'] = [{ type: 'output', port: 40 }]): FlowMod {
  return { command: 'add', table, priority, cookie: 0xabcdef0123456789n, idleTimeout: 0, hardTimeout: 0, match, actions };
}

function expectDpError(e: unknown, code: string): DpError {
  expect(e).toBeInstanceOf(Error);
  expect((e as DpError).code).toBe(code);
  return e as DpError;
}

// ---------------------------------------------------------------------------

describe('addon tables come from the C headers', () => {
  it('fields mirror sy_fields[] with kinds, widths and prerequisites', () => {
    const byName = new Map(fields.map((f) => [f.name, f]));
    expect(byName.get('nw_src')).toEqual({ id: 7, name: 'nw_src', kind: 'ipv4', width: 4, prereq: 'ipv4', settable: true });
    expect(byName.get('dl_dst')).toMatchObject({ kind: 'mac', width: 6, prereq: 'none' });
    expect(byName.get('ipv6_dst')).toMatchObject({ kind: 'ipv6', width: 16, prereq: 'ipv6' });
    expect(byName.get('metadata')).toMatchObject({ kind: 'u64', width: 8 });
    expect(byName.get('icmp_type')).toMatchObject({ kind: 'u16', prereq: 'icmp', settable: false });
    expect(fields.map((f) => f.id)).toEqual(fields.map((_, i) => i + 1));
  });

  it('drop reasons carry their help text, error names follow the codes', () => {
    expect(dropReasons[0]).toEqual({ id: 0, name: 'runt', help: 'frame shorter than an Ethernet header' });
    expect(dropReasons.find((d) => d.name === 'table_miss')?.help).toMatch(/no entry matched/);
    expect(errorNames.slice(0, 3)).toEqual(['OK', 'INVAL', 'NOENT']);
    expect(errorNames).toContain('VERSION');
  });

  it('a missing addon file says to run npm run build', () => {
    expect(() => loadAddon('/nonexistent/switchyard.node')).toThrow(/\/nonexistent\/switchyard\.node is missing.*npm run build/);
    expect(addonPath()).toMatch(/switchyard\.node$/);
  });
});

describe('conversions through the C codec', () => {
  it('every field kind round trips: values masked, exact masks dropped', () => {
    const mods = [
      flow(1, 100, MATCH_V4, ACTIONS_V4),
      flow(2, 200, MATCH_V6),
      flow(3, 300, MATCH_ICMP),
      flow(4, 400, MATCH_NSH),
    ];
    const msg = native.encodeFlowMod(mods, 9);
    expect(native.checkMessage(msg)).toBeNull();
    expect(msg.readUInt32LE(4)).toBe(msg.length);
    const back = native.decodeFlows(msg);
    expect(back.map((f) => f.match)).toEqual([MATCH_V4_OUT, MATCH_V6_OUT, MATCH_ICMP, MATCH_NSH]);
    expect(back[0]).toMatchObject({ command: 'add', table: 1, priority: 100, cookie: 0xabcdef0123456789n, outPort: constants.PORT_ANY });
    expect(back[0].actions).toEqual(ACTIONS_V4);
  });

  it('defaults: priority 32768, table 0 for adds and all tables for deletes', () => {
    const back = native.decodeFlows(
      native.encodeFlowMod([
        { command: 'add', match: {}, actions: [] } as unknown as FlowMod,
        { command: 'delete', match: {} } as unknown as FlowMod,
      ]),
    );
    expect(back[0]).toMatchObject({ table: 0, priority: 32768, cookie: 0n, actions: [] });
    expect(back[1]).toMatchObject({ command: 'delete', table: constants.TABLE_ALL });
  });

  it('validateFlowMod runs the data plane\'s own check', () => {
    expect(validateFlowMod(flow(1, 1, MATCH_V4))).toBeNull();
    expect(validateFlowMod(flow(1, 1, { nw_src: { value: '10.0.0.1' } }))).toMatch(/nw_src needs ip/);
    expect(validateFlowMod(flow(3, 1, {}, [{ type: 'goto_table', table: 2 }]))).toMatch(/goto_table:2 must name a table after 3/);
  });

  const bad: [string, () => FlowMod, typeof TypeError | typeof RangeError, RegExp][] = [
    ['an unknown field', () => flow(0, 1, { nw_srcx: { value: '10.0.0.1' } }), TypeError, /mods\[0\]\.match\.nw_srcx: unknown match field/],
    ['a malformed IPv4 address', () => flow(0, 1, { nw_src: { value: '10.0.0.400' } }), TypeError, /mods\[0\]\.match\.nw_src\.value: '10\.0\.0\.400' is not an IPv4 address/],
    ['a malformed IPv4 mask', () => flow(0, 1, { nw_src: { value: '10.0.0.0', mask: 24 } }), TypeError, /mods\[0\]\.match\.nw_src\.mask: expected a string/],
    ['a malformed IPv6 address', () => flow(0, 1, { ipv6_src: { value: '2001:db8:::1' } }), TypeError, /match\.ipv6_src\.value: .* is not an IPv6 address/],
    ['a short MAC', () => flow(0, 1, { dl_src: { value: 'aa:bb:cc:dd:ee' } }), TypeError, /match\.dl_src\.value: .* is not a MAC address/],
    ['a u16 out of range', () => flow(0, 1, { tp_src: { value: 70000 } }), RangeError, /match\.tp_src\.value: 70000 is out of range 0\.\.65535/],
    ['a negative u32', () => flow(0, 1, { in_port: { value: -1 } }), RangeError, /match\.in_port\.value: -1 is out of range/],
    ['a fractional u8', () => flow(0, 1, { nw_proto: { value: 1.5 } }), TypeError, /match\.nw_proto\.value: expected an integer/],
    ['a u8 given as a string', () => flow(0, 1, { nw_ttl: { value: '64' } }), TypeError, /match\.nw_ttl\.value: expected a number, got '64'/],
    ['a junk u64 string', () => flow(0, 1, { metadata: { value: '0xzz' } }), TypeError, /match\.metadata\.value: expected a bigint or a decimal or 0x string/],
    ['a u64 over 64 bits', () => flow(0, 1, { metadata: { value: 1n << 64n } }), RangeError, /match\.metadata\.value: .* is out of range/],
    ['a match value that is not { value }', () => flow(0, 1, { in_port: 1 as never }), TypeError, /match\.in_port: expected \{ value, mask\? \}/],
    ['an unknown action', () => flow(0, 1, {}, [{ type: 'outptu' } as never]), TypeError, /mods\[0\]\.actions\[0\]\.type: unknown action 'outptu'/],
    ['an output without a port', () => flow(0, 1, {}, [{ type: 'output' } as never]), TypeError, /actions\[0\]\.port: missing/],
    ['set_field of an unknown field', () => flow(0, 1, {}, [{ type: 'set_field', field: 'nope', value: 1 }]), TypeError, /actions\[0\]\.field: unknown field 'nope'/],
    ['set_field with a bad value', () => flow(0, 1, {}, [{ type: 'set_field', field: 'nw_dst', value: 'x' }]), TypeError, /actions\[0\]\.value: 'x' is not an IPv4 address/],
    ['a masked IPv6 set_field', () => flow(0, 1, {}, [{ type: 'set_field', field: 'ipv6_dst', value: '::1', mask: '::1' }]), RangeError, /actions\[0\]\.mask: ipv6_dst cannot be set with a mask/],
    ['too many actions', () => flow(0, 1, {}, Array(33).fill({ type: 'dec_ttl' })), RangeError, /mods\[0\]\.actions: 33 actions, at most 32/],
    ['an unknown command', () => ({ ...flow(0, 1, {}), command: 'insert' as never }), TypeError, /mods\[0\]\.command: unknown command 'insert'/],
    ['a priority out of range', () => flow(0, 70000, {}), RangeError, /mods\[0\]\.priority: 70000 is out of range 0\.\.65535/],
    ['a table out of range', () => flow(256, 1, {}), RangeError, /mods\[0\]\.table: 256 is out of range 0\.\.255/],
    ['a cookie that is not 64-bit', () => ({ ...flow(0, 1, {}), cookie: -5n }), RangeError, /mods\[0\]\.cookie: -5n is negative/],
  ];

  for (const [what, mod, type, message] of bad) {
    it(`refuses ${what}, naming the field, before sending`, async () => {
      // Not connected: the argument error must come first, not DISCONNECTED.
      const c = createDataplaneClient();
      const e = await c.flowMod([mod()]).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(type);
      expect((e as Error).message).toMatch(message);
    });
  }

  it('names the batch index of the bad flow-mod', async () => {
    const c = createDataplaneClient();
    const e = await c.flowMod([flow(0, 1, {}), flow(0, 1, {}), flow(0, 1, { tp_dst: { value: 'x' } })]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(/^mods\[2\]\.match\.tp_dst\.value: /);
  });

  it('checks port and table arguments too', async () => {
    const c = createDataplaneClient();
    await expect(c.portAdd({ name: 'x'.repeat(40), devargs: 'net_null0' })).rejects.toThrow(/req\.name: 'x+' is longer than 31 bytes/);
    await expect(c.portAdd({ name: 'p', devargs: 'net_null0', mtu: 70000 })).rejects.toThrow(RangeError);
    await expect(c.tableMod({ id: 1, miss: 'explode' as never })).rejects.toThrow(/desc\.miss: 'explode' is not one of drop, continue, controller/);
    await expect(c.meterMod('explode' as never, { id: 1 })).rejects.toThrow(/command: 'explode' is not one of add, modify, delete/);
    await expect(c.meterMod('add', { id: 1 })).rejects.toThrow(/meter\.rate: missing/);
    await expect(c.portAdd({ name: 'p', devargs: 'net_null0', vlan: { mode: 'hybrid' as never } })).rejects.toThrow(/req\.vlan\.mode: 'hybrid' is not one of none, access, trunk/);
    await expect(c.portAdd({ name: 'p', devargs: 'net_null0', vlan: { mode: 'trunk', trunks: [4096] } })).rejects.toThrow(/req\.vlan\.trunks\[0\]/);
    await expect(c.portMod(1, { nshTag: { spi: 1 << 24 } })).rejects.toThrow(/change\.nshTag\.spi/);
    await expect(c.portMod(1, { nshTag: { spi: 1, context: [1, 2, 3, 4, 5] } })).rejects.toThrow(/change\.nshTag\.context: expected up to 4 numbers/);
    await expect(c.meterMod('add', { id: 70000, rate: 1 })).rejects.toThrow(RangeError);
    await expect(c.meterMod('add', { id: 1, rate: 1, band: 'paint' as never })).rejects.toThrow(/meter\.band: 'paint' is not one of drop, dscp_remark/);
    // well-formed requests on a client that is not connected
    expectDpError(await c.portList().catch((x: unknown) => x), 'DISCONNECTED');
  });

  it('checks group arguments, naming the field', async () => {
    const c = createDataplaneClient();
    await expect(c.groupMod({ command: 'insert' as never, id: 1 })).rejects.toThrow(/group\.command: 'insert' is not one of add, modify, delete/);
    await expect(c.groupMod({ command: 'add', id: 70000, type: 'all', buckets: [] })).rejects.toThrow(/group\.id: 70000 is out of range/);
    await expect(c.groupMod({ command: 'add', id: 1, type: 'rr' as never, buckets: [] })).rejects.toThrow(/group\.type: 'rr' is not one of all, select, indirect, fast_failover/);
    await expect(c.groupMod({ command: 'add', id: 1, type: 'select', fields: ['in_port'], buckets: [] })).rejects.toThrow(/group\.fields\[0\]: 'in_port' is not one of/);
    await expect(c.groupMod({ command: 'add', id: 1, type: 'all', buckets: [{ actions: [{ type: 'outptu' } as never] }] })).rejects.toThrow(/group\.buckets\[0\]\.actions\[0\]\.type: unknown action 'outptu'/);
    await expect(c.groupMod({ command: 'add', id: 1, type: 'all', buckets: Array(33).fill({ actions: [] }) })).rejects.toThrow(/group\.buckets: 33 buckets, at most 32/);
    expectDpError(await c.groupMod({ command: 'delete', id: 1 }).catch((x: unknown) => x), 'DISCONNECTED');
    expectDpError(await c.groupStats().catch((x: unknown) => x), 'DISCONNECTED');
  });

  it('checks packetOut arguments before sending', async () => {
    const c = createDataplaneClient();
    const out = [{ type: 'output' as const, port: 2 }];
    await expect(c.packetOut(0, Buffer.alloc(60), out)).rejects.toThrow(/inPort: 0 is not a port number/);
    await expect(c.packetOut(1, Buffer.alloc(0), out)).rejects.toThrow(/frame: 0 bytes, expected 1\.\./);
    await expect(c.packetOut(1, 'x' as never, out)).rejects.toThrow(/frame: expected a Buffer/);
    await expect(c.packetOut(1, Buffer.alloc(60), [])).rejects.toThrow(/actions: 0 actions, expected 1\.\.32/);
    await expect(c.packetOut(1, Buffer.alloc(60), [{ type: 'outptu' } as never])).rejects.toThrow(/actions\[0\]\.type: unknown action 'outptu'/);
    expectDpError(await c.packetOut(null, Buffer.alloc(60), out).catch((x: unknown) => x), 'DISCONNECTED');
  });

  it('checks mirrorMod arguments before sending', async () => {
    const c = createDataplaneClient();
    await expect(c.mirrorMod('add' as never, { id: 0 })).rejects.toThrow(/command: 'add' is not one of set, delete/);
    await expect(c.mirrorMod('set', { id: 32, name: 'm', outPort: 1 })).rejects.toThrow(/mirror\.id: 32 is out of range/);
    await expect(c.mirrorMod('set', { id: 0, outPort: 1 })).rejects.toThrow(/mirror\.name: expected a string/);
    await expect(c.mirrorMod('set', { id: 0, name: 'x'.repeat(32), outPort: 1 })).rejects.toThrow(/mirror\.name: 'x+' must be 1\.\.31 bytes/);
    await expect(c.mirrorMod('set', { id: 0, name: 'm', outPort: 1, src: Array(17).fill(1) })).rejects.toThrow(/mirror\.src: 17 ports, at most 16/);
    await expect(c.mirrorMod('set', { id: 0, name: 'm', outPort: 1, dst: ['p1' as never] })).rejects.toThrow(/mirror\.dst\[0\]/);
    expectDpError(await c.mirrorMod('delete', { id: 0 }).catch((x: unknown) => x), 'DISCONNECTED');
    expectDpError(await c.mirrorStats().catch((x: unknown) => x), 'DISCONNECTED');
  });

  it('connecting to an absent socket rejects with DISCONNECTED', async () => {
    const c = createDataplaneClient();
    const e = expectDpError(await c.connect('/nonexistent/dp.sock').catch((x: unknown) => x), 'DISCONNECTED');
    expect(e.message).toMatch(/cannot connect to the data plane at \/nonexistent\/dp\.sock: No such file or directory/);
    expect(c.connected).toBe(false);
  });

  it('the strict parser says what is wrong with a message', () => {
    const m = encode(MSG.ECHO, 0, 1, [[ATTR.VERSION, Buffer.alloc(2)]]);
    expect(native.checkMessage(m)).toBe('attribute VERSION has 2 bytes, expected 4');
    expect(native.checkMessage(Buffer.from('garbage!garbage!'))).toMatch(/protocol version 103, expected 1/);
  });
});

describe('the client against a fake data plane', () => {
  let dir: string;
  const servers: net.Server[] = [];

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sy-addon-fake-'));
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers events and replies in order', async () => {
    const sock = path.join(dir, 'ev.sock');
    servers.push(
      await fakeDataplane(sock, (m, s) => {
        s.write(encode(MSG.PORT_STATUS, EVENT, 0, [[ATTR.PORT_DESC, portDescBytes(7, 'ev0')], [ATTR.PORT_REASON, u32(2)]]));
        s.write(encode(MSG.ECHO, REPLY, m.xid, [[ATTR.PACKET, m.attrs.get(ATTR.PACKET) ?? Buffer.alloc(0)]]));
      }),
    );
    const c = createDataplaneClient();
    const events: DpEvent[] = [];
    c.on('event', (ev) => events.push(ev));
    const info = await c.connect(sock);
    expect(info).toMatchObject({ pid: 4242, version: 'fake' });
    expect(c.connected).toBe(true);
    expect((await c.echo(Buffer.from('ping'))).toString()).toBe('ping');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'port_status', reason: 'modify', port: { id: 7, name: 'ev0', mtu: 1500, adminUp: true, mac: '02:00:00:00:00:07' } });
    c.close();
  });

  it('a lost connection rejects what is pending with DISCONNECTED and says so once', async () => {
    const sock = path.join(dir, 'drop.sock');
    servers.push(await fakeDataplane(sock, (_m, s) => s.destroy()));
    const c = createDataplaneClient();
    const reasons: string[] = [];
    c.on('disconnected', (r) => reasons.push(r));
    await c.connect(sock);
    const results = await Promise.allSettled([c.portList(), c.dpStats(), c.barrier()]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expectDpError((r as PromiseRejectedResult).reason, 'DISCONNECTED');
    }
    expect(c.connected).toBe(false);
    c.close(); // a second close is harmless and says nothing more
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/the data plane closed the connection|reset by peer/);
  });

  it('after close() the client does not keep Node alive', async () => {
    const sock = path.join(dir, 'alive.sock');
    servers.push(await fakeDataplane(sock, (m, s) => s.write(encode(MSG.ECHO, REPLY, m.xid))));
    const script = `
      const a = require(${JSON.stringify(addonPath())});
      const c = new a.Client();
      c.connect(${JSON.stringify(sock)}).then(() => c.echo()).then(() => { c.close(); console.log('closed'); });
    `;
    const t0 = Date.now();
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 10_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(out.trim()).toBe('closed');
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('a worker thread may exit while connected (the addon is unloaded cleanly)', async () => {
    const sock = path.join(dir, 'worker.sock');
    servers.push(await fakeDataplane(sock, (m, s) => s.write(encode(MSG.ECHO, REPLY, m.xid))));
    const worker = path.join(dir, 'worker.js');
    writeFileSync(
      worker,
      `const { parentPort } = require('worker_threads');
      const a = require(${JSON.stringify(addonPath())});
      const open = new a.Client(), closed = new a.Client();
      Promise.all([open.connect(${JSON.stringify(sock)}), closed.connect(${JSON.stringify(sock)})])
        .then(() => { closed.close(); parentPort.postMessage('up'); process.exit(0); });`,
    );
    const script = `
      const w = new (require('worker_threads').Worker)(${JSON.stringify(worker)});
      w.on('message', (m) => console.log(m));
      w.on('exit', (c) => console.log('exit ' + c));
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toEqual(['up', 'exit 0']);
  });
});

// ---------------------------------------------------------------------------
// A real data plane

const DP = process.env.SWITCHYARD_DP || DP_BINARY;
const HAVE_DP = existsSync(DP);

describe.skipIf(!HAVE_DP)(`the client against a real switchyard-dp${HAVE_DP ? '' : ` (skipped: ${DP} is not built)`}`, () => {
  let dir: string;
  let dp: ChildProcess;
  let dpLog = '';
  let sock: string;
  let c: AddonDataplaneClient;
  const events: DpEvent[] = [];
  const prefix = `sy-addon-${process.pid}`;

  async function waitForSocket(p: string, ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      if (dp.exitCode !== null) throw new Error(`switchyard-dp exited with ${dp.exitCode}:\n${dpLog}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(p, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > until) throw new Error(`switchyard-dp did not listen on ${p} within ${ms} ms:\n${dpLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  function nextEvent(pred: (ev: DpEvent) => boolean, ms = 5000): Promise<DpEvent> {
    return new Promise((resolve, reject) => {
      const found = events.find(pred);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no such event within ${ms} ms: ${JSON.stringify(events, bigints)}`)), ms);
      const poll = setInterval(() => {
        const ev = events.find(pred);
        if (ev) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(ev);
        }
      }, 10);
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sy-addon-'));
    sock = path.join(dir, 'dp.sock');
    dp = spawn(
      DP,
      ['-l', '0,1', '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix, '--', '--socket', sock, '--pmd-sleep-max', '1000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    dp.stdout!.on('data', (d) => (dpLog += d));
    dp.stderr!.on('data', (d) => (dpLog += d));
    await waitForSocket(sock, 30_000);
    c = createDataplaneClient();
    c.on('event', (ev) => events.push(ev));
  });

  afterAll(async () => {
    c?.close();
    if (dp && dp.exitCode === null && dp.signalCode === null) {
      const exited = new Promise((r) => dp.once('exit', r));
      dp.kill('SIGTERM');
      const timer = setTimeout(() => dp.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    for (const run of ['/var/run/dpdk', path.join(process.env.XDG_RUNTIME_DIR ?? '/nonexistent', 'dpdk')])
      rmSync(path.join(run, prefix), { recursive: true, force: true });
  });

  it('says hello with the data plane\'s identity', async () => {
    const info = await c.connect(sock);
    expect(info.pid).toBe(dp.pid);
    expect(info.maxTables).toBeGreaterThanOrEqual(64);
    expect(typeof info.startNs).toBe('bigint');
    expect(info.filePrefix).toBe(prefix);
    expect(c.connected).toBe(true);
    // the socket is private to its owner
    expect(statSync(sock).mode & 0o777).toBe(0o600);
  });

  it('adds ports, lists them, counts on them, and tells every client', async () => {
    const other = createDataplaneClient();
    const otherEvents: DpEvent[] = [];
    other.on('event', (ev) => otherEvents.push(ev));
    await other.connect(sock);

    const p1 = await c.portAdd({ name: 'null0', devargs: 'net_null0' });
    expect(p1).toMatchObject({ name: 'null0', devargs: 'net_null0', adminUp: true });
    expect(p1.id).toBeGreaterThanOrEqual(1);
    const p2 = await c.portAdd({ name: 'ring0', devargs: 'net_ring0', id: 40, mtu: 9000 });
    expect(p2).toMatchObject({ id: 40, name: 'ring0', mtu: 9000 });

    const ev = await nextEvent((e) => e.type === 'port_status' && e.port.name === 'ring0');
    expect(ev).toMatchObject({ type: 'port_status', reason: 'add', port: { id: 40 } });
    await other.barrier();
    expect(otherEvents.some((e) => e.type === 'port_status' && e.reason === 'add' && e.port.name === 'null0')).toBe(true);
    other.close();

    const list = await c.portList();
    expect(list.map((p) => p.name)).toEqual(expect.arrayContaining(['null0', 'ring0']));

    const stats = await c.portStats(40);
    expect(stats).toHaveLength(1);
    expect(stats[0].id).toBe(40);
    expect(typeof stats[0].rxPackets).toBe('bigint');
    expect(Object.keys(stats[0].drops)).toEqual(dropReasons.map((d) => d.name));
    expect((await c.portStats()).length).toBeGreaterThanOrEqual(2);
    await c.portStatsClear(40);

    const mod = await c.portMod(40, { adminUp: false });
    expect(mod.adminUp).toBe(false);
    await nextEvent((e) => e.type === 'port_status' && e.reason === 'modify' && e.port.id === 40);
  });

  it('port VLAN modes and NSH tags: set, reported after the port, changed, cleared, and checked by the data plane', async () => {
    const p = await c.portAdd({ name: 'ring9', devargs: 'net_ring9', vlan: { mode: 'trunk', trunks: [10, 20, 4094], native: 10 }, nshTag: { spi: 0x123, context: [1, 2] } });
    expect(p.vlan).toEqual({ mode: 'trunk', tag: 0, trunks: [10, 20, 4094], native: 10 });
    expect(p.nshTag).toEqual({ spi: 0x123, si: 255, ttl: 63, mdtype: 1, context: [1, 2, 0, 0] });
    const listed = (await c.portList()).find((x) => x.name === 'ring9')!;
    expect(listed.vlan).toEqual(p.vlan);
    expect(listed.nshTag).toEqual(p.nshTag);
    const ev = nextEvent((e) => e.type === 'port_status' && e.reason === 'modify' && e.port.name === 'ring9');
    const m = await c.portMod(p.id, { vlan: { mode: 'access', tag: 7 }, nshTag: null });
    expect(m.vlan).toEqual({ mode: 'access', tag: 7, trunks: [], native: 0 });
    expect(m.nshTag).toBeUndefined();
    expect((await ev).port.vlan).toMatchObject({ mode: 'access', tag: 7 });
    // the data plane's own checks, naming the port; nothing changes
    const e1 = await c.portMod(p.id, { vlan: { mode: 'access', tag: 0 } }).catch((x: unknown) => x);
    expectDpError(e1, 'INVAL');
    expect((e1 as Error).message).toMatch(/port 'ring9': access VLAN tag 0 is out of range 1\.\.4094/);
    const e2 = await c.portMod(p.id, { mtu: 9000, vlan: { mode: 'trunk', tag: 3 } }).catch((x: unknown) => x);
    expect((e2 as Error).message).toMatch(/a trunk port has no access tag/);
    const e3 = await c.portAdd({ name: 'ring8', devargs: 'net_ring8', vlan: { mode: 'trunk', trunks: [0] } }).catch((x: unknown) => x);
    expect((e3 as Error).message).toMatch(/trunk VIDs are 1\.\.4094/);
    const now = (await c.portList()).find((x) => x.name === 'ring9')!;
    expect(now).toMatchObject({ mtu: p.mtu, vlan: { mode: 'access', tag: 7 } });
    expect((await c.portList()).some((x) => x.name === 'ring8')).toBe(false);
    const cleared = await c.portMod(p.id, { vlan: { mode: 'none' } });
    expect(cleared.vlan).toBeUndefined();
    await c.portDel(p.id);
  });

  it('round trips flows of every field kind through the data plane', async () => {
    const mods = [
      flow(1, 100, MATCH_V4, ACTIONS_V4),
      flow(2, 200, MATCH_V6),
      flow(3, 300, MATCH_ICMP),
      flow(4, 400, MATCH_NSH),
    ];
    expect(await c.flowMod(mods)).toBe(4);
    await c.barrier();

    const dump = await c.flowDump();
    const byTable = new Map(dump.map((f) => [f.table, f]));
    expect(byTable.get(1)).toMatchObject({ priority: 100, cookie: 0xabcdef0123456789n, match: MATCH_V4_OUT, actions: ACTIONS_V4 });
    expect(byTable.get(2)?.match).toEqual(MATCH_V6_OUT);
    expect(byTable.get(3)?.match).toEqual(MATCH_ICMP);
    expect(byTable.get(4)?.match).toEqual(MATCH_NSH);
    for (const f of dump) {
      expect(typeof f.stats.packets).toBe('bigint');
      expect(typeof f.stats.durationNs).toBe('bigint');
    }

    // a filtered dump, then a delete by cookie
    expect((await c.flowDump({ table: 2 })).map((f) => f.priority)).toEqual([200]);
    expect(await c.flowMod([{ command: 'delete', table: 255, priority: 0, cookie: 0xabcdef0123456789n, cookieMask: 0xffffffffffffffffn, match: {}, actions: [] }])).toBe(4);
    expect(await c.flowDump()).toEqual([]);
  });

  it('an error reply carries the code, the batch index and a message', async () => {
    const e = expectDpError(
      await c.flowMod([flow(5, 1, {}), flow(5, 2, { nw_src: { value: '10.0.0.1' } })]).catch((x: unknown) => x),
      'INVAL',
    );
    expect(e.index).toBe(1);
    expect(e.message).toMatch(/nw_src/);
    expect(await c.flowDump({ table: 5 })).toEqual([]); // all or nothing

    const gone = expectDpError(await c.portDel(9999).catch((x: unknown) => x), 'NOENT');
    expect(gone.index).toBe(-1);
    expectDpError(await c.portAdd({ name: 'null0', devargs: 'net_null1' }).catch((x: unknown) => x), 'EXIST');
  });

  it('answers a barrier, tables and datapath counters', async () => {
    await c.barrier();
    const t = await c.tableMod({ id: 9, name: 'acl', miss: 'continue', maxFlows: 100 });
    expect(t).toMatchObject({ id: 9, name: 'acl', miss: 'continue', maxFlows: 100 });
    expect((await c.tableList()).find((x) => x.id === 9)).toMatchObject({ name: 'acl' });
    // meters: the data plane resolves the burst; a zero rate and a missing meter are refused
    expect(await c.meterMod('add', { id: 5, unit: 'pps', rate: 1000, band: 'dscp_remark', dscp: 46 })).toEqual({
      id: 5,
      unit: 'pps',
      rate: 1000,
      burst: 100,
      band: 'dscp_remark',
      dscp: 46,
      bands: [{ type: 'dscp_remark', rate: 1000, burst: 100, dscp: 46 }],
    });
    expect(await c.meterStats(5)).toEqual([expect.objectContaining({ id: 5, passPackets: 0n, bandPackets: 0n, bandBytes: 0n, bandStats: [{ packets: 0n, bytes: 0n }] })]);
    // bands: sorted by rate; the one-band fields describe the first; bad ones named
    expect(await c.meterMod('add', { id: 7, unit: 'kbps', bands: [{ type: 'drop', rate: 2000 }, { type: 'dscp_remark', rate: 1000, dscp: 10, burst: 50 }] })).toEqual({
      id: 7,
      unit: 'kbps',
      rate: 1000,
      burst: 50,
      band: 'dscp_remark',
      dscp: 10,
      bands: [
        { type: 'dscp_remark', rate: 1000, burst: 50, dscp: 10 },
        { type: 'drop', rate: 2000, burst: 200, dscp: 0 },
      ],
    });
    expect((await c.meterStats(7))[0].bandStats).toEqual([{ packets: 0n, bytes: 0n }, { packets: 0n, bytes: 0n }]);
    expect(expectDpError(await c.meterMod('modify', { id: 7, bands: [{ type: 'drop', rate: 5 }, { type: 'drop', rate: 5 }] }).catch((x: unknown) => x), 'INVAL').message).toMatch(/meter 7: two bands with rate 5/);
    await expect(c.meterMod('add', { id: 8, bands: [] })).rejects.toThrow(/meter\.bands: 0 bands, expected 1\.\.4/);
    expect(await c.meterMod('delete', { id: 7 })).toBeUndefined();
    // port egress QoS: set, read back with bursts resolved, removed; bad values named
    const pid = (await c.portList())[0].id;
    expect(await c.portQos(pid, { rate: 100000, queues: [{ queue: 1, rate: 1000, burst: 30 }] })).toEqual({ portId: pid, rate: 100000, burst: 10000, queues: [{ queue: 1, rate: 1000, burst: 30 }] });
    expect(await c.portQos(pid)).toEqual({ portId: pid, rate: 100000, burst: 10000, queues: [{ queue: 1, rate: 1000, burst: 30 }] });
    expect(await c.portQos(pid, { rate: 0 })).toEqual({ portId: pid, rate: 0, burst: 0, queues: [] });
    await expect(c.portQos(pid, { rate: 1, queues: [{ queue: 8, rate: 1 }] })).rejects.toThrow(/qos\.queues\[0\]\.queue: 8 is out of range 0\.\.7/);
    expect(expectDpError(await c.portQos(pid, { rate: 0, burst: 5 }).catch((x: unknown) => x), 'INVAL').message).toMatch(/egress burst 5 without a rate/);
    expect(expectDpError(await c.portQos(4000).catch((x: unknown) => x), 'NOENT').message).toMatch(/port 4000 does not exist/);
    expect(expectDpError(await c.meterMod('add', { id: 6, rate: 0 }).catch((x: unknown) => x), 'INVAL').message).toMatch(/meter 6: rate 0/);
    expect(expectDpError(await c.meterStats(6).catch((x: unknown) => x), 'NOENT').message).toMatch(/meter 6 does not exist/);
    expect(await c.meterMod('delete', { id: 5 })).toBeUndefined();
    expect(await c.meterStats()).toEqual([]);
    const st = await c.dpStats();
    expect(Object.keys(st.drops)).toEqual(dropReasons.map((d) => d.name));
    expect(st.nPorts).toBeGreaterThanOrEqual(2);
  });

  it('garbage on a raw socket gets an error or a close, and other clients carry on', async () => {
    const raw = net.connect(sock);
    await new Promise((r) => raw.once('connect', r));
    let got = Buffer.alloc(0);
    raw.on('data', (d) => (got = Buffer.concat([got, d])));
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.on('error', () => undefined);
    raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: switchyard\r\n\r\n'));
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
    expect(raw.destroyed || got.length > 0).toBe(true);
    if (got.length >= 16) {
      const [msgs] = split(got);
      expect(msgs[0].type).toBe(MSG.ERROR);
      expect(errorNames[msgs[0].attrs.get(ATTR.ERR_CODE)!.readUInt32LE(0)]).toBe('PROTO');
      expect(msgs[0].attrs.get(ATTR.ERR_MSG)!.toString()).toMatch(/protocol version 71, expected 1/);
    }
    raw.destroy();

    // a well-framed but malformed request on another connection: an error, and it stays open
    const raw2 = net.connect(sock);
    await new Promise((r) => raw2.once('connect', r));
    let acc: Buffer = Buffer.alloc(0);
    const replies: RawMsg[] = [];
    raw2.on('data', (d) => {
      let m: RawMsg[];
      [m, acc] = split(Buffer.concat([acc, d]));
      replies.push(...m);
    });
    raw2.write(encode(MSG.HELLO, 0, 1, [[ATTR.VERSION, u32(1)]]));
    raw2.write(encode(MSG.ECHO, 0, 2, [[ATTR.VERSION, Buffer.alloc(3)]]));
    raw2.write(encode(MSG.ECHO, 0, 3, [[ATTR.PACKET, Buffer.from('still here')]]));
    for (let i = 0; i < 100 && replies.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(replies.map((m) => [m.type, m.xid])).toEqual([[MSG.HELLO, 1], [MSG.ERROR, 2], [MSG.ECHO, 3]]);
    expect(replies[1].attrs.get(ATTR.ERR_MSG)!.toString()).toMatch(/attribute VERSION has 3 bytes, expected 4/);
    raw2.destroy();

    expect(c.connected).toBe(true);
    expect((await c.portList()).length).toBeGreaterThanOrEqual(2);
    expect(dp.exitCode).toBeNull();
  });

  it('deleting a port tells the clients', async () => {
    await c.portDel(40);
    await nextEvent((e) => e.type === 'port_status' && e.reason === 'delete' && e.port.id === 40);
    expect((await c.portList()).map((p) => p.id)).not.toContain(40);
  });
});

function bigints(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}
