/**
 * switchyard group add|mod|del|list|stats: logical port groups.
 *
 *   group add 'group_id=1,type=select,bucket=weight:1,actions=output:p2,bucket=weight:3,actions=output:p3'
 *   group add 1 select 'bucket=weight:1,actions=output:p2' 'bucket=weight:3,actions=output:p3'
 *   group mod ...        the same, replacing an existing group (ovs-ofctl mod-group)
 *   group del ID         refused while flows use it
 *   group list           the groups, in add-group syntax
 *   group stats [ID]     packets and bytes per group and per bucket, drops (no live bucket)
 *
 * The first form is ovs-ofctl add-group's: paste what you write for Open
 * vSwitch. In the second, ID and TYPE come first and each further argument
 * is one bucket.
 */
import { Command } from 'commander';
import { CliError } from './client';
import type { PmdCliContext } from './pmd';
import { table } from './output';
import type { Group__Output } from '../gen/switchyard/v1/Group';
import type { GroupStats__Output } from '../gen/switchyard/v1/GroupStats';

/** The add-group text from `group add` arguments (either form). */
export function groupSpec(args: string[]): string {
  if (args.length === 0) throw new CliError("group add: expected 'group_id=N,type=T,bucket=...' or ID TYPE BUCKET...");
  if (args[0].includes('=')) return args.join(',');
  const [id, type, ...buckets] = args;
  if (!/^[0-9]+$/.test(id)) throw new CliError(`group add: '${id}' is not a group id (0..65535)`);
  if (type === undefined) throw new CliError('group add: expected a type after the id (all, select, indirect, fast_failover)');
  const bs = buckets.map((b) => (b.startsWith('bucket=') ? b : `bucket=${b}`));
  return [`group_id=${id}`, `type=${type}`, ...bs].join(',');
}

function groupsText(groups: Group__Output[]): string {
  if (groups.length === 0) return 'no groups\n';
  return groups.map((g) => g.text + '\n').join('');
}

function statsText(stats: GroupStats__Output[]): string {
  if (stats.length === 0) return 'no groups\n';
  const rows: (string | number)[][] = [];
  for (const s of stats) {
    rows.push([s.id, s.type, '-', s.flows, s.packets, s.bytes, s.dropped]);
    s.buckets.forEach((b, i) => rows.push(['', '', i, '', b.packets, b.bytes, '']));
  }
  return table(['GROUP', 'TYPE', 'BUCKET', 'FLOWS', 'PACKETS', 'BYTES', 'DROPPED'], rows);
}

export function addGroupCommands(c: PmdCliContext): void {
  const { noun, api, print } = c;
  const grp = noun('group', 'logical port groups (all, select, indirect, fast_failover)', 'add, mod, del, list, stats');
  for (const [verb, modify] of [
    ['add', false],
    ['mod', true],
  ] as const) {
    grp
      .command(verb)
      .description(modify ? 'replace a group (ovs-ofctl mod-group)' : 'add a group (ovs-ofctl add-group syntax)')
      .argument('<spec...>', "'group_id=1,type=select,bucket=weight:1,actions=output:p2,...' or ID TYPE 'BUCKET'...")
      .action(async (spec: string[], _o, cmd: Command) => {
        const g = await api(cmd).addGroup({ spec: groupSpec(spec), modify });
        print(cmd, g, () => groupsText([g]));
      });
  }
  grp
    .command('del')
    .description('delete a group (refused while flows use it)')
    .argument('<id>', 'group id')
    .action(async (id: string, _o, cmd: Command) => {
      if (!/^[0-9]+$/.test(id) || Number(id) > 65535) throw new CliError(`group del: '${id}' is not a group id (0..65535)`);
      await api(cmd).deleteGroup(Number(id));
      print(cmd, {}, () => '');
    });
  grp
    .command('list')
    .alias('ls')
    .description('the groups, in add-group syntax')
    .action(async (_o, cmd: Command) => {
      const { groups } = await api(cmd).listGroups();
      print(cmd, groups, () => groupsText(groups));
    });
  grp
    .command('stats')
    .description('packets and bytes per group and bucket')
    .argument('[id]', 'one group')
    .action(async (id: string | undefined, _o, cmd: Command) => {
      if (id !== undefined && (!/^[0-9]+$/.test(id) || Number(id) > 65535)) throw new CliError(`group stats: '${id}' is not a group id (0..65535)`);
      const { groups } = await api(cmd).groupStats(id === undefined ? undefined : Number(id));
      print(cmd, groups, () => statsText(groups));
    });
}
