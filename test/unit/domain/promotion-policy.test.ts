import { describe, expect, it } from 'vitest';
import { decidePromotionRequest, promotionWorkflowId } from '../../../src/domain/promotion-policy.js';

describe('one promotion per app and environment', () => {
  it('keys promotions by app and target environment', () => {
    expect(promotionWorkflowId('example-app', 'prod')).toBe('promote-example-app-prod');
  });

  it('starts when nothing runs or the last run finished', () => {
    expect(decidePromotionRequest(undefined, '1.0.1-abc')).toBe('start');
    expect(decidePromotionRequest({ imageTag: '1.0.0-abc', phase: 'finished' }, '1.0.1-abc')).toBe('start');
  });

  it('joins the running promotion for the same image or when no image is named', () => {
    expect(decidePromotionRequest({ imageTag: '1.0.1-abc', phase: 'awaiting-approval' }, '1.0.1-abc')).toBe('join');
    expect(decidePromotionRequest({ imageTag: '1.0.1-abc', phase: 'syncing' }, undefined)).toBe('join');
  });

  it('supersedes an older image still before its merge', () => {
    for (const phase of ['resolving', 'opening', 'awaiting-approval'] as const)
      expect(decidePromotionRequest({ imageTag: '1.0.0-abc', phase }, '1.0.1-abc')).toBe('supersede');
  });

  it('waits for a run that is merging or later: an environment is never switched mid-rollout', () => {
    for (const phase of ['merging', 'syncing', 'verifying', 'compensating'] as const)
      expect(decidePromotionRequest({ imageTag: '1.0.0-abc', phase }, '1.0.1-abc')).toBe('wait');
  });
});
