/** switchyard.v1.MirrorService: port and flow mirrors (Switch.addMirror and friends). */
import type { Mirror } from '../gen/switchyard/v1/Mirror';
import type { MirrorServiceHandlers } from '../gen/switchyard/v1/MirrorService';
import type { PortNames } from '../flowspec';
import type { MirrorConfig } from './state';
import { unary } from './rpc';
import type { Switch } from './switch';
import { u64 } from './wire';

/** m on the wire; names: the port names of the request (one lookup table for all its mirrors). */
function toWire(m: MirrorConfig, names: Required<PortNames>): Mirror {
  const name = (id: number) => names.portName(id) ?? String(id);
  return { name: m.name, id: m.id, output: name(m.outPort), src: m.src.map(name), dst: m.dst.map(name) };
}

export function mirrorService(sw: Switch): MirrorServiceHandlers {
  return {
    AddMirror: unary(async (req) => toWire(await sw.addMirror({ name: req.name, out: req.output, src: req.src, dst: req.dst }), sw.portNames())),
    DeleteMirror: unary(async (req) => {
      await sw.deleteMirror(req.name);
      return {};
    }),
    ListMirrors: unary(async () => {
      const names = sw.portNames();
      const mirrors = (await sw.listMirrors()).map(({ mirror, stats }) => ({
        mirror: toWire(mirror, names),
        packets: u64(stats?.packets ?? 0n),
        bytes: u64(stats?.bytes ?? 0n),
        noMbuf: u64(stats?.noMbuf ?? 0n),
      }));
      return { mirrors };
    }),
  };
}
