/**
 * promoteEnvironment started on its own (as from the Web UI, `temporal workflow start` or the CLI) on the real dev
 * server against the sandbox world: it promotes what runs proven in the source environment and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { promoteEnvironment } from '../../workflows/index.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import { currentImageQuery, supersedeUpdate } from '../../workflows/messages.js';
import { until } from '../support/eventually.js';
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
});
