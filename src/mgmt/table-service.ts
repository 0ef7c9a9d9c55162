/** switchyard.v1.TableService: table names and miss behaviour. */
import type { TableServiceHandlers } from '../gen/switchyard/v1/TableService';
import { unary } from './rpc';
import type { Switch } from './switch';
import { has, missFromWire, toWireTable } from './wire';

export function tableService(sw: Switch): TableServiceHandlers {
  return {
    ListTables: unary(async () => ({ tables: (await sw.listTables()).map(toWireTable) })),

    UpdateTable: unary(async (req) => {
      const desc = await sw.updateTable({
        id: req.id,
        name: has(req, 'name') ? req.name : undefined,
        miss: missFromWire(req.miss),
        maxFlows: has(req, 'maxFlows') ? req.maxFlows : undefined,
      });
      return toWireTable(desc);
    }),
  };
}
