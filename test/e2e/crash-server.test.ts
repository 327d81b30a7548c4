/**
 * The Temporal dev server goes away in the middle of a run and comes back on the same SQLite file: the run, its
 * history and its timers survive, the worker reconnects by itself, and nothing is done twice.
 */
import { describe, expect, it } from 'vitest';
import { waitForPosition } from '../../src/chaos/run-watch.js';
import { ONCE_THROUGH_DEV, useTestStack } from '../support/processes.js';

describe('the Temporal dev server restarted mid-run', () => {
  const t = useTestStack('crash-server');

  it('keeps the run on the same database file: the same worker carries on once the server is back, and the run finishes dev once', async () => {
    const run = await t().begin(undefined, { through: 'dev' });
    const at = await waitForPosition(await t().client(), run.workflowId, (p) => p.step === 'await-ci-build', 120_000);
    expect(at?.step).toBe('await-ci-build');
    const dbFile = `${t().stack.opts.stateDir}/temporal.db`;
    const [worker] = t().stack.liveWorkers;

    const stopped = await t().stack.devServer!.stop('SIGTERM', 15_000);
    expect(stopped.forced).toBe(false);
    // The CI build finishes while the server is away; the worker's wait and its polls fail until it is back.
    await new Promise((r) => setTimeout(r, 5_000));
    await t().stack.startDevServer();
    expect(t().stack.devServer!.tail()).toContain(dbFile);

    const end = await run.finish();
    if (end.kind !== 'finished') throw new Error(`the run did not finish: ${JSON.stringify(end)}`);
    expect(end.report.status).toBe('succeeded');
    // The worker that polled before the restart is the one that finished the run: it is still running.
    expect(t().stack.liveWorkers).toHaveLength(1);
    expect(t().stack.liveWorkers[0]).toBe(worker);
    expect(await run.effects()).toEqual(ONCE_THROUGH_DEV);
  });
});
