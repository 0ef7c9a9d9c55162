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

/** A median with its range (min..max), as measured over windows. */
export interface Ranged {
  median: number;
  min: number;
  max: number;
}

/** A cell of a free-form table: null or undefined print as "n/a". */
export type Cell = string | number | Ranged | null | undefined;

export interface Column {
  key: string;
  title: string;
  /**
   * text: as is; number: fixed `digits` (default 2); int: thousands
   * separated; range: "median (min–max)" with `digits`; percent: a share
   * (0.25 -> "25%", `digits` default 0); ratio: "2.5x".
   */
  kind: 'text' | 'number' | 'int' | 'range' | 'percent' | 'ratio';
  digits?: number;
  /** right-align (default: every kind but text) */
  right?: boolean;
}

/** A table with its own columns, for scenarios whose rows are not Row. */
export interface Table {
  title?: string;
  columns: Column[];
  rows: Record<string, Cell>[];
}

export interface Report {
  scenario: string;
  /** "no-huge" or "hugepages" */
  mode: string;
  command: string;
  /** rows of the standard table (path, frame, Mpps, Gbit/s, note); may be empty */
  rows: Row[];
  /** more tables, after the standard one */
  tables?: Table[];
  /** paragraphs printed after the tables */
  notes?: string[];
  details?: Record<string, unknown>;
}

const isRanged = (c: Cell): c is Ranged => typeof c === 'object' && c !== null && 'median' in c;

/** One cell as text. */
export function formatCell(c: Cell, col: Column): string {
  if (c === null || c === undefined || (typeof c === 'number' && !Number.isFinite(c))) return 'n/a';
  if (typeof c === 'string') return c;
  const d = col.digits;
  if (isRanged(c)) {
    if (!Number.isFinite(c.median)) return 'n/a';
    const f = (x: number) => x.toFixed(d ?? 2);
    return `${f(c.median)} (${f(c.min)}–${f(c.max)})`;
  }
  switch (col.kind) {
    case 'int':
      return Math.round(c).toLocaleString('en-US');
    case 'percent':
      return `${(c * 100).toFixed(d ?? 0)}%`;
    case 'ratio':
      return `${c.toFixed(d ?? 1)}x`;
    case 'text':
      return String(c);
    default:
      return c.toFixed(d ?? 2);
  }
}

/** A table as markdown lines. */
export function renderTable(t: Table): string[] {
  const right = (c: Column) => c.right ?? c.kind !== 'text';
  return [
    ...(t.title ? [t.title, ''] : []),
    `| ${t.columns.map((c) => c.title).join(' | ')} |`,
    `|${t.columns.map((c) => (right(c) ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${t.columns.map((c) => formatCell(r[c.key], c).replace(/\|/g, '\\|')).join(' | ')} |`),
    '',
  ];
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
    ...(r.rows.length
      ? [
          '| path | frame | Mpps | Gbit/s | note |',
          '|---|---:|---:|---:|---|',
          ...r.rows.map((x) => `| ${x.path} | ${x.frameBytes} B | ${x.mpps.toFixed(3)} | ${x.gbps.toFixed(2)} | ${x.note ?? ''} |`),
          '',
        ]
      : []),
    ...(r.tables ?? []).flatMap(renderTable),
    ...(r.notes ?? []).flatMap((n) => [n, '']),
  ];
  const md = lines.join('\n');
  await fs.writeFile(path.join(OUT, `${r.scenario}.md`), md);
  return md;
}
