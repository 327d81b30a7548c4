/**
 * mergeMergeRequest. Changes: merges the MR into its env branch with the `sha` guard. Safe to repeat: an MR
 * already merged with head `headSha` returns its merge commit (`alreadyMerged`); a moved head, a conflict or a
 * merge rule that is not met throws MergeConflictError with GitLab's detailed merge status. Waits (polling,
 * heartbeating `{ startedAt, polls, lastSeen, iid }`) through `checking`/`unchecked`/`preparing`/
 * `approvals_syncing`/`ci_still_running`, up to `deadline` (the workflow's mergeability budget; runs that give none:
 * `mergeabilityTimeoutMs` from the first attempt), then WaitTimeoutError. A 405/406 while GitLab still checks is
 * looked at again; 409 (head moved) and 422 (GitLab failed) are MergeConflictError. The workflow runs it as a wait
 * (heartbeat timeout, a StartToClose derived from the deadline), not as a quick call retried on its timeout.
 *
 * The merge wait (`mergeWhenMergeable`) is shared with revertMergeRequest, which merges its revert MR the same way.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { MergeConflictError, TransientError } from '../../src/domain/errors.js';
import { defineActivity, type ActivityContext } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil } from '../poll-until.js';
import { PollDetailsSchema, type GitLabContext, type PollDetails } from './support.js';

/** GitLab is still working out whether the MR can be merged: look again (api-contracts.md §1.6). */
const STILL_CHECKING = new Set(['checking', 'unchecked', 'preparing', 'approvals_syncing', 'ci_still_running']);

export interface MergeDone {
  readonly mergeCommitSha: string;
  readonly alreadyMerged: boolean;
}

/** How a merge treats GitLab failing transiently while it waits for mergeability. */
export interface MergeWaitOptions {
  /**
   * True (the default): a look GitLab cannot answer saw nothing, and an outage counts against the mergeability
   * budget like any other wait. False: it fails the attempt, for the undo, whose retry policy rides out outages for
   * hours on purpose.
   */
  readonly rideOutOutages?: boolean;
  /** When the wait gives up (epoch ms); absent: `mergeabilityTimeoutMs` after the first attempt started. */
  readonly deadline?: number;
}

/**
 * Waits while GitLab checks the MR, then merges it with the `sha` guard. An MR already merged with head `headSha` is
 * success. Refusals that a retry cannot change throw MergeConflictError with GitLab's detailed status; a 405 while
 * the status still reads mergeable is transient. A retry of the same MR keeps the first attempt's start and count.
 */
export async function mergeWhenMergeable(
  ctx: GitLabContext,
  activity: Pick<ActivityContext<PollDetails>, 'resumed' | 'heartbeat'>,
  iid: number,
  headSha: string,
  opts: MergeWaitOptions = {},
): Promise<MergeDone> {
  const { client } = ctx;
  const project = ctx.layout.gitlab.deploymentsProject;
  const resumed = activity.resumed?.iid === iid ? activity.resumed : undefined;
  const startedAt = resumed?.startedAt ?? Date.now();

  return pollUntil<PollDetails, MergeDone>({
    waitingFor: `merge request !${iid} to become mergeable`,
    startedAt,
    deadline: opts.deadline ?? startedAt + ctx.mergeabilityTimeoutMs,
    progress: { startedAt, polls: resumed?.polls ?? 0, iid },
    ...pacing(ctx.pace, 'gitlab', 'polled'),
    heartbeat: activity.heartbeat,
    outages: opts.rideOutOutages === false ? 'fail-attempt' : 'empty-look',
    // A look that failed before GitLab answered still counts, and its failure is what was seen last.
    onOutage: (progress, lastSeen) => ({ ...progress, polls: progress.polls + 1, lastSeen }),
    async look(before) {
      const mr = await client.getMergeRequest(project, iid);
      if (mr.state === 'merged') {
        if (mr.sha === headSha) return { done: { mergeCommitSha: mr.mergeCommitSha ?? mr.sha, alreadyMerged: true } };
        throw new MergeConflictError(
          { mergeRequestIid: iid, detailedMergeStatus: 'merged_with_other_head' },
          `merge request !${iid} was merged with head ${mr.sha.slice(0, 8)}, not the approved ${headSha.slice(0, 8)}`,
        );
      }
      if (mr.state === 'closed')
        throw new MergeConflictError(
          { mergeRequestIid: iid, detailedMergeStatus: 'not_open' },
          `merge request !${iid} is closed`,
        );
      if (mr.state === 'opened' && mr.sha !== headSha) {
        throw new MergeConflictError(
          { mergeRequestIid: iid, detailedMergeStatus: 'head_moved' },
          `merge request !${iid} moved to ${mr.sha.slice(0, 8)} since ${headSha.slice(0, 8)} was approved`,
        );
      }
      const status = mr.state === 'locked' ? 'locked' : (mr.detailedMergeStatus ?? 'unchecked');
      const progress: PollDetails = { ...before, polls: before.polls + 1, lastSeen: status };
      if (status !== 'mergeable') {
        if (!STILL_CHECKING.has(status) && status !== 'locked')
          throw new MergeConflictError({ mergeRequestIid: iid, detailedMergeStatus: status });
        return { progress };
      }

      const outcome = await client.mergeMergeRequest(project, iid, headSha);
      if (outcome.kind === 'merged') {
        const merged = outcome.mergeRequest;
        return { done: { mergeCommitSha: merged.mergeCommitSha ?? merged.sha, alreadyMerged: false }, progress };
      }
      if (outcome.kind === 'head-moved')
        throw new MergeConflictError(
          { mergeRequestIid: iid, detailedMergeStatus: 'head_moved' },
          `merge request !${iid} was refused: ${outcome.message}`,
        );
      if (outcome.kind === 'failed')
        throw new MergeConflictError(
          { mergeRequestIid: iid, detailedMergeStatus: 'merge_failed' },
          `GitLab failed to merge !${iid}: ${outcome.message}`,
        );
      const after = await client.getMergeRequest(project, iid);
      if (after.state === 'merged' && after.sha === headSha)
        return { done: { mergeCommitSha: after.mergeCommitSha ?? after.sha, alreadyMerged: true }, progress };
      if ((after.detailedMergeStatus ?? 'unchecked') === 'mergeable') {
        throw new TransientError(
          `GitLab refused to merge !${iid} (HTTP ${outcome.status}) although it reports it mergeable`,
          { system: 'gitlab', status: outcome.status },
        );
      }
      // The status changed under us: classify it on the next look.
      return { progress };
    },
  });
}

export function createMergeMergeRequest(ctx: GitLabContext): ShepherdActivities['mergeMergeRequest'] {
  return defineActivity({
    input: z.object({
      iid: ACTIVITY_FIELDS.positiveWhole(),
      headSha: ACTIVITY_FIELDS.commitSha(),
      deadline: ACTIVITY_FIELDS.instant().optional(),
    }),
    progress: PollDetailsSchema,
    async run(input, activity) {
      const done = await mergeWhenMergeable(ctx, activity, input.iid, input.headSha, {
        ...(input.deadline !== undefined ? { deadline: Date.parse(input.deadline) } : {}),
      });
      return { ...done, attempt: activity.attempt };
    },
  });
}
