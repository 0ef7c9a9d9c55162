/**
 * Real traffic for the tests: ping, captures (tcpdump in, tshark out),
 * hand-made frames (scapy, raw bytes) and pcap files for net_pcap.
 */
import { type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mustRun, nsExec, spawnInNs, stopProcess } from '../../src/lib/netns';
import { PYTHON } from './paths';
import { sleep } from './switch';

// --------------------------------------------------------------------- ping

export interface PingResult {
  transmitted: number;
  received: number;
  code: number;
  output: string;
}

/**
 * `ping -c count` from inside ns; counts parsed from ping's summary
 * ("5 packets transmitted, 5 received"). Never rejects for lost replies.
 */
export async function ping(ns: string, dst: string, opts: { count?: number; intervalS?: number; waitS?: number; size?: number } = {}): Promise<PingResult> {
  const count = opts.count ?? 5;
  const argv = ['ping', '-n', '-q', '-c', String(count), '-i', String(opts.intervalS ?? 0.2), '-W', String(opts.waitS ?? 1)];
  if (opts.size !== undefined) argv.push('-s', String(opts.size));
  argv.push(dst);
  const r = await nsExec(ns, argv, { timeoutMs: 30_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  if (!m) throw new Error(`ping: no summary (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return { transmitted: Number(m[1]), received: Number(m[2]), code: r.code, output: r.stdout };
}

// ------------------------------------------------------------------ capture

export interface Capture {
  file: string;
  /** Stops tcpdump (after a short wait for frames in flight) and flushes the file. */
  stop(): Promise<void>;
  /** `tshark -r FILE -T fields -e F...` [-Y display filter]: one array of values per frame. */
  fields(fields: string[], displayFilter?: string): Promise<string[][]>;
  /** `tshark -r FILE -T json`: the frames' layers. */
  json(displayFilter?: string): Promise<any[]>;
}

export interface CaptureOptions {
  /** pcap filter expression ("icmp", "vlan"). */
  filter?: string;
  /** Only frames received by (in) or sent from (out) the interface. */
  direction?: 'in' | 'out' | 'inout';
}

/**
 * Starts tcpdump on `iface` inside `ns`, writing a pcap into a temporary
 * directory; resolves once tcpdump is listening. Call stop() after the
 * traffic, then decode.
 */
export async function startCapture(ns: string, iface: string, opts: CaptureOptions = {}): Promise<Capture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-cap-'));
  const file = path.join(dir, 'capture.pcap');
  // -Z root: keep writing as root (the temp dir is 0700). -U --immediate-mode:
  // hand each packet over at once (libpcap otherwise holds packets in a
  // TPACKET_V3 block for up to a second, and a stop loses them).
  const argv = ['tcpdump', '-n', '-U', '--immediate-mode', '-Z', 'root', '-i', iface, '-w', file];
  if (opts.direction && opts.direction !== 'inout') argv.push('-Q', opts.direction);
  if (opts.filter) argv.push(...opts.filter.split(/\s+/));
  const child: ChildProcess = spawnInNs(ns, argv);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    child.stderr!.on('data', (d) => {
      stderr += String(d);
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited ${code}: ${stderr}`));
    });
  });
  child.removeAllListeners('exit');

  const tshark = (args: string[]) => mustRun('tshark', ['-n', '-r', file, ...args], { timeoutMs: 30_000 });
  return {
    file,
    async stop() {
      await sleep(300);
      await stopProcess(child, 'SIGINT');
    },
    async fields(fieldNames, displayFilter) {
      const args = ['-T', 'fields', '-E', 'separator=/t'];
      for (const f of fieldNames) args.push('-e', f);
      if (displayFilter) args.push('-Y', displayFilter);
      const out = await tshark(args);
      return out
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.split('\t'));
    },
    async json(displayFilter) {
      const args = ['-T', 'json'];
      if (displayFilter) args.push('-Y', displayFilter);
      const out = await tshark(args);
      return (JSON.parse(out || '[]') as any[]).map((f) => f._source.layers);
    },
  };
}

/** Removes a capture's temporary directory. */
export async function removeCapture(c: Capture | undefined): Promise<void> {
  if (c) await fs.rm(path.dirname(c.file), { recursive: true, force: true });
}

// ------------------------------------------------------------------- frames

/**
 * Sends frames from inside ns out of iface with scapy (sendp). Each frame is
 * a Python expression over scapy's names: "Ether(dst='ff:ff:ff:ff:ff:ff')/IP(ihl=3)".
 */
export async function scapySend(ns: string, iface: string, frames: string[]): Promise<void> {
  const script = [
    'import sys, logging',
    "logging.getLogger('scapy.runtime').setLevel(logging.ERROR)",
    'from scapy.all import *',
    `frames = [${frames.join(', ')}]`,
    `sendp(frames, iface=${JSON.stringify(iface)}, verbose=False)`,
  ].join('\n');
  const r = await nsExec(ns, [PYTHON, '-c', script], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`scapy sendp failed (${r.code}): ${r.stderr}`);
}

/**
 * Sends raw frames, byte for byte, from inside ns out of iface (an AF_PACKET
 * socket). The kernel refuses frames shorter than an Ethernet header (14 bytes).
 */
export async function sendRaw(ns: string, iface: string, frames: Buffer[]): Promise<void> {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
    's.bind((sys.argv[1], 0))',
    'for h in sys.argv[2:]:',
    '    s.send(bytes.fromhex(h))',
  ].join('\n');
  const r = await nsExec(ns, [PYTHON, '-c', script, iface, ...frames.map((f) => f.toString('hex'))], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`raw send failed (${r.code}): ${r.stderr}`);
}

/** Writes a classic pcap file (Ethernet, microsecond stamps) holding these frames. */
/** The frames of a classic pcap file (as tcpdump -w or writePcap write it, either byte order). */
export async function readPcap(file: string): Promise<Buffer[]> {
  const buf = await fs.readFile(file);
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const frames: Buffer[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const len = u32(o + 8);
    frames.push(buf.subarray(o + 16, o + 16 + len));
    o += 16 + len;
  }
  return frames;
}

export async function writePcap(file: string, frames: Buffer[]): Promise<void> {
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeInt32LE(0, 8);
  hdr.writeUInt32LE(0, 12);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const parts: Buffer[] = [hdr];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(0, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  });
  await fs.writeFile(file, Buffer.concat(parts));
}

/** "aa:bb:cc:dd:ee:ff" -> 6 bytes. */
export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}
