/**
 * switchyard.v1.ConfigService: the desired state as one document (YAML or
 * JSON: ports, tables, flows; config.ts), applied all or nothing
 * (Switch.applyConfig) and exported in the same format.
 */
import { status as Status } from '@grpc/grpc-js';
import type { ConfigServiceHandlers } from '../gen/switchyard/v1/ConfigService';
import { checkFormat, ConfigError, exportConfig, parseConfig } from './config';
import { ApiError } from './errors';
import { unary } from './rpc';
import type { Switch } from './switch';

/** A document fault is the caller's: INVALID_ARGUMENT with its path. */
function asArgument<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw new ApiError(Status.INVALID_ARGUMENT, e.message);
    throw e;
  }
}

/**
 * Changes listed in one answer. A first apply of a million flows would list
 * a million changes, more than a message carries; the rest are counted.
 */
export const MAX_LISTED_CHANGES = 100_000;

export function configService(sw: Switch): ConfigServiceHandlers {
  return {
    ApplyConfig: unary(async (req) => {
      const source = req.source.trim();
      const doc = asArgument(() => parseConfig(req.document, source, checkFormat(req.format)));
      const r = await sw.applyConfig(doc, req.dryRun, source);
      const more = r.changes.length - MAX_LISTED_CHANGES;
      const diff = r.diff.slice(0, MAX_LISTED_CHANGES).map((l) => l + '\n');
      if (more > 0) diff.push(`... and ${more} more change${more === 1 ? '' : 's'} not listed\n`);
      return { applied: r.applied, changes: r.changes.slice(0, MAX_LISTED_CHANGES), diff: diff.join('') };
    }),

    ExportConfig: unary(async (req) => {
      const format = asArgument(() => checkFormat(req.format)) || 'yaml';
      return { document: exportConfig(await sw.configState(), format), format };
    }),
  };
}
