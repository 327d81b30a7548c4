/**
 * A controller's work queue, as Kubernetes controllers keep one: a key added while a flush is pending is queued
 * once (its work merged with what was already queued for it), and the flush runs on the clock's next tick, in the
 * order the keys were first added.
 */
import type { Clock } from './clock.js';

export class WorkQueue<K, W> {
  private readonly pending = new Map<K, W>();
  private flushScheduled = false;
  private readonly clock: Clock;
  private readonly merge: (queued: W, next: W) => W;
  private readonly run: (key: K, work: W) => void;

  /** `merge` combines the work already queued for a key with the work added now; `run` does one key's work. */
  constructor(clock: Clock, merge: (queued: W, next: W) => W, run: (key: K, work: W) => void) {
    this.clock = clock;
    this.merge = merge;
    this.run = run;
  }

  add(key: K, work: W): void {
    const queued = this.pending.get(key);
    this.pending.set(key, queued === undefined ? work : this.merge(queued, work));
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.clock.after(0, () => {
      this.flushScheduled = false;
      const batch = [...this.pending];
      this.pending.clear();
      for (const [k, w] of batch) this.run(k, w);
    });
  }
}
