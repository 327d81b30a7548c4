/**
 * The worker dies in the middle of a run — SIGKILL at each kind of wait, at the approval gate and during a
 * compensation, or SIGTERM with its drain — and a new worker process carries the run to the right end without
 * doing anything twice. Real processes throughout: `shepherd dev-server`, `shepherd sandbox`, `shepherd worker`.
 *
 * A SIGKILLed worker's activity is only given to another worker after its heartbeat timeout (5 s in these runs,
 * 1 min in production). A run goes only as far as the environment where the kill lands: what follows it is the same
 * code the workflow tests cover, and the resume is proven by the run finishing there with everything done once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunPosition } from '../../src/chaos/run-watch.js';
import { approveAt, waitForPosition } from '../../src/chaos/run-watch.js';
import type { ValidationReport } from '../../src/domain/report.js';
import {
  APPROVER,
  ONCE_THROUGH_DEV,
  ONCE_THROUGH_PROD,
  ONCE_THROUGH_STAGE,
  startTestStack,
  type StartedRun,
  type TestStack,
} from '../support/processes.js';

const TIME_SCALE = 0.05;

describe('a worker that dies mid-run', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ timeScale: TIME_SCALE, taskQueue: 'crash-worker' });
  });
  afterEach(async () => {
    await t.end();
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function reach(run: StartedRun, what: string, pred: (p: RunPosition) => boolean): Promise<RunPosition> {
    const position = await waitForPosition(await t.client(), run.workflowId, pred, 120_000, APPROVER);
    if (!position) throw new Error(`the run never reached ${what}`);
    return position;
  }

  /** Kills the only worker with SIGKILL and starts a new one. */
  async function replaceWorker(): Promise<void> {
    const [worker] = t.stack.liveWorkers;
    const exit = await worker!.stop('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    await t.stack.startWorker();
  }

  function step(report: ValidationReport, env: string, name: string) {
    const found = report.iterations.find((i) => i.env === env)?.steps.find((s) => s.name === name);
    if (!found) throw new Error(`the report has no step ${name} in ${env}`);
    return found;
  }

  async function finishedReport(run: StartedRun): Promise<ValidationReport> {
    const end = await run.finish();
    if (end.kind !== 'finished') throw new Error(`the run did not finish: ${JSON.stringify(end)}`);
    return end.report;
  }

  it('SIGKILL while waiting for the CI build: a new worker resumes the wait and the run finishes dev with one bump and one build', async () => {
    const run = await t.begin(undefined, { through: 'dev' });
    await reach(run, 'the CI build wait', (p) => p.step === 'await-ci-build');
    await replaceWorker();
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(step(report, 'dev', 'await-ci-build').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });

  it('SIGKILL while waiting for the dev MR (GitLab failing meanwhile): the new worker finds the one MR CI opened', async () => {
    const run = await t.begin(undefined, { through: 'dev' });
    await reach(run, 'the CI build wait', (p) => p.step === 'await-ci-build');
    // GitLab's MR list fails while the run looks for the MR, so the kill lands in that wait.
    await t.stack.setScenario({
      name: 'mr-list-fails',
      description: 'GET merge_requests answers 503',
      http: [{ system: 'gitlab', method: 'GET', path: '/merge_requests', status: 503 }],
    });
    await reach(run, 'the MR wait', (p) => p.step === 'await-merge-request');
    await replaceWorker();
    await t.stack.setScenario(undefined);
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(step(report, 'dev', 'await-merge-request').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });

  it('SIGKILL while waiting for the Argo CD sync of stage: one stage MR, one merge, one promote build', async () => {
    const run = await t.begin(undefined, { through: 'stage' });
    await reach(run, 'the stage sync wait', (p) => p.env === 'stage' && p.step === 'await-argo-synced-and-healthy');
    await replaceWorker();
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(step(report, 'stage', 'await-argo-synced-and-healthy').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_STAGE);
  });

  it('SIGKILL while verifying the dev workload: the new worker verifies it and the run finishes dev', async () => {
    const run = await t.begin(undefined, { through: 'dev' });
    await reach(run, 'the dev workload check', (p) => p.env === 'dev' && p.step === 'verify-workload');
    await replaceWorker();
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(step(report, 'dev', 'verify-workload').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });

  it('SIGKILL at the prod approval gate: the approve update reaches the new worker and prod is merged once', async () => {
    const run = await t.begin();
    const gate = await waitForPosition(await t.client(), run.workflowId, (p) => p.waitingOn === 'approval', 120_000);
    if (!gate) throw new Error('the run never reached the approval gate');
    expect(gate.workflowId).toBe('promote-example-app-prod');
    await replaceWorker();
    expect(await approveAt(await t.client(), gate, APPROVER, 60_000)).toBe(true);
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(step(report, 'prod', 'approval').status).toBe('succeeded');
    expect(await run.effects()).toEqual(ONCE_THROUGH_PROD);
  });

  it('SIGKILL in the middle of rolling stage back (stage-degraded): the new worker finishes the compensation once', async () => {
    const run = await t.begin('stage-degraded', { through: 'stage' });
    // The revert is merged (one rollback record); the run now waits for stage to be healthy on the previous image.
    await reach(
      run,
      'the wait for the previous stage image',
      (p) =>
        p.failing && p.env === undefined && p.workflowId === 'promote-example-app-stage' && p.rollbackRecords === 1,
    );
    await replaceWorker();
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
    const state = await t.stack.state();
    expect(state.environments.stage?.image).toMatch(/:1\.0\.36-SNAPSHOT-/);
  });

  it('SIGTERM while waiting for the CI build: the worker drains and exits by itself, and a new worker finishes the run', async () => {
    const run = await t.begin(undefined, { through: 'dev' });
    await reach(run, 'the CI build wait', (p) => p.step === 'await-ci-build');
    const [worker] = t.stack.liveWorkers;
    const exit = await worker!.stop('SIGTERM', 60_000);
    expect(exit).toMatchObject({ forced: false, code: 0 });
    expect(worker!.tail()).toContain('Worker stopped.');
    await t.stack.startWorker();
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });
});
