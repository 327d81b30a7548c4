/**
 * Timeouts and retries, named once. Each preset says why its numbers are what they are. Workflows proxy their
 * activities through these; wait budgets (the `deadline` of an await activity) come from WAIT_BUDGETS in the domain.
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../../domain/errors.js';
import { WAIT_BUDGETS } from '../../domain/wait-budgets.js';

/** Transient failures (5xx, 429, network) back off from 2 s to 1 min: long enough to ride out a restart of GitLab or Jenkins. */
export const TRANSIENT_RETRY: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 30,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/**
 * The retries of a wait. A wait rides out outages itself (an unreachable system is an empty look), so an attempt
 * fails mostly because its worker died and the heartbeat timeout passed: the retry starts at once (200 ms) on another
 * worker and resumes from the last heartbeat, instead of adding 2 s to the heartbeat timeout.
 */
export const WAIT_RETRY: RetryPolicy = { ...TRANSIENT_RETRY, initialInterval: '200ms' };

/** Quick calls (read, merge, close, delete, bump): 1 min each try, because a healthy API answers in seconds. */
export const QUICK_CALL: ActivityOptions = {
  startToCloseTimeout: '1m',
  retry: TRANSIENT_RETRY,
};

/**
 * Waits up to their budget: the attempt may run as long as the longest default budget plus slack; a heartbeat every
 * few seconds means a dead worker is noticed within 1 min and the retry resumes from the heartbeat details. A wait
 * given a deadline gets its own StartToClose instead (`startToCloseFor`), so a longer budget is never cut short.
 */
export const LONG_WAIT: ActivityOptions = {
  startToCloseTimeout: `${WAIT_BUDGETS.build + 300}s`,
  heartbeatTimeout: '1m',
  retry: WAIT_RETRY,
};

/**
 * The slack a wait's attempt gets beyond its deadline: the wait ends itself at the deadline (WaitTimeoutError with
 * what it saw), so the StartToClose only bounds a worker that stopped heartbeating yet kept the attempt; 5 min covers
 * the last look and the report of the timeout.
 */
export const WAIT_SLACK_MS = 5 * 60_000;

/**
 * The StartToClose of a wait whose deadline is `deadline`, as seen at `now` (epoch ms): the time left plus
 * WAIT_SLACK_MS. Every retry of the wait keeps the same deadline, so this also bounds every attempt.
 */
export function startToCloseFor(deadline: string, now: number): number {
  return Math.max(0, Date.parse(deadline) - now) + WAIT_SLACK_MS;
}

/** Compensation must not give up on a transient outage: attempts unbounded, 5 min apart at most, for up to 6 h. */
export const UNDO_RETRY: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/** Undo calls: quick calls retried by UNDO_RETRY; the 6 h bound is where a human should look instead. */
export const UNDO_CALL: ActivityOptions = {
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '6h',
  retry: UNDO_RETRY,
};

/** Notifications are nice to have: 3 tries, then the run carries on without them. */
export const NOTIFY: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { ...TRANSIENT_RETRY, maximumAttempts: 3 },
};
