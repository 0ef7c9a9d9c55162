/** The package version, read from package.json at the top of the tree. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

let version: string | undefined;

export function packageVersion(): string {
  if (version === undefined) {
    try {
      version = String(JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')).version ?? '0.0.0');
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}
