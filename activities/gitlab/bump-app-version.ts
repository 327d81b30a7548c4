/**
 * bumpAppVersion. Changes: one commit on the app project's bump branch (SHEPHERD_BUMP_BRANCH, default the project's
 * default branch) that raises the first `<version>` of the version file by one patch (suffix such as `-SNAPSHOT`
 * kept), with the message `chore: bump version to {NEW} [pipeline-validation]` and a `Shepherd-Run: {runMarker}`
 * trailer. The commit that lands on the branch starts the app's CI, and is what the result names.
 *
 * How it lands (SHEPHERD_BUMP_VIA): `push` commits to the branch; `merge-request` commits to a branch of its own
 * (`shepherd/bump-{version}-{run}`) and opens an MR into the bump branch that merges itself when its pipeline
 * succeeds (auto-merge, source branch removed), then waits (heartbeating, up to `deadline`) until GitLab merged it
 * and returns the commit the merge put on the branch; `auto` (the default) pushes, and takes the MR route when the
 * branch's protection refuses the push (403 "not allowed to push"), so a protected default branch works unchanged.
 *
 * Safe to repeat: first looks for the run's MR (by its source branch) and for a commit carrying the run's trailer
 * among the recent commits of the bump branch, and returns what it finds (`alreadyDone`); the push is guarded by the
 * file's `last_commit_id`, so a concurrent change is never overwritten (the attempt fails as transient and the retry
 * reads the file again). Not undone: a version number is never reused.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import { ACTIVITY_FIELDS, type BumpAppVersionResult, type ShepherdActivities } from '../../src/domain/activities.js';
import { BranchProtectedError, MergeConflictError } from '../../src/domain/errors.js';
import { defineActivity, type ActivityContext } from '../define.js';
import { pollUntil } from '../poll-until.js';
import { pacing } from '../wakeups.js';
import { bumpCommitMessage, bumpPom, carriesRunMarker, pomVersion, versionOfBumpMessage } from './edits.js';
import { PollDetailsSchema, type GitLabContext, type PollDetails } from './support.js';

/** The source branch of a run's bump MR: the version it carries and a short digest of the run marker. */
export function bumpBranchName(version: string, runMarker: string): string {
  const run = createHash('sha256').update(runMarker).digest('hex').slice(0, 10);
  return `shepherd/bump-${version}-${run}`;
}

/** Without a deadline (callers from before the MR route): how long the MR may take to merge itself. */
const DEFAULT_MERGE_WAIT_MS = 10 * 60_000;

