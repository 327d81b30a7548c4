/**
 * promoteEnvironment started on its own (as from the Web UI, `temporal workflow start` or the CLI) on the real dev
 * server against the sandbox world: it promotes what runs proven in the source environment and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { promoteEnvironment } from '../../workflows/index.js';
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
});
