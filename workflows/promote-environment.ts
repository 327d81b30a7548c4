/**
 * promoteEnvironment — one environment hop of one app (dev→stage or stage→prod), the seed's promotion pipeline
 * made durable. Workflow id: `promote-<app>-<env>` (one promotion per app and environment; see
 * src/domain/promotion-policy.ts for supersede/join).
 *
 * Steps, and the undo each pushes once it succeeded:
 * 1. validate the input (ValidationError, non-retryable, before anything runs)          — no undo
 * 2. read-source: the image running synced and healthy in the source env
 *    (SourceNotHealthyError otherwise; a given imageTag must be the one running there)   — no undo
 * 3. read-target, read-target-declared: what the target runs and what its branch declares; the declared image is
 *    the one a rollback returns to; a target that does not run it synced and healthy is refused
 *    (TargetNotSettledError) unless `allowUnsettledTarget`; a target settled on the image ends `unchanged` — no undo
 * 4. open the promotion MR — mode `jenkins`: trigger-promote-job (queues the job)     — undo: cancel the job (queue
 *    item or build), close the MR of promote-{env}-{tag}, delete the branch; then await-promote-queue,
 *    await-promote-build, await-merge-request (by branch and head: adopts an MR left open for the image);
 *    mode `gitlab`: open-merge-request                                                   — undo: close the MR, delete its branch
 * 5. approval, when the target requires it: `approve`/`reject` updates, timeout = rejected — no undo (a rejection unwinds);
 *    with approvals from GitLab (`approvalSource: gitlab`): await-merge-request-approval, the MR approved in GitLab
 *    by an eligible user (recorded as the approver), or the `reject` update, or the MR closed in GitLab
 * 5b. the freeze gate (runs since `freeze-window-gate`, workflows/support/freeze-gate.ts): check-freeze-window; a frozen
 *    target waits (freeze-window, a durable timer until the windows close, then checks again) or, with policy
 *    `refuse`, fails with FreezeWindowError; the `overrideFreeze` update of an approver lets it merge at once — no undo
 * 6. merge-merge-request (with the head sha guard); when it fails, read-merge-request: an MR GitLab merged all the
 *    same is reverted like any other                                                     — undo: revert the MR, await the image the revert declares synced and healthy
 * 7. await-argo-synced-and-healthy at the merge commit                                    — no undo
 * 8. verify-workload: every pod runs the image, ready                                     — no undo
 *
 * How a run ends (the `ShepherdStatus` search attribute and memo say the same word):
 *   succeeded, unchanged, merge-request-opened  completes; the result is a PromotionResult.
 *   superseded   a newer image replaced it before its merge: unwinds, completes with status `superseded`.
 *   rolled_back  a step after the merge failed and the merge was reverted, every undo succeeded.
 *   failed       a step failed (or the approval was refused or timed out) and nothing merged needed reverting,
 *                or an undo failed.
 *   cancelled    unwinds, then ends cancelled.
 * rolled_back and failed runs FAIL (non-retryable) with the original failure's type and message; the first
 * detail (PromotionFailureDetails) holds the steps and what was undone, from which image to which.
 * The UI shows each activity and the approval timer with a summary, and the run's current details say where it is.
 */
import { isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EnvironmentState, MergeRequestRef } from '../src/domain/activities.js';
import { parseDuration } from '../src/domain/duration.js';
import { SourceNotHealthyError, TargetNotSettledError } from '../src/domain/errors.js';
import { summarizeFailure } from '../src/temporal/common/failures.js';
import {
  promoteEnvironmentOptions,
  type PromoteEnvironmentInput,
  type PromoteEnvironmentOptions,
} from '../src/domain/inputs.js';
import { isSyncedAndHealthyAt, targetUnsettledReason, unsettledReason } from '../src/domain/environment-state.js';
import { SUPERSEDABLE_PHASES, type PromotionPhase } from '../src/domain/promotion-policy.js';
import type { PromotionFailureDetails, PromotionResult, PromotionStatus } from '../src/domain/report.js';
import {
  currentImageQuery,
  pendingApprovalQuery,
  progressQuery,
  wakeSignal,
  type PendingApproval,
} from './messages.js';
import { activityProxies } from './support/activities.js';
import { ApprovalGate, type GateNotices } from './support/approval-gate.js';
import { endWith, validated } from './support/failures.js';
import { FreezeGate } from './support/freeze-gate.js';
import { appNameOf, Journal, waitOptions } from './support/journal.js';
import { shortSha, showDetails, summarized } from './support/metadata.js';
import { Saga } from './support/saga.js';
import { shielded } from './support/shield.js';
import { awaitArgoSyncedAndHealthy, mergeMergeRequest, verifyWorkload, type RunContext } from './support/steps.js';
import { Supersede } from './support/supersede.js';
import { abandonDeployBranch, abandonMergeRequest, cancelPromoteJob } from './support/undos.js';

