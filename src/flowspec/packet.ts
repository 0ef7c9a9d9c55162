/**
 * Packets from flow text: a microflow in match syntax
 * (`in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80`) made into
 * the Ethernet frame it describes, for `switchyard trace` (ovs-appctl
 * ofproto/trace does the same with flow_compose()).
 *
 * A microflow names one packet, so every field is exact: a mask, a prefix
 * or a keyword that leaves bits open (`tcp_flags=+syn`, `nw_frag=yes`) is
 * refused, naming the field; so are the fields that are not bytes of a
 * frame (metadata, tun_id) and those the data plane does not parse (NSH).
 * in_port is required: it says where the frame arrives.
 *
 * The frame (every length and checksum right, padded with zeros to the
 * 60-byte Ethernet minimum):
 *   Ethernet  dl_dst, dl_src (default 00:00:00:00:00:00); an 802.1Q tag
 *             (TPID 0x8100) when dl_vlan/dl_vlan_pcp/vlan_tci say there is
 *             one; then dl_type. No dl_type: an 802.3 frame (a length in
 *             place of the type, which the data plane reads as 0x05ff).
 *   IPv4      nw_src, nw_dst (default 0.0.0.0), nw_proto (default 0),
 *             nw_tos/ip_dscp/nw_ecn, nw_ttl (default 64), id 0, no options;
 *             nw_frag=first sets MF, nw_frag=later an offset of 1480 bytes
 *             (and no L4 header).
 *   IPv6      ipv6_src, ipv6_dst (default ::), ipv6_label, traffic class,
 *             hop limit (default 64); a fragment header for nw_frag.
 *   L4        TCP (tp_src, tp_dst, tcp_flags; seq, ack and window 0), UDP,
 *             SCTP (CRC32c), ICMP and ICMPv6 (icmp_type, icmp_code; 4 more
 *             zero bytes, the echo id and sequence): the header alone, no
 *             payload.
 *   ARP       a request from dl_src (the key has no ARP fields).
 * Any other dl_type: its Ethernet header, then zeros.
 */
import type { FieldValue } from '../mgmt/addon-types';
import { fail, FlowSpecError, Site } from './errors';
import { splitTokens } from './actions';
import { FIELD_BY_NAME } from './fields';
import { checkPrereqs, isMatchKeyword, MatchBits, MatchBuilder, parseMatchKeyword, PortNames } from './match';
import { formatOfKind, fromAny, hex } from './values';

export const ETH_MIN_FRAME = 60; // without the FCS
/** The largest frame a trace takes: SY_TRACE_FRAME_MAX, MTU 9600 plus Ethernet and two VLAN tags. */
export const TRACE_FRAME_MAX = 9600 + 14 + 8;

/** Fields a frame cannot carry, or the data plane does not read from one. */
const NOT_IN_A_PACKET: Readonly<Record<string, string>> = {
  metadata: 'is pipeline state, not a packet field (every packet starts with metadata 0)',
  tun_id: 'is not a field of a frame the data plane parses',
};

/** A microflow: the port it arrives on and its fields, all exact. */
export interface Microflow {
  inPort: number;
  bits: MatchBits;
}

/**
 * Parses a microflow. Throws FlowSpecError naming the field at fault (an
 * UnknownPortError for a port name `ports` does not know).
 */
export function parseMicroflow(text: string, ports: PortNames = {}): Microflow {
  const mb = new MatchBuilder();
  try {
    for (const tok of splitTokens(text)) {
      const eq = tok.text.indexOf('=');
      const key = eq < 0 ? tok.text : tok.text.slice(0, eq);
      const value = eq < 0 ? undefined : tok.text.slice(eq + 1);
      const site: Site = { field: key, position: tok.pos, text };
      if (key === '') fail(`missing field name before '='`, site);
      if (!isMatchKeyword(key)) {
        if (key === 'actions') fail('a packet to trace has no actions', site);
        fail(`'${key}' is not a packet field`, site);
      }
      if (value !== undefined && value.includes('/')) {
        fail(`${key}: a packet has exact values, not a mask or prefix ('${value}')`, site);
      }
      if (key === 'tcp_flags' && value !== undefined && /^[+-]/.test(value)) {
        fail(`${key}: '${value}' leaves flags open; give them all (tcp_flags=syn|ack, or 0)`, site);
      }
      if ((key === 'nw_frag' || key === 'ip_frag') && (value === 'yes' || value === 'not_later')) {
        fail(`${key}: '${value}' is not one packet; use no, first or later`, site);
      }
      if (key in NOT_IN_A_PACKET) fail(`${key} ${NOT_IN_A_PACKET[key]}`, site);
      if (key.startsWith('nsh_')) fail(`${key}: NSH packets cannot be traced from flow text yet; give the frame in hex`, site);
      parseMatchKeyword(mb, key, value, site, ports);
    }
    checkPrereqs(mb);
  } catch (e) {
    if (e instanceof FlowSpecError) throw e;
    throw new FlowSpecError(`cannot parse: ${(e as Error)?.message ?? String(e)}`, '', 0, text);
  }
  const bits = mb.bits;
  const at = (name: string): Site => ({ field: name, position: Math.max(0, text.indexOf(name)), text });
  const inPort = bits.get('in_port');
  if (!inPort) fail('in_port is required: the port the packet arrives on (in_port=NAME)', { field: 'in_port', position: 0, text });
  const type = bits.get('dl_type')?.value;
  if (type === 0x8100n || type === 0x88a8n || type === 0x9100n) {
    fail(`dl_type: 0x${type.toString(16)} is a VLAN tag's type; give the tag with dl_vlan=VID`, at('dl_type'));
  }
  const frag = bits.get('nw_frag');
  if (frag && frag.mask !== 3n) fail('nw_frag: give no, first or later', at('nw_frag'));
  if (frag?.value === 3n) {
    for (const f of ['tp_src', 'tp_dst', 'tcp_flags']) {
      if (bits.has(f)) fail(`${f}: a later fragment (nw_frag=later) has no L4 header`, at(f));
    }
  }
  return { inPort: Number(inPort.value), bits };
}

