/**
 * What a run tells about itself: the steps so far (progress query, report) and, for a finished run, the report.
 * Serialisable and secret-free: links are web URLs of MRs and builds, never API URLs with tokens.
 */
import type { Environment } from './environments.js';
import type { FailureSummary } from './errors.js';

/**
 * Shepherd's one status vocabulary: the words runs, steps, iterations and undos are reported with, the value of
 * the `ShepherdStatus` search attribute and of the memo's `status`. The words are public: the CLI prints them and
 * users' saved `temporal workflow list --query` filters match on them, so none is ever renamed (hence the mix of
 * `rolled_back` and `waiting-approval`). Each status type below is the part of this vocabulary that applies.
 */
export type Status =
  /** A run or a step is under way. */
  | 'running'
  /** A promotion run waits for `approve`/`reject` on its merge request. */
  | 'waiting-approval'
  /** A promotion run waits before its merge for its target's freeze window to close (or an override). */
  | 'waiting-freeze'
  /** A promotion run merges its merge request and waits for the rollout. */
  | 'merging'
  | 'succeeded'
  /** A promotion run with `merge: false` opened its merge request and stopped there. */
  | 'merge-request-opened'
  /** A promotion run found the target already synced and healthy on the image. */
  | 'unchanged'
  /** A promotion run gave way to a newer image before its merge. */
  | 'superseded'
  /** Failed, and no merge needed reverting (MRs closed at most), or an undo failed. */
  | 'failed'
  /** Failed, a merge was reverted and every undo succeeded. */
  | 'rolled_back'
  | 'cancelled'
  /** An undo that had nothing to do. */
  | 'skipped'
  /** An iteration the run never reached. */
  | 'not_run';

/** What `ShepherdStatus` and the memo say about a run, from start to end. */
export type RunStatus = Extract<
  Status,
  'running' | 'waiting-approval' | 'waiting-freeze' | 'merging' | PromotionStatus | ValidationStatus | 'cancelled'
>;

export type StepStatus = Extract<Status, 'running' | 'succeeded' | 'failed' | 'cancelled'>;

export type RollbackStatus = Extract<Status, 'succeeded' | 'failed' | 'skipped'>;

/** What a step waits on, for the progress query. */
export interface WaitingOn {
  readonly kind: 'merge-request' | 'build' | 'argo-app' | 'workload' | 'approval' | 'freeze' | 'child-workflow';
  /** e.g. `!12`, `promote #7`, `example-app-stage`, `promote-example-app-stage`. */
  readonly ref: string;
}

export interface StepLinks {
  readonly mergeRequest?: string;
  readonly build?: string;
}

export interface StepRecord {
  /** `bump-version`, `await-ci-build`, `merge-merge-request`, `approval`, … */
  readonly name: string;
  readonly env?: Environment;
  readonly status: StepStatus;
  readonly startedAt: string;
  readonly durationMs?: number;
  /** Attempts of the activity that finished the step (1 = first try); absent for workflow-side steps. */
  readonly attempts?: number;
  readonly imageTag?: string;
  readonly links?: StepLinks;
  readonly waitingOn?: WaitingOn;
  /** When the current wait gives up (running steps only). */
  readonly timeoutAt?: string;
  readonly failure?: FailureSummary;
}

/** One undo that ran. A failed undo is reported with its reason, never hidden. */
export interface RollbackRecord {
  readonly action:
    | 'revert-merge-request'
    | 'await-previous-image'
    | 'close-merge-request'
    | 'delete-branch'
    /** Cancel the promote job's queue item or stop its build. */
    | 'cancel-promote-job'
    /** Close the open MRs of a job's branch and delete the branch. */
    | 'abandon-deploy-branch';
  readonly env?: Environment;
  readonly status: RollbackStatus;
  readonly target: string;
  readonly fromImageTag?: string;
  readonly toImageTag?: string;
  readonly detail?: string;
  readonly failure?: FailureSummary;
}

/** The answer of `progressQuery`. */
export interface Progress {
  readonly steps: readonly StepRecord[];
  readonly current: StepRecord | undefined;
  readonly rollback: readonly RollbackRecord[];
}

/** A freeze window a promotion met at its gate before the merge, and how the run got past it (or did not). */
export interface FreezeRecord {
  readonly env: Environment;
  /** The window, as declared: `Fri 16:00 → Mon 08:00 Europe/Berlin`. */
  readonly window: string;
  readonly reason?: string;
  /** When the freeze ended, or would have: the first instant no window held (ISO). */
  readonly until: string;
  readonly policy: 'wait' | 'refuse';
  /** `waited`: the run waited until no window held; `overridden`: an approver let it merge; `refused`: it failed. */
  readonly outcome: 'waited' | 'overridden' | 'refused';
  /** Who overrode it, when and why (outcome `overridden`). */
  readonly override?: { readonly by: string; readonly reason: string; readonly at: string };
}

