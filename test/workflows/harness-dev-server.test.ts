import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.js';
import * as activities from '../support/fixture-activities.js';
import { harnessWorkflow, releaseSignal, stepQuery } from '../support/fixture-workflows.js';
import { ShepherdStatus } from '../../src/temporal/common/search-attributes.js';

describe('the shared Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = uniqueTaskQueue(import.meta.url);

  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow with an activity, a query, a signal and a search attribute on the real server', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities,
    });
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(harnessWorkflow, {
        taskQueue,
        workflowId: `harness-${taskQueue}`,
        args: [{ name: 'dev server', hold: true }],
      });
      let step = '';
      while (step !== 'holding') step = await handle.query(stepQuery);
      await handle.signal(releaseSignal);
      const out = await handle.result();
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(ShepherdStatus)).toBe('done');
      return out;
    });
    expect(result.greeting).toBe('hello, dev server');
  });

  it("has Shepherd's search attributes registered so runs can be filtered by them", async () => {
    const attrs = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['ShepherdApp', 'ShepherdEnvironment', 'ShepherdImageTag', 'ShepherdStatus']),
    );
  });
});
