/**
 * The messages Shepherd's workflows answer. Clients (CLI, webhook, tests) import these definitions; the names are
 * part of the public interface (`temporal workflow update execute --name approve …`) and never change.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CurrentImage } from '../src/domain/promotion-policy.js';
import type { Progress } from '../src/domain/report.js';
import { WAKE_SIGNAL, type WakeHint } from '../src/domain/wake.js';

/** Who decides and why. `by` must be on the approvers list when the list is not empty. */
export interface ApprovalDecision {
  readonly by: string;
  readonly reason?: string;
}

export interface ApprovalOutcome {
  readonly decision: 'approved' | 'rejected';
  readonly by: string;
  readonly at: string;
}

/** A newer image for the same target; `by` names who asked. */
export interface SupersedeRequest {
  readonly imageTag: string;
  readonly by?: string;
}

export interface SupersedeOutcome {
  readonly supersededImageTag: string | undefined;
}

/** Approves the waiting promotion. Refused (validator) when no approval is pending or `by` may not approve. */
export const approveUpdate = defineUpdate<ApprovalOutcome, [ApprovalDecision]>('approve');

/** Rejects the waiting promotion; the run closes its MR and branch and fails with ApprovalRejectedError. */
export const rejectUpdate = defineUpdate<ApprovalOutcome, [ApprovalDecision]>('reject');

/**
 * Replaces a promotion still before its merge with a newer image: the run closes its MR, deletes its branch and
 * ends as `superseded`. Refused once the run is merging, and for the image it already promotes (join instead).
 */
export const supersedeUpdate = defineUpdate<SupersedeOutcome, [SupersedeRequest]>('supersede');

/** Who overrides a freeze window of the target, and why: `by` as for `approve`; `reason` is required. */
export interface FreezeOverride {
  readonly by: string;
  readonly reason: string;
}

export interface FreezeOverrideOutcome {
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

/**
 * Lets a promotion merge into its frozen target now: accepted while the run waits at its freeze gate or has not
 * reached it yet (then it applies when it does). Refused once the run is past the gate or will not merge, when `by`
 * is not one of the target's approvers (when it has a list), without a reason, and where approvals come from
 * GitLab. Recorded in the report (who, when, why, which window) and sent as the `freeze-overridden` notification.
 */
export const overrideFreezeUpdate = defineUpdate<FreezeOverrideOutcome, [FreezeOverride]>('overrideFreeze');

/** Steps so far, the current one (what it waits on, since when, until when) and any undo that ran. */
export const progressQuery = defineQuery<Progress>('progress');

/** The image a promotion run promotes and its phase: what `decidePromotionRequest` needs. */
export const currentImageQuery = defineQuery<CurrentImage>('currentImage');

/** Sent by a validation to its lock (holdValidationLock) once it has unwound: the app is free for the next one. */
export const releaseValidationLockSignal = defineSignal('releaseValidationLock');

/**
 * A system announced a change this run may be waiting for (sent by the webhook receiver). The workflow does nothing
 * with it: its waiting activity follows the run's history and looks again (src/domain/wake.ts). Handled so that
 * the signal is not buffered as unhandled.
 */
export const wakeSignal = defineSignal<[WakeHint]>(WAKE_SIGNAL);

/**
 * Part B: the approval a promotion waits for, as `shepherd approve` needs it: where it comes from and, from GitLab,
 * the MR and the head the run opened (the `sha` an approval must name). Null when no approval is pending.
 */
export interface PendingApproval {
  readonly env: string;
  readonly source: 'temporal' | 'gitlab';
  readonly mergeRequest?: { readonly iid: number; readonly webUrl: string; readonly headSha: string };
}

/** Part B: answers what approval the run waits for (null: none). */
export const pendingApprovalQuery = defineQuery<PendingApproval | null>('pendingApproval');
