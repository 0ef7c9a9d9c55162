/** switchyard.v1.StatsService: datapath totals and drops by reason, once or as a stream; PMD lcores. */
import { status as Status } from '@grpc/grpc-js';
import type { StatsServiceHandlers } from '../gen/switchyard/v1/StatsService';
import { toServiceError } from './errors';
import { unary } from './rpc';
import type { Switch } from './switch';
import { toWireDpStats, toWirePmdStats, u64 } from './wire';

export interface DropReasonInfo {
  name: string;
  help: string;
}

export function statsService(sw: Switch, reasons: readonly DropReasonInfo[]): StatsServiceHandlers {
  return {
    GetDatapathStats: unary(async () => toWireDpStats(await sw.dpStats(), reasons)),

    GetPmdStats: unary(async () => {
      const { pmds, tscHz } = await sw.pmdStats();
      const names = sw.portNames();
      return { pmds: pmds.map((p) => toWirePmdStats(p, names.portName)), tscHz: u64(tscHz) };
    }),

    ClearPmdStats: unary(async () => {
      await sw.clearPmdStats();
      return {};
    }),

    WatchDatapathStats: (call) => {
      const interval = Math.max(100, call.request.intervalMs || 1000);
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = () => {
        done = true;
        if (timer) clearTimeout(timer);
      };
      const tick = async () => {
        try {
          const s = await sw.dpStats();
          if (done) return;
          call.write(toWireDpStats(s, reasons));
          timer = setTimeout(() => void tick(), interval);
        } catch (e) {
          if (done) return;
          finish();
          const err = toServiceError(e);
          call.emit('error', { ...err, code: err.code ?? Status.INTERNAL });
        }
      };
      call.on('cancelled', finish);
      call.on('close', finish);
      void tick();
    },

    WatchStats: (call) => {
      call.emit('error', { code: Status.UNIMPLEMENTED, details: 'WatchStats is not built yet' });
    },
  };
}
