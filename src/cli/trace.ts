/**
 * switchyard trace: what the switch would do with one packet (FlowService.
 * Trace; Open vSwitch's ovs-appctl ofproto/trace).
 *
 *   trace 'in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80'
 *                               a microflow in match syntax; the daemon makes the frame
 *   trace --hex HEX --in-port p1          a frame in hex (spaces and colons allowed)
 *   trace --pcap FILE --in-port p1        the first packet of a pcap file
 *   trace --pcap FILE --index N --in-port p1   its Nth packet (1 = the first, as tshark counts)
 *   --frames                    also print each frame that would leave, in hex
 *
 * The data plane runs the packet through its live tables with its own code
 * and sends nothing, counts nothing. The human output reads top-down: the
 * packet as parsed, each table visited with the entry matched (or the
 * miss), each action with the fields it rewrote (before -> after), then
 * where the packet goes or why it is dropped. --json gives the same with
 * frames in hex.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import type { TraceRequest } from '../gen/switchyard/v1/TraceRequest';
import type { TraceResponse__Output } from '../gen/switchyard/v1/TraceResponse';
import { Api, CliError } from './client';
import { cookieHex } from './output';
import type { PacketOutRequest } from '../gen/switchyard/v1/PacketOutRequest';
import { frameSummary } from '../flowspec/summary';

/** What program.ts lends the trace command. */
export interface TraceCliContext {
  program: Command;
  api: (cmd: Command) => Api;
  print: (cmd: Command, json: unknown, human: () => string) => void;
}

interface TraceOptions {
  hex?: string;
  pcap?: string;
  index?: number;
  inPort?: string;
  frames?: boolean;
}

/** A frame from hex text: "0200...", "02 00 ...", "02:00:...", with or without 0x. */
export function frameFromHex(text: string): Buffer {
  const hex = text.replace(/^0x/i, '').replace(/[\s:.-]/g, '');
  const bad = hex.search(/[^0-9a-fA-F]/);
  if (hex.length === 0) throw new CliError('--hex: no bytes given');
  if (bad >= 0) throw new CliError(`--hex: '${hex[bad]}' is not a hexadecimal digit (at digit ${bad + 1})`);
  if (hex.length % 2) throw new CliError(`--hex: ${hex.length} digits, an odd number: a byte is two digits`);
  return Buffer.from(hex, 'hex');
}

/**
 * Packet `index` (1-based) of a classic pcap file (either byte order,
 * microsecond or nanosecond stamps) of Ethernet frames.
 */
export function frameFromPcap(file: string, index = 1): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new CliError(`--pcap: cannot read ${file}: ${(e as Error).message}`);
  }
  if (buf.length < 24) throw new CliError(`--pcap: ${file} is not a pcap file (${buf.length} bytes)`);
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else if (magic === 0x0a0d0d0a) throw new CliError(`--pcap: ${file} is pcapng; convert it with: editcap -F pcap ${file} out.pcap`);
  else throw new CliError(`--pcap: ${file} is not a pcap file (magic 0x${magic.toString(16)})`);
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const link = u32(20) & 0xffff;
  if (link !== 1) throw new CliError(`--pcap: ${file} holds link type ${link}, not Ethernet (1)`);
  let at = 24;
  for (let n = 1; at + 16 <= buf.length; n++) {
    const caplen = u32(at + 8);
    const origlen = u32(at + 12);
    if (at + 16 + caplen > buf.length) break;
    if (n === index) {
      if (caplen < origlen) throw new CliError(`--pcap: packet ${n} of ${file} was captured cut short (${caplen} of ${origlen} bytes)`);
      return buf.subarray(at + 16, at + 16 + caplen);
    }
    at += 16 + caplen;
  }
  const count = countPackets(buf, u32);
  throw new CliError(`--pcap: ${file} has ${count} packet${count === 1 ? '' : 's'}, no packet ${index}`);
}

function countPackets(buf: Buffer, u32: (at: number) => number): number {
  let n = 0;
  for (let at = 24; at + 16 <= buf.length && at + 16 + u32(at + 8) <= buf.length; at += 16 + u32(at + 8)) n++;
  return n;
}

