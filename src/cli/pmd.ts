/**
 * switchyard pmd stats | clear: the poll-mode (forwarding) lcores.
 *
 *   pmd stats            one row per lcore: packets, busy share of its
 *                        cycles, cycles per packet, flow cache hit rate,
 *                        classifier lookups and probes, and the rx queues
 *                        it polls (OVS: dpif-netdev/pmd-stats-show and
 *                        pmd-rxq-show); counters since start or the last clear
 *   pmd stats --watch [S] the same as rates over each interval of S seconds
 *                        (default 1), redrawn in place until Ctrl-C; with
 *                        --json one JSON object per line per interval
 *   pmd clear            zeroes the PMD counters (StatsService.ClearPmdStats)
 */
import { Command } from 'commander';
import type { Api } from './client';
import { CliError } from './client';
import { pmdJson, pmdRates, pmdRatesTable, pmdTable } from './output';
import type { Io } from './start';

/** What program.ts lends the pmd commands. */
export interface PmdCliContext {
  program: Command;
  noun: (name: string, description: string, verbs: string) => Command;
  api: (cmd: Command) => Api;
  print: (cmd: Command, json: unknown, human: () => string) => void;
  globals: (cmd: Command) => { json: boolean };
  io: Io;
  state: { code: number };
}

/** Seconds between refreshes from `--watch [SECONDS]` (true: the flag alone). */
export function watchInterval(v: string | boolean): number {
  if (v === true) return 1;
  const s = Number(v);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(String(v)) || !(s >= 0.1) || s > 3600) {
    throw new CliError(`--watch '${v}': expected seconds between refreshes, 0.1..3600`);
  }
  return s;
}

/** Samples every `seconds` and prints the rates between samples until SIGINT/SIGTERM. */
async function watch(api: Api, seconds: number, json: boolean, io: Io): Promise<void> {
  let stopped = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const tty = !json && process.stdout.isTTY === true;
  try {
    let prev = await api.pmdStats();
    let prevAt = performance.now();
    if (!json) io.out(`${tty ? '\x1b[H\x1b[2J' : ''}pmd rates every ${seconds} s (Ctrl-C to stop); first sample in ${seconds} s\n`);
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, seconds * 1000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = null;
      if (stopped) break;
      const cur = await api.pmdStats();
      const at = performance.now();
      const interval = (at - prevAt) / 1000;
      const rates = pmdRates(prev, cur, interval);
      if (json) {
        io.out(JSON.stringify({ time: new Date().toISOString(), intervalSec: Math.round(interval * 1000) / 1000, pmds: rates }) + '\n');
      } else {
        const head = `pmd rates over the last ${interval.toFixed(1)} s, ${new Date().toLocaleTimeString()} (Ctrl-C to stop)\n`;
        io.out((tty ? '\x1b[H\x1b[2J' : '\n') + head + pmdRatesTable(rates));
      }
      prev = cur;
      prevAt = at;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function addPmdCommands(c: PmdCliContext): void {
  const pmd = c.noun('pmd', 'poll-mode (forwarding) lcores: cycles, flow cache, rx queues', 'stats, clear');
  pmd
    .command('stats')
    .alias('show')
    .description('per PMD lcore: packets, busy %, cycles/packet, cache hit %, lookups, probes, rx queues')
    .option('--watch [seconds]', 'redraw every SECONDS (default 1) with rates over the interval, until Ctrl-C')
    .action(async (o: { watch?: string | boolean }, cmd: Command) => {
      if (o.watch === undefined) {
        const r = await c.api(cmd).pmdStats();
        c.print(cmd, r.pmds.map(pmdJson), () => pmdTable(r.pmds));
        return;
      }
      await watch(c.api(cmd), watchInterval(o.watch), c.globals(cmd).json, c.io);
    });
  pmd
    .command('clear')
    .description('zero the PMD counters (cycles, packets, cache and classifier counts)')
    .action(async (_o, cmd: Command) => {
      await c.api(cmd).clearPmdStats();
      c.print(cmd, { cleared: 'pmd' }, () => 'cleared the PMD counters\n');
    });
}
