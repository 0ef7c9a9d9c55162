/**
 * Groups in text (ovs-ofctl add-group syntax), in the desired state (file
 * and journal) and in the reconcile plan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatGroup, FlowSpecError, parseFlow, parseGroup, UnknownPortError } from '../../src/flowspec';
import { planGroups } from '../../src/mgmt/reconcile';
import { deserializeState, emptyState, serializeState, StateStore } from '../../src/mgmt/state';

const names = {
  resolvePort: (n: string) => ({ p2: 2, p3: 3 })[n],
  portName: (id: number) => ({ 2: 'p2', 3: 'p3' })[id],
};

function refuses(text: string, problem: RegExp): void {
  let err: unknown;
  try {
    parseGroup(text, names);
  } catch (e) {
    err = e;
  }
  expect(err, text).toBeInstanceOf(FlowSpecError);
  expect((err as Error).message, text).toMatch(problem);
}

describe('group text', () => {
  it('parses ovs-ofctl add-group lines, port names included', () => {
    expect(parseGroup('group_id=1,type=select,bucket=weight:1,actions=output:p2,bucket=weight:3,watch_port:p3,actions=mod_dl_dst:02:00:00:00:00:03,output:p3', names)).toEqual({
      id: 1,
      type: 'select',
      buckets: [
        { weight: 1, actions: [{ type: 'output', port: 2 }] },
        { weight: 3, watchPort: 3, actions: [{ type: 'set_field', field: 'dl_dst', value: '02:00:00:00:00:03' }, { type: 'output', port: 3 }] },
      ],
    });
    // actions without "actions=", bucket_id ignored, ff for fast_failover, hash fields
    expect(parseGroup('group_id=7,type=ff,bucket=bucket_id:0,watch_port:2,output:2,bucket=watch_port:3,3', names)).toEqual({
      id: 7,
      type: 'fast_failover',
      buckets: [
        { weight: 1, watchPort: 2, actions: [{ type: 'output', port: 2 }] },
        { weight: 1, watchPort: 3, actions: [{ type: 'output', port: 3 }] },
      ],
    });
    expect(parseGroup('group_id=2,type=select,selection_method=hash,fields(ip_dst,tcp_dst,ip_src),bucket=output:2').fields).toEqual(['nw_src', 'nw_dst', 'tp_dst']);
    expect(parseGroup('group_id=3,type=all').buckets).toEqual([]);
  });

  it('formats back to what it parses', () => {
    for (const t of [
      'group_id=1,type=select,bucket=weight:1,actions=output:p2,bucket=weight:3,actions=output:p3',
      'group_id=2,type=fast_failover,bucket=watch_port:p2,actions=output:p2,bucket=watch_port:p3,actions=pop_vlan,output:p3',
      'group_id=3,type=all,bucket=actions=output:p2,bucket=actions=drop',
      'group_id=4,type=select,selection_method=hash,fields(nw_dst,tp_dst),bucket=weight:2,actions=output:p2',
    ]) {
      expect(formatGroup(parseGroup(t, names), names)).toBe(t);
    }
  });

  it('refuses bad groups, naming the field', () => {
    refuses('type=all,bucket=output:2', /missing group_id/);
    refuses('group_id=1,bucket=output:2', /missing type/);
    refuses('group_id=65536,type=all', /group_id: 65536 is out of range/);
    refuses('group_id=1,type=round_robin', /type: 'round_robin' is not one of/);
    refuses('group_id=1,type=all,colour=red', /unknown group setting 'colour'/);
    refuses('group_id=1,type=indirect', /exactly one bucket/);
    refuses('group_id=1,type=fast_failover,bucket=output:2', /bucket 0: fast_failover needs watch_port/);
    refuses('group_id=1,type=all,bucket=goto_table:2', /goto_table is not allowed in a bucket/);
    refuses('group_id=1,type=all,bucket=group:2', /group is not allowed in a bucket/);
    refuses('group_id=1,type=all,bucket=weight:x,output:2', /weight: 'x' is not a number/);
    refuses('group_id=1,type=select,selection_method=dp_hash', /selection_method: 'dp_hash' is not supported/);
    refuses('group_id=1,type=select,fields(in_port)', /fields: 'in_port' cannot be hashed/);
    refuses('group_id=1,type=all,fields(ip_src)', /only a select group hashes/);
    expect(() => parseGroup('group_id=1,type=all,bucket=watch_port:p9,output:2', names)).toThrow(UnknownPortError);
  });

  it('group:N is a flow action', () => {
    expect(parseFlow('udp,actions=group:65535').actions).toEqual([{ type: 'group', group: 65535 }]);
    expect(() => parseFlow('udp,actions=group:65536')).toThrow(/group: 65536 is out of range/);
  });
});

describe('groups in the desired state', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('round-trips through the file, and through the journal', async () => {
    const s = emptyState();
    s.groups = [parseGroup('group_id=1,type=select,bucket=weight:1,actions=output:2,bucket=weight:3,actions=output:3')];
    const text = serializeState(s);
    expect(text).toContain('"groups": [\n    "group_id=1,type=select,bucket=weight:1,actions=output:2,bucket=weight:3,actions=output:3"');
    expect(deserializeState(text, 'x').groups).toEqual(s.groups);
    expect(() => deserializeState('{"version":1,"groups":["group_id=1"]}', 'x')).toThrow(/groups\[0\]: missing type/);

    dir = mkdtempSync(join(tmpdir(), 'sy-groups-'));
    const store = new StateStore(join(dir, 'state.json'));
    await store.save(emptyState()); // the file
    await store.save(s, { groups: true }); // a journal record
    expect(new StateStore(join(dir, 'state.json')).load().groups).toEqual(s.groups);
    await store.save({ ...s, groups: [] }, { groups: true });
    expect(new StateStore(join(dir, 'state.json')).load().groups ?? []).toEqual([]);
  });

  it('reconcile adds missing groups, modifies present ones, deletes extra ones', () => {
    const g1 = parseGroup('group_id=1,type=indirect,bucket=output:2');
    const g2 = parseGroup('group_id=2,type=all,bucket=output:2,bucket=output:3');
    expect(planGroups([g1, g2], [{ id: 2 }, { id: 5 }])).toEqual({
      groupMods: [
        { command: 'add', ...g1 },
        { command: 'modify', ...g2 },
      ],
      groupDeletes: [5],
    });
    expect(planGroups(undefined, [])).toEqual({ groupMods: [], groupDeletes: [] });
  });
});
