import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Unit tests first, then integration tests, each group in name order.
 * Every integration file starts its own DPDK data plane and network
 * namespaces; on a two-core machine they must not overlap, so files run one
 * at a time (fileParallelism: false).
 */
class UnitThenIntegration extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => (f.moduleId.includes('/test/integration/') ? 1 : 0);
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    fileParallelism: false,
    pool: 'forks',
    sequence: { sequencer: UnitThenIntegration },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
    // A crashed data plane must not leave vitest waiting on a child forever.
    watch: false,
  },
});
