/**
 * The one wait loop of the activities. A wait says what one look is and when it is done; `pollUntil` owns the rest:
 *
 * - Deadline: the wait ends at `deadline` (epoch ms) with WaitTimeoutError naming what it waited for, how long
 *   (from `startedAt`, the first attempt's start, so the report covers every attempt) and what it saw last; or with
 *   the wait's own `timedOut` error.
 * - Heartbeat and resume: the progress is heartbeated after every look, and during a long pause at least every
 *   third of the heartbeat timeout; the caller starts from the progress an
 *   earlier attempt heartbeated (`ActivityContext.resumed`), so a retry carries on instead of starting over.
 * - Pause: `intervalMs` between looks, longer when the system asked for it (Retry-After), never past the deadline
 *   or the wait's own `pauseMs`; cut short by a watch event when the wait has `watch`es (after a small gap, so that
 *   a burst of events costs one look).
 * - Outage as an empty look: a look that fails with TransientError (the system down, a 5xx, a 429) saw nothing. It
 *   is heartbeated as `<System> unreachable: …` and the wait carries on at its pace, so an outage longer than the
 *   budget ends the wait at its deadline with WaitTimeoutError naming the system, instead of failing the attempt and
 *   leaving the retry policy to give up long after the deadline. Any other error ends the wait at once. An undo
 *   whose retry policy rides out outages for hours opts out (`outages: 'fail-attempt'`).
 * - Cancellation: the pause ends with CancelledFailure when the activity is cancelled; looks get the activity's
 *   cancellation signal through their client calls.
 */
import { Context } from '@temporalio/activity';
import { TransientError, WaitTimeoutError, type ShepherdError, type SystemName } from '../src/domain/errors.js';

/** What every wait's progress carries: the last thing it saw, for the heartbeat and the timeout. */
export interface WaitProgress {
  readonly lastSeen?: string | undefined;
}

/** The outcome of one look: done with the result, or the progress to heartbeat before the next look. */
export type Step<S, R> = { readonly done: R; readonly progress?: S } | { readonly progress: S };

/** Something that wakes the wait early (a Kubernetes watch); stopped when the wait ends. */
export interface Watch {
  stop(): void;
}

export interface Wait<S extends WaitProgress, R> {
  /** What the wait is for, as WaitTimeoutError says it ("Jenkins app-ci #12 to finish"). */
  readonly waitingFor: string;
  /** When the first attempt started waiting (epoch ms). */
  readonly startedAt: number;
  /** When the wait gives up (epoch ms). */
  readonly deadline: number;
  /** Where the wait starts: fresh, or what an earlier attempt heartbeated. */
  readonly progress: S;
  /** The pause between looks. */
  readonly intervalMs: number;
  /** One look. Throws to end the wait (a failed build, a degraded app); a TransientError is an empty look. */
  readonly look: (progress: S) => Promise<Step<S, R>>;
  readonly heartbeat: (progress: S) => void;
  /** Starts watches that call `wake` when something changed. */
  readonly watch?: (wake: () => void) => readonly Watch[];
  /** An upper bound of the next pause set by the wait (the end of a stability window). */
  readonly pauseMs?: (progress: S, now: number) => number;
  /** The progress after an empty look; by default the progress with `lastSeen` set to the outage. */
  readonly onOutage?: (progress: S, unreachable: string) => S;
  /**
   * The error at the deadline when the wait has one of its own (MergeRequestNotFoundError); undefined or absent:
   * WaitTimeoutError. `unreachable`: the last look was an outage.
   */
  readonly timedOut?: (progress: S, unreachable: boolean) => ShepherdError | undefined;
  /** `fail-attempt`: a TransientError fails the attempt instead of being an empty look. */
  readonly outages?: 'empty-look' | 'fail-attempt';
  /** The clock; `Date.now` unless a test moves it. */
  readonly now?: () => number;
}

/** The systems as a message names them. */
const SYSTEM_LABELS: Record<SystemName, string> = {
  gitlab: 'GitLab',
  jenkins: 'Jenkins',
  kubernetes: 'the Kubernetes API',
  argocd: 'Argo CD',
  notifications: 'the notification webhook',
  shepherd: 'Shepherd',
};

