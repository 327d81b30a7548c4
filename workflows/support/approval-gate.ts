/**
 * The approval gate of a promotion: the `approve` and `reject` updates, and the wait for one of them within the
 * policy's timeout. A decision is taken once; a timeout counts as a rejection.
 *
 * The gate closes exactly once, in the activation that decides it: an accepted update closes it in its handler,
 * the timer closes it when it fires, before the run awaits anything else (the timeout notification). From then on
 * the validator refuses both updates, so an `approve` that arrives while the run tells people about the timeout is
 * refused with that reason instead of being answered "approved" and then unwound.
 *
 * With approvals from GitLab (policy source `gitlab`, part B) the approval is the MR's approval in GitLab, which
 * authenticates the person and enforces its rules: the `approve` update is refused (it carries no identity), the
 * gate waits for the awaitMergeRequestApproval activity and records the GitLab users who approved. `reject` still
 * works through the update (anyone with write access to the namespace may stop a promotion), as does closing the MR
 * in GitLab.
 */
import { CancellationScope, condition, patched, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Environment } from '../../src/domain/environments.js';
import { ApprovalRejectedError, ValidationError } from '../../src/domain/errors.js';
import { parseApprovalDecision, type ApprovalPolicy } from '../../src/domain/inputs.js';
import { summarizeFailure, toApplicationFailure } from '../../src/temporal/common/failures.js';
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
  /** Which update the validator checks (the `approve` update is refused when approvals come from GitLab). */
  private deciding: 'approve' | undefined;
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
    const approveValidator = (raw: ApprovalDecision): void => {
      this.deciding = 'approve';
      try {
        this.validate(raw);
      } finally {
        this.deciding = undefined;
      }
    };
    setHandler(approveUpdate, (decision) => this.decide('approved', decision), { validator: approveValidator });
    setHandler(rejectUpdate, (decision) => this.decide('rejected', decision), { validator });
  }

  /** Part B: what the GitLab approval said, once the promotion was approved in GitLab. */
  private gitlab: { by: string; reason: string } | undefined;

  /** Who approved and why, once the promotion was approved. */
  get approval(): { by: string; reason: string } | undefined {
    if (this.outcome?.decision !== 'approved') return undefined;
    return this.gitlab ?? { by: this.outcome.by, reason: this.reason };
  }

  /**
   * Part B: waits for the approval of the promotion's MR in GitLab (`approved`, the awaitMergeRequestApproval
   * activity, bounded by the policy's timeout) or a `reject` update, whichever comes first; a reject cancels the
   * wait. Resolves to the approval, `by` the GitLab usernames who approved. Throws ApprovalRejectedError after
   * `tell`'s `rejected` on a rejection (the update, or the MR closed in GitLab) and after its `timedOut` on a
   * timeout; any other failure of the wait (GitLab unreachable to the end) as it is.
   */
  async gitlabDecision(
    approved: () => Promise<{ by: string; reason: string }>,
    tell: GateNotices,
  ): Promise<ApprovalOutcome> {
    const scope = new CancellationScope();
    const waiting = scope.run(approved).then(
      (approval) => ({ approval }),
      (error: unknown) => ({ error }),
    );
    const decided = await Promise.race([waiting, condition(() => this.outcome !== undefined).then(() => undefined)]);
    if (decided === undefined) {
      // A `reject` update: stop waiting for GitLab, then unwind like any rejection.
      scope.cancel();
      await waiting;
      const { by } = this.outcome!;
      await tell.rejected(by, this.reason);
      throw new ApprovalRejectedError({ env: this.env, by, reason: this.reason, timedOut: false });
    }
    if ('approval' in decided) {
      this.outcome = { decision: 'approved', by: decided.approval.by, at: new Date().toISOString() };
      this.gitlab = decided.approval;
      return this.outcome;
    }
    const failure = summarizeFailure(decided.error);
    if (failure.type !== 'ApprovalRejectedError') throw decided.error;
    const facts = failure.facts as { by?: string; reason?: string; timedOut?: boolean } | undefined;
    // Closed for good: the validator refuses whatever arrives while the run notifies and unwinds.
    this.outcome = { decision: 'rejected', by: facts?.by ?? 'GitLab', at: new Date().toISOString() };
    if (facts?.timedOut) {
      this.timedOutAt = this.outcome.at;
      await tell.timedOut();
    } else await tell.rejected(this.outcome.by, facts?.reason ?? failure.message);
    throw new ApprovalRejectedError({
      env: this.env,
      by: this.outcome.by,
      reason: facts?.timedOut
        ? `not approved in GitLab within ${this.policy.timeout}`
        : (facts?.reason ?? failure.message),
      timedOut: facts?.timedOut ?? false,
    });
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
    if (this.policy.source === 'gitlab' && this.deciding === 'approve')
      throw new Error(
        `approvals for ${this.env} come from GitLab: an eligible user approves the promotion's merge request in GitLab, or runs \`shepherd approve\` with their own GitLab token (SHEPHERD_APPROVER_TOKEN); the \`approve\` update carries no identity and is refused`,
      );
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
