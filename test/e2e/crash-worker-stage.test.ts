/**
 * The worker dies with SIGKILL while stage syncs, at the prod approval gate, and while stage is rolled back, and a
 * new worker process carries the run to the right end without doing anything twice.
 *
 * A SIGKILLed worker's activity is only given to another worker after its heartbeat timeout (5 s in these runs,
 * 1 min in production). A run goes only as far as the environment where the kill lands: what follows it is the same
 * code the workflow tests cover, and the resume is proven by the run finishing there with everything done once.
 * Real processes throughout: `shepherd dev-server`, `shepherd sandbox`, `shepherd worker`; the kills of a file are
 * in sequence, the files run in parallel.
 */
import { describe, expect, it } from 'vitest';
import { approveAt, waitForPosition } from '../../src/chaos/run-watch.js';
import {
  APPROVER,
  finishedReport,
  ONCE_THROUGH_PROD,
  ONCE_THROUGH_STAGE,
  reach,
  replaceWorker,
  stepOf,
  useTestStack,
} from '../support/processes.js';

describe('a worker that dies after dev', () => {
  const t = useTestStack('crash-worker-stage');

  it('SIGKILL while waiting for the Argo CD sync of stage: one stage MR, one merge, one promote build', async () => {
    const run = await t().begin(undefined, { through: 'stage' });
    await reach(
      t(),
      run,
      'the stage sync wait',
      (p) => p.env === 'stage' && p.step === 'await-argo-synced-and-healthy',
    );
    await replaceWorker(t());
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(stepOf(report, 'stage', 'await-argo-synced-and-healthy').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_STAGE);
  });

  it('SIGKILL at the prod approval gate: the approve update reaches the new worker and prod is merged once', async () => {
    const run = await t().begin();
    const gate = await waitForPosition(await t().client(), run.workflowId, (p) => p.waitingOn === 'approval', 120_000);
    if (!gate) throw new Error('the run never reached the approval gate');
    expect(gate.workflowId).toBe('promote-example-app-prod');
    await replaceWorker(t());
    expect(await approveAt(await t().client(), gate, APPROVER, 60_000)).toBe(true);
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(stepOf(report, 'prod', 'approval').status).toBe('succeeded');
    expect(await run.effects()).toEqual(ONCE_THROUGH_PROD);
  });

  it('SIGKILL in the middle of rolling stage back (stage-degraded): the new worker finishes the compensation once', async () => {
    const run = await t().begin('stage-degraded', { through: 'stage' });
    // The revert is merged (one rollback record); the run now waits for stage to be healthy on the previous image.
    await reach(
      t(),
      run,
      'the wait for the previous stage image',
      (p) =>
        p.failing && p.env === undefined && p.workflowId === 'promote-example-app-stage' && p.rollbackRecords === 1,
    );
    await replaceWorker(t());
    const report = await finishedReport(run);
    expect(report.status).toBe('rolled_back');
    expect(report.failure).toMatchObject({ type: 'AppDegradedError', iteration: 2 });
    expect(report.rollback.find((r) => r.action === 'await-previous-image')).toMatchObject({
      env: 'stage',
      status: 'succeeded',
    });
    expect(await run.effects()).toEqual({
      ...ONCE_THROUGH_STAGE,
      revertMergeRequestsPerEnv: { stage: 1 },
      merges: 3,
      mergedMergeRequests: 3,
    });
    const state = await t().stack.state();
    expect(state.environments.stage?.image).toMatch(/:1\.0\.36-SNAPSHOT-/);
  });
});