/** Why an outage look saw nothing, as heartbeats and timeouts say it. */
export function unreachable(err: TransientError): string {
  return `${SYSTEM_LABELS[err.facts.system]} unreachable: ${err.message}`;
}

/** Looks until `look` is done, the deadline passes, or the activity is cancelled. */
export async function pollUntil<S extends WaitProgress, R>(wait: Wait<S, R>): Promise<R> {
  const now = wait.now ?? Date.now;
  const wakeup = new Wakeup();
  const watches = wait.watch?.(wakeup.notify) ?? [];
  let progress = wait.progress;
  try {
    for (;;) {
      let step: Step<S, R> | undefined;
      let retryAfterMs = 0;
      try {
        step = await wait.look(progress);
      } catch (err) {
        if (!(err instanceof TransientError) || wait.outages === 'fail-attempt') throw err;
        const why = unreachable(err);
        progress = wait.onOutage?.(progress, why) ?? { ...progress, lastSeen: why };
        retryAfterMs = (err.facts.retryAfterSeconds ?? 0) * 1000;
      }
      if (step) {
        if (step.progress) progress = step.progress;
        if ('done' in step) {
          if (step.progress) wait.heartbeat(progress);
          return step.done;
        }
      }
      wait.heartbeat(progress);
      const at = now();
      if (at >= wait.deadline) {
        throw (
          wait.timedOut?.(progress, step === undefined) ??
          new WaitTimeoutError({
            waitingFor: wait.waitingFor,
            timeoutSeconds: Math.max(0, Math.round((wait.deadline - wait.startedAt) / 1000)),
            ...(progress.lastSeen !== undefined ? { lastSeen: progress.lastSeen } : {}),
          })
        );
      }
      const pause = Math.min(
        Math.max(wait.intervalMs, retryAfterMs),
        wait.deadline - at,
        wait.pauseMs?.(progress, at) ?? Number.POSITIVE_INFINITY,
      );
      // A long pause (the webhook fallback) is cut into slices that each end with a heartbeat of the same progress:
      // a pause longer than the heartbeat timeout would otherwise make Temporal give the wait up for dead.
      let left = Math.max(1, pause);
      let minMs = watches.length > 0 ? Math.min(100, wait.intervalMs) : left;
      for (;;) {
        const slice = Math.min(left, heartbeatSliceMs());
        const woke = await wakeup.pause(slice, Math.min(minMs, slice));
        left -= slice;
        if (woke || left <= 0) break;
        minMs = 0;
        wait.heartbeat(progress);
      }
    }
  } finally {
    for (const w of watches) w.stop();
  }
}

/** The longest pause without a heartbeat: a third of the activity's heartbeat timeout, or 20 s without one. */
function heartbeatSliceMs(): number {
  const timeout = Context.current().info.heartbeatTimeoutMs;
  return timeout !== undefined && timeout > 0 ? Math.max(1, Math.floor(timeout / 3)) : 20_000;
}

/**
 * The pause of a wait: until something changed (a watch event), the pause passed, or the activity was cancelled,
 * whichever comes first; never sooner than `minMs` after the previous look.
 */
class Wakeup {
  private changed = false;
  private release: (() => void) | undefined;

  /** Something changed: end the current pause (or the next one, if none is running). */
  notify = (): void => {
    this.changed = true;
    this.release?.();
  };

  /** True when something changed, false when the pause ran out. Rejects with CancelledFailure on cancellation. */
  async pause(maxMs: number, minMs: number): Promise<boolean> {
    const ctx = Context.current();
    await ctx.sleep(Math.max(0, Math.min(minMs, maxMs)));
    if (this.changed || minMs >= maxMs) {
      const changed = this.changed;
      this.changed = false;
      return changed;
    }
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      this.release = resolve;
      timer = setTimeout(resolve, Math.max(0, maxMs - minMs));
    });
    try {
      await Promise.race([done, ctx.cancelled]);
      return this.changed;
    } finally {
      clearTimeout(timer);
      this.release = undefined;
      this.changed = false;
    }
  }
}
