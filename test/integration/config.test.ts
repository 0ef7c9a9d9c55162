/**
 * Declarative configuration end to end: CLI -> gRPC -> daemon -> addon ->
 * data plane, with ping through real ports.
 *
 * Three hosts on veth pairs (net_af_packet): a (10.0.0.1) and b (10.0.0.2),
 * and c, a stand-in for b with b's address and MAC on a port of its own.
 * The switch starts with ports and flows made by ordinary commands; its
 * export applied back changes nothing and disturbs no traffic (the flows'
 * counters keep counting); an edited document (port p3 added, a's flow sent
 * to p3) moves a's pings to c; a dry run changes nothing; a document with
 * a bad flow, one with more flows than the switch takes, and one with a
 * port the data plane refuses change nothing and name the item (the state
 * file stays as it was); a document with a group forwards through it;
 * after a daemon restart the applied state is still there and still
 * forwards.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, setStaticArp, Topology, type Veth } from '../../src/lib/netns';
import { afPacket, ICMP_FORWARD, twoHosts } from '../helpers/hosts';
import { GrpcStatus } from '../helpers/grpc';
import { CLI_JS, IS_ROOT } from '../helpers/paths';
import { findFlow, flowDump, portStats, startSwitch, waitUntil, type Switch } from '../helpers/switch';
import { ping } from '../helpers/traffic';

/** The switch takes at most this many flows (switchyardd --max-flows). */
const MAX_FLOWS = 6;

