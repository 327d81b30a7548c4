/**
 * What the Temporal Web UI shows of a run beyond its history: a summary on each activity and timer (the
 * Timeline's labels) and the run's current details (the "Current Details" panel). User metadata only: it adds no
 * command, so it changes nothing a replay compares.
 */
import { setCurrentDetails, type ActivityFunctionWithOptions } from '@temporalio/workflow';
import type { ActivityFunction } from '@temporalio/common';
import { startToCloseFor } from '../../src/temporal/common/presets.js';

/**
 * Calls `activity` with `summary` as its Timeline label, e.g. `merge !3 into prod`. One line, plain words: the
 * UI shows it in place of the activity type, so it names the object acted on. A wait (an input with a `deadline`)
 * gets a StartToClose derived from its deadline (presets.ts `startToCloseFor`): a 7-day budget runs 7 days.
 * Activity options add no command of their own, so this changes nothing a replay compares.
 */
export function summarized<F extends ActivityFunction>(
  summary: string,
  activity: ActivityFunctionWithOptions<F>,
  ...args: Parameters<F>
): Promise<Awaited<ReturnType<F>>> {
  const deadline = (args[0] as { deadline?: unknown } | undefined)?.deadline;
  const timeout = typeof deadline === 'string' ? { startToCloseTimeout: startToCloseFor(deadline, Date.now()) } : {};
  return activity.executeWithOptions({ summary, ...timeout }, args);
}

/** Replaces the run's current details (Markdown) with `lines`, one per line; a query-free view of where it is. */
export function showDetails(...lines: (string | undefined)[]): void {
  setCurrentDetails(lines.filter((line): line is string => line !== undefined && line !== '').join('\n\n'));
}

/** `abc1234` of a commit sha, as GitLab and Argo CD show it. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
