/**
 * `switchyard port add|set P --vlan-mode access --tag 10`, `--vlan-mode
 * trunk --trunks 10,20-30 [--native-vlan 10]`, `--vlan-mode none`,
 * `--nsh-tag spi=0x123,si=255[,ttl=N][,c1=N..]`, `--no-nsh-tag`: the edge
 * options as the gRPC PortVlan and NshTag, checked here (edge.ts) so that
 * a mistake is named before anything is sent.
 */
import type { NshTag } from '../gen/switchyard/v1/NshTag';
import type { PortVlan } from '../gen/switchyard/v1/PortVlan';
import type { PortVlan__Output } from '../gen/switchyard/v1/PortVlan';
import type { NshTag__Output } from '../gen/switchyard/v1/NshTag';
import { checkVlan, EdgeError, formatVids, nshTagText, parseNshTagSpec, parseVids } from '../mgmt/edge';
import { CliError } from './client';

export interface EdgeOptions {
  vlanMode?: string;
  tag?: string;
  trunks?: string;
  nativeVlan?: string;
  nshTag?: string | boolean; // commander: --no-nsh-tag gives false
}

/** The option a field of edge.ts's checks comes from. */
const FLAGS: Record<string, string> = { 'vlan.mode': '--vlan-mode', 'vlan.tag': '--tag', 'vlan.trunks': '--trunks', 'vlan.native': '--native-vlan' };

function cli<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EdgeError) throw new CliError(`${FLAGS[e.field] ?? e.field}: ${e.problem}`);
    throw e;
  }
}

function vidOpt(flag: string, s: string): number {
  if (!/^\d+$/.test(s.trim())) throw new CliError(`${flag}: '${s}' is not a VID (1..4094)`);
  return Number(s);
}

/** The PortVlan the options ask for, or undefined without --vlan-mode. */
export function vlanRequest(o: EdgeOptions): PortVlan | undefined {
  if (o.vlanMode === undefined) {
    if (o.tag !== undefined || o.trunks !== undefined || o.nativeVlan !== undefined) {
      throw new CliError('--tag, --trunks and --native-vlan need --vlan-mode access or trunk');
    }
    return undefined;
  }
  const v = cli(() =>
    checkVlan(
      {
        mode: o.vlanMode,
        ...(o.tag !== undefined ? { tag: vidOpt('--tag', o.tag) } : {}),
        ...(o.trunks !== undefined ? { trunks: parseVids(o.trunks, '--trunks') } : {}),
        ...(o.nativeVlan !== undefined ? { native: vidOpt('--native-vlan', o.nativeVlan) } : {}),
      },
      'vlan',
    ),
  );
  if (!v) return { mode: 'VLAN_MODE_NONE' };
  return v.mode === 'access'
    ? { mode: 'VLAN_MODE_ACCESS', tag: v.tag }
    : { mode: 'VLAN_MODE_TRUNK', trunks: v.trunks ?? [], native: v.native ?? 0 };
}

/** The NshTag of --nsh-tag SPEC; null for --no-nsh-tag; undefined for neither. */
export function nshTagRequest(o: EdgeOptions): NshTag | null | undefined {
  if (o.nshTag === undefined || o.nshTag === true) return undefined;
  if (o.nshTag === false) return null;
  const t = cli(() => parseNshTagSpec(o.nshTag as string, '--nsh-tag'));
  return { spi: t.spi, si: t.si, ttl: t.ttl, mdtype: t.mdtype, context: t.context };
}

/** "access 10", "trunk 10,20-30 native 10", "" for none (port list). */
export function vlanShown(v: PortVlan__Output | null | undefined): string {
  if (!v || v.mode === 'VLAN_MODE_NONE' || v.mode === 'VLAN_MODE_UNSPECIFIED') return '';
  if (v.mode === 'VLAN_MODE_ACCESS') return `access ${v.tag}`;
  return `trunk ${formatVids(v.trunks)}` + (v.native ? ` native ${v.native}` : '');
}

/** "spi=0x123,si=255,ttl=63", "" for none (port list). */
export function nshTagShown(t: NshTag__Output | null | undefined): string {
  if (!t) return '';
  return nshTagText({ spi: t.spi, si: t.si ?? 255, ttl: t.ttl ?? 63, mdtype: t.mdtype === 2 ? 2 : 1, context: t.context.length ? t.context : [0, 0, 0, 0] });
}
