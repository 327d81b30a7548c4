/**
 * Supersede handling of a promotion (the policy is in src/domain/promotion-policy.ts): the `supersede` update
 * cancels the part of the run before the merge, so that the run unwinds and ends as `superseded`.
 *
 * Cancelling the scope stops only what the run awaits cancellably. The mutating calls are shielded (their undo must
 * know what they changed), so a supersede accepted while one runs — or before the scope even started — would let
 * the run carry on to the merge. `stopIfSuperseded` is therefore called before every mutation and after every
 * shielded call: once superseded, the run stops there and unwinds.
 */
import { CancellationScope, CancelledFailure, isCancellation, patched, setHandler } from '@temporalio/workflow';
import { SUPERSEDABLE_PHASES, type CurrentImage } from '../../src/domain/promotion-policy.js';
import { supersedeUpdate } from '../messages.js';

export class Supersede {
  private readonly beforeMerge = new CancellationScope();
  private newerImageTag: string | undefined;

  /** Installs the update handler; `current` is the run's image and phase, as `currentImageQuery` answers. */
  constructor(current: () => CurrentImage) {
    setHandler(
      supersedeUpdate,
      (request) => {
        const superseded = current().imageTag;
        this.newerImageTag = request.imageTag;
        this.beforeMerge.cancel();
        return { supersededImageTag: superseded };
      },
      {
        validator: (request) => {
          const { imageTag, phase } = current();
          if (!SUPERSEDABLE_PHASES.includes(phase) || this.newerImageTag !== undefined)
            throw new Error(`too late to supersede: the promotion is ${phase}`);
          if (request?.imageTag === undefined || request.imageTag === imageTag)
            throw new Error('the same image joins the running promotion');
        },
      },
    );
  }

  /** The newer image this run gave way to, once superseded. */
  get byImageTag(): string | undefined {
    return this.newerImageTag;
  }

  /** Runs the steps a newer image may still cancel: everything before the merge. */
  beforeMergeRun<T>(steps: () => Promise<T>): Promise<T> {
    return this.beforeMerge.run(steps);
  }

  /**
   * Throws the supersede's cancellation when the run was superseded: call it before a mutation (open the MR, merge)
   * and after a shielded call. Runs started before the patch carried on (and merged the old image).
   */
  stopIfSuperseded(): void {
    if (this.newerImageTag !== undefined && patched(STOPS_BEFORE_MUTATIONS))
      throw new CancelledFailure(`superseded by ${this.newerImageTag}`);
  }

  /** Whether `err` is the cancellation a supersede caused. */
  caused(err: unknown): boolean {
    return this.newerImageTag !== undefined && isCancellation(err);
  }
}

/** Runs started with this patch stop at the next mutation once superseded, even in a shielded stretch. */
const STOPS_BEFORE_MUTATIONS = 'supersede-stops-before-mutations';
