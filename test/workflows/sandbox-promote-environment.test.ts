/**
 * promoteEnvironment started on its own (as from the Web UI, `temporal workflow start` or the CLI) on the real dev
 * server against the sandbox world: it promotes what runs proven in the source environment and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { promoteEnvironment } from '../../workflows/index.js';
import type { PromotionFailureDetails } from '../../src/domain/report.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
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

  it('reverts a stage MR that someone merged with another head just before Shepherd, back to what stage declared', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      const stageBefore = tagOf(environment(await sandbox.state(), 'stage').image);
      await sandbox.setScenario('stage-mr-merged-by-other');

      const err = await promoteToStage().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
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
});
