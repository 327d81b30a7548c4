/**
 * One item of the build queue and the texts Jenkins shows for it. Items move waiting (quiet period) → buildable
 * or blocked → left (started, or cancelled); the model drives the moves.
 */
import type { Build } from './build.js';
import type { BuildCause, ParameterValue } from './types.js';

export const QUEUE_ITEM_STATES = ['waiting', 'blocked', 'buildable', 'left'] as const;
export type QueueItemState = (typeof QUEUE_ITEM_STATES)[number];

export class QueueItem {
  state: QueueItemState = 'waiting';
  /** Causes folded into this item; more are added when identical triggers are coalesced. */
  readonly causes: BuildCause[];
  /** Epoch ms at which the quiet period ends. */
  readonly timestamp: number;
  /** Epoch ms when the item became buildable (or blocked). */
  buildableStartMilliseconds: number | undefined;
  /** The running build that blocks this item (non-concurrent jobs). */
  blockedBy: Build | undefined;
  /** Set once an executor could have taken the item (after the pick-up delay). */
  pickupReady = false;
  /** No executor will ever take it (JobDefinition.starvedInQueue): it waits until cancelled. */
  starved = false;
  cancelled = false;
  /** The build this item became, once it left the queue. */
  executable: Build | undefined;
  leftAt: number | undefined;

  constructor(
    readonly id: number,
    readonly jobPath: readonly string[],
    readonly parameters: readonly ParameterValue[],
    cause: BuildCause,
    readonly inQueueSince: number,
    quietPeriodMs: number,
  ) {
    this.causes = [cause];
    this.timestamp = inQueueSince + quietPeriodMs;
  }

  get inQueue(): boolean {
    return this.state !== 'left';
  }

  /** Jenkins' `params` field: one `\nNAME=value` per parameter. */
  get paramsText(): string {
    return this.parameters.map((p) => `\n${p.name}=${String(p.value)}`).join('');
  }

  /** Jenkins' `why`: the reason the item is still queued, or null once it left. */
  why(now: number): string | null {
    switch (this.state) {
      case 'waiting':
        return `In the quiet period. Expires in ${timeSpan(Math.max(0, this.timestamp - now))}`;
      case 'buildable':
        return 'Waiting for next available executor';
      case 'blocked': {
        const build = this.blockedBy;
        if (!build) return 'Waiting for next available executor';
        const remaining = build.estimatedDuration - (now - build.timestamp);
        const eta = build.estimatedDuration < 0 || remaining <= 0 ? 'N/A' : timeSpan(remaining);
        return `Build #${build.number} is already in progress (ETA: ${eta})`;
      }
      case 'left':
        return null;
    }
  }
}

/** Jenkins' `Util.getTimeSpanString`: the two most significant units, e.g. `2 min 55 sec`, `4.9 sec`, `350 ms`. */
export function timeSpan(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  if (hours > 0) return `${hours} hr ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${seconds} sec`;
  if (ms >= 10_000) return `${seconds} sec`;
  if (ms >= 1000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} sec`;
  return `${Math.floor(ms)} ms`;
}