export type { PromoteEnvironmentInput } from '../src/domain/inputs.js';

export async function promoteEnvironment(input: PromoteEnvironmentInput): Promise<PromotionResult> {
  const journal = new Journal(appNameOf(input));
  const state: PromotionState = { phase: 'validating', alreadyThere: false, merged: false };
  setHandler(progressQuery, () => journal.progress());
  setHandler(wakeSignal, () => undefined);
  setHandler(currentImageQuery, () => ({ imageTag: state.imageTag, phase: state.phase }));
  const options = validated(() => promoteEnvironmentOptions(input));
  setHandler(pendingApprovalQuery, () => pendingApproval(options, state));
  const approval = new ApprovalGate(options.approval, options.targetEnv, () => state.phase === 'awaiting-approval');
  const supersede = new Supersede(() => ({ imageTag: state.imageTag, phase: state.phase }));
  const freeze = new FreezeGate(
    options.approval,
    options.targetEnv,
    () => options.merge && SUPERSEDABLE_PHASES.includes(state.phase),
  );
  const promotion: Promotion = {
    appName: options.appName,
    runMarker: options.runMarker ?? `${workflowInfo().workflowId}/${workflowInfo().runId}`,
    waitBudgets: options.waitBudgets,
    journal,
    activities: activityProxies(options.heartbeatTimeout),
    saga: new Saga(),
    options,
    state,
    approval,
    supersede,
    freeze,
  };

  try {
    const imageTag = await resolveImage(promotion);
    if (state.alreadyThere) return finish(promotion, 'unchanged');
    await supersede.beforeMergeRun(async () => {
      await openMergeRequest(promotion, imageTag);
      if (options.merge && options.approval.required) await awaitApproval(promotion, imageTag);
      if (options.merge) await freeze.pass(promotion, imageTag);
    });
    // A supersede accepted during a shielded call leaves the scope above without an error: stop before the merge.
    supersede.stopIfSuperseded();
    if (!options.merge) return finish(promotion, 'merge-request-opened');
    await mergeAndVerify(promotion, imageTag);
    await journal.notify('promoted', `${options.appName} ${imageTag} is live in ${options.targetEnv}`, {
      env: options.targetEnv,
      imageTag,
      ...(state.mergeRequest ? { links: [state.mergeRequest.webUrl] } : {}),
    });
    return finish(promotion, 'succeeded');
  } catch (err) {
    state.phase = 'compensating';
    if (supersede.caused(err)) return await endSuperseded(promotion);
    return await endFailed(promotion, err);
  }
}

/** What a run learns as it goes; `phase` and `imageTag` back `currentImageQuery`. */
interface PromotionState {
  phase: PromotionPhase;
  imageTag?: string;
  /** The target's image before the promotion: where a rollback goes back to. */
  previousImageTag?: string;
  /** The target already runs the image, synced and healthy. */
  alreadyThere: boolean;
  /** Why the target was not settled, when `allowUnsettledTarget` let the run go on all the same. */
  unsettledTarget?: string;
  mergeRequest?: MergeRequestRef;
  build?: { buildNumber: number; url: string };
  mergeCommitSha?: string;
  merged: boolean;
}

interface Promotion extends RunContext {
  readonly options: PromoteEnvironmentOptions;
  readonly state: PromotionState;
  readonly approval: ApprovalGate;
  readonly supersede: Supersede;
  readonly freeze: FreezeGate;
}

