/** switchyard.v1.MirrorService: port and flow mirrors (Switch.addMirror and friends). */
import type { Mirror } from '../gen/switchyard/v1/Mirror';
import type { MirrorServiceHandlers } from '../gen/switchyard/v1/MirrorService';
import type { MirrorConfig } from './state';
import { unary } from './rpc';
import type { Switch } from './switch';
import { u64 } from './wire';

function toWire(sw: Switch, m: MirrorConfig): Mirror {
  const names = sw.portNames();
  const name = (id: number) => names.portName(id) ?? String(id);
  return { name: m.name, id: m.id, output: name(m.outPort), src: m.src.map(name), dst: m.dst.map(name) };
}

export function mirrorService(sw: Switch): MirrorServiceHandlers {
  return {
    AddMirror: unary(async (req) => toWire(sw, await sw.addMirror({ name: req.name, out: req.output, src: req.src, dst: req.dst }))),
    DeleteMirror: unary(async (req) => {
      await sw.deleteMirror(req.name);
      return {};
    }),
    ListMirrors: unary(async () => ({
      mirrors: (await sw.listMirrors()).map(({ mirror, stats }) => ({
        mirror: toWire(sw, mirror),
        packets: u64(stats?.packets ?? 0n),
        bytes: u64(stats?.bytes ?? 0n),
        noMbuf: u64(stats?.noMbuf ?? 0n),
      })),
    })),
  };
}
