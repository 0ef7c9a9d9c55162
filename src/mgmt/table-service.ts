/** switchyard.v1.TableService: table names and miss behaviour. */
import { status as Status } from '@grpc/grpc-js';
import type { TableServiceHandlers } from '../gen/switchyard/v1/TableService';
import { ApiError } from './errors';
import { unary } from './rpc';
import type { Switch } from './switch';
import { has, missFromWire, toWireTable } from './wire';

export function tableService(sw: Switch): TableServiceHandlers {
  return {
    ListTables: unary(async () => ({ tables: (await sw.listTables()).map(toWireTable) })),

    UpdateTable: unary(async (req) => {
      const miss = missFromWire(req.miss);
      if (miss === undefined && req.miss && req.miss !== 'TABLE_MISS_UNSPECIFIED') {
        throw new ApiError(Status.INVALID_ARGUMENT, `miss: unknown value ${String(req.miss)} (TABLE_MISS_DROP, TABLE_MISS_CONTINUE or TABLE_MISS_CONTROLLER)`);
      }
      const desc = await sw.updateTable({
        id: req.id,
        name: has(req, 'name') ? req.name : undefined,
        miss,
        maxFlows: has(req, 'maxFlows') ? req.maxFlows : undefined,
      });
      return toWireTable(desc);
    }),
  };
}
