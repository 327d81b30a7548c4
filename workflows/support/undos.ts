/** The undos of the steps that change an environment, shared by both workflows. */
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
 * workload runs the previous image again, healthy.
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
      const reverted = await summarized(`undo: revert !${plan.iid} on ${env}`, undoCalls.revertMergeRequest, {
        iid: plan.iid,
        targetEnv: env,
        runMarker: plan.runMarker,
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
          if (plan.toImageTag === undefined) return 'synced; no previous image to verify';
          await summarized(
            `undo: verify ${appName} in ${env} runs ${plan.toImageTag} again`,
            undoWaits.verifyWorkload,
            {
              appName,
              env,
              imageTag: plan.toImageTag,
              deadline: deadlineIn(Math.max(plan.budgets.workload, WAIT_BUDGETS.workload)),
            },
          );
          return `running ${plan.toImageTag}, healthy`;
        },
      },
    ],
  };
}
