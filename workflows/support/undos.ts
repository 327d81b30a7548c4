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
