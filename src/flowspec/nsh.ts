/**
 * The tagged header's actions in flow text (NSH, RFC 8300; README "The
 * tagged header (NSH)").
 *
 *   push_nsh(spi=N[,si=N][,ttl=N][,md_type=1|2][,c1=N,...,c4=N])
 *       Ethernet + NSH in front of the frame; spi is required (0..0xffffff),
 *       si defaults to 255, ttl to 63 (0..63), md_type to 1; c1..c4 are MD
 *       type 1's context headers (default 0).
 *   pop_nsh            the Ethernet and NSH headers off again.
 *   dec_nsh_ttl        TTL - 1; at TTL 0 or 1 the packet is dropped
 *                      (counted tag_ttl_expired).
 *
 * DESIGN.md's push_tag(...), pop_tag and dec_tag_ttl are the same actions.
 * Open vSwitch's spellings are accepted too: encap(nsh) or
 * encap(nsh(md_type=N)) is push_nsh with spi=0 (OVS's defaults; a
 * set_field:N->nsh_spi follows), the encap(ethernet) OVS writes after it
 * (anywhere after it) is accepted as part of that push (push_nsh puts the Ethernet header on
 * too), and decap() is pop_nsh (both headers at once: OVS's decap(),decap()
 * pair is one decap() here).  OVS's md_type=2 TLVs (tlv(...)) are not
 * pushed.
 */
import type { Action } from '../mgmt/addon-types';
import { fail, Site } from './errors';
import { hex, parseUint } from './values';

export type PushNsh = Extract<Action, { type: 'push_nsh' }>;

const CTX = ['c1', 'c2', 'c3', 'c4'] as const;
const LIMITS: Record<string, bigint> = {
  spi: 0xffffffn,
  si: 0xffn,
  ttl: 63n,
  md_type: 2n,
  c1: 0xffffffffn,
  c2: 0xffffffffn,
  c3: 0xffffffffn,
  c4: 0xffffffffn,
};

/** push_nsh's argument list (the text between the parentheses). */
export function parsePushNsh(args: string | undefined, name: string, site: Site, needSpi = true): PushNsh {
  const v: Record<string, bigint> = {};
  for (const part of (args ?? '').split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq).trim();
    const text = eq < 0 ? '' : p.slice(eq + 1).trim();
    const max = LIMITS[key];
    if (max === undefined) fail(`${name}: unknown argument '${key}' (spi, si, ttl, md_type, c1..c4)`, site);
    if (key in v) fail(`${name}: ${key} given twice`, site);
    const n = parseUint(text);
    if (n === undefined) fail(`${name}: ${key}=${text} is not a number`, site);
    if (n > max) fail(`${name}: ${key}=${text} is out of range (0..${max <= 0xffn ? max : hex(max)})`, site);
    if (key === 'md_type' && n !== 1n && n !== 2n) fail(`${name}: md_type=${text}, it must be 1 or 2`, site);
    v[key] = n;
  }
  if (needSpi && v.spi === undefined) fail(`${name} needs spi=N (the service path id, 0..0xffffff)`, site);
  const mdType = Number(v.md_type ?? 1n);
  if (mdType === 2 && CTX.some((c) => v[c] !== undefined)) fail(`${name}: c1..c4 are MD type 1's, not md_type=2's`, site);
  return {
    type: 'push_nsh',
    spi: Number(v.spi ?? 0n),
    si: Number(v.si ?? 255n),
    ttl: Number(v.ttl ?? 63n),
    mdType,
    c1: Number(v.c1 ?? 0n),
    c2: Number(v.c2 ?? 0n),
    c3: Number(v.c3 ?? 0n),
    c4: Number(v.c4 ?? 0n),
  };
}

/** OVS's encap(...): nsh, nsh(md_type=N) (pushes) or ethernet (after an NSH push: nothing more). */
export function parseEncap(arg: string | undefined, before: readonly Action[], site: Site): PushNsh | undefined {
  const a = (arg ?? '').trim();
  if (a === 'ethernet') {
    if (!before.some((x) => x.type === 'push_nsh')) fail('encap(ethernet) is only accepted after encap(nsh), whose Ethernet header it is', site);
    return undefined;
  }
  const m = /^nsh(?:\(([\s\S]*)\))?$/.exec(a);
  if (!m) fail(`encap(${a}): only encap(nsh) and encap(nsh(md_type=1|2)) are supported`, site);
  return parsePushNsh(m[1], 'encap(nsh)', site, false);
}

/** Canonical text of a push_nsh. */
export function formatPushNsh(a: PushNsh): string {
  const parts = [`spi=${hex(BigInt(a.spi))}`, `si=${a.si}`, `ttl=${a.ttl}`];
  if (a.mdType !== 1) parts.push(`md_type=${a.mdType}`);
  for (const c of CTX) if (a[c]) parts.push(`${c}=${hex(BigInt(a[c]))}`);
  return `push_nsh(${parts.join(',')})`;
}