/**
 * Steps 2 and 3: the image running synced and healthy in the source, and what the target runs. Runs started after
 * the `promotion-reads-declared-target` patch also read what the target's branch declares (read-target-declared):
 * that is the image a rollback returns to, and a target that does not run it synced and healthy is refused
 * (TargetNotSettledError) unless `allowUnsettledTarget` lets the run go on, which its report then records.
 */
async function resolveImage({ options, state, journal, activities }: Promotion): Promise<string> {
  const { appName, sourceEnv, targetEnv } = options;
  state.phase = 'resolving';
  journal.show('running', { env: targetEnv, ...(options.imageTag ? { imageTag: options.imageTag } : {}) });
  showDetails(`**resolving**: the image ${appName} runs synced and healthy in ${sourceEnv}`);
  const source = await journal.step('read-source', { env: sourceEnv }, () =>
    summarized(`read what ${appName} runs in ${sourceEnv}`, activities.quick.readEnvironmentState, {
      appName,
      env: sourceEnv,
    }),
  );
  const imageTag = promotableImage(options, source);
  state.imageTag = imageTag;
  const target = await journal.step('read-target', { env: targetEnv, imageTag }, () =>
    summarized(`read what ${appName} runs in ${targetEnv}`, activities.quick.readEnvironmentState, {
      appName,
      env: targetEnv,
    }),
  );
  if (patched(DECLARED_TARGET)) {
    // The check runs inside the step, so that a refusal is reported as read-target-declared failing.
    await journal.step('read-target-declared', { env: targetEnv, imageTag }, async () => {
      const declared = await summarized(`read the image ${targetEnv} declares`, activities.quick.readDeclaredImage, {
        appName,
        env: targetEnv,
      });
      state.previousImageTag = declared.imageTag;
      const notSettled = targetUnsettledReason(target, declared);
      state.alreadyThere = notSettled === undefined && declared.imageTag === imageTag;
      if (notSettled === undefined) return declared;
      // A branch that already declares the image leaves nothing to merge, flag or not.
      if (!options.allowUnsettledTarget || declared.imageTag === imageTag)
        throw targetNotSettled(options, imageTag, target, declared.imageTag, notSettled);
      state.unsettledTarget = notSettled;
      showDetails(`**going on with an unsettled ${targetEnv}** (allowUnsettledTarget): ${notSettled}`);
      return declared;
    });
  } else {
    state.previousImageTag = target.imageTag;
    state.alreadyThere = target.imageTag === imageTag && isSyncedAndHealthyAt(target);
  }
  journal.show('running', { env: targetEnv, imageTag });
  return imageTag;
}

/**
 * Runs started before this change return to the image the target ran before the promotion; runs started after it
 * read what the target's branch declares as well (one more activity) and refuse an unsettled target.
 */
const DECLARED_TARGET = 'promotion-reads-declared-target';

/** The refusal of a target that does not run what its branch declares, synced and healthy: what is wrong, what to do. */
function targetNotSettled(
  options: PromoteEnvironmentOptions,
  imageTag: string,
  target: EnvironmentState,
  declaredImageTag: string | undefined,
  reason: string,
): TargetNotSettledError {
  const { targetEnv } = options;
  const nothingToMerge = declaredImageTag === imageTag;
  const what = nothingToMerge
    ? `its branch already declares ${declaredImageTag}, so there is nothing to merge, but ${reason}`
    : `${reason}, so a rollback would have no known-good state to return to`;
  const todo = nothingToMerge
    ? `wait until Argo CD shows ${targetEnv} Synced and Healthy on it, or find out why it does not`
    : `wait until Argo CD shows ${targetEnv} Synced and Healthy on what its branch declares (or fix ${targetEnv}), then promote again; to go on anyway start the promotion with allowUnsettledTarget (CLI: --allow-unsettled-target)`;
  return new TargetNotSettledError(
    {
      env: targetEnv,
      reason,
      sync: target.sync.status,
      health: target.health.status,
      ...(target.imageTag ? { runningImageTag: target.imageTag } : {}),
      ...(declaredImageTag ? { declaredImageTag } : {}),
    },
    `refusing to promote to ${targetEnv}: ${what}. What to do: ${todo}`,
  );
}

