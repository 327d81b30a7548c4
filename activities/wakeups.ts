/**
 * Event-driven waits: how a waiting activity learns that the system it waits on announced a change.
 *
 * The webhook receiver signals `wake` (src/domain/wake.ts) to the runs an event concerns. Temporal appends the
 * signal to the run's history at once, whatever worker runs the run and whatever receiver got the event. The
 * waiting activity follows its own run's history with a long poll (`GetWorkflowExecutionHistory` with
 * `waitNewEvent`), and a `wake` for the system it waits on ends its pause: it looks again at once. The look reads
 * the system's API, so a wake-up is only ever a hint; a lost one is found by the fallback poll.
 *
 * With webhooks on (`SHEPHERD_WEBHOOKS`), a wait the events cover polls only at the slow fallback interval
 * (`SHEPHERD_POLL_FALLBACK`); without them, every wait polls at its system's interval (`SHEPHERD_POLL_*`) and no
 * history is followed.
 */
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { WAKE_SIGNAL, type WakeHint, type WakeSystem } from '../src/domain/wake.js';
import type { Watch } from './poll-until.js';

/** How the waits of one system are paced. */
export interface WaitPacing {
  /** The interval between looks without webhooks (or for a wait no event announces). */
  readonly pollIntervalMs: number;
  /** Webhooks announce this system's changes: covered waits poll at `fallbackMs` and wake on `wake` signals. */
  readonly webhooks?: boolean;
  /** The fallback interval of covered waits when webhooks are on; default 60 s. */
  readonly fallbackMs?: number;
}

export const DEFAULT_FALLBACK_MS = 60_000;

/**
 * How much the events of a system tell a wait:
 * - `covered`: the system announces the change the wait waits for (a build finished, an MR opened); the wait polls
 *   only at the fallback interval.
 * - `burst`: an event announces that the change is near but not its moment (Jenkins says STARTED before the
 *   checkout records the commit a wait looks for); after each wake-up the wait polls at its system's interval for
 *   ten of them, then goes back to the fallback.
 * - `polled`: no event announces it (GitLab's mergeability check); the wait keeps its poll interval and also looks
 *   again on every event of its system.
 */
export type Coverage = 'covered' | 'burst' | 'polled';

/** The looks at the poll interval after a wake-up of a `burst` wait. */
export const BURST_LOOKS = 10;

/**
 * What a wait spreads into its `pollUntil` options: its pause between looks (`intervalMs`, and `pauseMs` for a
 * burst) and, with webhooks on, the wake-ups of its system.
 */
export function pacing(
  pace: WaitPacing,
  system: WakeSystem,
  coverage: Coverage,
  now: () => number = Date.now,
): { intervalMs: number; watch?: (wake: () => void) => Watch[]; pauseMs?: () => number } {
  if (!pace.webhooks) return { intervalMs: pace.pollIntervalMs };
  const fallback = Math.max(pace.pollIntervalMs, pace.fallbackMs ?? DEFAULT_FALLBACK_MS);
  if (coverage === 'polled')
    return { intervalMs: pace.pollIntervalMs, watch: (wake) => followRunWakeups(system, wake) };
  if (coverage === 'covered') return { intervalMs: fallback, watch: (wake) => followRunWakeups(system, wake) };
  let wokeAt = Number.NEGATIVE_INFINITY;
  return {
    intervalMs: fallback,
    watch: (wake) =>
      followRunWakeups(system, () => {
        wokeAt = now();
        wake();
      }),
    pauseMs: () =>
      now() - wokeAt < BURST_LOOKS * pace.pollIntervalMs ? pace.pollIntervalMs : Number.POSITIVE_INFINITY,
  };
}

/** How long one long poll may last before it is asked again (the server answers earlier when it has nothing). */
const LONG_POLL_MS = 70_000;
/** The pause after a failed long poll (Temporal down): the fallback poll keeps the wait correct meanwhile. */
const RETRY_PAUSE_MS = 2_000;

const CLOCK_MARGIN_MS = 5_000;

const SIGNALED = proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;

/**
 * Follows the current activity's run history and calls `wake` for every `wake` signal of `system` appended after
 * the wait began. Returns no watch outside an activity run by a worker with a Temporal client (unit tests of an
 * activity): the wait then polls.
 */
export function followRunWakeups(system: WakeSystem, wake: () => void): Watch[] {
  let ctx: Context;
  let client: Context['client'];
  try {
    ctx = Context.current();
    client = ctx.client;
  } catch {
    return [];
  }
  const { workflowExecution, workflowNamespace } = ctx.info;
  if (!workflowExecution) return [];
  const stopper = new AbortController();

  const page = (nextPageToken: Uint8Array | undefined, wait: boolean) =>
    client.withAbortSignal(stopper.signal, () =>
      client.withDeadline(Date.now() + LONG_POLL_MS, () =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace: workflowNamespace,
          execution: { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId },
          ...(nextPageToken && nextPageToken.length > 0 ? { nextPageToken } : {}),
          waitNewEvent: wait,
          maximumPageSize: 1000,
        }),
      ),
    );

  // Wake-ups older than the wait are ignored; the margin allows for the clocks of the worker and Temporal to
  // differ a little (a wake-up too many costs one look).
  const since = Date.now() - CLOCK_MARGIN_MS;
  const follow = async (): Promise<void> => {
    // The first page holds the history so far; with `waitNewEvent`, each next token waits for what comes after.
    let token: Uint8Array | undefined;
    while (!stopper.signal.aborted) {
      try {
        const res = await page(token, true);
        if (wakeUpsIn(res.history?.events ?? [], system, since) > 0) wake();
        // An empty token: the run has closed; nothing more will come.
        if (!res.nextPageToken || res.nextPageToken.length === 0) return;
        token = res.nextPageToken;
      } catch {
        if (stopper.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
  };

  void follow().catch(() => {
    // The history could not be read at all (the run's namespace unreachable): the fallback poll carries the wait.
  });
  return [{ stop: () => stopper.abort() }];
}

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** How many `wake` signals for `system`, recorded at `since` (epoch ms) or later, `events` hold. */
export function wakeUpsIn(events: readonly HistoryEvent[], system: WakeSystem, since: number): number {
  let count = 0;
  for (const event of events) {
    if (event.eventType !== SIGNALED) continue;
    const attrs = event.workflowExecutionSignaledEventAttributes;
    if (attrs?.signalName !== WAKE_SIGNAL) continue;
    if (eventMillis(event.eventTime) < since) continue;
    if (hintSystem(attrs.input?.payloads?.[0]) === system) count += 1;
  }
  return count;
}

/** The system a `wake` payload names; undefined when it is not a wake hint. */
function hintSystem(payload: Payload | null | undefined): string | undefined {
  if (!payload) return undefined;
  try {
    const hint = defaultPayloadConverter.fromPayload<Partial<WakeHint>>(payload as Payload);
    return typeof hint?.system === 'string' ? hint.system : undefined;
  } catch {
    return undefined;
  }
}

/** A history event's time in epoch milliseconds (0 when absent). */
function eventMillis(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!time) return 0;
  const seconds = Number(time.seconds ?? 0);
  return seconds * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}