/** How a promotion run that did not fail ended. */
export type PromotionStatus = Extract<Status, 'succeeded' | 'merge-request-opened' | 'unchanged' | 'superseded'>;

/** What `promoteEnvironment` returns when it did not fail. */
export interface PromotionResult {
  readonly status: PromotionStatus;
  readonly appName: string;
  readonly sourceEnv: Environment;
  readonly targetEnv: Environment;
  readonly imageTag: string;
  /** The target's image before the promotion: where a rollback goes back to. */
  readonly previousImageTag: string | undefined;
  readonly mergeRequest?: { readonly iid: number; readonly webUrl: string; readonly sourceBranch: string };
  readonly mergeCommitSha?: string;
  readonly build?: { readonly buildNumber: number; readonly url: string };
  readonly approval?: { readonly by: string; readonly reason: string };
  readonly supersededBy?: string;
  /**
   * Present when the target was not settled before the promotion (not running what its branch declared, synced and
   * healthy) and the run went on because it was started with `allowUnsettledTarget`: why it was not settled.
   */
  readonly unsettledTarget?: string;
  /** The freeze window the run met before its merge, if any. */
  readonly freeze?: FreezeRecord;
  readonly steps: readonly StepRecord[];
  readonly rollback: readonly RollbackRecord[];
}

/** The first detail of a failed `promoteEnvironment`: the original failure, the steps and what was undone. */
export interface PromotionFailureDetails {
  readonly failure: FailureSummary;
  readonly imageTag: string | undefined;
  readonly previousImageTag: string | undefined;
  /** As in PromotionResult: the run went on with an unsettled target (`allowUnsettledTarget`), and why. */
  readonly unsettledTarget?: string;
  /** As in PromotionResult: the freeze window met before the merge (refused, or overridden before a later failure). */
  readonly freeze?: FreezeRecord;
  readonly steps: readonly StepRecord[];
  readonly rollback: readonly RollbackRecord[];
}

export type IterationStatus = Extract<Status, 'succeeded' | 'failed' | 'rolled_back' | 'not_run'>;

export interface IterationReport {
  /** 1: the delivery to the first environment; 2, 3, …: the promotions to the next ones. */
  readonly iteration: number;
  readonly env: Environment;
  readonly status: IterationStatus;
  readonly imageTag?: string;
  readonly previousImageTag?: string;
  /** The environment was not settled before the iteration and `allowUnsettledTarget` let it go on: why. */
  readonly unsettledTarget?: string;
  /** The child workflow of iterations 2 and 3. */
  readonly workflowId?: string;
  /** Who approved the iteration's promotion (part B: with approvals from GitLab, the GitLab users), and why. */
  readonly approval?: { readonly by: string; readonly reason: string };
  /** The freeze window the iteration's promotion met before its merge (waited out, overridden or refused). */
  readonly freeze?: FreezeRecord;
  readonly steps: readonly StepRecord[];
}

export type ValidationStatus = Extract<Status, 'succeeded' | 'failed' | 'rolled_back'>;

/**
 * The report of a `validatePipeline` run: its result when it succeeded, the first detail of its failure otherwise
 * (runs started before the `validation-ends-failed` patch returned it as their result also then). `rolled_back`
 * when a step failed, a merge was reverted and every undo succeeded; `failed` when a step failed and no merge
 * needed reverting or an undo failed. src/temporal/run-outcome.ts reads it either way.
 */
export interface ValidationReport {
  readonly appName: string;
  readonly status: ValidationStatus;
  readonly through: Environment;
  readonly version?: string;
  readonly imageTag?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly iterations: readonly IterationReport[];
  readonly failure?: FailureSummary & { readonly step: string; readonly iteration: number };
  readonly rollback: readonly RollbackRecord[];
}

export type PromotionReportStatus = PromotionStatus | Extract<Status, 'failed' | 'rolled_back' | 'cancelled'>;

/**
 * A promotion run's report (`shepherd report promote-<app>-<env>`), built from its PromotionResult when it
 * completed or from its PromotionFailureDetails when it failed; where the run ran comes from its search attributes.
 */
