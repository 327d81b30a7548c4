/** The undos of the steps that change an environment, shared by both workflows. */
import { patched } from '@temporalio/workflow';
import type { MergeRequestRef } from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import type { WaitBudgets } from '../../src/domain/inputs.js';
import { WAIT_BUDGETS } from '../../src/domain/wait-budgets.js';
import type { ActivityProxies } from './activities.js';
import { summarized } from './metadata.js';
import type { Undo } from './saga.js';

function deadlineIn(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}

/** Undo of an opened MR: close it (unless it got merged: then the revert undoes it) and delete its branch. */
export function abandonMergeRequest(
  activities: ActivityProxies,
  mergeRequest: MergeRequestRef,
  runMarker: string,
  reason: () => string,
  merged: () => boolean,
): Undo[] {
  const { undoCalls } = activities;
  return [
    {
      action: 'delete-branch',
      env: mergeRequest.targetEnv,
      target: mergeRequest.sourceBranch,
      run: async () => {
        const { deleted } = await summarized(
          `undo: delete branch ${mergeRequest.sourceBranch}`,
          undoCalls.deleteBranch,
          {
            branch: mergeRequest.sourceBranch,
          },
        );
        return deleted ? undefined : { skipped: 'branch already gone' };
      },
    },
    {
      action: 'close-merge-request',
      env: mergeRequest.targetEnv,
      target: `!${mergeRequest.iid}`,
      run: async () => {
        if (merged()) return { skipped: 'merged: undone by its revert' };
        const { stateBefore } = await summarized(`undo: close !${mergeRequest.iid}`, undoCalls.closeMergeRequest, {
          iid: mergeRequest.iid,
          runMarker,
          reason: reason(),
        });
        return stateBefore === 'opened' ? undefined : { skipped: `already ${stateBefore}` };
      },
    },
  ];
}

/** How long the undo of a promote job waits for a stopped build to end: Jenkins aborts a pipeline within seconds. */
const STOP_BUDGET_SECONDS = 300;

/**
 * Undo of queuing the promote job, pushed as soon as Jenkins named the queue item: cancel the item, or stop the
 * build and wait until it has ended (so that it opens nothing after the run cleaned up).
 */
export function cancelPromoteJob(
  activities: ActivityProxies,
  job: { appName: string; env: Environment; queueItemId: number; buildNumber: () => number | undefined },
): Undo {
  return {
    action: 'cancel-promote-job',
    env: job.env,
    target: `promote job queue item ${job.queueItemId}`,
    run: async () => {
      const buildNumber = job.buildNumber();
      const cancelled = await summarized(
        `undo: cancel the promote job (queue item ${job.queueItemId})`,
        activities.undoWaits.cancelPromoteJob,
        {
          appName: job.appName,
          queueItemId: job.queueItemId,
          ...(buildNumber !== undefined ? { buildNumber } : {}),
          deadline: deadlineIn(STOP_BUDGET_SECONDS),
        },
      );
      const build = cancelled.buildNumber !== undefined ? `#${cancelled.buildNumber}` : '';
      switch (cancelled.outcome) {
        case 'queue-item-cancelled':
          return 'cancelled in the queue';
        case 'build-stopped':
          return `stopped ${build} (${cancelled.buildResult ?? 'ended'})`;
        case 'build-finished':
          return { skipped: `${build} had already finished (${cancelled.buildResult ?? '?'})` };
        default:
          return { skipped: 'nothing left in Jenkins' };
      }
    },
  };
}

/**
 * Undo of a job that opens an MR for the run (the promote job, CI's dev MR), pushed before the MR's number is
 * known: close the branch's open MRs (a merged one is left to its revert) and delete the branch.
 */
export function abandonDeployBranch(
  activities: ActivityProxies,
  branch: { appName: string; env: Environment; runMarker: string; reason: () => string } & (
    { imageTag: string } | { version: string; commitSha?: string }
  ),
): Undo {
  const name =
    'imageTag' in branch
      ? deployBranch(branch.env, branch.imageTag)
      : ciBranch(branch.env, branch.version || `*-${branch.commitSha?.slice(0, 7) ?? ''}`);
  return {
    action: 'abandon-deploy-branch',
    env: branch.env,
    target: name,
    run: async () => {
      const done = await summarized(
        `undo: close the merge request of ${name}, delete the branch`,
        activities.undoCalls.abandonDeployBranch,
        {
          appName: branch.appName,
          targetEnv: branch.env,
          ...('imageTag' in branch
            ? { imageTag: branch.imageTag }
            : { version: branch.version, ...(branch.commitSha ? { commitSha: branch.commitSha } : {}) }),
          runMarker: branch.runMarker,
          reason: branch.reason(),
        },
      );
      const closed = done.closed.map((iid) => `!${iid}`).join(', ');
      if (closed === '' && done.branchesDeleted.length === 0) return { skipped: 'no open merge request, no branch' };
      return [
        closed ? `closed ${closed}` : '',
        done.branchesDeleted.length > 0 ? `deleted ${done.branchesDeleted.join(', ')}` : '',
      ]
        .filter((part) => part !== '')
        .join('; ');
    },
  };
}

