/**
 * Frames from microflows (src/flowspec/packet.ts): each frame is decoded by
 * tshark, with checksum validation on, and must say exactly what the flow
 * text said, with every length and checksum right; and the text that does
 * not name one packet (masks, prefixes, open flags, no in_port, fields that
 * are not in a frame) is refused with a FlowSpecError naming the field.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FlowSpecError, UnknownPortError, buildFrame, inetChecksum, packetFromFlow, parseMicroflow } from '../../src/flowspec';
import { writePcap } from '../helpers/traffic';

const PORTS = { resolvePort: (n: string) => ({ p1: 1, p2: 2 })[n] };
const TSHARK = '/usr/bin/tshark';
const dir = mkdtempSync(join(tmpdir(), 'sy-packet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** tshark's fields of one frame, checksums validated (status 1: good). */
async function decode(frame: Buffer, fields: string[]): Promise<Record<string, string>> {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.pcap`);
  await writePcap(file, [frame]);
  const prefs = [...['ip', 'tcp', 'udp'].flatMap((p) => ['-o', `${p}.check_checksum:TRUE`]), '-o', 'sctp.checksum:CRC-32C'];
  const out = execFileSync(TSHARK, ['-n', '-r', file, ...prefs, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const values = out.replace(/\n$/, '').split('\t');
  return Object.fromEntries(fields.map((f, i) => [f, values[i] ?? '']));
}

describe('parseMicroflow', () => {
  it('takes the port and the exact fields', () => {
    const mf = parseMicroflow('in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80', PORTS);
    expect(mf.inPort).toBe(1);
    expect(mf.bits.get('nw_dst')).toEqual({ value: 0x0a000002n, mask: 0xffffffffn });
    expect(mf.bits.get('tp_dst')).toEqual({ value: 80n, mask: 0xffffn });
    expect(parseMicroflow('in_port=7').inPort).toBe(7);
  });

  const refused: [string, string, RegExp][] = [
    ['tcp,tp_dst=80', 'in_port', /in_port is required/],
    ['in_port=p1,ip,nw_src=10.0.0.0/24', 'nw_src', /exact values, not a mask or prefix \('10\.0\.0\.0\/24'\)/],
    ['in_port=p1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00', 'dl_dst', /not a mask/],
    ['in_port=p1,tcp,tcp_flags=+syn', 'tcp_flags', /leaves flags open/],
    ['in_port=p1,ip,nw_frag=yes', 'nw_frag', /not one packet/],
    ['in_port=p1,metadata=5', 'metadata', /pipeline state/],
    ['in_port=p1,tun_id=5', 'tun_id', /not a field of a frame/],
    ['in_port=p1,priority=5', 'priority', /'priority' is not a packet field/],
    ['in_port=p1,actions=drop', 'actions', /no actions/],
    ['in_port=p1,tp_dst=80', 'tp_dst', /needs tcp, udp, sctp, icmp or icmp6/],
    ['in_port=p1,dl_type=0x8100', 'dl_type', /VLAN tag's type/],
    ['in_port=p1,ip,nw_frag=later,udp,tp_dst=5', 'tp_dst', /later fragment .* has no L4 header/],
    ['in_port=p1,ip,nw_ttl=300', 'nw_ttl', /out of range/],
  ];
  it.each(refused)('refuses %s, naming %s', (text, field, message) => {
    let err: unknown;
    try {
      parseMicroflow(text, PORTS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlowSpecError);
    expect((err as FlowSpecError).field).toBe(field);
    expect((err as FlowSpecError).message).toMatch(message);
  });

  it('an unknown port name is an UnknownPortError', () => {
    expect(() => parseMicroflow('in_port=p9,ip', PORTS)).toThrow(UnknownPortError);
  });
});

describe('inetChecksum', () => {
  it('is RFC 1071 over an even and an odd number of bytes', () => {
    // RFC 1071's example: 0001 f203 f4f5 f6f7 sums to ddf2
    expect(inetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).toBe(~0xddf2 & 0xffff);
    expect(inetChecksum(Buffer.from('0001f2', 'hex'), Buffer.from('03f4f5f6f7', 'hex'))).toBe(~0xddf2 & 0xffff);
  });
});

describe.skipIf(!existsSync(TSHARK))('frames, as tshark decodes them', () => {
  it('TCP over IPv4: addresses, ports, flags, TTL, TOS, lengths and checksums', async () => {
    const { inPort, frame } = packetFromFlow(
      'in_port=p1,tcp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=80,tcp_flags=syn|ack,nw_ttl=9,ip_dscp=46',
      PORTS,
    );
    expect(inPort).toBe(1);
    expect(frame.length).toBe(60); // 54 bytes of headers, padded
    expect(
      await decode(frame, ['eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ip.len', 'ip.ttl', 'ip.dsfield.dscp', 'ip.checksum.status', 'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'tcp.hdr_len', 'tcp.checksum.status']),
    ).toEqual({
      'eth.src': '02:00:00:00:00:01',
      'eth.dst': '02:00:00:00:00:02',
      'ip.src': '10.0.0.1',
      'ip.dst': '10.0.0.2',
      'ip.len': '40',
      'ip.ttl': '9',
      'ip.dsfield.dscp': '46',
      'ip.checksum.status': '1',
      'tcp.srcport': '1234',
      'tcp.dstport': '80',
      'tcp.flags': '0x0012',
      'tcp.hdr_len': '20',
      'tcp.checksum.status': '1',
    });
  });

  it('the IPv4 header checksum verifies', () => {
    const { frame } = packetFromFlow('in_port=1,udp,nw_src=192.168.1.1,nw_dst=8.8.8.8,tp_dst=53');
    expect(inetChecksum(frame.subarray(14, 34))).toBe(0); // a header with its checksum sums to 0xffff
  });

  it('defaults: zero MACs and addresses, TTL 64, ports 0', async () => {
    const { frame } = packetFromFlow('in_port=1,udp');
    expect(await decode(frame, ['eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ip.ttl', 'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum.status'])).toEqual({
      'eth.src': '00:00:00:00:00:00',
      'eth.dst': '00:00:00:00:00:00',
      'ip.src': '0.0.0.0',
      'ip.dst': '0.0.0.0',
      'ip.ttl': '64',
      'udp.srcport': '0',
      'udp.dstport': '0',
      'udp.length': '8',
      'udp.checksum.status': '1',
    });
  });

  it('an 802.1Q tag from dl_vlan and dl_vlan_pcp', async () => {
    const { frame } = packetFromFlow('in_port=1,dl_vlan=10,dl_vlan_pcp=5,udp,nw_dst=10.0.0.2,tp_dst=7');
    expect(frame.readUInt16BE(12)).toBe(0x8100);
    expect(await decode(frame, ['vlan.id', 'vlan.priority', 'vlan.etype', 'ip.dst', 'udp.dstport', 'udp.checksum.status'])).toEqual({
      'vlan.id': '10',
      'vlan.priority': '5',
      'vlan.etype': '0x0800',
      'ip.dst': '10.0.0.2',
      'udp.dstport': '7',
      'udp.checksum.status': '1',
    });
  });

  it('UDP and ICMPv6 over IPv6, with a flow label and hop limit', async () => {
    const udp = packetFromFlow('in_port=1,udp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,tp_src=5,tp_dst=6,ipv6_label=0x12345,nw_ttl=3').frame;
    expect(await decode(udp, ['ipv6.src', 'ipv6.dst', 'ipv6.flow', 'ipv6.hlim', 'ipv6.plen', 'udp.srcport', 'udp.dstport', 'udp.checksum.status'])).toEqual({
      'ipv6.src': '2001:db8::1',
      'ipv6.dst': '2001:db8::2',
      'ipv6.flow': '0x012345',
      'ipv6.hlim': '3',
      'ipv6.plen': '8',
      'udp.srcport': '5',
      'udp.dstport': '6',
      'udp.checksum.status': '1',
    });
    const icmp = packetFromFlow('in_port=1,icmp6,ipv6_src=fe80::1,ipv6_dst=ff02::1,icmp_type=128,icmp_code=0').frame;
    expect(await decode(icmp, ['icmpv6.type', 'icmpv6.code', 'icmpv6.checksum.status'])).toEqual({
      'icmpv6.type': '128',
      'icmpv6.code': '0',
      'icmpv6.checksum.status': '1',
    });
  });

  it('ICMP echo, SCTP and ARP', async () => {
    const icmp = packetFromFlow('in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=8,icmp_code=0').frame;
    expect(await decode(icmp, ['icmp.type', 'icmp.code', 'icmp.checksum.status'])).toEqual({ 'icmp.type': '8', 'icmp.code': '0', 'icmp.checksum.status': '1' });
    const sctp = packetFromFlow('in_port=1,sctp,tp_src=100,tp_dst=200').frame;
    expect(await decode(sctp, ['sctp.srcport', 'sctp.dstport', 'sctp.checksum.status'])).toEqual({ 'sctp.srcport': '100', 'sctp.dstport': '200', 'sctp.checksum.status': '1' });
    const arp = packetFromFlow('in_port=1,arp,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff').frame;
    expect(await decode(arp, ['arp.opcode', 'arp.src.hw_mac', 'arp.proto.type'])).toEqual({ 'arp.opcode': '1', 'arp.src.hw_mac': '02:00:00:00:00:01', 'arp.proto.type': '0x0800' });
  });

  it('fragments: the first has MF and its L4 header, a later one an offset and none', async () => {
    const first = packetFromFlow('in_port=1,udp,nw_frag=first,tp_dst=9').frame;
    expect(await decode(first, ['ip.flags.mf', 'ip.frag_offset'])).toEqual({ 'ip.flags.mf': '1', 'ip.frag_offset': '0' });
    const later = packetFromFlow('in_port=1,udp,nw_frag=later').frame;
    expect(later.readUInt16BE(14 + 2)).toBe(20); // the IP header alone
    // tshark counts the offset in 8-byte units: 185 is 1480 bytes
    expect(await decode(later, ['ip.flags.mf', 'ip.frag_offset'])).toEqual({ 'ip.flags.mf': '0', 'ip.frag_offset': '185' });
  });

  it('no dl_type: an 802.3 frame; another type: its header and zeros', async () => {
    const raw = packetFromFlow('in_port=1,dl_dst=01:80:c2:00:00:0e').frame;
    expect(raw.length).toBe(60);
    expect(raw.readUInt16BE(12)).toBe(46); // a length, which the data plane reads as dl_type 0x05ff
    const lldp = buildFrame(parseMicroflow('in_port=1,dl_type=0x88cc').bits);
    expect(lldp.readUInt16BE(12)).toBe(0x88cc);
    expect(lldp.subarray(14).every((b) => b === 0)).toBe(true);
  });
});
