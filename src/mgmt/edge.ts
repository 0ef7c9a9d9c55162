/**
 * Port edge settings: the VLAN mode of a port (access, trunk) and its NSH
 * port tag.  Checking them (any value: they may come from gRPC, a file or
 * the CLI), their text forms, and whether the data plane's are the ones
 * configured.  Shared by the gRPC handlers, the desired-state file, config
 * documents, reconciliation and the CLI.
 *
 * What the data plane does with them is described in proto.h ("Port VLAN
 * modes and NSH port tag") and dpdk-core/src/edge.h.
 */
import type { PortNshTagDesc, PortVlanDesc } from './addon-types';
import { FieldError } from './errors';

/** VIDs 1..4094 (0 means no VLAN, 4095 is reserved by 802.1Q). */
export const VID_MAX = 4094;
export const NSH_SPI_MAX = 0xffffff;

export type VlanMode = 'access' | 'trunk';

/** A port's VLAN mode, canonical: access has tag; trunk has trunks (sorted VIDs, [] = all) and native (0: none). */
export interface PortVlan {
  mode: VlanMode;
  tag?: number;
  trunks?: number[];
  native?: number;
}

/** A port's NSH tag, canonical: every field present; context is c1..c4 (MD type 1). */
export interface NshTag {
  spi: number;
  si: number;
  ttl: number;
  mdtype: 1 | 2;
  context: number[];
}

/** A field of an edge setting that is wrong, and why. */
export class EdgeError extends FieldError {}

function vid(v: unknown, where: string, what = 'VID'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > VID_MAX) {
    throw new EdgeError(where, `${what} ${String(v)} is out of range 1..${VID_MAX} (0 is no VLAN, 4095 is reserved)`);
  }
  return v;
}

