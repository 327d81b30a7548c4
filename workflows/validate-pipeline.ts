/**
 * validatePipeline — the nightly end-to-end validation: proves the whole pipeline works and says exactly where it
 * broke. Workflow id: `validate-<app>`.
 *
 * First, hold-validation-lock: the child holdValidationLock (`lock-validate-<app>@<task queue>`), held until the run has unwound
 * and released at its very end. One validation per app runs at a time, however it was started (CLI `validate-<app>`,
 * schedule `validate-<app>-<time>`): a second one ends at once with ValidationAlreadyRunningError, having changed
 * nothing.
 *
 * Iteration 1 (in this workflow), and the undo each step pushes once it succeeded:
 *   read-dev, read-dev-declared: what dev runs and what its branch declares (the image to return to); a dev
 *                                   that does not run it synced and healthy is refused (TargetNotSettledError)
 *                                   unless `allowUnsettledTarget` — no undo
 *   bump-version                    — no undo (a version number is never reused)
 *   find-ci-build, await-ci-build   — no undo
 *   await-merge-request (the dev MR CI opened, by branch and head)
 *                                   — undo (pushed once CI's build ended): close the dev MR CI opened
 *                                     (`update-dev-{version}-…`), delete its branch
 *   merge-merge-request (read-merge-request when it fails: a merge GitLab made all the same is reverted too)
 *                                   — undo: revert the MR, await dev synced and healthy on the image the revert declares
 *   await-argo-synced-and-healthy, verify-workload — no undo; dev is then verified
 * Iteration 2 (dev→stage) and 3 (stage→prod): child workflows `promoteEnvironment` (id `promote-<app>-<env>`),
 *   each undoing its own hop when it fails; a verified hop pushes "revert it" only when `rollback: 'all'`.
 *   Parent close policy REQUEST_CANCEL: a terminated or reset validation asks its running hop to unwind. A hop
 *   whose promotion is already running (started outside this run) settles it as `shepherd promote` would
 *   (settle-promotion-conflict: join the same image, supersede an older one before its merge, wait for one that
 *   is rolling out); still running after that, the run ends with PromotionAlreadyRunningError and unwinds.
 * `through` stops after dev or stage.
 *
 * Rollback scope: by default the environment whose hop failed plus the run's open MRs and branches; environments
 * the run already verified keep the new image. With `rollback: 'all'` every environment the run changed is
 * reverted, newest first.
 *
 * How a run ends, and where its report (ValidationReport) is:
 *   succeeded    completes; the report is the result.
 *   rolled_back  a step failed, a merge was reverted and every undo succeeded: the run FAILS (non-retryable,
 *                the original failure's type, a message saying where it broke) with the report as the
 *                failure's first detail, so that Temporal shows it Failed.
 *   failed       a step failed and no merge needed reverting (MRs closed at most) or an undo failed (reported
 *                with its reason): fails the same way.
 *   cancelled    unwinds the same way, then ends cancelled; its steps are in `progressQuery`, its summary in the memo.
 * Runs started before the `validation-ends-failed` patch complete with the `failed`/`rolled_back` report as their
 * result instead; src/temporal/run-outcome.ts reads both.
 * The UI shows each activity with a summary ("merge !3 into prod"), and the run's current details say where it is.
 */
