/**
 * The pause of a wait: until something changed (a watch event), the poll interval passed, or the activity was
 * cancelled, whichever comes first; never sooner than a small gap after the previous look, so that a burst of
 * events costs one look.
 */
import { Context } from '@temporalio/activity';

export class Wakeup {
  private changed = false;
  private release: (() => void) | undefined;

  /** Something changed: end the current pause (or the next one, if none is running). */
  notify = (): void => {
    this.changed = true;
    this.release?.();
  };

  /** Pauses as described above; rejects with CancelledFailure when the activity is cancelled. */
  async pause(maxMs: number, minMs: number): Promise<void> {
    const ctx = Context.current();
    await Promise.race([ctx.sleep(Math.min(minMs, maxMs)), ctx.cancelled]);
    if (this.changed) {
      this.changed = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      this.release = resolve;
      timer = setTimeout(resolve, Math.max(0, maxMs - minMs));
    });
    try {
      await Promise.race([done, ctx.cancelled]);
    } finally {
      clearTimeout(timer);
      this.release = undefined;
      this.changed = false;
    }
  }
}
