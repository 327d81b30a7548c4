/**
 * Supersede handling of a promotion (the policy is in src/domain/promotion-policy.ts): the `supersede` update
 * cancels the part of the run before the merge, so that the run unwinds and ends as `superseded`.
 */
import { CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
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

  /** Whether `err` is the cancellation a supersede caused. */
  caused(err: unknown): boolean {
    return this.newerImageTag !== undefined && isCancellation(err);
  }
}
