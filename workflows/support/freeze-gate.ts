/**
 * The freeze gate of a promotion: before the merge changes the target, the run asks the worker whether the target
 * is frozen (check-freeze-window: the windows are the worker's pipeline's, never the run's input). Not frozen: it
 * goes on. Frozen with policy `wait`: it waits on a durable timer until the windows close, then checks again
 * (windows can follow each other, and the pipeline may have changed meanwhile). Frozen with policy `refuse`: it fails
 * with FreezeWindowError and the run unwinds as for any failure before its merge. At either, the `overrideFreeze`
 * update of an approver lets it merge at once; it is recorded (who, when, why, which window) and notified.
 *
 * Who vouches for an override's `by`: the same as for the `approve` update with approvals from Temporal. Only a
 * client allowed to send updates to this namespace can send it (Temporal's authorization, the operator's Temporal
 * credentials), and `by` must then be on the target's approvers list when it has one; the name itself is the
 * sender's claim. Where the target's approvals come from GitLab (part B), whose point is that GitLab authenticates
 * the person, that claim is not enough: the update is refused there, as the `approve` update is.
 *
 * Runs started before the `freeze-window-gate` patch have no gate.
 */
import { condition, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Environment } from '../../src/domain/environments.js';
import { FreezeWindowError, ValidationError } from '../../src/domain/errors.js';
import { parseApprovalDecision, type ApprovalPolicy } from '../../src/domain/inputs.js';
import type { PromotionPhase } from '../../src/domain/promotion-policy.js';
import type { FreezeRecord } from '../../src/domain/report.js';
import { toApplicationFailure } from '../../src/temporal/common/failures.js';
import { overrideFreezeUpdate, type FreezeOverride, type FreezeOverrideOutcome } from '../messages.js';
import type { ActivityProxies } from './activities.js';
import { validated } from './failures.js';
import { waitOptions, type Journal } from './journal.js';
import { showDetails, summarized } from './metadata.js';

/** What the gate needs of the run: who it is, its record, its activities, and its phase (shown while it waits). */
export interface FreezeGateRun {
  readonly appName: string;
  readonly journal: Journal;
  readonly activities: ActivityProxies;
  readonly state: { phase: PromotionPhase };
}

/** Runs started with this patch pass the freeze gate before their merge; older runs merged without it. */
const FREEZE_WINDOW_GATE = 'freeze-window-gate';

export class FreezeGate {
  private override: FreezeOverrideOutcome | undefined;
  private passed = false;
  private met: FreezeRecord | undefined;

  /**
   * Installs the `overrideFreeze` handler. `ahead` tells whether the run may still reach the gate (it will merge
   * and is not past its merge yet); once it passed the gate, or when it will not merge, overrides are refused.
   */
  constructor(
    private readonly approval: ApprovalPolicy,
    private readonly env: Environment,
    private readonly ahead: () => boolean,
  ) {
    setHandler(overrideFreezeUpdate, (raw) => this.accept(raw), { validator: (raw) => this.validate(raw) });
  }

  /** The freeze window the run met at the gate and how it got past it; undefined when none held the target. */
  get record(): FreezeRecord | undefined {
    return this.met;
  }

  /**
   * Passes the gate: returns once the target is not frozen or an override was given; throws FreezeWindowError when
   * it is frozen with policy `refuse` and no override was given.
   */
  async pass(run: FreezeGateRun, imageTag: string): Promise<void> {
    if (!patched(FREEZE_WINDOW_GATE)) return;
    const { appName, journal, activities, state } = run;
    const env = this.env;
    const place = { env, imageTag };
    const { workflowId } = workflowInfo();
    const howToOverride = `\`npx shepherd override-freeze ${workflowId} --by NAME --reason TEXT\``;
    let told = false;
    try {
      for (;;) {
        const at = new Date().toISOString();
        const found = await journal.step('check-freeze-window', place, () =>
          summarized(`check the freeze windows of ${env}`, activities.quick.checkFreezeWindow, { appName, env, at }),
        );
        if (!found.frozen) return;
        const { until, window, policy } = found;
        const reason = found.reason !== undefined ? { reason: found.reason } : {};
        const frozen = `frozen until ${until} (${window}${found.reason ? `: ${found.reason}` : ''})`;
        if (this.override) {
          this.met = { env, window, ...reason, until, policy, outcome: 'overridden', override: this.override };
          const { by, reason: why } = this.override;
          showDetails(`**freeze overridden** by ${by}: ${why}`, `${env} is ${frozen}`);
          await journal.notify(
            'freeze-overridden',
            `${appName} ${imageTag} → ${env}: the freeze (${window}, until ${until}) was overridden by ${by}: ${why}`,
            { env, imageTag },
          );
          return;
        }
        this.met = { env, window, ...reason, until, policy, outcome: policy === 'refuse' ? 'refused' : 'waited' };
        if (policy === 'refuse') throw new FreezeWindowError({ env, until, window, ...reason }, workflowId);
        state.phase = 'awaiting-freeze';
        journal.show('waiting-freeze', { env, imageTag, summary: `${frozen}: ${appName} ${imageTag} → ${env}` });
        showDetails(
          `**${env} is ${frozen}**: the merge of ${imageTag} waits until then`,
          `to merge now, an approver of ${env} runs ${howToOverride}`,
        );
        if (!told) {
          told = true;
          await journal.notify(
            'freeze-waiting',
            `${appName} ${imageTag} → ${env} waits: ${env} is ${frozen}; override: ${howToOverride}`,
            { env, imageTag },
          );
        }
        const ms = Math.max(1, Date.parse(until) - Date.now());
        await journal.step('freeze-window', waitOptions(place, ms / 1000, { kind: 'freeze', ref: window }), () =>
          condition(() => this.override !== undefined, ms, { summary: `${env} ${frozen}` }),
        );
      }
    } finally {
      this.passed = true;
    }
  }

  private accept(raw: FreezeOverride): FreezeOverrideOutcome {
    this.override = { by: raw.by, reason: raw.reason.trim(), at: new Date().toISOString() };
    return this.override;
  }

  /** A refused override is a ValidationError naming the field and the rule, or a sentence saying why not now. */
  private validate(raw: FreezeOverride): void {
    if (this.passed)
      throw new Error(`the promotion is past its freeze gate: there is no freeze of ${this.env} to override`);
    if (!this.ahead()) throw new Error('the promotion will not reach a merge: there is no freeze to override');
    if (this.override)
      throw new Error(`the freeze was already overridden by ${this.override.by} at ${this.override.at}`);
    if (this.approval.source === 'gitlab')
      throw new Error(
        `approvals for ${this.env} come from GitLab, which vouches for who gives them; the overrideFreeze update carries no identity GitLab vouches for and is refused: the run merges when the window closes; to merge sooner, change the freeze windows of ${this.env} in the pipeline file, restart the workers, cancel this promotion and start it again (the gate reads the windows from the worker's pipeline)`,
      );
    const decision = validated(() => parseApprovalDecision(raw));
    if ((decision.reason ?? '').trim() === '')
      throw toApplicationFailure(
        new ValidationError(
          'reason',
          'must say why the freeze is overridden',
          'reason must say why the freeze is overridden (--reason TEXT)',
        ),
      );
    const { approvers } = this.approval;
    if (approvers.length > 0 && !approvers.includes(decision.by))
      throw toApplicationFailure(
        new ValidationError(
          'by',
          `must be one of the approvers for ${this.env}`,
          `${decision.by} is not on the approvers list for ${this.env}`,
        ),
      );
  }
}
