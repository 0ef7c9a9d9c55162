/**
 * A small logger: one line per message, "2025-01-01T00:00:00.000Z level message",
 * to stderr (--foreground) or appended to a file.
 */
import { appendFileSync } from 'node:fs';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * file: append there (else stderr). mirror: also write to stderr (the daemon
 * does when its stderr is a pipe, so a supervising process sees the log).
 */
export function createLogger(opts: { file?: string; level?: Level; mirror?: boolean }): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = (level: Level, msg: string) => {
    if (ORDER[level] < min) return;
    const line = `${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`;
    if (opts.file) {
      try {
        appendFileSync(opts.file, line);
        if (opts.mirror) process.stderr.write(line);
        return;
      } catch {
        /* fall through to stderr */
      }
    }
    process.stderr.write(line);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
