/**
 * What the GitLab activity tests share: a sandbox world, Shepherd's real GitLab client configured against it, the
 * activities built from them, and running one activity the way a worker would (attempt, heartbeat details,
 * heartbeats recorded).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { createGitLabActivities, type GitLabActivities } from '../../activities/gitlab.js';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { Secret } from '../../src/config/secret.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';

/** Expected failures are the point of many tests: keep the worker's failure warnings out of the output. */
const QUIET = new DefaultLogger('ERROR');

export interface GitLabHarness {
  readonly sandbox: TestSandbox;
  readonly client: GitLabClient;
  readonly acts: GitLabActivities;
  /** Everything that went into or came out of an activity, for the secret scan. */
  readonly seen: unknown[];
  run<I, R>(
    fn: (input: I) => Promise<R>,
    input: I,
    opts?: { attempt?: number; heartbeatDetails?: unknown },
  ): Promise<{ result: R; heartbeats: unknown[] }>;
  /** Runs an activity that must fail; returns the ApplicationFailure it threw. */
  fail<I>(
    fn: (input: I) => Promise<unknown>,
    input: I,
    opts?: { attempt?: number; heartbeatDetails?: unknown },
  ): Promise<ApplicationFailure>;
  projectState(path: string): Promise<ProjectState>;
}

export type ProjectState = Awaited<ReturnType<TestSandbox['state']>>['gitlab']['projects'][number];

export async function startGitLabHarness(
  opts: { timeScale?: number; mergeabilityTimeoutMs?: number; scenario?: string } = {},
): Promise<GitLabHarness> {
  const sandbox = await startSandbox({
    ...(opts.timeScale !== undefined ? { timeScale: opts.timeScale } : {}),
    ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
  });
  const client = new GitLabClient({
    url: sandbox.world.info.gitlab.url,
    token: new Secret(sandbox.world.info.gitlab.token),
    timeoutMs: 10_000,
  });
  const acts = createGitLabActivities({
    client,
    layout: sandbox.layout,
    pollIntervalMs: 20,
    ...(opts.mergeabilityTimeoutMs !== undefined ? { mergeabilityTimeoutMs: opts.mergeabilityTimeoutMs } : {}),
  });
  const seen: unknown[] = [];
  const run = async <I, R>(
    fn: (input: I) => Promise<R>,
    input: I,
    runOpts: { attempt?: number; heartbeatDetails?: unknown } = {},
  ): Promise<{ result: R; heartbeats: unknown[] }> => {
    const env = new MockActivityEnvironment(
      {
        attempt: runOpts.attempt ?? 1,
        ...(runOpts.heartbeatDetails !== undefined ? { heartbeatDetails: runOpts.heartbeatDetails } : {}),
      },
      { logger: QUIET },
    );
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    seen.push(input);
    try {
      const result: R = await env.run(fn, input);
      seen.push(result, heartbeats);
      return { result, heartbeats };
    } catch (err) {
      seen.push(describeError(err), heartbeats);
      throw err;
    }
  };
  return {
    sandbox,
    client,
    acts,
    seen,
    run,
    async fail(fn, input, runOpts) {
      try {
        await run(fn, input, runOpts);
      } catch (err) {
        if (err instanceof ApplicationFailure) return err;
        throw err;
      }
      throw new Error('expected the activity to fail');
    },
    async projectState(path) {
      const project = (await sandbox.state()).gitlab.projects.find((p) => p.path === path);
      if (!project) throw new Error(`no project ${path} in the sandbox`);
      return project;
    },
  };
}

function describeError(err: unknown): unknown {
  if (err instanceof ApplicationFailure)
    return { type: err.type, message: err.message, details: err.details, nonRetryable: err.nonRetryable };
  return err instanceof Error ? { name: err.name, message: err.message } : err;
}

/** An ISO instant `ms` from now. */
export function inMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** The credentials of every sandbox system that appear in what the activities of `h` received, returned or threw. */
export function credentialsSeen(h: GitLabHarness): string[] {
  const { gitlab, jenkins, kubernetes } = h.sandbox.world.info;
  const everything = JSON.stringify(h.seen);
  return [gitlab.token, jenkins.token, kubernetes.token].filter((secret) => everything.includes(secret));
}
