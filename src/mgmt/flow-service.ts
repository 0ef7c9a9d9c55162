/** switchyard.v1.FlowService: flows as ovs-ofctl text, parsed by flowspec in Switch. */
import type { FlowServiceHandlers } from '../gen/switchyard/v1/FlowService';
import { unary } from './rpc';
import type { Switch } from './switch';
import { flowPartsFromWire, fromU64, has, toWireFlowEntry } from './wire';

export function flowService(sw: Switch): FlowServiceHandlers {
  return {
    AddFlows: unary(async (req) => ({ changed: await sw.addFlows(req.flows.map(flowPartsFromWire)) })),

    ModifyFlows: unary(async (req) => ({ changed: await sw.modifyFlows(req.flows.map(flowPartsFromWire), req.strict) })),

    DeleteFlows: unary(async (req) => {
      const changed = await sw.deleteFlows(
        {
          match: req.match,
          table: has(req, 'tableId') ? req.tableId : undefined,
          priority: has(req, 'priority') ? req.priority : undefined,
          cookie: fromU64(req.cookie),
          cookieMask: fromU64(req.cookieMask),
          outPort: req.outPort || undefined,
        },
        req.strict,
      );
      return { changed };
    }),

    ApplyFlows: unary(async (req) => ({ changed: await sw.applyFlowLines(req.lines) })),

    DumpFlows: unary(async (req) => {
      const entries = await sw.dumpFlows({
        match: req.match,
        table: has(req, 'tableId') ? req.tableId : undefined,
        cookie: fromU64(req.cookie),
        cookieMask: fromU64(req.cookieMask),
      });
      const names = sw.portNames();
      return { flows: entries.map((e) => toWireFlowEntry(e, names)) };
    }),
  };
}
