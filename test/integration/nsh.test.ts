/**
 * The tagged header (NSH, RFC 8300): push_nsh on the way from one host,
 * checked field by field with tshark's NSH dissector on the other side;
 * an NSH frame sent in (raw) is popped and the packet inside it matched by
 * its IP header in the next table; a packet looping on a net_ring port
 * (which sends back to itself) with dec_nsh_ttl stops after exactly TTL
 * hops, the last one counted tag_ttl_expired; push_nsh's bad arguments are
 * refused, naming them.
 */
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Topology, type Veth } from '../../src/lib/netns';
import { PING_FRAME, WAIT, afPacket, twoHosts } from '../helpers/hosts';
import { GrpcStatus, statusName } from '../helpers/grpc';
import { IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, nonZeroDrops, portStats, startSwitch, type Switch } from '../helpers/switch';
import { macBytes, ping, removeCapture, sendRaw, startCapture, type Capture } from '../helpers/traffic';

const NSH_MD1 = 14 + 24; // outer Ethernet + NSH of MD type 1
const PUSH = 'push_nsh(spi=0x123456,si=254,ttl=9,c1=0x11223344,c2=0x55667788,c3=0x99aabbcc,c4=0xddeeff00)';

/** An IPv4 ICMP echo request frame, checksums right. */
function echo(src: Veth, dst: Veth, srcIp: string, dstIp: string, seq: number): Buffer {
  const icmp = Buffer.alloc(8 + 56);
  icmp.writeUInt8(8, 0);
  icmp.writeUInt16BE(0x5359, 4);
  icmp.writeUInt16BE(seq, 6);
  icmp.writeUInt16BE(csum(icmp), 2);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + icmp.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(1, 9);
  Buffer.from(srcIp.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dstIp.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(csum(ip), 10);
  const eth = Buffer.concat([macBytes(dst.nsMac), macBytes(src.nsMac), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([eth, ip, icmp]);
}

function csum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Ethernet + NSH MD type 1 (next protocol Ethernet) around inner. */
function nshFrame(outerDst: string, outerSrc: string, spi: number, si: number, ttl: number, inner: Buffer): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt8((ttl >> 2) & 0x0f, 0);
  h.writeUInt8(((ttl & 3) << 6) | 6, 1);
  h.writeUInt8(1, 2);
  h.writeUInt8(3, 3);
  h.writeUInt32BE(((spi << 8) | si) >>> 0, 4);
  h.writeUInt32BE(0xcafef00d, 8);
  return Buffer.concat([macBytes(outerDst), macBytes(outerSrc), Buffer.from([0x89, 0x4f]), h, inner]);
}

describe.skipIf(!IS_ROOT)('NSH: push_nsh, pop_nsh and dec_nsh_ttl on the wire', () => {
  const topo = new Topology('syn');
  const caps: Capture[] = [];
  let sw: Switch;
  let a: Veth; // 10.0.0.1 on p1
  let b: Veth; // 10.0.0.2 on p2

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
        { name: 'r0', devargs: 'net_ring0' }, // sends to itself
      ],
      flows: [
        `table=0,priority=100,icmp,in_port=p1,actions=${PUSH},output:p2`,
        'table=0,priority=100,in_port=p2,dl_type=0x894f,nsh_spi=0x123456,nsh_si=254,actions=pop_nsh,goto_table:1',
        'table=1,priority=100,icmp,nw_dst=10.0.0.1,actions=output:p1',
        'table=0,priority=200,udp,in_port=p1,tp_dst=9999,actions=push_nsh(spi=7,ttl=5),output:r0',
        'table=0,priority=100,in_port=r0,dl_type=0x894f,nsh_spi=7,actions=dec_nsh_ttl,output:in_port',
      ],
    });
  });

  afterAll(async () => {
    for (const c of caps) await removeCapture(c);
    await sw?.stop();
    await topo.cleanup();
  });

  it('the flows read back as written, push_nsh in its canonical form', async () => {
    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'in_port=p1').actions).toBe(`${PUSH},output:p2`);
    expect(findFlow(flows, 0, 200, 'tp_dst=9999').actions).toBe('push_nsh(spi=0x7,si=255,ttl=5),output:r0');
    expect(findFlow(flows, 0, 100, 'in_port=r0').actions).toBe('dec_nsh_ttl,in_port');
  });

  it('a capture decodes every field of the pushed header, the original frame inside', async () => {
    const cap = await startCapture(b.ns, b.nsIf, { direction: 'in' });
    caps.push(cap);
    const r = await ping(a.ns, '10.0.0.2', { count: 3 });
    await cap.stop();
    expect(r).toMatchObject({ transmitted: 3, received: 0 }); // host b does not speak NSH

    const fields = ['frame.len', 'eth.dst', 'eth.src', 'eth.type', 'nsh.version', 'nsh.Obit', 'nsh.ttl', 'nsh.length',
      'nsh.mdtype', 'nsh.nextproto', 'nsh.spi', 'nsh.si', 'nsh.contextheader', 'ip.src', 'ip.dst', 'icmp.type'];
    // outer and inner Ethernet (the same MACs: push_nsh keeps the frame's), NSH, the inner IP
    const row = [String(PING_FRAME + NSH_MD1), `${b.nsMac},${b.nsMac}`, `${a.nsMac},${a.nsMac}`, '0x894f,0x0800',
      '0', '0', '0x0009', '6', '1', '3', String(0x123456), '254', '11223344,55667788,99aabbcc,ddeeff00',
      '10.0.0.1', '10.0.0.2', '8'];
    expect(await cap.fields(fields)).toEqual(Array(3).fill(row));
    // and the bytes themselves, from the pcap (24-byte file header, 16-byte record header)
    const pcap = await fs.readFile(cap.file);
    const frame = pcap.subarray(24 + 16, 24 + 16 + PING_FRAME + NSH_MD1);
    expect(frame.subarray(12, 14 + 24).toString('hex')).toBe(
      '894f' + // EtherType
      '02' + // version 0, O 0, U 0, TTL 9 >> 2
      '46' + // TTL 9 & 3 << 6, length 6 words
      '01' + // MD type 1
      '03' + // next protocol Ethernet
      '123456fe' + // SPI, SI
      '11223344556677889' + '9aabbccddeeff00', // c1..c4
    );
    expect(frame.subarray(14 + 24, 14 + 24 + 12).toString('hex')).toBe(frame.subarray(0, 12).toString('hex'));
    expect(await portStats(sw, 'p2')).toMatchObject({ txPackets: '3', txBytes: String(3 * (PING_FRAME + NSH_MD1)) });
  });

  it('an NSH frame sent in is popped, its inner packet matched by IP, and the reply goes back tagged', async () => {
    const atA = await startCapture(a.ns, a.nsIf, { direction: 'in' });
    const atB = await startCapture(b.ns, b.nsIf, { direction: 'in' });
    caps.push(atA, atB);
    const frames = [1, 2].map((seq) => nshFrame(a.nsMac, b.nsMac, 0x123456, 254, 20, echo(b, a, '10.0.0.2', '10.0.0.1', seq)));
    await sendRaw(b.ns, b.nsIf, frames);
    await vi.waitFor(async () => expect((await portStats(sw, 'p2')).txPackets).toBe('5'), WAIT);
    await atA.stop();
    await atB.stop();
    expect(await atA.fields(['frame.len', 'eth.type', 'ip.src', 'ip.dst', 'icmp.type', 'icmp.seq'])).toEqual([
      [String(PING_FRAME), '0x0800', '10.0.0.2', '10.0.0.1', '8', '1'],
      [String(PING_FRAME), '0x0800', '10.0.0.2', '10.0.0.1', '8', '2'],
    ]);
    expect(await atB.fields(['nsh.spi', 'nsh.si', 'nsh.ttl', 'ip.src', 'icmp.type', 'icmp.seq'])).toEqual([
      [String(0x123456), '254', '0x0009', '10.0.0.1', '0', '1'],
      [String(0x123456), '254', '0x0009', '10.0.0.1', '0', '2'],
    ]);
    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'in_port=p2').packets).toBe('2');
    expect(findFlow(flows, 1, 100, 'nw_dst=10.0.0.1')).toMatchObject({ packets: '2', bytes: String(2 * PING_FRAME) });
  });

  it('a packet looping with dec_nsh_ttl stops after exactly TTL hops, counted tag_ttl_expired', async () => {
    const udp = echo(a, b, '10.0.0.1', '10.0.0.2', 1);
    udp.writeUInt8(17, 14 + 9); // make it UDP to port 9999 (checksums do not matter to the switch)
    udp.writeUInt16BE(1234, 34);
    udp.writeUInt16BE(9999, 36);
    udp.writeUInt16BE(64, 38);
    udp.writeUInt16BE(0, 40);
    await sendRaw(a.ns, a.nsIf, [udp]);
    await vi.waitFor(async () => expect(nonZeroDrops(await portStats(sw, 'r0'))).toEqual({ tag_ttl_expired: 1 }), WAIT);
    const r0 = await portStats(sw, 'r0');
    // pushed with TTL 5: 5 hops through r0 (4 sent on, TTL 5 -> 1), the fifth dropped
    expect(r0).toMatchObject({ rxPackets: '5', txPackets: '5' });
    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'in_port=r0').packets).toBe('5');
    expect(findFlow(flows, 0, 200, 'tp_dst=9999').packets).toBe('1');
  });

  it('trace shows the push and the key it leaves', async () => {
    const r = await sw.cli(['trace', 'in_port=p1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=9999']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/push_nsh\(spi=0x7,si=255,ttl=5\) +dl_type: 0x0800 -> 0x894f, .*nsh_mdtype: 0 -> 1, nsh_np: 0 -> 3, nsh_spi: 0 -> 7, nsh_si: 0 -> 255, nsh_ttl: 0 -> 5\n/);
    expect(r.stdout).toMatch(/result +output to r0\n +r0: 98 bytes/); // 60 + Ethernet 14 + NSH 24
  });

  it('push_nsh without spi, with ttl > 63 or md_type 3 is refused, naming the argument', async () => {
    const bad: [string, RegExp][] = [
      ['table=0,priority=5,actions=push_nsh(si=1),output:p2', /push_nsh needs spi/],
      ['table=0,priority=5,actions=push_nsh(spi=1,ttl=64),output:p2', /push_nsh: ttl=64 is out of range \(0\.\.63\)/],
      ['table=0,priority=5,actions=push_nsh(spi=1,md_type=3),output:p2', /md_type=3/],
      ['table=0,priority=5,actions=push_nsh(spi=0x1000000),output:p2', /spi=0x1000000 is out of range/],
      ['table=0,priority=5,actions=push_nsh(spi=1,md_type=2,c1=5),output:p2', /c1\.\.c4/],
      ['table=0,priority=5,actions=encap(ethernet),output:p2', /encap\(ethernet\)/],
    ];
    for (const [text, msg] of bad) {
      const r = await sw.cli(['flow', 'add', text]);
      expect(r.code, text).toBe(1);
      expect(r.stderr.trim()).toMatch(msg);
      const i = text.indexOf(',actions=');
      const g = await sw.api.code('FlowService', 'AddFlows', { flows: [{ match: text.slice(0, i), actions: text.slice(i + 9) }] });
      expect(statusName(g.code), g.details).toBe(statusName(GrpcStatus.INVALID_ARGUMENT));
      expect(g.details).toMatch(msg);
    }
    expect(await flowDump(sw)).toHaveLength(5);
  });

  it("OVS's spelling: encap(nsh(md_type=1)),set_field->nsh_spi,encap(ethernet) and decap()", async () => {
    const r = await sw.cli(['flow', 'add',
      'table=2,priority=10,ip,actions=encap(nsh(md_type=1)),set_field:0x42->nsh_spi,set_field:3->nsh_si,encap(ethernet),dec_nsh_ttl,decap(),output:p2']);
    expect(r.code, r.stderr).toBe(0);
    const flows = await flowDump(sw);
    expect(findFlow(flows, 2, 10, 'ip').actions).toBe(
      'push_nsh(spi=0x0,si=255,ttl=63),set_field:0x42->nsh_spi,set_field:0x3->nsh_si,dec_nsh_ttl,pop_nsh,output:p2');
    expect((await sw.cli(['flow', 'del', 'table=2'])).code).toBe(0);
  });
});