/** The image the source runs synced and healthy, which must be the requested one if any; else SourceNotHealthyError. */
function promotableImage(options: PromoteEnvironmentOptions, source: EnvironmentState): string {
  const notSettled = unsettledReason(source);
  const running = source.imageTag;
  if (notSettled === undefined && running !== undefined && (options.imageTag ?? running) === running) return running;
  const why =
    notSettled ?? (running === undefined ? 'nothing deployed' : `it runs ${running}, not ${options.imageTag}`);
  throw new SourceNotHealthyError(
    {
      env: options.sourceEnv,
      sync: source.sync.status,
      health: source.health.status,
      ...(running ? { runningImageTag: running } : {}),
      ...(options.imageTag ? { requestedImageTag: options.imageTag } : {}),
    },
    `refusing to promote from ${options.sourceEnv}: ${why} (only what runs synced and healthy there is promoted)`,
  );
}

/**
 * Step 4, by mode; pushes its undo: close the MR (unless merged) and delete its branch. In mode `jenkins` (runs
 * since JENKINS_UNDO_AT_TRIGGER) the undo is pushed as soon as the job is queued, before the MR exists.
 */
async function openMergeRequest(promotion: Promotion, imageTag: string): Promise<void> {
  const { options, state, activities, saga, supersede, runMarker } = promotion;
  // Superseded while resolving: the scope was cancelled before it ran, and opening the MR is shielded.
  supersede.stopIfSuperseded();
  state.phase = 'opening';
  showDetails(`**opening** the merge request of ${imageTag} into ${options.targetEnv} (mode ${options.mode})`);
  const reason = (): string =>
    supersede.byImageTag !== undefined ? `superseded by ${supersede.byImageTag}` : 'the promotion did not complete';
  if (options.mode === 'jenkins' && patched(JENKINS_UNDO_AT_TRIGGER)) {
    state.mergeRequest = await openWithJenkinsJob(promotion, imageTag, reason);
    return;
  }
  const mergeRequest =
    options.mode === 'gitlab' ? await openWithGitLab(promotion, imageTag) : await openWithJenkins(promotion, imageTag);
  state.mergeRequest = mergeRequest;
  saga.push(...abandonMergeRequest(activities, mergeRequest, runMarker, reason, () => state.merged));
  // Superseded while the shielded open ran: the MR's undo is on the stack, so stop here and close it.
  supersede.stopIfSuperseded();
}

/**
 * Runs started before this change trigger the promote job and wait for its build in one shielded call, and push
 * the MR's undo only once await-merge-request found it (a cancel before then left the job's MR open), finding it
 * by creation time (an MR left open for the image was never adopted). Runs started after it queue the job (the only
 * shielded call), push "cancel the job, close its MR, delete its branch" at once, wait for the queue item in a
 * cancellable step, and find the MR by its branch and head.
 */
const JENKINS_UNDO_AT_TRIGGER = 'jenkins-promotion-undo-at-trigger';

/**
 * Mode `jenkins`: trigger-promote-job (queues the job; shielded) pushing its undo, await-promote-queue,
 * await-promote-build, await-merge-request (the MR the job opened or adopted).
 */
