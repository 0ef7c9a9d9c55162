/**
 * switchyardd's entry point (bin/switchyardd requires dist/mgmt/main.js).
 * The only module that loads the native addon, and only once the options
 * have been read (so --help works without it); everything else takes it as
 * a parameter, so it can be tested without one.
 */
import type * as Addon from './addon';
import { runDaemon } from './daemon';

void runDaemon(process.argv, () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require('./addon') as typeof Addon;
  return {
    createDataplaneClient: addon.createDataplaneClient,
    fields: addon.fields,
    dropReasons: addon.dropReasons,
    flowBatchMax: addon.constants.FLOW_BATCH_MAX,
  };
});
