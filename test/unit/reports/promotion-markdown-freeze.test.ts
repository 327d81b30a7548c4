import { describe, expect, it } from 'vitest';
import { promotionToMarkdown } from '../../../src/reports/promotion-markdown.js';
import type { FreezeRecord, PromotionReport } from '../../../src/domain/report.js';

const report = (freeze?: FreezeRecord): PromotionReport => ({
  workflowId: 'promote-example-app-prod',
  runId: 'run-1',
  status: freeze?.outcome === 'refused' ? 'failed' : 'succeeded',
  appName: 'example-app',
  sourceEnv: 'stage',
  targetEnv: 'prod',
  imageTag: '1.0.37-SNAPSHOT-a1b2c3d',
  previousImageTag: '1.0.36-SNAPSHOT-0a0a0a0',
  startedAt: '2026-01-10T12:00:00.000Z',
  finishedAt: '2026-01-10T12:05:00.000Z',
  durationMs: 300_000,
  ...(freeze ? { freeze } : {}),
  steps: [],
  rollback: [],
});

const met = {
  env: 'prod',
  window: 'Fri 16:00 → Mon 08:00 Europe/Berlin',
  reason: 'no prod changes at the weekend',
  until: '2026-01-12T07:00:00.000Z',
  policy: 'wait',
} as const;

describe('the promotion report’s freeze line', () => {
  it('names who overrode the freeze, when, why, and which window', () => {
    const md = promotionToMarkdown(
      report({
        ...met,
        outcome: 'overridden',
        override: { by: 'alice', reason: 'hotfix for the checkout outage', at: '2026-01-10T12:01:00.000Z' },
      }),
    );
    expect(md).toContain(
      '- Freeze overridden: prod frozen until 2026-01-12T07:00:00.000Z (Fri 16:00 → Mon 08:00 Europe/Berlin: no prod changes at the weekend); overridden by alice at 2026-01-10T12:01:00.000Z: hotfix for the checkout outage',
    );
  });

  it('says the run waited for the window, or was refused by it', () => {
    expect(promotionToMarkdown(report({ ...met, outcome: 'waited' }))).toContain(
      '- Freeze waited: prod frozen until 2026-01-12T07:00:00.000Z',
    );
    expect(promotionToMarkdown(report({ ...met, policy: 'refuse', outcome: 'refused' }))).toContain(
      '- Freeze refused the merge: prod frozen until 2026-01-12T07:00:00.000Z (Fri 16:00 → Mon 08:00 Europe/Berlin: no prod changes at the weekend), policy refuse',
    );
  });

  it('has no freeze line when no window held the target', () => {
    expect(promotionToMarkdown(report())).not.toContain('Freeze');
  });
});
