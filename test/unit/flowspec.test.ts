/**
 * The flow text syntax: every match field, every action, masks and
 * prefixes, prerequisites, the errors (FlowSpecError naming the token and
 * its position), formatting, and parse(format(x)) == x.
 */
import { describe, expect, it } from 'vitest';
import {
  FIELDS,
  FlowSpecError,
  UnknownPortError,
  canonicalMatch,
  compareFieldTables,
  entryToFlowMod,
  flowKey,
  formatActions,
  formatFlowEntry,
  formatFlowMod,
  formatMatch,
  parseFlow,
  parseFlowLine,
  parseFlowParts,
  splitFlowFile,
  splitFlowText,
} from '../../src/flowspec';
import type { FlowMod, Match } from '../../src/mgmt/addon-types';
import { PORT_ALL, PORT_CONTROLLER, PORT_FLOOD, PORT_IN_PORT, PORT_LOCAL, TABLE_ALL } from '../../src/mgmt/addon-types';
import { parseSimpleAdd } from '../../src/flowspec/fast';
import { parseFlowGeneral } from '../../src/flowspec/flow';

const PORTS = new Map([
  ['p1', 1],
  ['p2', 2],
  ['uplink-0', 7],
]);
const names = {
  resolvePort: (n: string) => PORTS.get(n),
  portName: (id: number) => [...PORTS].find(([, v]) => v === id)?.[0],
};

function match(text: string): Match {
  return parseFlow(`${text},actions=drop`, names).match;
}

function actions(text: string, table = 0) {
  return parseFlow(`table=${table},actions=${text}`, names).actions;
}

/** Asserts a FlowSpecError with this field, message fragment and (optionally) position. */
function refuses(text: string, field: string, msg: RegExp, opts: { position?: number; command?: FlowMod['command'] } = {}) {
  let err: unknown;
  try {
    parseFlow(text, { ...names, command: opts.command });
  } catch (e) {
    err = e;
  }
  expect(err, `'${text}' should be refused`).toBeInstanceOf(FlowSpecError);
  const fe = err as FlowSpecError;
  expect(fe.field).toBe(field);
  expect(fe.message).toMatch(msg);
  expect(fe.message).toContain(`in '${text}'`);
  if (opts.position !== undefined) expect(fe.position).toBe(opts.position);
  return fe;
}

describe('flow keywords', () => {
  it('defaults: table 0, priority 32768, cookie 0, no timeouts, no flags', () => {
    expect(parseFlow('actions=drop')).toEqual({
      command: 'add',
      table: 0,
      priority: 32768,
      cookie: 0n,
      idleTimeout: 0,
      hardTimeout: 0,
      flags: 0,
      match: {},
      actions: [],
    });
  });

  it('parses the example of the brief', () => {
    expect(parseFlow('table=0,priority=100,in_port=p1,ip,nw_src=10.0.0.0/24,actions=drop', names)).toEqual({
      command: 'add',
      table: 0,
      priority: 100,
      cookie: 0n,
      idleTimeout: 0,
      hardTimeout: 0,
      flags: 0,
      match: {
        in_port: { value: 1 },
        dl_type: { value: 0x0800 },
        nw_src: { value: '10.0.0.0', mask: '255.255.255.0' },
      },
      actions: [],
    });
  });

  it('table, priority, cookie, timeouts and flags', () => {
    const f = parseFlow('table=3 priority=7 cookie=0xdeadbeefcafe idle_timeout=10 hard_timeout=20 send_flow_rem check_overlap reset_counts actions=drop');
    expect(f).toMatchObject({ table: 3, priority: 7, cookie: 0xdeadbeefcafen, idleTimeout: 10, hardTimeout: 20, flags: 7 });
  });

  it('cookie with a mask in modify and delete, not in add', () => {
    expect(parseFlow('cookie=0x1f/0xf0', { command: 'delete' })).toMatchObject({ cookie: 0x10n, cookieMask: 0xf0n, table: TABLE_ALL });
    expect(parseFlow('cookie=0x1/0xff,actions=drop', { command: 'modify' })).toMatchObject({ cookie: 1n, cookieMask: 0xffn });
    refuses('cookie=0x1/0xff,actions=drop', 'cookie', /mask is for modify and delete/);
    // -1 is every bit (ovs-ofctl); a delete without a mask would select every cookie, so it is refused
    expect(parseFlow('cookie=0x5/-1', { command: 'delete' })).toMatchObject({ cookie: 5n, cookieMask: 0xffffffffffffffffn });
    refuses('cookie=0x5', 'cookie', /cookie=0x5\/-1 for exactly 0x5/, { command: 'delete' });
    refuses('cookie=0x5,ip', 'cookie', /cookie=VALUE\/MASK/, { command: 'delete_strict' });
    expect(parseFlow('cookie=0x5,actions=drop', { command: 'modify' })).toMatchObject({ cookie: 5n });
  });

  it('the counters of a dump are ignored, so a dump line parses back', () => {
    const line = 'cookie=0x0, duration=1.234s, table=0, n_packets=5, n_bytes=490, idle_age=3, hard_age=1, priority=100,ip,in_port=p1,nw_src=10.0.0.0/24 actions=drop';
    expect(parseFlow(line, names)).toEqual(parseFlow('table=0,priority=100,ip,in_port=p1,nw_src=10.0.0.0/24,actions=drop', names));
  });

  it('ranges', () => {
    refuses('priority=65536,actions=drop', 'priority', /out of range/);
    refuses('table=255,actions=drop', 'table', /added to one table/);
    refuses('idle_timeout=70000,actions=drop', 'idle_timeout', /out of range/);
    refuses('priority=x,actions=drop', 'priority', /not a number/);
    refuses('table=1,table=2,actions=drop', 'table', /given twice/);
  });

  it('commands: modify and delete default to every table; delete takes no actions', () => {
    expect(parseFlow('ip', { command: 'delete' })).toMatchObject({ command: 'delete', table: TABLE_ALL, actions: [] });
    expect(parseFlow('table=2,priority=5,ip', { command: 'delete_strict' })).toMatchObject({ command: 'delete_strict', table: 2, priority: 5 });
    expect(parseFlow('ip,actions=output:1', { command: 'modify_strict' })).toMatchObject({ command: 'modify_strict', table: TABLE_ALL });
    expect(parseFlow('out_port=p2', { ...names, command: 'delete' })).toMatchObject({ outPort: 2 });
    refuses('ip,actions=drop', 'actions', /delete takes no actions/, { command: 'delete' });
    refuses('ip,idle_timeout=5', 'idle_timeout', /does not apply to a delete/, { command: 'delete' });
  });

  it('add needs actions', () => {
    refuses('ip', 'actions', /no actions/);
    refuses('ip,actions', 'actions', /needs a value/);
  });
});

