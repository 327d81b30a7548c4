/**
 * mergeMergeRequest. Changes: merges the MR into its env branch with the `sha` guard, asking GitLab to remove the
 * source branch after the merge (`should_remove_source_branch`). Safe to repeat: an MR already merged with head
 * `headSha` (or with the head a rebase of ours gave it, carrying the same change) returns the commit it landed as
 * (`alreadyMerged`); a moved head, a conflict or a merge rule a person must settle throws MergeConflictError naming
 * the rule and the MR; a failed head pipeline throws MergeRequestPipelineFailedError naming the pipeline.
 *
 * Waits (polling, heartbeating `{ startedAt, polls, lastSeen, iid, head, rebasing, armed }`) up to `deadline` (the
 * workflow's mergeability budget; runs that give none: `mergeabilityTimeoutMs` from the first attempt), then
 * WaitTimeoutError, through what GitLab is still working out (`checking`, `unchecked`, `preparing`,
 * `approvals_syncing`, `ci_still_running`, a locked MR), a pipeline that must pass and has not finished
 * (`ci_must_pass`), and `not_approved` (the approval gate's hook). `need_rebase` (fast-forward or semi-linear merge
 * method, target moved): GitLab's rebase (`PUT …/rebase`), waited for; the new head must carry the same change to
 * the image files as the approved one, and is the head merged (`mergedHeadSha`). With `layout.gitlab.autoMerge`,
 * a running pipeline arms GitLab's auto-merge instead, and the wait goes on until GitLab merges. A 405/406 while
 * GitLab still checks is looked at again; 409 (head moved) and 422 (GitLab failed) are MergeConflictError. The
 * workflow runs it as a wait (heartbeat timeout, a StartToClose derived from the deadline).
 *
 * The merge wait (`mergeWhenMergeable`) is shared with revertMergeRequest, which merges its revert MR the same way.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { MergeConflictError, MergeRequestPipelineFailedError, TransientError } from '../../src/domain/errors.js';
import type { MergeRequestInfo, PipelineInfo } from '../../src/clients/gitlab/index.js';
import { defineActivity, type ActivityContext } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil } from '../poll-until.js';
import { declarationPathsOnBranch, PollDetailsSchema, type GitLabContext } from './support.js';

/** GitLab is still working something out: look again (api-contracts.md §1.6, real-installations.md §2). */
const STILL_CHECKING = new Set([
  'checking',
  'unchecked',
  'preparing',
  'approvals_syncing',
  'ci_still_running',
  'locked',
]);

/**
 * The merge rules a person has to settle, in words; current and older (15.6–16.x) names. Any other status that is
 * neither mergeable nor waited for is named as GitLab reports it.
 */
const RULES_IN_WORDS: Readonly<Record<string, string>> = {
  conflict: 'it has conflicts with its target branch',
  broken_status: 'it has conflicts with its target branch',
  discussions_not_resolved: 'all its discussions must be resolved first',
  draft_status: 'it is marked as a draft',
  merge_request_blocked: 'it is blocked by another merge request that must merge first',
  blocked_status: 'it is blocked by another merge request that must merge first',
  requested_changes: 'a reviewer requested changes',
  status_checks_must_pass: 'its external status checks must pass',
  external_status_checks: 'its external status checks must pass',
  jira_association_missing: 'its title or description must name a Jira issue',
  locked_paths: 'it changes paths another user has locked',
  locked_lfs_files: 'it changes LFS files another user has locked',
  security_policy_violations: 'it violates a security policy of the project',
  policies_denied: 'it violates a security policy of the project',
  commits_status: 'its source branch is gone or has nothing the target does not have',
  merge_time: 'it is scheduled to merge later ("merge after")',
  not_open: 'it is no longer open',
};

/** Head pipeline statuses that will not turn into a success by waiting. */
const PIPELINE_FAILED = new Set(['failed', 'canceled']);