/** "10,20-30" -> [10, 20, 21, ..., 30]; "" or "all" -> [] (every VID). */
export function parseVids(text: string, where = 'trunks'): number[] {
  const t = text.trim();
  if (t === '' || t === 'all') return [];
  const out = new Set<number>();
  for (const part of t.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new EdgeError(where, `'${part.trim()}' in '${t}' is not a VID or a range of VIDs (like 10,20-30)`);
    const lo = vid(Number(m[1]), where);
    const hi = m[2] === undefined ? lo : vid(Number(m[2]), where);
    if (hi < lo) throw new EdgeError(where, `range ${lo}-${hi} runs backwards`);
    for (let v = lo; v <= hi; v++) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** [10, 20, 21, 22] -> "10,20-22"; [] -> "all". */
export function formatVids(vids: readonly number[]): string {
  if (vids.length === 0) return 'all';
  const parts: string[] = [];
  for (let i = 0; i < vids.length; ) {
    let j = i;
    while (j + 1 < vids.length && vids[j + 1] === vids[j] + 1) j++;
    parts.push(j === i ? `${vids[i]}` : `${vids[i]}-${vids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Checks a VLAN setting and returns it canonical, or undefined for mode
 * 'none' (no VLAN mode).  trunks may be an array of VIDs or a text list.
 */
export function checkVlan(v: unknown, where = 'vlan'): PortVlan | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EdgeError(where, 'expected an object');
  const o = v as Record<string, unknown>;
  const mode = o.mode ?? 'none';
  const set = (k: string): boolean => o[k] !== undefined && o[k] !== null && o[k] !== 0 && o[k] !== '' && !(Array.isArray(o[k]) && (o[k] as unknown[]).length === 0);
  if (mode === 'none') {
    for (const k of ['tag', 'trunks', 'native']) if (set(k)) throw new EdgeError(`${where}.${k}`, `needs a VLAN mode (access or trunk)`);
    return undefined;
  }
  if (mode === 'access') {
    if (set('trunks')) throw new EdgeError(`${where}.trunks`, 'an access port has no trunks (it is a trunk setting)');
    if (set('native')) throw new EdgeError(`${where}.native`, 'an access port has no native VLAN (it is a trunk setting)');
    if (o.tag === undefined || o.tag === null) throw new EdgeError(`${where}.tag`, 'an access port needs its VID (tag 1..4094)');
    return { mode: 'access', tag: vid(o.tag, `${where}.tag`) };
  }
  if (mode === 'trunk') {
    if (set('tag')) throw new EdgeError(`${where}.tag`, 'a trunk port has no access tag (give trunks, and a native VLAN if untagged frames belong to one)');
    let trunks: number[] = [];
    if (typeof o.trunks === 'string') trunks = parseVids(o.trunks, `${where}.trunks`);
    else if (Array.isArray(o.trunks)) trunks = [...new Set(o.trunks.map((t, i) => vid(t, `${where}.trunks[${i}]`)))].sort((a, b) => a - b);
    else if (o.trunks !== undefined && o.trunks !== null) throw new EdgeError(`${where}.trunks`, 'expected a list of VIDs (like 10,20-30)');
    const native = o.native === undefined || o.native === null || o.native === 0 ? 0 : vid(o.native, `${where}.native`, 'native VLAN');
    return { mode: 'trunk', trunks, native };
  }
  throw new EdgeError(`${where}.mode`, `'${String(mode)}' is not a VLAN mode: none, access or trunk`);
}

/** Checks an NSH tag and returns it canonical (si 255, ttl 63, MD type 1 unless given). */
export function checkNshTag(v: unknown, where = 'nshTag'): NshTag {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EdgeError(where, 'expected an object');
  const o = v as Record<string, unknown>;
  const int = (k: string, min: number, max: number, dflt?: number): number => {
    const x = o[k] ?? dflt;
    if (x === undefined) throw new EdgeError(`${where}.${k}`, `missing (${min}..${max})`);
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw new EdgeError(`${where}.${k}`, `${String(x)} is out of range ${min}..${max}`);
    return x;
  };
  const spi = int('spi', 0, NSH_SPI_MAX);
  const si = int('si', 0, 255, 255);
  const ttl = int('ttl', 1, 63, 63);
  const mdtype = int('mdtype', 1, 2, 1) as 1 | 2;
  const c = o.context ?? [];
  if (!Array.isArray(c) || c.length > 4) throw new EdgeError(`${where}.context`, 'expected up to 4 numbers (c1..c4)');
  const context = [0, 0, 0, 0].map((_, i) => {
    const x = c[i] ?? 0;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new EdgeError(`${where}.context[${i}]`, `${String(x)} is out of range 0..4294967295`);
    return x;
  });
  if (mdtype === 2 && context.some((x) => x !== 0)) throw new EdgeError(`${where}.context`, 'context headers c1..c4 need MD type 1');
  return { spi, si, ttl, mdtype, context };
}

function num(text: string, where: string): number {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) throw new EdgeError(where, `'${t}' is not a number`);
  return Number(t);
}

/** "spi=0x123,si=255,ttl=63,c1=0x1,mdtype=1" -> an NSH tag (checked). */
export function parseNshTagSpec(text: string, where = 'nsh-tag'): NshTag {
  const o: Record<string, unknown> = {};
  const context: number[] = [0, 0, 0, 0];
  let anyCtx = false;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const m = /^\s*([a-z0-9_]+)\s*=\s*(.*)$/i.exec(part);
    if (!m) throw new EdgeError(where, `'${part.trim()}' is not key=value (spi, si, ttl, mdtype, c1..c4)`);
    const k = m[1].toLowerCase();
    if (/^c[1-4]$/.test(k)) {
      context[Number(k[1]) - 1] = num(m[2], `${where} ${k}`);
      anyCtx = true;
    } else if (k === 'spi' || k === 'si' || k === 'ttl' || k === 'mdtype') {
      o[k] = num(m[2], `${where} ${k}`);
    } else {
      throw new EdgeError(where, `unknown key '${m[1]}' (spi, si, ttl, mdtype, c1..c4)`);
    }
  }
  if (anyCtx) o.context = context;
  return checkNshTag(o, where);
}

/** "access 10", "trunk 10,20-30 native 10", "trunk all"; "" for none. */
export function vlanText(v?: PortVlan | PortVlanDesc): string {
  if (!v || v.mode === 'none') return '';
  if (v.mode === 'access') return `access ${v.tag}`;
  return `trunk ${formatVids(v.trunks ?? [])}` + (v.native ? ` native ${v.native}` : '');
}

/** "spi=0x123,si=255,ttl=63" (and c1..c4 when any is set, mdtype=2 when it is). */
export function nshTagText(t?: NshTag | PortNshTagDesc): string {
  if (!t) return '';
  let s = `spi=0x${t.spi.toString(16)},si=${t.si},ttl=${t.ttl}`;
  if (t.mdtype === 2) s += ',mdtype=2';
  if (t.context.some((x) => x !== 0)) s += t.context.map((x, i) => `,c${i + 1}=0x${x.toString(16)}`).join('');
  return s;
}

/** Whether the data plane's VLAN setting (or its absence) is the one configured. */
export function sameVlan(c: PortVlan | undefined, d: PortVlanDesc | undefined): boolean {
  return vlanText(c) === vlanText(d);
}

/** Whether the data plane's NSH tag (or its absence) is the one configured. */
export function sameNshTag(c: NshTag | undefined, d: PortNshTagDesc | undefined): boolean {
  return nshTagText(c) === nshTagText(d);
}

/** What the addon takes for a VLAN setting: 'none' clears. */
export function vlanWire(v: PortVlan | undefined): { mode: 'none' | VlanMode; tag?: number; trunks?: number[]; native?: number } {
  if (!v) return { mode: 'none' };
  return v.mode === 'access' ? { mode: 'access', tag: v.tag } : { mode: 'trunk', trunks: v.trunks ?? [], native: v.native ?? 0 };
}

/** The stored forms (state file, config documents): trunks as text. */
export function vlanDoc(v: PortVlan): Record<string, unknown> {
  return v.mode === 'access' ? { mode: 'access', tag: v.tag } : { mode: 'trunk', trunks: formatVids(v.trunks ?? []), ...(v.native ? { native: v.native } : {}) };
}

export function nshTagDoc(t: NshTag): Record<string, unknown> {
  return { spi: t.spi, si: t.si, ttl: t.ttl, ...(t.mdtype === 2 ? { mdtype: 2 } : {}), ...(t.context.some((x) => x !== 0) ? { context: t.context } : {}) };
}

/** The edge settings of a port to add (nothing for those it has not). */
export function edgeAddRequest(p: { vlan?: PortVlan; nshTag?: NshTag }): { vlan?: ReturnType<typeof vlanWire>; nshTag?: NshTag } {
  return { ...(p.vlan ? { vlan: vlanWire(p.vlan) } : {}), ...(p.nshTag ? { nshTag: p.nshTag } : {}) };
}

/** The edge settings of a port change going from `from` to `to` (nothing if they are the same). */
export function edgeChange(
  from: { vlan?: PortVlan | PortVlanDesc; nshTag?: NshTag | PortNshTagDesc },
  to: { vlan?: PortVlan; nshTag?: NshTag },
): { vlan?: ReturnType<typeof vlanWire>; nshTag?: NshTag | null } {
  const out: { vlan?: ReturnType<typeof vlanWire>; nshTag?: NshTag | null } = {};
  if (vlanText(from.vlan) !== vlanText(to.vlan)) out.vlan = vlanWire(to.vlan);
  if (nshTagText(from.nshTag) !== nshTagText(to.nshTag)) out.nshTag = to.nshTag ?? null;
  return out;
}

/** A data plane's description back as a setting (for undo). */
export function vlanOfDesc(d?: PortVlanDesc): PortVlan | undefined {
  if (!d || d.mode === 'none') return undefined;
  return d.mode === 'access' ? { mode: 'access', tag: d.tag } : { mode: 'trunk', trunks: d.trunks, native: d.native };
}

export function nshTagOfDesc(d?: PortNshTagDesc): NshTag | undefined {
  return d ? { spi: d.spi, si: d.si, ttl: d.ttl, mdtype: d.mdtype === 2 ? 2 : 1, context: d.context } : undefined;
}
