/**
 * switchyard mirror add | del | list: copies of a port's or a flow's
 * traffic to another port (MirrorService), as OVS's mirrors.
 *
 *   mirror add NAME [--src P,..] [--dst P,..] --output P
 *                 copies of what the src ports receive and of what is sent
 *                 to the dst ports go out of P; flows copy with mirror:NAME
 *   mirror del NAME   refused while flows name it
 *   mirror list       the mirrors with their counters (copies sent, copies
 *                     that found no buffer)
 */
import { Command } from 'commander';
import type { Mirror, Mirror__Output } from '../gen/switchyard/v1/Mirror';
import type { MirrorEntry__Output } from '../gen/switchyard/v1/MirrorEntry';
import type { Api } from './client';
import { CliError } from './client';
import { table } from './output';

export interface MirrorCliContext {
  noun: (name: string, description: string, verbs: string) => Command;
  api: (cmd: Command) => Api;
  print: (cmd: Command, json: unknown, human: () => string) => void;
}

interface MirrorOptions {
  src?: string;
  dst?: string;
  output?: string;
}

const list = (v: string | undefined): string[] => (v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));

/** The Mirror request of `mirror add NAME ...`. */
export function mirrorRequest(name: string, o: MirrorOptions): Mirror {
  if (o.output === undefined || o.output.trim() === '') throw new CliError('mirror add: --output PORT is required (where the copies go)');
  return { name, src: list(o.src), dst: list(o.dst), output: o.output.trim() };
}

export function mirrorJson(m: Mirror__Output) {
  return { name: m.name, id: m.id, src: m.src, dst: m.dst, output: m.output };
}

export function mirrorEntryJson(e: MirrorEntry__Output) {
  return { ...mirrorJson(e.mirror!), packets: e.packets, bytes: e.bytes, noMbuf: e.noMbuf };
}

function mirrorsTable(es: MirrorEntry__Output[]): string {
  if (es.length === 0) return 'no mirrors\n';
  const ports = (l: string[]) => (l.length ? l.join(',') : '-');
  return table(
    ['NAME', 'SRC', 'DST', 'OUTPUT', 'PACKETS', 'BYTES', 'NO_MBUF'],
    es.map((e) => [e.mirror!.name, ports(e.mirror!.src), ports(e.mirror!.dst), e.mirror!.output, e.packets, e.bytes, e.noMbuf]),
  );
}

export function addMirrorCommands({ noun, api, print }: MirrorCliContext): void {
  const mirror = noun('mirror', "copies of a port's or a flow's traffic to another port", 'add, del, list');
  mirror
    .command('add')
    .description('add a mirror: copies of what --src ports receive and --dst ports send go out of --output (flows: actions=mirror:NAME)')
    .argument('<name>', 'mirror name (flows name it in mirror:NAME)')
    .option('--src <ports>', 'ports whose received packets are copied, comma-separated')
    .option('--dst <ports>', 'ports whose sent packets are copied, comma-separated')
    .option('--output <port>', 'the port the copies go to')
    .action(async (name: string, o: MirrorOptions, cmd: Command) => {
      const m = await api(cmd).addMirror(mirrorRequest(name, o));
      print(cmd, mirrorJson(m), () => `mirror ${m.name} added: src ${m.src.join(',') || '-'}, dst ${m.dst.join(',') || '-'}, output ${m.output}\n`);
    });
  mirror
    .command('del')
    .description('delete a mirror (refused while flows name it)')
    .argument('<name>', 'mirror name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await api(cmd).deleteMirror(name);
      print(cmd, { deleted: name }, () => `mirror ${name} deleted\n`);
    });
  mirror
    .command('list')
    .description('the mirrors, with the copies each sent and those that found no buffer')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await api(cmd).listMirrors();
      print(cmd, r.mirrors.map(mirrorEntryJson), () => mirrorsTable(r.mirrors));
    });
}
