/** switchyard.v1.SystemService: daemon and data-plane status, and shutdown. */
import type { Status } from '../gen/switchyard/v1/Status';
import type { SystemServiceHandlers } from '../gen/switchyard/v1/SystemService';
import { unary } from './rpc';

export interface SystemControl {
  status(): Status;
  /** Stops the daemon after the reply has gone out; stopDataplane stops switchyard-dp too. */
  shutdown(stopDataplane: boolean): void;
}

export function systemService(sys: SystemControl): SystemServiceHandlers {
  return {
    GetStatus: unary(async () => sys.status()),

    Shutdown: (call, callback) => {
      callback(null, {});
      setImmediate(() => sys.shutdown(call.request.stopDataplane));
    },
  };
}