import {
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import {
  ChildWorkflowFailure,
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
} from '@temporalio/common';
import type { BuildRef, MergeRequestRef } from '../src/domain/activities.js';
import { ENVIRONMENTS, type Environment } from '../src/domain/environments.js';
import {
  PromotionAlreadyRunningError,
  SupersededError,
  TargetNotSettledError,
  ValidationAlreadyRunningError,
} from '../src/domain/errors.js';
import { targetUnsettledReason } from '../src/domain/environment-state.js';
import { summarizeFailure } from '../src/temporal/common/failures.js';
import {
  validatePipelineOptions,
  type PromoteEnvironmentInput,
  type ValidatePipelineInput,
  type ValidatePipelineOptions,
} from '../src/domain/inputs.js';
import { parseDuration } from '../src/domain/duration.js';
import { promotionWorkflowId, validationLockWorkflowId } from '../src/domain/promotion-policy.js';
import type {
  IterationReport,
  PromotionFailureDetails,
  PromotionResult,
  StepRecord,
  ValidationReport,
  ValidationStatus,
} from '../src/domain/report.js';
import { holdValidationLock } from './hold-validation-lock.js';
import { progressQuery, releaseValidationLockSignal, wakeSignal } from './messages.js';
import { promoteEnvironment } from './promote-environment.js';
import { activityProxies } from './support/activities.js';
import { validated } from './support/failures.js';
import { appNameOf, Journal, waitOptions } from './support/journal.js';
import { shortSha, showDetails, summarized } from './support/metadata.js';
import { Saga } from './support/saga.js';
import { shielded } from './support/shield.js';
import { awaitArgoSyncedAndHealthy, mergeMergeRequest, verifyWorkload, type RunContext } from './support/steps.js';
import { abandonDeployBranch, abandonMergeRequest, revertMerge } from './support/undos.js';

export type { ValidatePipelineInput } from '../src/domain/inputs.js';

export async function validatePipeline(input: ValidatePipelineInput): Promise<ValidationReport> {
  const journal = new Journal(appNameOf(input));
  setHandler(progressQuery, () => journal.progress());
  setHandler(wakeSignal, () => undefined);
  const options = validated(() => validatePipelineOptions(input));
  const { workflowId, runId } = workflowInfo();
  const validation: Validation = {
    appName: options.appName,
    runMarker: `${workflowId}/${runId}`,
    waitBudgets: options.waitBudgets,
    journal,
    activities: activityProxies(options.heartbeatTimeout),
    saga: new Saga(),
    options,
    startedMs: Date.now(),
    iterations: [],
  };

  let lock: ChildWorkflowHandle<typeof holdValidationLock> | undefined;
  try {
    lock = await holdAppLock(validation);
    const imageTag = await deliverToDev(validation);
    for (const hop of hopsThrough(options.environments, options.through)) await promoteHop(validation, hop, imageTag);
    const report = reportAs(validation, 'succeeded');
    await journal.notify('validation-finished', summaryLine(report), { imageTag });
    return report;
  } catch (err) {
    const endsFailed = patched(ENDS_FAILED);
    const report = await unwindAndReport(validation, err, endsFailed);
    if (endsFailed) throw endWith(report);
    return report;
  } finally {
    // Only now, after every undo ran, may the next validation of the app start.
    if (lock) await releaseAppLock(lock);
  }
}

/**
 * Runs started with this patch hold the app's validation lock (holdValidationLock, `lock-validate-<app>@<task queue>`) from
 * their first step to their end, and start their promotion children with parent close policy REQUEST_CANCEL.
 * Older runs did neither (their children were terminated with them).
 */
const ONE_VALIDATION_PER_APP = 'validation-holds-app-lock';

/**
 * hold-validation-lock: starts the app's lock as a child, before anything changes. Another validation of the app
 * holding it (whatever started it and under whichever id) ends this one with ValidationAlreadyRunningError.
 * Shielded: a lock that started is known, so it is released.
 */
async function holdAppLock(
  validation: Validation,
): Promise<ChildWorkflowHandle<typeof holdValidationLock> | undefined> {
  if (!patched(ONE_VALIDATION_PER_APP)) return undefined;
  const { appName, journal } = validation;
  const lockWorkflowId = validationLockWorkflowId(appName, workflowInfo().taskQueue);
  return await journal.step(
    'hold-validation-lock',
    { waitingOn: { kind: 'child-workflow', ref: lockWorkflowId } },
    () =>
      shielded(async () => {
        try {
          return await startChild(holdValidationLock, {
            workflowId: lockWorkflowId,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
            // A validation that is terminated frees its app.
            parentClosePolicy: ParentClosePolicy.TERMINATE,
            staticSummary: `one validation of ${appName} at a time: held by ${workflowInfo().workflowId}`,
          });
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError)
            throw new ValidationAlreadyRunningError({ appName, lockWorkflowId });
          throw err;
        }
      }),
  );
}

/** Releases the app's lock and waits until it is gone, so that a validation started right after this one ends finds the app free. */
async function releaseAppLock(lock: ChildWorkflowHandle<typeof holdValidationLock>): Promise<void> {
  await shielded(async () => {
    try {
      await lock.signal(releaseValidationLockSignal);
      await lock.result();
    } catch {
      // Someone ended the lock by hand: it is free either way.
    }
  });
}

