import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.js';
import * as activities from '../support/fixture-activities.js';
import { harnessWorkflow } from '../support/fixture-workflows.js';

describe('replay against the current bundle', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = uniqueTaskQueue(import.meta.url);

  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('replays a history recorded on the dev server without a determinism error', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities,
    });
    const workflowId = `replay-${taskQueue}`;
    await worker.runUntil(
      env.client.workflow.execute(harnessWorkflow, {
        taskQueue,
        workflowId,
        args: [{ name: 'replay', sleep: '10ms' }],
      }),
    );
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events?.length).toBeGreaterThan(5);
    await expect(
      Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, workflowId),
    ).resolves.toBeUndefined();
  });
});
