/**
 * Event-driven waits on the real dev server: a wait with webhooks on polls only at its (here: ten-minute) fallback,
 * and looks again as soon as a `wake` signal for its system lands in its run's history — sent by any client, so it
 * reaches the wait whatever worker runs it. The run is a workflow with no worker polling its task queue: Temporal
 * still records its signals, which is all a waiting activity follows.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { pollUntil } from '../../activities/poll-until.js';
import { BURST_LOOKS, pacing, type Coverage } from '../../activities/wakeups.js';
import { WAKE_SIGNAL, type WakeHint, type WakeSystem } from '../../src/domain/wake.js';
import { until } from '../support/eventually.js';
import { uniqueTaskQueue } from '../support/temporal.js';

const TEN_MINUTES = 600_000;

let connection: Connection;
let client: Client;
const namespace = inject('temporalNamespace');

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace });
});
afterAll(async () => {
  await connection.close();
});

/** A running workflow nobody works on: its history is what the wait follows. */
async function idleRun(): Promise<{ workflowId: string; runId: string; stop: () => Promise<void> }> {
  const workflowId = `wake-test-${randomUUID().slice(0, 8)}`;
  const handle = await client.workflow.start('idleForWakeTest', {
    taskQueue: uniqueTaskQueue(__filename),
    workflowId,
    args: [],
  });
  return {
    workflowId,
    runId: handle.firstExecutionRunId,
    stop: async () => void (await handle.terminate('test over')),
  };
}

const hint = (system: WakeSystem): WakeHint => ({ system, event: 'build', receivedAt: new Date().toISOString() });

/** Runs a webhook-paced wait of `system` inside `run`; `done()` lets its next look finish it. */
function startWait(
  run: { workflowId: string; runId: string },
  system: WakeSystem,
  fallbackMs = TEN_MINUTES,
  coverage: Coverage = 'covered',
) {
  const env = new MockActivityEnvironment(
    { workflowExecution: { workflowId: run.workflowId, runId: run.runId }, workflowNamespace: namespace },
    { logger: new DefaultLogger('ERROR'), client },
  );
  let looks = 0;
  let finished = false;
  const result = env.run(async () =>
    pollUntil<{ lastSeen?: string }, number>({
      waitingFor: 'a change announced by a webhook',
      startedAt: Date.now(),
      deadline: Date.now() + TEN_MINUTES,
      progress: {},
      ...pacing({ pollIntervalMs: 100, webhooks: true, fallbackMs }, system, coverage),
      heartbeat: () => undefined,
      look: async () => {
        looks += 1;
        return finished ? { done: looks } : { progress: { lastSeen: `look ${looks}` } };
      },
    }),
  );
  return {
    result,
    looks: () => looks,
    done: () => {
      finished = true;
    },
    cancel: () => env.cancel(),
  };
}

describe('a wait with webhooks on', () => {
  it('looks again when a wake signal for its system lands in its run history, long before its fallback poll', async () => {
    const run = await idleRun();
    try {
      const wait = startWait(run, 'jenkins');
      await until(() => wait.looks() === 1, 'the first look');
      wait.done();
      await client.workflow.getHandle(run.workflowId).signal(WAKE_SIGNAL, hint('jenkins'));
      // Without the wake-up the next look would come after ten minutes, past the test's timeout.
      await expect(wait.result).resolves.toBe(2);
    } finally {
      await run.stop();
    }
  });

  it('finds the change by its fallback poll when no webhook arrives', async () => {
    const run = await idleRun();
    try {
      const wait = startWait(run, 'gitlab', 300);
      await until(() => wait.looks() >= 2, 'a second look without any wake-up');
      wait.done();
      await expect(wait.result).resolves.toBeGreaterThanOrEqual(3);
    } finally {
      await run.stop();
    }
  });

  it('after a wake-up, a burst wait looks at its poll interval for a while, without further wake-ups', async () => {
    const run = await idleRun();
    try {
      const wait = startWait(run, 'jenkins', TEN_MINUTES, 'burst');
      await until(() => wait.looks() === 1, 'the first look');
      await client.workflow.getHandle(run.workflowId).signal(WAKE_SIGNAL, hint('jenkins'));
      // The wake-up's look, then looks every 100 ms without any further wake-up: a covered wait would stay at 2.
      await until(() => wait.looks() >= 2 + BURST_LOOKS - 2, 'the burst of looks after the wake-up');
      wait.done();
      await client.workflow.getHandle(run.workflowId).signal(WAKE_SIGNAL, hint('jenkins'));
      await expect(wait.result).resolves.toBeGreaterThanOrEqual(BURST_LOOKS);
    } finally {
      await run.stop();
    }
  });
});
