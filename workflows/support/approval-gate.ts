/**
 * The approval gate of a promotion: the `approve` and `reject` updates, and the wait for one of them within the
 * policy's timeout. A decision is taken once; a timeout counts as a rejection.
 *
 * The gate closes exactly once, in the activation that decides it: an accepted update closes it in its handler,
 * the timer closes it when it fires, before the run awaits anything else (the timeout notification). From then on
 * the validator refuses both updates, so an `approve` that arrives while the run tells people about the timeout is
 * refused with that reason instead of being answered "approved" and then unwound.
 */
import { condition, patched, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Environment } from '../../src/domain/environments.js';
import { ApprovalRejectedError, ValidationError } from '../../src/domain/errors.js';
import { parseApprovalDecision, type ApprovalPolicy } from '../../src/domain/inputs.js';
import { toApplicationFailure } from '../../src/temporal/common/failures.js';
import { approveUpdate, rejectUpdate, type ApprovalDecision, type ApprovalOutcome } from '../messages.js';
import { validated } from './failures.js';

/** How the gate tells people that it closed without an approval (a lost notification never fails the run). */
export interface GateNotices {
  readonly timedOut: () => Promise<void>;
  readonly rejected: (by: string, reason: string) => Promise<void>;
}

export class ApprovalGate {
  private outcome: ApprovalOutcome | undefined;
  private reason = '';
  /** Set when the timeout fired: the gate is closed and refuses every decision from then on. */
  private timedOutAt: string | undefined;

  /**
   * Installs the update handlers. `isAwaited` tells whether the run is at its approval step: before and after it,
   * and once decided, both updates are refused.
   */
  constructor(
    private readonly policy: ApprovalPolicy,
    private readonly env: Environment,
    private readonly isAwaited: () => boolean,
  ) {
    const validator = (raw: ApprovalDecision): void => this.validate(raw);
    setHandler(approveUpdate, (decision) => this.decide('approved', decision), { validator });
    setHandler(rejectUpdate, (decision) => this.decide('rejected', decision), { validator });
  }

  /** Who approved and why, once the promotion was approved. */
  get approval(): { by: string; reason: string } | undefined {
    return this.outcome?.decision === 'approved' ? { by: this.outcome.by, reason: this.reason } : undefined;
  }

  /**
   * Waits for the decision. Resolves to an approval; throws ApprovalRejectedError on a rejection after `tell`'s
   * `rejected` and on a timeout after its `timedOut` (each tells people about it). `summary` names the timer on the
   * UI's Timeline.
   */
  async decision(tell: GateNotices, summary: string): Promise<ApprovalOutcome> {
    const { timeout } = this.policy;
    // The timer's summary names the gate on the UI's Timeline; user metadata only, so replay is unaffected.
    const inTime = await condition(() => this.outcome !== undefined, timeout as Duration, { summary });
    // An update accepted in the activation in which the timer fired was answered "approved"/"rejected": it wins.
    const decided = inTime || (this.outcome !== undefined && patched(DECISION_BEATS_TIMER));
    if (!decided) {
      // Closed now, synchronously: the validator refuses whatever arrives while the run notifies and unwinds.
      this.timedOutAt = new Date().toISOString();
      await tell.timedOut();
      throw new ApprovalRejectedError({
        env: this.env,
        by: 'timeout',
        reason: `not approved within ${timeout}`,
        timedOut: true,
      });
    }
    const outcome = this.outcome!;
    if (outcome.decision === 'rejected') {
      if (patched(REJECTION_NOTIFIES)) await tell.rejected(outcome.by, this.reason);
      throw new ApprovalRejectedError({ env: this.env, by: outcome.by, reason: this.reason, timedOut: false });
    }
    return outcome;
  }

  private decide(verdict: ApprovalOutcome['decision'], decision: ApprovalDecision): ApprovalOutcome {
    this.outcome = { decision: verdict, by: decision.by, at: new Date().toISOString() };
    this.reason = decision.reason ?? '';
    return this.outcome;
  }

  /** A refused payload is a ValidationError naming the field and the rule; it never reaches the history. */
  private validate(raw: ApprovalDecision): void {
    if (this.timedOutAt !== undefined)
      throw new Error(
        `the approval timed out at ${this.timedOutAt} (not approved within ${this.policy.timeout}); the promotion is being unwound: start a new one to try again`,
      );
    if (!this.isAwaited() || this.outcome !== undefined) throw new Error('no approval is pending for this promotion');
    const decision = validated(() => parseApprovalDecision(raw));
    const { approvers } = this.policy;
    if (approvers.length > 0 && !approvers.includes(decision.by)) {
      throw toApplicationFailure(
        new ValidationError(
          'by',
          `must be one of the approvers for ${this.env}`,
          `${decision.by} is not on the approvers list for ${this.env}`,
        ),
      );
    }
  }
}

/**
 * An approval or rejection accepted in the same activation as the timeout's timer was already answered to its
 * caller; runs started with this patch honour it. Runs started before it treated the gate as timed out.
 */
const DECISION_BEATS_TIMER = 'approval-decision-beats-timer';

/** Runs started with this patch send the `rejected` notification on a rejection; older runs sent none. */
const REJECTION_NOTIFIES = 'approval-rejection-notifies';