/**
 * Runs started before this change complete with a `failed`/`rolled_back` report as their result; runs started
 * after it fail with the report as the failure's first detail, so that Temporal (Web UI, `temporal workflow
 * list`, a Schedule's recent actions) shows them Failed. The same patch counts an environment as rolled back only
 * when a merge was reverted: closing an MR that never merged is cleaning up, not a rollback.
 */
const ENDS_FAILED = 'validation-ends-failed';

/**
 * The failure a validation that did not succeed ends with: the original failure's type, a message saying where it
 * broke and what was rolled back, and the report (ValidationReport) as its first detail.
 */
function endWith(report: ValidationReport): ApplicationFailure {
  return ApplicationFailure.create({
    type: report.failure?.type ?? 'ValidationFailed',
    message: `validation ${summaryLine(report)}`,
    nonRetryable: true,
    details: [report],
  });
}

/** Whether a run's environments are the seed's (whose children's input names none, as before pipelines). */
function isSeedOrder(order: readonly Environment[]): boolean {
  return order.length === ENVIRONMENTS.length && order.every((e, i) => e === ENVIRONMENTS[i]);
}

/** A promotion of the run: iteration 2 promotes the first environment to the second, and so on. */
interface Hop {
  readonly iteration: number;
  readonly source: Environment;
  readonly target: Environment;
}

/** The hops of the pipeline's environments (`order`) up to `through`, in order. */
function hopsThrough(order: readonly Environment[], through: Environment): Hop[] {
  const last = order.indexOf(through);
  return order.slice(1, last + 1).map((target, i) => ({ iteration: i + 2, source: order[i]!, target }));
}

type MutableIteration = { -readonly [K in keyof IterationReport]: IterationReport[K] };

/** What a run learns as it goes, and the iterations it reports. */
interface Validation extends RunContext {
  readonly options: ValidatePipelineOptions;
  readonly startedMs: number;
  readonly iterations: MutableIteration[];
  version?: string;
  imageTag?: string;
}

/**
 * Iteration 1: bump the version, wait for CI and for the dev MR it opens, merge it, wait until dev runs the image.
 * Resolves to the image dev then runs.
 */
async function deliverToDev(validation: Validation): Promise<string> {
  const { options, journal, activities, saga, appName, runMarker } = validation;
  const { quick } = activities;
  const env = options.environments[0]!;
  const iteration: MutableIteration = { iteration: 1, env, status: 'failed', steps: [] };
  validation.iterations.push(iteration);
  const firstStep = journal.steps.length;
  journal.show('running', { env });
  try {
    const declares = patched(DEV_DECLARED);
    if (declares) await readSettledDev(validation, iteration);
    const bumpedAt = new Date().toISOString();
    showDetails(`**iteration 1**: bump the version of ${appName}, wait for CI and the ${env} merge request`);
    // Runs started after this change bump as a wait: a protected branch makes the bump an MR that merges itself
    // when its pipeline succeeds, which takes longer than a quick call's minute.
    const bump = patched(BUMP_MAY_WAIT_FOR_MERGE)
      ? await journal.step(
          'bump-version',
          waitOptions({ env }, validation.waitBudgets.mergeability, {
            kind: 'merge-request',
            ref: `version bump of ${appName}`,
          }),
          (deadline: string) =>
            summarized(`bump the version of ${appName}`, activities.waits.bumpAppVersion, {
              appName,
              runMarker,
              deadline,
            }),
        )
      : await journal.step('bump-version', { env }, () =>
          summarized(`bump the version of ${appName}`, quick.bumpAppVersion, { appName, runMarker }),
        );
    validation.version = bump.version;
    await awaitCiBuild(validation, bump.commitSha);
    const undoAfterCi = patched(DEV_MR_UNDO_AFTER_CI);
    let merged = false;
    if (undoAfterCi)
      saga.push(
        abandonDeployBranch(activities, {
          appName,
          env,
          version: bump.version,
          // An app without a version file bumps no version: its dev branch is known by the commit CI built.
          ...(bump.version === '' ? { commitSha: bump.commitSha } : {}),
          runMarker,
          reason: () => 'the pipeline validation did not complete',
        }),
      );
    if (!declares) {
      const before = await journal.step(`read-${env}`, { env }, () =>
        summarized(`read what ${appName} runs in ${env}`, quick.readEnvironmentState, { appName, env }),
      );
      iteration.previousImageTag = before.imageTag;
    }
    const mergeRequest = await awaitDevMergeRequest(
      validation,
      bump.version,
      undoAfterCi ? undefined : bumpedAt,
      bump.commitSha,
    );
    const target = { env, imageTag: mergeRequest.imageTag };
    validation.imageTag = target.imageTag;
    iteration.imageTag = target.imageTag;
    journal.show('running', target);
    showDetails(
      `**iteration 1**: deliver ${appName} ${target.imageTag} to ${env}`,
      `merge request: ${mergeRequest.webUrl}`,
    );
    if (!undoAfterCi)
      saga.push(
        ...abandonMergeRequest(
          activities,
          mergeRequest,
          runMarker,
          () => 'the pipeline validation did not complete',
          () => merged,
        ),
      );
    const merge = await mergeMergeRequest(validation, target, mergeRequest, iteration.previousImageTag);
    merged = true;
    await awaitArgoSyncedAndHealthy(validation, target, merge.mergeCommitSha);
    await verifyWorkload(validation, target);
    iteration.status = 'succeeded';
    if (options.rollback !== 'all') saga.settle(env);
    return target.imageTag;
  } finally {
    iteration.steps = journal.steps.slice(firstStep);
  }
}

