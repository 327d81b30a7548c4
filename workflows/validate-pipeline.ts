/**
 * validatePipeline — the nightly end-to-end validation: proves the whole pipeline works and says exactly where it
 * broke. Workflow id: `validate-<app>`.
 *
 * Iteration 1 (in this workflow), and the undo each step pushes once it succeeded:
 *   bump-version                    — no undo (a version number is never reused)
 *   find-ci-build, await-ci-build   — no undo
 *   read-dev (the image to return to), await-merge-request (the dev MR CI opened)
 *                                   — undo: close the MR, delete its branch
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
 * The result is always the report (ValidationReport), also when a step failed: status `rolled_back` when every
 * undo succeeded, `failed` when there was nothing to undo or an undo failed (reported with its reason). A
 * cancelled run unwinds the same way and then ends cancelled; its report is in `progressQuery` and the memo.
 */
import { CancellationScope, executeChild, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import { ChildWorkflowFailure, ApplicationFailure } from '@temporalio/common';
import type { Environment } from '../src/domain/environments.js';
import { SupersededError } from '../src/domain/errors.js';
import { summarizeFailure } from '../src/temporal/common/failures.js';
import {
  validatePipelineOptions,
  type PromoteEnvironmentInput,
  type ValidatePipelineInput,
} from '../src/domain/inputs.js';
import { promotionWorkflowId } from '../src/domain/promotion-policy.js';
import type {
  IterationReport,
  PromotionFailureDetails,
  ValidationReport,
  ValidationStatus,
} from '../src/domain/report.js';
import { progressQuery } from './messages.js';
import { promoteEnvironment } from './promote-environment.js';
import { activityProxies } from './support/activities.js';
import { validated } from './support/failures.js';
import { Journal } from './support/journal.js';
import { Saga } from './support/saga.js';
import { abandonMergeRequest, revertMerge } from './support/undos.js';

export type { ValidatePipelineInput } from '../src/domain/inputs.js';

const HOPS = [
  { iteration: 2, source: 'dev', target: 'stage' },
  { iteration: 3, source: 'stage', target: 'prod' },
] as const;

const ORDER: readonly Environment[] = ['dev', 'stage', 'prod'];

type MutableIteration = { -readonly [K in keyof IterationReport]: IterationReport[K] };

export async function validatePipeline(input: ValidatePipelineInput): Promise<ValidationReport> {
  const journal = new Journal(typeof input?.appName === 'string' ? input.appName : 'unknown');
  setHandler(progressQuery, () => journal.progress());

  const o = validated(() => validatePipelineOptions(input));
  const acts = activityProxies(o.heartbeatTimeout);
  const { quick, waits } = acts;
  const { workflowId, runId } = workflowInfo();
  const runMarker = `${workflowId}/${runId}`;
  const startedMs = Date.now();
  const saga = new Saga();
  const iterations: MutableIteration[] = [];
  let version: string | undefined;
  let imageTag: string | undefined;

  const deliverToDev = async (): Promise<void> => {
    const it: MutableIteration = { iteration: 1, env: 'dev', status: 'failed', steps: [] };
    iterations.push(it);
    const firstStep = journal.steps.length;
    const env = 'dev' as const;
    journal.show('running', { env });
    try {
      const bumpedAt = new Date().toISOString();
      const bump = await journal.step('bump-version', { env }, () =>
        quick.bumpAppVersion({ appName: o.appName, runMarker }),
      );
      version = bump.version;
      const ci = await journal.step(
        'find-ci-build',
        {
          env,
          budgetSeconds: o.waitBudgets.ciBuildStart,
          waitingOn: { kind: 'build', ref: `app CI build of ${bump.commitSha.slice(0, 8)}` },
          links: (r) => ({ build: r.url }),
        },
        (deadline: string) => waits.findCiBuildForCommit({ appName: o.appName, commitSha: bump.commitSha, deadline }),
      );
      await journal.step(
        'await-ci-build',
        {
          env,
          budgetSeconds: o.waitBudgets.build,
          waitingOn: { kind: 'build', ref: `app CI #${ci.buildNumber}` },
          links: () => ({ build: ci.url }),
        },
        (deadline: string) =>
          waits.awaitJenkinsBuild({ appName: o.appName, job: 'app-ci', buildNumber: ci.buildNumber, deadline }),
      );
      const before = await journal.step('read-dev', { env }, () =>
        quick.readEnvironmentState({ appName: o.appName, env }),
      );
      it.previousImageTag = before.imageTag;
      const mr = await journal.step(
        'await-merge-request',
        {
          env,
          budgetSeconds: o.waitBudgets.mergeRequest,
          waitingOn: { kind: 'merge-request', ref: `update-dev-${bump.version}-*` },
          links: (r) => ({ mergeRequest: r.webUrl }),
        },
        (deadline: string) =>
          waits.awaitMergeRequest({
            appName: o.appName,
            targetEnv: env,
            version: bump.version,
            createdAfter: bumpedAt,
            deadline,
          }),
      );
      imageTag = mr.imageTag;
      it.imageTag = mr.imageTag;
      journal.show('running', { env, imageTag });
      let merged = false;
      for (const undo of abandonMergeRequest(
        acts,
        mr,
        runMarker,
        () => 'the pipeline validation did not complete',
        () => merged,
      ))
        saga.push(undo);
      const merge = await journal.step(
        'merge-merge-request',
        { env, imageTag, links: () => ({ mergeRequest: mr.webUrl }) },
        () => shielded(() => quick.mergeMergeRequest({ iid: mr.iid, headSha: mr.headSha, runMarker })),
      );
      merged = true;
      saga.push(
        revertMerge(acts, {
          budgets: o.waitBudgets,
          appName: o.appName,
          env,
          iid: mr.iid,
          runMarker,
          fromImageTag: mr.imageTag,
          toImageTag: before.imageTag,
        }),
      );
      await journal.step(
        'await-argo-synced-and-healthy',
        {
          env,
          imageTag,
          budgetSeconds: o.waitBudgets.sync,
          waitingOn: { kind: 'argo-app', ref: `${o.appName}-${env}` },
        },
        (deadline: string) =>
          waits.awaitArgoSyncedAndHealthy({ appName: o.appName, env, revision: merge.mergeCommitSha, deadline }),
      );
      await journal.step(
        'verify-workload',
        {
          env,
          imageTag,
          budgetSeconds: o.waitBudgets.workload,
          waitingOn: { kind: 'workload', ref: `${o.appName} in ${env}` },
        },
        (deadline: string) => waits.verifyWorkload({ appName: o.appName, env, imageTag: mr.imageTag, deadline }),
      );
      it.status = 'succeeded';
      if (o.rollback !== 'all') saga.settle(env);
    } finally {
      it.steps = journal.steps.slice(firstStep);
    }
  };

  const promoteHop = async (hop: (typeof HOPS)[number], tag: string): Promise<void> => {
    const childId = promotionWorkflowId(o.appName, hop.target);
    const it: MutableIteration = {
      iteration: hop.iteration,
      env: hop.target,
      status: 'failed',
      imageTag: tag,
      workflowId: childId,
      steps: [],
    };
    iterations.push(it);
    journal.show('running', { env: hop.target, imageTag: tag });
    const args: PromoteEnvironmentInput = {
      appName: o.appName,
      sourceEnv: hop.source,
      targetEnv: hop.target,
      imageTag: tag,
      mode: o.mode,
      approvalEnvironments: [...o.approvalEnvironments],
      approvers: [...o.approvers],
      approvalTimeout: o.approvalTimeout,
      heartbeatTimeout: o.heartbeatTimeout,
      waitBudgets: o.waitBudgets,
      runMarker,
    };
    try {
      const result = await journal.step(
        `promote-${hop.target}`,
        { env: hop.target, imageTag: tag, waitingOn: { kind: 'child-workflow', ref: childId } },
        () => executeChild(promoteEnvironment, { workflowId: childId, args: [args] }),
      );
      it.steps = [...result.steps];
      it.previousImageTag = result.previousImageTag;
      if (result.status === 'superseded')
        throw new SupersededError({ env: hop.target, byImageTag: result.supersededBy ?? '?' });
      it.status = 'succeeded';
      if (o.rollback === 'all' && result.mergeRequest) {
        const mr = result.mergeRequest;
        for (const undo of abandonMergeRequest(
          acts,
          { ...mr, targetEnv: hop.target, headSha: '', imageTag: tag },
          runMarker,
          () => 'rolled back',
          () => true,
        ))
          saga.push(undo);
        saga.push(
          revertMerge(acts, {
            budgets: o.waitBudgets,
            appName: o.appName,
            env: hop.target,
            iid: mr.iid,
            runMarker,
            fromImageTag: tag,
            toImageTag: result.previousImageTag,
          }),
        );
      }
    } catch (err) {
      const details = promotionFailureDetails(err);
      if (details) {
        it.steps = [...details.steps];
        it.previousImageTag = details.previousImageTag;
        journal.rollback.push(...details.rollback);
      }
      throw err;
    }
  };

  const report = (status: ValidationStatus, failure?: ValidationReport['failure']): ValidationReport => {
    const finishedMs = Date.now();
    const result: ValidationReport = {
      appName: o.appName,
      status,
      through: o.through,
      ...(version ? { version } : {}),
      ...(imageTag ? { imageTag } : {}),
      startedAt: new Date(startedMs).toISOString(),
      finishedAt: new Date(finishedMs).toISOString(),
      durationMs: finishedMs - startedMs,
      iterations: iterations.map((i) => ({ ...i })),
      ...(failure ? { failure } : {}),
      rollback: [...journal.rollback],
    };
    journal.show(status, { summary: summaryLine(result) });
    return result;
  };

  try {
    await deliverToDev();
    for (const hop of HOPS) {
      if (ORDER.indexOf(hop.target) > ORDER.indexOf(o.through)) break;
      await promoteHop(hop, imageTag!);
    }
    const done = report('succeeded');
    await journal.notify('validation-finished', summaryLine(done), { imageTag: imageTag ?? '' });
    return done;
  } catch (err) {
    const failed = iterations[iterations.length - 1];
    const broken = (s: { status: string }) => s.status === 'failed' || s.status === 'cancelled';
    const failedStep = [...(failed?.steps ?? [])].reverse().find(broken) ?? [...journal.steps].reverse().find(broken);
    const failure = {
      ...(promotionFailureDetails(err)?.failure ?? summarizeFailure(err)),
      step: failedStep?.name ?? 'unknown',
      iteration: failed?.iteration ?? 1,
    };
    await saga.unwind(journal.rollback);
    markRolledBack(iterations, journal.rollback);
    const rollbackFailed = journal.rollback.some((r) => r.status === 'failed');
    const anyReverted = journal.rollback.some((r) => r.status === 'succeeded');
    const done = report(rollbackFailed || !anyReverted ? 'failed' : 'rolled_back', failure);
    if (isCancellation(err)) throw err;
    await journal.notify(
      rollbackFailed ? 'rollback-failed' : 'validation-finished',
      summaryLine(done),
      imageTag ? { imageTag } : {},
    );
    return done;
  }
}

/** Mutating calls finish even when the run is cancelled meanwhile, so the undo knows what they changed. */
function shielded<T>(fn: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(fn);
}

function promotionFailureDetails(err: unknown): PromotionFailureDetails | undefined {
  if (!(err instanceof ChildWorkflowFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const details = err.cause.details?.[0] as PromotionFailureDetails | undefined;
  return details && Array.isArray(details.steps) ? details : undefined;
}

/** An iteration whose environment was reverted (and back on its previous image) is reported as rolled back. */
function markRolledBack(iterations: MutableIteration[], rollback: ValidationReport['rollback']): void {
  for (const it of iterations) {
    const reverts = rollback.filter((r) => r.env === it.env && r.action === 'revert-merge-request');
    if (reverts.length > 0 && reverts.every((r) => r.status === 'succeeded')) it.status = 'rolled_back';
  }
}

function summaryLine(report: ValidationReport): string {
  const reached = report.iterations.filter((i) => i.status === 'succeeded').map((i) => i.env);
  const failure = report.failure ? `; ${report.failure.step} failed: ${report.failure.message}` : '';
  return `${report.status}: ${report.appName} ${report.imageTag ?? ''} reached ${reached.join(', ') || 'nothing'}${failure}`;
}
