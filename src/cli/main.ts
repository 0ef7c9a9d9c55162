/** The switchyard CLI's entry point (bin/switchyard requires dist/cli/main.js). */
import { run } from './program';

run(process.argv, {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`switchyard: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
