/**
 * promoteEnvironment — one environment hop of one app (dev→stage or stage→prod), the seed's promotion pipeline
 * made durable. Workflow id: `promote-<app>-<env>` (one promotion per app and environment; see
 * src/domain/promotion-policy.ts for supersede/join).
 *
 * Steps, and the undo each pushes once it succeeded:
 * 1. validate the input (ValidationError, non-retryable, before anything runs)          — no undo
 * 2. read-source: the image running synced and healthy in the source env
 *    (SourceNotHealthyError otherwise; a given imageTag must be the one running there)   — no undo
 * 3. read-target: the target's current image, the one a rollback returns to;
 *    a target already settled on the image ends as `unchanged`                          — no undo
 * 4. open the promotion MR — mode `jenkins`: trigger-promote-job, await-promote-build, await-merge-request;
 *    mode `gitlab`: open-merge-request                                                   — undo: close the MR, delete its branch
 * 5. approval, when the target requires it: `approve`/`reject` updates, timeout = rejected — no undo (a rejection unwinds)
 * 6. merge-merge-request (with the head sha guard)                                        — undo: revert the MR, await the previous image synced and healthy
 * 7. await-argo-synced-and-healthy at the merge commit                                    — no undo
 * 8. verify-workload: every pod runs the image, ready                                     — no undo
 *
 * On failure, rejection or cancellation the undos run newest first, shielded from cancellation. Then the run
 * fails with the original failure's type and message; its first detail (PromotionFailureDetails) holds the steps
 * and what was rolled back, from which image to which. A cancelled run ends cancelled after unwinding.
 * A superseded run unwinds the same way and completes with status `superseded`.
 */
