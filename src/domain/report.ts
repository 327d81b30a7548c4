/**
 * What a run tells about itself: the steps so far (progress query, report) and, for a finished run, the report.
 * Serialisable and secret-free: links are web URLs of MRs and builds, never API URLs with tokens.
 */
import type { Environment } from './environments.js';
import type { FailureSummary } from './errors.js';

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What a step waits on, for the progress query. */
export interface WaitingOn {
  readonly kind: 'merge-request' | 'build' | 'argo-app' | 'workload' | 'approval' | 'child-workflow';
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
  readonly action: 'revert-merge-request' | 'await-previous-image' | 'close-merge-request' | 'delete-branch';
  readonly env?: Environment;
  readonly status: 'succeeded' | 'failed' | 'skipped';
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

export type PromotionStatus = 'succeeded' | 'merge-request-opened' | 'unchanged' | 'superseded';

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
  readonly steps: readonly StepRecord[];
  readonly rollback: readonly RollbackRecord[];
}

/** The first detail of a failed `promoteEnvironment`: the original failure, the steps and what was undone. */
export interface PromotionFailureDetails {
  readonly failure: FailureSummary;
  readonly imageTag: string | undefined;
  readonly previousImageTag: string | undefined;
  readonly steps: readonly StepRecord[];
  readonly rollback: readonly RollbackRecord[];
}

export type IterationStatus = 'succeeded' | 'failed' | 'rolled_back' | 'not_run';

export interface IterationReport {
  readonly iteration: 1 | 2 | 3;
  readonly env: Environment;
  readonly status: IterationStatus;
  readonly imageTag?: string;
  readonly previousImageTag?: string;
  /** The child workflow of iterations 2 and 3. */
  readonly workflowId?: string;
  readonly steps: readonly StepRecord[];
}

export type ValidationStatus = 'succeeded' | 'failed' | 'rolled_back';

/**
 * What `validatePipeline` returns, also when it failed: `rolled_back` when a step failed and every undo
 * succeeded, `failed` when a step failed and there was nothing to undo or an undo failed.
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
  readonly failure?: FailureSummary & { readonly step: string; readonly iteration: 1 | 2 | 3 };
  readonly rollback: readonly RollbackRecord[];
}
