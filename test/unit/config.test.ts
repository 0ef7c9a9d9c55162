/**
 * Declarative configuration: the document parser (paths of faults, syntax
 * errors with line and column, bad meters and groups named), the exporter (stable
 * order, defaults left out) and Switch.applyConfig against an in-memory
 * data plane: the difference and its order, dry runs and no-ops that
 * change nothing, checks before anything is touched, and a refusal in the
 * middle that rolls every step back exactly.
 */
import { status } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatFlowMod, parseFlow } from '../../src/flowspec';
import { summarize } from '../../src/cli/config';
import { configDocument, exportConfig, flowTexts, parseConfig } from '../../src/mgmt/config';
import { classify } from '../../src/mgmt/errors';
import { silentLogger } from '../../src/mgmt/log';
import { DesiredState, emptyState, StateSaver, StateStore } from '../../src/mgmt/state';
import { FLOW_BATCH_MAX, Switch } from '../../src/mgmt/switch';
import { dpError, FakeDataplane } from './fake-dataplane';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

class CountingSaver implements StateSaver {
  fail = false;
  saves = 0;
  async save(): Promise<void> {
    if (this.fail) throw new Error('ENOSPC: no space left on device');
    this.saves++;
  }
}

function parseError(text: string, source = 'c.yaml', format: '' | 'json' | 'yaml' = ''): string {
  try {
    parseConfig(text, source, format);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

describe('parsing a document', () => {
  it('YAML and JSON say the same', () => {
    const yaml = [
      'ports:',
      '  - { name: p1, devargs: "net_ring0", id: 1 }',
      '  - name: p2',
      '    devargs: net_ring1',
      '    mtu: 9000',
      '    adminUp: false',
      '    nRxq: 2',
      'tables:',
      '  - { id: 1, name: acl, miss: continue, maxFlows: 100 }',
      'flows:',
      '  - in_port=p1,actions=output:p2',
    ].join('\n');
    const want = {
      ports: [
        { name: 'p1', devargs: 'net_ring0', id: 1 },
        { name: 'p2', devargs: 'net_ring1', mtu: 9000, adminUp: false, nRxq: 2 },
      ],
      tables: [{ id: 1, name: 'acl', miss: 'continue', maxFlows: 100 }],
      flows: ['in_port=p1,actions=output:p2'],
    };
    expect(parseConfig(yaml, 'c.yaml')).toEqual(want);
    expect(parseConfig(JSON.stringify(want), 'c.json', 'json')).toEqual(want);
    expect(parseConfig(JSON.stringify(want), 'c.json')).toEqual(want);
    expect(parseConfig('{ports: [{name: p1, devargs: net_ring0}]}', 'flow-style.yaml').ports).toEqual([{ name: 'p1', devargs: 'net_ring0' }]);
  });

  it('a fault names its path', () => {
    const ports = 'ports:\n  - {name: a, devargs: net_ring0}\n  - {name: b, devargs: net_ring1}\n';
    expect(parseError(ports + '  - {name: c, devargs: net_ring2, mtu: 70000}\n')).toBe('c.yaml: ports[2].mtu: expected an integer 64..65535');
    expect(parseError(ports + '  - {name: c, devargs: net_ring2, mut: 9000}\n')).toBe(
      'c.yaml: ports[2].mut: unknown key (expected name, devargs, id, mtu, adminUp, nRxq, bond, vlan, nshTag, qos)',
    );
    expect(parseError('ports: [{name: c, devargs: net_ring2, adminUp: yes}]')).toBe('c.yaml: ports[0].adminUp: expected true or false');
    expect(parseError('tables: [{id: 300}]')).toBe('c.yaml: tables[0].id: expected an integer 0..254');
    expect(parseError('tables: [{name: x}]')).toBe('c.yaml: tables[0].id: missing');
    expect(parseError('tables: [{id: 1, miss: flood}]')).toBe('c.yaml: tables[0].miss: expected drop, continue or controller');
    expect(parseError('flows: ["in_port=1,actions=drop", 5]')).toBe('c.yaml: flows[1]: expected a string of flow text');
    expect(parseError('flows: {a: 1}')).toBe('c.yaml: flows: expected a list');
    expect(parseError('- 1')).toBe('c.yaml: top level: expected a map with ports, tables and flows');
    expect(parseError('port: []')).toBe('c.yaml: port: unknown key (expected ports, tables, meters, groups, mirrors, flows)');
    expect(parseError('ports: [{name: a}]', '')).toBe('ports[0].devargs: expected a string');
  });

  it('a bad meter or group is named', () => {
    expect(parseError('groups: [5]')).toBe("c.yaml: groups[0]: expected a string in add-group syntax ('group_id=1,type=all,bucket=actions=output:p2')");
    expect(parseError('groups: {a: 1}')).toBe('c.yaml: groups: expected a list');
    expect(parseError('{"flows": [], "meters": [{"id": 1}]}', 'c.json', 'json')).toBe("c.json: meters[0].rate: missing: kbit/s (1..100000000)");
    expect(parseError('meters: [{id: 1, rate: 5, band: dscp_remark}]')).toBe("c.yaml: meters[0].dscp: missing: the DSCP to write (0..63)");
  });

  it('a syntax error gives its line and column', () => {
    expect(parseError('ports:\n  - name: p1\n   devargs: x\n')).toBe('c.yaml: line 3, column 1: invalid YAML: Sequence item without - indicator');
    expect(parseError('flows: []\nflows: []\n')).toBe('c.yaml: line 2, column 1: invalid YAML: Map keys must be unique');
    expect(parseError('{\n  "ports": [\n    {"name": "p1",}\n  ]\n}', 'c.json', 'json')).toBe('c.json: line 3, column 19: invalid JSON: unexpected "}"');
    expect(parseError('{"ports": [', 'c.json', 'json')).toBe('c.json: line 1, column 12: invalid JSON: unexpected the end of the document');
    // not JSON after all, and not YAML either: YAML's answer
    expect(parseError('{"ports": [')).toMatch(/^c\.yaml: line 1, column \d+: invalid YAML: /);
  });

  it('an empty document is an empty switch', () => {
    expect(parseConfig('', 'e.yaml')).toEqual({ ports: [], tables: [], flows: [] });
    expect(parseConfig('# nothing\n', 'e.yaml')).toEqual({ ports: [], tables: [], flows: [] });
  });
});

function state(): DesiredState {
  return {
    ports: [
      { name: 'p2', devargs: 'net_ring1', id: 2, adminUp: false, mtu: 9000 },
      { name: 'p1', devargs: 'net_ring0', id: 1, adminUp: true },
    ],
    tables: [{ id: 1, name: 'acl', miss: 'continue', maxFlows: 0 }],
    flows: [
      parseFlow('table=1,priority=5,actions=drop'),
      parseFlow('table=0,priority=10,in_port=2,actions=output:1'),
      parseFlow('table=0,priority=100,ip,in_port=1,actions=goto_table:1'),
      parseFlow('table=0,priority=10,in_port=1,actions=output:2'),
      parseFlow('table=0,priority=10,in_port=9,cookie=0x5,idle_timeout=30,actions=output:9'),
    ],
  };
}

describe('exporting', () => {
  it('ports by number, tables by id, flows by table, priority (highest first) and text; names for port numbers', () => {
    expect(exportConfig(state())).toBe(
      [
        'ports:',
        '  - name: p1',
        '    devargs: net_ring0',
        '    id: 1',
        '  - name: p2',
        '    devargs: net_ring1',
        '    id: 2',
        '    mtu: 9000',
        '    adminUp: false',
        'tables:',
        '  - id: 1',
        '    name: acl',
        '    miss: continue',
        'flows:',
        '  - table=0,priority=100,ip,in_port=p1,actions=goto_table:1',
        '  - table=0,priority=10,cookie=0x5,idle_timeout=30,in_port=9,actions=output:9',
        '  - table=0,priority=10,in_port=p1,actions=output:p2',
        '  - table=0,priority=10,in_port=p2,actions=output:p1',
        '  - table=1,priority=5,actions=drop',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(exportConfig(state(), 'json'))).toEqual(configDocument(state()));
    expect(exportConfig(emptyState())).toBe('ports: []\ntables: []\nflows: []\n');
  });

  it("a flow's texts are formatFlowMod's", () => {
    const names = { portName: (id: number) => (id === 1 ? 'p1' : undefined) };
    for (const t of [
      'table=0,priority=10,cookie=0x5,idle_timeout=30,hard_timeout=60,send_flow_rem,in_port=1,actions=output:9',
      'table=3,priority=0,actions=drop',
      'table=1,priority=7,tcp,nw_src=10.0.0.0/24,tp_dst=80,actions=mod_nw_tos:32,output:1',
    ]) {
      const f = parseFlow(t);
      expect(flowTexts(f, names).text).toBe(formatFlowMod(f, names));
    }
    expect(flowTexts(parseFlow('table=1,priority=7,cookie=0x1,ip,in_port=1,actions=drop'), names)).toEqual({
      name: 'table=1,priority=7,ip,in_port=p1',
      body: 'cookie=0x1,actions=drop',
      text: 'table=1,priority=7,cookie=0x1,ip,in_port=p1,actions=drop',
    });
  });

  it('reads back as what it was', () => {
    for (const format of ['yaml', 'json'] as const) {
      const doc = parseConfig(exportConfig(state(), format), 'x', format);
      expect(doc.ports.map((p) => p.name)).toEqual(['p1', 'p2']);
      expect(doc.flows).toHaveLength(5);
    }
  });
});

async function connected(s: DesiredState = state(), saver: StateSaver = new CountingSaver()) {
  const dp = new FakeDataplane();
  const sw = new Switch(s, saver, silentLogger);
  await dp.connect();
  await sw.attach(dp, dp.info);
  dp.calls = [];
  return { sw, dp };
}

/** What the data plane holds, to compare before and after. */
async function snapshot(dp: FakeDataplane) {
  const calls = dp.calls.length;
  const tables = await dp.tableList();
  dp.calls.length = calls; // looking is not a call under test
  return {
    ports: dp.ports.map((p) => ({ id: p.id, name: p.name, devargs: p.devargs, mtu: p.mtu, adminUp: p.adminUp, nRxq: p.nRxq })),
    flows: dp.flows.map((f) => formatFlowMod(f)).sort(),
    tables: tables.filter((t) => t.name !== '' || t.miss !== 'drop' || t.maxFlows).map((t) => ({ id: t.id, name: t.name, miss: t.miss, maxFlows: t.maxFlows })),
  };
}

function docText(sw: Switch): string {
  return exportConfig(sw.state);
}

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return classify(e);
  }
  throw new Error('expected a failure');
}

const edited = (text: string) =>
  text
    .replace('ports:\n', 'ports:\n  - name: p3\n    devargs: net_ring2\n')
    .replace('in_port=p1,actions=output:p2', 'in_port=p1,actions=output:p3')
    .replace('  - table=1,priority=5,actions=drop\n', '')
    .replace('    mtu: 9000\n', '    mtu: 1400\n');

describe('applying a document', () => {
  it('its own export is a no-op: nothing is asked of the data plane or written', async () => {
    const saver = new CountingSaver();
    const { sw, dp } = await connected(state(), saver);
    for (const format of ['yaml', 'json'] as const) {
      const r = await sw.applyConfig(parseConfig(exportConfig(sw.state, format), 'x', format), false, 'x');
      expect(r).toEqual({ applied: false, changes: [], diff: [] });
    }
    expect(dp.calls).toEqual([]);
    expect(saver.saves).toBe(0);
  });

  it('ports[].qos: added with a port, changed, removed, each a diff line and one PORT_QOS; export carries it', async () => {
    const { sw, dp } = await connected();
    const text = docText(sw).replace('devargs: net_ring1', 'devargs: net_ring1\n    qos: { rate: 100000, queues: [ { queue: 1, rate: 10000 } ] }');
    let r = await sw.applyConfig(parseConfig(text, 'q.yaml'), false, 'q.yaml');
    expect(r.diff).toEqual(['~ port p2 qos none -> 100000 kbit/s, queue 1 10000 kbit/s']);
    expect(dp.calls).toEqual(['portQos']);
    expect(dp.qos.get(2)).toEqual({ portId: 2, rate: 100000, burst: 10000, queues: [{ queue: 1, rate: 10000, burst: 1000 }] });
    expect(parseConfig(docText(sw), 'x.yaml').ports.find((p) => p.name === 'p2')!.qos).toEqual({ rate: 100000, queues: [{ queue: 1, rate: 10000 }] });
    // the same document again: nothing
    dp.calls = [];
    expect((await sw.applyConfig(parseConfig(text, 'q.yaml'), false)).applied).toBe(false);
    expect(dp.calls).toEqual([]);
    // a new port with QoS: added, QoS set, then up
    const withP3 = text.replace(/flows:/, 'flows:').replace(/^ports:\n/m, 'ports:\n  - { name: p3, devargs: net_ring2, qos: { rate: 5000, burst: 100 } }\n');
    dp.calls = [];
    r = await sw.applyConfig(parseConfig(withP3, 'q.yaml'), false);
    expect(r.diff).toContain('+ port p3 net_ring2 id=3');
    expect(dp.calls).toEqual(['portAdd', 'portQos', 'portMod']);
    expect(dp.qos.get(3)).toMatchObject({ rate: 5000, burst: 100 });
    // removed from the document: removed from the port
    dp.calls = [];
    r = await sw.applyConfig(parseConfig(withP3.replace('\n    qos: { rate: 100000, queues: [ { queue: 1, rate: 10000 } ] }', ''), 'q.yaml'), false);
    expect(r.diff).toEqual(['~ port p2 qos 100000 kbit/s, queue 1 10000 kbit/s -> none']);
    expect(dp.qos.has(2)).toBe(false);
    // a bad one is refused naming its path, and nothing changes
    expect(() => parseConfig(withP3.replace('qos: { rate: 5000, burst: 100 }', 'qos: { rate: 5000, queues: [ { queue: 1, rate: 200000000 } ] }'), 'q.yaml')).toThrow(
      /ports\[0\]\.qos\.queues\[0\]\.rate: '200000000' is not valid/,
    );
    const doc = parseConfig(docText(sw), 'q.yaml');
    doc.ports[0] = { ...doc.ports[0], qos: { rate: 5000, queues: [{ queue: 1, rate: 200000000 }] } };
    dp.calls = [];
    const bad = await failure(sw.applyConfig(doc, false, 'q.yaml'));
    expect(bad.message).toMatch(/^q\.yaml: ports\[0\]\.qos: qos\.queues\[0\]\.rate: '200000000' is not valid/);
    expect(dp.calls).toEqual([]);
  });

  it('the difference, in order: port added down, port changed, flows in one batch, barrier, port up', async () => {
    const store = new StateStore(join(dir, 'state.json'));
    await store.save(state());
    const { sw, dp } = await connected(store.load(), store);
    const before = await snapshot(dp);
    const doc = parseConfig(edited(docText(sw)), 'edit.yaml');

    const dry = await sw.applyConfig(doc, true, 'edit.yaml');
    expect(dry.applied).toBe(false);
    expect(dry.diff).toEqual([
      '+ port p3 net_ring2 id=3',
      '~ port p2 mtu 9000 -> 1400',
      '- flow table=1,priority=5,actions=drop',
      '~ flow table=0,priority=10,in_port=p1: actions=output:p2 -> actions=output:p3',
    ]);
    expect(dry.changes[0]).toEqual({ kind: 'port', op: 'add', name: 'p3', before: '', after: '{ name: p3, devargs: net_ring2, id: 3 }' });
    expect(dry.changes[3]).toEqual({
      kind: 'flow',
      op: 'modify',
      name: 'table=0,priority=10,in_port=p1',
      before: 'table=0,priority=10,in_port=p1,actions=output:p2',
      after: 'table=0,priority=10,in_port=p1,actions=output:p3',
    });
    expect(dp.calls).toEqual([]);
    expect(await snapshot(dp)).toEqual(before);

    const r = await sw.applyConfig(doc, false, 'edit.yaml');
    expect(r.applied).toBe(true);
    expect(r.diff).toEqual(dry.diff);
    expect(dp.calls).toEqual(['portList', 'portAdd', 'portMod', 'flowMod', 'barrier', 'portMod']);
    expect(dp.ports.map((p) => [p.name, p.id, p.mtu, p.adminUp])).toEqual([
      ['p1', 1, 1500, true],
      ['p2', 2, 1400, false],
      ['p3', 3, 1500, true],
    ]);
    expect(dp.flows.map((f) => formatFlowMod(f)).sort()).toEqual([
      'table=0,priority=10,cookie=0x5,idle_timeout=30,in_port=9,actions=output:9',
      'table=0,priority=10,in_port=1,actions=output:3',
      'table=0,priority=10,in_port=2,actions=output:1',
      'table=0,priority=100,ip,in_port=1,actions=goto_table:1',
    ]);
    // persisted once, as one journal record, and read back whole
    expect(readFileSync(join(dir, 'state.json.journal'), 'utf8').trim().split('\n')).toHaveLength(1);
    const reloaded = new StateStore(join(dir, 'state.json')).load();
    expect(exportConfig(reloaded)).toBe(exportConfig(sw.state));
    // and now the same document changes nothing
    dp.calls = [];
    expect(await sw.applyConfig(doc, false)).toEqual({ applied: false, changes: [], diff: [] });
    expect(dp.calls).toEqual([]);
    expect(summarize(r.changes, false)).toBe('1 port added, 1 port changed, 1 flow deleted, 1 flow changed');
    expect(summarize(r.changes, true)).toBe('1 port to add, 1 port to change, 1 flow to delete, 1 flow to change');
  });

  it('a document that leaves ports and tables out deletes them; defaults come back', async () => {
    const { sw, dp } = await connected();
    const r = await sw.applyConfig(parseConfig('ports: [{name: p1, devargs: net_ring0}]', 'x'), false);
    expect(r.diff).toEqual([
      '~ table 1 name "acl" -> "", miss continue -> drop',
      '- port p2 net_ring1 id=2 mtu=9000 down',
      '- flow table=0,priority=100,ip,in_port=p1,actions=goto_table:1',
      '- flow table=0,priority=10,cookie=0x5,idle_timeout=30,in_port=9,actions=output:9',
      '- flow table=0,priority=10,in_port=p1,actions=output:p2',
      '- flow table=0,priority=10,in_port=p2,actions=output:p1',
      '- flow table=1,priority=5,actions=drop',
    ]);
    expect(dp.calls).toEqual(['tableMod', 'portDel', 'flowMod', 'barrier']);
    expect(await snapshot(dp)).toEqual({ ports: [{ id: 1, name: 'p1', devargs: 'net_ring0', mtu: 1500, adminUp: true, nRxq: 1 }], flows: [], tables: [] });
    expect(sw.state.tables).toEqual([]);
    // mtu and nRxq dropped from a kept port go back to the device's defaults
    await sw.applyConfig(parseConfig('ports: [{name: p1, devargs: net_ring0, mtu: 9000, nRxq: 2}]', 'x'), false);
    expect(dp.ports[0]).toMatchObject({ mtu: 9000, nRxq: 2 });
    const back = await sw.applyConfig(parseConfig('ports: [{name: p1, devargs: net_ring0}]', 'x'), false);
    expect(back.diff).toEqual(['~ port p1 mtu 9000 -> default, nRxq 2 -> default']);
    expect(dp.ports[0]).toMatchObject({ mtu: 1500, nRxq: 1 });
  });

  it('meters: added before the flows that use them, deleted after; exported; a flow naming a missing meter is refused', async () => {
    const { sw, dp } = await connected();
    const base = docText(sw);
    const doc = base.replace('flows:\n', 'meters:\n  - {id: 2, unit: pps, rate: 50, band: dscp_remark, dscp: 46}\nflows:\n  - table=0,priority=300,udp,actions=meter:2,output:p2\n');
    dp.calls = [];
    const r = await sw.applyConfig(parseConfig(doc, 'x'), false);
    expect(r.diff).toEqual(['+ meter { id: 2, unit: pps, rate: 50, band: dscp_remark, dscp: 46 }', '+ flow table=0,priority=300,udp,actions=meter:2,output:p2']);
    expect(dp.calls).toEqual(['meterMod', 'flowMod', 'barrier']);
    expect(sw.state.meters).toEqual([{ id: 2, unit: 'pps', rate: 50, band: 'dscp_remark', dscp: 46 }]);
    expect(docText(sw)).toContain('meters:\n  - id: 2\n    unit: pps\n    rate: 50\n    band: dscp_remark\n    dscp: 46\n');
    expect((await sw.applyConfig(parseConfig(docText(sw), 'x'), false)).changes).toEqual([]);
    const bad = await failure(sw.applyConfig(parseConfig(base.replace('flows:\n', 'flows:\n  - actions=meter:3\n'), 'x'), false));
    expect(bad).toEqual({ code: status.NOT_FOUND, message: 'flows[0]: meter:3: the document has no meter 3' });
    dp.calls = [];
    const back = await sw.applyConfig(parseConfig(base, 'x'), false);
    expect(back.diff).toEqual(['- meter { id: 2, unit: pps, rate: 50, band: dscp_remark, dscp: 46 }', '- flow table=0,priority=300,udp,actions=meter:2,output:p2']);
    expect(dp.calls).toEqual(['flowMod', 'meterMod', 'barrier']);
    expect(dp.meters.size).toBe(0);
  });

  it('groups: added after the ports and before the flows that use them, deleted after; exported; checked against the document', async () => {
    const { sw, dp } = await connected();
    const base = docText(sw);
    const group = 'group_id=7,type=select,bucket=weight:1,actions=output:p1,bucket=weight:3,actions=output:p3';
    const doc = base
      .replace('ports:\n', 'ports:\n  - { name: p3, devargs: net_ring2 }\n')
      .replace('flows:\n', `groups:\n  - ${group}\nflows:\n  - table=0,priority=300,udp,actions=group:7\n`);
    dp.calls = [];
    const r = await sw.applyConfig(parseConfig(doc, 'x'), false);
    expect(r.diff).toEqual(['+ port p3 net_ring2 id=3', `+ group ${group}`, '+ flow table=0,priority=300,udp,actions=group:7']);
    expect(dp.calls).toEqual(['portAdd', 'groupMod', 'flowMod', 'barrier', 'portMod']);
    expect(dp.groups.get(7)?.buckets.map((b) => b.weight)).toEqual([1, 3]);
    expect(sw.listGroups().map((g) => g.id)).toEqual([7]);
    expect(docText(sw)).toContain(`groups:\n  - ${group}\n`);
    expect(summarize(r.changes, false)).toBe('1 port added, 1 group added, 1 flow added');
    // its export is a no-op; a changed bucket is a modify in place
    expect((await sw.applyConfig(parseConfig(docText(sw), 'x'), false)).changes).toEqual([]);
    const changed = docText(sw).replace('weight:3', 'weight:2');
    dp.calls = [];
    const m = await sw.applyConfig(parseConfig(changed, 'x'), false);
    expect(m.diff).toEqual([`~ group 7: ${group} -> ${group.replace('weight:3', 'weight:2')}`]);
    expect(dp.calls).toEqual(['groupMod']);
    // faults name the document's entry
    const noGroup = await failure(sw.applyConfig(parseConfig(base.replace('flows:\n', 'flows:\n  - actions=group:9\n'), 'x'), false));
    expect(noGroup).toEqual({ code: status.NOT_FOUND, message: 'flows[0]: group:9: the document has no group 9' });
    const badPort = await failure(sw.applyConfig(parseConfig(base.replace('flows:\n', 'groups:\n  - group_id=1,type=all,bucket=actions=output:p3\nflows:\n'), 'x'), false));
    expect(badPort.code).toBe(status.NOT_FOUND);
    expect(badPort.message).toMatch(/^groups\[0\]: .*p3/);
    const twice = await failure(sw.applyConfig(parseConfig(base.replace('flows:\n', 'groups:\n  - group_id=1,type=all,bucket=actions=output:p1\n  - group_id=1,type=indirect,bucket=actions=output:p2\nflows:\n'), 'x'), false));
    expect(twice).toEqual({ code: status.INVALID_ARGUMENT, message: 'groups[1]: group 1 is also groups[0]' });
    // left out: deleted once the flows that used it are gone
    dp.calls = [];
    const back = await sw.applyConfig(parseConfig(base, 'x'), false);
    expect(back.diff).toEqual(['- port p3 net_ring2 id=3', `- group ${group.replace('weight:3', 'weight:2')}`, '- flow table=0,priority=300,udp,actions=group:7']);
    expect(dp.calls).toEqual(['portDel', 'flowMod', 'groupMod', 'barrier']);
    expect(dp.groups.size).toBe(0);
    expect(sw.listGroups()).toEqual([]);
  });

  it('mirrors: set after the ports and before the flows that name them, deleted after; exported by port names; checked against the document', async () => {
    const { sw, dp } = await connected();
    const base = docText(sw);
    const doc = base
      .replace('ports:\n', 'ports:\n  - { name: p3, devargs: net_ring2 }\n')
      .replace('flows:\n', 'mirrors:\n  - { name: m0, src: [p1], dst: [p1, 2], output: p3 }\nflows:\n  - table=0,priority=300,udp,actions=mirror:m0,output:p2\n');
    dp.calls = [];
    const r = await sw.applyConfig(parseConfig(doc, 'x'), false);
    expect(r.diff).toEqual(['+ port p3 net_ring2 id=3', '+ mirror { name: m0, src: [ p1 ], dst: [ p1, p2 ], output: p3 }', '+ flow table=0,priority=300,udp,actions=mirror:m0,output:p2']);
    expect(dp.calls).toEqual(['portAdd', 'mirrorMod', 'flowMod', 'barrier', 'portMod']);
    expect([...dp.mirrors.values()]).toEqual([{ name: 'm0', id: 0, outPort: 3, src: [1], dst: [1, 2] }]);
    expect(summarize(r.changes, false)).toBe('1 port added, 1 mirror added, 1 flow added');
    expect(docText(sw)).toContain('mirrors:\n  - name: m0\n    src:\n      - p1\n    dst:\n      - p1\n      - p2\n    output: p3\n');
    expect((await sw.applyConfig(parseConfig(docText(sw), 'x'), false)).changes).toEqual([]);
    // a change keeps the mirror's slot (mirror:m0 in the flows still names it)
    dp.calls = [];
    const m = await sw.applyConfig(parseConfig(docText(sw).replace('    dst:\n      - p1\n      - p2\n', ''), 'x'), false);
    expect(m.diff).toEqual(['~ mirror m0: { name: m0, src: [ p1 ], dst: [ p1, p2 ], output: p3 } -> { name: m0, src: [ p1 ], output: p3 }']);
    expect(dp.calls).toEqual(['mirrorMod']);
    expect(dp.mirrors.get(0)).toMatchObject({ name: 'm0', dst: [] });
    // faults name the document's entry
    const noPort = await failure(sw.applyConfig(parseConfig(base.replace('flows:\n', 'mirrors:\n  - { name: m1, output: p9 }\nflows:\n'), 'x'), false));
    expect(noPort).toEqual({ code: status.NOT_FOUND, message: "mirrors[0].output: port 'p9' is not in the document" });
    const twice = await failure(sw.applyConfig(parseConfig(base.replace('flows:\n', 'mirrors:\n  - { name: m1, output: p1 }\n  - { name: m1, output: p2 }\nflows:\n'), 'x'), false));
    expect(twice).toEqual({ code: status.INVALID_ARGUMENT, message: "mirrors[1].name: mirror 'm1' is also mirrors[0]" });
    expect(parseError('mirrors: [{name: m1}]')).toBe('c.yaml: mirrors[0].output: missing: the port the copies go to');
    expect(parseError('mirrors: [{name: m1, output: p1, dst: p2}]')).toBe('c.yaml: mirrors[0].dst: expected a list of ports');
    expect(parseError('mirrors: [{name: m1, output: p1, via: p2}]')).toBe('c.yaml: mirrors[0].via: unknown key (expected name, src, dst, output)');
    // left out (with the flow that named it): deleted after the flows, and the port it used may go
    dp.calls = [];
    const back = await sw.applyConfig(parseConfig(base, 'x'), false);
    expect(back.diff).toEqual(['- port p3 net_ring2 id=3', '- mirror { name: m0, src: [ p1 ], output: p3 }', '- flow table=0,priority=300,udp,actions=mirror:m0,output:p2']);
    expect(dp.calls).toEqual(['portDel', 'flowMod', 'mirrorMod', 'barrier']);
    expect(dp.mirrors.size).toBe(0);
  });

  it('a new devargs or number re-attaches the port: delete, then add', async () => {
    const { sw, dp } = await connected();
    const text = docText(sw).replace('devargs: net_ring0', 'devargs: net_ring7').replace('    id: 2\n', '    id: 5\n');
    const r = await sw.applyConfig(parseConfig(text, 'x'), false);
    expect(r.diff.slice(0, 4)).toEqual(['- port p2 net_ring1 id=2 mtu=9000 down', '- port p1 net_ring0 id=1', '+ port p1 net_ring7 id=1', '+ port p2 net_ring1 id=5 mtu=9000 down']);
    // flows written with names follow the ports to their new numbers
    expect(r.diff.slice(4)).toEqual([
      '- flow table=0,priority=10,in_port=p2,actions=output:p1',
      '~ flow table=0,priority=10,in_port=p1: actions=output:2 -> actions=output:5',
      '+ flow table=0,priority=10,in_port=p2,actions=output:p1',
    ]);
    expect(dp.calls).toEqual(['portDel', 'portDel', 'portAdd', 'portAdd', 'flowMod', 'barrier', 'portMod']);
    expect(dp.ports.map((p) => [p.name, p.id, p.devargs, p.adminUp])).toEqual([
      ['p1', 1, 'net_ring7', true],
      ['p2', 5, 'net_ring1', false],
    ]);
  });

  it('bond ports: read, exported, and a changed bond is another port', async () => {
    const { sw, dp } = await connected();
    const bond = 'ports:\n  - name: b0\n    bond:\n      mode: active-backup\n      members: [net_ring5, net_ring6]\n';
    const text = docText(sw).replace('ports:\n', bond);
    const doc = parseConfig(text, 'x');
    expect(doc.ports[0]).toEqual({ name: 'b0', devargs: 'net_bonding_b0', bond: { mode: 'active-backup', members: ['net_ring5', 'net_ring6'], xmitPolicy: 'l2' } });
    const r = await sw.applyConfig(doc, false);
    expect(r.diff).toEqual(['+ port b0 net_bonding_b0 id=3 bond active-backup net_ring5 + net_ring6']);
    expect(dp.calls).toEqual(['portAdd', 'portMod']);
    // its export applies as a no-op; another member list re-makes it
    expect((await sw.applyConfig(parseConfig(docText(sw), 'x'), false)).changes).toEqual([]);
    const other = docText(sw).replace('net_ring6', 'net_ring7');
    expect((await sw.applyConfig(parseConfig(other, 'x'), true)).diff).toEqual([
      '- port b0 net_bonding_b0 id=3 bond active-backup net_ring5 + net_ring6',
      '+ port b0 net_bonding_b0 id=3 bond active-backup net_ring5 + net_ring7',
    ]);
    // faults name the field; a member is a device like any other
    expect(parseError(text.replace('active-backup', 'lacp'), 'x')).toMatch(/^x: ports\[0\]\.bond\.mode: 'lacp' is not a bond mode/);
    const dup = await failure(sw.applyConfig(parseConfig(text.replace('net_ring6', 'net_ring0'), 'x'), true));
    expect(dup.message).toMatch(/^ports\[\d\]\.devargs: device 'net_ring0' is also in ports\[0\] \('b0'\)/);
  });

  it('a tighter table limit waits for the flows that must go', async () => {
    const { sw, dp } = await connected();
    const text = docText(sw).replace('    miss: continue\n', '    miss: continue\n    maxFlows: 1\n').replace('table=1,priority=5,actions=drop', 'table=1,priority=7,actions=drop');
    const r = await sw.applyConfig(parseConfig(text, 'x'), false);
    expect(r.diff).toEqual(['~ table 1 maxFlows 0 -> 1', '- flow table=1,priority=5,actions=drop', '+ flow table=1,priority=7,actions=drop']);
    expect(dp.calls).toEqual(['flowMod', 'barrier', 'tableMod']);
  });

  it('everything is checked before anything is touched; errors name the path', async () => {
    const saver = new CountingSaver();
    const { sw, dp } = await connected(state(), saver);
    const base = docText(sw);
    const cases: [string, number, string][] = [
      [base.replace('name: p2', 'name: 2bad'), status.INVALID_ARGUMENT, "d.yaml: ports[1].name: port name '2bad' is not valid"],
      [base.replace('name: p2', 'name: local'), status.INVALID_ARGUMENT, "d.yaml: ports[1].name: port name 'local' is reserved in flow syntax"],
      [base.replace('name: p2', 'name: p1'), status.INVALID_ARGUMENT, "d.yaml: ports[1].name: port 'p1' is also ports[0]"],
      [base.replace('devargs: net_ring1', 'devargs: net_ring0,x=1'), status.INVALID_ARGUMENT, "d.yaml: ports[1].devargs: device 'net_ring0' is also in ports[0] ('p1')"],
      [base.replace('    id: 2\n', '    id: 1\n'), status.INVALID_ARGUMENT, "d.yaml: ports[1].id: port number 1 is also ports[0]'s"],
      [base.replace('tables:\n', 'tables:\n  - {id: 1}\n'), status.INVALID_ARGUMENT, 'd.yaml: tables[1].id: table 1 is also tables[0]'],
      [base.replace('actions=output:p2', 'actions=output:p9'), status.NOT_FOUND, "d.yaml: flows[2]: unknown port 'p9'"],
      [base.replace('actions=output:p2', 'actions=outptu:p2'), status.INVALID_ARGUMENT, "d.yaml: flows[2]: unknown action 'outptu'"],
      [base.replace('  - table=1,', '  - delete table=1,'), status.INVALID_ARGUMENT, "d.yaml: flows[4]: 'delete' is a command"],
      [base + '  - table=1,priority=5,actions=output:p1\n', status.INVALID_ARGUMENT, 'd.yaml: flows[5]: the same table, priority and match as flows[4]'],
    ];
    const before = await snapshot(dp);
    const state0 = exportConfig(sw.state);
    for (const [text, code, message] of cases) {
      const e = await failure(sw.applyConfig(parseConfig(text, 'd.yaml'), false, 'd.yaml'));
      expect(e.code, message).toBe(code);
      expect(e.message.startsWith(message), `${e.message} / ${message}`).toBe(true);
      // the same for a dry run
      expect((await failure(sw.applyConfig(parseConfig(text, 'd.yaml'), true, 'd.yaml'))).message).toBe(e.message);
    }
    expect(dp.calls).toEqual([]);
    expect(saver.saves).toBe(0);
    expect(await snapshot(dp)).toEqual(before);
    expect(exportConfig(sw.state)).toBe(state0);
  });

  it('flows resolve port names against the document, not the running ports', async () => {
    const { sw, dp } = await connected();
    const text = docText(sw).replace(/\bp2\b/g, 'uplink');
    const r = await sw.applyConfig(parseConfig(text, 'x'), false);
    expect(r.diff.slice(0, 2)).toEqual(['- port p2 net_ring1 id=2 mtu=9000 down', '+ port uplink net_ring1 id=2 mtu=9000 down']);
    // the flows meant port 2 before and mean port 2 now: untouched
    expect(r.diff).toHaveLength(2);
    expect(dp.calls.filter((c) => c === 'flowMod')).toEqual([]);
  });

  it('a refusal in the middle rolls back every step done, exactly, and persists nothing', async () => {
    const saver = new CountingSaver();
    const { sw, dp } = await connected(state(), saver);
    const before = await snapshot(dp);
    const state0 = exportConfig(sw.state);
    const text = docText(sw)
      .replace('tables:\n  - id: 1\n    name: acl\n', 'tables:\n  - id: 1\n    name: ACL\n')
      .replace('  - name: p2\n', '  - name: p3\n    devargs: net_ring2\n  - name: p4\n    devargs: bogus4\n  - name: p2\n')
      .replace('    devargs: net_ring0\n', '    devargs: net_ring5\n')
      .replace('    mtu: 9000\n', '    mtu: 1400\n');
    const e = await failure(sw.applyConfig(parseConfig(text, 'r.yaml'), false, 'r.yaml'));
    // the fake data plane refuses devargs it cannot parse, as the real one does
    expect(e).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "r.yaml: ports[2]: cannot parse devargs 'bogus4' (the 4 step(s) already made were undone; nothing changed)",
    });
    expect(dp.calls).toEqual([
      'portList',
      'tableMod', // table 1 renamed
      'portDel', // p1 (new devargs)
      'portAdd', // p1 again
      'portAdd', // p3
      'portAdd', // p4: refused
      'portDel', // p3 undone
      'portDel', // p1 undone
      'portAdd', // p1 back as it was
      'tableMod', // table 1 back
    ]);
    expect(await snapshot(dp)).toEqual(before);
    expect(exportConfig(sw.state)).toBe(state0);
    expect(saver.saves).toBe(0);
  });

  it('a flow the data plane refuses names its document entry; ports added before it go again', async () => {
    const { sw, dp } = await connected();
    const before = await snapshot(dp);
    const text = docText(sw).replace('ports:\n', 'ports:\n  - name: p3\n    devargs: net_ring2\n') + '  - table=2,in_port=p3,actions=drop\n  - table=3,in_port=p3,actions=drop\n';
    dp.failNext('flowMod', dpError('NOSPC', 'flow 1: table 3 is full (max_flows 0)', 1));
    const e = await failure(sw.applyConfig(parseConfig(text, 'f.yaml'), false, 'f.yaml'));
    expect(e).toEqual({ code: status.RESOURCE_EXHAUSTED, message: 'f.yaml: flows[6]: table 3 is full (max_flows 0) (the 1 step(s) already made were undone; nothing changed)' });
    expect(dp.calls).toEqual(['portAdd', 'flowMod', 'portDel']);
    expect(await snapshot(dp)).toEqual(before);
  });

  it('a failed write undoes the data plane and answers INTERNAL', async () => {
    const saver = new CountingSaver();
    const { sw, dp } = await connected(state(), saver);
    const before = await snapshot(dp);
    saver.fail = true;
    const e = await failure(sw.applyConfig(parseConfig(edited(docText(sw)), 'x'), false));
    expect(e.code).toBe(status.INTERNAL);
    expect(e.message).toMatch(/cannot persist the state \(ENOSPC.*\); the change was rolled back/);
    expect(await snapshot(dp)).toEqual(before);
    expect(exportConfig(sw.state)).toBe(exportConfig(state()));
  });

  it('without a data plane: checked, diffed, but UNAVAILABLE to apply', async () => {
    const sw = new Switch(state(), new CountingSaver(), silentLogger);
    expect((await sw.applyConfig(parseConfig(exportConfig(state()), 'x'), false)).changes).toEqual([]);
    expect((await sw.applyConfig(parseConfig(edited(exportConfig(state())), 'x'), true)).changes).toHaveLength(4);
    expect((await failure(sw.applyConfig(parseConfig(edited(exportConfig(state())), 'x'), false))).code).toBe(status.UNAVAILABLE);
  });

  it(`more flows than one batch holds (${FLOW_BATCH_MAX}) go in several, undone together`, async () => {
    const { sw, dp } = await connected(emptyState());
    const n = FLOW_BATCH_MAX + 10;
    const flows = Array.from({ length: n }, (_, i) => `table=0,priority=1,tcp,tp_dst=${i % 65536},nw_dst=10.${i >> 16}.0.1,actions=drop`);
    // the second batch is refused: the first is taken back
    // a data plane that counts what it holds (the fake's full flow semantics cost seconds here)
    let held = 0;
    const batches: string[] = [];
    let refuse = true;
    dp.flowMod = async (mods) => {
      const adds = mods.filter((m) => m.command === 'add').length;
      batches.push(`${adds} add, ${mods.length - adds} delete`);
      if (batches.length === 2 && refuse) throw dpError('NOSPC', `flow 3: the switch holds its maximum of ${FLOW_BATCH_MAX} flows`, 3);
      held += 2 * adds - mods.length;
      return mods.length;
    };
    const e = await failure(sw.applyConfig({ ports: [], tables: [], flows }, false));
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(e.message).toMatch(new RegExp(`^flows\\[${FLOW_BATCH_MAX + 3}\\]: the switch holds its maximum`));
    // the first batch, the refused second, the first taken back
    expect(batches).toEqual([`${FLOW_BATCH_MAX} add, 0 delete`, '10 add, 0 delete', `0 add, ${FLOW_BATCH_MAX} delete`]);
    expect(held).toBe(0);
    expect(sw.state.flows).toHaveLength(0);
    refuse = false;
    batches.length = 0;
    const r = await sw.applyConfig({ ports: [], tables: [], flows }, false);
    expect(r.changes).toHaveLength(n);
    expect(batches).toEqual([`${FLOW_BATCH_MAX} add, 0 delete`, '10 add, 0 delete']);
    expect(held).toBe(n);
    expect(sw.state.flows).toHaveLength(n);
  });
});