export function createBumpAppVersion(ctx: GitLabContext): ShepherdActivities['bumpAppVersion'] {
  const { client, layout } = ctx;
  const project = layout.gitlab.appProject;
  const versionFile = layout.gitlab.versionFile;
  const via = layout.gitlab.bump?.via ?? 'push';

  /** The run's merged bump MR of `version` into `target`, if the bump landed through one. */
  async function mergedBumpRequest(
    target: string,
    version: string,
    runMarker: string,
  ): Promise<MergeRequestInfo | undefined> {
    const sourceBranch = bumpBranchName(version, runMarker);
    const [found] = await client.listMergeRequests(project, { state: 'merged', targetBranch: target, sourceBranch });
    return found ? client.getMergeRequest(project, found.iid) : undefined;
  }

  /** The versions before and after a bump commit, read from the commit and its parent. */
  async function versionsAround(commit: { sha: string; message: string; parentShas: readonly string[] }) {
    const version =
      versionOfBumpMessage(commit.message) ??
      pomVersion((await client.readFile(project, versionFile, commit.sha)).content);
    const parent = commit.parentShas[0];
    const previousVersion =
      parent !== undefined ? pomVersion((await client.readFile(project, versionFile, parent)).content) : undefined;
    return { version: version ?? '', previousVersion: previousVersion ?? '' };
  }

  /**
   * Waits until GitLab merged the bump MR (auto-merge fires when its pipeline succeeds) and returns the commit the
   * merge put on the target branch: the merge commit, or the MR head under a fast-forward merge method.
   */
  async function untilMerged(
    mr: MergeRequestInfo,
    deadline: number,
    activity: Pick<ActivityContext<PollDetails>, 'resumed' | 'heartbeat'>,
  ): Promise<string> {
    const resumed = activity.resumed?.iid === mr.iid ? activity.resumed : undefined;
    const startedAt = resumed?.startedAt ?? Date.now();
    return pollUntil<PollDetails, string>({
      waitingFor: `the version bump merge request !${mr.iid} (${mr.webUrl}) to merge itself`,
      startedAt,
      deadline,
      progress: { startedAt, polls: resumed?.polls ?? 0, iid: mr.iid },
      ...pacing(ctx.pace, 'gitlab', 'covered'),
      heartbeat: activity.heartbeat,
      onOutage: (progress, lastSeen) => ({ ...progress, polls: progress.polls + 1, lastSeen }),
      async look(before) {
        const now = await client.getMergeRequest(project, mr.iid);
        const progress = { ...before, polls: before.polls + 1, lastSeen: `${now.state}, ${now.detailedMergeStatus}` };
        if (now.state === 'merged') return { done: now.mergeCommitSha ?? now.sha, progress };
        if (now.state === 'closed' || now.state === 'locked')
          throw new MergeConflictError(
            { mergeRequestIid: mr.iid, detailedMergeStatus: 'not_open' },
            `the version bump merge request !${mr.iid} (${mr.webUrl}) was ${now.state} before it merged`,
          );
        // Not armed yet (a first attempt died before the merge call, or GitLab disarmed it on a new push): arm it.
        if (!now.autoMergeArmed) {
          const outcome = await client.mergeMergeRequest(project, mr.iid, now.sha, {
            autoMerge: true,
            shouldRemoveSourceBranch: true,
          });
          if (outcome.kind === 'merged' && outcome.mergeRequest.state === 'merged')
            return { done: outcome.mergeRequest.mergeCommitSha ?? outcome.mergeRequest.sha, progress };
          if (outcome.kind === 'failed')
            throw new MergeConflictError(
              { mergeRequestIid: mr.iid, detailedMergeStatus: 'merge_failed' },
              `GitLab failed to merge the version bump merge request !${mr.iid} (${mr.webUrl}): ${outcome.message}`,
            );
        }
        return { progress };
      },
    });
  }

  /** The MR route: the bump on a branch of its own, an MR into `target` that merges itself, then the merge. */
  async function bumpThroughMergeRequest(
    target: string,
    runMarker: string,
    deadline: number,
    activity: Pick<ActivityContext<PollDetails>, 'resumed' | 'heartbeat'>,
  ): Promise<Omit<BumpAppVersionResult, 'attempt'>> {
    const file = await client.readFile(project, versionFile, target);
    const bump = bumpPom(file.content);
    const branch = bumpBranchName(bump.version, runMarker);
    const existing = await client.getBranch(project, branch);
    if (!existing) await client.createBranch(project, branch, target);
    const head = existing ? await client.listCommits(project, branch, 1) : [];
    if (!head[0] || !carriesRunMarker(head[0].message, runMarker)) {
      const onBranch = await client.readFile(project, versionFile, branch);
      await client.commitFiles(project, {
        branch,
        message: bumpCommitMessage(bump.version, runMarker),
        updates: [{ filePath: versionFile, content: bump.content, lastCommitId: onBranch.lastCommitId }],
      });
    }
    const { mergeRequest } = await client.createMergeRequest(project, {
      sourceBranch: branch,
      targetBranch: target,
      title: `chore: bump version to ${bump.version} [pipeline-validation]`,
      description: `The nightly pipeline validation's version bump; it merges itself when its pipeline succeeds.\n\nShepherd-Run: ${runMarker}`,
      removeSourceBranch: true,
    });
    const sha = await untilMerged(mergeRequest, deadline, activity);
    return { previousVersion: bump.previousVersion, version: bump.version, commitSha: sha, alreadyDone: false };
  }

  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      runMarker: ACTIVITY_FIELDS.text(),
      deadline: ACTIVITY_FIELDS.instant().optional(),
    }),
    progress: PollDetailsSchema,
    async run(input, activity) {
      const { attempt } = activity;
      const deadline = input.deadline !== undefined ? Date.parse(input.deadline) : Date.now() + DEFAULT_MERGE_WAIT_MS;
      const target = layout.gitlab.bump?.branch ?? (await client.getProject(project)).defaultBranch;

      const recent = await client.listCommits(project, target, ctx.recentCommits);
      const earlier = recent.find((c) => carriesRunMarker(c.message, input.runMarker));
      if (earlier) {
        const versions = await versionsAround(earlier);
        // Landed through the run's MR: the commit on the branch (and the one CI builds) is the merge's.
        const mr = via !== 'push' ? await mergedBumpRequest(target, versions.version, input.runMarker) : undefined;
        const commitSha = mr ? (mr.mergeCommitSha ?? mr.sha) : earlier.sha;
        return { ...versions, commitSha, alreadyDone: true, attempt };
      }
      // An earlier attempt took the MR route and its MR has not merged yet: carry on waiting for it.
      if (via !== 'push') {
        const file = await client.readFile(project, versionFile, target);
        const branch = bumpBranchName(bumpPom(file.content).version, input.runMarker);
        if (await client.getBranch(project, branch))
          return { ...(await bumpThroughMergeRequest(target, input.runMarker, deadline, activity)), attempt };
      }

      if (via === 'merge-request')
        return { ...(await bumpThroughMergeRequest(target, input.runMarker, deadline, activity)), attempt };
      const file = await client.readFile(project, versionFile, target);
      const bump = bumpPom(file.content);
      try {
        const commit = await client.commitFiles(project, {
          branch: target,
          message: bumpCommitMessage(bump.version, input.runMarker),
          updates: [{ filePath: versionFile, content: bump.content, lastCommitId: file.lastCommitId }],
        });
        return {
          previousVersion: bump.previousVersion,
          version: bump.version,
          commitSha: commit.sha,
          alreadyDone: false,
          attempt,
        };
      } catch (err) {
        if (!(err instanceof BranchProtectedError) || via !== 'auto') throw err;
        return { ...(await bumpThroughMergeRequest(target, input.runMarker, deadline, activity)), attempt };
      }
    },
  });
}
