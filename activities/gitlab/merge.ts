/**
 * Merging a merge request with the `sha` guard, shared by mergeMergeRequest and revertMergeRequest.
 */
import { heartbeat, sleep } from '@temporalio/activity';
import type { MergeMergeRequestInput, MergeMergeRequestResult } from '../../src/domain/activities.js';
import { MergeConflictError, TransientError, WaitTimeoutError } from '../../src/domain/errors.js';
import { look, pauseAfter, type Look } from '../polling.js';
import { attempt, failTyped, PollDetailsSchema, resumedDetails, type GitLabContext } from './support.js';

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
   * budget like any other wait. False: it fails the attempt as before, for the undo, whose retry policy rides out
   * outages for hours on purpose.
   */
  readonly rideOutOutages?: boolean;
}

/**
 * Waits (heartbeating `{ startedAt, polls, lastSeen, iid }`) while GitLab checks the MR, then merges it with the
 * `sha` guard. An MR already merged with head `headSha` is success. Refusals that a retry cannot change throw
 * MergeConflictError with GitLab's detailed status; a 405 while the status still reads mergeable is transient.
 * Transient failures are looks that saw nothing (heartbeated as `GitLab unreachable: …`) unless
 * `rideOutOutages` is false; the budget ends with WaitTimeoutError carrying the last status or error.
 */
export async function mergeWhenMergeable(
  ctx: GitLabContext,
  iid: number,
  headSha: string,
  opts: MergeWaitOptions = {},
): Promise<MergeDone> {
  const project = ctx.layout.gitlab.deploymentsProject;
  const resumed = resumedDetails(PollDetailsSchema);
  const startedAt = resumed?.iid === iid ? resumed.startedAt : Date.now();
  let polls = resumed?.iid === iid ? resumed.polls : 0;

  /** One look, and the merge when it says mergeable: the result, or the status to wait through. */
  const round = async (): Promise<{ done: MergeDone } | { status: string }> => {
    const mr = await ctx.client.getMergeRequest(project, iid);
    polls++;
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
    heartbeat({ startedAt, polls, lastSeen: status, iid });

    if (status === 'mergeable') {
      const outcome = await ctx.client.mergeMergeRequest(project, iid, headSha);
      if (outcome.kind === 'merged')
        return {
          done: {
            mergeCommitSha: outcome.mergeRequest.mergeCommitSha ?? outcome.mergeRequest.sha,
            alreadyMerged: false,
          },
        };
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
      const after = await ctx.client.getMergeRequest(project, iid);
      if (after.state === 'merged' && after.sha === headSha)
        return { done: { mergeCommitSha: after.mergeCommitSha ?? after.sha, alreadyMerged: true } };
      const now = after.detailedMergeStatus ?? 'unchecked';
      if (now === 'mergeable') {
        throw new TransientError(
          `GitLab refused to merge !${iid} (HTTP ${outcome.status}) although it reports it mergeable`,
          { system: 'gitlab', status: outcome.status },
        );
      }
      // The status changed under us: classify it on the next round.
    } else if (!STILL_CHECKING.has(status) && status !== 'locked') {
      throw new MergeConflictError({ mergeRequestIid: iid, detailedMergeStatus: status });
    }
    return { status };
  };

  for (;;) {
    let seen: Look<Awaited<ReturnType<typeof round>>>;
    if (opts.rideOutOutages === false) {
      seen = { ok: true, value: await round() };
    } else {
      const polled = polls;
      seen = await look(round);
      // A look that failed before GitLab answered still counts, and its failure is what was seen last.
      if (!seen.ok) {
        if (polls === polled) polls++;
        heartbeat({ startedAt, polls, lastSeen: seen.unreachable, iid });
      }
    }
    let lastSeen: string;
    if (seen.ok) {
      if ('done' in seen.value) return seen.value.done;
      lastSeen = seen.value.status;
    } else {
      lastSeen = seen.unreachable;
    }

    if (Date.now() - startedAt >= ctx.mergeabilityTimeoutMs) {
      throw new WaitTimeoutError({
        waitingFor: `merge request !${iid} to become mergeable`,
        timeoutSeconds: Math.round(ctx.mergeabilityTimeoutMs / 1000),
        lastSeen,
      });
    }
    await sleep(pauseAfter(seen, ctx.pollIntervalMs));
  }
}

/**
 * Changes: merges the MR into its env branch with the `sha` guard. Safe to repeat: an MR already merged with
 * head `headSha` returns its merge commit (`alreadyMerged`); a moved head, a conflict or a merge rule that is not
 * met throws MergeConflictError with GitLab's detailed merge status. Waits (polling, heartbeating) through
 * `checking`/`unchecked`/`preparing`/`approvals_syncing`/`ci_still_running`.
 */
export function mergeMergeRequestActivity(ctx: GitLabContext) {
  return (input: MergeMergeRequestInput): Promise<MergeMergeRequestResult> =>
    failTyped(async () => {
      const done = await mergeWhenMergeable(ctx, input.iid, input.headSha);
      return { ...done, attempt: attempt() };
    });
}
