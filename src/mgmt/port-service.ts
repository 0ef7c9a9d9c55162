/** switchyard.v1.PortService: ports by name or number, over Switch. */
import type { PortServiceHandlers } from '../gen/switchyard/v1/PortService';
import { unary } from './rpc';
import type { Switch } from './switch';
import { fromWireBond, fromWireNshTag, fromWireQos, fromWireVlan, has, toWirePort, toWirePortStats } from './wire';
import { status as Status } from '@grpc/grpc-js';
import { ApiError } from './errors';
import type { BondConfig, PortQosConfig } from './addon-types';

export function portService(sw: Switch): PortServiceHandlers {
  return {
    AddPort: unary(async (req) => {
      const desc = await sw.addPort({
        name: req.name,
        devargs: req.devargs,
        id: has(req, 'id') ? req.id : undefined,
        mtu: has(req, 'mtu') ? req.mtu : undefined,
        adminUp: has(req, 'adminUp') ? req.adminUp : undefined,
        nRxq: has(req, 'nRxq') ? req.nRxq : undefined,
        // checked by Switch.addPort (checkBond), which names a bad field
        bond: fromWireBond(req.bond) as BondConfig | undefined,
        // checked by Switch (checkQos), which names a bad field
        qos: fromWireQos(req.qos) as PortQosConfig | undefined,
        // checked by Switch.addPort (edge.ts), which names a bad field
        vlan: fromWireVlan(req.vlan),
        nshTag: fromWireNshTag(req.nshTag),
      });
      return toWirePort(desc, await sw.portQosOf(desc.id));
    }),

    DeletePort: unary(async (req) => {
      await sw.deletePort(req.port);
      return {};
    }),

    UpdatePort: unary(async (req) => {
      if (req.clearNshTag && req.nshTag) throw new ApiError(Status.INVALID_ARGUMENT, 'nsh_tag: give a new NSH tag or clear_nsh_tag, not both');
      const desc = await sw.updatePort(req.port, {
        mtu: has(req, 'mtu') ? req.mtu : undefined,
        adminUp: has(req, 'adminUp') ? req.adminUp : undefined,
        nRxq: has(req, 'nRxq') ? req.nRxq : undefined,
        qos: fromWireQos(req.qos) as PortQosConfig | undefined,
        vlan: fromWireVlan(req.vlan),
        nshTag: req.clearNshTag ? null : fromWireNshTag(req.nshTag),
      });
      return toWirePort(desc, await sw.portQosOf(desc.id));
    }),

    ListPorts: unary(async () => {
      const [ports, qos] = await Promise.all([sw.listPorts(), sw.portQos()]);
      return { ports: ports.map((d) => toWirePort(d, qos.get(d.id))) };
    }),

    GetPortStats: unary(async (req) => ({ stats: (await sw.portStats(req.port || undefined)).map(toWirePortStats) })),

    ClearPortStats: unary(async (req) => {
      await sw.clearPortStats(req.port || undefined);
      return {};
    }),
  };
}
