/**
 * One line that says what a frame is, in the manner of `tcpdump -e -n`:
 *
 *   02:00:00:00:00:01 > 02:00:00:00:00:02, vlan 10, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64
 *
 * For packet-in events (a person watching `switchyard events` wants to see
 * what arrived without a decoder at hand).  It reads Ethernet, 802.1Q/802.1ad
 * tags, ARP, IPv4, IPv6 (no extension headers), TCP, UDP, ICMP and ICMPv6;
 * what it does not know, or a header cut short (a packet-in holds only the
 * first max_len bytes), ends the line with what was read so far. It never
 * throws: any bytes give a line.
 */
import { formatIpv6 } from './values';

function mac(b: Buffer, o: number): string {
  return [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** The 16 bytes at o as IPv6 text (RFC 5952, as flows print it). */
function ipv6(b: Buffer, o: number): string {
  return formatIpv6(BigInt(`0x${b.subarray(o, o + 16).toString('hex')}`));
}

const ICMP_TYPES: Record<number, string> = { 0: 'echo reply', 3: 'unreachable', 5: 'redirect', 8: 'echo request', 11: 'time exceeded' };
const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable',
  3: 'time exceeded',
  128: 'echo request',
  129: 'echo reply',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
};

const TCP_FLAGS: [number, string][] = [
  [0x02, 'S'],
  [0x01, 'F'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

/** The L4 part: `src` and `dst` are the addresses, `o` the L4 header, `len` the L4 length. */
function l4(b: Buffer, o: number, proto: number, src: string, dst: string, len: number, v6: boolean): string {
  const have = b.length - o;
  switch (proto) {
    case 6: {
      if (have < 20) return `${src} > ${dst}: TCP (cut short)`;
      let flags = TCP_FLAGS.filter(([bit]) => b[o + 13] & bit)
        .map(([, c]) => c)
        .join('');
      if (b[o + 13] & 0x10) flags += '.';
      const hdr = (b[o + 12] >> 4) * 4;
      return `${src}.${b.readUInt16BE(o)} > ${dst}.${b.readUInt16BE(o + 2)}: Flags [${flags || 'none'}], seq ${b.readUInt32BE(o + 4)}, length ${Math.max(0, len - hdr)}`;
    }
    case 17:
      if (have < 8) return `${src} > ${dst}: UDP (cut short)`;
      return `${src}.${b.readUInt16BE(o)} > ${dst}.${b.readUInt16BE(o + 2)}: UDP, length ${Math.max(0, b.readUInt16BE(o + 4) - 8)}`;
    case 1:
    case 58: {
      if (v6 !== (proto === 58)) break; // ICMP inside IPv6 or ICMPv6 inside IPv4: just a protocol number
      const name = v6 ? 'ICMP6' : 'ICMP';
      if (have < 4) return `${src} > ${dst}: ${name} (cut short)`;
      const type = b[o];
      const what = (v6 ? ICMP6_TYPES : ICMP_TYPES)[type] ?? `type ${type}, code ${b[o + 1]}`;
      const echo = v6 ? type === 128 || type === 129 : type === 0 || type === 8;
      const idSeq = echo && have >= 8 ? `, id ${b.readUInt16BE(o + 4)}, seq ${b.readUInt16BE(o + 6)}` : '';
      return `${src} > ${dst}: ${name} ${what}${idSeq}, length ${len}`;
    }
  }
  return `${src} > ${dst}: ip-proto-${proto} ${len}`;
}

/** The one-line description of frame (see above). */
export function frameSummary(frame: Buffer): string {
  const b = frame;
  if (b.length < 14) return `${b.length} bytes (shorter than an Ethernet header)`;
  const parts = [`${mac(b, 6)} > ${mac(b, 0)}`];
  let o = 12;
  let type = b.readUInt16BE(o);
  while ((type === 0x8100 || type === 0x88a8) && b.length >= o + 6) {
    const tci = b.readUInt16BE(o + 2);
    parts.push(`vlan ${tci & 0xfff}${tci >> 13 ? ` p ${tci >> 13}` : ''}`);
    o += 4;
    type = b.readUInt16BE(o);
  }
  o += 2;
  const head = parts.join(', ');
  if (type === 0x0806) {
    if (b.length < o + 28) return `${head}, ARP (cut short)`;
    const op = b.readUInt16BE(o + 6);
    if (op === 1) return `${head}, ARP, Request who-has ${ipv4(b, o + 24)} tell ${ipv4(b, o + 14)}, length ${b.length - o}`;
    if (op === 2) return `${head}, ARP, Reply ${ipv4(b, o + 14)} is-at ${mac(b, o + 8)}, length ${b.length - o}`;
    return `${head}, ARP, op ${op}`;
  }
  if (type === 0x0800) {
    if (b.length < o + 20) return `${head}, IPv4 (cut short)`;
    const ihl = (b[o] & 0x0f) * 4;
    const total = b.readUInt16BE(o + 2);
    const src = ipv4(b, o + 12);
    const dst = ipv4(b, o + 16);
    const frag = b.readUInt16BE(o + 6) & 0x1fff;
    if (frag) return `${head}, IPv4 ${src} > ${dst}: fragment offset ${frag * 8}, length ${total}`;
    return `${head}, IPv4 ${l4(b, o + ihl, b[o + 9], src, dst, total - ihl, false)}`;
  }
  if (type === 0x86dd) {
    if (b.length < o + 40) return `${head}, IPv6 (cut short)`;
    return `${head}, IPv6 ${l4(b, o + 40, b[o + 6], ipv6(b, o + 8), ipv6(b, o + 24), b.readUInt16BE(o + 4), true)}`;
  }
  if (type === 0x894f) return `${head}, NSH, length ${b.length - o}`;
  if (type < 0x0600) return `${head}, 802.3, length ${type}`;
  return `${head}, ethertype 0x${type.toString(16).padStart(4, '0')}, length ${b.length}`;
}