/** The request from the arguments; CliError for a contradiction. */
export function traceRequest(flow: string | undefined, o: TraceOptions): TraceRequest {
  const sources = [flow !== undefined, o.hex !== undefined, o.pcap !== undefined].filter(Boolean).length;
  if (sources === 0) throw new CliError("trace: give a flow ('in_port=p1,tcp,tp_dst=80'), --hex HEX or --pcap FILE");
  if (sources > 1) throw new CliError('trace: give one packet: a flow, --hex or --pcap');
  if (o.index !== undefined && o.pcap === undefined) throw new CliError('--index goes with --pcap');
  if (flow !== undefined) {
    if (o.inPort !== undefined) throw new CliError('--in-port goes with --hex or --pcap; in a flow, write in_port=PORT');
    return { flow };
  }
  if (o.inPort === undefined) throw new CliError(`${o.hex !== undefined ? '--hex' : '--pcap'} needs --in-port PORT (where the frame arrives)`);
  const frame = o.hex !== undefined ? frameFromHex(o.hex) : frameFromPcap(o.pcap!, o.index ?? 1);
  return { frame, inPort: o.inPort };
}

interface PacketOutOptions {
  inPort?: string;
  actions?: string;
  hex?: string;
  pcap?: string;
  index?: number;
  frame?: string;
}

/** The PacketOut request from `switchyard packet-out`'s options; CliError for a contradiction. */
export function packetOutRequest(o: PacketOutOptions): PacketOutRequest {
  const sources = [o.hex !== undefined, o.pcap !== undefined, o.frame !== undefined].filter(Boolean).length;
  if (sources === 0) throw new CliError("packet-out: give the frame: --hex HEX, --pcap FILE or --frame 'udp,nw_src=...'");
  if (sources > 1) throw new CliError('packet-out: give one frame: --hex, --pcap or --frame');
  if (o.index !== undefined && o.pcap === undefined) throw new CliError('--index goes with --pcap');
  if (o.actions === undefined || o.actions.trim() === '') throw new CliError('packet-out: --actions is required (e.g. output:p2, or table)');
  const req: PacketOutRequest = { actions: o.actions, inPort: o.inPort ?? '' };
  if (o.frame !== undefined) req.flow = o.frame;
  else req.frame = o.hex !== undefined ? frameFromHex(o.hex) : frameFromPcap(o.pcap!, o.index ?? 1);
  return req;
}

// ---------------------------------------------------------------- output

export function traceJson(r: TraceResponse__Output) {
  return {
    packet: r.packet,
    frame: r.frame.toString('hex'),
    steps: r.steps.map((s) => ({
      table: s.tableId,
      matched: s.matched,
      entry: s.entry
        ? { priority: s.entry.priority, cookie: cookieHex(s.entry.cookie), match: s.entry.match, actions: s.entry.actions }
        : null,
      miss: s.matched ? null : s.miss,
      actions: s.actions.map((a) => ({ action: a.action, changes: a.changes.map((c) => ({ field: c.field, before: c.before, after: c.after })) })),
    })),
    outputs: r.outputs.map((o) => ({ portId: o.portId, port: o.port, frame: o.frame.toString('hex') })),
    drop: r.dropReason || null,
  };
}

function portText(o: { portId: number; port: string }): string {
  return o.port || String(o.portId);
}

/** 16 bytes a line, offsets first, as tcpdump -xx. */
function hexDump(b: Buffer, indent: string): string {
  let out = '';
  for (let i = 0; i < b.length; i += 16) {
    const bytes = [...b.subarray(i, i + 16)].map((x) => x.toString(16).padStart(2, '0'));
    const groups: string[] = [];
    for (let j = 0; j < bytes.length; j += 2) groups.push(bytes.slice(j, j + 2).join(''));
    out += `${indent}0x${i.toString(16).padStart(4, '0')}:  ${groups.join(' ')}\n`;
  }
  return out;
}

