import { describe, expect, it } from 'vitest';
import { isSyncedAndHealthyAt, targetUnsettledReason, unsettledReason } from '../../../src/domain/environment-state.js';

const settled = {
  sync: { status: 'Synced' as const, revision: 'abc123' },
  health: { status: 'Healthy' as const },
  operation: { phase: 'Succeeded' as const, revision: 'abc123', finishedAt: '2026-01-16T01:00:00Z' },
  reconciledAt: '2026-01-16T01:00:05Z',
};

describe('the trustworthy synced-and-healthy rule', () => {
  it('holds when the revision synced, its operation succeeded, a reconcile followed and health is Healthy', () => {
    expect(isSyncedAndHealthyAt(settled, 'abc123')).toBe(true);
  });

  it('does not take Synced/Healthy left over from the previous revision for success', () => {
    expect(unsettledReason(settled, 'def456')).toMatch(/not def456/);
  });

  it('does not trust health reconciled before the sync finished', () => {
    expect(unsettledReason({ ...settled, reconciledAt: '2026-01-16T00:59:00Z' }, 'abc123')).toBe(
      'not reconciled since the sync finished',
    );
  });

  it('does not hold while the sync operation runs or after it failed', () => {
    expect(isSyncedAndHealthyAt({ ...settled, operation: { ...settled.operation, phase: 'Running' } }, 'abc123')).toBe(
      false,
    );
    expect(isSyncedAndHealthyAt({ ...settled, operation: { ...settled.operation, phase: 'Failed' } })).toBe(false);
  });

  it('does not hold when degraded or out of sync', () => {
    expect(unsettledReason({ ...settled, health: { status: 'Degraded' } })).toBe('health is Degraded');
    expect(unsettledReason({ ...settled, sync: { status: 'OutOfSync', revision: 'abc123' } })).toBe(
      'sync is OutOfSync',
    );
  });
});

describe('a target settled on what its branch declares', () => {
  const target = { ...settled, imageTag: '1.0.36-aaaaaaa' };
  const declared = { commitSha: 'abc123', imageTag: '1.0.36-aaaaaaa' };

  it('holds when Argo CD synced the branch head and the workload runs the declared image', () => {
    expect(targetUnsettledReason(target, declared)).toBeUndefined();
  });

  it('does not hold while Argo CD has not synced the branch head', () => {
    expect(targetUnsettledReason(target, { ...declared, commitSha: 'def456' })).toMatch(/not def456/);
  });

  it('does not hold when the workload runs another image than the branch declares', () => {
    expect(targetUnsettledReason({ ...target, imageTag: '1.0.35-bbbbbbb' }, declared)).toBe(
      'it runs 1.0.35-bbbbbbb but its branch declares 1.0.36-aaaaaaa',
    );
    expect(targetUnsettledReason({ ...target, imageTag: undefined }, declared)).toBe(
      'it runs nothing but its branch declares 1.0.36-aaaaaaa',
    );
  });
});