describe('match fields', () => {
  it('in_port: number, name, LOCAL; unknown names are UnknownPortError', () => {
    expect(match('in_port=5')).toEqual({ in_port: { value: 5 } });
    expect(match('in_port=p2')).toEqual({ in_port: { value: 2 } });
    expect(match('in_port="uplink-0"')).toEqual({ in_port: { value: 7 } });
    expect(match('in_port=LOCAL')).toEqual({ in_port: { value: PORT_LOCAL } });
    const e = refuses('in_port=nosuch,actions=drop', 'in_port', /unknown port 'nosuch'/);
    expect(e).toBeInstanceOf(UnknownPortError);
    expect(() => parseFlow('in_port=p1,actions=drop')).toThrow(/'p1' is not a port number/);
    refuses('in_port=0,actions=drop', 'in_port', /not a port number/);
  });

  it('metadata and tun_id (64-bit, masks)', () => {
    expect(match('metadata=0x1234')).toEqual({ metadata: { value: 0x1234n } });
    expect(match('metadata=0xffffffffffffffff')).toEqual({ metadata: { value: 0xffffffffffffffffn } });
    expect(match('metadata=0x1f/0xf0')).toEqual({ metadata: { value: 0x10n, mask: 0xf0n } });
    expect(match('tun_id=42')).toEqual({ tun_id: { value: 42n } });
    expect(match('tunnel_id=0x5/0xff')).toEqual({ tun_id: { value: 5n, mask: 0xffn } });
    refuses('metadata=0x1ffffffffffffffff,actions=drop', 'metadata', /out of range/);
  });

  it('dl_src, dl_dst with masks', () => {
    expect(match('dl_src=AA:bb:cc:dd:ee:ff')).toEqual({ dl_src: { value: 'aa:bb:cc:dd:ee:ff' } });
    expect(match('dl_dst=01:00:00:00:00:00/01:00:00:00:00:00')).toEqual({ dl_dst: { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' } });
    expect(match('dl_dst=ff:ff:ff:ff:ff:ff/ff:ff:ff:00:00:00')).toEqual({ dl_dst: { value: 'ff:ff:ff:00:00:00', mask: 'ff:ff:ff:00:00:00' } });
    expect(match('eth_src=0:1:2:3:4:5')).toEqual({ dl_src: { value: '00:01:02:03:04:05' } });
    refuses('dl_src=aa:bb:cc:dd:ee,actions=drop', 'dl_src', /not an Ethernet address/);
    refuses('dl_src=aa:bb:cc:dd:ee:ff/zz,actions=drop', 'dl_src', /bad mask/);
  });

  it('dl_type', () => {
    expect(match('dl_type=0x88cc')).toEqual({ dl_type: { value: 0x88cc } });
    expect(match('dl_type=2048')).toEqual({ dl_type: { value: 0x0800 } });
    refuses('dl_type=0x10000,actions=drop', 'dl_type', /out of range/);
  });

  it('protocol shorthands', () => {
    const cases: [string, number, number?][] = [
      ['ip', 0x0800],
      ['ipv6', 0x86dd],
      ['arp', 0x0806],
      ['rarp', 0x8035],
      ['icmp', 0x0800, 1],
      ['icmp6', 0x86dd, 58],
      ['tcp', 0x0800, 6],
      ['tcp6', 0x86dd, 6],
      ['udp', 0x0800, 17],
      ['udp6', 0x86dd, 17],
      ['sctp', 0x0800, 132],
      ['sctp6', 0x86dd, 132],
    ];
    for (const [name, dlType, proto] of cases) {
      const m: Match = { dl_type: { value: dlType } };
      if (proto !== undefined) m.nw_proto = { value: proto };
      expect(match(name), name).toEqual(m);
      expect(formatMatch(m), name).toBe(name);
    }
    refuses('ip=1,actions=drop', 'ip', /takes no value/);
    refuses('ip,ipv6,actions=drop', 'ipv6', /conflicts/);
    refuses('tcp,udp,actions=drop', 'udp', /conflicts/);
    expect(match('ip,dl_type=0x0800')).toEqual({ dl_type: { value: 0x0800 } });
  });

  it('dl_vlan, dl_vlan_pcp and vlan_tci (OVS views)', () => {
    expect(match('dl_vlan=10')).toEqual({ vlan_tci: { value: 0x100a, mask: 0x1fff } });
    expect(match('dl_vlan=0xffff')).toEqual({ vlan_tci: { value: 0 } });
    expect(match('dl_vlan_pcp=5')).toEqual({ vlan_tci: { value: 0xb000, mask: 0xf000 } });
    expect(match('dl_vlan=10,dl_vlan_pcp=5')).toEqual({ vlan_tci: { value: 0xb00a } });
    expect(match('vlan_tci=0x1000/0x1000')).toEqual({ vlan_tci: { value: 0x1000, mask: 0x1000 } });
    expect(match('vlan_tci=0')).toEqual({ vlan_tci: { value: 0 } });
    refuses('dl_vlan=4096,actions=drop', 'dl_vlan', /out of range/);
    refuses('dl_vlan_pcp=8,actions=drop', 'dl_vlan_pcp', /out of range/);
    refuses('dl_vlan=5/0xf,actions=drop', 'dl_vlan', /cannot be masked/);
    refuses('dl_vlan=0xffff,dl_vlan_pcp=1,actions=drop', 'dl_vlan_pcp', /conflicts/);
    expect(formatMatch({ vlan_tci: { value: 0x100a, mask: 0x1fff } })).toBe('dl_vlan=10');
    expect(formatMatch({ vlan_tci: { value: 0xb000, mask: 0xf000 } })).toBe('dl_vlan_pcp=5');
    expect(formatMatch({ vlan_tci: { value: 0xb00a } })).toBe('dl_vlan=10,dl_vlan_pcp=5');
    expect(formatMatch({ vlan_tci: { value: 0 } })).toBe('vlan_tci=0x0000');
    expect(formatMatch({ vlan_tci: { value: 0x1000, mask: 0x1000 } })).toBe('vlan_tci=0x1000/0x1000');
  });

  it('nw_src, nw_dst: address, /prefix, /mask', () => {
    expect(match('ip,nw_src=10.0.0.1')).toMatchObject({ nw_src: { value: '10.0.0.1' } });
    expect(match('ip,nw_src=10.0.0.77/24')).toMatchObject({ nw_src: { value: '10.0.0.0', mask: '255.255.255.0' } });
    expect(match('ip,nw_dst=10.1.2.3/255.255.0.255')).toMatchObject({ nw_dst: { value: '10.1.0.3', mask: '255.255.0.255' } });
    expect(match('ip,nw_dst=10.1.2.3/32')).toMatchObject({ nw_dst: { value: '10.1.2.3' } });
    expect(match('ip,nw_dst=10.1.2.3/0')).toEqual({ dl_type: { value: 0x0800 } });
    expect(match('ip,ip_src=1.2.3.4')).toMatchObject({ nw_src: { value: '1.2.3.4' } });
    refuses('ip,nw_src=10.0.0.256,actions=drop', 'nw_src', /not an IPv4 address/, { position: 3 });
    refuses('ip,nw_src=10.0.0.0/33,actions=drop', 'nw_src', /bad prefix length \/33/);
    refuses('ip,nw_src=10.0.0.0/255.0.x.0,actions=drop', 'nw_src', /bad mask/);
    expect(formatMatch({ dl_type: { value: 0x800 }, nw_src: { value: '10.1.0.3', mask: '255.255.0.255' } })).toBe('ip,nw_src=10.1.0.3/255.255.0.255');
  });

  it('nw_proto, nw_ttl', () => {
    expect(match('ip,nw_proto=47')).toEqual({ dl_type: { value: 0x800 }, nw_proto: { value: 47 } });
    expect(match('ipv6,nw_ttl=64')).toEqual({ dl_type: { value: 0x86dd }, nw_ttl: { value: 64 } });
    refuses('ip,nw_proto=256,actions=drop', 'nw_proto', /out of range/);
    expect(formatMatch({ dl_type: { value: 0x800 }, nw_proto: { value: 47 } })).toBe('ip,nw_proto=47');
  });

  it('nw_tos, ip_dscp, nw_ecn share the TOS byte', () => {
    expect(match('ip,nw_tos=0x10')).toMatchObject({ nw_tos: { value: 0x10, mask: 0xfc } });
    expect(match('ip,ip_dscp=46')).toMatchObject({ nw_tos: { value: 46 << 2, mask: 0xfc } });
    expect(match('ip,nw_ecn=3')).toMatchObject({ nw_tos: { value: 3, mask: 0x03 } });
    expect(match('ip,ip_ecn=1,nw_tos=8')).toMatchObject({ nw_tos: { value: 9 } });
    expect(match('ip,nw_tos=0x11/0xff')).toMatchObject({ nw_tos: { value: 0x11 } });
    refuses('ip,nw_tos=0x11,actions=drop', 'nw_tos', /low 2 bits/);
    refuses('ip,ip_dscp=64,actions=drop', 'ip_dscp', /out of range/);
    refuses('ip,nw_ecn=4,actions=drop', 'nw_ecn', /out of range/);
    refuses('ip,nw_tos=4,ip_dscp=2,actions=drop', 'ip_dscp', /conflicts/);
    expect(formatMatch({ dl_type: { value: 0x800 }, nw_tos: { value: 9 } })).toBe('ip,nw_tos=8,nw_ecn=1');
  });

  it('nw_frag as OVS: no, yes, first, later, not_later', () => {
    expect(match('ip,nw_frag=no')).toMatchObject({ nw_frag: { value: 0, mask: 3 } });
    expect(match('ip,nw_frag=yes')).toMatchObject({ nw_frag: { value: 1, mask: 1 } });
    expect(match('ip,nw_frag=first')).toMatchObject({ nw_frag: { value: 1, mask: 3 } });
    expect(match('ip,nw_frag=later')).toMatchObject({ nw_frag: { value: 3, mask: 3 } });
    expect(match('ip,nw_frag=not_later')).toMatchObject({ nw_frag: { value: 0, mask: 2 } });
    for (const w of ['no', 'yes', 'first', 'later', 'not_later']) expect(formatMatch(match(`ip,nw_frag=${w}`))).toBe(`ip,nw_frag=${w}`);
    refuses('ip,nw_frag=maybe,actions=drop', 'nw_frag', /not one of/);
  });

  it('ipv6_src, ipv6_dst, ipv6_label', () => {
    expect(match('ipv6,ipv6_src=2001:DB8::1')).toMatchObject({ ipv6_src: { value: '2001:db8::1' } });
    expect(match('ipv6,ipv6_src=2001:db8:0:0:1::7/64')).toMatchObject({ ipv6_src: { value: '2001:db8::', mask: 'ffff:ffff:ffff:ffff::' } });
    expect(match('ipv6,ipv6_dst=::ffff:10.0.0.1')).toMatchObject({ ipv6_dst: { value: '::ffff:10.0.0.1' } });
    expect(match('ipv6,ipv6_dst=fe80::/ffff::')).toMatchObject({ ipv6_dst: { value: 'fe80::', mask: 'ffff::' } });
    expect(match('ipv6,ipv6_label=0x12345')).toMatchObject({ ipv6_label: { value: 0x12345 } });
    expect(match('ipv6,ipv6_label=0x12345/0xf0000')).toMatchObject({ ipv6_label: { value: 0x10000, mask: 0xf0000 } });
    refuses('ipv6,ipv6_label=0x100000,actions=drop', 'ipv6_label', /out of range/);
    refuses('ipv6,ipv6_src=2001:db8::1::2,actions=drop', 'ipv6_src', /not an IPv6 address/);
    refuses('ipv6,ipv6_src=::1/129,actions=drop', 'ipv6_src', /bad prefix/);
    expect(formatMatch(match('ipv6,ipv6_src=2001:db8:0:0:1::7/64'))).toBe('ipv6,ipv6_src=2001:db8::/64');
  });

  it('tp_src, tp_dst and the tcp_/udp_/sctp_ names, with masks', () => {
    expect(match('tcp,tp_dst=80')).toMatchObject({ tp_dst: { value: 80 } });
    expect(match('udp,udp_src=53')).toMatchObject({ tp_src: { value: 53 } });
    expect(match('tcp6,tcp_dst=0x1000/0xf000')).toMatchObject({ tp_dst: { value: 0x1000, mask: 0xf000 } });
    expect(match('sctp,sctp_src=9')).toMatchObject({ tp_src: { value: 9 } });
    expect(match('tcp,tcp_src=1,tcp_dst=2')).toMatchObject({ tp_src: { value: 1 }, tp_dst: { value: 2 } });
    refuses('tcp,tp_dst=65536,actions=drop', 'tp_dst', /out of range/);
    refuses('udp,tcp_src=5,actions=drop', 'tcp_src', /needs tcp/);
    refuses('tcp,udp_dst=5,actions=drop', 'udp_dst', /needs udp/);
    refuses('ip,sctp_dst=5,actions=drop', 'sctp_dst', /needs sctp/);
    expect(formatMatch(match('tcp6,tcp_dst=0x1000/0xf000'))).toBe('tcp6,tp_dst=0x1000/0xf000');
  });

  it('icmp_type, icmp_code (and the icmpv6_ names) are tp_src, tp_dst', () => {
    expect(match('icmp,icmp_type=8,icmp_code=0')).toEqual({ dl_type: { value: 0x800 }, nw_proto: { value: 1 }, tp_src: { value: 8 }, tp_dst: { value: 0 } });
    expect(match('icmp6,icmpv6_type=135')).toMatchObject({ tp_src: { value: 135 } });
    expect(match('icmp6,icmpv6_code=1')).toMatchObject({ tp_dst: { value: 1 } });
    expect(match('icmp,tp_src=3')).toMatchObject({ tp_src: { value: 3 } });
    refuses('tcp,icmp_type=8,actions=drop', 'icmp_type', /needs icmp or icmp6/);
    refuses('icmp,icmp_type=256,actions=drop', 'icmp_type', /out of range/);
    expect(formatMatch(match('icmp,icmp_type=8,icmp_code=0'))).toBe('icmp,icmp_type=8,icmp_code=0');
    // the addon's dumps name them icmp_type/icmp_code: the same entry
    expect(canonicalMatch({ dl_type: { value: 0x800 }, nw_proto: { value: 1 }, icmp_type: { value: 8 } })).toEqual(match('icmp,icmp_type=8'));
  });

  it('tcp_flags: numeric, masked, names, +flag-flag', () => {
    expect(match('tcp,tcp_flags=0x002')).toMatchObject({ tcp_flags: { value: 2 } });
    expect(match('tcp,tcp_flags=0x012/0x0ff')).toMatchObject({ tcp_flags: { value: 0x12, mask: 0xff } });
    expect(match('tcp,tcp_flags=syn|ack')).toMatchObject({ tcp_flags: { value: 0x12 } });
    expect(match('tcp,tcp_flags=+syn-ack')).toMatchObject({ tcp_flags: { value: 0x02, mask: 0x12 } });
    expect(match('tcp,tcp_flags=-rst+fin+ns')).toMatchObject({ tcp_flags: { value: 0x101, mask: 0x105 } });
    expect(formatMatch(match('tcp,tcp_flags=+syn-ack'))).toBe('tcp,tcp_flags=+syn-ack');
    expect(formatMatch(match('tcp,tcp_flags=syn|ack'))).toBe('tcp,tcp_flags=syn|ack');
    expect(formatMatch(match('tcp,tcp_flags=0x012/0xf00'))).toBe('tcp,tcp_flags=0x000/0xf00');
    refuses('tcp,tcp_flags=+syn+bogus,actions=drop', 'tcp_flags', /unknown TCP flag 'bogus'/);
    refuses('tcp,tcp_flags=+syn+syn,actions=drop', 'tcp_flags', /given twice/);
    refuses('udp,tcp_flags=+syn,actions=drop', 'tcp_flags', /needs tcp/);
    refuses('tcp,tcp_flags=0x1000,actions=drop', 'tcp_flags', /out of range/);
  });

  it('nsh fields need dl_type=0x894f', () => {
    const nsh = 'dl_type=0x894f';
    expect(match(`${nsh},nsh_mdtype=1,nsh_np=3,nsh_spi=0x123456,nsh_si=255,nsh_ttl=63`)).toEqual({
      dl_type: { value: 0x894f },
      nsh_mdtype: { value: 1 },
      nsh_np: { value: 3 },
      nsh_spi: { value: 0x123456 },
      nsh_si: { value: 255 },
      nsh_ttl: { value: 63 },
    });
    expect(match(`${nsh},nsh_c1=1,nsh_c2=2/0xff,nsh_c3=3,nsh_c4=0xffffffff`)).toMatchObject({
      nsh_c1: { value: 1 },
      nsh_c2: { value: 2, mask: 0xff },
      nsh_c4: { value: 0xffffffff },
    });
    refuses(`${nsh},nsh_spi=0x1000000,actions=drop`, 'nsh_spi', /out of range/);
    refuses(`${nsh},nsh_ttl=64,actions=drop`, 'nsh_ttl', /out of range/);
    refuses('nsh_si=1,actions=drop', 'nsh_si', /needs nsh/);
    expect(formatMatch(match(`${nsh},nsh_spi=5`))).toBe('dl_type=0x894f,nsh_spi=5');
  });

  it('prerequisites are checked against the whole match, in any order', () => {
    expect(match('nw_src=10.0.0.1,ip')).toMatchObject({ nw_src: { value: '10.0.0.1' } });
    refuses('nw_src=10.0.0.1,actions=drop', 'nw_src', /nw_src needs ip \(dl_type=0x0800\) to be matched first/, { position: 0 });
    refuses('ipv6,nw_dst=10.0.0.1,actions=drop', 'nw_dst', /needs ip \(dl_type=0x0800\)/);
    refuses('ip,ipv6_src=::1,actions=drop', 'ipv6_src', /needs ipv6/);
    refuses('nw_proto=6,actions=drop', 'nw_proto', /needs ip or ipv6/);
    refuses('nw_tos=4,actions=drop', 'nw_tos', /needs ip or ipv6/);
    refuses('nw_ttl=4,actions=drop', 'nw_ttl', /needs ip or ipv6/);
    refuses('ip,nw_frag=yes,dl_type=0x0806,actions=drop', 'dl_type', /conflicts/);
    refuses('ip,tp_dst=80,actions=drop', 'tp_dst', /needs tcp, udp, sctp, icmp or icmp6/);
    refuses('dl_type=0x0800/0xff00,nw_proto=6,actions=drop', 'nw_proto', /needs ip or ipv6/);
    // a masked setting that agrees with the exact one leaves it exact
    expect(match('ipv6,ipv6_label=1,dl_type=0x86dd/0xfff0')).toMatchObject({ dl_type: { value: 0x86dd } });
    // a field wildcarded by a /0 mask needs nothing
    expect(match('nw_src=1.2.3.4/0')).toEqual({});
  });

  it('unknown fields and malformed keywords', () => {
    const e = refuses('in_port=1,nw_srcx=1,actions=drop', 'nw_srcx', /^unknown field 'nw_srcx'/, { position: 10 });
    expect(e.message).toBe("unknown field 'nw_srcx' in 'in_port=1,nw_srcx=1,actions=drop'");
    refuses('=5,actions=drop', '', /missing field name/);
    refuses('ip,nw_src,actions=drop', 'nw_src', /needs a value/);
    refuses('ip,nw_src=,actions=drop', 'nw_src', /needs a value/);
    refuses('importance=5,actions=drop', 'importance', /not supported/);
  });

  it('every field of the table is reachable by name', () => {
    const texts: Record<string, string> = {
      in_port: 'in_port=1',
      metadata: 'metadata=1',
      dl_src: 'dl_src=00:00:00:00:00:01',
      dl_dst: 'dl_dst=00:00:00:00:00:01',
      dl_type: 'dl_type=0x0800',
      vlan_tci: 'vlan_tci=0x1001',
      nw_src: 'ip,nw_src=1.1.1.1',
      nw_dst: 'ip,nw_dst=1.1.1.1',
      nw_proto: 'ip,nw_proto=1',
      nw_tos: 'ip,nw_tos=4',
      nw_ttl: 'ip,nw_ttl=1',
      nw_frag: 'ip,nw_frag=yes',
      ipv6_src: 'ipv6,ipv6_src=::1',
      ipv6_dst: 'ipv6,ipv6_dst=::1',
      ipv6_label: 'ipv6,ipv6_label=1',
      tp_src: 'tcp,tp_src=1',
      tp_dst: 'tcp,tp_dst=1',
      icmp_type: 'icmp,icmp_type=1',
      icmp_code: 'icmp,icmp_code=1',
      tcp_flags: 'tcp,tcp_flags=1',
      nsh_mdtype: 'dl_type=0x894f,nsh_mdtype=1',
      nsh_np: 'dl_type=0x894f,nsh_np=1',
      nsh_spi: 'dl_type=0x894f,nsh_spi=1',
      nsh_si: 'dl_type=0x894f,nsh_si=1',
      nsh_ttl: 'dl_type=0x894f,nsh_ttl=1',
      nsh_c1: 'dl_type=0x894f,nsh_c1=1',
      nsh_c2: 'dl_type=0x894f,nsh_c2=1',
      nsh_c3: 'dl_type=0x894f,nsh_c3=1',
      nsh_c4: 'dl_type=0x894f,nsh_c4=1',
      tun_id: 'tun_id=1',
    };
    for (const f of FIELDS) {
      expect(texts[f.name], f.name).toBeDefined();
      const m = match(texts[f.name]);
      const key = f.name === 'icmp_type' ? 'tp_src' : f.name === 'icmp_code' ? 'tp_dst' : f.name;
      expect(m[key], f.name).toBeDefined();
    }
  });
});

describe('actions', () => {
  it('output in every form', () => {
    expect(actions('output:3')).toEqual([{ type: 'output', port: 3 }]);
    expect(actions('output:p2')).toEqual([{ type: 'output', port: 2 }]);
    expect(actions('output=p2')).toEqual([{ type: 'output', port: 2 }]);
    expect(actions('3')).toEqual([{ type: 'output', port: 3 }]);
    expect(actions('p1')).toEqual([{ type: 'output', port: 1 }]);
    expect(actions('uplink-0')).toEqual([{ type: 'output', port: 7 }]);
    expect(actions('in_port,flood,all,local,IN_PORT,FLOOD')).toEqual([
      { type: 'output', port: PORT_IN_PORT },
      { type: 'output', port: PORT_FLOOD },
      { type: 'output', port: PORT_ALL },
      { type: 'output', port: PORT_LOCAL },
      { type: 'output', port: PORT_IN_PORT },
      { type: 'output', port: PORT_FLOOD },
    ]);
    expect(actions('output:controller')).toEqual([{ type: 'output', port: PORT_CONTROLLER }]);
    expect(formatActions(actions('output:p2,3,in_port,flood,all,local,output:controller'), names)).toBe(
      'output:p2,output:3,in_port,flood,all,local,output:controller',
    );
    expect(() => actions('output:nosuch')).toThrow(UnknownPortError);
  });

  it('controller, controller:N and controller(max_len=N) send max_len bytes (the whole frame by default)', () => {
    expect(actions('controller')).toEqual([{ type: 'controller', maxLen: 65535 }]);
    expect(actions('CONTROLLER:128')).toEqual([{ type: 'controller', maxLen: 128 }]);
    expect(actions('controller(max_len=64),output:2')).toEqual([{ type: 'controller', maxLen: 64 }, { type: 'output', port: 2 }]);
    expect(actions('controller()')).toEqual([{ type: 'controller', maxLen: 65535 }]);
    expect(formatActions(actions('controller(max_len=64)'), names)).toBe('controller(max_len=64)');
    expect(() => actions('controller:0')).toThrow(/max_len '0' must be 1\.\.65535/);
    expect(() => actions('controller:65536')).toThrow(/must be 1\.\.65535/);
    expect(() => actions('controller(max_len=x)')).toThrow(/max_len 'x'/);
    expect(() => actions('controller(reason=no_match)')).toThrow(/'reason' is not supported \(only max_len=N\)/);
    expect(() => actions('controller(max_len=1,max_len=2)')).toThrow(/given twice/);
    expect(() => actions('output:0')).toThrow(/not a port number/);
    expect(() => actions('output')).toThrow(/needs an argument/);
  });

  it('drop and the empty list', () => {
    expect(actions('drop')).toEqual([]);
    expect(actions('')).toEqual([]);
    expect(formatActions([])).toBe('drop');
    refuses('actions=drop,output:1', 'drop', /only action/);
  });

  it('mod_* actions are set_field', () => {
    expect(actions('mod_dl_src:AA:BB:CC:DD:EE:FF,mod_dl_dst:00:00:00:00:00:01')).toEqual([
      { type: 'set_field', field: 'dl_src', value: 'aa:bb:cc:dd:ee:ff' },
      { type: 'set_field', field: 'dl_dst', value: '00:00:00:00:00:01' },
    ]);
    expect(actions('mod_nw_src:10.0.0.1,mod_nw_dst:10.0.0.2,mod_tp_src:1,mod_tp_dst:65535')).toEqual([
      { type: 'set_field', field: 'nw_src', value: '10.0.0.1' },
      { type: 'set_field', field: 'nw_dst', value: '10.0.0.2' },
      { type: 'set_field', field: 'tp_src', value: 1 },
      { type: 'set_field', field: 'tp_dst', value: 65535 },
    ]);
    expect(actions('mod_vlan_vid:10,mod_vlan_pcp:3')).toEqual([
      { type: 'set_field', field: 'vlan_tci', value: 0x100a, mask: 0x1fff },
      { type: 'set_field', field: 'vlan_tci', value: 0x7000, mask: 0xf000 },
    ]);
    expect(actions('mod_nw_tos:0x20,mod_nw_ecn:1,mod_nw_ttl:9')).toEqual([
      { type: 'set_field', field: 'nw_tos', value: 0x20, mask: 0xfc },
      { type: 'set_field', field: 'nw_tos', value: 1, mask: 0x03 },
      { type: 'set_field', field: 'nw_ttl', value: 9 },
    ]);
    expect(() => actions('mod_vlan_vid:4096')).toThrow(/out of range/);
    expect(() => actions('mod_vlan_pcp:8')).toThrow(/out of range/);
    expect(() => actions('mod_nw_src:1.2.3')).toThrow(/not an IPv4 address/);
    expect(() => actions('mod_tp_src:65536')).toThrow(/out of range/);
    expect(() => actions('mod_nw_tos:3')).toThrow(/low 2 bits/);
  });

  it('VLAN push and pop', () => {
    expect(actions('push_vlan:0x8100,push_vlan:0x88a8,pop_vlan,strip_vlan')).toEqual([
      { type: 'push_vlan', tpid: 0x8100 },
      { type: 'push_vlan', tpid: 0x88a8 },
      { type: 'pop_vlan' },
      { type: 'pop_vlan' },
    ]);
    expect(() => actions('push_vlan:0x0800')).toThrow(/TPID must be 0x8100 or 0x88a8/);
    expect(() => actions('pop_vlan:1')).toThrow(/takes no argument/);
  });

  it('dec_ttl', () => {
    expect(actions('dec_ttl')).toEqual([{ type: 'dec_ttl' }]);
    expect(() => actions('dec_ttl(1,2)')).toThrow(/takes no argument/);
  });

  it('set_field of every settable field, views included', () => {
    expect(actions('set_field:5->vlan_vid,set_field:0x1005->vlan_vid,set_field:3->vlan_pcp')).toEqual([
      { type: 'set_field', field: 'vlan_tci', value: 0x1005, mask: 0x1fff },
      { type: 'set_field', field: 'vlan_tci', value: 0x1005, mask: 0x1fff },
      { type: 'set_field', field: 'vlan_tci', value: 0x7000, mask: 0xf000 },
    ]);
    expect(actions('set_field:aa:bb:cc:dd:ee:ff->dl_src,set_field:00:00:00:00:00:01->eth_dst')).toEqual([
      { type: 'set_field', field: 'dl_src', value: 'aa:bb:cc:dd:ee:ff' },
      { type: 'set_field', field: 'dl_dst', value: '00:00:00:00:00:01' },
    ]);
    expect(actions('set_field:1.2.3.4->nw_src,set_field:5.6.7.8->ipv4_dst,set_field:80->tcp_dst,set_field:53->udp_src')).toEqual([
      { type: 'set_field', field: 'nw_src', value: '1.2.3.4' },
      { type: 'set_field', field: 'nw_dst', value: '5.6.7.8' },
      { type: 'set_field', field: 'tp_dst', value: 80 },
      { type: 'set_field', field: 'tp_src', value: 53 },
    ]);
    expect(actions('set_field:0x20->nw_tos,set_field:46->ip_dscp,set_field:2->nw_ecn,set_field:0x11/0xff->nw_tos')).toEqual([
      { type: 'set_field', field: 'nw_tos', value: 0x20, mask: 0xfc },
      { type: 'set_field', field: 'nw_tos', value: 184, mask: 0xfc },
      { type: 'set_field', field: 'nw_tos', value: 2, mask: 0x03 },
      { type: 'set_field', field: 'nw_tos', value: 0x11 },
    ]);
    expect(actions('set_field:0xff->metadata,set_field:0x1/0xf->metadata,set_field:42->tun_id')).toEqual([
      { type: 'set_field', field: 'metadata', value: 0xffn },
      { type: 'set_field', field: 'metadata', value: 1n, mask: 0xfn },
      { type: 'set_field', field: 'tun_id', value: 42n },
    ]);
    expect(actions('set_field:2001:db8::1->ipv6_src,set_field:0x12345->ipv6_label,set_field:64->nw_ttl')).toEqual([
      { type: 'set_field', field: 'ipv6_src', value: '2001:db8::1' },
      { type: 'set_field', field: 'ipv6_label', value: 0x12345 },
      { type: 'set_field', field: 'nw_ttl', value: 64 },
    ]);
    expect(actions('set_field:7->nsh_spi,set_field:9->nsh_si,set_field:1->nsh_c1,set_field:0x1005->vlan_tci')).toEqual([
      { type: 'set_field', field: 'nsh_spi', value: 7 },
      { type: 'set_field', field: 'nsh_si', value: 9 },
      { type: 'set_field', field: 'nsh_c1', value: 1 },
      { type: 'set_field', field: 'vlan_tci', value: 0x1005 },
    ]);
    expect(() => actions('set_field:0x0800->dl_type')).toThrow(/field 'dl_type' cannot be set/);
    expect(() => actions('set_field:1->in_port')).toThrow(/cannot be set/);
    expect(() => actions('set_field:1->bogus')).toThrow(/unknown field 'bogus'/);
    expect(() => actions('set_field:1')).toThrow(/VALUE->FIELD/);
    expect(() => actions('set_field:::1/64->ipv6_src')).toThrow(/cannot be masked/);
    expect(() => actions('set_field:5->vlan_tci')).toThrow(/present bit/);
    expect(() => actions('set_field:8192->vlan_vid')).toThrow(/out of range/);
    expect(() => actions('set_field:1/2->vlan_vid')).toThrow(/cannot be masked/);
    expect(() => actions('set_field:0x1000000->nsh_spi')).toThrow(/out of range/);
  });

  it('goto_table must be last and name a higher table', () => {
    expect(actions('output:1,goto_table:5', 2)).toEqual([
      { type: 'output', port: 1 },
      { type: 'goto_table', table: 5 },
    ]);
    const e = refuses('table=2,priority=20,actions=goto_table:1', 'goto_table', /goto_table:1 must name a table after 2/);
    expect(e.position).toBe('table=2,priority=20,actions='.length);
    refuses('table=2,actions=goto_table:2', 'goto_table', /after 2/);
    refuses('actions=goto_table:255', 'goto_table', /out of range/);
    refuses('actions=goto_table:1,output:1', 'output', /goto_table must be the last/);
    refuses('actions=goto_table:1,goto_table:2', 'goto_table', /twice/);
    // modify of every table cannot know the table: the data plane checks
    expect(parseFlow('actions=goto_table:0', { command: 'modify' }).actions).toEqual([{ type: 'goto_table', table: 0 }]);
  });

  it('write_metadata', () => {
    expect(actions('write_metadata:0x5')).toEqual([{ type: 'write_metadata', value: 5n, mask: 0xffffffffffffffffn }]);
    expect(actions('write_metadata:0x15/0xf0,goto_table:1')).toEqual([
      { type: 'write_metadata', value: 0x10n, mask: 0xf0n },
      { type: 'goto_table', table: 1 },
    ]);
    refuses('actions=write_metadata:1,output:1', 'output', /write_metadata must follow/);
    refuses('actions=write_metadata:1,write_metadata:2', 'write_metadata', /twice/);
    refuses('actions=write_metadata:x', 'write_metadata', /not a number/);
  });

  it('meter:N runs a meter (1..65535) and reads back the same', () => {
    const f = parseFlow('table=0,priority=10,ip,actions=meter:7,output:2');
    expect(f.actions).toEqual([{ type: 'meter', meter: 7 }, { type: 'output', port: 2 }]);
    expect(formatFlowMod(f)).toMatch(/actions=meter:7,output:2$/);
    refuses('actions=meter:0,output:1', 'meter', /meter:0: meters are 1\.\.65535/);
    refuses('actions=meter:65536,output:1', 'meter', /65535/);
    refuses('actions=meter,output:1', 'meter', /needs an argument/);
  });

  it('set_queue:N parses, dumps back and bounds N', () => {
    const f = parseFlow('ip,actions=set_queue:1,output:2');
    expect(f.actions).toEqual([{ type: 'set_queue', queue: 1 }, { type: 'output', port: 2 }]);
    expect(formatFlowMod(f)).toMatch(/actions=set_queue:1,output:2$/);
    expect(parseFlow('actions=set_queue:4294967295,output:1').actions[0]).toEqual({ type: 'set_queue', queue: 4294967295 });
    refuses('actions=set_queue:4294967296,output:1', 'set_queue', /out of range \(at most 0xffffffff\)/);
    refuses('actions=set_queue,output:1', 'set_queue', /needs an argument/);
  });

  it('DSCP, ECN and PCP rewrites parse and dump back in their short forms', () => {
    const cases: [string, string][] = [
      ['set_field:46->ip_dscp', 'mod_nw_tos:184'],
      ['mod_nw_tos:184', 'mod_nw_tos:184'],
      ['set_field:1->ip_ecn', 'mod_nw_ecn:1'],
      ['set_field:5->vlan_pcp', 'mod_vlan_pcp:5'],
      ['mod_vlan_pcp:3', 'mod_vlan_pcp:3'],
    ];
    for (const [a, back] of cases) expect(formatFlowMod(parseFlow(`ip,actions=${a},output:2`)), a).toMatch(new RegExp(`actions=${back},output:2$`));
    refuses('ip,actions=set_field:64->ip_dscp,output:2', 'set_field', /ip_dscp.*63|63.*ip_dscp/);
    refuses('ip,actions=set_field:8->vlan_pcp,output:2', 'set_field', /vlan_pcp.*7|7.*vlan_pcp/);
  });

  it('actions that are not supported (yet) say so', () => {
    for (const a of ['normal', 'resubmit(,1)', 'learn(table=1)', 'load:1->NXM_OF_IN_PORT[]', 'move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]', 'ct(commit)', 'push_mpls:0x8847', 'enqueue:1:1', 'NORMAL']) {
      const text = `actions=${a}`;
      let err: unknown;
      try {
        parseFlow(text);
      } catch (e) {
        err = e;
      }
      expect(err, a).toBeInstanceOf(FlowSpecError);
      expect((err as Error).message, a).toMatch(/is not supported \(yet\)/);
    }
  });

  it('unknown actions', () => {
    refuses('actions=output:1,frob', 'frob', /unknown action 'frob'/, { position: 17 });
    refuses('actions=frob:1', 'frob', /unknown action/);
  });

  it('at most 32 actions', () => {
    const many = Array.from({ length: 33 }, () => 'dec_ttl').join(',');
    expect(() => actions(many)).toThrow(/at most 32/);
    expect(actions(Array.from({ length: 32 }, () => 'dec_ttl').join(','))).toHaveLength(32);
  });
});

describe('formatting and round trips', () => {
  const flows = [
    'table=0,priority=100,ip,in_port=p1,nw_src=10.0.0.0/24,actions=drop',
    'table=1,priority=5,cookie=0xabc,idle_timeout=30,hard_timeout=60,send_flow_rem,reset_counts,tcp,tp_dst=443,actions=output:p2',
    'table=0,priority=1,dl_vlan=5,dl_vlan_pcp=3,actions=strip_vlan,flood',
    'table=0,priority=2,vlan_tci=0x0000,actions=push_vlan:0x8100,mod_vlan_vid:10,mod_vlan_pcp:7,output:p2',
    'table=0,priority=3,icmp,icmp_type=8,icmp_code=0,nw_tos=0x10,nw_ecn=1,actions=in_port',
    'table=0,priority=4,ip,nw_frag=later,nw_src=10.1.0.0/255.255.0.255,nw_dst=10.0.0.1,nw_ttl=3,actions=mod_nw_src:1.2.3.4,set_field:5->ip_dscp,dec_ttl,write_metadata:0x5/0xff,goto_table:3',
    'table=0,priority=5,dl_src=01:00:00:00:00:00/01:00:00:00:00:00,dl_dst=aa:bb:cc:dd:ee:ff,metadata=0x10/0xf0,tun_id=5,actions=all',
    'table=0,priority=6,ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,ipv6_label=0x12345/0xfffff,actions=set_field:2001:db8::9->ipv6_dst,local',
    'table=0,priority=7,tcp6,tcp_flags=+syn-ack-rst,tp_src=0x400/0xfc00,actions=mod_tp_src:1,mod_tp_dst:2,output:7',
    'table=0,priority=8,udp,tp_src=53,actions=mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,mod_nw_dst:9.9.9.9,output:controller',
    'table=0,priority=9,dl_type=0x894f,nsh_mdtype=1,nsh_np=3,nsh_spi=0x10,nsh_si=5,nsh_ttl=9,nsh_c1=1,nsh_c2=2/0xff,nsh_c3=3,nsh_c4=4,actions=set_field:0x20->nsh_spi,set_field:4->nsh_si,set_field:9->nsh_c2',
    'table=0,priority=10,ip,nw_tos=0x11/0xff,actions=set_field:0x11/0xff->nw_tos,set_field:0x1/0xf->metadata,set_field:0x1005->vlan_tci,set_field:0x0005/0x0fff->vlan_tci',
    'table=0,priority=11,ip,nw_frag=0x01/0x01,ip_dscp=10,actions=mod_nw_ecn:2,mod_nw_ttl:5,set_field:0x7->tun_id',
    'table=0,priority=12,in_port=0x10/0xf0,arp,actions=drop',
    'table=254,priority=0,actions=drop',
    'table=0,priority=65535,in_port=local,actions=in_port',
  ];

  for (const text of flows) {
    it(`parse(format(x)) == x: ${text}`, () => {
      const f = parseFlow(text, names);
      const s = formatFlowMod(f, names);
      expect(parseFlow(s, names)).toEqual(f);
      // and without names, numbers throughout
      const n = formatFlowMod(f);
      expect(parseFlow(n)).toEqual(f);
      expect(n).not.toMatch(/\bp[12]\b/);
    });
  }

  it('formats in the ovs-ofctl order: shorthand first, port names where known', () => {
    expect(formatFlowMod(parseFlow('nw_src=10.0.0.0/24,in_port=p1,ip,priority=100,actions=output:2', names), names)).toBe(
      'table=0,priority=100,ip,in_port=p1,nw_src=10.0.0.0/24,actions=output:p2',
    );
    expect(formatFlowMod(parseFlow('in_port=9,actions=output:9', names), names)).toBe('table=0,priority=32768,in_port=9,actions=output:9');
  });

  it('formats modify and delete filters with cookie masks and out_port', () => {
    const f = parseFlow('table=1,cookie=0x1/0xff,out_port=p2,ip', { ...names, command: 'delete' });
    expect(formatFlowMod(f, names)).toBe('table=1,priority=32768,cookie=0x1/0xff,out_port=p2,ip');
    expect(parseFlow(formatFlowMod(f, names), { ...names, command: 'delete' })).toEqual(f);
  });

  it('formats a dumped entry as ovs-ofctl dump-flows does', () => {
    const f = parseFlow('table=0,priority=100,in_port=p1,ip,nw_src=10.0.0.0/24,actions=drop', names);
    const line = formatFlowEntry(
      { ...f, cookie: 0n, stats: { packets: 5n, bytes: 490n, durationNs: 1234000000n, idleNs: 0n } },
      names,
    );
    expect(line).toBe('cookie=0x0, duration=1.234s, table=0, n_packets=5, n_bytes=490, priority=100,ip,in_port=p1,nw_src=10.0.0.0/24 actions=drop');
    expect(parseFlow(line, names)).toEqual(f);
    const g = parseFlow('idle_timeout=5,send_flow_rem,actions=output:1');
    expect(formatFlowEntry({ ...g, cookie: 0x10n, stats: { packets: 0n, bytes: 0n, durationNs: 0n, idleNs: 0n } })).toBe(
      'cookie=0x10, duration=0.000s, table=0, n_packets=0, n_bytes=0, idle_timeout=5, send_flow_rem, priority=32768 actions=output:1',
    );
  });

  it('canonical forms: matches from the addon in any value form are the same entry', () => {
    const ours = parseFlow('table=0,priority=1,ip,nw_src=10.0.0.0/24,metadata=0x5,dl_src=AA:00:00:00:00:01,actions=output:1');
    const dumped = {
      table: 0,
      priority: 1,
      cookie: 0n,
      match: {
        dl_type: { value: '2048' as unknown as number },
        nw_src: { value: '10.0.0.0', mask: '255.255.255.0' },
        metadata: { value: '0x5' },
        dl_src: { value: 'aa:00:00:00:00:01', mask: 'ff:ff:ff:ff:ff:ff' },
        ipv6_label: { value: 3, mask: 0 },
      },
      actions: [{ type: 'output' as const, port: 1 }],
      idleTimeout: 0,
      hardTimeout: 0,
      flags: 0,
      stats: { packets: 0n, bytes: 0n, durationNs: 0n, idleNs: 0n },
    };
    const back = entryToFlowMod(dumped);
    expect(flowKey(back)).toBe(flowKey(ours));
    expect(back).toEqual(ours);
    expect(back.match.dl_src).toEqual({ value: 'aa:00:00:00:00:01' });
    expect(back.match.ipv6_label).toBeUndefined();
  });
});

describe('gRPC parts and files', () => {
  it('parseFlowParts: match and actions apart; errors name the match text', () => {
    expect(parseFlowParts({ match: 'ip,in_port=p1', actions: 'output:p2', priority: 10, table: 1 }, names)).toEqual(
      parseFlow('table=1,priority=10,ip,in_port=p1,actions=output:p2', names),
    );
    expect(() => parseFlowParts({ match: 'in_port=1,nw_srcx=1', actions: 'drop' })).toThrow("unknown field 'nw_srcx' in 'in_port=1,nw_srcx=1'");
    expect(() => parseFlowParts({ match: 'ip', actions: 'output:9,frob' })).toThrow("unknown action 'frob' in 'output:9,frob'");
    expect(() => parseFlowParts({ match: 'table=1', table: 2, actions: '' })).toThrow(/table given twice/);
    expect(parseFlowParts({ match: 'table=1', table: 1, actions: '' })).toMatchObject({ table: 1 });
    expect(() => parseFlowParts({ match: 'table=3', actions: 'goto_table:2' })).toThrow(/after 3/);
    expect(() => parseFlowParts({ match: 'ip,actions=drop' })).toThrow(/actions belong in the actions/);
    expect(() => parseFlowParts({ match: '', table: 255 })).toThrow(/out of range/);
    expect(() => parseFlowParts({ match: '', flags: 8 })).toThrow(/unknown bits/);
    expect(parseFlowParts({ match: '', cookie: 5n, idleTimeout: 3, flags: 1 })).toMatchObject({ cookie: 5n, idleTimeout: 3, flags: 1 });
    expect(parseFlowParts({ match: 'ip', cookie: 1n, cookieMask: 0xffn }, { command: 'delete' })).toMatchObject({ cookie: 1n, cookieMask: 0xffn });
    expect(() => parseFlowParts({ match: 'ip', cookie: 1n }, { command: 'delete' })).toThrow(/cookie_mask/);
    expect(parseFlowParts({ match: 'cookie=0x2/0xf', cookie: 0n, cookieMask: 0n }, { command: 'delete' })).toMatchObject({ cookie: 2n, cookieMask: 0xfn });
    expect(parseFlowParts({ match: '', outPort: 'p2' }, { ...names, command: 'delete' })).toMatchObject({ outPort: 2 });
    expect(() => parseFlowParts({ match: '', actions: 'drop' }, { command: 'delete' })).not.toThrow();
    expect(() => parseFlowParts({ match: '', actions: 'output:1' }, { command: 'delete' })).toThrow(/takes no actions/);
  });

  it('splitFlowText', () => {
    expect(splitFlowText('table=1,ip,actions=output:1,output:2')).toEqual({ match: 'table=1,ip', actions: 'output:1,output:2' });
    expect(splitFlowText('ip actions=drop')).toEqual({ match: 'ip', actions: 'drop' });
    expect(splitFlowText('ip')).toEqual({ match: 'ip' });
    expect(splitFlowText('actions=')).toEqual({ match: '', actions: '' });
  });

  it('a flow file: comments, blank lines, continuations, command words', () => {
    const file = [
      '# the switch',
      '',
      'table=0,priority=100,ip,\\',
      '   in_port=p1,actions=output:p2   # forward',
      'table=0,priority=0,actions=drop',
      '   ',
      'delete_strict table=0,priority=5,arp',
      'modify ip,actions=drop',
      'add in_port=p2,\\',
      '\\',
      'actions=output:p1',
    ].join('\n');
    const lines = splitFlowFile(file);
    expect(lines).toEqual([
      { line: 3, text: 'table=0,priority=100,ip,   in_port=p1,actions=output:p2' },
      { line: 5, text: 'table=0,priority=0,actions=drop' },
      { line: 7, text: 'delete_strict table=0,priority=5,arp' },
      { line: 8, text: 'modify ip,actions=drop' },
      { line: 9, text: 'add in_port=p2,actions=output:p1' },
    ]);
    const mods = lines.map((l) => parseFlowLine(l.text, names));
    expect(mods.map((m) => m.command)).toEqual(['add', 'add', 'delete_strict', 'modify', 'add']);
    expect(mods[0].match).toEqual({ in_port: { value: 1 }, dl_type: { value: 0x800 } });
    expect(mods[4].actions).toEqual([{ type: 'output', port: 1 }]);
    expect(splitFlowFile('ip,\\')).toEqual([{ line: 1, text: 'ip,' }]);
    expect(splitFlowFile('\r\nip,actions=drop\r\n')).toEqual([{ line: 2, text: 'ip,actions=drop' }]);
  });
});

describe('the field table', () => {
  it('agrees with itself and reports differences', () => {
    expect(compareFieldTables(FIELDS)).toEqual([]);
    const changed = FIELDS.map((f) => (f.name === 'nw_src' ? { ...f, prereq: 'ip' as const } : f)).filter((f) => f.name !== 'tun_id');
    expect(compareFieldTables([...changed, { id: 99, name: 'frob', kind: 'u8', width: 1, prereq: 'none', settable: false }])).toEqual([
      'field nw_src: prereq is ip in the addon, ipv4 here',
      'field tun_id is missing from the addon',
      'field frob is unknown here',
    ]);
  });
});

describe('the simple-line parser (fast.ts) agrees with the general one', () => {
  // Tokens the simple parser takes, and near misses it must leave to the general parser.
  const pick = <T,>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const octet = (r: () => number) => pick(r, ['0', '1', '10', '010', '127', '255', '256', String(Math.floor(r() * 256))]);
  const addr = (r: () => number) => `${octet(r)}.${octet(r)}.${octet(r)}.${octet(r)}`;
  const tokens: ((r: () => number) => string)[] = [
    (r) => `table=${pick(r, ['0', '1', '7', '254', '255', 'x', '01'])}`,
    (r) => `priority=${pick(r, ['0', '100', '65535', '65536', '32768', ''])}`,
    (r) => pick(r, ['ip', 'tcp', 'udp', 'icmp', 'sctp', 'arp', 'ipv6', 'tcp6', 'udp6', 'icmp6', 'ip,ip']),
    (r) => `nw_src=${addr(r)}${pick(r, ['', '', '/24', '/16', '/0', '/32', '/33', '/8', '/255.255.0.0', '/024'])}`,
    (r) => `${pick(r, ['nw_dst', 'ip_dst'])}=${addr(r)}${pick(r, ['', '/24', '/1', '/31'])}`,
    (r) => `${pick(r, ['tp_src', 'tp_dst'])}=${pick(r, ['0', '80', '65535', '65536', '0x50', '0X1f', '-1', '1/0xff'])}`,
    (r) => `${pick(r, ['dl_dst', 'dl_src', 'eth_src'])}=${pick(r, ['02:00:00:00:00:01', '02:00:00:00:00:0A', '2:0:0:0:0:1', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00'])}`,
    (r) => `${pick(r, ['dl_type', 'eth_type'])}=${pick(r, ['0x0800', '0x86dd', '2048', '0x894f', '0x10000'])}`,
    (r) => `${pick(r, ['nw_proto', 'ip_proto'])}=${pick(r, ['6', '17', '1', '256', '0x11'])}`,
    (r) => `in_port=${pick(r, ['1', '2', '0', '4294967040', '4294967041', 'p1', 'local'])}`,
    (r) => `cookie=${pick(r, ['0', '0x10', '123', '0xffffffffffffffff', '0x1/0xf', '18446744073709551616'])}`,
    (r) => `${pick(r, ['idle_timeout', 'hard_timeout'])}=${pick(r, ['0', '10', '65535', '65536'])}`,
    (r) => pick(r, ['send_flow_rem', 'dl_vlan=5', 'nw_tos=4', 'tcp_flags=+syn', 'metadata=0x1', 'vlan_pcp=3']),
  ];
  const actions = ['drop', 'output:2', 'goto_table:3', 'output:1,output:2', 'mod_nw_dst:10.0.0.1,output:2', 'goto_table:0', 'output:p2', 'controller'];

  it('on 40,000 random add lines: the same flow-mod and identity key, or it declines', () => {
    let seed = 0x5eed;
    const r = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const ports = { resolvePort: (n: string) => (n === 'p1' ? 1 : n === 'p2' ? 2 : undefined) };
    let taken = 0;
    for (let i = 0; i < 40_000; i++) {
      const parts = Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(r, tokens)(r));
      const text = `${parts.join(r() < 0.05 ? ' ' : ',')},actions=${pick(r, actions)}`;
      const fastKey = { key: '' };
      const fast = parseSimpleAdd(text, ports, fastKey);
      let general: FlowMod | Error;
      const generalKey = { key: '' };
      try {
        general = parseFlowGeneral(text, ports, generalKey);
      } catch (e) {
        general = e as Error;
      }
      if (!fast) continue;
      taken++;
      expect(general, text).not.toBeInstanceOf(Error);
      expect(fast, text).toEqual(general);
      expect(fastKey.key, text).toBe(generalKey.key);
      expect(fastKey.key, text).toBe(flowKey(general as FlowMod));
    }
    // it must take a good share of them, or this test proves nothing
    expect(taken).toBeGreaterThan(2_500);
  });

  it('takes the lines of an ACL file, and declines what it does not know', () => {
    expect(parseSimpleAdd('table=0,priority=300,tcp,nw_src=10.1.2.0/24,nw_dst=172.16.0.9,tp_dst=80,actions=goto_table:1', {})).toBeDefined();
    expect(parseSimpleAdd('priority=5,in_port=1,dl_dst=02:00:00:00:00:01,actions=output:2', {})).toBeDefined();
    expect(parseSimpleAdd('in_port=p1,actions=drop', {})).toBeUndefined(); // a port name
    expect(parseSimpleAdd('ip,nw_src=10.0.0.0/255.0.0.0,actions=drop', {})).toBeUndefined(); // a dotted mask
    expect(parseSimpleAdd('tp_dst=80,actions=drop', {})).toBeUndefined(); // an unmet prerequisite: the general parser says so
    expect(() => parseFlow('tp_dst=80,actions=drop')).toThrow(/tp_dst needs tcp, udp, sctp, icmp or icmp6/);
  });
});