/** The branch a job opens its MR from: `update-dev-{tag}` for dev, `promote-{env}-{tag}` otherwise. */
function deployBranch(env: Environment, tag: string): string {
  return env === 'dev' ? `update-dev-${tag}` : `promote-${env}-${tag}`;
}

/**
 * The branches CI opens for a version into the pipeline's first environment (the seed's `update-dev-{version}-…`;
 * a declared pipeline's template is known to the activities only, so it is named by what it is).
 */
function ciBranch(env: Environment, version: string): string {
  return env === 'dev' ? `${deployBranch(env, version)}-*` : `the ${env} branch CI opened for ${version}`;
}

export interface RevertPlan {
  /**
   * The run's wait budgets. Compensation waits at least the presets: it must not give up early on an environment
   * that is coming back (e.g. after an outage that ended the forward wait).
   */
  readonly budgets: WaitBudgets;
  readonly appName: string;
  readonly env: Environment;
  readonly iid: number;
  readonly runMarker: string;
  readonly fromImageTag: string;
  readonly toImageTag: string | undefined;
}

/**
 * Undo of a merge: revert the MR on the env branch, then wait until Argo CD has synced the revert and the
 * workload runs the image the revert declares again, healthy. Runs started after the `revert-verifies-declared-image`
 * patch read that image from the env branch at the revert's merge commit (read-declared-image) instead of trusting
 * the image the run remembered: what git declares after the revert is what Argo CD deploys.
 */
export function revertMerge(activities: ActivityProxies, plan: RevertPlan): Undo {
  const { undoCalls, undoWaits } = activities;
  let revertCommit = '';
  const { appName, env } = plan;
  return {
    action: 'revert-merge-request',
    env,
    target: `!${plan.iid}`,
    fromImageTag: plan.fromImageTag,
    ...(plan.toImageTag ? { toImageTag: plan.toImageTag } : {}),
    run: async () => {
      const reverted = await summarized(`undo: revert !${plan.iid} on ${env}`, undoWaits.revertMergeRequest, {
        iid: plan.iid,
        targetEnv: env,
        runMarker: plan.runMarker,
        deadline: deadlineIn(Math.max(plan.budgets.mergeability ?? 0, WAIT_BUDGETS.mergeability)),
      });
      revertCommit = reverted.mergeCommitSha;
      return `reverted by !${reverted.revertMergeRequest.iid}`;
    },
    then: [
      {
        action: 'await-previous-image',
        env,
        target: `${appName}-${env}`,
        fromImageTag: plan.fromImageTag,
        ...(plan.toImageTag ? { toImageTag: plan.toImageTag } : {}),
        run: async () => {
          const declared = patched(REVERT_DECLARED)
            ? await summarized(`undo: read the image ${env} declares after the revert`, undoCalls.readDeclaredImage, {
                appName,
                env,
                ref: revertCommit,
              })
            : undefined;
          await summarized(
            `undo: wait for Argo CD ${appName}-${env} at the revert`,
            undoWaits.awaitArgoSyncedAndHealthy,
            {
              appName,
              env,
              revision: revertCommit,
              deadline: deadlineIn(Math.max(plan.budgets.sync, WAIT_BUDGETS.sync)),
            },
          );
          const expected = declared ? declared.imageTag : plan.toImageTag;
          if (expected === undefined)
            return declared ? 'synced; the revert declares no tagged image' : 'synced; no previous image to verify';
          await summarized(`undo: verify ${appName} in ${env} runs ${expected} again`, undoWaits.verifyWorkload, {
            appName,
            env,
            imageTag: expected,
            deadline: deadlineIn(Math.max(plan.budgets.workload, WAIT_BUDGETS.workload)),
          });
          const unexpected =
            plan.toImageTag !== undefined && expected !== plan.toImageTag
              ? ` (declared by the revert; ${plan.toImageTag} was expected)`
              : '';
          return `running ${expected}, healthy${unexpected}`;
        },
      },
    ],
  };
}

/**
 * Runs started before this change verify the image remembered when the merge was made; runs started after it read
 * the image the revert declares (one more activity) and verify that.
 */
const REVERT_DECLARED = 'revert-verifies-declared-image';
