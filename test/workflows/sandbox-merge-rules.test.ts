/**
 * promoteEnvironment on the real dev server against sandbox worlds whose deployments project has the merge rules
 * of real installations (part A of issue 13): fast-forward merges while the env branch moves (`ff-merge`), and an
 * MR pipeline that must pass and fails (`ci-must-pass-fails`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { promoteEnvironment } from '../../workflows/index.js';
import type { PromotionFailureDetails } from '../../src/domain/report.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import { OTHER_TEAM_FILE } from '../../src/sandbox/world/merge-rules.js';
import {
  APP,
  deployNewImageToDev,
  environment,
  leftoverBranches,
  project,
  sandboxTemporal,
  tagOf,
  type SandboxTemporal,
} from './sandbox-support.js';

const DEPLOYMENTS = 'p2c/k8s-deployments';

describe('promoteEnvironment under GitLab merge rules', () => {
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

  it('with fast-forward merges and a moving env branch, rebases the MR, merges it without a merge commit, and Argo CD deploys it', async () => {
    await t.inWorld({ scenario: 'ff-merge' }, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      const result = await promoteToStage();
      expect(result).toMatchObject({ status: 'succeeded', imageTag: devTag });

      const state = await sandbox.state();
      const deployments = project(state, DEPLOYMENTS);
      const merged = deployments.mergeRequests.merged.find((m) => m.iid === result.mergeRequest?.iid);
      // Fast-forward: GitLab records no merge commit; the env branch points at the rebased MR head Shepherd merged.
      expect(merged).toMatchObject({ source: `promote-stage-${devTag}`, mergeCommitSha: null });
      const gitlab = sandbox.world.gitlab;
      const mr = gitlab.mergeRequests.get(gitlab.project(DEPLOYMENTS), result.mergeRequest!.iid);
      expect(result.mergeCommitSha).toBe(mr.sha);
      expect(gitlab.branchHead(DEPLOYMENTS, 'stage')).toBe(mr.sha);
      // The other team's commit is below ours: the MR was rebased onto it.
      expect(gitlab.readFile(DEPLOYMENTS, mr.sha, OTHER_TEAM_FILE)).toContain(`!${mr.iid} was open`);
      // GitLab removed the merged source branches at Shepherd's request.
      expect(deployments.branches).not.toContain(`promote-stage-${devTag}`);
      expect(deployments.branches).toContain('stage');
      expect(leftoverBranches(deployments)).toEqual([]);
      expect(environment(state, 'stage')).toMatchObject({ health: 'Healthy', sync: 'Synced' });
      expect(tagOf(environment(state, 'stage').image)).toBe(devTag);
    });
  });

  it('when the MR pipeline fails, fails naming the pipeline, merges nothing and closes what it opened', async () => {
    await t.inWorld({ scenario: 'ci-must-pass-fails' }, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);
      const stageBefore = tagOf(environment(await sandbox.state(), 'stage').image);

      const err = await promoteToStage().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
      expect(failure.type).toBe('MergeRequestPipelineFailedError');

      const gitlab = sandbox.world.gitlab;
      const deploymentsProject = gitlab.project(DEPLOYMENTS);
      const mr = gitlab.findMergeRequests(DEPLOYMENTS, { sourceBranch: `promote-stage-${devTag}` })[0]!;
      const pipeline = gitlab.pipelines.headPipelineOf(deploymentsProject, mr)!;
      expect(pipeline.status).toBe('failed');
      expect(failure.message).toContain(`/p2c/k8s-deployments/-/pipelines/${pipeline.id} failed`);
      const details = failure.details?.[0] as PromotionFailureDetails;
      expect(details.steps.map((s) => [s.name, s.status])).toContainEqual(['merge-merge-request', 'failed']);
      expect(details.rollback.map((r) => r.status)).not.toContain('failed');

      const after = await sandbox.state();
      const deployments = project(after, DEPLOYMENTS);
      expect(deployments.mergeRequests.merged.filter((m) => m.target === 'stage')).toEqual([]);
      expect(deployments.mergeRequests.opened).toEqual([]);
      expect(leftoverBranches(deployments)).toEqual([]);
      expect(tagOf(environment(after, 'stage').image)).toBe(stageBefore);
    });
  });
});
