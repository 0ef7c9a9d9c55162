/**
 * Packet trace end to end (CLI -> gRPC -> daemon -> addon -> data plane),
 * held against real packets: for each packet, `switchyard trace` says
 * where it goes and what it looks like there; the very frame the trace
 * was built from is then sent for real from the ingress host (an
 * AF_PACKET socket in its namespace), and the captures on every other
 * host must show exactly the trace's output frames, byte for byte, on the
 * trace's ports and nowhere else. Cases: a match in table 0 that rewrites
 * tp_dst and goes to table 1 (dec_ttl, output), a VLAN push, a table miss.
 * Tracing moves no counter. Bad input (unknown port, a masked field, bad
 * hex) gets an error naming it, from the CLI and over gRPC.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { GrpcStatus } from '../helpers/grpc';
import { WAIT, afPacket, twoHosts } from '../helpers/hosts';
import { IS_ROOT } from '../helpers/paths';
import { nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { readPcap, removeCapture, sendRaw, startCapture, writePcap, type Capture } from '../helpers/traffic';

interface TraceJson {
  packet: string;
  frame: string;
  steps: {
    table: number;
    matched: boolean;
    entry: { priority: number; cookie: string; match: string; actions: string } | null;
    miss: string | null;
    actions: { action: string; changes: { field: string; before: string; after: string }[] }[];
  }[];
  outputs: { portId: number; port: string; frame: string }[];
  drop: string | null;
}

describe.skipIf(!IS_ROOT)('switchyard trace: agrees with real packets', () => {
  const topo = new Topology('sytr');
  const caps: Capture[] = [];
  let sw: Switch;
  let a: Veth; // 10.0.0.1 on p1: the packets come from here
  let b: Veth; // 10.0.0.2 on p2
  let c: Veth; // 10.0.0.3 on p3
  let tmp: string;

  /** A UDP packet from a to b, in flow syntax. */
  const udp = (dport: number) =>
    `in_port=p1,udp,dl_src=${a.nsMac},dl_dst=${b.nsMac},nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=${dport}`;

  /** Every counter a trace could move (flows: all but their ages). */
  const counters = async () => ({
    ports: (await sw.api.call('PortService', 'GetPortStats', { port: '' })).stats,
    flows: (await sw.api.call('FlowService', 'DumpFlows', {})).flows.map((f: { packets: string; bytes: string }) => [f.packets, f.bytes]),
    tables: (await sw.api.call('TableService', 'ListTables', {})).tables,
    datapath: await sw.api.call('StatsService', 'GetDatapathStats', {}),
    pmds: (await sw.api.call('StatsService', 'GetPmdStats', {})).pmds.map((p: { packets: string; cacheHits: string; cacheMisses: string; classifierLookups: string }) => [
      p.packets,
      p.cacheHits,
      p.cacheMisses,
      p.classifierLookups,
    ]),
  });

  /** The trace of a packet, checking that tracing moved no counter. */
  const trace = async (args: string[]): Promise<TraceJson> => {
    const before = await counters();
    const t = await sw.cliJson<TraceJson>(['trace', ...args]);
    expect(await counters()).toEqual(before);
    return t;
  };

  /**
   * Sends the traced frame for real from a, and checks that b, c (and a)
   * receive exactly the trace's output frames.
   */
  const sendAndCompare = async (t: TraceJson) => {
    const hosts: [string, Veth][] = [
      ['p1', a],
      ['p2', b],
      ['p3', c],
    ];
    const got = new Map<string, Capture>();
    for (const [port, h] of hosts) {
      const cap = await startCapture(h.ns, h.nsIf, { direction: 'in' });
      caps.push(cap);
      got.set(port, cap);
    }
    await sendRaw(a.ns, a.nsIf, [Buffer.from(t.frame, 'hex')]);
    for (const cap of got.values()) await cap.stop();
    for (const [port] of hosts) {
      const want = t.outputs.filter((o) => o.port === port).map((o) => o.frame);
      const frames = (await readPcap(got.get(port)!.file)).map((f) => f.toString('hex'));
      expect({ port, frames }).toEqual({ port, frames: want });
    }
  };

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    c = await topo.addHost('10.0.0.3/24');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-trace-'));
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
        { name: 'p3', devargs: afPacket(2, c) },
      ],
      flows: [
        'table=0,priority=100,cookie=0x11,udp,in_port=p1,tp_dst=5000,actions=mod_tp_dst:6000,goto_table:1',
        'table=1,priority=10,udp,tp_dst=6000,actions=dec_ttl,output:p2',
        'table=0,priority=100,udp,in_port=p1,tp_dst=7000,actions=push_vlan:0x8100,mod_vlan_vid:10,output:p3',
      ],
    });
  });

  afterAll(async () => {
    for (const cap of caps) await removeCapture(cap);
    await sw?.stop();
    await topo.cleanup();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('table 0 rewrites tp_dst and goes to table 1, which decrements the TTL and outputs to p2', async () => {
    const t = await trace([udp(5000)]);
    expect(t.packet).toBe(`udp,in_port=p1,dl_src=${a.nsMac},dl_dst=${b.nsMac},nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1234,tp_dst=5000`);
    expect(t.steps).toEqual([
      {
        table: 0,
        matched: true,
        entry: { priority: 100, cookie: '0x11', match: 'udp,in_port=p1,tp_dst=5000', actions: 'mod_tp_dst:6000,goto_table:1' },
        miss: null,
        actions: [
          { action: 'mod_tp_dst:6000', changes: [{ field: 'tp_dst', before: '5000', after: '6000' }] },
          { action: 'goto_table:1', changes: [] },
        ],
      },
      {
        table: 1,
        matched: true,
        entry: { priority: 10, cookie: '0x0', match: 'udp,tp_dst=6000', actions: 'dec_ttl,output:p2' },
        miss: null,
        actions: [
          { action: 'dec_ttl', changes: [{ field: 'nw_ttl', before: '64', after: '63' }] },
          { action: 'output:p2', changes: [] },
        ],
      },
    ]);
    expect(t.drop).toBeNull();
    expect(t.outputs.map((o) => [o.port, o.portId])).toEqual([['p2', 2]]);
    const out = Buffer.from(t.outputs[0].frame, 'hex');
    expect(out.readUInt16BE(14 + 20 + 2)).toBe(6000); // UDP destination port
    expect(out[14 + 8]).toBe(63); // TTL
    await sendAndCompare(t);
    // and the real packet was counted where the trace said
    await vi.waitFor(async () => expect((await portStats(sw, 'p2')).txPackets).toBe('1'), WAIT);
  });

  it('a VLAN push: the frame leaves p3 tagged with VID 10', async () => {
    const t = await trace([udp(7000)]);
    expect(t.steps).toHaveLength(1);
    expect(t.steps[0].actions).toEqual([
      { action: 'push_vlan:0x8100', changes: [{ field: 'vlan_tci', before: '0x0000', after: '0x1000' }] },
      { action: 'mod_vlan_vid:10', changes: [{ field: 'vlan_tci', before: '0x1000', after: '0x100a' }] },
      { action: 'output:p3', changes: [] },
    ]);
    expect(t.outputs.map((o) => o.port)).toEqual(['p3']);
    const out = Buffer.from(t.outputs[0].frame, 'hex');
    expect(out.length).toBe(Buffer.from(t.frame, 'hex').length + 4);
    expect([out.readUInt16BE(12), out.readUInt16BE(14)]).toEqual([0x8100, 10]);
    await sendAndCompare(t);
  });

  it('a table miss: dropped, counted as table_miss, sent nowhere', async () => {
    const t = await trace([udp(9999)]);
    expect(t.steps).toEqual([{ table: 0, matched: false, entry: null, miss: 'drop', actions: [] }]);
    expect(t.outputs).toEqual([]);
    expect(t.drop).toBe('table_miss');
    const missesBefore = nonZeroDrops(await portStats(sw, 'p1')).table_miss ?? 0;
    await sendAndCompare(t);
    await vi.waitFor(async () => expect(nonZeroDrops(await portStats(sw, 'p1')).table_miss).toBe(missesBefore + 1), WAIT);
  });

  it('the same frame as --hex and from a pcap (--pcap, --index) traces the same', async () => {
    const t = await trace([udp(5000)]);
    const hex = await trace(['--hex', t.frame, '--in-port', 'p1']);
    expect(hex).toEqual(t);
    const spaced = await trace(['--hex', t.frame.replace(/(..)/g, '$1 '), '--in-port', '1']);
    expect(spaced.outputs).toEqual(t.outputs);
    const file = path.join(tmp, 'two.pcap');
    const vlan = await trace([udp(7000)]);
    await writePcap(file, [Buffer.from(t.frame, 'hex'), Buffer.from(vlan.frame, 'hex')]);
    expect(await trace(['--pcap', file, '--in-port', 'p1'])).toEqual(t);
    expect(await trace(['--pcap', file, '--index', '2', '--in-port', 'p1'])).toEqual(vlan);
    const r = await sw.cli(['trace', '--pcap', file, '--index', '3', '--in-port', 'p1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has 2 packets, no packet 3');
  });

  it('prints the trace for people', async () => {
    const r = await sw.cli(['trace', udp(5000)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('table 0  priority=100,udp,in_port=p1,tp_dst=5000  cookie=0x11');
    expect(r.stdout).toMatch(/mod_tp_dst:6000 +tp_dst: 5000 -> 6000/);
    expect(r.stdout).toMatch(/dec_ttl +nw_ttl: 64 -> 63/);
    expect(r.stdout).toContain('result  output to p2');
    const miss = await sw.cli(['trace', udp(9999)]);
    expect(miss.stdout).toContain('table 0  no match: drop');
    expect(miss.stdout).toContain('result  dropped (table_miss)');
  });

  it('bad input: an unknown port, a masked field, bad hex', async () => {
    const cases: [string[], RegExp][] = [
      [['trace', 'in_port=p9,udp'], /unknown port 'p9'/],
      [['trace', '--hex', '00'.repeat(60), '--in-port', 'p9'], /port 'p9' does not exist/],
      [['trace', 'in_port=p1,ip,nw_src=10.0.0.0/24'], /nw_src: a packet has exact values, not a mask or prefix/],
      [['trace', '--hex', '0x02zz', '--in-port', 'p1'], /--hex: 'z' is not a hexadecimal digit/],
      [['trace', '--hex', '020', '--in-port', 'p1'], /an odd number/],
      [['trace', 'udp,tp_dst=80'], /in_port is required/],
      [['trace', '--hex', '00'.repeat(60)], /--hex needs --in-port/],
    ];
    for (const [args, message] of cases) {
      const r = await sw.cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // the status codes, over gRPC
    expect(await sw.api.code('FlowService', 'Trace', { flow: 'in_port=p9,udp' })).toMatchObject({ code: GrpcStatus.NOT_FOUND });
    expect(await sw.api.code('FlowService', 'Trace', { flow: 'in_port=p1,udp,tp_dst=80/0xff00' })).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: expect.stringContaining('tp_dst'),
    });
    expect(await sw.api.code('FlowService', 'Trace', { frame: Buffer.alloc(60), inPort: '7' })).toMatchObject({ code: GrpcStatus.NOT_FOUND });
    expect(await sw.api.code('FlowService', 'Trace', { frame: Buffer.alloc(0), inPort: 'p1' })).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: expect.stringContaining('frame'),
    });
    expect(await sw.api.code('FlowService', 'Trace', { frame: Buffer.alloc(2000), inPort: 'p1' })).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: expect.stringContaining('longer than port 1 receives'),
    });
    expect(await sw.api.code('FlowService', 'Trace', {})).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
  });
});
