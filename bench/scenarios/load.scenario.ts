/**
 * Loading flows the way an operator does (issue #3, "batch changes"): the
 * scenario-3 ACL as a flow file, `switchyard flow add --file FILE` through
 * the whole path (CLI -> gRPC -> switchyardd: parse, desired state, journal
 * -> addon -> data plane: one all-or-nothing batch per file), timed from
 * the CLI's start to its exit.
 *
 *   100K   one file of 100,000 rules into an empty switch
 *   1M     ten files of 100,000 (a request holds at most 131,072 flow-mods),
 *          one after the other, into an empty switch
 *   then, with the million installed: one flow added (a change costs what
 *   it holds, not what the switch holds), the whole dump through
 *   `switchyard flow dump` (StreamFlows), and a daemon restart (reads the
 *   state file and journal, reconciles with the running data plane).
 * The daemon's own log line splits each batch into parsing, desired state
 * and encoding, the data plane, and persisting. Resident memory of both
 * processes with a million flows.
 *
 * Environment: BENCH_LOAD_ROUNDS (3: the 100K load is repeated, median and
 * min-max), BENCH_LOAD_MILLION (1: 0 skips the million).
 * Results: build/bench/load.{json,md}; BENCHMARKS.md "Loading flows".
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSwitch, type Switch } from '../../test/helpers/switch';
import { CLI_JS } from '../../test/helpers/paths';
import { rssKiB } from '../lib/dp';
import { median, spread } from '../lib/measure';
import { report, type Table } from '../lib/report';
import { aclRules, aclTable1, toOfctl } from '../lib/rules';

const ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 3);
const MILLION = process.env.BENCH_LOAD_MILLION !== '0';
const FILE_FLOWS = 100_000;

interface Timed {
  seconds: number;
  out: string;
}

/** Runs the CLI against sw; rejects unless it exits 0. */
function cli(sw: Switch, args: string[], sink?: (chunk: Buffer) => void): Promise<Timed> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI_JS, '--server', sw.server, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (sink ? sink(c) : (out += c.toString())));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => (code === 0 ? resolve({ seconds: (performance.now() - t0) / 1000, out }) : reject(new Error(`switchyard ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

/** Flow files of the ACL: table 1's forwarding entries first, then table 0's rules, FILE_FLOWS lines each. */
async function aclFiles(dir: string, n: number): Promise<string[]> {
  const files: string[] = [];
  let lines: string[] = aclTable1().map(toOfctl);
  const flush = async () => {
    const f = path.join(dir, `acl-${n}-${files.length}.flows`);
    await fs.writeFile(f, lines.join('\n') + '\n');
    files.push(f);
    lines = [];
  };
  for (const batch of aclRules(n, FILE_FLOWS)) {
    for (const f of batch) {
      lines.push(toOfctl(f));
      if (lines.length === FILE_FLOWS) await flush();
    }
  }
  if (lines.length) await flush();
  return files;
}

/** The daemon's account of its last batch: "N flow-mods applied in X ms after P ms of parsing (...)". */
async function lastBatchLine(sw: Switch): Promise<string> {
  const lines = (await sw.log()).split('\n').filter((l) => l.includes('flow-mods applied'));
  return lines.length ? lines[lines.length - 1].replace(/^.*?info\s+/, '') : 'n/a';
}

describe('loading flows end to end: CLI -> gRPC -> daemon -> addon -> data plane', () => {
  let sw: Switch | undefined;
  let dir: string;
  const rows: Table['rows'] = [];
  const notes: string[] = [];

  const fresh = async () => {
    await sw?.stop();
    sw = await startSwitch({
      ports: [
        { name: 'p1', devargs: 'net_null0,no-rx=1' },
        { name: 'p2', devargs: 'net_null1,no-rx=1' },
      ],
      daemonArgs: ['--max-flows', String(2_000_000)],
      startTimeoutMs: 300_000, // a restart with a million flows reads and reconciles them all
    });
    return sw;
  };

  afterAll(async () => {
    await sw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
    if (!rows.length) return;
    await report({
      scenario: 'load',
      mode: 'no-huge (the daemon launches switchyard-dp with --no-huge -m 1024 --no-pci)',
      command: 'npm run bench -- load',
      rows: [],
      tables: [
        {
          title: 'Loading the scenario-3 ACL with `switchyard flow add --file` (wall time of the CLI, start to exit)',
          columns: [
            { key: 'what', title: 'what', kind: 'text' },
            { key: 'seconds', title: 'seconds', kind: 'range', digits: 2 },
            { key: 'rate', title: 'flows/s', kind: 'int' },
            { key: 'daemon', title: "the daemon's account of the (last) batch", kind: 'text' },
          ],
          rows,
        },
      ],
      notes,
    });
  });

  it('100,000 flows in one file, into an empty switch', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-load-'));
    const [file] = await aclFiles(dir, FILE_FLOWS - aclTable1().length);
    const times: number[] = [];
    let daemon = '';
    for (let r = 0; r < ROUNDS; r++) {
      const s = await fresh();
      const t = await cli(s, ['flow', 'add', '--file', file]);
      expect(t.out).toMatch(/^100000 flows changed/);
      times.push(t.seconds);
      daemon = await lastBatchLine(s);
    }
    rows.push({ what: '100K flows, one file', seconds: spread(times), rate: FILE_FLOWS / median(times), daemon });
  }, 600_000);

  it.skipIf(!MILLION)('1,000,000 flows in ten files; then one flow, a dump and a daemon restart', async () => {
    const files = await aclFiles(dir, 1_000_000 - aclTable1().length);
    const s = await fresh();
    const each: number[] = [];
    for (const f of files) each.push((await cli(s, ['flow', 'add', '--file', f])).seconds);
    const total = each.reduce((a, b) => a + b, 0);
    rows.push({ what: `1M flows, ${files.length} files in a row`, seconds: { median: total, min: total, max: total }, rate: 1_000_000 / total, daemon: await lastBatchLine(s) });

    const one = await cli(s, ['flow', 'add', 'table=5,priority=7,udp,tp_dst=4789,actions=drop']);
    rows.push({ what: 'then one flow more', seconds: { median: one.seconds, min: one.seconds, max: one.seconds }, rate: null, daemon: 'journaled: one record' });

    let lines = 0;
    const dump = await cli(s, ['flow', 'dump'], (c) => {
      for (const b of c) if (b === 10) lines++;
    });
    expect(lines).toBe(1_000_001);
    rows.push({ what: 'flow dump of 1,000,001 entries (to /dev/null)', seconds: { median: dump.seconds, min: dump.seconds, max: dump.seconds }, rate: lines / dump.seconds, daemon: 'StreamFlows, 8,192 entries a message' });

    const status = JSON.parse((await cli(s, ['--json', 'status'])).out);
    const dpRss = await rssKiB(status.pid);
    const daemonRss = await rssKiB(s.daemon.pid!);
    const t0 = performance.now();
    await s.restartDaemon();
    const restart = (performance.now() - t0) / 1000;
    rows.push({ what: 'daemon restart (SIGKILL), state file + journal, reconcile', seconds: { median: restart, min: restart, max: restart }, rate: null, daemon: (await s.log()).split('\n').filter((l) => /reconcil|matches the desired/.test(l)).pop()?.replace(/^.*?info\s+/, '') ?? '' });
    const stateBytes = (await fs.stat(s.stateFile).catch(() => ({ size: 0 }))).size;
    const journalBytes = (await fs.stat(`${s.stateFile}.journal`).catch(() => ({ size: 0 }))).size;
    notes.push(
      `With 1,000,001 flows: switchyard-dp resident ${(dpRss / 1024).toFixed(0)} MiB, switchyardd ${(daemonRss / 1024).toFixed(0)} MiB; ` +
        `state file ${(stateBytes / 2 ** 20).toFixed(1)} MiB, journal ${(journalBytes / 2 ** 20).toFixed(1)} MiB. ` +
        `Per-file times: ${each.map((x) => x.toFixed(2)).join(', ')} s.`,
    );
  }, 1_200_000);
});
