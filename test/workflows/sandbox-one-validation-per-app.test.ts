/**
 * One validation per app, tried as a new user would, on the real dev server against the sandbox world: the nightly
 * schedule's run waits at the prod gate, and `shepherd schedule trigger` and `shepherd validate` must not start a
 * second validation next to it. Then the nightly run is terminated, and its prod promotion must unwind instead of
 * being left half done.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { progressQuery } from '../../workflows/messages.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import { runningValidation } from '../../src/temporal/run-start.js';
import { runCli } from '../support/cli.js';
import { eventually, until } from '../support/eventually.js';
import {
  APP,
  environment,
  leftoverBranches,
  project,
  sandboxTemporal,
  type SandboxTemporal,
} from './sandbox-support.js';

describe('one validation per app against the sandbox world', () => {
  let t: SandboxTemporal;
  beforeAll(async () => {
    t = await sandboxTemporal(import.meta.url);
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('refuses `schedule trigger` and `validate` while the scheduled run waits at the prod gate; terminating that run makes prod unwind', async () => {
    await t.inWorld({}, async (sandbox) => {
      const cli = {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: t.namespace,
        TEMPORAL_TASK_QUEUE: t.taskQueue,
      };
      // A cron that does not fire during the test: the runs here are triggered.
      expect((await runCli(['schedule', 'create', '--cron', '0 0 1 1 *'], cli)).code).toBe(0);
      expect((await runCli(['schedule', 'trigger'], cli)).code).toBe(0);
      const scheduled = await eventually(
        () => runningValidation(t.client, APP, t.taskQueue),
        'the scheduled validation to run',
      );
      expect(scheduled.workflowId).toMatch(/^validate-example-app-/);
      const prod = t.client.workflow.getHandle(promotionWorkflowId(APP, 'prod'));
      await until(
        async () => (await prod.query(progressQuery)).current?.waitingOn?.kind === 'approval',
        'prod to wait for approval',
        { timeoutMs: 90_000 },
      );
      const atGate = await sandbox.state();

      const trigger = await runCli(['schedule', 'trigger'], cli);
      expect(trigger.code).toBe(1);
      expect(trigger.stderr).toContain(
        `Not triggered: a validation of ${APP} is already running as ${scheduled.workflowId}; one validation per app runs at a time.`,
      );
      const validate = await runCli(['validate'], cli);
      expect(validate.code).toBe(1);
      expect(validate.stderr).toContain(
        `A validation of ${APP} is already running as ${scheduled.workflowId}; one validation per app runs at a time.`,
      );
      const validations: string[] = [];
      for await (const run of t.client.workflow.list({ query: `WorkflowType = 'validatePipeline'` }))
        validations.push(run.workflowId);
      expect(validations).toEqual([scheduled.workflowId]);
      const appProject = (state: typeof atGate) => project(state, 'p2c/example-app');
      expect(appProject(await sandbox.state()).commitsPerBranch.main).toBe(appProject(atGate).commitsPerBranch.main);

      // Terminated, the nightly run asks its prod promotion to unwind: the MR is closed, its branch deleted.
      await t.client.workflow.getHandle(scheduled.workflowId).terminate('the operator ends the nightly run');
      const ended = await prod.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((ended as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      const after = await sandbox.state();
      const deployments = project(after, 'p2c/k8s-deployments');
      expect(deployments.mergeRequests.opened).toEqual([]);
      expect(deployments.mergeRequests.closed.map((m) => m.target)).toEqual(['prod']);
      expect(leftoverBranches(deployments)).toEqual([]);
      expect(environment(after, 'prod').image).toBe(environment(atGate, 'prod').image);
      expect((await runCli(['schedule', 'delete'], cli)).code).toBe(0);
    });
  });
});
