/** switchyard.v1.PacketService: packet-out (Switch.packetOut); packet-ins arrive on EventService. */
import type { PacketServiceHandlers } from '../gen/switchyard/v1/PacketService';
import { formatActions } from '../flowspec';
import { unary } from './rpc';
import type { Switch } from './switch';

export function packetService(sw: Switch): PacketServiceHandlers {
  return {
    PacketOut: unary(async (req) => {
      const r = await sw.packetOut({
        inPort: req.inPort,
        actions: req.actions,
        frame: req.packet === 'frame' ? req.frame : undefined,
        flow: req.packet === 'flow' ? req.flow : undefined,
      });
      const names = sw.portNames();
      return { frame: r.frame, actions: formatActions(r.actions, names), inPortId: r.inPort };
    }),
  };
}