async function openWithJenkinsJob(
  promotion: Promotion,
  imageTag: string,
  reason: () => string,
): Promise<MergeRequestRef> {
  const { options, state, journal, activities, saga, runMarker } = promotion;
  const { appName, sourceEnv, targetEnv, waitBudgets } = options;
  const notBefore = new Date().toISOString();
  const place = { env: targetEnv, imageTag };
  const queued = await journal.step('trigger-promote-job', place, () =>
    shielded(() =>
      summarized(`queue the promote job: ${imageTag} ${sourceEnv} → ${targetEnv}`, activities.quick.queuePromoteJob, {
        appName,
        sourceEnv,
        targetEnv,
        imageTag,
        notBefore,
        runMarker,
      }),
    ),
  );
  const { queueItemId } = queued;
  const cancelJob = cancelPromoteJob(activities, {
    appName,
    env: targetEnv,
    queueItemId,
    buildNumber: () => state.build?.buildNumber,
  });
  saga.push(abandonDeployBranch(activities, { appName, env: targetEnv, imageTag, runMarker, reason }), cancelJob);
  const build =
    queued.build ??
    (
      await journal.step(
        'await-promote-queue',
        waitOptions(
          place,
          waitBudgets.ciBuildStart,
          { kind: 'build', ref: `promote to leave the queue (item ${queueItemId})` },
          (started: { build: { url: string } }) => ({ build: started.build.url }),
        ),
        (deadline: string) =>
          summarized(`wait for an executor for the promote job`, activities.waits.awaitJenkinsQueueItem, {
            appName,
            job: 'promote',
            queueItemId,
            deadline,
          }),
      )
    ).build;
  state.build = { buildNumber: build.buildNumber, url: build.url };
  await awaitPromoteBuild(promotion, imageTag, build);
  // The job ended (SUCCESS): nothing of it is left to stop; its branch and MR stay in the undo.
  saga.drop(cancelJob);
  return await awaitPromoteMergeRequest(promotion, imageTag);
}

/** Mode `gitlab`: open-merge-request, shielded so that an MR that was opened is known and closed. */
async function openWithGitLab({ options, journal, activities, runMarker }: Promotion, imageTag: string) {
  const { appName, sourceEnv, targetEnv } = options;
  const opened = await journal.step(
    'open-merge-request',
    { env: targetEnv, imageTag, links: (result) => ({ mergeRequest: result.mergeRequest.webUrl }) },
    () =>
      shielded(() =>
        summarized(
          `open the merge request of ${imageTag} into ${targetEnv}`,
          activities.quick.openPromotionMergeRequest,
          {
            appName,
            sourceEnv,
            targetEnv,
            imageTag,
            runMarker,
          },
        ),
      ),
  );
  return opened.mergeRequest;
}

/**
 * Mode `jenkins` of runs started before JENKINS_UNDO_AT_TRIGGER: trigger-promote-job (shielded, waits for the
 * queue too), await-promote-build, await-merge-request (the MR the job opened, created since the trigger).
 */
async function openWithJenkins(promotion: Promotion, imageTag: string) {
  const { options, state, journal, activities, runMarker } = promotion;
  const { appName, sourceEnv, targetEnv } = options;
  const notBefore = new Date().toISOString();
  const triggered = await journal.step(
    'trigger-promote-job',
    { env: targetEnv, imageTag, links: (result) => ({ build: result.build.url }) },
    () =>
      shielded(() =>
        summarized(`run the promote job: ${imageTag} ${sourceEnv} → ${targetEnv}`, activities.waits.triggerPromoteJob, {
          appName,
          sourceEnv,
          targetEnv,
          imageTag,
          notBefore,
          runMarker,
        }),
      ),
  );
  state.build = { buildNumber: triggered.build.buildNumber, url: triggered.build.url };
  await awaitPromoteBuild(promotion, imageTag, triggered.build);
  return await awaitPromoteMergeRequest(promotion, imageTag, notBefore);
}

/** await-promote-build: the promote job's build, to its end (UNSTABLE as the run's `unstableBuilds` says). */
async function awaitPromoteBuild(
  { options, journal, activities }: Promotion,
  imageTag: string,
  { buildNumber, url }: { buildNumber: number; url: string },
): Promise<void> {
  const { appName, targetEnv, waitBudgets } = options;
  await journal.step(
    'await-promote-build',
    waitOptions(
      { env: targetEnv, imageTag },
      waitBudgets.build,
      { kind: 'build', ref: `promote #${buildNumber}` },
      () => ({
        build: url,
      }),
    ),
    (deadline: string) =>
      summarized(`wait for promote #${buildNumber}`, activities.waits.awaitJenkinsBuild, {
        appName,
        job: 'promote',
        buildNumber,
        deadline,
        unstableBuilds: options.unstableBuilds,
      }),
  );
}

/**
 * await-merge-request: the MR of `promote-{env}-{tag}` the job opened (or one left open for the image); runs started
 * before JENKINS_UNDO_AT_TRIGGER pass `createdAfter`, counting only MRs created since their trigger.
 */
