/**
 * awaitMergeRequest. Changes nothing. Waits (polling every `pollIntervalMs`, heartbeating `{ startedAt, polls,
 * lastSeen }`) for the open MR into the env branch that CI (the layout's `dev` template, the seed's `update-dev-{tag}`, or
 * `update-dev-{version}-…` when only the version is known: CI's tags start with the version) or the promote job
 * (the `promotion` template, the seed's `promote-{env}-{tag}`) opened, and returns the newest such MR with
 * its current head. The MR is found by its branch, not by when it was created: the jobs recreate their branch and
 * reuse an MR left open for it (by an earlier run, or on purpose by `--no-merge`), so such an MR is adopted once its
 * head is the branch's head, the commit the job pushed (GitLab updates an MR's head shortly after a push). Runs
 * started before the `jenkins-promotion-undo-at-trigger` patch pass `createdAfter` and count only MRs created since. Safe to repeat: it only reads, and a retry keeps the first
 * attempt's start, so the reported wait covers every attempt. A look GitLab cannot answer saw nothing (heartbeated
 * as `GitLab unreachable: …`). MergeRequestNotFoundError at the deadline, or WaitTimeoutError naming GitLab's last
 * error when GitLab could not answer the last look.
 */
import { environmentOrderOf } from '../../src/domain/pipeline.js';
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { MergeRequestNotFoundError } from '../../src/domain/errors.js';
import { defineActivity } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil } from '../poll-until.js';
import { deployBranchMatcher } from './edits.js';
import { envBranchOf, mergeRequestRef, PollDetailsSchema, type GitLabContext, type PollDetails } from './support.js';

export function createAwaitMergeRequest(ctx: GitLabContext): ShepherdActivities['awaitMergeRequest'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z
      .object({
        appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
        targetEnv: ACTIVITY_FIELDS.environment(environmentOrderOf(layout)),
        deadline: ACTIVITY_FIELDS.instant(),
        createdAfter: ACTIVITY_FIELDS.instant().optional(),
        imageTag: ACTIVITY_FIELDS.imageTag().optional(),
        version: z.string().optional(),
        commitSha: ACTIVITY_FIELDS.commitSha().optional(),
      })
      .refine(
        (i) => i.imageTag !== undefined || (i.version !== undefined && i.version !== '') || i.commitSha !== undefined,
        { path: ['imageTag'], error: 'or version (or commitSha) must be given' },
      ),
    progress: PollDetailsSchema,
    async run(input, { attempt, resumed, heartbeat }) {
      const env = input.targetEnv;
      const createdAfter = input.createdAfter !== undefined ? Date.parse(input.createdAfter) : undefined;
      const wanted = deployBranchMatcher(
        layout,
        env,
        input.imageTag !== undefined
          ? { imageTag: input.imageTag }
          : input.version !== undefined && input.version.trim() !== ''
            ? { version: input.version }
            : { commitSha: input.commitSha },
      );
      const project = layout.gitlab.deploymentsProject;
      const targetBranch = envBranchOf(layout, env);
      const startedAt = resumed?.startedAt ?? Date.now();
      const waitingFor = wanted.describe;

      const mr = await pollUntil<PollDetails, Parameters<typeof mergeRequestRef>[1]>({
        waitingFor: `merge request ${waitingFor} into ${env}`,
        startedAt,
        deadline: Date.parse(input.deadline),
        progress: { startedAt, polls: resumed?.polls ?? 0 },
        ...pacing(ctx.pace, 'gitlab', 'covered'),
        heartbeat,
        async look(progress) {
          const open = await client.listMergeRequests(project, {
            state: 'opened',
            targetBranch,
            ...(createdAfter !== undefined ? { createdAfter: new Date(createdAfter).toISOString() } : {}),
            ...(wanted.exact !== undefined ? { sourceBranch: wanted.exact } : {}),
          });
          const found = open
            .filter((m) => wanted.matches(m.sourceBranch))
            .filter((m) => createdAfter === undefined || Date.parse(m.createdAt) >= createdAfter)
            .sort((a, b) => b.iid - a.iid)[0];
          const polls = progress.polls + 1;
          if (!found) {
            const branches = open.map((m) => m.sourceBranch).slice(0, 5);
            const lastSeen = branches.length > 0 ? `open: ${branches.join(', ')}` : 'no open merge request';
            return { progress: { startedAt, polls, lastSeen } };
          }
          // The list may carry stale fields; the single GET has the current head.
          const mr = await client.getMergeRequest(project, found.iid);
          if (createdAfter !== undefined) return { done: mr };
          const branch = await client.getBranch(project, mr.sourceBranch);
          if (branch !== undefined && branch.headSha === mr.sha) return { done: mr };
          const lastSeen = branch
            ? `!${mr.iid} at ${mr.sha.slice(0, 8)}, its branch at ${branch.headSha.slice(0, 8)}`
            : `!${mr.iid} open, its branch ${mr.sourceBranch} is gone`;
          return { progress: { startedAt, polls, lastSeen, iid: mr.iid } };
        },
        onOutage: (progress, lastSeen) => ({ startedAt, polls: progress.polls + 1, lastSeen }),
        // GitLab could not answer the last look: that, not a missing MR, is why the wait ends (WaitTimeoutError).
        timedOut: (_progress, unreachable) =>
          unreachable
            ? undefined
            : new MergeRequestNotFoundError({
                targetEnv: env,
                branchPrefix: wanted.exact ?? wanted.prefix,
                waitedSeconds: Math.round((Date.now() - startedAt) / 1000),
              }),
      });
      return { ...mergeRequestRef(layout, mr, env), attempt };
    },
  });
}
