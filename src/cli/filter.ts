/**
 * switchyard filter add | del | list: per-port ingress filters, the paper's
 * virtual firewall ("a port that must never send from 10.0.0.0/24").
 *
 *   filter add PORT (MATCH | --src CIDR | --mac MAC[/MASK])
 *   filter del PORT [MATCH | --src CIDR | --mac MAC[/MASK]]   (none: every filter of PORT)
 *   filter list [PORT]
 *
 * A filter is an ordinary flow, so it is stored, replayed, exported and
 * dumped like any other, and reachable through FlowService:
 *
 *   table=0,priority=65535,cookie=0xf17e000000000000,in_port=PORT,MATCH,actions=drop
 *
 * Table 0 is where every packet starts and 65535 the highest priority, so no
 * other entry can let a filtered packet through; the cookie marks the flow as
 * a filter (FILTER_COOKIE under FILTER_COOKIE_MASK). Dropped packets count
 * on the filter's entry (`filter list`) and under the port's `action_drop`.
 */
import { isIP } from 'node:net';
import { Command } from 'commander';
import { status as Status } from '@grpc/grpc-js';
import type { Flow } from '../gen/switchyard/v1/Flow';
import type { FlowEntry__Output } from '../gen/switchyard/v1/FlowEntry';
import type { Api } from './client';
import { CliError } from './client';
import { table } from './output';

/** The cookie of every filter flow, and the bits of it that say "filter". */
export const FILTER_COOKIE = 0xf17e_0000_0000_0000n;
export const FILTER_COOKIE_MASK = 0xffff_0000_0000_0000n;
export const FILTER_PRIORITY = 65535;
export const FILTER_TABLE = 0;

export interface FilterCliContext {
  noun: (name: string, description: string, verbs: string) => Command;
  api: (cmd: Command) => Api;
  print: (cmd: Command, json: unknown, human: () => string) => void;
}

export interface FilterOptions {
  src?: string;
  mac?: string;
}

/** Keywords a filter's match may not carry: the filter sets them itself. */
const RESERVED = ['in_port', 'table', 'priority', 'cookie', 'actions', 'idle_timeout', 'hard_timeout'];

function cidrMatch(v: string): string {
  const [addr, len, extra] = v.split('/');
  const family = isIP(addr ?? '');
  const max = family === 6 ? 128 : 32;
  if (extra !== undefined || family === 0 || (len !== undefined && (!/^[0-9]+$/.test(len) || Number(len) > max))) {
    throw new CliError(`--src '${v}': expected an IPv4 or IPv6 address with an optional /prefix (10.0.0.0/24, fd00::/64)`);
  }
  return family === 6 ? `ipv6,ipv6_src=${v}` : `ip,nw_src=${v}`;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function macMatch(v: string): string {
  const [mac, mask, extra] = v.split('/');
  if (extra !== undefined || !MAC.test(mac ?? '') || (mask !== undefined && !MAC.test(mask))) {
    throw new CliError(`--mac '${v}': expected a MAC address with an optional /mask (02:00:00:00:00:01, 01:00:00:00:00:00/01:00:00:00:00:00)`);
  }
  return `dl_src=${v}`;
}

/**
 * The match part (after in_port) of a filter: MATCH as given, or built from
 * --src / --mac. Exactly one of them; undefined when none is given and
 * `optional` (filter del PORT: every filter of the port).
 */
export function filterMatch(match: string | undefined, o: FilterOptions, optional = false): string | undefined {
  const given = [match, o.src, o.mac].filter((v) => v !== undefined).length;
  if (given > 1) throw new CliError('filter: give what to drop as one of MATCH, --src CIDR or --mac MAC');
  if (given === 0) {
    if (optional) return undefined;
    throw new CliError("filter: say what to drop: a match ('ip,nw_src=10.0.0.0/24'), --src CIDR or --mac MAC");
  }
  if (o.src !== undefined) return cidrMatch(o.src);
  if (o.mac !== undefined) return macMatch(o.mac);
  const m = match!.trim();
  if (m === '') throw new CliError('filter: the match is empty (to drop everything a port sends, use the match "any")');
  for (const part of m.split(',')) {
    const key = part.split('=')[0]!.trim();
    if (RESERVED.includes(key)) throw new CliError(`filter: the match may not set '${key}' (a filter is table 0, priority ${FILTER_PRIORITY}, in_port=PORT, actions=drop)`);
  }
  return m === 'any' ? '' : m;
}

function portRef(port: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(port)) throw new CliError(`filter: '${port}' is not a port name or number`);
  return port;
}

