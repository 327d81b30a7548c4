/**
 * promoteEnvironment started on its own (as from the Web UI, `temporal workflow start` or the CLI) on the real dev
 * server against the sandbox world: it promotes what runs proven in the source environment and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { promoteEnvironment } from '../../workflows/index.js';
import type { PromoteEnvironmentInput, PromotionMode } from '../../src/domain/inputs.js';
import type { PromotionFailureDetails } from '../../src/domain/report.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import { currentImageQuery, supersedeUpdate } from '../../workflows/messages.js';
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
import type { TestSandbox } from '../support/sandbox.js';

/** The failure a run ended with (it must fail). */
async function failureOf(result: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

/** One request to the sandbox's Kubernetes API as its admin, as kubectl would send it. */
async function kubernetes(
  sandbox: TestSandbox,
  method: string,
  path: string,
  type: string,
  body: unknown,
): Promise<void> {
  const { url, token } = sandbox.world.info.kubernetes;
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

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

  it('stops a gitlab-mode promotion superseded while it opens its MR: the old image is never merged, its MR is closed', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      const before = await sandbox.state();
      const stageBefore = tagOf(environment(before, 'stage').image);
      // GitLab takes its time to create the MR: the run sits in `opening`, inside a shielded call.
      await sandbox.setScenario({
        name: 'slow-merge-request-create',
        description: 'creating a merge request takes 4 s',
        http: [{ system: 'gitlab', method: 'POST', path: '/merge_requests$', latencyMs: 4_000, count: 1 }],
      });
      const handle = await t.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
        taskQueue: t.taskQueue,
        workflowId: promotionWorkflowId(APP, 'stage'),
        args: [{ appName: APP, sourceEnv: 'dev', targetEnv: 'stage', mode: 'gitlab' }],
      });
      await until(
        async () => (await handle.query(currentImageQuery)).phase === 'opening',
        'the promotion to be opening its MR',
      );
      const newer = '1.0.99-SNAPSHOT-abcdef0';
      expect(await handle.executeUpdate(supersedeUpdate, { args: [{ imageTag: newer, by: 'test' }] })).toEqual({
        supersededImageTag: devTag,
      });

      const result = await handle.result();
      const after = await sandbox.state();
      expect(result).toMatchObject({ status: 'superseded', supersededBy: newer, imageTag: devTag });
      expect(result.steps.map((step) => step.name)).not.toContain('merge-merge-request');
      expect(result.rollback.map((r) => [r.action, r.status])).toEqual([
        ['close-merge-request', 'succeeded'],
        ['delete-branch', 'succeeded'],
      ]);
      // The world: stage never saw the old image, its MR is closed and its branch gone.
      expect(tagOf(environment(after, 'stage').image)).toBe(stageBefore);
      const deployments = project(after, 'p2c/k8s-deployments');
      expect(deployments.mergeRequests.merged.filter((m) => m.target === 'stage')).toEqual([]);
      expect(deployments.mergeRequests.opened).toEqual([]);
      expect(deployments.mergeRequests.closed.map((m) => m.source)).toEqual([`promote-stage-${devTag}`]);
      expect(leftoverBranches(deployments)).toEqual([]);
    });
  });

  it('reverts a stage MR that someone merged with another head just before Shepherd, back to what stage declared', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      const stageBefore = tagOf(environment(await sandbox.state(), 'stage').image);
      await sandbox.setScenario('stage-mr-merged-by-other');

      const failure = await failureOf(promoteToStage());
      expect(failure.type).toBe('MergeConflictError');
      const details = failure.details?.[0] as PromotionFailureDetails;
      expect(details.previousImageTag).toBe(stageBefore);
      expect(details.steps.map((s) => [s.name, s.status])).toContainEqual(['read-merge-request', 'succeeded']);
      expect(details.rollback.map((r) => [r.action, r.status])).toEqual(
        expect.arrayContaining([
          ['revert-merge-request', 'succeeded'],
          ['await-previous-image', 'succeeded'],
        ]),
      );
      expect(details.rollback.find((r) => r.action === 'await-previous-image')?.detail).toBe(
        `running ${stageBefore}, healthy`,
      );

      const after = await sandbox.state();
      expect(tagOf(environment(after, 'stage').image)).toBe(stageBefore);
      expect(environment(after, 'stage')).toMatchObject({ health: 'Healthy', sync: 'Synced' });
      const deployments = project(after, 'p2c/k8s-deployments');
      expect(deployments.mergeRequests.merged.map((m) => [m.target, m.source])).toEqual([
        ['dev', expect.stringMatching(/^update-dev-/)],
        ['stage', `promote-stage-${devTag}`],
        ['stage', expect.stringMatching(/^revert-stage-/)],
      ]);
    });
  });

  it('refuses a stage whose Deployment someone set by hand, and with allowUnsettledTarget rolls it back to what its branch declared', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      const declared = tagOf(environment(await sandbox.state(), 'stage').image)!;
      const byHand = `docker.jmann.local/p2c/example-app:1.0.35-SNAPSHOT-d1f7ed0`;
      // An operator turned self-heal off for stage and ran `kubectl set image` on its Deployment.
      await kubernetes(
        sandbox,
        'PATCH',
        '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/example-app-stage',
        'application/merge-patch+json',
        {
          spec: { syncPolicy: { automated: { selfHeal: false } } },
        },
      );
      await kubernetes(
        sandbox,
        'PATCH',
        '/apis/apps/v1/namespaces/stage/deployments/example-app',
        'application/json-patch+json',
        [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: byHand }],
      );
      await until(async () => {
        const stage = environment(await sandbox.state(), 'stage');
        return stage.image === byHand && stage.health === 'Healthy' && stage.sync === 'OutOfSync';
      }, 'stage to run the image set by hand, OutOfSync');

      const refused = await failureOf(promoteToStage());
      expect(refused.type).toBe('TargetNotSettledError');
      expect(refused.message).toContain('refusing to promote to stage: sync is OutOfSync');
      const untouched = project(await sandbox.state(), 'p2c/k8s-deployments');
      expect(untouched.mergeRequests.opened).toEqual([]);
      expect(untouched.mergeRequests.merged.filter((m) => m.target === 'stage')).toEqual([]);

      await sandbox.setScenario('stage-degraded');
      const failure = await failureOf(
        t.client.workflow.execute<typeof promoteEnvironment>('promoteEnvironment', {
          taskQueue: t.taskQueue,
          workflowId: promotionWorkflowId(APP, 'stage'),
          args: [{ appName: APP, sourceEnv: 'dev', targetEnv: 'stage', allowUnsettledTarget: true }],
        }),
      );
      expect(failure.type).toBe('AppDegradedError');
      const details = failure.details?.[0] as PromotionFailureDetails;
      expect(details).toMatchObject({
        imageTag: devTag,
        previousImageTag: declared,
        unsettledTarget: 'sync is OutOfSync',
      });
      expect(details.rollback.find((r) => r.action === 'await-previous-image')).toMatchObject({
        status: 'succeeded',
        detail: `running ${declared}, healthy`,
      });
      expect(environment(await sandbox.state(), 'stage')).toMatchObject({
        image: expect.stringMatching(new RegExp(`:${declared}$`)),
        health: 'Healthy',
        sync: 'Synced',
      });
    });
  });

  it('finds a stage merge whose answer GitLab lost merged already: one merge, nothing reverted, succeeded', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      await sandbox.setScenario('gitlab-merge-answer-lost');
      const result = await promoteToStage();
      expect(result).toMatchObject({ status: 'succeeded', imageTag: devTag, rollback: [] });
      const after = await sandbox.state();
      expect(tagOf(environment(after, 'stage').image)).toBe(devTag);
      const deployments = project(after, 'p2c/k8s-deployments');
      expect(deployments.mergeRequests.merged.map((m) => [m.target, m.source])).toEqual([
        ['dev', expect.stringMatching(/^update-dev-/)],
        ['stage', `promote-stage-${devTag}`],
      ]);
    });
  });
});
