/**
 * The Kubernetes API goes off the network (connections refused) for longer than the deadline of the stage sync
 * wait: the run fails naming the system and compensates once the system is back. A file of its own because its
 * outage is the longest wait of the crash tests; the files run in parallel.
 */
import { describe, expect, it } from 'vitest';
import { waitForPosition } from '../../src/chaos/run-watch.js';
import { outage, useTestStack } from '../support/processes.js';

describe('a system that is down longer than a deadline', () => {
  const t = useTestStack('crash-outage-deadline');

  it('the Kubernetes API down longer than the stage sync budget: the run fails naming it and rolls stage back once it is back', async () => {
    const run = await t().begin(undefined, { waitBudgets: { sync: 15 }, through: 'stage' });
    const at = await waitForPosition(
      await t().client(),
      run.workflowId,
      (p) => p.env === 'stage' && p.step === 'await-argo-synced-and-healthy',
      120_000,
    );
    if (!at) throw new Error('the run never reached the stage sync wait');
    await t().stack.setScenario(outage('kubernetes', 45_000));
    const end = await run.finish(300_000);
    if (end.kind !== 'finished') throw new Error(`the run did not finish: ${JSON.stringify(end)}`);
    expect(end.report.status).toBe('rolled_back');
    expect(end.report.failure).toMatchObject({ type: 'WaitTimeoutError', iteration: 2 });
    expect(end.report.failure?.message).toContain('the Kubernetes API unreachable');
    const back = end.report.rollback.find((r) => r.action === 'await-previous-image');
    expect(back).toMatchObject({ env: 'stage', status: 'succeeded' });
    const state = await t().stack.state();
    expect(state.environments.stage?.image).toContain(back!.toImageTag!);
    expect(state.environments.stage?.health).toBe('Healthy');
    expect(state.environments.dev?.image).not.toContain(back!.toImageTag!);
    const effects = await run.effects();
    expect(effects.openMergeRequests).toEqual([]);
    expect(effects.leftoverBranches).toEqual([]);
  });
});
