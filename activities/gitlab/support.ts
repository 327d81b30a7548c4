/**
 * What the GitLab activities share: their injected dependencies, the heartbeat details of their waits, and the MR
 * reference the workflows receive.
 */
import { DEFAULT_FALLBACK_MS, type WaitPacing } from '../wakeups.js';
import { z } from 'zod';
import type { GitLabClient, MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import { environmentOrderOf, placeOf, type PipelineLayout } from '../../src/domain/pipeline.js';
import type { MergeRequestRef } from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import { tagOfBranch } from './edits.js';

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

/** The environment whose branch an MR targets, if any. */
export function envOfBranch(layout: PipelineLayout, branch: string): Environment | undefined {
  return environmentOrderOf(layout).find((e) => layout.environments[e]?.branch === branch);
}

/** The reference workflows keep: iid, link, branch, head and the image tag its branch name carries. */
export function mergeRequestRef(
  mr: MergeRequestInfo,
  targetEnv: Environment,
  imageTag = tagOfBranch(mr.sourceBranch, targetEnv) ?? '',
): MergeRequestRef {
  return { iid: mr.iid, webUrl: mr.webUrl, sourceBranch: mr.sourceBranch, targetEnv, headSha: mr.sha, imageTag };
}
