/**
 * promoteEnvironment started on its own (as from the Web UI, `temporal workflow start` or the CLI) on the real dev
 * server against the sandbox world: it promotes what runs proven in the source environment and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { promoteEnvironment } from '../../workflows/index.js';
import type { PromoteEnvironmentInput, PromotionMode } from '../../src/domain/inputs.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import type { TestSandbox } from '../support/sandbox.js';
import { until } from '../support/eventually.js';
import { untilStep } from '../support/until-step.js';
import {
  APP,
  builds,
  deployNewImageToDev,
  environment,
  leftoverBranches,
  project,
  sandboxTemporal,
  tagOf,
  type SandboxTemporal,
} from './sandbox-support.js';

describe('promoteEnvironment alone against the sandbox world', () => {
  let t: SandboxTemporal;
  beforeAll(async () => {
    t = await sandboxTemporal(import.meta.url);
  });
  afterAll(async () => {
    await t?.teardown();
  });

  const promoteToStage = () =>
    t.client.workflow.execute<typeof promoteEnvironment>('promoteEnvironment', {
      taskQueue: t.taskQueue,
      workflowId: promotionWorkflowId(APP, 'stage'),
      args: [{ appName: APP, sourceEnv: 'dev', targetEnv: 'stage' }],
    });

  const startToStage = (extra: Partial<PromoteEnvironmentInput> = {}) =>
    t.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
      taskQueue: t.taskQueue,
      workflowId: promotionWorkflowId(APP, 'stage'),
      args: [{ appName: APP, sourceEnv: 'dev', targetEnv: 'stage', ...extra }],
    });

  /** The run ends cancelled (not failed, not completed). */
  async function expectCancelled(result: Promise<unknown>): Promise<void> {
    const err = await result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  }

  /** Nothing of the promotion is left in GitLab: no open MR into stage, no promote-stage branch. */
  async function expectNothingLeftOpen(sandbox: TestSandbox, tag: string): Promise<void> {
    const deployments = project(await sandbox.state(), 'p2c/k8s-deployments');
    expect(deployments.mergeRequests.opened.map((m) => m.source)).toEqual([]);
    expect(deployments.mergeRequests.closed.map((m) => m.source)).toContain(`promote-stage-${tag}`);
    expect(leftoverBranches(deployments)).toEqual([]);
  }

  /** GitLab answers 503 to every merge-request call of Shepherd's: the run's MR wait sees nothing. */
  const MR_API_DOWN = {
    name: 'mr-api-503',
    description: 'GitLab answers 503 to merge-request calls',
    http: [{ system: 'gitlab' as const, path: '/merge_requests', status: 503 }],
  };

  it('a promotion cancelled while the promote build runs stops the build, closes the MR it opened and deletes its branch', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      await sandbox.setScenario('promote-job-hangs');
      const handle = await startToStage();
      await untilStep(handle, 'await-promote-build', { timeoutMs: 60_000 });
      // The job opened its MR, then hangs: the run does not know the MR's number yet.
      await until(
        async () =>
          project(await sandbox.state(), 'p2c/k8s-deployments').mergeRequests.opened.some(
            (m) => m.source === `promote-stage-${devTag}`,
          ),
        'the promote job to open its MR',
        { timeoutMs: 60_000 },
      );
      await handle.cancel();
      await expectCancelled(handle.result());

      await expectNothingLeftOpen(sandbox, devTag);
      const jobBuilds = builds(await sandbox.state(), 'promote-environment');
      expect(jobBuilds.map((b) => [b.params.IMAGE_TAG, b.result])).toEqual([[devTag, 'ABORTED']]);
    });
  });

  it('a promotion cancelled while it waits for the merge request closes the MR the job opened and deletes its branch', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      await sandbox.setScenario(MR_API_DOWN);
      const handle = await startToStage();
      await untilStep(handle, 'await-merge-request', { timeoutMs: 60_000 });
      await handle.cancel();
      // The undo retries through GitLab's outage and closes the MR once GitLab answers again.
      await sandbox.setScenario(undefined);
      await expectCancelled(handle.result());
      await expectNothingLeftOpen(sandbox, devTag);
      expect(builds(await sandbox.state(), 'promote-environment').map((b) => b.result)).toEqual(['SUCCESS']);
    });
  });

  it.each<PromotionMode>(['jenkins', 'gitlab'])(
    'in %s mode a promotion adopts the MR a --no-merge run left open for the same image, and merges it',
    async (mode) => {
      await t.inWorld({}, async (sandbox) => {
        const devTag = await deployNewImageToDev(t);
        const opened = await (await startToStage({ mode, merge: false })).result();
        expect(opened).toMatchObject({ status: 'merge-request-opened', imageTag: devTag });
        const left = project(await sandbox.state(), 'p2c/k8s-deployments').mergeRequests.opened;
        expect(left.map((m) => m.source)).toEqual([`promote-stage-${devTag}`]);

        // A short MR budget: a run that ignored the open MR would fail with MergeRequestNotFoundError within it.
        const promoted = await (await startToStage({ mode, waitBudgets: { mergeRequest: 20 } })).result();
        expect(promoted).toMatchObject({ status: 'succeeded', imageTag: devTag });
        expect(promoted.mergeRequest?.iid).toBe(opened.mergeRequest?.iid);
        const after = await sandbox.state();
        const deployments = project(after, 'p2c/k8s-deployments');
        expect(deployments.mergeRequests.opened).toEqual([]);
        expect(deployments.mergeRequests.merged.map((m) => m.iid)).toContain(opened.mergeRequest?.iid);
        expect(tagOf(environment(after, 'stage').image)).toBe(devTag);
      });
    },
  );

  it('a promotion whose promote job never gets an executor ends cancelled promptly when cancelled, and its queue item is cancelled', async () => {
    await t.inWorld({}, async (sandbox) => {
      await deployNewImageToDev(t);
      await sandbox.setScenario('promote-job-starved');
      const handle = await startToStage();
      await until(
        async () =>
          (builds(await sandbox.state(), 'promote-environment').length === 0 &&
            (await sandbox.state()).jenkins.jobs
              .find((j) => j.path === 'promote-environment')
              ?.queue.some((q) => q.why === 'Waiting for next available executor')) === true,
        'the promote job to wait for an executor',
        { timeoutMs: 60_000 },
      );
      const cancelledAt = Date.now();
      await handle.cancel();
      await expectCancelled(handle.result());
      expect(Date.now() - cancelledAt).toBeLessThan(20_000);
      const job = (await sandbox.state()).jenkins.jobs.find((j) => j.path === 'promote-environment')!;
      expect(job.queue).toEqual([]);
      expect(job.builds).toEqual([]);
      expect(project(await sandbox.state(), 'p2c/k8s-deployments').mergeRequests.opened).toEqual([]);
    });
  });

  it('promotes the image running synced and healthy in dev to stage, and a repeated request ends as unchanged', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      const before = await sandbox.state();
      const stageBefore = tagOf(environment(before, 'stage').image);
      expect(stageBefore).not.toBe(devTag);

      const result = await promoteToStage();
      const after = await sandbox.state();

      expect(result).toMatchObject({
        status: 'succeeded',
        sourceEnv: 'dev',
        targetEnv: 'stage',
        imageTag: devTag,
        previousImageTag: stageBefore,
        rollback: [],
      });
      expect(tagOf(environment(after, 'stage').image)).toBe(devTag);
      expect(environment(after, 'stage')).toMatchObject({ health: 'Healthy', sync: 'Synced' });
      expect(environment(after, 'prod').image).toBe(environment(before, 'prod').image);
      const deployments = project(after, 'p2c/k8s-deployments');
      expect(deployments.mergeRequests.merged.map((m) => [m.target, m.source])).toEqual([
        ['dev', expect.stringMatching(/^update-dev-/)],
        ['stage', `promote-stage-${devTag}`],
      ]);
      expect(deployments.mergeRequests.opened).toEqual([]);
      expect(leftoverBranches(deployments)).toEqual([]);
      expect(
        builds(after, 'promote-environment').map((b) => [
          b.params.SOURCE_ENV,
          b.params.TARGET_ENV,
          b.params.IMAGE_TAG,
          b.result,
        ]),
      ).toEqual([['dev', 'stage', devTag, 'SUCCESS']]);

      // Stage already runs dev's image, synced and healthy: nothing to do, nothing opened or built.
      const again = await promoteToStage();
      expect(again).toMatchObject({ status: 'unchanged', imageTag: devTag, previousImageTag: devTag });
      const last = await sandbox.state();
      expect(project(last, 'p2c/k8s-deployments').counts).toEqual(deployments.counts);
      expect(builds(last, 'promote-environment')).toHaveLength(1);
    });
  });
});
