/**
 * Group text: ovs-ofctl's add-group syntax, parsed into the addon's
 * GroupConfig and formatted back.
 *
 *   group_id=1,type=select,bucket=weight:1,actions=output:p2,bucket=weight:3,actions=output:p3
 *   group_id=2,type=fast_failover,bucket=watch_port:p2,actions=output:p2,bucket=watch_port:p3,actions=output:p3
 *   group_id=3,type=select,selection_method=hash,fields(ip_src,ip_dst),bucket=output:2,bucket=output:3
 *
 * Head: group_id=N (0..65535), type=all|select|indirect|fast_failover (ff
 * too), and for select selection_method=hash with fields(F,...) naming the
 * key fields hashed (eth_src, eth_dst, ip_src, ip_dst, ip_proto, tp_src,
 * tp_dst and their OVS spellings; default the 5-tuple). Each `bucket=`
 * starts a bucket: weight:N (default 1), watch_port:PORT, bucket_id:N
 * (accepted, ignored), then its actions, after `actions=` or directly, up to
 * the next bucket. Bucket actions are flow actions except goto_table,
 * write_metadata and group.
 */
import type { GroupBucket, GroupConfig, GroupType } from '../mgmt/addon-types';
import { formatActions, MAX_GROUP_ID, parseActions, splitTokens } from './actions';
import { fail, Site, UnknownPortError } from './errors';
import { MAX_PORT_ID, PortNames } from './match';
import { parseUint } from './values';

export const GROUP_TYPES: readonly GroupType[] = ['all', 'select', 'indirect', 'fast_failover'];
export const MAX_BUCKETS = 32;
export const MAX_BUCKET_ACTIONS = 16;

/** Hash field names (OVS's and ours) -> the addon's. */
const SEL_FIELDS: Readonly<Record<string, string>> = {
  eth_src: 'dl_src',
  dl_src: 'dl_src',
  eth_dst: 'dl_dst',
  dl_dst: 'dl_dst',
  ip_src: 'nw_src',
  nw_src: 'nw_src',
  ipv6_src: 'nw_src',
  ip_dst: 'nw_dst',
  nw_dst: 'nw_dst',
  ipv6_dst: 'nw_dst',
  ip_proto: 'nw_proto',
  nw_proto: 'nw_proto',
  tp_src: 'tp_src',
  tcp_src: 'tp_src',
  udp_src: 'tp_src',
  sctp_src: 'tp_src',
  tp_dst: 'tp_dst',
  tcp_dst: 'tp_dst',
  udp_dst: 'tp_dst',
  sctp_dst: 'tp_dst',
};
const SEL_ORDER = ['dl_src', 'dl_dst', 'nw_src', 'nw_dst', 'nw_proto', 'tp_src', 'tp_dst'];

function uint(text: string, max: number, what: string, site: Site): number {
  const v = parseUint(text);
  if (v === undefined) fail(`${what}: '${text}' is not a number`, site);
  if (v > BigInt(max)) fail(`${what}: ${text} is out of range (0..${max})`, site);
  return Number(v);
}

function port(text: string, what: string, site: Site, names: PortNames): number {
  const v = parseUint(text);
  if (v !== undefined) {
    if (v < 1n || v > BigInt(MAX_PORT_ID)) fail(`${what}: ${text} is not a port number (1..${MAX_PORT_ID})`, site);
    return Number(v);
  }
  const id = names.resolvePort?.(text);
  if (id === undefined) {
    if (!names.resolvePort) fail(`${what}: '${text}' is not a port number`, site);
    throw new UnknownPortError(text, site.field, site.position, site.text);
  }
  return id;
}

