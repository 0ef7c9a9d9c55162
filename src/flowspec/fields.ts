/**
 * The match fields, mirrored from SY_FIELDS in dpdk-core/include/switchyard/flow.h.
 *
 * The flow text syntax needs the field table without loading the native addon
 * (the CLI never loads it), so it lives here too; the daemon checks at start
 * that this copy and the addon's `fields` (read from the C header) agree.
 *
 * Every value is handled as a bigint of `bits` bits while parsing, masking
 * and comparing, and converted to the addon's canonical form (addon-types.ts)
 * on the way out.
 */
import type { FieldInfo, FieldKind, Prereq } from '../mgmt/addon-types';

export interface FieldDef extends FieldInfo {
  bits: number;
  /** All ones over the field's width. */
  full: bigint;
}

function def(id: number, name: string, kind: FieldKind, width: number, prereq: Prereq, settable: boolean): FieldDef {
  const bits = width * 8;
  return { id, name, kind, width, prereq, settable, bits, full: (1n << BigInt(bits)) - 1n };
}

/** In SY_FIELDS order; `id` is enum sy_field_id. */
export const FIELDS: readonly FieldDef[] = [
  def(1, 'in_port', 'u32', 4, 'none', false),
  def(2, 'metadata', 'u64', 8, 'none', true),
  def(3, 'dl_src', 'mac', 6, 'none', true),
  def(4, 'dl_dst', 'mac', 6, 'none', true),
  def(5, 'dl_type', 'u16', 2, 'none', false),
  def(6, 'vlan_tci', 'u16', 2, 'none', true),
  def(7, 'nw_src', 'ipv4', 4, 'ipv4', true),
  def(8, 'nw_dst', 'ipv4', 4, 'ipv4', true),
  def(9, 'nw_proto', 'u8', 1, 'ip', false),
  def(10, 'nw_tos', 'u8', 1, 'ip', true),
  def(11, 'nw_ttl', 'u8', 1, 'ip', true),
  def(12, 'nw_frag', 'u8', 1, 'ip', false),
  def(13, 'ipv6_src', 'ipv6', 16, 'ipv6', true),
  def(14, 'ipv6_dst', 'ipv6', 16, 'ipv6', true),
  def(15, 'ipv6_label', 'u32', 4, 'ipv6', true),
  def(16, 'tp_src', 'u16', 2, 'l4', true),
  def(17, 'tp_dst', 'u16', 2, 'l4', true),
  def(18, 'icmp_type', 'u16', 2, 'icmp', false),
  def(19, 'icmp_code', 'u16', 2, 'icmp', false),
  def(20, 'tcp_flags', 'u16', 2, 'tcp', false),
  def(21, 'nsh_mdtype', 'u8', 1, 'nsh', false),
  def(22, 'nsh_np', 'u8', 1, 'nsh', false),
  def(23, 'nsh_spi', 'u32', 4, 'nsh', true),
  def(24, 'nsh_si', 'u8', 1, 'nsh', true),
  def(25, 'nsh_ttl', 'u8', 1, 'nsh', false),
  def(26, 'nsh_c1', 'u32', 4, 'nsh', true),
  def(27, 'nsh_c2', 'u32', 4, 'nsh', true),
  def(28, 'nsh_c3', 'u32', 4, 'nsh', true),
  def(29, 'nsh_c4', 'u32', 4, 'nsh', true),
  def(30, 'tun_id', 'u64', 8, 'none', true),
];

export const FIELD_BY_NAME: ReadonlyMap<string, FieldDef> = new Map(FIELDS.map((f) => [f.name, f]));

/** icmp_type/icmp_code share tp_src/tp_dst in the key; matches always use the tp_ names. */
export const SHARED_MEMBER: Readonly<Record<string, string>> = { icmp_type: 'tp_src', icmp_code: 'tp_dst' };

export function field(name: string): FieldDef {
  const f = FIELD_BY_NAME.get(name);
  if (!f) throw new Error(`internal: no field ${name}`);
  return f;
}

/**
 * Differences between this table and the addon's, one line each (empty when
 * they agree). The daemon refuses to start on a difference: the two would
 * disagree on what a flow means.
 */
export function compareFieldTables(addonFields: readonly FieldInfo[]): string[] {
  const out: string[] = [];
  const theirs = new Map(addonFields.map((f) => [f.name, f]));
  for (const f of FIELDS) {
    const t = theirs.get(f.name);
    if (!t) {
      out.push(`field ${f.name} is missing from the addon`);
      continue;
    }
    for (const k of ['id', 'kind', 'width', 'prereq', 'settable'] as const) {
      if (t[k] !== f[k]) out.push(`field ${f.name}: ${k} is ${String(t[k])} in the addon, ${String(f[k])} here`);
    }
  }
  for (const t of addonFields) if (!FIELD_BY_NAME.has(t.name)) out.push(`field ${t.name} is unknown here`);
  return out;
}