/**
 * Runs started before this change read what dev runs after the CI build and return there on a rollback; runs
 * started after it read, before the bump, what dev runs and what its branch declares (read-dev,
 * read-dev-declared): the declared image is the one a rollback returns to, and a dev that does not run it synced
 * and healthy is refused (TargetNotSettledError) before anything changed, unless `allowUnsettledTarget`.
 */
const DEV_DECLARED = 'validation-reads-declared-dev';

/**
 * Runs started before this change bump with a quick call (a push); runs started after it bump as a wait with the
 * mergeability budget, since a protected branch makes the bump a merge request that merges itself.
 */
const BUMP_MAY_WAIT_FOR_MERGE = 'validation-bump-may-wait-for-merge';

/** read-dev, read-dev-declared: dev must run what its branch declares, synced and healthy (or be let through). */
async function readSettledDev(validation: Validation, iteration: MutableIteration): Promise<void> {
  const { options, journal, activities, appName } = validation;
  const env = options.environments[0]!;
  showDetails(`**iteration 1**: read what ${appName} runs in ${env} and what the ${env} branch declares`);
  const running = await journal.step(`read-${env}`, { env }, () =>
    summarized(`read what ${appName} runs in ${env}`, activities.quick.readEnvironmentState, { appName, env }),
  );
  // The check runs inside the step, so that a refusal is reported as read-<env>-declared failing.
  await journal.step(`read-${env}-declared`, { env }, async () => {
    const declared = await summarized(`read the image ${env} declares`, activities.quick.readDeclaredImage, {
      appName,
      env,
    });
    iteration.previousImageTag = declared.imageTag;
    const reason = targetUnsettledReason(running, declared);
    if (reason === undefined) return declared;
    if (!options.allowUnsettledTarget)
      throw new TargetNotSettledError(
        {
          env,
          reason,
          sync: running.sync.status,
          health: running.health.status,
          ...(running.imageTag ? { runningImageTag: running.imageTag } : {}),
          ...(declared.imageTag ? { declaredImageTag: declared.imageTag } : {}),
        },
        `refusing to validate through ${env}: ${reason}, so a rollback would have no known-good state to return to. What to do: wait until Argo CD shows ${env} Synced and Healthy on what its branch declares (or fix ${env}), then validate again; to go on anyway start the validation with allowUnsettledTarget (CLI: --allow-unsettled-target)`,
      );
    iteration.unsettledTarget = reason;
    showDetails(`**going on with an unsettled ${env}** (allowUnsettledTarget): ${reason}`);
    return declared;
  });
}