/** Parses one group line (ovs-ofctl add-group syntax); throws FlowSpecError naming the field. */
export function parseGroup(text: string, names: PortNames = {}): GroupConfig {
  const tokens = splitTokens(text);
  let id: number | undefined;
  let type: GroupType | undefined;
  let fields: string[] | undefined;
  const buckets: GroupBucket[] = [];
  let i = 0;
  for (; i < tokens.length && !tokens[i].text.startsWith('bucket='); i++) {
    const t = tokens[i];
    const eq = t.text.indexOf('=');
    const key = eq < 0 ? t.text.replace(/\(.*$/, '') : t.text.slice(0, eq);
    const val = eq < 0 ? '' : t.text.slice(eq + 1);
    const site: Site = { field: key, position: t.pos, text };
    switch (key) {
      case 'group_id':
        id = uint(val, MAX_GROUP_ID, 'group_id', site);
        break;
      case 'type': {
        const ty = val === 'ff' ? 'fast_failover' : val;
        if (!GROUP_TYPES.includes(ty as GroupType)) fail(`type: '${val}' is not one of ${GROUP_TYPES.join(', ')}`, site);
        type = ty as GroupType;
        break;
      }
      case 'selection_method':
        if (val !== 'hash') fail(`selection_method: '${val}' is not supported (hash is)`, site);
        break;
      case 'fields': {
        const m = /^fields\((.*)\)$/.exec(t.text) ?? /^fields=(.*)$/.exec(t.text);
        const list = (m ? m[1] : '').split(/[,+]/).filter((f) => f !== '');
        if (list.length === 0) fail('fields: expected fields(NAME,...)', site);
        const set = new Set<string>();
        for (const f of list) {
          const ours = SEL_FIELDS[f];
          if (!ours) fail(`fields: '${f}' cannot be hashed (one of ${Object.keys(SEL_FIELDS).join(', ')})`, site);
          set.add(ours);
        }
        fields = SEL_ORDER.filter((f) => set.has(f));
        break;
      }
      default:
        fail(`unknown group setting '${key}'`, site);
    }
  }
  const end = { field: 'group_id', position: 0, text };
  if (id === undefined) fail('missing group_id', end);
  if (type === undefined) fail('missing type', { ...end, field: 'type' });
  while (i < tokens.length) {
    const start = tokens[i];
    const bucket: GroupBucket = { weight: 1, actions: [] };
    const acts: { text: string; pos: number }[] = [];
    const first = start.text.slice('bucket='.length);
    let inActions = false;
    const parts: { text: string; pos: number }[] = [];
    if (first !== '') parts.push({ text: first, pos: start.pos + 'bucket='.length });
    for (i++; i < tokens.length && !tokens[i].text.startsWith('bucket='); i++) parts.push(tokens[i]);
    for (const p of parts) {
      const site: Site = { field: p.text.replace(/[:=].*$/, ''), position: p.pos, text };
      if (!inActions) {
        const m = /^(weight|watch_port|bucket_id|watch_group)[:=](.*)$/.exec(p.text);
        if (m) {
          if (m[1] === 'weight') bucket.weight = uint(m[2], 0xffff, 'weight', site);
          else if (m[1] === 'watch_port') bucket.watchPort = port(m[2], 'watch_port', site, names);
          else if (m[1] === 'watch_group') fail('watch_group is not supported (watch_port is)', site);
          continue;
        }
        inActions = true;
        if (p.text.startsWith('actions=')) {
          if (p.text.length > 'actions='.length) acts.push({ text: p.text.slice('actions='.length), pos: p.pos + 'actions='.length });
          continue;
        }
      }
      acts.push(p);
    }
    const base = acts.length ? acts[0].pos : start.pos;
    const actText = acts.map((a) => a.text).join(',');
    bucket.actions = parseActions(actText, { ...names, table: 255 });
    for (const a of bucket.actions) {
      if (a.type === 'goto_table' || a.type === 'write_metadata' || a.type === 'group') {
        fail(`bucket ${buckets.length}: ${a.type} is not allowed in a bucket`, { field: a.type, position: base, text });
      }
    }
    if (bucket.actions.length > MAX_BUCKET_ACTIONS) {
      fail(`bucket ${buckets.length}: ${bucket.actions.length} actions, at most ${MAX_BUCKET_ACTIONS}`, { field: 'actions', position: base, text });
    }
    if (buckets.length === MAX_BUCKETS) fail(`more than ${MAX_BUCKETS} buckets`, { field: 'bucket', position: start.pos, text });
    buckets.push(bucket);
  }
  if (type === 'indirect' && buckets.length !== 1) fail('an indirect group has exactly one bucket', { ...end, field: 'bucket' });
  if (type === 'fast_failover') {
    const n = buckets.findIndex((b) => b.watchPort === undefined);
    if (n >= 0) fail(`bucket ${n}: fast_failover needs watch_port in every bucket`, { ...end, field: 'watch_port' });
  }
  if (fields && type !== 'select') fail('fields: only a select group hashes', { ...end, field: 'fields' });
  const g: GroupConfig = { id, type, buckets };
  if (fields) g.fields = fields;
  return g;
}

/** Formats a group in the syntax parseGroup() reads; port names where known. */
export function formatGroup(g: GroupConfig, names: PortNames = {}): string {
  const portText = (p: number) => names.portName?.(p) ?? String(p);
  let s = `group_id=${g.id},type=${g.type}`;
  if (g.fields?.length) s += `,selection_method=hash,fields(${g.fields.join(',')})`;
  for (const b of g.buckets) {
    const parts: string[] = [];
    if (g.type === 'select' || (b.weight ?? 1) !== 1) parts.push(`weight:${b.weight ?? 1}`);
    if (b.watchPort !== undefined) parts.push(`watch_port:${portText(b.watchPort)}`);
    parts.push(`actions=${formatActions(b.actions, names)}`);
    s += `,bucket=${parts.join(',')}`;
  }
  return s;
}
