/**
 * Traffic files for the benchmarks: a pcap writer, Ethernet/IPv4/UDP and
 * TCP frame builders with correct lengths and checksums, a seeded random
 * generator, and ensurePcap(), which writes a file only when it is missing
 * or what generates it has changed.
 *
 * Sizes are Ethernet frame sizes as benchmarks state them, FCS included: a
 * "64-byte frame" is a 60-byte pcap record (the NIC would add the 4-byte
 * FCS), a 1518-byte frame a 1514-byte record. Gbit/s figures use the frame
 * size (no preamble or inter-frame gap).
 *
 * The pcap format is the classic one (magic a1b2c3d4, version 2.4,
 * microsecond timestamps, link type 1 = Ethernet), which libpcap, DPDK's
 * net_pcap and tshark read.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const FCS_BYTES = 4;
export const ETH_HLEN = 14;
export const IPV4_HLEN = 20;
export const UDP_HLEN = 8;
export const TCP_HLEN = 20;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

// ---------------------------------------------------------------------------
// Seeded randomness: the same seed gives the same traffic and rules on every
// machine, so two runs compare like with like.

/** A small, fast 32-bit generator (splitmix32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  /** A uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }
  /** Shuffles xs in place (Fisher-Yates) and returns it. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

// ---------------------------------------------------------------------------
// Addresses

/** "10.1.2.3" for the host-order number 0x0a010203. */
export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** The host-order number of "10.1.2.3". */
export function ipv4FromString(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${s}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

/** The mask of a prefix length, host order: 24 -> 0xffffff00. */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** "02:00:00:00:01:02" from 6 bytes. */
export function macToString(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function macFromString(s: string): Buffer {
  const b = Buffer.from(s.split(':').map((x) => parseInt(x, 16)));
  if (b.length !== 6) throw new Error(`not a MAC address: ${s}`);
  return b;
}

// ---------------------------------------------------------------------------
// Frames

/** One packet's headers: what a 5-tuple flow key and the L2 table look at. */
export interface PacketSpec {
  dlSrc: string;
  dlDst: string;
  /** host-order IPv4 addresses */
  nwSrc: number;
  nwDst: number;
  proto: typeof IPPROTO_TCP | typeof IPPROTO_UDP;
  tpSrc: number;
  tpDst: number;
  /** Ethernet frame size with FCS (64..1518); the record is 4 bytes shorter. */
  frameBytes: number;
  /** IPv4 identification (default 0) */
  ipId?: number;
}

/** The 16-bit ones' complement sum of buf[from, to), added to `sum` (not folded). */
function sum16(buf: Buffer, from: number, to: number, sum = 0): number {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < to) sum += buf[i] << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum (RFC 1071) of buf[from, to), with `initial` pre-added. */
export function inetChecksum(buf: Buffer, from: number, to: number, initial = 0): number {
  return ~fold(sum16(buf, from, to, initial)) & 0xffff;
}

/**
 * An Ethernet + IPv4 + UDP or TCP frame of spec.frameBytes (FCS not
 * included in the returned bytes): IPv4 header checksum, total length, UDP
 * length and the L4 checksum over the pseudo-header are all correct. The
 * payload is a fixed pattern. TCP segments carry ACK|PSH, a 20-byte header.
 */
export function buildFrame(p: PacketSpec): Buffer {
  const l4h = p.proto === IPPROTO_TCP ? TCP_HLEN : UDP_HLEN;
  const min = ETH_HLEN + IPV4_HLEN + l4h + FCS_BYTES;
  if (p.frameBytes < Math.max(64, min) || p.frameBytes > 1518) throw new RangeError(`frame size ${p.frameBytes}: expected ${Math.max(64, min)}..1518`);
  const len = p.frameBytes - FCS_BYTES;
  const f = Buffer.alloc(len);
  macFromString(p.dlDst).copy(f, 0);
  macFromString(p.dlSrc).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);

  const ip = ETH_HLEN;
  const ipLen = len - ETH_HLEN;
  f[ip] = 0x45;
  f[ip + 1] = 0;
  f.writeUInt16BE(ipLen, ip + 2);
  f.writeUInt16BE((p.ipId ?? 0) & 0xffff, ip + 4);
  f.writeUInt16BE(0x4000, ip + 6); // DF
  f[ip + 8] = 64;
  f[ip + 9] = p.proto;
  f.writeUInt32BE(p.nwSrc >>> 0, ip + 12);
  f.writeUInt32BE(p.nwDst >>> 0, ip + 16);
  f.writeUInt16BE(inetChecksum(f, ip, ip + IPV4_HLEN), ip + 10);

  const l4 = ip + IPV4_HLEN;
  const l4Len = ipLen - IPV4_HLEN;
  f.writeUInt16BE(p.tpSrc, l4);
  f.writeUInt16BE(p.tpDst, l4 + 2);
  if (p.proto === IPPROTO_UDP) {
    f.writeUInt16BE(l4Len, l4 + 4);
  } else {
    f.writeUInt32BE(1, l4 + 4); // seq
    f.writeUInt32BE(1, l4 + 8); // ack
    f[l4 + 12] = (TCP_HLEN / 4) << 4;
    f[l4 + 13] = 0x18; // PSH|ACK
    f.writeUInt16BE(65535, l4 + 14);
  }
  for (let i = l4 + l4h; i < len; i++) f[i] = i & 0xff;

  // Pseudo-header: source, destination, zero + protocol, L4 length.
  let pseudo = sum16(f, ip + 12, ip + 20);
  pseudo += p.proto + l4Len;
  const ck = l4 + (p.proto === IPPROTO_UDP ? 6 : 16);
  let c = inetChecksum(f, l4, len, pseudo);
  if (p.proto === IPPROTO_UDP && c === 0) c = 0xffff; // 0 means "no checksum" in UDP
  f.writeUInt16BE(c, ck);
  return f;
}

// ---------------------------------------------------------------------------
// The pcap file

const PCAP_MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;

/** Writes a classic pcap file record by record, through a 1 MB buffer. */
export class PcapWriter {
  private fd: number;
  private buf = Buffer.alloc(1 << 20);
  private used = 0;
  count = 0;

  constructor(file: string, snaplen = 65535) {
    this.fd = openSync(file, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(PCAP_MAGIC, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone
    h.writeUInt32LE(0, 12); // sigfigs
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    this.put(h);
  }

  private put(b: Buffer): void {
    if (this.used + b.length > this.buf.length) this.flush();
    if (b.length > this.buf.length) {
      writeSync(this.fd, b);
      return;
    }
    b.copy(this.buf, this.used);
    this.used += b.length;
  }

  private flush(): void {
    if (this.used) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }

  /** Appends one frame; timestamps advance 1 us per record (they play no part in replay). */
  write(frame: Buffer): void {
    const r = Buffer.alloc(16);
    const t = this.count++;
    r.writeUInt32LE(Math.floor(t / 1e6), 0);
    r.writeUInt32LE(t % 1e6, 4);
    r.writeUInt32LE(frame.length, 8);
    r.writeUInt32LE(frame.length, 12);
    this.put(r);
    this.put(frame);
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Reads back a classic pcap file's frames (for checks; the files are small enough). */
export async function readPcap(file: string): Promise<Buffer[]> {
  const b = await fs.readFile(file);
  if (b.readUInt32LE(0) !== PCAP_MAGIC) throw new Error(`${file}: not a little-endian microsecond pcap`);
  const out: Buffer[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const incl = b.readUInt32LE(o + 8);
    out.push(b.subarray(o + 16, o + 16 + incl));
    o += 16 + incl;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Files that are made once

export interface PcapInfo {
  file: string;
  packets: number;
  /** frame size with FCS, as in the spec */
  frameBytes: number;
  /** true when this call wrote the file */
  generated: boolean;
}

/**
 * Makes `file` from `frames()` unless it exists with the same stamp. The
 * stamp (in FILE.stamp) is a hash of `inputs` (the generator's source text
 * and its parameters): change the generator and the file is made anew.
 * Written to a temporary name and renamed, so a crash leaves no half file.
 */
export async function ensurePcap(file: string, inputs: string[], frameBytes: number, frames: () => Iterable<Buffer>): Promise<PcapInfo> {
  const stamp = createHash('sha256');
  for (const i of inputs) stamp.update(i).update('\0');
  const want = stamp.digest('hex');
  const stampFile = `${file}.stamp`;
  try {
    const [have, st] = await Promise.all([fs.readFile(stampFile, 'utf8'), fs.stat(file)]);
    const m = /^(\w+) (\d+)$/.exec(have.trim());
    if (m && m[1] === want && st.size > 24) return { file, packets: Number(m[2]), frameBytes, generated: false };
  } catch {
    /* missing: make it */
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const w = new PcapWriter(tmp);
  try {
    for (const f of frames()) w.write(f);
  } finally {
    w.close();
  }
  await fs.rename(tmp, file);
  await fs.writeFile(stampFile, `${want} ${w.count}\n`);
  return { file, packets: w.count, frameBytes, generated: true };
}

/** The source text of files next to this one, for ensurePcap's stamp. */
export async function sourcesOf(...files: string[]): Promise<string[]> {
  return Promise.all(files.map((f) => fs.readFile(path.resolve(__dirname, f), 'utf8')));
}
