/**
 * A last resort for the processes a benchmark starts: every child and
 * directory registered here is killed (SIGKILL) and removed when this
 * process exits, however the scenario ended (an exception past its
 * try/finally, vitest tearing the worker down). The normal path stops each
 * one itself and unregisters it.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

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
