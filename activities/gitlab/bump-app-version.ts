/**
 * bumpAppVersion. Changes: one commit on the app project's bump branch (SHEPHERD_BUMP_BRANCH, default the project's
 * default branch) that raises the version in the layout's version file by its `versionFormat` (`maven`: the
 * project's `<version>` in pom.xml, `npm`: package.json's `"version"`, `gradle`: `version=` in gradle.properties,
 * `plain`: a VERSION file; the last number + 1, a suffix such as `-SNAPSHOT` kept, nothing else of the file changed),
 * with the message `chore: bump version to {NEW} [pipeline-validation]` and a `Shepherd-Run: {runMarker}`
 * trailer. The commit that lands on the branch starts the app's CI, and is what the result names.
 *
 * `none` (the build numbers the version): the commit writes the run marker into `.shepherd-bump` at the project's
 * root (creating it the first time) instead of changing a version. GitLab's commits API takes an empty commit only
 * with `allow_empty` (GitLab 18.7 and later; releases from December 2025 to then refuse one without actions, older
 * ones accept `actions: []`), so a one-file commit is the form every GitLab accepts. The result's versions are ''
 * for such an app: its CI tags what it builds.
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
import type { FileUpdate, MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import { ACTIVITY_FIELDS, type BumpAppVersionResult, type ShepherdActivities } from '../../src/domain/activities.js';
import { BranchProtectedError, MergeConflictError, NotFoundError } from '../../src/domain/errors.js';
import { defineActivity, type ActivityContext } from '../define.js';
import { pollUntil } from '../poll-until.js';
import { pacing } from '../wakeups.js';
import { VERSION_FILES, type VersionFormat } from '../../src/domain/pipeline.js';
import { bumpVersion, readVersion } from './declarations/index.js';
import { bumpCommitMessage, carriesRunMarker, runMarkerTrailer, versionOfBumpMessage } from './edits.js';
import { PollDetailsSchema, type GitLabContext, type PollDetails } from './support.js';

/** The source branch of a run's bump MR: the version it carries (if any) and a short digest of the run marker. */
export function bumpBranchName(version: string, runMarker: string): string {
  const run = createHash('sha256').update(runMarker).digest('hex').slice(0, 10);
  return version === '' ? `shepherd/bump-${run}` : `shepherd/bump-${version}-${run}`;
}

/** The file a bump of an app without a version file (`none`) writes the run marker into, and its first lines. */
export const BUMP_MARKER_FILE = '.shepherd-bump';
const BUMP_MARKER_TEXT =
  "Shepherd's nightly pipeline validation writes this file to start a build of an app without a version file.";

/** A bump as it is about to be committed. */
interface Bump {
  readonly previousVersion: string;
  readonly version: string;
  readonly update: FileUpdate;
}

/** The bump commit's message; an app without a version file has no version to announce. */
function commitMessage(version: string, runMarker: string): string {
  return version === ''
    ? `chore: start a build [pipeline-validation]\n\n${runMarkerTrailer(runMarker)}\n`
    : bumpCommitMessage(version, runMarker);
}

/** Without a deadline (callers from before the MR route): how long the MR may take to merge itself. */
const DEFAULT_MERGE_WAIT_MS = 10 * 60_000;

export function createBumpAppVersion(ctx: GitLabContext): ShepherdActivities['bumpAppVersion'] {
  const { client, layout } = ctx;
  const project = layout.gitlab.appProject;
  const format: VersionFormat = layout.gitlab.versionFormat ?? 'maven';
  const versionFile = format === 'none' ? BUMP_MARKER_FILE : layout.gitlab.versionFile || VERSION_FILES[format]!;
  const via = layout.gitlab.bump?.via ?? 'push';

  /** The version `content` declares ('' for an app without a version file). */
  const versionIn = (content: string): string => (format === 'none' ? '' : readVersion(format, content, versionFile));

  /**
   * The bump of the version file as it is at `ref`: its new content and the versions; for `none`, the marker file
   * carrying the run (created when the project has none yet).
   */
  async function bumpAt(ref: string, runMarker: string): Promise<Bump> {
    if (format !== 'none') {
      const file = await client.readFile(project, versionFile, ref);
      const bump = bumpVersion(format, file.content, versionFile);
      return {
        previousVersion: bump.from,
        version: bump.to,
        update: { filePath: versionFile, content: bump.content, lastCommitId: file.lastCommitId },
      };
    }
    const existing = await client.readFile(project, versionFile, ref).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    const content = `${BUMP_MARKER_TEXT}\n\n${runMarkerTrailer(runMarker)}\n`;
    return {
      previousVersion: '',
      version: '',
      update: existing
        ? { filePath: versionFile, content, lastCommitId: existing.lastCommitId }
        : { filePath: versionFile, content, create: true },
    };
  }

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
    if (format === 'none') return { version: '', previousVersion: '' };
    const version =
      versionOfBumpMessage(commit.message) ??
      versionIn((await client.readFile(project, versionFile, commit.sha)).content);
    const parent = commit.parentShas[0];
    const previousVersion =
      parent !== undefined ? versionIn((await client.readFile(project, versionFile, parent)).content) : '';
    return { version, previousVersion };
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
    const bump = await bumpAt(target, runMarker);
    const branch = bumpBranchName(bump.version, runMarker);
    const existing = await client.getBranch(project, branch);
    if (!existing) await client.createBranch(project, branch, target);
    const head = existing ? await client.listCommits(project, branch, 1) : [];
    if (!head[0] || !carriesRunMarker(head[0].message, runMarker)) {
      const onBranch = await bumpAt(branch, runMarker);
      await client.commitFiles(project, {
        branch,
        message: commitMessage(bump.version, runMarker),
        updates: [
          { ...bump.update, ...(onBranch.update.create ? {} : { lastCommitId: onBranch.update.lastCommitId }) },
        ],
      });
    }
    const { mergeRequest } = await client.createMergeRequest(project, {
      sourceBranch: branch,
      targetBranch: target,
      title: commitMessage(bump.version, runMarker).split('\n')[0]!,
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
        const branch = bumpBranchName((await bumpAt(target, input.runMarker)).version, input.runMarker);
        if (await client.getBranch(project, branch))
          return { ...(await bumpThroughMergeRequest(target, input.runMarker, deadline, activity)), attempt };
      }

      if (via === 'merge-request')
        return { ...(await bumpThroughMergeRequest(target, input.runMarker, deadline, activity)), attempt };
      const bump = await bumpAt(target, input.runMarker);
      try {
        const commit = await client.commitFiles(project, {
          branch: target,
          message: commitMessage(bump.version, input.runMarker),
          updates: [bump.update],
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