async function awaitPromoteMergeRequest(
  { options, journal, activities }: Promotion,
  imageTag: string,
  createdAfter?: string,
): Promise<MergeRequestRef> {
  const { appName, targetEnv, waitBudgets } = options;
  return await journal.step(
    'await-merge-request',
    waitOptions(
      { env: targetEnv, imageTag },
      waitBudgets.mergeRequest,
      { kind: 'merge-request', ref: `promote-${targetEnv}-${imageTag}` },
      (opened: MergeRequestRef) => ({ mergeRequest: opened.webUrl }),
    ),
    (deadline: string) =>
      summarized(`wait for the merge request of ${imageTag} into ${targetEnv}`, activities.waits.awaitMergeRequest, {
        appName,
        targetEnv,
        imageTag,
        ...(createdAfter !== undefined ? { createdAfter } : {}),
        deadline,
      }),
  );
}

/**
 * Step 5: tell people, wait for `approve`/`reject` within the timeout (a timeout is a rejection), tell people. With
 * approvals from GitLab (runs since APPROVAL_FROM_GITLAB), the wait is for the MR's approval in GitLab.
 */
async function awaitApproval(
  { options, state, journal, approval, activities }: Promotion,
  imageTag: string,
): Promise<void> {
  const { appName, targetEnv, approval: policy } = options;
  const mergeRequest = state.mergeRequest;
  const iid = mergeRequest?.iid;
  const fromGitLab = policy.source === 'gitlab' && mergeRequest !== undefined && patched(APPROVAL_FROM_GITLAB);
  state.phase = 'awaiting-approval';
  const approvers = fromGitLab
    ? 'an eligible GitLab user'
    : policy.approvers.length > 0
      ? policy.approvers.join(', ')
      : 'anyone';
  const gate = `approval of ${imageTag} into ${targetEnv} by ${approvers}`;
  // The memo's summary is what `shepherd status` lists for a run at its gate (no query, so no worker needed).
  journal.show('waiting-approval', { env: targetEnv, imageTag, summary: `waiting for ${gate} (!${iid})` });
  await journal.notify(
    'approval-requested',
    `${appName} ${imageTag} → ${targetEnv} waits for approval (!${iid}${fromGitLab ? ', approve it in GitLab' : ''})`,
    {
      env: targetEnv,
      imageTag,
      ...(mergeRequest ? { links: [mergeRequest.webUrl] } : {}),
    },
  );
  const workflowId = workflowInfo().workflowId;
  showDetails(
    `**waiting for ${gate}**, at most ${policy.timeout}`,
    mergeRequest ? `merge request: ${mergeRequest.webUrl}` : undefined,
    fromGitLab
      ? `approve it in GitLab, or \`npx shepherd approve ${workflowId}\` with your own GitLab token`
      : `\`npx shepherd approve ${workflowId} --by NAME\``,
  );
  const tell: GateNotices = {
    timedOut: () =>
      journal.notify(
        'approval-timed-out',
        `${appName} ${imageTag} → ${targetEnv} was not approved within ${policy.timeout}`,
        { env: targetEnv, imageTag },
      ),
    rejected: (by, reason) =>
      journal.notify(
        'rejected',
        `${appName} ${imageTag} → ${targetEnv} was rejected by ${by}${reason ? `: ${reason}` : ''}; its merge request is closed`,
        { env: targetEnv, imageTag, ...(mergeRequest ? { links: [mergeRequest.webUrl] } : {}) },
      ),
  };
  const decided = await journal.step(
    'approval',
    waitOptions({ env: targetEnv, imageTag }, (parseDuration(policy.timeout) ?? 0) / 1000, {
      kind: 'approval',
      ref: approvers,
    }),
    (deadline: string) =>
      fromGitLab
        ? approval.gitlabDecision(async () => {
            const approved = await summarized(
              `wait for the GitLab approval of !${mergeRequest.iid}`,
              activities.waits.awaitMergeRequestApproval,
              { appName, targetEnv, iid: mergeRequest.iid, headSha: mergeRequest.headSha, deadline },
            );
            return gitLabApproval(approved.approvedBy, mergeRequest);
          }, tell)
        : approval.decision(tell, `wait for ${gate}`),
  );
  await journal.notify(
    'approved',
    `${appName} ${imageTag} → ${targetEnv} approved ${fromGitLab ? 'in GitLab ' : ''}by ${decided.by}`,
    { env: targetEnv, imageTag },
  );
}

