import { heartbeat, sleep } from '@temporalio/activity';
import type {
  ActivityResult,
  AwaitMergeRequestInput,
  MergeRequestRef,
  OpenPromotionMergeRequestInput,
  OpenPromotionMergeRequestResult,
} from '../../src/domain/activities.js';
import { isLegalPromotion } from '../../src/domain/environments.js';
import { MergeRequestNotFoundError, ValidationError, WaitTimeoutError } from '../../src/domain/errors.js';
import { isImageTag, RULES } from '../../src/domain/inputs.js';
import type { FileUpdate } from '../../src/clients/gitlab/index.js';
import { look, pauseAfter } from '../polling.js';
import {
  deployBranchPrefix,
  imageReference,
  promotionBranch,
  runMarkerTrailer,
  setImageInEnvCue,
  setImageInManifest,
} from './edits.js';
import {
  attempt,
  checkApp,
  checkEnvironment,
  deadlineOf,
  envBranchOf,
  failTyped,
  mergeRequestRef,
  PollDetailsSchema,
  resumedDetails,
  type GitLabContext,
} from './support.js';

/**
 * Changes nothing. Waits (polling every `pollIntervalMs`, heartbeating `{ startedAt, polls, lastSeen }`) for the open
 * MR into the env branch that CI (`update-dev-{tag}`, or `update-dev-{version}-…` when only the version is known) or
 * the promote job (`promote-{env}-{tag}`) opened, created at or after `createdAfter`; returns the newest such MR
 * with its current head. A retry keeps the first attempt's start, so the reported wait covers every attempt.
 * A look GitLab cannot answer (TransientError) saw nothing: it is heartbeated as `GitLab unreachable: …` and the
 * wait goes on. MergeRequestNotFoundError at the deadline, or WaitTimeoutError naming GitLab's last error when
 * GitLab could not answer the last look.
 */
export function awaitMergeRequestActivity(ctx: GitLabContext) {
  return (input: AwaitMergeRequestInput): Promise<MergeRequestRef & ActivityResult> =>
    failTyped(async () => {
      checkApp(ctx.layout, input.appName);
      const env = checkEnvironment('targetEnv', input.targetEnv);
      const deadline = deadlineOf(input.deadline);
      const createdAfter = Date.parse(input.createdAfter);
      if (Number.isNaN(createdAfter)) throw new ValidationError('createdAfter', 'must be an ISO-8601 instant');
      const prefix = deployBranchPrefix(env);
      let wanted: { exact: string } | { prefix: string };
      if (input.imageTag !== undefined) {
        if (!isImageTag(input.imageTag)) throw new ValidationError('imageTag', RULES.imageTag);
        wanted = { exact: `${prefix}${input.imageTag}` };
      } else if (input.version !== undefined && input.version !== '') {
        wanted = { prefix: `${prefix}${input.version}-` };
      } else {
        throw new ValidationError('imageTag', 'or version must be given');
      }
      const matches = (branch: string): boolean =>
        'exact' in wanted
          ? branch === wanted.exact
          : branch.startsWith(wanted.prefix) && branch.length > wanted.prefix.length;
      const project = ctx.layout.gitlab.deploymentsProject;
      const targetBranch = envBranchOf(ctx.layout, env);

      const resumed = resumedDetails(PollDetailsSchema);
      const startedAt = resumed?.startedAt ?? Date.now();
      let polls = resumed?.polls ?? 0;
      const waitingFor = 'exact' in wanted ? wanted.exact : `${wanted.prefix}*`;
      for (;;) {
        const seen = await look(async () => {
          const open = await ctx.client.listMergeRequests(project, {
            state: 'opened',
            targetBranch,
            createdAfter: new Date(createdAfter).toISOString(),
            ...('exact' in wanted ? { sourceBranch: wanted.exact } : {}),
          });
          const found = open.find((mr) => matches(mr.sourceBranch) && Date.parse(mr.createdAt) >= createdAfter);
          // The list may carry stale fields; the single GET has the current head.
          return { open, current: found ? await ctx.client.getMergeRequest(project, found.iid) : undefined };
        });
        polls++;
        if (seen.ok && seen.value.current) return { ...mergeRequestRef(seen.value.current, env), attempt: attempt() };
        const lastSeen = !seen.ok
          ? seen.unreachable
          : seen.value.open.length > 0
            ? `open: ${seen.value.open
                .map((m) => m.sourceBranch)
                .slice(0, 5)
                .join(', ')}`
            : 'no open merge request';
        heartbeat({ startedAt, polls, lastSeen });
        const now = Date.now();
        if (now >= deadline) {
          // GitLab could not answer the last look: that, not a missing MR, is why the wait ends.
          if (!seen.ok)
            throw new WaitTimeoutError({
              waitingFor: `merge request ${waitingFor} into ${env}`,
              timeoutSeconds: Math.max(0, Math.round((deadline - startedAt) / 1000)),
              lastSeen,
            });
          throw new MergeRequestNotFoundError({
            targetEnv: env,
            branchPrefix: 'exact' in wanted ? wanted.exact : wanted.prefix,
            waitedSeconds: Math.round((now - startedAt) / 1000),
          });
        }
        await sleep(Math.max(1, Math.min(pauseAfter(seen, ctx.pollIntervalMs), deadline - now)));
      }
    });
}

