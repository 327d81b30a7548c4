import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { timeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.js';
import * as activities from '../support/fixture-activities.js';
import { harnessWorkflow } from '../support/fixture-workflows.js';

describe('the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = uniqueTaskQueue(import.meta.url);

  beforeAll(async () => {
    env = await timeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('skips a three-day timer without waiting three days', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities,
    });
    const wallStart = Date.now();
    const result = await worker.runUntil(
      env.client.workflow.execute(harnessWorkflow, {
        taskQueue,
        workflowId: `skip-${taskQueue}`,
        args: [{ name: 'later', sleep: '3 days' }],
      }),
    );
    expect(result.greeting).toBe('hello, later');
    expect(result.finishedAt - result.startedAt).toBeGreaterThanOrEqual(3 * 24 * 3600 * 1000);
    expect(Date.now() - wallStart).toBeLessThan(3 * 24 * 3600 * 1000);
  });
});
