/**
 * One promotion per app and environment. Promotions run under the business key `promote-<app>-<env>`, so a
 * second request for the same target meets the running one, and this policy decides what happens:
 *
 * - nothing is running → **start** a new run;
 * - the running one promotes the same image, or the request names no image (it would promote what the source
 *   runs, which the running one already resolved) → **join**: wait for the running one's result;
 * - the running one promotes another image and is still before its merge (opening the MR, waiting for approval
 *   or for a freeze window to close)
 *   → **supersede**: send it `supersedeUpdate`; it closes its MR, deletes its branch and ends as `superseded`;
 *   then start the new one;
 * - the running one is merging or later → **wait**: an environment is never switched mid-rollout; retry after it
 *   finishes.
 */
import type { Environment } from './environments.js';

export function promotionWorkflowId(appName: string, env: Environment): string {
  return `promote-${appName}-${env}`;
}

export function validationWorkflowId(appName: string): string {
  return `validate-${appName}`;
}

/**
 * The lock every validation of an app holds while it runs: a child workflow under this id. Temporal runs at most
 * one workflow per id, so of two validations of one app — whatever started them (the CLI as `validate-<app>`, the
 * schedule as `validate-<app>-<time>`, the chaos runner) — the second cannot start its lock and ends before it
 * changed anything. The lock is per Shepherd installation, i.e. per task queue: the schedule, `trigger` and
 * `validate` of one installation all start their runs on its task queue.
 */
export function validationLockWorkflowId(appName: string, taskQueue: string): string {
  return `lock-validate-${appName}@${taskQueue}`;
}

/** Phases of a promotion run, in order. */
export type PromotionPhase =
  | 'validating'
  | 'resolving'
  | 'opening'
  | 'awaiting-approval'
  /** Waiting at the freeze gate, before the merge, for the target's freeze window to close. */
  | 'awaiting-freeze'
  | 'merging'
  | 'syncing'
  | 'verifying'
  | 'compensating'
  | 'finished';

/** Phases in which a newer image may still replace the running one. */
export const SUPERSEDABLE_PHASES: readonly PromotionPhase[] = [
  'validating',
  'resolving',
  'opening',
  'awaiting-approval',
  'awaiting-freeze',
];

/** What `currentImageQuery` answers. */
export interface CurrentImage {
  readonly imageTag: string | undefined;
  readonly phase: PromotionPhase;
}

export type PromotionRequestDecision = 'start' | 'join' | 'supersede' | 'wait';

/** Decides what to do with a request for `requestedImageTag` (undefined: auto-detect) given the running promotion. */
export function decidePromotionRequest(
  running: CurrentImage | undefined,
  requestedImageTag: string | undefined,
): PromotionRequestDecision {
  if (running === undefined || running.phase === 'finished') return 'start';
  if (requestedImageTag === undefined || running.imageTag === requestedImageTag) return 'join';
  return SUPERSEDABLE_PHASES.includes(running.phase) ? 'supersede' : 'wait';
}

/**
 * The fan-out that `validate --all` / `promote --all` start (fanOutApps): one per kind (and target) at a time on a
 * task queue, so that a second `--all` meets the running one instead of racing it. The prefix keeps it apart from
 * every app's own ids (`validate-<app>`, `promote-<app>-<env>`).
 */
export function fanOutWorkflowId(kind: 'validate' | 'promote', targetEnv?: Environment): string {
  return kind === 'validate' ? 'fan-out-validate' : `fan-out-promote-${targetEnv ?? 'unknown'}`;
}