export interface PromotionReport {
  readonly workflowId: string;
  readonly runId: string;
  readonly status: PromotionReportStatus;
  readonly appName: string;
  readonly sourceEnv: Environment | undefined;
  readonly targetEnv: Environment | undefined;
  readonly imageTag: string | undefined;
  readonly previousImageTag: string | undefined;
  readonly startedAt: string;
  readonly finishedAt: string | undefined;
  readonly durationMs: number | undefined;
  readonly mergeRequest?: PromotionResult['mergeRequest'];
  readonly mergeCommitSha?: string;
  readonly build?: PromotionResult['build'];
  readonly approval?: PromotionResult['approval'];
  readonly supersededBy?: string;
  /** The run went on with an unsettled target (`allowUnsettledTarget`), and why it was not settled. */
  readonly unsettledTarget?: string;
  /** The freeze window the run met before its merge: waited for, overridden (who, when, why) or refused. */
  readonly freeze?: FreezeRecord;
  readonly failure?: FailureSummary;
  readonly steps: readonly StepRecord[];
  readonly rollback: readonly RollbackRecord[];
}

/** When a run ran and under which id: what a promotion report adds to the run's own result. */
export interface RunTimes {
  readonly workflowId: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string | undefined;
  readonly durationMs: number | undefined;
}

/** The report of a promotion that completed, from its PromotionResult. */
export function promotionReportOfResult(run: RunTimes, result: PromotionResult): PromotionReport {
  const { status, appName, sourceEnv, targetEnv, imageTag, previousImageTag, steps, rollback } = result;
  return {
    ...run,
    status,
    appName,
    sourceEnv,
    targetEnv,
    imageTag: imageTag || undefined,
    previousImageTag,
    ...(result.mergeRequest ? { mergeRequest: result.mergeRequest } : {}),
    ...(result.mergeCommitSha ? { mergeCommitSha: result.mergeCommitSha } : {}),
    ...(result.build ? { build: result.build } : {}),
    ...(result.approval ? { approval: result.approval } : {}),
    ...(result.supersededBy ? { supersededBy: result.supersededBy } : {}),
    ...(result.unsettledTarget ? { unsettledTarget: result.unsettledTarget } : {}),
    ...(result.freeze ? { freeze: result.freeze } : {}),
    steps,
    rollback,
  };
}

/**
 * The report of a promotion that failed, from its PromotionFailureDetails: `rolled_back` when a revert of its merge
 * succeeded, else `failed` (unless `shown`, the status the run itself recorded, says which).
 */
export function promotionReportOfFailure(
  run: RunTimes,
  where: {
    readonly appName: string;
    readonly sourceEnv: Environment | undefined;
    readonly targetEnv: Environment | undefined;
  },
  details: PromotionFailureDetails,
  shown?: string,
): PromotionReport {
  const reverted = details.rollback.some(
    (record) => record.action === 'revert-merge-request' && record.status === 'succeeded',
  );
  const status: PromotionReportStatus =
    shown === 'failed' || shown === 'rolled_back' ? shown : reverted ? 'rolled_back' : 'failed';
  return {
    ...run,
    status,
    ...where,
    imageTag: details.imageTag,
    previousImageTag: details.previousImageTag,
    ...(details.unsettledTarget ? { unsettledTarget: details.unsettledTarget } : {}),
    ...(details.freeze ? { freeze: details.freeze } : {}),
    failure: details.failure,
    steps: details.steps,
    rollback: details.rollback,
  };
}

/** How a fan-out ended: see src/domain/fan-out.ts `fanOutStatus` for the rule. */
export type FanOutStatus = Extract<Status, 'succeeded' | 'failed' | 'rolled_back'>;

interface FanOutReportBase {
  readonly status: FanOutStatus;
  /** How many apps ran at a time, at most. */
  readonly concurrency: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
}

/**
 * The report of a `fanOutApps` run: one report per app, in the order the apps were named, each exactly what that
 * app's own run reports (`shepherd report validate-<app>`). An app whose run could not start or left no report
 * (refused, cancelled, terminated) has a `failed` report whose failure says why. The fan-out's result when every
 * app succeeded, the first detail of its failure otherwise.
 */
export type FanOutReport =
  | (FanOutReportBase & { readonly kind: 'validate'; readonly apps: readonly ValidationReport[] })
  | (FanOutReportBase & {
      readonly kind: 'promote';
      readonly sourceEnv: Environment;
      readonly targetEnv: Environment;
      readonly apps: readonly PromotionReport[];
    });

/** Whether `value` is a ValidationReport: a validation's result, or the first detail of its failure. */
export function isValidationReport(value: unknown): value is ValidationReport {
  const report = value as Partial<ValidationReport> | undefined;
  return typeof report?.status === 'string' && Array.isArray(report.iterations) && Array.isArray(report.rollback);
}

/** Whether `value` is a PromotionFailureDetails: the first detail of a failed promotion. */
export function isPromotionFailureDetails(value: unknown): value is PromotionFailureDetails {
  const details = value as Partial<PromotionFailureDetails> | undefined;
  return typeof details?.failure?.type === 'string' && Array.isArray(details.steps) && Array.isArray(details.rollback);
}