import { CancellationScope, condition, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { MergeRequestRef } from '../src/domain/activities.js';
import { parseDuration } from '../src/domain/duration.js';
import { ApprovalRejectedError, SourceNotHealthyError, ValidationError } from '../src/domain/errors.js';
import { summarizeFailure, toApplicationFailure } from '../src/temporal/common/failures.js';
import {
  parseApprovalDecision,
  promoteEnvironmentOptions,
  type PromoteEnvironmentInput,
  type PromoteEnvironmentOptions,
} from '../src/domain/inputs.js';
import { isSyncedAndHealthyAt, unsettledReason } from '../src/domain/environment-state.js';
import { SUPERSEDABLE_PHASES, type PromotionPhase } from '../src/domain/promotion-policy.js';
import type { PromotionFailureDetails, PromotionResult, PromotionStatus } from '../src/domain/report.js';
import {
  approveUpdate,
  currentImageQuery,
  progressQuery,
  rejectUpdate,
  supersedeUpdate,
  type ApprovalDecision,
  type ApprovalOutcome,
} from './messages.js';
import { activityProxies } from './support/activities.js';
import { endWith, validated } from './support/failures.js';
import { Journal } from './support/journal.js';
import { Saga } from './support/saga.js';
import { abandonMergeRequest, revertMerge } from './support/undos.js';

export type { PromoteEnvironmentInput } from '../src/domain/inputs.js';

export async function promoteEnvironment(input: PromoteEnvironmentInput): Promise<PromotionResult> {
  let phase: PromotionPhase = 'validating';
  let imageTag: string | undefined;
  let decision: ApprovalOutcome | undefined;
  let decisionReason = '';
  let supersededBy: { imageTag: string; by?: string } | undefined;
  const beforeMerge = new CancellationScope();
  const journal = new Journal(typeof input?.appName === 'string' ? input.appName : 'unknown');

  setHandler(progressQuery, () => journal.progress());
  setHandler(currentImageQuery, () => ({ imageTag, phase }));
  const o: PromoteEnvironmentOptions = validated(() => promoteEnvironmentOptions(input));
  const acts = activityProxies(o.heartbeatTimeout);
  const { quick, waits } = acts;
  const decide =
    (verdict: ApprovalOutcome['decision']) =>
    (d: ApprovalDecision): ApprovalOutcome => {
      decision = { decision: verdict, by: d.by, at: new Date().toISOString() };
      decisionReason = d.reason ?? '';
      return decision;
    };
  // A refused payload is a ValidationError naming the field and the rule; it never reaches the history.
  const validateDecision = (raw: ApprovalDecision): void => {
    if (phase !== 'awaiting-approval' || decision !== undefined)
      throw new Error('no approval is pending for this promotion');
    const d = validated(() => parseApprovalDecision(raw));
    const approvers = o.approval.approvers;
    if (approvers.length > 0 && !approvers.includes(d.by)) {
      throw toApplicationFailure(
        new ValidationError(
          'by',
          `must be one of the approvers for ${o.targetEnv}`,
          `${d.by} is not on the approvers list for ${o.targetEnv}`,
        ),
      );
    }
  };
  setHandler(approveUpdate, decide('approved'), { validator: validateDecision });
  setHandler(rejectUpdate, decide('rejected'), { validator: validateDecision });
  setHandler(
    supersedeUpdate,
    (req) => {
      const superseded = imageTag;
      supersededBy = { imageTag: req.imageTag, ...(req.by ? { by: req.by } : {}) };
      beforeMerge.cancel();
      return { supersededImageTag: superseded };
    },
    {
      validator: (req) => {
        if (!SUPERSEDABLE_PHASES.includes(phase) || supersededBy)
          throw new Error(`too late to supersede: the promotion is ${phase}`);
        if (req?.imageTag === undefined || req.imageTag === imageTag)
          throw new Error('the same image joins the running promotion');
      },
    },
  );

  const runMarker = o.runMarker ?? `${workflowInfo().workflowId}/${workflowInfo().runId}`;
  const saga = new Saga();
  let previousImageTag: string | undefined;
  let mr: MergeRequestRef | undefined;
  let build: { buildNumber: number; url: string } | undefined;
  let mergeCommitSha: string | undefined;
  let merged = false;
  let alreadyThere = false;

  const finish = (status: PromotionStatus): PromotionResult => {
    phase = 'finished';
    journal.show(status, {
      env: o.targetEnv,
      ...(imageTag ? { imageTag } : {}),
      summary: `${status}: ${o.appName} ${imageTag ?? '?'} ${o.sourceEnv}→${o.targetEnv}`,
    });
    return {
      status,
      appName: o.appName,
      sourceEnv: o.sourceEnv,
      targetEnv: o.targetEnv,
      imageTag: imageTag ?? '',
      previousImageTag,
      ...(mr ? { mergeRequest: { iid: mr.iid, webUrl: mr.webUrl, sourceBranch: mr.sourceBranch } } : {}),
      ...(mergeCommitSha ? { mergeCommitSha } : {}),
      ...(build ? { build } : {}),
      ...(decision?.decision === 'approved' ? { approval: { by: decision.by, reason: decisionReason } } : {}),
      ...(supersededBy ? { supersededBy: supersededBy.imageTag } : {}),
      steps: journal.progress().steps,
      rollback: [...journal.rollback],
    };
  };

  const resolveImage = async (): Promise<void> => {
    phase = 'resolving';
    journal.show('running', { env: o.targetEnv, ...(o.imageTag ? { imageTag: o.imageTag } : {}) });
    const source = await journal.step('read-source', { env: o.sourceEnv }, () =>
      quick.readEnvironmentState({ appName: o.appName, env: o.sourceEnv }),
    );
    const notSettled = unsettledReason(source);
    if (
      notSettled !== undefined ||
      source.imageTag === undefined ||
      (o.imageTag !== undefined && o.imageTag !== source.imageTag)
    ) {
      const facts = {
        env: o.sourceEnv,
        sync: source.sync.status,
        health: source.health.status,
        ...(source.imageTag ? { runningImageTag: source.imageTag } : {}),
        ...(o.imageTag ? { requestedImageTag: o.imageTag } : {}),
      };
      const why =
        notSettled ??
        (source.imageTag === undefined ? 'nothing deployed' : `it runs ${source.imageTag}, not ${o.imageTag}`);
      throw new SourceNotHealthyError(
        facts,
        `refusing to promote from ${o.sourceEnv}: ${why} (only what runs synced and healthy there is promoted)`,
      );
    }
    imageTag = source.imageTag;
    const target = await journal.step('read-target', { env: o.targetEnv, imageTag }, () =>
      quick.readEnvironmentState({ appName: o.appName, env: o.targetEnv }),
    );
    previousImageTag = target.imageTag;
    alreadyThere = target.imageTag === imageTag && isSyncedAndHealthyAt(target);
    journal.show('running', { env: o.targetEnv, imageTag });
  };

  const openMergeRequest = async (tag: string): Promise<void> => {
    phase = 'opening';
    if (o.mode === 'gitlab') {
      const opened = await journal.step(
        'open-merge-request',
        { env: o.targetEnv, imageTag: tag, links: (r) => ({ mergeRequest: r.mergeRequest.webUrl }) },
        () =>
          CancellationScope.nonCancellable(() =>
            quick.openPromotionMergeRequest({
              appName: o.appName,
              sourceEnv: o.sourceEnv,
              targetEnv: o.targetEnv,
              imageTag: tag,
              runMarker,
            }),
          ),
      );
      mr = opened.mergeRequest;
    } else {
      const notBefore = new Date().toISOString();
      const triggered = await journal.step(
        'trigger-promote-job',
        { env: o.targetEnv, imageTag: tag, links: (r) => ({ build: r.build.url }) },
        () =>
          CancellationScope.nonCancellable(() =>
            waits.triggerPromoteJob({
              appName: o.appName,
              sourceEnv: o.sourceEnv,
              targetEnv: o.targetEnv,
              imageTag: tag,
              notBefore,
              runMarker,
            }),
          ),
      );
      build = { buildNumber: triggered.build.buildNumber, url: triggered.build.url };
      await journal.step(
        'await-promote-build',
        {
          env: o.targetEnv,
          imageTag: tag,
          budgetSeconds: o.waitBudgets.build,
          waitingOn: { kind: 'build', ref: `promote #${triggered.build.buildNumber}` },
          links: () => ({ build: triggered.build.url }),
        },
        (deadline: string) =>
          waits.awaitJenkinsBuild({
            appName: o.appName,
            job: 'promote',
            buildNumber: triggered.build.buildNumber,
            deadline,
          }),
      );
      const found = await journal.step(
        'await-merge-request',
        {
          env: o.targetEnv,
          imageTag: tag,
          budgetSeconds: o.waitBudgets.mergeRequest,
          waitingOn: { kind: 'merge-request', ref: `promote-${o.targetEnv}-${tag}` },
          links: (r) => ({ mergeRequest: r.webUrl }),
        },
        (deadline: string) =>
          waits.awaitMergeRequest({
            appName: o.appName,
            targetEnv: o.targetEnv,
            imageTag: tag,
            createdAfter: notBefore,
            deadline,
          }),
      );
      mr = found;
    }
    const opened = mr;
    for (const undo of abandonMergeRequest(
      acts,
      opened,
      runMarker,
      () => (supersededBy ? `superseded by ${supersededBy.imageTag}` : 'the promotion did not complete'),
      () => merged,
    ))
      saga.push(undo);
  };

  const awaitApproval = async (tag: string): Promise<void> => {
    phase = 'awaiting-approval';
    journal.show('waiting-approval', {
      env: o.targetEnv,
      imageTag: tag,
      summary: `waiting for approval of ${tag} into ${o.targetEnv} (!${mr?.iid})`,
    });
    await journal.notify(
      'approval-requested',
      `${o.appName} ${tag} → ${o.targetEnv} waits for approval (!${mr?.iid})`,
      { env: o.targetEnv, imageTag: tag, ...(mr ? { links: [mr.webUrl] } : {}) },
    );
    const decided = await journal.step(
      'approval',
      {
        env: o.targetEnv,
        imageTag: tag,
        budgetSeconds: (parseDuration(o.approval.timeout) ?? 0) / 1000,
        waitingOn: {
          kind: 'approval',
          ref: o.approval.approvers.length > 0 ? o.approval.approvers.join(', ') : 'anyone',
        },
      },
      async () => {
        const inTime = await condition(() => decision !== undefined, o.approval.timeout as Duration);
        if (!inTime) {
          await journal.notify(
            'approval-timed-out',
            `${o.appName} ${tag} → ${o.targetEnv} was not approved within ${o.approval.timeout}`,
            { env: o.targetEnv, imageTag: tag },
          );
          throw new ApprovalRejectedError({
            env: o.targetEnv,
            by: 'timeout',
            reason: `not approved within ${o.approval.timeout}`,
            timedOut: true,
          });
        }
        if (decision!.decision === 'rejected')
          throw new ApprovalRejectedError({
            env: o.targetEnv,
            by: decision!.by,
            reason: decisionReason,
            timedOut: false,
          });
        return decision!;
      },
    );
    await journal.notify('approved', `${o.appName} ${tag} → ${o.targetEnv} approved by ${decided.by}`, {
      env: o.targetEnv,
      imageTag: tag,
    });
  };

  const mergeAndVerify = async (tag: string, open: MergeRequestRef): Promise<void> => {
    phase = 'merging';
    journal.show('merging', { env: o.targetEnv, imageTag: tag });
    const result = await journal.step(
      'merge-merge-request',
      { env: o.targetEnv, imageTag: tag, links: () => ({ mergeRequest: open.webUrl }) },
      () =>
        CancellationScope.nonCancellable(() =>
          quick.mergeMergeRequest({ iid: open.iid, headSha: open.headSha, runMarker }),
        ),
    );
    merged = true;
    mergeCommitSha = result.mergeCommitSha;
    saga.push(
      revertMerge(acts, {
        budgets: o.waitBudgets,
        appName: o.appName,
        env: o.targetEnv,
        iid: open.iid,
        runMarker,
        fromImageTag: tag,
        toImageTag: previousImageTag,
      }),
    );
    if (!o.verify) return;
    phase = 'syncing';
    await journal.step(
      'await-argo-synced-and-healthy',
      {
        env: o.targetEnv,
        imageTag: tag,
        budgetSeconds: o.waitBudgets.sync,
        waitingOn: { kind: 'argo-app', ref: `${o.appName}-${o.targetEnv}` },
      },
      (deadline: string) =>
        waits.awaitArgoSyncedAndHealthy({
          appName: o.appName,
          env: o.targetEnv,
          revision: result.mergeCommitSha,
          deadline,
        }),
    );
    phase = 'verifying';
    await journal.step(
      'verify-workload',
      {
        env: o.targetEnv,
        imageTag: tag,
        budgetSeconds: o.waitBudgets.workload,
        waitingOn: { kind: 'workload', ref: `${o.appName} in ${o.targetEnv}` },
      },
      (deadline: string) => waits.verifyWorkload({ appName: o.appName, env: o.targetEnv, imageTag: tag, deadline }),
    );
  };

  try {
    await resolveImage();
    const tag = imageTag!;
    if (alreadyThere) return finish('unchanged');
    await beforeMerge.run(async () => {
      await openMergeRequest(tag);
      if (o.merge && o.approval.required) await awaitApproval(tag);
    });
    if (!o.merge) return finish('merge-request-opened');
    await mergeAndVerify(tag, mr!);
    await journal.notify('promoted', `${o.appName} ${tag} is live in ${o.targetEnv}`, {
      env: o.targetEnv,
      imageTag: tag,
      ...(mr ? { links: [mr.webUrl] } : {}),
    });
    return finish('succeeded');
  } catch (err) {
    phase = 'compensating';
    const failure = summarizeFailure(err);
    if (supersededBy && isCancellation(err)) {
      await saga.unwind(journal.rollback);
      await CancellationScope.nonCancellable(() =>
        journal.notify(
          'superseded',
          `${o.appName} ${imageTag} → ${o.targetEnv} was superseded by ${supersededBy!.imageTag}`,
          { env: o.targetEnv },
        ),
      );
      return finish('superseded');
    }
    const undone = saga.size > 0;
    await saga.unwind(journal.rollback);
    const rollbackFailed = journal.rollback.some((r) => r.status === 'failed');
    const status = isCancellation(err) ? 'cancelled' : rollbackFailed || !undone ? 'failed' : 'rolled_back';
    phase = 'finished';
    await CancellationScope.nonCancellable(async () => {
      journal.show(status, {
        env: o.targetEnv,
        ...(imageTag ? { imageTag } : {}),
        summary: `${status}: ${failure.message}`,
      });
      await journal.notify(
        rollbackFailed ? 'rollback-failed' : undone ? 'rolled-back' : 'promotion-failed',
        `${o.appName} ${imageTag ?? ''} → ${o.targetEnv}: ${failure.message}${rollbackNote(journal)}`,
        { env: o.targetEnv },
      );
    });
    if (isCancellation(err)) throw err;
    const details: PromotionFailureDetails = {
      failure,
      imageTag,
      previousImageTag,
      steps: journal.progress().steps,
      rollback: [...journal.rollback],
    };
    throw endWith(failure, rollbackNote(journal), details);
  }
}

function rollbackNote(journal: Journal): string {
  if (journal.rollback.length === 0) return '';
  const failed = journal.rollback.filter((r) => r.status === 'failed');
  if (failed.length > 0)
    return ` (rollback incomplete: ${failed.map((r) => `${r.action} ${r.target}: ${r.detail ?? ''}`).join('; ')})`;
  const revert = journal.rollback.find((r) => r.action === 'revert-merge-request');
  return revert
    ? ` (rolled back ${revert.env}: ${revert.fromImageTag} → ${revert.toImageTag ?? 'previous'})`
    : " (closed the run's merge requests and branches)";
}
