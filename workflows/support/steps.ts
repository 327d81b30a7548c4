/**
 * The steps both workflows take on an environment once its merge request is open: merge it (pushing the revert as
 * its undo), then wait until Argo CD has synced the merge and every pod runs the image.
 */
import { patched } from '@temporalio/workflow';
import type { MergeMergeRequestResult, MergeRequestRef } from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import type { WaitBudgets } from '../../src/domain/inputs.js';
import type { ActivityProxies } from './activities.js';
import { waitOptions, type Journal } from './journal.js';
import { shortSha, summarized } from './metadata.js';
import type { Saga } from './saga.js';
import { shielded } from './shield.js';
import { revertMerge } from './undos.js';

/** What the steps of a run share: who it is, its budgets, its record, its activities and its undo stack. */
export interface RunContext {
  readonly appName: string;
  readonly runMarker: string;
  readonly waitBudgets: WaitBudgets;
  readonly journal: Journal;
  readonly activities: ActivityProxies;
  readonly saga: Saga;
}

/** The environment a step acts on and the image it brings there. */
export interface Target {
  readonly env: Environment;
  readonly imageTag: string;
}

/**
 * merge-merge-request with the head sha guard, shielded so that a merge that happened is known and undone; then
 * pushes its undo: revert the MR and wait for the image the revert declares, synced and healthy.
 * The merge waits for GitLab's mergeability check within the run's `mergeability` budget, as a heartbeating wait.
 *
 * A merge attempt can fail after GitLab merged: the answer lost to a timeout, the worker gone after the merge, or
 * the MR merged by someone else with another head (`merged_with_other_head`). Runs started after the
 * `merge-failure-reads-merge-request` patch then read the MR (read-merge-request) and, when GitLab merged it, push
 * the revert like after any merge before the failure surfaces. When even that read fails, the revert is pushed all
 * the same: it checks the MR itself and fails, reported, if nothing was merged, so that a human looks.
 */
export async function mergeMergeRequest(
  run: RunContext,
  target: Target,
  mergeRequest: MergeRequestRef,
  previousImageTag: string | undefined,
): Promise<MergeMergeRequestResult> {
  const { iid, headSha, webUrl } = mergeRequest;
  const revert = () =>
    revertMerge(run.activities, {
      budgets: run.waitBudgets,
      appName: run.appName,
      env: target.env,
      iid,
      runMarker: run.runMarker,
      fromImageTag: target.imageTag,
      toImageTag: previousImageTag,
    });
  let merged: MergeMergeRequestResult;
  try {
    merged = await run.journal.step(
      'merge-merge-request',
      waitOptions(
        target,
        run.waitBudgets.mergeability,
        { kind: 'merge-request', ref: `!${iid} to become mergeable` },
        () => ({
          mergeRequest: webUrl,
        }),
      ),
      (deadline: string) =>
        shielded(() =>
          summarized(`merge !${iid} into ${target.env}`, run.activities.waits.mergeMergeRequest, {
            iid,
            headSha,
            runMarker: run.runMarker,
            deadline,
          }),
        ),
    );
  } catch (err) {
    if (patched(MERGE_FAILURE_READS) && (await mergedAfterAll(run, target, iid))) run.saga.push(revert());
    throw err;
  }
  run.saga.push(revert());
  return merged;
}

/**
 * Runs started before this change push no undo when the merge activity fails; runs started after it read the MR
 * then (one more activity) and revert a merge GitLab made all the same.
 */
const MERGE_FAILURE_READS = 'merge-failure-reads-merge-request';

/** read-merge-request after a failed merge attempt, shielded: whether GitLab merged the MR all the same. */
async function mergedAfterAll(run: RunContext, target: Target, iid: number): Promise<boolean> {
  try {
    const found = await run.journal.step('read-merge-request', { ...target }, () =>
      shielded(() =>
        summarized(`check whether !${iid} was merged after all`, run.activities.undoCalls.readMergeRequest, { iid }),
      ),
    );
    // `locked`: GitLab is merging it right now; by the time the revert runs it is merged (or the revert says not).
    return found.state === 'merged' || found.state === 'locked';
  } catch {
    // Unknown: the revert checks the MR itself and, if nothing was merged, fails in the report for a human to see.
    return true;
  }
}

/** await-argo-synced-and-healthy at `revision` (the merge commit). */
export async function awaitArgoSyncedAndHealthy(run: RunContext, target: Target, revision: string): Promise<void> {
  const { appName } = run;
  await run.journal.step(
    'await-argo-synced-and-healthy',
    waitOptions(target, run.waitBudgets.sync, { kind: 'argo-app', ref: `${appName}-${target.env}` }),
    (deadline: string) =>
      summarized(
        `wait for Argo CD ${appName}-${target.env} at ${shortSha(revision)}`,
        run.activities.waits.awaitArgoSyncedAndHealthy,
        { appName, env: target.env, revision, deadline },
      ),
  );
}

/** verify-workload: every pod runs the image, ready. */
export async function verifyWorkload(run: RunContext, target: Target): Promise<void> {
  const { appName } = run;
  await run.journal.step(
    'verify-workload',
    waitOptions(target, run.waitBudgets.workload, { kind: 'workload', ref: `${appName} in ${target.env}` }),
    (deadline: string) =>
      summarized(`verify ${appName} in ${target.env} runs ${target.imageTag}`, run.activities.waits.verifyWorkload, {
        appName,
        env: target.env,
        imageTag: target.imageTag,
        deadline,
      }),
  );
}
