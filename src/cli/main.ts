/** The switchyard CLI's entry point (bin/switchyard requires dist/cli/main.js). */
import { run } from './program';

/**
 * A reader that goes away (`switchyard flow dump | head`, or `npm start | tee`
 * whose tee died of the same Ctrl-C) makes writes fail with EPIPE. That must
 * not kill the CLI: the demo still has to stop the switch and remove its
 * namespaces. Output to a closed stream is dropped; everything else goes on.
 */
function writer(stream: NodeJS.WriteStream): (s: string) => void {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed = true;
  });
  return (s) => {
    if (!closed) stream.write(s);
  };
}

const err = writer(process.stderr);

run(process.argv, { out: writer(process.stdout), err }).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`switchyard: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
