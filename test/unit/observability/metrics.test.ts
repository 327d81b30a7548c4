/**
 * What the journal records through the SDK's meter, against a recording meter: names, labels and values.
 */
import { describe, expect, it } from 'vitest';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { histogramBuckets, METRICS, ShepherdMetrics, systemOfWait } from '../../../src/observability/metrics.js';

type Recorded = { kind: string; name: string; value: number; tags: MetricTags };

/** A MetricMeter that remembers every value recorded on it. */
function recordingMeter(into: Recorded[]): MetricMeter {
  const metric = (kind: string, name: string) => ({
    name,
    kind,
    valueType: 'int' as const,
    add: (value: number, tags: MetricTags = {}) => into.push({ kind, name, value, tags }),
    record: (value: number, tags: MetricTags = {}) => into.push({ kind, name, value, tags }),
    set: (value: number, tags: MetricTags = {}) => into.push({ kind, name, value, tags }),
    withTags: () => {
      throw new Error('not used');
    },
  });
  return {
    createCounter: (name) => metric('counter', name) as never,
    createHistogram: (name) => metric('histogram', name) as never,
    createGauge: (name) => metric('gauge', name) as never,
    withTags: () => {
      throw new Error('not used');
    },
  };
}

describe("Shepherd's metrics", () => {
  it('time a step, and a step that waits on a system also as a wait on that system', () => {
    const recorded: Recorded[] = [];
    const metrics = new ShepherdMetrics(recordingMeter(recorded));
    const where = { app: 'a', environment: 'stage', outcome: 'succeeded', seconds: 42.5 };
    metrics.stepEnded({ ...where, name: 'await-promote-build', waitingOn: 'build' });
    metrics.stepEnded({ ...where, name: 'promote-stage', waitingOn: 'child-workflow' });
    expect(recorded).toEqual([
      {
        kind: 'histogram',
        name: METRICS.stepDuration.name,
        value: 42.5,
        tags: { step: 'await-promote-build', app: 'a', environment: 'stage', outcome: 'succeeded' },
      },
      {
        kind: 'histogram',
        name: METRICS.waitDuration.name,
        value: 42.5,
        tags: { system: 'jenkins', app: 'a', environment: 'stage', outcome: 'succeeded' },
      },
      {
        kind: 'histogram',
        name: METRICS.stepDuration.name,
        value: 42.5,
        tags: { step: 'promote-stage', app: 'a', environment: 'stage', outcome: 'succeeded' },
      },
    ]);
  });

  it('count runs by workflow type, and undos that ran (failed ones twice: as rollbacks and as failed rollbacks)', () => {
    const recorded: Recorded[] = [];
    const metrics = new ShepherdMetrics(recordingMeter(recorded));
    metrics.runEnded('promoteEnvironment', { app: 'a', environment: 'prod', outcome: 'rolled_back' });
    metrics.runEnded('validatePipeline', { app: 'a', environment: 'dev', outcome: 'succeeded' });
    metrics.runEnded('somethingElse', { app: 'a', environment: 'dev', outcome: 'succeeded' });
    const undo = { app: 'a', environment: 'prod', action: 'revert-merge-request' };
    metrics.undoEnded(undo, 'succeeded');
    metrics.undoEnded(undo, 'failed');
    metrics.undoEnded(undo, 'skipped');
    expect(recorded.map((r) => [r.name, r.value, r.tags.outcome ?? r.tags.action])).toEqual([
      [METRICS.promotions.name, 1, 'rolled_back'],
      [METRICS.validations.name, 1, 'succeeded'],
      [METRICS.rollbacks.name, 1, 'revert-merge-request'],
      [METRICS.rollbacks.name, 1, 'revert-merge-request'],
      [METRICS.rollbacksFailed.name, 1, 'revert-merge-request'],
    ]);
  });

  it('hold an approval pending from its start to its decision, then record how long it waited', () => {
    const recorded: Recorded[] = [];
    const metrics = new ShepherdMetrics(recordingMeter(recorded));
    metrics.approvalStarted({ app: 'a', environment: 'prod' });
    metrics.approvalEnded({ app: 'a', environment: 'prod' }, 'approved', 3600);
    expect(recorded).toEqual([
      { kind: 'gauge', name: METRICS.approvalsPending.name, value: 1, tags: { app: 'a', environment: 'prod' } },
      { kind: 'gauge', name: METRICS.approvalsPending.name, value: 0, tags: { app: 'a', environment: 'prod' } },
      {
        kind: 'histogram',
        name: METRICS.approvalWait.name,
        value: 3600,
        tags: { app: 'a', environment: 'prod', outcome: 'approved' },
      },
    ]);
  });

  it('name the systems of waits, and none for approvals and child runs', () => {
    expect(['merge-request', 'build', 'argo-app', 'workload', 'approval', 'child-workflow'].map(systemOfWait)).toEqual([
      'gitlab',
      'jenkins',
      'argocd',
      'kubernetes',
      undefined,
      undefined,
    ]);
  });

  it('follow Prometheus naming: shepherd_ prefix, _total counters, base units in the name, sorted buckets', () => {
    for (const def of Object.values(METRICS)) {
      expect(def.name).toMatch(/^shepherd_[a-z_]+$/);
      if (def.kind === 'counter') expect(def.name).toMatch(/_total$/);
      if (def.kind === 'histogram') expect(def.name).toMatch(/_seconds$/);
      expect(def.labels).not.toContain('image_tag');
    }
    for (const buckets of Object.values(histogramBuckets()))
      expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });
});
