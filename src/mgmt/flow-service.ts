/** switchyard.v1.FlowService: flows as ovs-ofctl text, parsed by flowspec in Switch. */
import type { DumpFlowsRequest__Output } from '../gen/switchyard/v1/DumpFlowsRequest';
import type { FlowServiceHandlers } from '../gen/switchyard/v1/FlowService';
import { toServiceError } from './errors';
import { unary } from './rpc';
import type { Switch } from './switch';
import { flowPartsFromWire, fromU64, has, toWireFlowEntry } from './wire';
import { formatAction, formatFieldValue, formatMatch } from '../flowspec';

/** Entries per message of StreamFlows. */
const STREAM_CHUNK = 8192;

export function flowService(sw: Switch): FlowServiceHandlers {
  const dump = (req: DumpFlowsRequest__Output) =>
    sw.dumpFlows({
      match: req.match,
      table: has(req, 'tableId') ? req.tableId : undefined,
      cookie: fromU64(req.cookie),
      cookieMask: fromU64(req.cookieMask),
    });
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
      const entries = await dump(req);
      const names = sw.portNames();
      return { flows: entries.map((e) => toWireFlowEntry(e, names)) };
    }),

    StreamFlows: (call) => {
      let cancelled = false;
      call.on('cancelled', () => (cancelled = true));
      void (async () => {
        try {
          const entries = await dump(call.request);
          const names = sw.portNames();
          for (let i = 0; i < entries.length && !cancelled; i += STREAM_CHUNK) {
            const flows = entries.slice(i, i + STREAM_CHUNK).map((e) => toWireFlowEntry(e, names));
            // wait for the client when the transport's buffer is full
            if (!call.write({ flows })) await new Promise<void>((r) => call.once('drain', r));
          }
          call.end();
        } catch (e) {
          if (!cancelled) call.emit('error', toServiceError(e));
        }
      })();
    },

    // The domain's values, formatted in flow syntax with port names.
    Trace: unary(async (req) => {
      const t = await sw.trace({ flow: req.packet === 'flow' ? req.flow : undefined, frame: req.packet === 'frame' ? req.frame : undefined, inPort: req.inPort });
      const names = sw.portNames();
      return {
        frame: t.frame,
        packet: formatMatch(t.result.packet, names),
        steps: t.result.steps.map((s) => ({
          tableId: s.table,
          matched: s.entry !== null,
          entry: s.entry ? toWireFlowEntry(s.entry, names) : null,
          miss: s.miss ?? '',
          actions: s.actions.map((a) => ({
            action: formatAction(a.action, names),
            changes: a.changes.map((c) => ({ field: c.field, before: formatFieldValue(c.field, c.before), after: formatFieldValue(c.field, c.after) })),
          })),
        })),
        outputs: t.result.outputs.map((o) => ({ portId: o.port, port: names.portName(o.port) ?? '', frame: o.frame })),
        dropReason: t.result.drop ?? '',
      };
    }),
  };
}