export function traceText(r: TraceResponse__Output, frames = false): string {
  const lines: string[] = [];
  lines.push(`packet  ${r.packet || '(not parsed)'}  (${r.frame.length} bytes)`);
  if (frames) lines.push(hexDump(r.frame, '        ').trimEnd());
  lines.push('');
  for (const s of r.steps) {
    const head = `table ${s.tableId}`.padEnd(9);
    if (s.entry) {
      const cookie = BigInt(s.entry.cookie || '0') !== 0n ? `  cookie=${cookieHex(s.entry.cookie)}` : '';
      lines.push(`${head}priority=${s.entry.priority}${s.entry.match ? ',' + s.entry.match : ''}${cookie}`);
    } else {
      const next = s.miss === 'continue' ? `continue to table ${s.tableId + 1}` : s.miss;
      lines.push(`${head}no match: ${next}`);
    }
    const width = Math.max(0, ...s.actions.map((a) => a.action.length));
    for (const a of s.actions) {
      const changes = a.changes.map((c) => `${c.field}: ${c.before} -> ${c.after}`).join(', ');
      lines.push(`         ${changes ? a.action.padEnd(width) + '   ' + changes : a.action}`);
    }
    if (s.entry && s.actions.length === 0) lines.push('         (no actions: drop)');
  }
  if (r.steps.length) lines.push('');
  const outs = r.outputs.map(portText);
  if (outs.length) {
    lines.push(`result  output to ${outs.join(', ')}`);
    for (const o of r.outputs) {
      lines.push(`        ${portText(o)}: ${o.frame.length} bytes${o.frame.equals(r.frame) ? ', unchanged' : ''}`);
      if (frames) lines.push(hexDump(o.frame, '          ').trimEnd());
    }
  } else {
    lines.push(`result  dropped${r.dropReason ? ` (${r.dropReason})` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export function addTraceCommand(c: TraceCliContext): void {
  const index = (v: string): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a packet number, 1 for the first');
    return Number(v);
  };
  c.program
    .command('packet-out')
    .description('send one frame into the switch: run actions on it as if received on --in-port (OpenFlow packet-out)')
    .option('--in-port <port>', 'where the frame comes from (name or number); none: from the controller')
    .option('--actions <actions>', "flow-text actions: 'output:p2', 'mod_vlan_vid:10,output:p2', or 'table' to run the flows")
    .option('--hex <bytes>', 'the Ethernet frame in hex')
    .option('--pcap <file>', 'the first packet of a pcap file')
    .option('--index <n>', 'with --pcap: the Nth packet (1 = the first)', index)
    .option('--frame <fields>', "a frame built from fields in match syntax, e.g. 'udp,dl_dst=..,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=53'")
    .action(async (o: PacketOutOptions, cmd: Command) => {
      const r = await c.api(cmd).packetOut(packetOutRequest(o));
      const frame = Buffer.from(r.frame);
      c.print(cmd, { inPortId: r.inPortId, actions: r.actions, length: frame.length, frame: frame.toString('hex') }, () =>
        `sent ${frame.length} bytes${r.inPortId ? ` from in_port ${o.inPort}` : ''}, actions=${r.actions}: ${frameSummary(frame)}\n`,
      );
    });
  c.program
    .command('trace')
    .description('what the switch would do with one packet: tables, entries, rewrites, outputs (nothing is sent)')
    .argument('[flow]', "a packet in match syntax, e.g. 'in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80'")
    .option('--hex <bytes>', 'an Ethernet frame in hex (with --in-port)')
    .option('--pcap <file>', 'the first packet of a pcap file (with --in-port)')
    .option('--index <n>', 'with --pcap: the Nth packet (1 = the first)', index)
    .option('--in-port <port>', 'with --hex or --pcap: the port the frame arrives on (name or number)')
    .option('--frames', 'print the frame traced and every frame that would leave, in hex')
    .action(async (flow: string | undefined, o: TraceOptions, cmd: Command) => {
      const req = traceRequest(flow, o);
      const r = await c.api(cmd).trace(req);
      c.print(cmd, traceJson(r), () => traceText(r, o.frames === true));
    });
}
