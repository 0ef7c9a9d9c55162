/**
 * A last resort for the processes a benchmark starts: every child and
 * directory registered here is killed (SIGKILL) and removed when this
 * process exits, however the scenario ended (an exception past its
 * try/finally, vitest tearing the worker down). The normal path stops each
 * one itself and unregisters it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { stopProcess } from '../../src/lib/netns';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        try {
          c.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

/** Kills c when this process exits, unless forgotten before. */
export function track(c: ChildProcess): void {
  hook();
  children.add(c);
  c.once('exit', () => children.delete(c));
}

/** Removes dir when this process exits, unless forgotten before. */
export function trackDir(dir: string): void {
  hook();
  dirs.add(dir);
}

export function forgetDir(dir: string): void {
  dirs.delete(dir);
}

/** A process a benchmark started (spawnTracked). */
export interface BenchProcess {
  child: ChildProcess;
  /** The last of its stdout and stderr, interleaved as they came. */
  output(): string;
  gone(): boolean;
  /** signal, then SIGKILL after graceMs; waits for the exit. Idempotent. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

/** Spawns cmd, tracked (killed if this process exits first), keeping about the last keepChars of its output. */
export function spawnTracked(cmd: string, argv: string[], keepChars: number): BenchProcess {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += String(d);
    if (out.length > keepChars) out = out.slice(-keepChars / 2);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let stopping: Promise<void> | undefined;
  return {
    child,
    output: () => out,
    gone: () => child.exitCode !== null || child.signalCode !== null,
    stop: (signal, graceMs) => (stopping ??= stopProcess(child, signal, graceMs)),
  };
}
