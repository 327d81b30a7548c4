/**
 * revertMergeRequest: the undo of a merge into an env branch, which only takes MRs. Changes: branch
 * `revert-{env}-{iid}` from the env branch, GitLab's revert of the MR's merge commit (fast-forward merges: of its
 * head) onto it, an MR into the env branch titled `Revert "{title}"` with the run marker and `remove_source_branch`,
 * and its merge (with the `sha` guard, waiting through the mergeability check, pipeline and rebase like
 * mergeMergeRequest). Safe to repeat: each part is looked up before it is made — a merged
 * revert MR returns its merge commit (`alreadyReverted`), an open one is merged, an existing branch is reused, a
 * revert commit already on the branch is not made twice. When GitLab finds nothing left to revert, the env branch
 * no longer carries the change: a merged MR into it that names `!{iid}` is returned as the revert.
 */
import { environmentOrderOf } from '../../src/domain/pipeline.js';
import { z } from 'zod';
import {
  ACTIVITY_FIELDS,
  type RevertMergeRequestResult,
  type ShepherdActivities,
} from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import { MergeConflictError, ValidationError } from '../../src/domain/errors.js';
import { imageTagOf } from '../../src/domain/image-reference.js';
import type { MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import { defineActivity } from '../define.js';
import { readImage } from './declarations/index.js';
import { revertBranch, runMarkerTrailer } from './edits.js';
import { mergeWhenMergeable, MergeWaitDetailsSchema } from './merge-merge-request.js';
import { declarationContext, declarationsIn, envBranchOf, mergeRequestRef, type GitLabContext } from './support.js';

export function createRevertMergeRequest(ctx: GitLabContext): ShepherdActivities['revertMergeRequest'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      iid: ACTIVITY_FIELDS.positiveWhole(),
      targetEnv: ACTIVITY_FIELDS.environment(environmentOrderOf(layout)),
      runMarker: ACTIVITY_FIELDS.text(),
      deadline: ACTIVITY_FIELDS.instant().optional(),
    }),
    progress: MergeWaitDetailsSchema,
    async run(input, activity) {
      const env = input.targetEnv;
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
      const result = (mr: MergeRequestInfo, alreadyReverted: boolean) =>
        revertResult(ctx, mr, env, alreadyReverted, activity.attempt);

      const [merged] = await client.listMergeRequests(project, {
        state: 'merged',
        sourceBranch: branch,
        targetBranch: envBranch,
      });
      if (merged) return await result(merged, true);

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
          if (outcome.kind === 'empty') {
            const elsewhere = await revertedElsewhere(ctx, input.iid, env);
            return await result(elsewhere, true);
          }
        }
        const created = await client.createMergeRequest(project, {
          sourceBranch: branch,
          targetBranch: envBranch,
          title: `Revert "${original.title}"`,
          description: `This reverts merge request !${input.iid} (${original.sourceBranch}), restoring ${env} to what it ran before.\n\n${runMarkerTrailer(input.runMarker)}`,
          removeSourceBranch: true,
        });
        open = created.mergeRequest;
      }
      const head = (await client.getMergeRequest(project, open.iid)).sha;
      // An undo keeps failing its attempt while GitLab is down: UNDO_RETRY rides outages out for hours, not minutes.
      await mergeWhenMergeable(ctx, activity, open.iid, head, {
        rideOutOutages: false,
        ...(input.deadline !== undefined ? { deadline: Date.parse(input.deadline) } : {}),
      });
      return await result(await client.getMergeRequest(project, open.iid), false);
    },
  });
}

/** The result for a merged revert MR: its merge commit, and the tag the environment declares after it. */
async function revertResult(
  ctx: GitLabContext,
  mr: MergeRequestInfo,
  env: Environment,
  alreadyReverted: boolean,
  attempt: number,
): Promise<RevertMergeRequestResult> {
  const mergeCommitSha = mr.mergeCommitSha ?? mr.sha;
  return {
    revertMergeRequest: mergeRequestRef(ctx.layout, mr, env, await declaredTag(ctx, env, mergeCommitSha)),
    mergeCommitSha,
    alreadyReverted,
    attempt,
  };
}

/**
 * The image tag the environment declares at `ref`: that of its first image declaration (the seed's: env.cue), or ''
 * when it has none or declares a digest only.
 */
async function declaredTag(ctx: GitLabContext, env: Environment, ref: string): Promise<string> {
  const [first] = declarationsIn(ctx.layout, env);
  if (first === undefined) return '';
  const file = await ctx.client.readFile(ctx.layout.gitlab.deploymentsProject, first.path, ref);
  const image = readImage(first.declaration, file.content, declarationContext(ctx.layout, env), first.path);
  return imageTagOf(image) ?? '';
}

/** GitLab found nothing to revert: the change already left the env branch through some merged MR naming `!iid`. */
async function revertedElsewhere(ctx: GitLabContext, iid: number, env: Environment): Promise<MergeRequestInfo> {
  const envBranch = envBranchOf(ctx.layout, env);
  const candidates = await ctx.client.listMergeRequests(ctx.layout.gitlab.deploymentsProject, {
    state: 'merged',
    targetBranch: envBranch,
    search: `!${iid}`,
  });
  const revert = candidates.find(
    (mr) => mr.iid !== iid && new RegExp(`!${iid}(?!\\d)`).test(`${mr.title}\n${mr.description}`),
  );
  if (revert) return revert;
  throw new MergeConflictError(
    { mergeRequestIid: iid, detailedMergeStatus: 'already_reverted' },
    `${envBranch} no longer carries the change of !${iid}, but no merged merge request reverting it was found`,
  );
}
