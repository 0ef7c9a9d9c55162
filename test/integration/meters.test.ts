/**
 * Meters with real traffic: a pps meter over a counted pcap burst passes
 * its bucket and drops the rest under `meter`; iperf3 (UDP) through a
 * 100 Mbit/s meter measures 100 Mbit/s within 10% (at the receiver); a DSCP remark band
 * rewrites the DSCP of what goes over the rate (read by tshark on the
 * receiving side) and drops nothing; a two-band meter (remark, then drop)
 * counts per band, and the capture agrees; bad input is refused naming what is
 * wrong; two poll-mode lcores share one bucket (not one each); meters and
 * their counters survive a daemon restart, and a data
 * plane restart gets them back from the desired state.
 */
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, nsExec } from '../../src/lib/netns';
import { IS_ROOT } from '../helpers/paths';
import { twoHosts, twoHostSwitch } from '../helpers/hosts';
import { nonZeroDrops, portStats, sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { statusName } from '../helpers/grpc';
import { removeCapture, startCapture, writePcap, type Capture } from '../helpers/traffic';
import { udpFrame } from '../helpers/frames';

async function meterStats(sw: Switch, id: number): Promise<{ passPackets: string; passBytes: string; bandPackets: string; bandBytes: string; rate: number; burst: number; band: string; dscp: number }> {
  const [s] = await sw.cliJson<any[]>(['meter', 'stats', String(id)]);
  return s;
}

describe.skipIf(!IS_ROOT)('a pps meter over a counted burst', () => {
  let sw: Switch;
  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-meter-'));
    sw = await startSwitch({ ports: [{ name: 'out', devargs: 'net_null0,no-rx=1' }] });
  });

  afterAll(async () => {
    await sw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('passes the bucket (100 packets) of 2,000 sent at once, the rest dropped under meter', async () => {
    const file = path.join(dir, 'burst.pcap');
    await writePcap(file, Array.from({ length: 2000 }, (_, i) => udpFrame('10.0.0.1', '10.0.0.2', 1000 + (i % 1000), 9)));
    let r = await sw.cli(['meter', 'add', '1', '--pps', '100', '--burst', '100']);
    expect(r.code, r.stderr).toBe(0);
    r = await sw.cli(['flow', 'add', 'table=0,priority=10,in_port=7,actions=meter:1,output:out']);
    expect(r.code, r.stderr).toBe(0);
    // The pcap is read once, as fast as the switch takes it: a few ms for 2,000 frames.
    r = await sw.cli(['port', 'add', 'src', `net_pcap0,rx_pcap=${file}`, '--id', '7']);
    expect(r.code, r.stderr).toBe(0);
    const src = await waitUntil('the burst to be read', async () => {
      const s = await portStats(sw, 'src');
      return Number(s.rxPackets) === 2000 ? s : undefined;
    });
    const m = await meterStats(sw, 1);
    const pass = Number(m.passPackets);
    console.log(`pps meter: 100 pps, burst 100; 2000 sent at once, ${pass} passed, ${m.bandPackets} dropped`);
    // The full bucket, plus what 100 pps refills while the burst is read (well under 1 s).
    expect(pass).toBeGreaterThanOrEqual(100);
    expect(pass).toBeLessThan(110);
    expect(Number(m.bandPackets)).toBe(2000 - pass);
    expect(Number(m.passBytes)).toBe(pass * 60);
    expect(nonZeroDrops(src)).toEqual({ meter: 2000 - pass });
    const out = await portStats(sw, 'out');
    expect(Number(out.txPackets)).toBe(pass);
  });

  it('refuses bad input, naming it', async () => {
    let r = await sw.cli(['flow', 'add', 'table=0,priority=20,in_port=7,actions=meter:9,output:out']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/meter:9, no such meter/);
    r = await sw.cli(['meter', 'add', '2', '--kbps', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--kbps '0': expected 1\.\.100000000/);
    r = await sw.cli(['meter', 'add', '2', '--kbps', '10', '--pps', '10']);
    expect(r.stderr).toMatch(/exactly one of --kbps N or --pps N/);
    r = await sw.cli(['meter', 'add', '2', '--kbps', '10', '--remark-dscp', '64']);
    expect(r.stderr).toMatch(/--remark-dscp '64': expected 0\.\.63/);
    r = await sw.cli(['meter', 'add', '1', '--pps', '5']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/meter 1 already exists/);
    r = await sw.cli(['meter', 'del', '1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/meter 1 is used by 1 flow\(s\), such as 'table=0,priority=10,in_port=src,actions=meter:1,output:out'; delete them first/);
    r = await sw.cli(['meter', 'del', '3']);
    expect(r.stderr).toMatch(/meter 3 does not exist/);
    // gRPC: a zero rate is INVALID_ARGUMENT naming the field; a meter in use is FAILED_PRECONDITION
    let g = await sw.api.code('MeterService', 'AddMeter', { id: 2, unit: 'METER_UNIT_KBPS', rate: 0 });
    expect([statusName(g.code), g.details]).toEqual(['INVALID_ARGUMENT', "meter.rate: '0' is not valid: kbit/s (1..100000000)"]);
    g = await sw.api.code('MeterService', 'AddMeter', { id: 0, rate: 10 });
    expect([statusName(g.code), g.details]).toEqual(['INVALID_ARGUMENT', "meter.id: '0' is not valid: a meter id (1..65535)"]);
    g = await sw.api.code('MeterService', 'DeleteMeter', { id: 1 });
    expect(statusName(g.code)).toBe('FAILED_PRECONDITION');
    g = await sw.api.code('FlowService', 'AddFlows', { flows: [{ match: 'table=0,priority=30', actions: 'meter:9,output:out' }] });
    expect([statusName(g.code), g.details]).toEqual(['NOT_FOUND', expect.stringMatching(/meter:9, no such meter/)]);
    expect((await sw.cliJson<any[]>(['meter', 'list'])).map((m) => m.id)).toEqual([1]);
  });

  it('meters and their counters survive a daemon restart; a data plane restart gets them back', async () => {
    const before = await meterStats(sw, 1);
    await sw.restartDaemon();
    const after = await meterStats(sw, 1);
    expect(after).toMatchObject({ rate: 100, burst: 100, band: 'drop', passPackets: before.passPackets, bandPackets: before.bandPackets });
    const pid = (await sw.cliJson<any>(['status'])).pid;
    process.kill(pid, 'SIGKILL');
    await waitUntil('a new data plane', async () => {
      const s = await sw.cliJson<any>(['status']).catch(() => undefined);
      return s && s.dataplane === 'connected' && s.pid !== pid ? s : undefined;
    }, 30_000);
    // The new data plane got the meter before the flow, and both before the
    // pcap port came up and replayed its 2,000 frames: the meter passed its
    // bucket again.
    await waitUntil('the burst to be read again', async () => Number((await portStats(sw, 'src')).rxPackets) === 2000);
    const fresh = await meterStats(sw, 1);
    expect(fresh).toMatchObject({ rate: 100, burst: 100, band: 'drop' });
    expect(Number(fresh.passPackets)).toBeGreaterThanOrEqual(100);
    expect(Number(fresh.passPackets)).toBeLessThan(110);
    expect(Number(fresh.passPackets) + Number(fresh.bandPackets)).toBe(2000);
    const flows = await sw.cliJson<any[]>(['flow', 'dump']);
    expect(flows).toEqual([expect.objectContaining({ table: 0, priority: 10, match: 'in_port=src', actions: 'meter:1,output:out', packets: '2000' })]);
    const state = JSON.parse(await fs.readFile(sw.stateFile, 'utf8').catch(() => '{}'));
    const journal = await fs.readFile(`${sw.stateFile}.journal`, 'utf8').catch(() => '');
    expect(JSON.stringify(state) + journal).toMatch(/"meters":\[\{"id":1,"unit":"pps","rate":100,"burst":100,"band":"drop"\}\]/);
  });
});

describe.skipIf(!IS_ROOT)('one meter shared by two poll-mode lcores', () => {
  let sw: Switch;
  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-meter2-'));
    // two PMD lcores (both on CPU 1: the machine may have two CPUs)
    sw = await startSwitch({ lcores: '0@0,1@1,2@1', ports: [{ name: 'out', devargs: 'net_null0,no-rx=1' }] });
  });

  afterAll(async () => {
    await sw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('passes one bucket in all, not one per lcore', async () => {
    const file = path.join(dir, 'burst.pcap');
    await writePcap(file, Array.from({ length: 2000 }, (_, i) => udpFrame('10.0.0.1', '10.0.0.2', 1000 + (i % 1000), 9)));
    expect((await sw.cli(['meter', 'add', '1', '--pps', '1', '--burst', '100'])).code).toBe(0);
    for (const port of [7, 8]) {
      const r = await sw.cli(['flow', 'add', `table=0,priority=10,in_port=${port},actions=meter:1,output:out`]);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const [name, id, n] of [['src1', 7, 0], ['src2', 8, 1]] as const) {
      const r = await sw.cli(['port', 'add', name, `net_pcap${n},rx_pcap=${file}`, '--id', String(id)]);
      expect(r.code, r.stderr).toBe(0);
    }
    await waitUntil('both bursts to be read', async () => {
      const [a, b] = [await portStats(sw, 'src1'), await portStats(sw, 'src2')];
      return Number(a.rxPackets) === 2000 && Number(b.rxPackets) === 2000;
    });
    // each pcap port is polled by its own lcore
    const pmds = await sw.cliJson<any[]>(['pmd', 'stats']);
    const pollers = (id: number) => pmds.filter((p) => p.rxQueues.some((q: any) => q.portId === id)).map((p) => p.slot);
    expect(pollers(7)).toHaveLength(1);
    expect(pollers(8)).toHaveLength(1);
    expect(pollers(7)[0]).not.toBe(pollers(8)[0]);
    const m = await meterStats(sw, 1);
    console.log(`two lcores, one meter (1 pps, burst 100): 4000 sent, ${m.passPackets} passed`);
    // 100, plus at most a token or two refilled at 1 pps while the ports were added
    expect(Number(m.passPackets)).toBeGreaterThanOrEqual(100);
    expect(Number(m.passPackets)).toBeLessThanOrEqual(103);
    expect(Number(m.passPackets) + Number(m.bandPackets)).toBe(4000);
  });
});

describe.skipIf(!IS_ROOT)('meters between two hosts', () => {
  const topo = new Topology('sym');
  let sw: Switch;
  let a: Awaited<ReturnType<typeof twoHosts>>[0];
  let b: Awaited<ReturnType<typeof twoHosts>>[1];
  let cap: Capture | undefined;

  beforeAll(async () => {
    ({ a, b, sw } = await twoHostSwitch(topo));
  });

  afterAll(async () => {
    await removeCapture(cap);
    await sw?.stop();
    await topo.cleanup();
  });

  it('iperf3 (UDP, offered 200 Mbit/s) through a 100 Mbit/s meter measures 100 Mbit/s within 10%', async () => {
    let r = await sw.cli(['meter', 'add', '3', '--kbps', '100000']);
    expect(r.code, r.stderr).toBe(0);
    r = await sw.cli(['flow', 'add', 'table=0,priority=20,udp,in_port=p1,actions=meter:3,output:p2']);
    expect(r.code, r.stderr).toBe(0);
    topo.spawn(b.ns, ['iperf3', '-s', '-1', '-p', '5401']);
    await sleep(500);
    const run = await nsExec(a.ns, ['iperf3', '-c', '10.0.0.2', '-p', '5401', '-u', '-b', '200M', '-t', '4', '-O', '1', '-J'], { timeoutMs: 60_000 });
    expect(run.code, run.stderr + run.stdout.slice(-2000)).toBe(0);
    const j = JSON.parse(run.stdout);
    const sent = j.end.sum.bits_per_second as number;
    // what the receiver got (UDP payload: about 97% of the frame bytes the meter counts)
    const got = j.end.sum_received.bits_per_second as number;
    const m = await meterStats(sw, 3);
    const p1 = await portStats(sw, 'p1');
    console.log(`iperf3 UDP through a 100 Mbit/s meter: offered ${(sent / 1e6).toFixed(1)} Mbit/s, received ${(got / 1e6).toFixed(1)} Mbit/s (payload); meter passed ${m.passPackets}, dropped ${m.bandPackets}`);
    expect(sent).toBeGreaterThan(150e6);
    expect(got).toBeGreaterThan(90e6);
    expect(got).toBeLessThan(110e6);
    expect(Number(m.bandPackets)).toBeGreaterThan(0);
    expect(nonZeroDrops(p1).meter).toBe(Number(m.bandPackets));
  });

  it('a DSCP remark band rewrites the DSCP of packets over the rate and drops none', async () => {
    let r = await sw.cli(['meter', 'add', '4', '--pps', '10', '--burst', '5', '--remark-dscp', '46']);
    expect(r.code, r.stderr).toBe(0);
    r = await sw.cli(['flow', 'add', 'table=0,priority=20,icmp,in_port=p1,actions=meter:4,output:p2']);
    expect(r.code, r.stderr).toBe(0);
    const meterDropsBefore = nonZeroDrops(await portStats(sw, 'p1')).meter ?? 0;
    cap = await startCapture(b.ns, b.nsIf, { filter: 'icmp', direction: 'in' });
    // every request answered: b's kernel took the rewritten headers (IPv4 checksum updated)
    const ping = await nsExec(a.ns, ['ping', '-n', '-q', '-c', '40', '-i', '0.01', '-W', '1', '10.0.0.2']);
    expect(ping.stdout).toMatch(/40 packets transmitted, 40 received/);
    await cap.stop();
    const dscp = await cap.fields(['ip.dsfield.dscp'], 'icmp.type == 8');
    const m = await meterStats(sw, 4);
    expect(dscp.length).toBe(40);
    const remarked = dscp.filter(([d]) => d === '46').length;
    const plain = dscp.filter(([d]) => d === '0').length;
    console.log(`DSCP remark: 40 pings at 100/s through 10 pps (burst 5): ${plain} with DSCP 0, ${remarked} with DSCP 46`);
    expect(remarked + plain).toBe(40);
    expect(remarked).toBe(Number(m.bandPackets));
    expect(plain).toBe(Number(m.passPackets));
    expect(plain).toBeGreaterThanOrEqual(5);
    expect(remarked).toBeGreaterThanOrEqual(25);
    // the first packets are within the burst and keep DSCP 0
    expect(dscp.slice(0, 5).every(([d]) => d === '0')).toBe(true);
    expect(nonZeroDrops(await portStats(sw, 'p1')).meter ?? 0).toBe(meterDropsBefore);
  });

  it('two bands (remark DSCP 46 at 10 pps, drop at 20 pps): per-band counters add up, and the capture shows the remarked ones', async () => {
    let r = await sw.cli(['meter', 'add', '5', '--unit', 'pps', '--band', 'type=dscp_remark,rate=10,burst=5,dscp=46', '--band', 'type=drop,rate=20,burst=10']);
    expect(r.code, r.stderr).toBe(0);
    r = await sw.cli(['flow', 'add', 'table=0,priority=20,icmp,in_port=p1,actions=meter:5,output:p2']);
    expect(r.code, r.stderr).toBe(0);
    const dropsBefore = nonZeroDrops(await portStats(sw, 'p1')).meter ?? 0;
    cap = await startCapture(b.ns, b.nsIf, { filter: 'icmp', direction: 'in' });
    const ping = await nsExec(a.ns, ['ping', '-n', '-q', '-c', '60', '-i', '0.01', '-W', '1', '10.0.0.2']);
    await cap.stop();
    const [m] = await sw.cliJson<any[]>(['meter', 'stats', '5']);
    const [green, yellow, red] = [Number(m.passPackets), Number(m.bandStats[0].packets), Number(m.bandStats[1].packets)];
    const dscp = await cap.fields(['ip.dsfield.dscp'], 'icmp.type == 8');
    console.log(`two-band meter: 60 pings at 100/s, ${green} passed (DSCP 0), ${yellow} remarked (DSCP 46), ${red} dropped; captured ${dscp.length}`);
    expect(m.bands.map((x: any) => [x.type, x.rate, x.burst, x.dscp])).toEqual([
      ['dscp_remark', 10, 5, 46],
      ['drop', 20, 10, 0],
    ]);
    // every request is green, yellow or red, counted once
    expect(green + yellow + red).toBe(60);
    expect(Number(m.bandPackets)).toBe(yellow + red);
    expect(Number(m.passBytes) + Number(m.bandStats[0].bytes) + Number(m.bandStats[1].bytes)).toBe(60 * 98);
    // the drop band's bucket (10 + 20 pps for ~0.6 s) lets about 22 through, the remark band's about 11 of those unmarked
    expect(green + yellow).toBeGreaterThanOrEqual(20);
    expect(green + yellow).toBeLessThanOrEqual(30);
    expect(green).toBeGreaterThanOrEqual(5);
    expect(yellow).toBeGreaterThanOrEqual(5);
    // on the wire: the green with DSCP 0, the yellow with 46, the red not at all
    expect(dscp.filter(([d]) => d === '0').length).toBe(green);
    expect(dscp.filter(([d]) => d === '46').length).toBe(yellow);
    expect(dscp.length).toBe(green + yellow);
    expect(ping.stdout).toMatch(new RegExp(`60 packets transmitted, ${green + yellow} received`));
    expect((nonZeroDrops(await portStats(sw, 'p1')).meter ?? 0) - dropsBefore).toBe(red);
    // kept as bands in the desired state; a daemon restart finds them running and leaves them (and their counters)
    await sw.restartDaemon();
    const [after] = await sw.cliJson<any[]>(['meter', 'stats', '5']);
    expect(after.bands).toEqual(m.bands);
    expect(after.bandStats).toEqual(m.bandStats);
    const state = JSON.parse(await fs.readFile(sw.stateFile, 'utf8').catch(() => '{}'));
    const journal = await fs.readFile(`${sw.stateFile}.journal`, 'utf8').catch(() => '');
    expect(JSON.stringify(state) + journal).toContain('{"id":5,"unit":"pps","bands":[{"type":"dscp_remark","rate":10,"burst":5,"dscp":46},{"type":"drop","rate":20,"burst":10}]}');
  });
});
