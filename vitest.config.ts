import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/support/sequencer.js';

/**
 * Test tiers mirror the source tree. One Temporal dev server and one workflow bundle serve the whole run
 * (`test/support/global-setup.ts`); each test file uses its own task queue on that server.
 *
 * Five files at a time on two cores: the e2e files spend most of their time waiting on child processes and
 * sandbox timers (a crash file uses about a third of a core), so two workers would leave the CPU idle. The crash
 * files start first (test/support/sequencer.ts) and the in-process tiers fill the gaps.
 */
const tier = (name: string, timeout: number) => ({
  extends: true as const,
  test: { name, include: [`test/${name}/**/*.test.ts`], testTimeout: timeout, hookTimeout: Math.max(timeout, 120_000) },
});

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 5,
    sequence: { sequencer: LongestFirst },
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default'],
    projects: [
      tier('unit', 20_000),
      tier('sandbox', 60_000),
      tier('activities', 120_000),
      tier('workflows', 120_000),
      tier('replay', 120_000),
      tier('webhooks', 120_000),
      tier('e2e', 300_000),
      tier('bench', 120_000),
    ],
  },
});
