/**
 * The undo activities: revert a merged MR through a revert MR, close an MR, delete a branch.
 */
import type {
  CloseMergeRequestInput,
  CloseMergeRequestResult,
  DeleteBranchInput,
  DeleteBranchResult,
  RevertMergeRequestInput,
  RevertMergeRequestResult,
} from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import { MergeConflictError, TransientError, ValidationError } from '../../src/domain/errors.js';
import type { MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import {
  carriesRunMarker,
  imageInEnvCue,
  revertBranch,
  RUN_BRANCH_PREFIXES,
  runMarkerTrailer,
  tagOfImage,
} from './edits.js';
import { mergeWhenMergeable } from './merge.js';
import {
  attempt,
  checkEnvironment,
  envBranchOf,
  envOfBranch,
  failTyped,
  mergeRequestRef,
  type GitLabContext,
} from './support.js';

/**
 * Undo of a merge into an env branch, which only takes MRs. Changes: branch `revert-{env}-{iid}` from the env
 * branch, GitLab's revert of the MR's merge commit onto it, an MR into the env branch titled `Revert "{title}"`
 * with the run marker, and its merge (with the `sha` guard, waiting through the mergeability check like
 * mergeMergeRequest). Safe to repeat: each part is looked up before it is made — a merged revert MR returns its
 * merge commit (`alreadyReverted`), an open one is merged, an existing branch is reused, a revert commit already
 * on the branch is not made twice. When GitLab finds nothing left to revert, the env branch no longer carries the
 * change: a merged MR into it that names `!{iid}` is returned as the revert.
 */
export function revertMergeRequestActivity(ctx: GitLabContext) {
  return (input: RevertMergeRequestInput): Promise<RevertMergeRequestResult> =>
    failTyped(async () => {
      const { client, layout } = ctx;
      const env = checkEnvironment('targetEnv', input.targetEnv);
      if (input.runMarker.trim() === '') throw new ValidationError('runMarker', 'must not be empty');
      const project = layout.gitlab.deploymentsProject;
      const envBranch = envBranchOf(layout, env);
      const original = await client.getMergeRequest(project, input.iid);
      if (original.targetBranch !== envBranch)
        throw new ValidationError(
          'iid',
          `must be a merge request into ${envBranch} (!${input.iid} targets ${original.targetBranch})`,
        );
      if (original.state !== 'merged')
        throw new ValidationError('iid', `must be a merged merge request (!${input.iid} is ${original.state})`);
      const mergedAs = original.mergeCommitSha ?? original.sha;
      const branch = revertBranch(env, input.iid);

      const [merged] = await client.listMergeRequests(project, {
        state: 'merged',
        sourceBranch: branch,
        targetBranch: envBranch,
      });
      if (merged) return await revertResult(ctx, merged, env, true);

      let [open] = await client.listMergeRequests(project, {
        state: 'opened',
        sourceBranch: branch,
        targetBranch: envBranch,
      });
      if (!open) {
        if ((await client.getBranch(project, branch)) === undefined)
          await client.createBranch(project, branch, envBranch);
        const ahead = await client.compare(project, envBranch, branch);
        if (ahead.commits.length === 0) {
          const outcome = await client.revertCommit(project, mergedAs, branch);
          if (outcome.kind === 'conflict') {
            throw new MergeConflictError(
              { mergeRequestIid: input.iid, detailedMergeStatus: 'revert_conflict' },
              `GitLab cannot revert !${input.iid} on ${envBranch}: ${outcome.message}`,
            );
          }
          if (outcome.kind === 'empty') return await alreadyRevertedElsewhere(ctx, input.iid, env);
        }
        const created = await client.createMergeRequest(project, {
          sourceBranch: branch,
          targetBranch: envBranch,
          title: `Revert "${original.title}"`,
          description: `This reverts merge request !${input.iid} (${original.sourceBranch}), restoring ${env} to what it ran before.\n\n${runMarkerTrailer(input.runMarker)}`,
        });
        open = created.mergeRequest;
      }
      const head = (await client.getMergeRequest(project, open.iid)).sha;
      // An undo keeps failing its attempt while GitLab is down: UNDO_RETRY rides outages out for hours, not minutes.
      await mergeWhenMergeable(ctx, open.iid, head, { rideOutOutages: false });
      return await revertResult(ctx, await client.getMergeRequest(project, open.iid), env, false);
    });
}

/** The result for a merged revert MR: its merge commit, and the tag env.cue declares after it. */
async function revertResult(
  ctx: GitLabContext,
  mr: MergeRequestInfo,
  env: Environment,
  alreadyReverted: boolean,
): Promise<RevertMergeRequestResult> {
  const mergeCommitSha = mr.mergeCommitSha ?? mr.sha;
  return {
    revertMergeRequest: mergeRequestRef(mr, env, await declaredTag(ctx, env, mergeCommitSha)),
    mergeCommitSha,
    alreadyReverted,
    attempt: attempt(),
  };
}

/** The image tag the environment's env.cue declares at `ref`, or '' when no env.cue is configured. */
async function declaredTag(ctx: GitLabContext, env: Environment, ref: string): Promise<string> {
  const cue = ctx.layout.gitlab.imageFiles.find((f) => f.endsWith('.cue'));
  if (cue === undefined) return '';
  const file = await ctx.client.readFile(ctx.layout.gitlab.deploymentsProject, cue, ref);
  return tagOfImage(imageInEnvCue(file.content, env, ctx.layout.app.cueName, cue)) ?? '';
}

/** GitLab found nothing to revert: the change already left the env branch through some merged MR naming `!iid`. */
async function alreadyRevertedElsewhere(
  ctx: GitLabContext,
  iid: number,
  env: Environment,
): Promise<RevertMergeRequestResult> {
  const project = ctx.layout.gitlab.deploymentsProject;
  const envBranch = envBranchOf(ctx.layout, env);
  const candidates = await ctx.client.listMergeRequests(project, {
    state: 'merged',
    targetBranch: envBranch,
    search: `!${iid}`,
  });
  const revert = candidates.find(
    (mr) => mr.iid !== iid && new RegExp(`!${iid}(?!\\d)`).test(`${mr.title}\n${mr.description}`),
  );
  if (revert) return revertResult(ctx, revert, env, true);
  throw new MergeConflictError(
    { mergeRequestIid: iid, detailedMergeStatus: 'already_reverted' },
    `${envBranch} no longer carries the change of !${iid}, but no merged merge request reverting it was found`,
  );
}

/**
 * Undo of opening an MR. Changes: a note with `reason` and the run marker, then state closed. Safe to repeat: the
 * note is not posted twice (an earlier note of this run with the same reason is found first), a closed MR is left
 * as is, and a merged MR is never touched (reported as `merged`: revert it instead). Waits for nothing.
 */
export function closeMergeRequestActivity(ctx: GitLabContext) {
  return (input: CloseMergeRequestInput): Promise<CloseMergeRequestResult> =>
    failTyped(async () => {
      const project = ctx.layout.gitlab.deploymentsProject;
      const mr = await ctx.client.getMergeRequest(project, input.iid);
      if (mr.state === 'merged' || mr.state === 'closed') return { stateBefore: mr.state, attempt: attempt() };
      if (mr.state === 'locked')
        throw new TransientError(`merge request !${input.iid} is being merged; looking again`, { system: 'gitlab' });
      const body = `${input.reason}\n\n${runMarkerTrailer(input.runMarker)}`;
      const notes = await ctx.client.listNotes(project, input.iid);
      if (!notes.some((n) => carriesRunMarker(n.body, input.runMarker) && n.body.startsWith(input.reason)))
        await ctx.client.addNote(project, input.iid, body);
      const closed = await ctx.client.closeMergeRequest(project, input.iid);
      if (closed.state === 'merged') return { stateBefore: 'merged', attempt: attempt() };
      return { stateBefore: 'opened', attempt: attempt() };
    });
}

/**
 * Undo of pushing a branch. Changes: deletes it from the deployments project. Safe to repeat: a missing branch is
 * success (`deleted: false`). Refuses (ValidationError) env branches, the default branch and any name outside the
 * run's prefixes `update-dev-`, `promote-`, `revert-`. Waits for nothing.
 */
export function deleteBranchActivity(ctx: GitLabContext) {
  return (input: DeleteBranchInput): Promise<DeleteBranchResult> =>
    failTyped(async () => {
      const { branch } = input;
      const prefixed = RUN_BRANCH_PREFIXES.some((p) => branch.startsWith(p) && branch.length > p.length);
      if (!prefixed) throw new ValidationError('branch', `must start with one of ${RUN_BRANCH_PREFIXES.join(', ')}`);
      if (envOfBranch(ctx.layout, branch) !== undefined)
        throw new ValidationError('branch', 'must not be an environment branch');
      const project = ctx.layout.gitlab.deploymentsProject;
      const { defaultBranch } = await ctx.client.getProject(project);
      if (branch === defaultBranch) throw new ValidationError('branch', 'must not be the default branch');
      const deleted = await ctx.client.deleteBranch(project, branch);
      return { deleted, attempt: attempt() };
    });
}
