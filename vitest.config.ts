import { defineConfig } from 'vitest/config';

/**
 * Test tiers mirror the source tree. One Temporal dev server and one workflow bundle serve the whole run
 * (`test/support/global-setup.ts`); each test file uses its own task queue on that server.
 */
const tier = (name: string, timeout: number) => ({
  extends: true as const,
  test: { name, include: [`test/${name}/**/*.test.ts`], testTimeout: timeout, hookTimeout: Math.max(timeout, 120_000) },
});

export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default'],
    projects: [
      tier('unit', 20_000),
      tier('sandbox', 60_000),
      tier('activities', 120_000),
      tier('workflows', 120_000),
      tier('replay', 120_000),
      tier('e2e', 300_000),
    ],
  },
});
