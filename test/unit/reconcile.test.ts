/**
 * The desired state's flow-mod semantics (flowtable.ts) and the reconcile
 * plan (reconcile.ts): what matches is not touched, what is missing is
 * added, what is extra is deleted, what changed is modified.
 */
import { describe, expect, it } from 'vitest';
import { flowKey, parseFlow } from '../../src/flowspec';
import type { FlowMod, PortDesc, TableDesc } from '../../src/mgmt/addon-types';
import { applyFlowMods } from '../../src/mgmt/flowtable';
import { diffFlows, isEmptyPlan, planPorts, planReconcile, planTables } from '../../src/mgmt/reconcile';
import type { DesiredState } from '../../src/mgmt/state';

const add = (t: string) => parseFlow(t);
const cmd = (command: FlowMod['command'], t: string) => parseFlow(t, { command });

function port(id: number, name: string, devargs: string, extra: Partial<PortDesc> = {}): PortDesc {
  return { id, dpdkPort: id - 1, name, driver: 'net_null', devargs, mtu: 1500, adminUp: true, linkUp: true, linkSpeed: 0, mac: '02:00:00:00:00:01', nRxq: 1, nTxq: 1, ...extra };
}

describe('flow-mod semantics on the desired state', () => {
  const base = [
    add('table=0,priority=100,ip,nw_src=10.0.0.0/24,actions=output:1'),
    add('table=0,priority=100,ip,nw_src=10.0.0.0/16,actions=output:2'),
    add('table=0,priority=50,tcp,nw_src=10.0.0.7,tp_dst=80,actions=output:3'),
    add('table=1,priority=100,ip,nw_src=10.0.0.0/24,actions=output:4'),
    add('table=1,priority=10,cookie=0x12,arp,actions=drop'),
  ];

  it('add appends, or replaces the entry of the same table, priority and match', () => {
    const r = applyFlowMods(base, [add('table=0,priority=100,ip,nw_src=10.0.0.9/24,actions=drop'), add('table=2,actions=drop')]);
    expect(r.changed).toBe(2);
    expect(r.flows).toHaveLength(6);
    expect(r.flows[0].actions).toEqual([]);
  });

  it('non-strict delete removes every entry the match covers, in every table', () => {
    const r = applyFlowMods(base, [cmd('delete', 'ip,nw_src=10.0.0.0/24')]);
    expect(r.changed).toBe(3); // the /24s of tables 0 and 1, and the /32 tcp entry; not the /16
    expect(r.flows.map(flowKey)).toEqual([flowKey(base[1]), flowKey(base[4])]);
  });

  it('delete of one table, strict delete, cookie masks, out_port', () => {
    expect(applyFlowMods(base, [cmd('delete', 'table=1')]).changed).toBe(2);
    expect(applyFlowMods(base, [cmd('delete_strict', 'table=0,ip,nw_src=10.0.0.0/24')]).changed).toBe(0); // priority 32768
    expect(applyFlowMods(base, [cmd('delete_strict', 'table=0,priority=100,ip,nw_src=10.0.0.0/24')]).changed).toBe(1);
    expect(applyFlowMods(base, [cmd('delete', 'cookie=0x10/0xf0')]).changed).toBe(1);
    expect(applyFlowMods(base, [cmd('delete', 'cookie=0x20/0xf0')]).changed).toBe(0);
    expect(applyFlowMods(base, [cmd('delete', 'out_port=3')]).changed).toBe(1);
    expect(applyFlowMods(base, [cmd('delete', '')]).flows).toEqual([]);
  });

  it('modify gives new actions to covered entries and keeps everything else', () => {
    const r = applyFlowMods(base, [cmd('modify', 'table=0,tcp,actions=drop')]);
    expect(r.changed).toBe(1);
    expect(r.flows[2]).toEqual({ ...base[2], actions: [] });
    const s = applyFlowMods(base, [cmd('modify_strict', 'table=1,priority=10,arp,actions=output:9')]);
    expect(s.changed).toBe(1);
    expect(s.flows[4]).toMatchObject({ cookie: 0x12n, actions: [{ type: 'output', port: 9 }] });
    expect(applyFlowMods(base, [cmd('modify', 'udp,actions=drop')]).changed).toBe(0); // modify never adds
  });
});