/**
 * Changes: branch `promote-{targetEnv}-{imageTag}` from the target env branch (created together with its commit),
 * the image reference in the configured image files (env.cue's line in the `{env}: {cueApp}:` block, the app
 * container's line in the rendered manifest) set to `{registry}/{group}/{app}:{tag}`, and an MR into the env
 * branch titled `Promote {app} to {env}: {tag}` describing the promotion, with the run marker.
 * Safe to repeat: an existing branch is reused (a commit is added only when it does not yet carry the image), and
 * an open MR for the same branch pair is reused. Waits for nothing.
 */
export function openPromotionMergeRequestActivity(ctx: GitLabContext) {
  return (input: OpenPromotionMergeRequestInput): Promise<OpenPromotionMergeRequestResult> =>
    failTyped(async () => {
      const { layout, client } = ctx;
      checkApp(layout, input.appName);
      const source = checkEnvironment('sourceEnv', input.sourceEnv);
      const target = checkEnvironment('targetEnv', input.targetEnv);
      if (!isLegalPromotion(source, target)) throw new ValidationError('targetEnv', RULES.promotion);
      if (!isImageTag(input.imageTag)) throw new ValidationError('imageTag', RULES.imageTag);
      if (input.runMarker.trim() === '') throw new ValidationError('runMarker', 'must not be empty');

      const project = layout.gitlab.deploymentsProject;
      const envBranch = envBranchOf(layout, target);
      const branch = promotionBranch(target, input.imageTag);
      const image = imageReference(layout.registry, layout.app.name, input.imageTag);
      const title = `Promote ${layout.app.name} to ${target}: ${input.imageTag}`;

      /** The updates `ref` still needs to declare `image`; empty when it already does. */
      const updatesFor = async (ref: string): Promise<FileUpdate[]> => {
        const updates: FileUpdate[] = [];
        for (const path of layout.gitlab.imageFiles) {
          const file = await client.readFile(project, path, ref);
          const next = path.endsWith('.cue')
            ? setImageInEnvCue(file.content, target, layout.app.cueName, image, path)
            : setImageInManifest(file.content, layout.app.name, image, path);
          if (next !== file.content) updates.push({ filePath: path, content: next, lastCommitId: file.lastCommitId });
        }
        return updates;
      };
      const message = `${title}\n\nAutomated promotion from ${source}.\n\nImage: ${image}\nSource environment: ${source}\n\n${runMarkerTrailer(input.runMarker)}\n`;

      let branchCreated = false;
      if ((await client.getBranch(project, branch)) === undefined) {
        const updates = await updatesFor(envBranch);
        if (updates.length === 0)
          throw new ValidationError('imageTag', `is already the image ${target} declares: nothing to promote`);
        await client.commitFiles(project, { branch, startBranch: envBranch, message, updates });
        branchCreated = true;
      } else {
        const updates = await updatesFor(branch);
        if (updates.length > 0) await client.commitFiles(project, { branch, message, updates });
      }

      const [open] = await client.listMergeRequests(project, {
        state: 'opened',
        sourceBranch: branch,
        targetBranch: envBranch,
      });
      let mergeRequestCreated = false;
      let iid = open?.iid;
      if (iid === undefined) {
        const created = await client.createMergeRequest(project, {
          sourceBranch: branch,
          targetBranch: envBranch,
          title,
          description: promotionDescription(input, image),
        });
        mergeRequestCreated = created.created;
        iid = created.mergeRequest.iid;
      }
      const current = await client.getMergeRequest(project, iid);
      return {
        mergeRequest: mergeRequestRef(current, target, input.imageTag),
        branchCreated,
        mergeRequestCreated,
        attempt: attempt(),
      };
    });
}

function promotionDescription(input: OpenPromotionMergeRequestInput, image: string): string {
  return [
    `## Promotion from ${input.sourceEnv} to ${input.targetEnv}`,
    '',
    `**Application:** ${input.appName}`,
    `**Image Tag:** ${input.imageTag}`,
    `**Source Environment:** ${input.sourceEnv}`,
    `**Target Environment:** ${input.targetEnv}`,
    '',
    '### Changes',
    `- Image: \`${image}\``,
    '',
    `After the merge, Argo CD deploys it to ${input.targetEnv}.`,
    '',
    '---',
    '*Opened by Shepherd*',
    '',
    runMarkerTrailer(input.runMarker),
  ].join('\n');
}