/** Heartbeat details of the merge wait: the poll details, plus the head a rebase of ours gave the MR. */
export const MergeWaitDetailsSchema = PollDetailsSchema.extend({
  /** The MR head after our rebase (its change checked); absent: the approved `headSha`. */
  head: z.string().optional(),
  /** A rebase of ours is queued or running. */
  rebasing: z.boolean().optional(),
  /** We armed GitLab's auto-merge; GitLab merges when the pipeline succeeds. */
  armed: z.boolean().optional(),
});
export type MergeWaitDetails = z.infer<typeof MergeWaitDetailsSchema>;

export interface MergeDone {
  /** The commit the MR landed as on the env branch: the merge commit, else (fast-forward) its squash or head. */
  readonly mergeCommitSha: string;
  /** The MR head that was merged: `headSha`, or the head our rebase gave it. */
  readonly mergedHeadSha: string;
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
 * Waits until GitLab lets the MR merge, settling what Shepherd may settle itself (a rebase, a pipeline to wait
 * for), then merges it with the `sha` guard. See the file's doc comment for the statuses. A retry of the same MR
 * keeps the first attempt's start, count, rebased head and armed auto-merge.
 */
export async function mergeWhenMergeable(
  ctx: GitLabContext,
  activity: Pick<ActivityContext<MergeWaitDetails>, 'resumed' | 'heartbeat'>,
  iid: number,
  headSha: string,
  opts: MergeWaitOptions = {},
): Promise<MergeDone> {
  const { client } = ctx;
  const project = ctx.layout.gitlab.deploymentsProject;
  const autoMerge = ctx.layout.gitlab.autoMerge === true;
  const resumed = activity.resumed?.iid === iid ? activity.resumed : undefined;
  const startedAt = resumed?.startedAt ?? Date.now();
  const landed = (mr: MergeRequestInfo, alreadyMerged: boolean): MergeDone => ({
    mergeCommitSha: mr.mergeCommitSha ?? mr.sha,
    mergedHeadSha: mr.sha,
    alreadyMerged,
  });

  return pollUntil<MergeWaitDetails, MergeDone>({
    waitingFor: `merge request !${iid} to become mergeable`,
    startedAt,
    deadline: opts.deadline ?? startedAt + ctx.mergeabilityTimeoutMs,
    progress: {
      startedAt,
      polls: resumed?.polls ?? 0,
      iid,
      ...(resumed?.head !== undefined ? { head: resumed.head } : {}),
      ...(resumed?.rebasing === true ? { rebasing: true } : {}),
      ...(resumed?.armed === true ? { armed: true } : {}),
    },
    ...pacing(ctx.pace, 'gitlab', 'polled'),
    heartbeat: activity.heartbeat,
    outages: opts.rideOutOutages === false ? 'fail-attempt' : 'empty-look',
    // A look that failed before GitLab answered still counts, and its failure is what was seen last.
    onOutage: (progress, lastSeen) => ({ ...progress, polls: progress.polls + 1, lastSeen }),
    async look(before) {
      const expected = before.head ?? headSha;
      const mr = before.rebasing
        ? await client.getMergeRequestRebaseState(project, iid)
        : await client.getMergeRequest(project, iid);
      const polled: MergeWaitDetails = { ...before, polls: before.polls + 1 };
      const waiting = (lastSeen: string, more: Partial<MergeWaitDetails> = {}) => ({
        progress: { ...polled, ...more, lastSeen },
      });

      if (mr.state === 'merged') {
        if (mr.sha === expected || mr.sha === headSha) return { done: landed(mr, before.armed !== true) };
        // Merged with a head we never recorded: ours only if we had asked for a rebase and it carries our change.
        if (before.rebasing === true || before.head !== undefined) {
          await requireSameChange(ctx, mr, headSha, 'merged');
          return { done: landed(mr, before.armed !== true) };
        }
        throw new MergeConflictError(
          { mergeRequestIid: iid, detailedMergeStatus: 'merged_with_other_head', webUrl: mr.webUrl },
          `merge request !${iid} was merged with head ${mr.sha.slice(0, 8)}, not the approved ${headSha.slice(0, 8)} (${mr.webUrl})`,
        );
      }
      if (mr.state === 'closed') throw ruleBroken(mr, 'not_open');

      if (before.rebasing === true) {
        if (mr.rebaseInProgress === true) return waiting('rebase_in_progress');
        if (mr.sha === expected && mr.mergeError !== undefined)
          throw new MergeConflictError(
            { mergeRequestIid: iid, detailedMergeStatus: 'rebase_failed', webUrl: mr.webUrl },
            `GitLab could not rebase merge request !${iid}: ${mr.mergeError}; rebase it by hand (${mr.webUrl}), then run again`,
          );
        if (mr.sha !== expected) {
          // Our rebase landed: the new head must do to the image files exactly what the approved head did.
          await requireSameChange(ctx, mr, headSha, 'open');
          return waiting(`rebased to ${mr.sha.slice(0, 8)}`, { head: mr.sha, rebasing: false });
        }
        polled.rebasing = false;
      } else if (mr.sha !== expected) {
        throw new MergeConflictError(
          { mergeRequestIid: iid, detailedMergeStatus: 'head_moved', webUrl: mr.webUrl },
          `merge request !${iid} moved to ${mr.sha.slice(0, 8)} since ${expected.slice(0, 8)} was approved (${mr.webUrl})`,
        );
      }

      const status = mr.state === 'locked' ? 'locked' : (mr.detailedMergeStatus ?? 'unchecked');
      if (status === 'need_rebase') {
        await client.rebaseMergeRequest(project, iid);
        return waiting('need_rebase: rebase requested', { rebasing: true });
      }
      if (status === 'ci_must_pass') {
        const pipeline = await headPipelineOf(ctx, mr);
        if (pipeline !== undefined && PIPELINE_FAILED.has(pipeline.status))
          throw new MergeRequestPipelineFailedError({
            mergeRequestIid: iid,
            mergeRequestUrl: mr.webUrl,
            pipelineId: pipeline.id,
            status: pipeline.status,
            pipelineUrl: pipeline.webUrl,
          });
        // No pipeline for the head yet, or one GitLab has not counted yet: it will run.
        return waiting(pipeline ? `ci_must_pass (pipeline ${pipeline.id} ${pipeline.status})` : 'ci_must_pass');
      }
      if (status === 'not_approved') {
        // The approval gate (part B) decides here whether the approval is awaited or the run ends; until then the
        // merge waits for an approval within its budget.
        return waiting(status);
      }
      if (status === 'ci_still_running' && autoMerge && before.armed !== true) {
        const outcome = await client.mergeMergeRequest(project, iid, expected, {
          shouldRemoveSourceBranch: true,
          autoMerge: true,
        });
        if (outcome.kind === 'merged') return { done: landed(outcome.mergeRequest, false), progress: polled };
        if (outcome.kind === 'auto-merge-armed') return waiting('auto-merge armed: ci_still_running', { armed: true });
        if (outcome.kind === 'head-moved' || outcome.kind === 'failed') throw refused(mr, outcome);
        return waiting(status);
      }
      if (STILL_CHECKING.has(status)) return waiting(status);
      if (status !== 'mergeable') throw ruleBroken(mr, status);

      const progress: MergeWaitDetails = { ...polled, lastSeen: status };
      const outcome = await client.mergeMergeRequest(project, iid, expected, { shouldRemoveSourceBranch: true });
      if (outcome.kind === 'merged' || outcome.kind === 'auto-merge-armed') {
        if (outcome.mergeRequest.state === 'merged') return { done: landed(outcome.mergeRequest, false), progress };
        return { progress };
      }
      if (outcome.kind === 'head-moved' || outcome.kind === 'failed') throw refused(mr, outcome);
      const after = await client.getMergeRequest(project, iid);
      if (after.state === 'merged' && after.sha === expected) return { done: landed(after, true), progress };
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

/** A merge rule only a person can settle: non-retryable, naming the rule in words and the MR. */
function ruleBroken(mr: MergeRequestInfo, status: string): MergeConflictError {
  const why = RULES_IN_WORDS[status] ?? `GitLab reports "${status}"`;
  return new MergeConflictError(
    { mergeRequestIid: mr.iid, detailedMergeStatus: status, webUrl: mr.webUrl },
    `merge request !${mr.iid} cannot be merged: ${why} (${status}); settle it in GitLab (${mr.webUrl}), then run again`,
  );
}

/** GitLab refused the merge itself: the head moved (409) or the merge failed (422). */
function refused(
  mr: MergeRequestInfo,
  outcome: { kind: 'head-moved' | 'failed'; message: string },
): MergeConflictError {
  return outcome.kind === 'head-moved'
    ? new MergeConflictError(
        { mergeRequestIid: mr.iid, detailedMergeStatus: 'head_moved', webUrl: mr.webUrl },
        `merge request !${mr.iid} was refused: ${outcome.message} (${mr.webUrl})`,
      )
    : new MergeConflictError(
        { mergeRequestIid: mr.iid, detailedMergeStatus: 'merge_failed', webUrl: mr.webUrl },
        `GitLab failed to merge !${mr.iid}: ${outcome.message} (${mr.webUrl})`,
      );
}

/** The MR's head pipeline: `head_pipeline` when GitLab shows it for the head, else the newest of its pipelines for it. */
async function headPipelineOf(ctx: GitLabContext, mr: MergeRequestInfo): Promise<PipelineInfo | undefined> {
  if (mr.headPipeline !== undefined && mr.headPipeline.sha === mr.sha) return mr.headPipeline;
  const pipelines = await ctx.client.listMergeRequestPipelines(ctx.layout.gitlab.deploymentsProject, mr.iid);
  return pipelines.find((p) => p.sha === mr.sha);
}

/**
 * A rebase must not change what the approved MR does: the lines the rebased MR adds and removes in the files that
 * declare the app's image (those of every environment whose files live on the MR's target branch: in a directory
 * layout, the MR's own environment's and its neighbours', which it must not touch either) are the ones the approved
 * head added and removed against its own base. Anything else is MergeConflictError.
 */
async function requireSameChange(
  ctx: GitLabContext,
  mr: MergeRequestInfo,
  approvedHead: string,
  state: 'open' | 'merged',
): Promise<void> {
  const { client } = ctx;
  const project = ctx.layout.gitlab.deploymentsProject;
  const files = declarationPathsOnBranch(ctx.layout, mr.targetBranch);
  const [approved, rebased] = await Promise.all([
    client.changedLines(project, mr.targetBranch, approvedHead, files),
    client.mergeRequestChangedLines(project, mr.iid, files),
  ]);
  const same =
    approved.size === rebased.size &&
    [...approved].every(([path, lines]) => JSON.stringify(rebased.get(path)) === JSON.stringify(lines));
  if (same) return;
  throw new MergeConflictError(
    { mergeRequestIid: mr.iid, detailedMergeStatus: 'rebase_changed_content', webUrl: mr.webUrl },
    `merge request !${mr.iid} was rebased to ${mr.sha.slice(0, 8)}${state === 'merged' ? ' and merged' : ''}, but the rebased change to ${files.join(', ')} is not the approved one of ${approvedHead.slice(0, 8)}; review it in GitLab (${mr.webUrl})`,
  );
}

export function createMergeMergeRequest(ctx: GitLabContext): ShepherdActivities['mergeMergeRequest'] {
  return defineActivity({
    input: z.object({
      iid: ACTIVITY_FIELDS.positiveWhole(),
      headSha: ACTIVITY_FIELDS.commitSha(),
      deadline: ACTIVITY_FIELDS.instant().optional(),
    }),
    progress: MergeWaitDetailsSchema,
    async run(input, activity) {
      const done = await mergeWhenMergeable(ctx, activity, input.iid, input.headSha, {
        ...(input.deadline !== undefined ? { deadline: Date.parse(input.deadline) } : {}),
      });
      return { ...done, attempt: activity.attempt };
    },
  });
}
