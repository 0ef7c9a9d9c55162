/** switchyard.v1.GroupService: logical port groups (all, select, indirect, fast_failover). */
import type { GroupServiceHandlers } from '../gen/switchyard/v1/GroupService';
import type { Group } from '../gen/switchyard/v1/Group';
import type { GroupConfig } from './addon-types';
import { formatActions } from '../flowspec';
import { unary } from './rpc';
import { has } from './wire';
import type { Switch } from './switch';

function toWireGroup(sw: Switch, g: GroupConfig): Group {
  const names = sw.portNames();
  return {
    id: g.id,
    type: g.type,
    fields: g.fields ?? [],
    buckets: g.buckets.map((b) => ({
      weight: b.weight ?? 1,
      watchPort: b.watchPort === undefined ? '' : (names.portName(b.watchPort) ?? String(b.watchPort)),
      actions: formatActions(b.actions, names),
    })),
    text: sw.groupText(g),
  };
}

export function groupService(sw: Switch): GroupServiceHandlers {
  return {
    AddGroup: unary(async (req) => toWireGroup(sw, await sw.addGroup(req.spec, req.modify))),

    DeleteGroup: unary(async (req) => {
      await sw.deleteGroup(req.id);
      return {};
    }),

    ListGroups: unary(async () => ({ groups: sw.listGroups().map((g) => toWireGroup(sw, g)) })),

    GetGroupStats: unary(async (req) => {
      const stats = await sw.groupStats(has(req, 'id') ? req.id : undefined);
      return {
        groups: stats.map((s) => ({
          id: s.id,
          type: s.type,
          flows: s.flows,
          packets: String(s.packets),
          bytes: String(s.bytes),
          dropped: String(s.dropped),
          buckets: s.buckets.map((b) => ({ packets: String(b.packets), bytes: String(b.bytes) })),
        })),
      };
    }),
  };
}
