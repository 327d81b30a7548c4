/**
 * What the GitLab activities share: their injected dependencies, the conversion of our errors to Temporal
 * failures, deadlines and heartbeat details, and the MR reference the workflows receive.
 */
import { activityInfo } from '@temporalio/activity';
import { z } from 'zod';
import type { GitLabClient, MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import type { MergeRequestRef } from '../../src/domain/activities.js';
import { ENVIRONMENTS, type Environment } from '../../src/domain/environments.js';
import { ShepherdError, ValidationError } from '../../src/domain/errors.js';
import { toApplicationFailure } from '../../src/temporal/common/failures.js';
import { tagOfBranch } from './edits.js';

export interface GitLabActivityDeps {
  readonly client: GitLabClient;
  readonly layout: PipelineLayout;
  /** Pause between two looks while waiting for an MR or its mergeability; default 3 s. */
  readonly pollIntervalMs?: number;
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
  readonly mergeabilityTimeoutMs: number;
  readonly recentCommits: number;
}

export function contextOf(deps: GitLabActivityDeps): GitLabContext {
  return {
    client: deps.client,
    layout: deps.layout,
    pollIntervalMs: deps.pollIntervalMs ?? 3_000,
    mergeabilityTimeoutMs: deps.mergeabilityTimeoutMs ?? 600_000,
    recentCommits: deps.recentCommits ?? 50,
  };
}

/** Runs an activity body; our errors leave as typed ApplicationFailures, anything else (cancellation) as is. */
export async function failTyped<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ShepherdError) throw toApplicationFailure(err);
    throw err;
  }
}

export function attempt(): number {
  return activityInfo().attempt;
}

/** The deadline as epoch milliseconds; a ValidationError when it is not an ISO instant. */
export function deadlineOf(deadline: string): number {
  const at = Date.parse(deadline);
  if (Number.isNaN(at)) throw new ValidationError('deadline', 'must be an ISO-8601 instant');
  return at;
}

/** The heartbeat details of an earlier attempt, when they have the expected shape. */
export function resumedDetails<S extends z.ZodType>(schema: S): z.output<S> | undefined {
  const parsed = schema.safeParse(activityInfo().heartbeatDetails);
  return parsed.success ? parsed.data : undefined;
}

/** Details of a poll: when the wait began (first attempt), how many looks so far, what was seen last. */
export const PollDetailsSchema = z.object({
  startedAt: z.number(),
  polls: z.number().int().nonnegative(),
  lastSeen: z.string().optional(),
  iid: z.number().int().optional(),
});
export type PollDetails = z.infer<typeof PollDetailsSchema>;

export function checkApp(layout: PipelineLayout, appName: string): void {
  if (appName !== layout.app.name)
    throw new ValidationError('appName', `must be the configured app ${JSON.stringify(layout.app.name)}`);
}

export function checkEnvironment(field: string, env: string): Environment {
  if (!(ENVIRONMENTS as readonly string[]).includes(env))
    throw new ValidationError(field, `must be one of ${ENVIRONMENTS.join(', ')}`);
  return env as Environment;
}

export function envBranchOf(layout: PipelineLayout, env: Environment): string {
  return layout.environments[env].branch;
}

/** The environment whose branch an MR targets, if any. */
export function envOfBranch(layout: PipelineLayout, branch: string): Environment | undefined {
  return ENVIRONMENTS.find((e) => layout.environments[e].branch === branch);
}

/** The reference workflows keep: iid, link, branch, head and the image tag its branch name carries. */
export function mergeRequestRef(
  mr: MergeRequestInfo,
  targetEnv: Environment,
  imageTag = tagOfBranch(mr.sourceBranch, targetEnv) ?? '',
): MergeRequestRef {
  return { iid: mr.iid, webUrl: mr.webUrl, sourceBranch: mr.sourceBranch, targetEnv, headSha: mr.sha, imageTag };
}