/** The flow of `filter add PORT ...`. */
export function filterFlow(port: string, match: string): Flow {
  return {
    tableId: FILTER_TABLE,
    priority: FILTER_PRIORITY,
    cookie: FILTER_COOKIE.toString(),
    match: match ? `in_port=${portRef(port)},${match}` : `in_port=${portRef(port)}`,
    actions: 'drop',
  };
}

export interface FilterEntry {
  port: string;
  match: string;
  packets: number;
  bytes: number;
}

/** A dumped filter flow as `filter list` shows it: the port apart from the rest of the match. */
export function filterEntry(f: FlowEntry__Output): FilterEntry {
  const parts = f.match.split(',').filter((p) => p !== '');
  const inPort = parts.find((p) => p.startsWith('in_port='));
  return {
    port: inPort ? inPort.slice('in_port='.length) : '?',
    match: parts.filter((p) => p !== inPort).join(',') || 'any',
    packets: Number(f.packets),
    bytes: Number(f.bytes),
  };
}

export function addFilterCommands(ctx: FilterCliContext): void {
  const { noun, api, print } = ctx;
  const filter = noun('filter', 'per-port ingress filters: what a port may never send (flows that drop, table 0, top priority)', 'add, del, list');
  filter
    .command('add')
    .description('drop what PORT sends that matches')
    .argument('<port>', 'name or number')
    .argument('[match]', "ovs-ofctl match, e.g. 'ip,nw_src=10.0.0.0/24' or 'arp'")
    .option('--src <cidr>', 'source IPv4 or IPv6 address or prefix (10.0.0.0/24)')
    .option('--mac <mac>', 'source MAC address, optionally /mask')
    .action(async (port: string, match: string | undefined, o: FilterOptions, cmd: Command) => {
      const m = filterMatch(match, o)!;
      const flow = filterFlow(port, m);
      const { changed } = await api(cmd).addFlows([flow]);
      print(cmd, { port, match: m || 'any', changed }, () => `port ${port}: dropping ${m || 'everything'}\n`);
    });
  filter
    .command('del')
    .alias('delete')
    .description('remove a filter of PORT (no match: every filter of PORT)')
    .argument('<port>', 'name or number')
    .argument('[match]', 'the match the filter was added with')
    .option('--src <cidr>', 'the --src the filter was added with')
    .option('--mac <mac>', 'the --mac the filter was added with')
    .action(async (port: string, match: string | undefined, o: FilterOptions, cmd: Command) => {
      const m = filterMatch(match, o, true);
      const flow = filterFlow(port, m ?? '');
      const { changed } = await api(cmd).deleteFlows({
        match: flow.match!,
        strict: m !== undefined,
        tableId: FILTER_TABLE,
        priority: m !== undefined ? FILTER_PRIORITY : undefined,
        cookie: FILTER_COOKIE.toString(),
        cookieMask: FILTER_COOKIE_MASK.toString(),
      });
      if (m !== undefined && changed === 0) throw new CliError(`port ${port} has no filter '${m || 'any'}' (see switchyard filter list ${port})`, Status.NOT_FOUND);
      print(cmd, { port, deleted: changed }, () => `port ${port}: ${changed} filter${changed === 1 ? '' : 's'} removed\n`);
    });
  filter
    .command('list')
    .alias('ls')
    .description('the filters, with the packets each dropped')
    .argument('[port]', 'only this port')
    .action(async (port: string | undefined, _o, cmd: Command) => {
      const { flows } = await api(cmd).dumpFlows({
        tableId: FILTER_TABLE,
        match: port === undefined ? '' : `in_port=${portRef(port)}`,
        cookie: FILTER_COOKIE.toString(),
        cookieMask: FILTER_COOKIE_MASK.toString(),
      });
      const rows = flows.filter((f) => f.priority === FILTER_PRIORITY).map(filterEntry);
      print(cmd, rows, () =>
        rows.length === 0
          ? `no filters${port === undefined ? '' : ` on port ${port}`}\n`
          : table(
              ['PORT', 'DROPS', 'BYTES', 'MATCH'],
              rows.map((r) => [r.port, String(r.packets), String(r.bytes), r.match]),
            ),
      );
    });
}
