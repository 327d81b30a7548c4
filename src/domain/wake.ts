/**
 * The wake-up of a wait: what the webhook receiver sends (as the Temporal signal `wake`) to the runs an event
 * concerns, and what a waiting activity listens for. A wake-up is a hint only: the wait reads the state from the
 * system's API after it, so a forged, replayed or lost wake-up costs at most one extra read (or, lost, the wait
 * finds the change at its next fallback poll).
 *
 * Routing goes through Temporal so that it works whatever worker runs the wait and whatever receiver got the event:
 * the receiver signals the run (its business-key workflow id); the run's history gains a `WorkflowExecutionSignaled`
 * event at once; a waiting activity follows its own run's history with a long poll and looks again when a wake-up
 * for its system arrives.
 */
import type { SystemName } from './errors.js';

/** The signal name; the workflows register a handler for it (which does nothing: the activities act on it). */
export const WAKE_SIGNAL = 'wake';

/** The systems whose events wake waits. */
export type WakeSystem = Extract<SystemName, 'gitlab' | 'jenkins' | 'argocd'>;

/** The one argument of the `wake` signal. Small, and never carries a secret or the event's body. */
export interface WakeHint {
  /** Which system the event came from: a wait only looks again for events of the system it waits on. */
  readonly system: WakeSystem;
  /** The event, as the receiver names it: `merge_request`, `pipeline`, `push`, `build`, `application`. */
  readonly event: string;
  /** What it concerns, for logs and history readers: `MR !12 merge`, `app-ci #7 COMPLETED`. */
  readonly subject?: string;
  /** When the receiver got it (ISO 8601). */
  readonly receivedAt: string;
}
