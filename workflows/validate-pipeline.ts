/**
 * validatePipeline — the nightly end-to-end validation: proves the whole pipeline works and says exactly where it
 * broke. Workflow id: `validate-<app>`.
 *
 * Iteration 1 (in this workflow), and the undo each step pushes once it succeeded:
 *   bump-version                    — no undo (a version number is never reused)
 *   find-ci-build, await-ci-build   — no undo
 *                                   — undo (pushed once CI's build ended): close the dev MR CI opened
 *                                     (`update-dev-{version}-…`), delete its branch
 *   read-dev (the image to return to), await-merge-request (the dev MR CI opened, by branch and head)
 *                                   — no undo
 *   merge-merge-request             — undo: revert the MR, await dev synced and healthy on the previous image
 *   await-argo-synced-and-healthy, verify-workload — no undo; dev is then verified
 * Iteration 2 (dev→stage) and 3 (stage→prod): child workflows `promoteEnvironment` (id `promote-<app>-<env>`),
 *   each undoing its own hop when it fails; a verified hop pushes "revert it" only when `rollback: 'all'`.
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
import { executeChild, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { ChildWorkflowFailure, ApplicationFailure } from '@temporalio/common';
import type { BuildRef, MergeRequestRef } from '../src/domain/activities.js';
import type { Environment } from '../src/domain/environments.js';
import { SupersededError } from '../src/domain/errors.js';
import { summarizeFailure } from '../src/temporal/common/failures.js';
import {
  validatePipelineOptions,
  type PromoteEnvironmentInput,
  type ValidatePipelineInput,
  type ValidatePipelineOptions,
} from '../src/domain/inputs.js';
import { promotionWorkflowId } from '../src/domain/promotion-policy.js';
import type {
  IterationReport,
  PromotionFailureDetails,
  StepRecord,
  ValidationReport,
  ValidationStatus,
} from '../src/domain/report.js';
import { progressQuery } from './messages.js';
import { promoteEnvironment } from './promote-environment.js';
import { activityProxies } from './support/activities.js';
import { validated } from './support/failures.js';
import { appNameOf, Journal, waitOptions } from './support/journal.js';
import { shortSha, showDetails, summarized } from './support/metadata.js';
import { Saga } from './support/saga.js';
import { awaitArgoSyncedAndHealthy, mergeMergeRequest, verifyWorkload, type RunContext } from './support/steps.js';
import { abandonDeployBranch, abandonMergeRequest, revertMerge } from './support/undos.js';

export type { ValidatePipelineInput } from '../src/domain/inputs.js';

export async function validatePipeline(input: ValidatePipelineInput): Promise<ValidationReport> {
  const journal = new Journal(appNameOf(input));
  setHandler(progressQuery, () => journal.progress());
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

  try {
    const imageTag = await deliverToDev(validation);
    for (const hop of hopsThrough(options.through)) await promoteHop(validation, hop, imageTag);
    const report = reportAs(validation, 'succeeded');
    await journal.notify('validation-finished', summaryLine(report), { imageTag });
    return report;
  } catch (err) {
    const endsFailed = patched(ENDS_FAILED);
    const report = await unwindAndReport(validation, err, endsFailed);
    if (endsFailed) throw endWith(report);
    return report;
  }
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

const HOPS = [
  { iteration: 2, source: 'dev', target: 'stage' },
  { iteration: 3, source: 'stage', target: 'prod' },
] as const;

type Hop = (typeof HOPS)[number];

const ORDER: readonly Environment[] = ['dev', 'stage', 'prod'];

/** The hops up to `through`, in order. */
function hopsThrough(through: Environment): Hop[] {
  return HOPS.filter((hop) => ORDER.indexOf(hop.target) <= ORDER.indexOf(through));
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
  const env = 'dev' as const;
  const iteration: MutableIteration = { iteration: 1, env, status: 'failed', steps: [] };
  validation.iterations.push(iteration);
  const firstStep = journal.steps.length;
  journal.show('running', { env });
  try {
    const bumpedAt = new Date().toISOString();
    showDetails(`**iteration 1**: bump the version of ${appName}, wait for CI and the dev merge request`);
    const bump = await journal.step('bump-version', { env }, () =>
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
          runMarker,
          reason: () => 'the pipeline validation did not complete',
        }),
      );
    const before = await journal.step('read-dev', { env }, () =>
      summarized(`read what ${appName} runs in dev`, quick.readEnvironmentState, { appName, env }),
    );
    iteration.previousImageTag = before.imageTag;
    const mergeRequest = await awaitDevMergeRequest(validation, bump.version, undoAfterCi ? undefined : bumpedAt);
    const target = { env, imageTag: mergeRequest.imageTag };
    validation.imageTag = target.imageTag;
    iteration.imageTag = target.imageTag;
    journal.show('running', target);
    showDetails(
      `**iteration 1**: deliver ${appName} ${target.imageTag} to dev`,
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
    const merge = await mergeMergeRequest(validation, target, mergeRequest, before.imageTag);
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

/** find-ci-build, await-ci-build: the app's CI build of the bumped commit, to its end. */
async function awaitCiBuild(validation: Validation, commitSha: string): Promise<void> {
  const { journal, activities, appName, waitBudgets } = validation;
  const place = { env: 'dev' } as const;
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
): Promise<MergeRequestRef> {
  const { journal, activities, appName, waitBudgets } = validation;
  return await journal.step(
    'await-merge-request',
    waitOptions(
      { env: 'dev' },
      waitBudgets.mergeRequest,
      { kind: 'merge-request', ref: `update-dev-${version}-*` },
      (opened: MergeRequestRef) => ({ mergeRequest: opened.webUrl }),
    ),
    (deadline: string) =>
      summarized(`wait for the dev merge request of ${version}`, activities.waits.awaitMergeRequest, {
        appName,
        targetEnv: 'dev',
        version,
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
    approvalTimeout: options.approvalTimeout,
    heartbeatTimeout: options.heartbeatTimeout,
    waitBudgets: options.waitBudgets,
    unstableBuilds: options.unstableBuilds,
    runMarker,
  };
  try {
    const result = await journal.step(
      `promote-${env}`,
      { env, imageTag, waitingOn: { kind: 'child-workflow', ref: childId } },
      () =>
        executeChild(promoteEnvironment, {
          workflowId: childId,
          args: [args],
          staticSummary: `promote ${options.appName} ${imageTag} ${hop.source} → ${env} (iteration ${hop.iteration} of ${workflowInfo().workflowId})`,
        }),
    );
    iteration.steps = [...result.steps];
    iteration.previousImageTag = result.previousImageTag;
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
      journal.adopt(details.rollback);
    }
    throw err;
  }
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
  if (!(err instanceof ChildWorkflowFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const details = err.cause.details?.[0] as PromotionFailureDetails | undefined;
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
