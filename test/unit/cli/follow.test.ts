/**
 * The live view's pace: it asks a running run for its progress once a second (each look is a query a worker answers,
 * replaying the run when it is not cached), and still shows the run's end at once. A run is modelled by a handle
 * that answers `progress` with one waiting step and settles when the test says; time is vitest's fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { FOLLOW_POLL_MS, followRun } from '../../../src/cli/follow.js';
import type { Progress } from '../../../src/domain/report.js';

/** A run that waits in one step until `end()`; records when it was queried. */
function waitingRun() {
  const queriedAt: number[] = [];
  let end: () => void = () => {};
  const settled = new Promise<void>((resolve) => (end = resolve));
  const progress: Progress = {
    steps: [{ name: 'await-ci-build', status: 'running', startedAt: new Date(0).toISOString() }],
    current: { name: 'await-ci-build', status: 'running', startedAt: new Date(0).toISOString() },
    rollback: [],
  };
  const handle = {
    workflowId: 'validate-example-app',
    firstExecutionRunId: 'run-1',
    query: async () => {
      queriedAt.push(Date.now());
      return progress;
    },
    result: () => settled,
    // What runOutcome asks once the run ended: still running is enough for the view to stop.
    describe: async () => ({ runId: 'run-1', type: 'validatePipeline', status: { name: 'RUNNING' } }),
  };
  const client = { workflow: { getHandle: () => handle } } as unknown as Client;
  return { client, handle: handle as unknown as WorkflowHandle, queriedAt, end: () => end() };
}

describe('shepherd validate/promote --follow', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks a running run for its progress once a second, not several times a second', async () => {
    expect(FOLLOW_POLL_MS).toBeGreaterThanOrEqual(1_000);
    expect(FOLLOW_POLL_MS).toBeLessThanOrEqual(2_000);
    const run = waitingRun();
    const following = followRun(run.client, run.handle, { out: () => {}, tty: false });

    await vi.advanceTimersByTimeAsync(10_000);
    const looks = run.queriedAt.length;
    expect(looks).toBeGreaterThanOrEqual(5);
    expect(looks).toBeLessThanOrEqual(11);
    const gaps = run.queriedAt.slice(1).map((at, i) => at - run.queriedAt[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);

    run.end();
    await vi.advanceTimersByTimeAsync(0);
    await expect(following).resolves.toMatchObject({ kind: 'none' });
  });

  it('shows the end of a run at once, without waiting for the next look', async () => {
    const run = waitingRun();
    const lines: string[] = [];
    const following = followRun(run.client, run.handle, { out: (line) => lines.push(line), tty: false });
    await vi.advanceTimersByTimeAsync(100);
    const looksBefore = run.queriedAt.length;

    run.end();
    await vi.advanceTimersByTimeAsync(0);
    await expect(following).resolves.toMatchObject({ kind: 'none' });
    // One last look for the final steps, then done: well within the poll interval.
    expect(run.queriedAt.length).toBe(looksBefore + 1);
    expect(run.queriedAt.at(-1)! - run.queriedAt[0]!).toBeLessThan(FOLLOW_POLL_MS);
    expect(lines).toEqual(['→ await-ci-build']);
  });
});