/** A microflow's frame and port (parseMicroflow, then buildFrame). */
export function packetFromFlow(text: string, ports: PortNames = {}): { inPort: number; frame: Buffer } {
  const mf = parseMicroflow(text, ports);
  return { inPort: mf.inPort, frame: buildFrame(mf.bits) };
}

// ---------------------------------------------------------------- frames

function bigBytes(v: bigint, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = n - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/** The Internet checksum (RFC 1071) of the buffers, as one sum. */
export function inetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      if (odd === undefined) odd = p[i];
      else {
        sum += (odd << 8) | p[i];
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** CRC32c (Castagnoli), as SCTP's checksum (RFC 3309), bit by bit. */
function crc32c(b: Buffer): number {
  let crc = 0xffffffff;
  for (let i = 0; i < b.length; i++) {
    crc ^= b[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** The L4 header of proto with these fields; checksum left 0 (see l4Checksum). */
function l4Header(proto: number, get: (f: string) => bigint | undefined): Buffer {
  const sport = Number(get('tp_src') ?? 0n);
  const dport = Number(get('tp_dst') ?? 0n);
  switch (proto) {
    case 6: {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(sport, 0);
      h.writeUInt16BE(dport, 2);
      h.writeUInt16BE((5 << 12) | Number(get('tcp_flags') ?? 0n), 12); // data offset 5, then the flags
      return h;
    }
    case 17: {
      const h = Buffer.alloc(8);
      h.writeUInt16BE(sport, 0);
      h.writeUInt16BE(dport, 2);
      h.writeUInt16BE(8, 4);
      return h;
    }
    case 132: {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(sport, 0);
      h.writeUInt16BE(dport, 2);
      return h;
    }
    case 1:
    case 58: {
      const h = Buffer.alloc(8);
      h[0] = sport; // icmp_type
      h[1] = dport; // icmp_code
      return h;
    }
  }
  return Buffer.alloc(0);
}

/** Fills in l4's checksum; pseudo is the IP pseudo-header (empty for ICMPv4 and SCTP). */
function l4Checksum(proto: number, l4: Buffer, pseudo: Buffer): void {
  switch (proto) {
    case 6:
      l4.writeUInt16BE(inetChecksum(pseudo, l4), 16);
      break;
    case 17: {
      const c = inetChecksum(pseudo, l4);
      l4.writeUInt16BE(c === 0 ? 0xffff : c, 6); // 0 means "no checksum"
      break;
    }
    case 132:
      l4.writeUInt32LE(crc32c(l4), 8); // CRC32c goes out least significant byte first
      break;
    case 1:
    case 58:
      l4.writeUInt16BE(inetChecksum(pseudo, l4), 2);
      break;
  }
}

/** The frame a microflow's fields describe (see the top of this file). */
export function buildFrame(bits: MatchBits): Buffer {
  const get = (name: string): bigint | undefined => bits.get(name)?.value;
  const eth = Buffer.concat([bigBytes(get('dl_dst') ?? 0n, 6), bigBytes(get('dl_src') ?? 0n, 6)]);
  const tci = get('vlan_tci') ?? 0n;
  const tag = tci & 0x1000n ? Buffer.from([0x81, 0x00, Number((tci >> 8n) & 0xefn), Number(tci & 0xffn)]) : Buffer.alloc(0);
  const dlType = get('dl_type');
  const proto = Number(get('nw_proto') ?? 0n);
  const frag = Number(get('nw_frag') ?? 0n); // 0 no, 1 first, 3 later
  const ttl = Number(get('nw_ttl') ?? 64n);
  const tos = Number(get('nw_tos') ?? 0n);
  let l3: Buffer;
  switch (dlType) {
    case 0x0800n: {
      const l4 = frag === 3 ? Buffer.alloc(0) : l4Header(proto, get);
      const ip = Buffer.alloc(20);
      ip[0] = 0x45;
      ip[1] = tos;
      ip.writeUInt16BE(20 + l4.length, 2);
      ip.writeUInt16BE(frag === 1 ? 0x2000 : frag === 3 ? 1480 / 8 : 0, 6);
      ip[8] = ttl;
      ip[9] = proto;
      bigBytes(get('nw_src') ?? 0n, 4).copy(ip, 12);
      bigBytes(get('nw_dst') ?? 0n, 4).copy(ip, 16);
      ip.writeUInt16BE(inetChecksum(ip), 10);
      if (l4.length) {
        const pseudo = Buffer.alloc(12);
        ip.copy(pseudo, 0, 12, 20);
        pseudo[9] = proto;
        pseudo.writeUInt16BE(l4.length, 10);
        l4Checksum(proto, l4, proto === 1 || proto === 132 ? Buffer.alloc(0) : pseudo);
      }
      l3 = Buffer.concat([ip, l4]);
      break;
    }
    case 0x86ddn: {
      const l4 = frag === 3 ? Buffer.alloc(0) : l4Header(proto, get);
      const ext = frag ? Buffer.alloc(8) : Buffer.alloc(0);
      if (frag) {
        ext[0] = proto;
        ext.writeUInt16BE(frag === 1 ? 1 : 1480, 2); // offset (in 8-byte units, << 3) | M
      }
      const ip = Buffer.alloc(40);
      ip.writeUInt32BE(((6 << 28) | (tos << 20) | Number(get('ipv6_label') ?? 0n)) >>> 0, 0);
      ip.writeUInt16BE(ext.length + l4.length, 4);
      ip[6] = frag ? 44 : proto;
      ip[7] = ttl;
      bigBytes(get('ipv6_src') ?? 0n, 16).copy(ip, 8);
      bigBytes(get('ipv6_dst') ?? 0n, 16).copy(ip, 24);
      if (l4.length) {
        const pseudo = Buffer.alloc(40);
        ip.copy(pseudo, 0, 8, 40);
        pseudo.writeUInt32BE(l4.length, 32);
        pseudo[39] = proto;
        l4Checksum(proto, l4, proto === 132 ? Buffer.alloc(0) : pseudo);
      }
      l3 = Buffer.concat([ip, ext, l4]);
      break;
    }
    case 0x0806n: {
      l3 = Buffer.alloc(28);
      l3.writeUInt16BE(1, 0); // Ethernet
      l3.writeUInt16BE(0x0800, 2);
      l3[4] = 6;
      l3[5] = 4;
      l3.writeUInt16BE(1, 6); // request
      eth.copy(l3, 8, 6, 12); // the sender is dl_src
      break;
    }
    default:
      l3 = Buffer.alloc(0);
  }
  const typeField = Buffer.alloc(2);
  // no dl_type (or 0x05ff): an 802.3 frame, its length field counting what follows
  const room = Math.max(ETH_MIN_FRAME - eth.length - tag.length - 2, l3.length);
  typeField.writeUInt16BE(dlType === undefined || dlType < 0x600n ? Math.min(room, 0x5ff) : Number(dlType), 0);
  const frame = Buffer.concat([eth, tag, typeField, l3]);
  return frame.length >= ETH_MIN_FRAME ? frame : Buffer.concat([frame, Buffer.alloc(ETH_MIN_FRAME - frame.length)]);
}

// ---------------------------------------------------------------- values

/** Fields whose values read best in hexadecimal, with their digits. */
const HEX_DIGITS: Readonly<Record<string, number>> = { metadata: 1, tun_id: 1, dl_type: 4, vlan_tci: 4, ipv6_label: 1, tcp_flags: 3 };

/**
 * One value of a field in flow syntax, as it would follow `field=`:
 * addresses as addresses, vlan_tci and the like in hex, the rest in
 * decimal ("10.0.0.9", "0x100a", "63"). The value may be in any form the
 * addon gives or takes.
 */
export function formatFieldValue(name: string, v: FieldValue): string {
  const f = FIELD_BY_NAME.get(name);
  if (!f) return String(v);
  const n = fromAny(f.kind, v, f.bits);
  if (f.kind === 'mac' || f.kind === 'ipv4' || f.kind === 'ipv6') return formatOfKind(f.kind, n);
  const digits = HEX_DIGITS[name];
  return digits ? hex(n, digits) : n.toString();
}
