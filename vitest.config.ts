import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // End-to-end suites spawn real processes and bind real ports; two workers match the 2-core machines.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
