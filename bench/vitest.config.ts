import { defineConfig } from 'vitest/config';

/**
 * The benchmarks run as vitest files (so that they share test/helpers with
 * the integration tests: real daemon, real data plane, real guests), one at a
 * time, never as part of `npm test`. bench/run.sh picks the scenarios.
 */
export default defineConfig({
  test: {
    include: ['bench/scenarios/**/*.scenario.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
    watch: false,
  },
});