describe('flow diff', () => {
  const desired = [
    add('table=0,priority=100,ip,actions=output:1'),
    add('table=0,priority=90,arp,actions=flood'),
    add('table=0,priority=80,cookie=0x5,icmp,actions=drop'),
    add('table=1,priority=1,actions=drop'),
  ];

  it('equal sets: nothing to do', () => {
    expect(diffFlows(desired, desired.map((f) => ({ ...f })))).toEqual({ mods: [], expired: [] });
  });

  it('adds missing, deletes extra, modifies changed actions, replaces other changes', () => {
    const actual = [
      add('table=0,priority=100,ip,actions=output:2'), // actions differ: modify_strict
      add('table=0,priority=90,arp,actions=flood'), // same: untouched
      add('table=0,priority=80,cookie=0x6,icmp,actions=drop'), // cookie differs: add (replace)
      add('table=5,priority=1,actions=drop'), // extra: delete_strict
    ];
    const { mods } = diffFlows(desired, actual);
    expect(mods.map((m) => `${m.command} ${m.table}/${m.priority}`)).toEqual([
      'delete_strict 5/1',
      'modify_strict 0/100',
      'add 0/80',
      'add 1/1',
    ]);
    expect(mods[1].actions).toEqual([{ type: 'output', port: 1 }]);
    // applying the diff to actual gives desired
    const after = applyFlowMods(actual, mods).flows;
    expect(new Set(after.map(flowKey))).toEqual(new Set(desired.map(flowKey)));
    expect(diffFlows(desired, after).mods).toEqual([]);
  });

  it('a running data plane without a timed flow: it expired, it is not added back', () => {
    const timed = add('table=0,priority=7,idle_timeout=10,udp,actions=drop');
    expect(diffFlows([timed], [], true)).toEqual({ mods: [], expired: [flowKey(timed)] });
    expect(diffFlows([timed], [], false).mods).toHaveLength(1);
  });
});

describe('ports and tables', () => {
  it('ports: keep what matches, re-add what differs, delete extras, add missing (down, then up)', () => {
    const plan = planPorts(
      [
        { name: 'p1', devargs: 'net_null0', id: 1, adminUp: true },
        { name: 'p2', devargs: 'net_null1', id: 2, adminUp: false, mtu: 9000 },
        { name: 'p3', devargs: 'net_null2', id: 3, adminUp: true },
        { name: 'p4', devargs: 'net_null3', id: 4, adminUp: true, mtu: 1400 },
      ],
      [
        port(1, 'p1', 'net_null0'),
        port(2, 'p2', 'net_null1'), // mtu and admin differ
        port(3, 'p3', 'net_null9'), // devargs differ
        port(9, 'x', 'net_null7'), // extra
      ],
    );
    expect(plan).toEqual({
      portDeletes: [3, 9],
      portAdds: [
        { name: 'p3', devargs: 'net_null2', id: 3, adminUp: false },
        { name: 'p4', devargs: 'net_null3', id: 4, adminUp: false, mtu: 1400 },
      ],
      portMods: [{ id: 2, change: { mtu: 9000, adminUp: false } }],
      portUps: [3, 4],
    });
  });

  it('tables: set what differs, reset settings nobody wants, leave defaults alone', () => {
    const t = (id: number, name: string, miss: TableDesc['miss']): TableDesc => ({ id, name, miss, nFlows: 1, maxFlows: 0, lookups: 0n, matched: 0n });
    expect(
      planTables(
        [
          { id: 0, name: 'in', miss: 'drop' },
          { id: 1, name: 'acl', miss: 'continue' },
          { id: 3, name: '', miss: 'drop' },
        ],
        [t(0, 'in', 'drop'), t(1, 'acl', 'drop'), t(2, 'old', 'controller'), t(4, '', 'drop')],
      ),
    ).toEqual([
      { id: 2, name: '', miss: 'drop', maxFlows: 0 },
      { id: 1, name: 'acl', miss: 'continue' },
    ]);
  });

  it('a full replay into a fresh data plane, and nothing against an equal one', () => {
    const desired: DesiredState = {
      ports: [{ name: 'p1', devargs: 'net_null0', id: 1, adminUp: true }],
      tables: [{ id: 1, name: 'acl', miss: 'continue' }],
      flows: [add('in_port=1,actions=goto_table:1'), add('table=1,idle_timeout=5,actions=drop')],
    };
    const fresh = planReconcile(desired, { ports: [], tables: [], flows: [] }, true);
    expect(fresh.tableMods).toEqual([{ id: 1, name: 'acl', miss: 'continue' }]);
    expect(fresh.portAdds).toEqual([{ name: 'p1', devargs: 'net_null0', id: 1, adminUp: false }]);
    expect(fresh.portUps).toEqual([1]);
    expect(fresh.flowMods.map((m) => m.command)).toEqual(['add', 'add']);
    expect(fresh.expired).toEqual([]);
    const same = planReconcile(
      desired,
      {
        ports: [port(1, 'p1', 'net_null0')],
        tables: [{ id: 1, name: 'acl', miss: 'continue', nFlows: 1, maxFlows: 0, lookups: 0n, matched: 0n }],
        flows: desired.flows,
      },
      false,
    );
    expect(isEmptyPlan(same)).toBe(true);
  });
});
