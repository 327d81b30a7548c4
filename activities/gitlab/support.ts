/**
 * What the GitLab activities share: their injected dependencies, the heartbeat details of their waits, and the MR
 * reference the workflows receive.
 */
import { DEFAULT_FALLBACK_MS, type WaitPacing } from '../wakeups.js';
import { z } from 'zod';
import type { GitLabClient, MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import {
  declarationPath,
  environmentOrderOf,
  imageDeclarationsOf,
  placeOf,
  type ImageDeclaration,
  type PipelineLayout,
} from '../../src/domain/pipeline.js';
import type { MergeRequestRef } from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import type { DeclarationContext } from './declarations/index.js';
import { deployBranchMatcher, tagOfBranch } from './edits.js';

export interface GitLabActivityDeps {
  readonly client: GitLabClient;
  readonly layout: PipelineLayout;
  /** Pause between two looks while waiting for an MR or its mergeability; default 3 s. */
  readonly pollIntervalMs?: number;
  /** Webhooks announce this system's changes (SHEPHERD_WEBHOOKS): the waits they cover poll at `fallbackIntervalMs`. */
  readonly webhooks?: boolean;
  /** The poll interval of covered waits when webhooks are on; default 60 s (SHEPHERD_POLL_FALLBACK). */
  readonly fallbackIntervalMs?: number;
  /**
   * How long a merge waits for GitLab's mergeability check (`checking`, `ci_still_running`, …) before it gives up
   * with WaitTimeoutError; default 10 min. Counted from the first attempt, across retries.
   */
  readonly mergeabilityTimeoutMs?: number;
  /** How many recent commits of the app's default branch a retried bump searches for its own; default 50. */
  readonly recentCommits?: number;
}

/** The deps with defaults applied. */
export interface GitLabContext {
  readonly client: GitLabClient;
  readonly layout: PipelineLayout;
  readonly pollIntervalMs: number;
  /** How the waits are paced: the poll interval, and with webhooks the fallback and the wake-ups. */
  readonly pace: WaitPacing;
  readonly mergeabilityTimeoutMs: number;
  readonly recentCommits: number;
}

export function contextOf(deps: GitLabActivityDeps): GitLabContext {
  return {
    client: deps.client,
    layout: deps.layout,
    pollIntervalMs: deps.pollIntervalMs ?? 3_000,
    pace: {
      pollIntervalMs: deps.pollIntervalMs ?? 3_000,
      webhooks: deps.webhooks ?? false,
      fallbackMs: deps.fallbackIntervalMs ?? DEFAULT_FALLBACK_MS,
    },
    mergeabilityTimeoutMs: deps.mergeabilityTimeoutMs ?? 600_000,
    recentCommits: deps.recentCommits ?? 50,
  };
}

/** Details of a GitLab wait: when it began (first attempt), how many looks so far, what was seen last, which MR. */
export const PollDetailsSchema = z.object({
  startedAt: z.number(),
  polls: z.number().int().nonnegative(),
  lastSeen: z.string().optional(),
  iid: z.number().int().optional(),
});
export type PollDetails = z.infer<typeof PollDetailsSchema>;

export function envBranchOf(layout: PipelineLayout, env: Environment): string {
  return placeOf(layout, env).branch;
}

/** The first environment whose branch is `branch` (several share it in a directory layout), if any. */
export function envOfBranch(layout: PipelineLayout, branch: string): Environment | undefined {
  return environmentOrderOf(layout).find((e) => layout.environments[e]?.branch === branch);
}

/**
 * The environment an MR deploys to. Branch layouts: the one whose branch it targets. Directory layouts, where
 * several environments share the target branch: the one its source branch names — the layout's dev template for the
 * first environment, the promotion template (`{target}`) for the others, `revert-{env}-…` for Shepherd's reverts.
 * The branch name, not the diff, decides, because it is known before the MR has changes and never needs another
 * request; an MR from a branch no template produced belongs to none (undefined).
 */
export function envOfMergeRequest(
  layout: PipelineLayout,
  mr: Pick<MergeRequestInfo, 'targetBranch' | 'sourceBranch'>,
): Environment | undefined {
  const sharing = environmentOrderOf(layout).filter((e) => layout.environments[e]?.branch === mr.targetBranch);
  if (sharing.length <= 1) return sharing[0];
  return sharing.find(
    (e) => deployBranchMatcher(layout, e).matches(mr.sourceBranch) || mr.sourceBranch.startsWith(`revert-${e}-`),
  );
}

/** The reference workflows keep: iid, link, branch, head and the image tag its branch name carries. */
export function mergeRequestRef(
  layout: PipelineLayout,
  mr: MergeRequestInfo,
  targetEnv: Environment,
  imageTag = tagOfBranch(layout, mr.sourceBranch, targetEnv) ?? '',
): MergeRequestRef {
  return { iid: mr.iid, webUrl: mr.webUrl, sourceBranch: mr.sourceBranch, targetEnv, headSha: mr.sha, imageTag };
}

/** An environment's image declarations: each with its path in the deployments repo. */
export function declarationsIn(
  layout: PipelineLayout,
  env: Environment,
): { readonly declaration: ImageDeclaration; readonly path: string }[] {
  return imageDeclarationsOf(layout).map((declaration) => ({
    declaration,
    path: declarationPath(layout, env, declaration.file),
  }));
}

/** The paths of the files that declare the app's image in any environment whose files live on `branch`. */
export function declarationPathsOnBranch(layout: PipelineLayout, branch: string): string[] {
  const envs = environmentOrderOf(layout).filter((e) => layout.environments[e]?.branch === branch);
  return [...new Set(envs.flatMap((e) => declarationsIn(layout, e).map((d) => d.path)))];
}

/** What the declarations of `env` stand for: the app, its CUE name, its container and image repository. */
export function declarationContext(layout: PipelineLayout, env: Environment): DeclarationContext {
  return {
    app: layout.app.name,
    cueName: layout.app.cueName,
    env,
    container: layout.workload.container ?? layout.app.name,
    repository: `${layout.registry.external}/${layout.registry.group}/${layout.app.name}`,
  };
}