/**
 * Runs started with this patch and `approvalSource: gitlab` wait for the MR's approval in GitLab (the
 * await-merge-request-approval activity) instead of the `approve` update; older runs never had that source.
 */
const APPROVAL_FROM_GITLAB = 'approval-from-gitlab';

/** The approval GitLab vouches for: `by` its usernames, the reason naming people, MR and head. */
function gitLabApproval(
  approvedBy: readonly { username: string; name: string }[],
  mergeRequest: MergeRequestRef,
): { by: string; reason: string } {
  const people = approvedBy.map((u) =>
    u.name && u.name !== u.username ? `${u.name} (@${u.username})` : `@${u.username}`,
  );
  return {
    by: approvedBy.map((u) => u.username).join(', ') || 'GitLab',
    reason: `approved in GitLab by ${people.join(', ') || 'its approval rules'} on !${mergeRequest.iid} at ${shortSha(mergeRequest.headSha)}`,
  };
}

/** What `pendingApprovalQuery` answers: the gate the run is at, if any. */
function pendingApproval(options: PromoteEnvironmentOptions, state: PromotionState): PendingApproval | null {
  if (state.phase !== 'awaiting-approval') return null;
  const mr = state.mergeRequest;
  return {
    env: options.targetEnv,
    source: options.approval.source,
    ...(mr ? { mergeRequest: { iid: mr.iid, webUrl: mr.webUrl, headSha: mr.headSha } } : {}),
  };
}

/** Steps 6 to 8: merge (pushing the revert as its undo), then, unless `verify: false`, wait for the rollout. */
async function mergeAndVerify(promotion: Promotion, imageTag: string): Promise<void> {
  const { options, state, journal } = promotion;
  const target = { env: options.targetEnv, imageTag };
  state.phase = 'merging';
  journal.show('merging', target);
  showDetails(
    `**merging** !${state.mergeRequest!.iid}: ${imageTag} into ${options.targetEnv}`,
    state.mergeRequest!.webUrl,
  );
  const merge = await mergeMergeRequest(promotion, target, state.mergeRequest!, state.previousImageTag);
  state.merged = true;
  state.mergeCommitSha = merge.mergeCommitSha;
  if (!options.verify) return;
  state.phase = 'syncing';
  showDetails(`**rolling out** ${imageTag} in ${options.targetEnv}: Argo CD sync, then every pod`);
  await awaitArgoSyncedAndHealthy(promotion, target, merge.mergeCommitSha);
  state.phase = 'verifying';
  await verifyWorkload(promotion, target);
}

/** Ends the run with `status`: search attributes and memo, and the result. */
function finish(
  { options, state, journal, approval, supersede, freeze }: Promotion,
  status: PromotionStatus,
): PromotionResult {
  const { appName, sourceEnv, targetEnv } = options;
  const { imageTag, mergeRequest, mergeCommitSha, build } = state;
  state.phase = 'finished';
  journal.show(status, {
    env: targetEnv,
    ...(imageTag ? { imageTag } : {}),
    summary: `${status}: ${appName} ${imageTag ?? '?'} ${sourceEnv}→${targetEnv}`,
  });
  showDetails(`**${status}**: ${appName} ${imageTag ?? '?'} ${sourceEnv} → ${targetEnv}`);
  const approved = approval.approval;
  return {
    status,
    appName,
    sourceEnv,
    targetEnv,
    imageTag: imageTag ?? '',
    previousImageTag: state.previousImageTag,
    ...(mergeRequest
      ? {
          mergeRequest: { iid: mergeRequest.iid, webUrl: mergeRequest.webUrl, sourceBranch: mergeRequest.sourceBranch },
        }
      : {}),
    ...(mergeCommitSha ? { mergeCommitSha } : {}),
    ...(build ? { build } : {}),
    ...(approved ? { approval: approved } : {}),
    ...(supersede.byImageTag !== undefined ? { supersededBy: supersede.byImageTag } : {}),
    ...(state.unsettledTarget !== undefined ? { unsettledTarget: state.unsettledTarget } : {}),
    ...(freeze.record ? { freeze: freeze.record } : {}),
    steps: journal.progress().steps,
    rollback: [...journal.rollback],
  };
}

