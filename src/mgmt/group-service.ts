/** switchyard.v1.GroupService: logical port groups (all, select, indirect, fast_failover). */
import type { GroupServiceHandlers } from '../gen/switchyard/v1/GroupService';
import type { Group } from '../gen/switchyard/v1/Group';
import type { GroupConfig } from './addon-types';
import { formatActions, formatGroup, type PortNames } from '../flowspec';
import { unary } from './rpc';
import { has } from './wire';
import type { Switch } from './switch';

/** g on the wire; names: the port names of the request (one lookup table for all its groups). */
function toWireGroup(g: GroupConfig, names: Required<PortNames>): Group {
  return {
    id: g.id,
    type: g.type,
    fields: g.fields ?? [],
    buckets: g.buckets.map((b) => ({
      weight: b.weight ?? 1,
      watchPort: b.watchPort === undefined ? '' : (names.portName(b.watchPort) ?? String(b.watchPort)),
      actions: formatActions(b.actions, names),
    })),
    text: formatGroup(g, names),
  };
}

export function groupService(sw: Switch): GroupServiceHandlers {
  return {
    AddGroup: unary(async (req) => toWireGroup(await sw.addGroup(req.spec, req.modify), sw.portNames())),

    DeleteGroup: unary(async (req) => {
      await sw.deleteGroup(req.id);
      return {};
    }),

    ListGroups: unary(async () => {
      const names = sw.portNames();
      return { groups: sw.listGroups().map((g) => toWireGroup(g, names)) };
    }),

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
