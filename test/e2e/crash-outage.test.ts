/**
 * GitLab, Jenkins or the Kubernetes API goes off the network (connections refused) for a while that is shorter
 * than the deadline of the step that needs it: the run waits, retries, and succeeds without doing anything twice.
 * Longer than the deadline: the run fails naming the system and compensates once the system is back.
 * The outage is switched on through the sandbox's `PUT /scenario` at the moment the run enters the step; a run goes
 * only as far as the environment of that step.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitForPosition, type RunPosition } from '../../src/chaos/run-watch.js';
import type { SystemName } from '../../src/sandbox/core/faults.js';
import { ONCE_THROUGH_DEV, outage, startTestStack, type TestStack } from '../support/processes.js';

const OUTAGE_MS = 15_000;

describe('a system that is down for a while', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ timeScale: 0.05, taskQueue: 'crash-outage' });
  });
  afterEach(async () => {
    await t.end();
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function downDuring(system: SystemName, what: string, pred: (p: RunPosition) => boolean): Promise<void> {
    const run = await t.begin(undefined, { through: 'dev' });
    const at = await waitForPosition(await t.client(), run.workflowId, pred, 120_000);
    if (!at) throw new Error(`the run never reached ${what}`);
    await t.stack.setScenario(outage(system, OUTAGE_MS));
    const end = await run.finish();
    if (end.kind !== 'finished') throw new Error(`the run did not finish: ${JSON.stringify(end)}`);
    expect(end.report.status).toBe('succeeded');
    const state = await t.stack.state();
    expect(state.faultsFired.map((f) => f.kind)).toEqual(expect.arrayContaining(['outage', 'outage-end']));
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  }

  it('GitLab down from the CI build wait on, through the dev MR wait and merge: the run waits and finishes dev', async () => {
    await downDuring('gitlab', 'the CI build wait', (p) => p.step === 'await-ci-build');
  });

  it('Jenkins down while the run waits for the CI build: the wait rides it out', async () => {
    await downDuring('jenkins', 'the CI build wait', (p) => p.step === 'await-ci-build');
  });

  it('the Kubernetes API down longer than the stage sync budget: the run fails naming it and rolls stage back once it is back', async () => {
    const run = await t.begin(undefined, { waitBudgets: { sync: 15 }, through: 'stage' });
    const at = await waitForPosition(
      await t.client(),
      run.workflowId,
      (p) => p.env === 'stage' && p.step === 'await-argo-synced-and-healthy',
      120_000,
    );
    if (!at) throw new Error('the run never reached the stage sync wait');
    await t.stack.setScenario(outage('kubernetes', 45_000));
    const end = await run.finish(300_000);
    if (end.kind !== 'finished') throw new Error(`the run did not finish: ${JSON.stringify(end)}`);
    expect(end.report.status).toBe('rolled_back');
    expect(end.report.failure).toMatchObject({ type: 'WaitTimeoutError', iteration: 2 });
    expect(end.report.failure?.message).toContain('the Kubernetes API unreachable');
    const back = end.report.rollback.find((r) => r.action === 'await-previous-image');
    expect(back).toMatchObject({ env: 'stage', status: 'succeeded' });
    const state = await t.stack.state();
    expect(state.environments.stage?.image).toContain(back!.toImageTag!);
    expect(state.environments.stage?.health).toBe('Healthy');
    expect(state.environments.dev?.image).not.toContain(back!.toImageTag!);
    const effects = await run.effects();
    expect(effects.openMergeRequests).toEqual([]);
    expect(effects.leftoverBranches).toEqual([]);
  });

  it('the Kubernetes API down while the run waits for Argo CD to sync dev: the wait rides it out', async () => {
    await downDuring(
      'kubernetes',
      'the dev sync wait',
      (p) => p.env === 'dev' && p.step === 'await-argo-synced-and-healthy',
    );
  });
});
