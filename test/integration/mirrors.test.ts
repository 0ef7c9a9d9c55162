/**
 * Mirrors with real traffic. Three namespaces: a (p1) pings b (p2); c (p3)
 * is where the copies go, with tcpdump listening.
 *
 *   - A port mirror (--src p1 --dst p1): c sees every echo request a sent
 *     and every reply a got, byte for byte as a's own capture has them,
 *     while ping loses nothing; `mirror list` counts the copies.
 *   - A flow mirror (mirror:NAME before output): c sees what the flow
 *     forwards, as it is at that point.
 *   - Refusals: a mirrored output port, an unknown port, deleting a mirror
 *     a flow names, deleting a port a mirror uses.
 *   - Persistence: the mirrors survive a daemon restart, and a data-plane
 *     restart gets them back from the desired state (copies flow again).
 */
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setStaticArp, Topology } from '../../src/lib/netns';
import { IS_ROOT } from '../helpers/paths';
import { afPacket, PING_FRAME, twoHosts } from '../helpers/hosts';
import { statusName } from '../helpers/grpc';
import { sleep, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping, readPcap, removeCapture, startCapture, type Capture } from '../helpers/traffic';

describe.skipIf(!IS_ROOT)('mirrors between three hosts', () => {
  const topo = new Topology('symi');
  let sw: Switch;
  let a: Awaited<ReturnType<typeof twoHosts>>[0];
  let b: Awaited<ReturnType<typeof twoHosts>>[1];
  let c: Awaited<ReturnType<typeof twoHosts>>[1];
  const caps: Capture[] = [];

  beforeAll(async () => {
    [a, b] = await twoHosts(topo);
    c = await topo.addHost('10.0.0.3/24');
    await setStaticArp(c.ns, c.nsIf, a.ip!, a.nsMac);
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: afPacket(0, a) },
        { name: 'p2', devargs: afPacket(1, b) },
        { name: 'p3', devargs: afPacket(2, c) },
      ],
      flows: ['table=0,priority=10,in_port=p1,actions=output:p2', 'table=0,priority=10,in_port=p2,actions=output:p1'],
    });
  });

  afterAll(async () => {
    for (const cap of caps) await removeCapture(cap);
    await sw?.stop();
    await topo.cleanup();
  });

  /** Frames seen in c (the mirror output) and in a, while fn runs. */
  async function captured(fn: () => Promise<void>): Promise<{ atC: Buffer[]; atA: Buffer[] }> {
    const capC = await startCapture(c.ns, c.nsIf, { direction: 'in', filter: 'icmp' });
    const capA = await startCapture(a.ns, a.nsIf, { filter: 'icmp' });
    caps.push(capC, capA);
    await fn();
    await capC.stop();
    await capA.stop();
    return { atC: await readPcap(capC.file), atA: await readPcap(capA.file) };
  }

  it('a port mirror (src and dst p1) copies every request a sent and every reply it got to p3; ping is unharmed', async () => {
    const r = await sw.cli(['mirror', 'add', 'm0', '--src', 'p1', '--dst', 'p1', '--output', 'p3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('mirror m0 added: src p1, dst p1, output p3\n');
    let res!: Awaited<ReturnType<typeof ping>>;
    const { atC, atA } = await captured(async () => {
      res = await ping(a.ns, b.ip!, { count: 3 });
    });
    expect(res.received).toBe(3);
    expect(atA).toHaveLength(6);
    // the same frames, in the same order: request, reply, ...
    expect(atC.map((f) => f.toString('hex'))).toEqual(atA.map((f) => f.toString('hex')));
    const [m] = await sw.cliJson<any[]>(['mirror', 'list']);
    expect(m).toMatchObject({ name: 'm0', src: ['p1'], dst: ['p1'], output: 'p3', packets: '6', bytes: String(6 * PING_FRAME), noMbuf: '0' });
    const text = await sw.cli(['mirror', 'list']);
    console.log(text.stdout);
    expect(text.stdout).toMatch(/^NAME +SRC +DST +OUTPUT +PACKETS +BYTES +NO_MBUF\nm0 +p1 +p1 +p3 +6 +588 +0\n$/);
    expect((await sw.cli(['mirror', 'del', 'm0'])).code).toBe(0);
    const after = await captured(async () => {
      await ping(a.ns, b.ip!, { count: 1 });
    });
    expect(after.atC).toEqual([]);
  });

  it('a flow mirror (mirror:NAME) copies what the flow forwards, as it is then', async () => {
    let r = await sw.cli(['mirror', 'add', 'replies', '--output', 'p3']);
    expect(r.code, r.stderr).toBe(0);
    r = await sw.cli(['flow', 'add', 'table=0,priority=200,icmp,in_port=p2,actions=mod_nw_tos:32,mirror:replies,output:p1']);
    expect(r.code, r.stderr).toBe(0);
    const { atC, atA } = await captured(async () => {
      expect((await ping(a.ns, b.ip!, { count: 2 })).received).toBe(2);
    });
    expect(atC).toHaveLength(2);
    const replies = atA.filter((f) => f[14 + 20] === 0); // ICMP type 0
    expect(atC.map((f) => f.toString('hex'))).toEqual(replies.map((f) => f.toString('hex')));
    expect(atC[0][15]).toBe(32); // the TOS as rewritten before the mirror
    const flows = await sw.cliJson<any[]>(['flow', 'dump']);
    expect(flows.find((f) => f.priority === 200).actions).toBe('mod_nw_tos:32,mirror:replies,output:p1');
  });

  it('refuses what cannot be, naming it', async () => {
    const add = (req: object) => sw.api.call('MirrorService', 'AddMirror', req).then(() => null, (e) => e);
    let e = await add({ name: 'x', src: ['p1'], output: 'p1' });
    expect([statusName(e.code), e.details]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/port 1 is both mirrored and the output/)]);
    e = await add({ name: 'x', src: ['nosuch'], output: 'p3' });
    expect([statusName(e.code), e.details]).toEqual(['NOT_FOUND', "port 'nosuch' does not exist"]);
    e = await add({ name: 'x', src: ['p3'], output: 'p2' });
    expect([statusName(e.code), e.details]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/port 3 is the output of mirror 'replies'/)]);
    e = await add({ name: 'replies', output: 'p2' });
    expect(statusName(e.code)).toBe('ALREADY_EXISTS');
    e = await add({ name: 'bad name', output: 'p2' });
    expect([statusName(e.code), e.details]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/name: 'bad name' must be/)]);
    let r = await sw.cli(['mirror', 'del', 'replies']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/mirror 'replies' is used by 1 flow\(s\), such as '.*mirror:replies.*'; delete them first/);
    r = await sw.cli(['port', 'del', 'p3']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/port 'p3' is used by mirror replies: delete the mirror first/);
    r = await sw.cli(['flow', 'add', 'table=0,priority=5,actions=mirror:nosuch']);
    expect(r.stderr).toMatch(/mirror:nosuch: no such mirror/);
    expect((await sw.cliJson<any[]>(['mirror', 'list'])).map((m) => m.name)).toEqual(['replies']);
  });

  it('config documents carry mirrors: exported, applied back unchanged, checked against the document', async () => {
    const dir = await fs.mkdtemp('/tmp/sy-mirror-doc-');
    try {
      const doc = `${dir}/export.yaml`;
      const text = (await sw.cli(['config', 'export'])).stdout;
      expect(text).toContain('mirrors:\n  - name: replies\n    output: p3\n');
      expect(text).toMatch(/actions=mod_nw_tos:32,mirror:replies,output:p1/);
      await fs.writeFile(doc, text);
      let r = await sw.cli(['config', 'apply', doc]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `no changes: the running state already matches ${doc}\n`, '']);
      // a change is one line of the difference (a dry run: the counters below stay)
      await fs.writeFile(doc, text.replace('  - name: replies\n', '  - name: replies\n    src: [p2]\n'));
      r = await sw.cli(['config', 'apply', '--dry-run', doc]);
      expect(r.stdout).toContain('~ mirror replies: { name: replies, output: p3 } -> { name: replies, src: [ p2 ], output: p3 }\n');
      const json = JSON.parse((await sw.cli(['--json', 'config', 'export'])).stdout);
      const write = async (name: string, o: unknown) => {
        await fs.writeFile(`${dir}/${name}`, JSON.stringify(o));
        return sw.cli(['config', 'apply', `${dir}/${name}`]);
      };
      // the mirror's output must be a port of the document
      r = await write('no-p3.json', { ...json, ports: json.ports.filter((p: any) => p.name !== 'p3') });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/mirrors\[0\]\.output: port 'p3' is not in the document/);
      // a flow may only name a mirror of the document
      r = await write('no-mirror.json', { ...json, mirrors: [] });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/flows\[\d+\]: .*mirror:replies/);
      r = await write('bad.json', { ...json, mirrors: [{ name: 'x', src: 'p1', output: 'p3' }] });
      expect(r.stderr).toMatch(/mirrors\[0\]\.src: expected a list of ports/);
      expect((await sw.cliJson<any[]>(['port', 'list'])).map((p) => p.name)).toEqual(['p1', 'p2', 'p3']);
      expect((await sw.cliJson<any[]>(['mirror', 'list'])).map((m) => [m.name, m.output, m.packets])).toEqual([['replies', 'p3', '2']]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('mirrors survive a daemon restart, and a data-plane restart gets them back', async () => {
    await sw.restartDaemon();
    expect((await sw.cliJson<any[]>(['mirror', 'list'])).map((m) => [m.name, m.output, m.packets])).toEqual([['replies', 'p3', '2']]);
    const pid = (await sw.cliJson<any>(['status'])).pid;
    process.kill(pid, 'SIGKILL');
    await waitUntil('a new data plane', async () => {
      const s = await sw.cliJson<any>(['status']).catch(() => undefined);
      return s && s.dataplane === 'connected' && s.pid !== pid ? s : undefined;
    }, 30_000);
    await waitUntil('the ports up again', async () => {
      const ports = await sw.cliJson<any[]>(['port', 'list']).catch(() => []);
      return ports.length === 3 && ports.every((p) => p.linkUp) ? ports : undefined;
    });
    await sleep(500);
    const { atC } = await captured(async () => {
      expect((await ping(a.ns, b.ip!, { count: 2 })).received).toBe(2);
    });
    expect(atC).toHaveLength(2);
    expect((await sw.cliJson<any[]>(['mirror', 'list']))[0]).toMatchObject({ name: 'replies', packets: '2' });
    const state = JSON.parse(await fs.readFile(sw.stateFile, 'utf8').catch(() => '{}'));
    const journal = await fs.readFile(`${sw.stateFile}.journal`, 'utf8').catch(() => '');
    expect(JSON.stringify(state) + journal).toMatch(/"mirrors":\[\{"name":"replies","id":\d+,"outPort":3,"src":\[\],"dst":\[\]\}\]/);
  });
});