describe.skipIf(!IS_ROOT)('config apply / export', () => {
  const topo = new Topology('sycf');
  let sw: Switch;
  let a: Veth;
  let b: Veth;
  let c: Veth;
  let dir: string;

  const file = (name: string) => path.join(dir, name);
  const write = async (name: string, text: string) => {
    await fs.writeFile(file(name), text);
    return file(name);
  };
  /** The state file and its journal, byte for byte. */
  const stateBytes = async () => {
    const read = (f: string) => fs.readFile(f, 'utf8').catch(() => '');
    return (await read(sw.stateFile)) + '\0' + (await read(`${sw.stateFile}.journal`));
  };
  const exported = async () => {
    const r = await sw.cli(['config', 'export']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  const linksUp = (names: string[]) =>
    waitUntil(`links of ${names.join(', ')} up`, async () => {
      const ports = await sw.cliJson<{ name: string; linkUp: boolean }[]>(['port', 'list']);
      return names.every((n) => ports.find((p) => p.name === n)?.linkUp);
    });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sy-config-'));
    [a, b] = await twoHosts(topo);
    // c answers for 10.0.0.2 with b's MAC, so a's pings work whichever port carries them
    c = await topo.addHost('10.0.0.2/24', { nsMac: b.nsMac });
    await setStaticArp(c.ns, c.nsIf, a.ip!, a.nsMac);
    sw = await startSwitch({ daemonArgs: ['--max-flows', String(MAX_FLOWS)] });
    for (const [name, v, n] of [['p1', a, 0], ['p2', b, 1]] as const) {
      const r = await sw.cli(['port', 'add', name, afPacket(n, v)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await sw.cli(['flow', 'add', ...ICMP_FORWARD]);
    expect(r.code, r.stderr).toBe(0);
    await linksUp(['p1', 'p2']);
  });

  afterAll(async () => {
    await sw?.stop();
    await topo.cleanup();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('export: ports, tables and flows as YAML or JSON, port names in the flows', async () => {
    expect(await exported()).toBe(
      [
        'ports:',
        '  - name: p1',
        `    devargs: ${afPacket(0, a)}`,
        '    id: 1',
        '  - name: p2',
        `    devargs: ${afPacket(1, b)}`,
        '    id: 2',
        'tables: []',
        'flows:',
        '  - table=0,priority=100,icmp,in_port=p1,actions=output:p2',
        '  - table=0,priority=100,icmp,in_port=p2,actions=output:p1',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await sw.cli(['--json', 'config', 'export'])).stdout);
    expect(json.flows).toEqual(['table=0,priority=100,icmp,in_port=p1,actions=output:p2', 'table=0,priority=100,icmp,in_port=p2,actions=output:p1']);
    const o = await sw.cli(['config', 'export', '-o', file('export.json')]);
    expect(o.code, o.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(file('export.json'), 'utf8'))).toEqual(json);
  });

  it('applying the export changes nothing and disturbs no traffic', async () => {
    expect((await ping(a.ns, b.ip!, { count: 5 })).received).toBe(5);
    const before = await stateBytes();
    const doc = await write('export.yaml', await exported());
    // pings cross while the document is applied
    const pinging = ping(a.ns, b.ip!, { count: 10, intervalS: 0.1 });
    const r = await sw.cli(['config', 'apply', doc]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`no changes: the running state already matches ${doc}\n`);
    expect((await pinging).received).toBe(10);
    const j = await sw.cliJson(['config', 'apply', file('export.json')]);
    expect(j).toMatchObject({ applied: false, dryRun: false, changes: [], diff: [] });
    // the entries were not replaced: their counters kept every packet
    const flows = await flowDump(sw);
    expect(findFlow(flows, 0, 100, 'icmp,in_port=p1').packets).toBe('15');
    expect(await stateBytes()).toBe(before);
  });

  let edited: string;

  it('--dry-run prints the difference and changes nothing', async () => {
    const before = await stateBytes();
    const exportBefore = await exported();
    const text = exportBefore
      .replace('tables: []', `  - name: p3\n    devargs: ${afPacket(2, c)}\ntables: []`)
      .replace('in_port=p1,actions=output:p2', 'in_port=p1,actions=output:p3')
      .replace(/\n$/, '\n  - table=0,priority=100,icmp,in_port=p3,actions=output:p1\n');
    edited = await write('edited.yaml', text);
    const r = await sw.cli(['config', 'apply', '--dry-run', edited]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        `+ port p3 ${afPacket(2, c)} id=3`,
        '~ flow table=0,priority=100,icmp,in_port=p1: actions=output:p2 -> actions=output:p3',
        '+ flow table=0,priority=100,icmp,in_port=p3,actions=output:p1',
        'dry run, nothing changed: 1 port to add, 1 flow to add, 1 flow to change',
        '',
      ].join('\n'),
    );
    // the same from standard input
    const stdin = await run('sh', ['-c', `"${process.execPath}" "${CLI_JS}" --server ${sw.server} --json config apply --dry-run - < "${edited}"`]);
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(JSON.parse(stdin.stdout)).toMatchObject({ applied: false, dryRun: true, summary: '1 port to add, 1 flow to add, 1 flow to change' });
    expect((await sw.cliJson<unknown[]>(['port', 'list'])).length).toBe(2);
    expect(await exported()).toBe(exportBefore);
    expect(await stateBytes()).toBe(before);
  });

  it('an edited document: port p3 added, a flow sent there; the pings go to c', async () => {
    const r = await sw.cli(['config', 'apply', edited]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe('applied: 1 port added, 1 flow added, 1 flow changed');
    await linksUp(['p1', 'p2', 'p3']);
    const p2Before = await portStats(sw, 'p2');
    expect((await ping(a.ns, c.ip!, { count: 5 })).received).toBe(5);
    expect(await portStats(sw, 'p3')).toMatchObject({ txPackets: '5', rxPackets: '5' });
    expect((await portStats(sw, 'p2')).txPackets).toBe(p2Before.txPackets);
    // the document as applied, with the number p3 was given
    const p3 = `    devargs: ${afPacket(2, c)}\n`;
    expect(await exported()).toBe((await fs.readFile(edited, 'utf8')).replace(p3, `${p3}    id: 3\n`));
  });

  it('a bad flow in the middle: nothing changes, the error names flows[N]', async () => {
    const before = await stateBytes();
    const exportBefore = await exported();
    const text = exportBefore
      .replace('  - name: p3', '  - name: p4\n    devargs: net_null0\n  - name: p3')
      .replace('flows:\n', 'flows:\n  - table=0,priority=1,actions=drop\n  - table=0,priority=5,in_port=p9,actions=drop\n');
    const r = await sw.cli(['config', 'apply', await write('bad-flow.yaml', text)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`switchyard: ${file('bad-flow.yaml')}: flows[1]: unknown port 'p9' in 'table=0,priority=5,in_port=p9,actions=drop'\n`);
    expect(await exported()).toBe(exportBefore);
    expect((await sw.cliJson<unknown[]>(['port', 'list'])).length).toBe(3);
    expect(await stateBytes()).toBe(before);
  });

  it('flows the data plane refuses: the port added first goes again, the error names the flow', async () => {
    const before = await stateBytes();
    const exportBefore = await exported();
    // three flows in place; four more exceed --max-flows
    const more = [4, 3, 2, 1].map((i) => `  - table=1,priority=${i},actions=drop\n`).join('');
    const text = exportBefore.replace('  - name: p3', '  - name: p4\n    devargs: net_null0\n  - name: p3') + more;
    const r = await sw.cli(['config', 'apply', await write('too-many.yaml', text)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^switchyard: ${file('too-many.yaml')}: flows\\[6\\]: .*${MAX_FLOWS}.* \\(the 1 step\\(s\\) already made were undone; nothing changed\\)\\n$`),
    );
    expect((await sw.cliJson<{ name: string }[]>(['port', 'list'])).map((p) => p.name)).toEqual(['p1', 'p2', 'p3']);
    expect((await flowDump(sw)).length).toBe(3);
    expect(await exported()).toBe(exportBefore);
    expect(await stateBytes()).toBe(before);
  });

  it('a port the data plane refuses: every step before it is undone, the state file is unchanged', async () => {
    const before = await stateBytes();
    const exportBefore = await exported();
    const flowsBefore = (await flowDump(sw)).map((f) => `${f.table}/${f.priority}/${f.match}/${f.actions}`).sort();
    const text = exportBefore
      .replace('tables: []', 'tables:\n  - { id: 1, name: acl, miss: continue }')
      .replace('  - name: p3', '  - name: p4\n    devargs: net_null0\n  - name: p5\n    devargs: net_bogus0\n  - name: p3')
      .replace(/\n$/, '\n  - table=1,priority=1,actions=drop\n');
    const r = await sw.cli(['config', 'apply', await write('bad-port.yaml', text)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^switchyard: ${file('bad-port.yaml')}: ports\\[3\\]: .*net_bogus0.* \\(the 2 step\\(s\\) already made were undone; nothing changed\\)\\n$`));
    expect((await sw.cliJson<{ name: string }[]>(['port', 'list'])).map((p) => p.name)).toEqual(['p1', 'p2', 'p3']);
    expect((await sw.cliJson<{ id: number; name: string }[]>(['table', 'list'])).filter((t) => t.name !== '')).toEqual([]);
    expect((await flowDump(sw)).map((f) => `${f.table}/${f.priority}/${f.match}/${f.actions}`).sort()).toEqual(flowsBefore);
    expect(await exported()).toBe(exportBefore);
    expect(await stateBytes()).toBe(before);
    expect((await ping(a.ns, c.ip!, { count: 3 })).received).toBe(3);
  });

  it('over gRPC: faults are INVALID_ARGUMENT naming the field or path; a dry run reports the changes', async () => {
    const fail = (req: object) => sw.api.call('ConfigService', 'ApplyConfig', req).then(() => ({ code: 0, details: '' }), (e) => ({ code: e.code, details: e.details }));
    expect(await fail({ document: 'flows: []', format: 'xml' })).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: "format: 'xml' is not a document format (yaml or json)" });
    expect(await fail({ document: '{"flows": [}', format: 'json', source: 'api' })).toEqual({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: 'api: line 1, column 12: invalid JSON: unexpected "}"',
    });
    expect(await fail({ document: 'meters: [{id: 1, rate: 0}]' })).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: "meters[0].rate: '0' is not valid: kbit/s (1..100000000)" });
    expect(await fail({ document: 'flows: ["actions=meter:4"]' })).toEqual({ code: GrpcStatus.NOT_FOUND, details: 'flows[0]: meter:4: the document has no meter 4' });
    expect(await fail({ document: 'ports: [{name: p1, devargs: net_null0}]\nflows: ["in_port=p2,actions=drop"]' })).toEqual({
      code: GrpcStatus.NOT_FOUND,
      details: "flows[0]: unknown port 'p2' in 'in_port=p2,actions=drop'",
    });
    expect(await fail({ document: 'ports: 5' })).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: 'ports: expected a list' });
    const exp = await sw.api.call('ConfigService', 'ExportConfig', { format: 'json' });
    expect(exp.format).toBe('json');
    const dry = await sw.api.call('ConfigService', 'ApplyConfig', { document: exp.document.replace(/,\s*"table=0,priority=100,icmp,in_port=p3[^"]*"/, ''), dryRun: true });
    expect(dry).toMatchObject({ applied: false, diff: '- flow table=0,priority=100,icmp,in_port=p3,actions=output:p1\n' });
    expect(dry.changes).toEqual([
      { kind: 'flow', op: 'delete', name: 'table=0,priority=100,icmp,in_port=p3', before: 'table=0,priority=100,icmp,in_port=p3,actions=output:p1', after: '' },
    ]);
    expect((await fail({ format: 'yamlx' })).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect((await sw.api.call('ConfigService', 'ExportConfig', {})).format).toBe('yaml');
  });

  it('a group in the document: added before the flow that uses it, which then forwards through it', async () => {
    const text = (await exported())
      .replace('icmp,in_port=p1,actions=output:p3', 'icmp,in_port=p1,actions=group:1')
      .replace('flows:\n', 'groups:\n  - group_id=1,type=indirect,bucket=actions=output:p3\nflows:\n');
    expect(text).toContain('actions=group:1');
    const r = await sw.cli(['config', 'apply', await write('group.yaml', text)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+ group group_id=1,type=indirect,bucket=actions=output:p3\n');
    expect(r.stdout.trim().split('\n').pop()).toBe('applied: 1 group added, 1 flow changed');
    expect((await ping(a.ns, c.ip!, { count: 4 })).received).toBe(4);
    const [g] = await sw.cliJson<any[]>(['group', 'stats', '1']);
    expect(Number(g.packets)).toBe(4);
    expect(await exported()).toBe(text);
  });

  it('a daemon restart keeps the applied state', async () => {
    const exportBefore = await exported();
    await sw.restartDaemon();
    expect(await exported()).toBe(exportBefore);
    const p3 = await portStats(sw, 'p3');
    expect((await ping(a.ns, c.ip!, { count: 5 })).received).toBe(5);
    expect(Number((await portStats(sw, 'p3')).txPackets) - Number(p3.txPackets)).toBe(5);
    // and its export still applies as a no-op
    const r = await sw.cli(['config', 'apply', await write('after-restart.yaml', exportBefore)]);
    expect(r.stdout).toMatch(/^no changes: /);
  });
});
