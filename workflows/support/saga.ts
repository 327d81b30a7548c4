/**
 * The undo stack of a run (style habit 7). An undo is pushed only after its step succeeded; `unwind` runs them
 * newest first inside a non-cancellable scope, so a cancelled run still cleans up. An undo that fails is recorded
 * with its reason and the unwinding carries on with the next one.
 */
import type { Environment } from '../../src/domain/environments.js';
import { summarizeFailure } from '../../src/temporal/common/failures.js';
import type { RollbackRecord } from '../../src/domain/report.js';
import { shielded } from './shield.js';

export interface Undo {
  readonly action: RollbackRecord['action'];
  readonly env?: Environment;
  /** What it acts on, e.g. `!12` or `promote-stage-1.0.37-a1b2c3d`. */
  readonly target: string;
  readonly fromImageTag?: string;
  readonly toImageTag?: string;
  /** Does the undo; resolves to a detail for the report, or `skipped` when there was nothing to do. */
  readonly run: () => Promise<string | { skipped: string } | void>;
  /** Undos that only make sense after this one succeeded (e.g. wait for the previous image after a revert). */
  readonly then?: readonly Undo[];
}

export class Saga {
  private readonly undos: Undo[] = [];

  push(...undos: Undo[]): void {
    this.undos.push(...undos);
  }

  /** Forgets the undos of an environment the run verified: it keeps the new image unless the scope is `all`. */
  settle(env: Environment): void {
    for (let index = this.undos.length - 1; index >= 0; index--)
      if (this.undos[index]!.env === env) this.undos.splice(index, 1);
  }

  /** Forgets one undo whose step has nothing left to undo (a job that has finished needs no stopping). */
  drop(undo: Undo): void {
    const index = this.undos.indexOf(undo);
    if (index >= 0) this.undos.splice(index, 1);
  }

  get size(): number {
    return this.undos.length;
  }

  /** Runs every undo, newest first, shielded from cancellation; appends what happened to `into`. */
  async unwind(into: RollbackRecord[]): Promise<void> {
    const pending = this.undos.splice(0).reverse();
    await shielded(async () => {
      for (const undo of pending) await runUndo(undo, into);
    });
  }
}

async function runUndo(undo: Undo, into: RollbackRecord[]): Promise<void> {
  const base = {
    action: undo.action,
    target: undo.target,
    ...(undo.env ? { env: undo.env } : {}),
    ...(undo.fromImageTag ? { fromImageTag: undo.fromImageTag } : {}),
    ...(undo.toImageTag ? { toImageTag: undo.toImageTag } : {}),
  };
  try {
    const outcome = await undo.run();
    if (outcome && typeof outcome === 'object') into.push({ ...base, status: 'skipped', detail: outcome.skipped });
    else into.push({ ...base, status: 'succeeded', ...(outcome ? { detail: outcome } : {}) });
  } catch (err) {
    const failure = summarizeFailure(err);
    into.push({ ...base, status: 'failed', detail: failure.message, failure });
    for (const next of undo.then ?? [])
      into.push({
        action: next.action,
        target: next.target,
        ...(next.env ? { env: next.env } : {}),
        status: 'skipped',
        detail: `not attempted: ${undo.action} failed`,
      });
    return;
  }
  for (const next of undo.then ?? []) await runUndo(next, into);
}
