/**
 * The worker dies while the run waits in the dev iteration — SIGKILL in the CI build wait, the MR wait and the
 * workload check, or SIGTERM with its drain — and a new worker process finishes dev without doing anything twice.
 *
 * A SIGKILLed worker's activity is only given to another worker after its heartbeat timeout (5 s in these runs,
 * 1 min in production). A run goes only as far as the environment where the kill lands: what follows it is the same
 * code the workflow tests cover, and the resume is proven by the run finishing there with everything done once.
 * Real processes throughout: `shepherd dev-server`, `shepherd sandbox`, `shepherd worker`; the kills of a file are
 * in sequence, the files run in parallel.
 */
import { describe, expect, it } from 'vitest';
import { finishedReport, ONCE_THROUGH_DEV, reach, replaceWorker, stepOf, useTestStack } from '../support/processes.js';

describe('a worker that dies in the dev iteration', () => {
  const t = useTestStack('crash-worker-dev');

  it('SIGKILL while waiting for the CI build: a new worker resumes the wait and the run finishes dev with one bump and one build', async () => {
    const run = await t().begin(undefined, { through: 'dev' });
    await reach(t(), run, 'the CI build wait', (p) => p.step === 'await-ci-build');
    await replaceWorker(t());
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(stepOf(report, 'dev', 'await-ci-build').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });

  it('SIGKILL while waiting for the dev MR (GitLab failing meanwhile): the new worker finds the one MR CI opened', async () => {
    const run = await t().begin(undefined, { through: 'dev' });
    await reach(t(), run, 'the CI build wait', (p) => p.step === 'await-ci-build');
    // GitLab's MR list fails while the run looks for the MR, so the kill lands in that wait.
    await t().stack.setScenario({
      name: 'mr-list-fails',
      description: 'GET merge_requests answers 503',
      http: [{ system: 'gitlab', method: 'GET', path: '/merge_requests', status: 503 }],
    });
    await reach(t(), run, 'the MR wait', (p) => p.step === 'await-merge-request');
    await replaceWorker(t());
    await t().stack.setScenario(undefined);
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(stepOf(report, 'dev', 'await-merge-request').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });

  it('SIGKILL while verifying the dev workload: the new worker verifies it and the run finishes dev', async () => {
    const run = await t().begin(undefined, { through: 'dev' });
    await reach(t(), run, 'the dev workload check', (p) => p.env === 'dev' && p.step === 'verify-workload');
    await replaceWorker(t());
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(stepOf(report, 'dev', 'verify-workload').attempts).toBeGreaterThanOrEqual(2);
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });

  it('SIGTERM while waiting for the CI build: the worker drains and exits by itself, and a new worker finishes the run', async () => {
    const run = await t().begin(undefined, { through: 'dev' });
    await reach(t(), run, 'the CI build wait', (p) => p.step === 'await-ci-build');
    const [worker] = t().stack.liveWorkers;
    const exit = await worker!.stop('SIGTERM', 60_000);
    expect(exit).toMatchObject({ forced: false, code: 0 });
    expect(worker!.tail()).toContain('Worker stopped.');
    await t().stack.startWorker();
    const report = await finishedReport(run);
    expect(report.status).toBe('succeeded');
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });
});
