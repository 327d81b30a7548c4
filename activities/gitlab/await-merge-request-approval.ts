/**
 * awaitMergeRequestApproval (part B). Changes nothing. Waits, polling GitLab's approvals API
 * (`GET …/merge_requests/:iid/approvals`) at the GitLab pace — with webhooks on, at the fallback pace and woken by
 * the MR hook (`approved`, `approval`, `unapproved`, …) — and heartbeating `{ startedAt, polls, lastSeen }`, until
 * GitLab says the MR is approved: EE's `approved` (its approval rules are satisfied, `approvals_left` 0); on CE,
 * which has no rules, `approved` means that someone approved. Returns who approved (`approved_by`: GitLab usernames
 * and names, the identity GitLab authenticated), never a name a caller typed.
 *
 * Ends the wait with ApprovalRejectedError when the MR is closed in GitLab (a person decided against it there), is
 * merged by someone else, or its head is no longer `headSha`: new commits reset GitLab's approvals, and the run
 * only merges the commit it opened. At the deadline (the approval timeout): ApprovalRejectedError with `timedOut`.
 * Safe to repeat: it only reads, and a retry keeps the first attempt's start.
 */
import { environmentOrderOf } from '../../src/domain/pipeline.js';
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { ApprovalRejectedError } from '../../src/domain/errors.js';
import type { MergeRequestApprovals } from '../../src/clients/gitlab/index.js';
import { defineActivity } from '../define.js';
import { pollUntil } from '../poll-until.js';
import { pacing } from '../wakeups.js';
import { PollDetailsSchema, type GitLabContext, type PollDetails } from './support.js';

export function createAwaitMergeRequestApproval(ctx: GitLabContext): ShepherdActivities['awaitMergeRequestApproval'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      targetEnv: ACTIVITY_FIELDS.environment(environmentOrderOf(layout)),
      iid: ACTIVITY_FIELDS.positiveWhole(),
      headSha: ACTIVITY_FIELDS.commitSha(),
      deadline: ACTIVITY_FIELDS.instant(),
    }),
    progress: PollDetailsSchema,
    async run(input, { attempt, resumed, heartbeat }) {
      const { iid, headSha, targetEnv: env } = input;
      const project = layout.gitlab.deploymentsProject;
      const startedAt = resumed?.startedAt ?? Date.now();
      const refused = (reason: string): ApprovalRejectedError =>
        new ApprovalRejectedError({ env, by: 'GitLab', reason, timedOut: false });

      const approvals = await pollUntil<PollDetails, MergeRequestApprovals>({
        waitingFor: `the GitLab approval of !${iid} into ${env}`,
        startedAt,
        deadline: Date.parse(input.deadline),
        progress: { startedAt, polls: resumed?.polls ?? 0, iid },
        ...pacing(ctx.pace, 'gitlab', 'covered'),
        heartbeat,
        async look(progress) {
          const polls = progress.polls + 1;
          const mr = await client.getMergeRequest(project, iid);
          if (mr.state === 'closed')
            throw refused(`merge request !${iid} was closed in GitLab while it waited for approval (${mr.webUrl})`);
          if (mr.state === 'merged')
            throw refused(
              `merge request !${iid} was merged in GitLab by someone else before Shepherd's approval gate ended (${mr.webUrl}); look at what was merged before promoting again`,
            );
          if (mr.sha !== headSha)
            throw refused(
              `the head of merge request !${iid} moved from ${headSha.slice(0, 8)} to ${mr.sha.slice(0, 8)} while it waited for approval (someone pushed to ${mr.sourceBranch}, which resets its approvals); Shepherd merges only the commit it opened: start a new promotion`,
            );
          const state = await client.getMergeRequestApprovals(project, iid);
          if (isApproved(state)) return { done: state, progress: { startedAt, polls, iid, lastSeen: seen(state) } };
          return { progress: { startedAt, polls, iid, lastSeen: seen(state) } };
        },
        onOutage: (progress, lastSeen) => ({ startedAt, polls: progress.polls + 1, iid, lastSeen }),
        // GitLab could not answer the last look: that, not a missing approval, is why the wait ends (WaitTimeoutError).
        timedOut: (_progress, unreachable) =>
          unreachable
            ? undefined
            : new ApprovalRejectedError({
                env,
                by: 'timeout',
                reason: 'not approved in GitLab in time',
                timedOut: true,
              }),
      });
      return {
        approvedBy: approvals.approvedBy.map((u) => ({ username: u.username, name: u.name })),
        ...(approvals.approvalsRequired !== undefined ? { approvalsRequired: approvals.approvalsRequired } : {}),
        attempt,
      };
    },
  });
}

/** EE: the rules are satisfied (`approved`, no approvals left). CE (no `approvals_left`): someone approved. */
function isApproved(state: MergeRequestApprovals): boolean {
  if (state.approvalsLeft !== undefined) return state.approved && state.approvalsLeft === 0;
  return state.approved && state.approvedBy.length > 0;
}

/** What a look saw, for the heartbeat and the timeout: `1 of 1 approvals left; approved by bob`. */
function seen(state: MergeRequestApprovals): string {
  const left =
    state.approvalsLeft !== undefined
      ? `${state.approvalsLeft} of ${state.approvalsRequired ?? '?'} approvals left`
      : state.approved
        ? 'approved'
        : 'not approved';
  const by = state.approvedBy.map((u) => u.username).join(', ');
  return by ? `${left}; approved by ${by}` : left;
}
