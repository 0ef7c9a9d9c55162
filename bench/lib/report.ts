/**
 * Benchmark results: one row per measurement, written to
 * build/bench/<scenario>.json (machine-readable) and .md (the table that
 * goes into BENCHMARKS.md), with the machine, the mode and the command.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Row {
  /** what carried the traffic: "switchyard", "testpmd io (ceiling)" */
  path: string;
  frameBytes: number;
  mpps: number;
  gbps: number;
  /** free text: ratio to the ceiling, samples... */
  note?: string;
}

export interface Report {
  scenario: string;
  /** "no-huge" or "hugepages" */
  mode: string;
  command: string;
  rows: Row[];
  details?: Record<string, unknown>;
}

const OUT = path.resolve(__dirname, '../../build/bench');

export async function report(r: Report): Promise<string> {
  await fs.mkdir(OUT, { recursive: true });
  const when = new Date().toISOString();
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}`;
  await fs.writeFile(path.join(OUT, `${r.scenario}.json`), JSON.stringify({ ...r, when, machine }, null, 2) + '\n');
  const lines = [
    `### ${r.scenario} (${when.slice(0, 10)}, ${r.mode})`,
    '',
    `Machine: ${machine}. Command: \`${r.command}\`.`,
    '',
    '| path | frame | Mpps | Gbit/s | note |',
    '|---|---:|---:|---:|---|',
    ...r.rows.map((x) => `| ${x.path} | ${x.frameBytes} B | ${x.mpps.toFixed(3)} | ${x.gbps.toFixed(2)} | ${x.note ?? ''} |`),
    '',
  ];
  const md = lines.join('\n');
  await fs.writeFile(path.join(OUT, `${r.scenario}.md`), md);
  return md;
}