/** find-ci-build, await-ci-build: the app's CI build of the bumped commit, to its end. */
async function awaitCiBuild(validation: Validation, commitSha: string): Promise<void> {
  const { journal, activities, appName, waitBudgets } = validation;
  const place = { env: validation.options.environments[0]! };
  const build = await journal.step(
    'find-ci-build',
    waitOptions(
      place,
      waitBudgets.ciBuildStart,
      { kind: 'build', ref: `app CI build of ${commitSha.slice(0, 8)}` },
      (found: BuildRef) => ({ build: found.url }),
    ),
    (deadline: string) =>
      summarized(`find the CI build of ${shortSha(commitSha)}`, activities.waits.findCiBuildForCommit, {
        appName,
        commitSha,
        deadline,
      }),
  );
  const { buildNumber, url } = build;
  await journal.step(
    'await-ci-build',
    waitOptions(place, waitBudgets.build, { kind: 'build', ref: `app CI #${buildNumber}` }, () => ({ build: url })),
    (deadline: string) =>
      summarized(`wait for app CI #${buildNumber}`, activities.waits.awaitJenkinsBuild, {
        appName,
        job: 'app-ci',
        buildNumber,
        deadline,
        unstableBuilds: validation.options.unstableBuilds,
      }),
  );
}

/**
 * Runs started before this change push the dev MR's undo only once await-merge-request found it: a cancel while
 * waiting for it left CI's `update-dev-{tag}` MR open. Runs started after it push "close the MR of
 * `update-dev-{version}-…`, delete the branch" as soon as CI's build ended, and find the MR by its branch and head.
 */
const DEV_MR_UNDO_AFTER_CI = 'validation-dev-mr-undo-after-ci';

/**
 * await-merge-request: the dev MR that CI opened for `version`; created after the bump (`bumpedAt`, older runs) or
 * by its branch and head.
 */
async function awaitDevMergeRequest(
  validation: Validation,
  version: string,
  bumpedAt: string | undefined,
  commitSha: string,
): Promise<MergeRequestRef> {
  const { journal, activities, appName, waitBudgets } = validation;
  const env = validation.options.environments[0]!;
  return await journal.step(
    'await-merge-request',
    waitOptions(
      { env },
      waitBudgets.mergeRequest,
      { kind: 'merge-request', ref: env === 'dev' ? `update-dev-${version}-*` : `the ${env} MR of ${version}` },
      (opened: MergeRequestRef) => ({ mergeRequest: opened.webUrl }),
    ),
    (deadline: string) =>
      summarized(`wait for the ${env} merge request of ${version}`, activities.waits.awaitMergeRequest, {
        appName,
        targetEnv: env,
        version,
        ...(version === '' ? { commitSha } : {}),
        ...(bumpedAt !== undefined ? { createdAfter: bumpedAt } : {}),
        deadline,
      }),
  );
}

/**
 * Iterations 2 and 3: the child workflow promoteEnvironment, which undoes its own hop when it fails. A verified hop
 * pushes "revert it" only when the rollback scope is `all`.
 */
