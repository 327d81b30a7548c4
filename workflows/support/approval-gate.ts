/**
 * The approval gate of a promotion: the `approve` and `reject` updates, and the wait for one of them within the
 * policy's timeout. A decision is taken once; a timeout counts as a rejection.
 */
import { condition, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Environment } from '../../src/domain/environments.js';
import { ApprovalRejectedError, ValidationError } from '../../src/domain/errors.js';
import { parseApprovalDecision, type ApprovalPolicy } from '../../src/domain/inputs.js';
import { toApplicationFailure } from '../../src/temporal/common/failures.js';
import { approveUpdate, rejectUpdate, type ApprovalDecision, type ApprovalOutcome } from '../messages.js';
import { validated } from './failures.js';

export class ApprovalGate {
  private outcome: ApprovalOutcome | undefined;
  private reason = '';

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
   * Waits for the decision. Resolves to an approval; throws ApprovalRejectedError on a rejection, and on a timeout
   * after `onTimeout` (which tells people about it). `summary` names the timer on the UI's Timeline.
   */
  async decision(onTimeout: () => Promise<void>, summary: string): Promise<ApprovalOutcome> {
    const { timeout } = this.policy;
    // The timer's summary names the gate on the UI's Timeline; user metadata only, so replay is unaffected.
    const inTime = await condition(() => this.outcome !== undefined, timeout as Duration, { summary });
    if (!inTime) {
      await onTimeout();
      throw new ApprovalRejectedError({
        env: this.env,
        by: 'timeout',
        reason: `not approved within ${timeout}`,
        timedOut: true,
      });
    }
    const outcome = this.outcome!;
    if (outcome.decision === 'rejected')
      throw new ApprovalRejectedError({ env: this.env, by: outcome.by, reason: this.reason, timedOut: false });
    return outcome;
  }

  private decide(verdict: ApprovalOutcome['decision'], decision: ApprovalDecision): ApprovalOutcome {
    this.outcome = { decision: verdict, by: decision.by, at: new Date().toISOString() };
    this.reason = decision.reason ?? '';
    return this.outcome;
  }

  /** A refused payload is a ValidationError naming the field and the rule; it never reaches the history. */
  private validate(raw: ApprovalDecision): void {
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