/** A newer image replaced this run before its merge: undo, tell people, complete as `superseded`. */
async function endSuperseded(promotion: Promotion): Promise<PromotionResult> {
  const { options, state, journal, saga, supersede } = promotion;
  await saga.unwind(journal.rollback);
  await shielded(() =>
    journal.notify(
      'superseded',
      `${options.appName} ${state.imageTag} → ${options.targetEnv} was superseded by ${supersede.byImageTag}`,
      { env: options.targetEnv },
    ),
  );
  return finish(promotion, 'superseded');
}

/**
 * A step failed, the approval was refused or the run was cancelled: undo newest first, show and tell the outcome,
 * then end with the original failure (PromotionFailureDetails as its first detail), or cancelled.
 */
async function endFailed({ options, state, journal, saga, freeze }: Promotion, err: unknown): Promise<never> {
  const { appName, targetEnv } = options;
  const { imageTag } = state;
  const failure = summarizeFailure(err);
  const undone = saga.size > 0;
  const revertsCount = patched(REVERTS_COUNT);
  showDetails(`**${failure.type}**: ${failure.message}`, undone ? 'undoing the promotion, newest first' : undefined);
  await saga.unwind(journal.rollback);
  const rollbackFailed = journal.rollback.some((record) => record.status === 'failed');
  const rolledBack = revertsCount
    ? journal.rollback.some((record) => record.action === 'revert-merge-request' && record.status === 'succeeded')
    : undone;
  const status = isCancellation(err) ? 'cancelled' : rollbackFailed || !rolledBack ? 'failed' : 'rolled_back';
  state.phase = 'finished';
  showDetails(`**${status}**: ${failure.message}${rollbackNote(journal)}`);
  await shielded(async () => {
    journal.show(status, {
      env: targetEnv,
      ...(imageTag ? { imageTag } : {}),
      summary: `${status}: ${failure.message}`,
    });
    await journal.notify(
      rollbackFailed ? 'rollback-failed' : undone ? 'rolled-back' : 'promotion-failed',
      `${appName} ${imageTag ?? ''} → ${targetEnv}: ${failure.message}${rollbackNote(journal)}`,
      { env: targetEnv },
    );
  });
  if (isCancellation(err)) throw err;
  const details: PromotionFailureDetails = {
    failure,
    imageTag,
    previousImageTag: state.previousImageTag,
    ...(state.unsettledTarget !== undefined ? { unsettledTarget: state.unsettledTarget } : {}),
    ...(freeze.record ? { freeze: freeze.record } : {}),
    steps: journal.progress().steps,
    rollback: [...journal.rollback],
  };
  throw endWith(failure, rollbackNote(journal), details);
}

/**
 * Runs started before this change report `rolled_back` whenever an undo ran; runs started after it only when a
 * merge was reverted. A rejection (or any failure) before the merge closes the MR and deletes its branch — the
 * target never changed — and is reported `failed`, its failure type (e.g. ApprovalRejectedError) saying why.
 */
const REVERTS_COUNT = 'promotion-rolled-back-means-reverted';

/** What the failure message adds about the rollback. */
function rollbackNote(journal: Journal): string {
  if (journal.rollback.length === 0) return '';
  const failed = journal.rollback.filter((record) => record.status === 'failed');
  if (failed.length > 0)
    return ` (rollback incomplete: ${failed.map((record) => `${record.action} ${record.target}: ${record.detail ?? ''}`).join('; ')})`;
  const revert = journal.rollback.find((record) => record.action === 'revert-merge-request');
  return revert
    ? ` (rolled back ${revert.env}: ${revert.fromImageTag} → ${revert.toImageTag ?? 'previous'})`
    : " (closed the run's merge requests and branches)";
}