async function promoteHop(validation: Validation, hop: Hop, imageTag: string): Promise<void> {
  const { options, journal, activities, saga, runMarker } = validation;
  const env = hop.target;
  const childId = promotionWorkflowId(options.appName, env);
  const iteration: MutableIteration = {
    iteration: hop.iteration,
    env,
    status: 'failed',
    imageTag,
    workflowId: childId,
    steps: [],
  };
  validation.iterations.push(iteration);
  journal.show('running', { env, imageTag });
  showDetails(
    `**iteration ${hop.iteration}**: promote ${options.appName} ${imageTag} ${hop.source} → ${env} in ${childId}`,
  );
  const args: PromoteEnvironmentInput = {
    appName: options.appName,
    sourceEnv: hop.source,
    targetEnv: env,
    imageTag,
    mode: options.mode,
    approvalEnvironments: [...options.approvalEnvironments],
    approvers: [...options.approvers],
    // Only for a declared pipeline, so that the input of the seed's runs stays as it was.
    ...(isSeedOrder(options.environments) ? {} : { environments: [...options.environments] }),
    ...(options.environmentApprovers[env]
      ? { environmentApprovers: { [env]: [...options.environmentApprovers[env]] } }
      : {}),
    approvalTimeout: options.approvalTimeout,
    // Only when set, so that the input of runs started before part B stays as it was.
    ...(options.approvalSource === 'gitlab' ? { approvalSource: 'gitlab' as const } : {}),
    heartbeatTimeout: options.heartbeatTimeout,
    waitBudgets: options.waitBudgets,
    unstableBuilds: options.unstableBuilds,
    runMarker,
    ...(options.allowUnsettledTarget ? { allowUnsettledTarget: true } : {}),
  };
  // A terminated or reset validation asks its running hop to unwind instead of killing it mid-rollout.
  const requestCancel = patched(ONE_VALIDATION_PER_APP);
  const startHop = (): Promise<PromotionResult> =>
    executeChild(promoteEnvironment, {
      workflowId: childId,
      args: [args],
      staticSummary: `promote ${options.appName} ${imageTag} ${hop.source} → ${env} (iteration ${hop.iteration} of ${workflowInfo().workflowId})`,
      ...(requestCancel ? { parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL } : {}),
    });
  try {
    const result = await journal.step(
      `promote-${env}`,
      { env, imageTag, waitingOn: { kind: 'child-workflow', ref: childId } },
      async () => {
        for (let conflicts = 0; ; conflicts++) {
          try {
            return await startHop();
          } catch (err) {
            if (!requestCancel || !(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            // Someone else's promotion of this target runs: the CLI's policy (join, supersede, wait), or refuse.
            if (!patched(HOP_SETTLES_CONFLICT) || conflicts >= MAX_HOP_CONFLICTS)
              throw new PromotionAlreadyRunningError({ env, workflowId: childId });
            const joined = await settleConflict(validation, env, imageTag, childId);
            if (joined) return joined;
          }
        }
      },
    );
    iteration.steps = [...result.steps];
    iteration.previousImageTag = result.previousImageTag;
    if (result.unsettledTarget !== undefined) iteration.unsettledTarget = result.unsettledTarget;
    if (result.approval !== undefined) iteration.approval = result.approval;
    if (result.freeze !== undefined) iteration.freeze = result.freeze;
    if (result.status === 'superseded') throw new SupersededError({ env, byImageTag: result.supersededBy ?? '?' });
    iteration.status = 'succeeded';
    if (options.rollback === 'all' && result.mergeRequest) {
      const mergeRequest = { ...result.mergeRequest, targetEnv: env, headSha: '', imageTag };
      saga.push(
        ...abandonMergeRequest(
          activities,
          mergeRequest,
          runMarker,
          () => 'rolled back',
          () => true,
        ),
        revertMerge(activities, {
          budgets: options.waitBudgets,
          appName: options.appName,
          env,
          iid: mergeRequest.iid,
          runMarker,
          fromImageTag: imageTag,
          toImageTag: result.previousImageTag,
        }),
      );
    }
  } catch (err) {
    const details = promotionFailureDetails(err);
    if (details) {
      iteration.steps = [...details.steps];
      iteration.previousImageTag = details.previousImageTag;
      if (details.unsettledTarget !== undefined) iteration.unsettledTarget = details.unsettledTarget;
      if (details.freeze !== undefined) iteration.freeze = details.freeze;
      journal.adopt(details.rollback);
    }
    throw err;
  }
}

/**
 * Runs started with this patch settle a hop's conflict with a promotion someone else started as `shepherd promote`
 * does (settlePromotionConflict): join it when it promotes the same image, supersede it when it is before its merge,
 * wait for its end when it is merging or later, then start the hop. Older runs refused at once.
 */
const HOP_SETTLES_CONFLICT = 'validation-hop-settles-conflict';

/** A hop gives up (PromotionAlreadyRunningError) when other promotions keep taking the target this many times. */
const MAX_HOP_CONFLICTS = 3;

/**
 * settle-promotion-conflict: resolves to the joined run's result when the hop joined a run that succeeded (its
 * failure ends the hop with that run's failure type), or undefined when the target is free to start the hop again.
 */
async function settleConflict(
  validation: Validation,
  env: Environment,
  imageTag: string,
  childId: string,
): Promise<PromotionResult | undefined> {
  const { options, journal, activities, runMarker } = validation;
  // Long enough for the running promotion to pass its approval gate and roll out.
  const budget =
    (parseDuration(options.approvalTimeout) ?? 0) / 1000 +
    options.waitBudgets.build +
    options.waitBudgets.mergeRequest +
    options.waitBudgets.sync +
    options.waitBudgets.workload;
  const settled = await journal.step(
    `settle-promotion-conflict`,
    waitOptions({ env, imageTag }, budget, { kind: 'child-workflow', ref: childId }),
    (deadline: string) =>
      summarized(`settle with ${childId}, which someone else started`, activities.waits.settlePromotionConflict, {
        appName: options.appName,
        env,
        imageTag,
        requestedBy: runMarker,
        deadline,
      }),
  );
  if (settled.decision !== 'joined') return undefined;
  if (settled.result) return settled.result;
  const failure = settled.failure!;
  throw ApplicationFailure.create({
    type: failure.type,
    message: `the promotion it joined, ${childId}, ended: ${failure.message}`,
    nonRetryable: true,
    details: failure.details ? [failure.details] : [],
  });
}

/**
 * A step failed or the run was cancelled: name the step, undo (newest first, shielded), report `rolled_back` when
 * something was reverted and no undo failed, `failed` otherwise. A cancelled run ends cancelled after its report.
 */
async function unwindAndReport(validation: Validation, err: unknown, endsFailed: boolean): Promise<ValidationReport> {
  const { journal, saga, iterations, imageTag } = validation;
  const failed = iterations.at(-1);
  const failedStep = (failed?.steps ?? []).findLast(broken) ?? journal.steps.findLast(broken);
  const failure = {
    ...(promotionFailureDetails(err)?.failure ?? summarizeFailure(err)),
    step: failedStep?.name ?? 'unknown',
    iteration: failed?.iteration ?? 1,
  };
  showDetails(
    `**${failure.step} failed**: ${failure.message}`,
    saga.size > 0 ? 'undoing the run, newest first' : undefined,
  );
  await saga.unwind(journal.rollback);
  markRolledBack(iterations, journal.rollback);
  const rollbackFailed = journal.rollback.some((record) => record.status === 'failed');
  const anyReverted = journal.rollback.some(
    (record) => record.status === 'succeeded' && (!endsFailed || record.action === 'revert-merge-request'),
  );
  const report = reportAs(validation, rollbackFailed || !anyReverted ? 'failed' : 'rolled_back', failure);
  if (isCancellation(err)) throw err;
  await journal.notify(
    rollbackFailed ? 'rollback-failed' : 'validation-finished',
    summaryLine(report),
    imageTag ? { imageTag } : {},
  );
  return report;
}

function broken(step: StepRecord): boolean {
  return step.status === 'failed' || step.status === 'cancelled';
}

/** The report of the run so far, also shown as the search attributes and memo. */
function reportAs(
  validation: Validation,
  status: ValidationStatus,
  failure?: ValidationReport['failure'],
): ValidationReport {
  const { options, startedMs, version, imageTag, journal } = validation;
  const finishedMs = Date.now();
  const report: ValidationReport = {
    appName: options.appName,
    status,
    through: options.through,
    ...(version ? { version } : {}),
    ...(imageTag ? { imageTag } : {}),
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    durationMs: finishedMs - startedMs,
    iterations: validation.iterations.map((iteration) => ({ ...iteration })),
    ...(failure ? { failure } : {}),
    rollback: [...journal.rollback],
  };
  journal.show(status, { summary: summaryLine(report) });
  showDetails(`**${status}**`, summaryLine(report));
  return report;
}

function promotionFailureDetails(err: unknown): PromotionFailureDetails | undefined {
  // A hop's child failed, or the run a hop joined did (settleConflict rethrows its failure as it was).
  const failure = err instanceof ChildWorkflowFailure ? err.cause : err;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  const details = failure.details?.[0] as PromotionFailureDetails | undefined;
  return details && Array.isArray(details.steps) ? details : undefined;
}

/** An iteration whose environment was reverted (and back on its previous image) is reported as rolled back. */
function markRolledBack(iterations: MutableIteration[], rollback: ValidationReport['rollback']): void {
  for (const iteration of iterations) {
    const reverts = rollback.filter(
      (record) => record.env === iteration.env && record.action === 'revert-merge-request',
    );
    if (reverts.length > 0 && reverts.every((record) => record.status === 'succeeded'))
      iteration.status = 'rolled_back';
  }
}

function summaryLine(report: ValidationReport): string {
  const reached = report.iterations
    .filter((iteration) => iteration.status === 'succeeded')
    .map((iteration) => iteration.env);
  const failure = report.failure ? `; ${report.failure.step} failed: ${report.failure.message}` : '';
  return `${report.status}: ${report.appName} ${report.imageTag ?? ''} reached ${reached.join(', ') || 'nothing'}${failure}`;
}
