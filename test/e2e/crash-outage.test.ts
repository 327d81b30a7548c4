/**
 * GitLab, Jenkins or the Kubernetes API goes off the network (connections refused) for a while that is shorter
 * than the deadline of the step that needs it: the run waits, retries, and succeeds without doing anything twice.
 * (Longer than the deadline: crash-outage-deadline.test.ts.)
 * The outage is switched on through the sandbox's `PUT /scenario` at the moment the run enters the step; a run goes
 * only as far as the environment of that step.
 */
import { describe, expect, it } from 'vitest';
import { waitForPosition, type RunPosition } from '../../src/chaos/run-watch.js';
import type { SystemName } from '../../src/sandbox/core/faults.js';
import { ONCE_THROUGH_DEV, outage, useTestStack } from '../support/processes.js';

const OUTAGE_MS = 15_000;

describe('a system that is down for a while', () => {
  const t = useTestStack('crash-outage');

  async function downDuring(system: SystemName, what: string, pred: (p: RunPosition) => boolean): Promise<void> {
    const run = await t().begin(undefined, { through: 'dev' });
    const at = await waitForPosition(await t().client(), run.workflowId, pred, 120_000);
    if (!at) throw new Error(`the run never reached ${what}`);
    await t().stack.setScenario(outage(system, OUTAGE_MS));
    const end = await run.finish();
    if (end.kind !== 'finished') throw new Error(`the run did not finish: ${JSON.stringify(end)}`);
    expect(end.report.status).toBe('succeeded');
    const state = await t().stack.state();
    expect(state.faultsFired.map((f) => f.kind)).toEqual(expect.arrayContaining(['outage', 'outage-end']));
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  }

  it('GitLab down from the CI build wait on, through the dev MR wait and merge: the run waits and finishes dev', async () => {
    await downDuring('gitlab', 'the CI build wait', (p) => p.step === 'await-ci-build');
  });

  it('Jenkins down while the run waits for the CI build: the wait rides it out', async () => {
    await downDuring('jenkins', 'the CI build wait', (p) => p.step === 'await-ci-build');
  });

  it('the Kubernetes API down while the run waits for Argo CD to sync dev: the wait rides it out', async () => {
    await downDuring(
      'kubernetes',
      'the dev sync wait',
      (p) => p.env === 'dev' && p.step === 'await-argo-synced-and-healthy',
    );
  });
});
