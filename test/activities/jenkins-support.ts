/**
 * Shared pieces of the Jenkins activity tests: the client configured against a sandbox, a runner that plays one
 * activity attempt in a MockActivityEnvironment (recording heartbeats, optionally starting from an earlier attempt's
 * details), a Temporal-like retry loop, a version bump that starts CI, and a scan for leaked credentials; and the
 * set-up every Jenkins test file shares (`jenkinsSuite`).
 */
import { Buffer } from 'node:buffer';
import { Gitlab } from '@gitbeaker/rest';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { createJenkinsActivities, type JenkinsActivities } from '../../activities/jenkins.js';
import { JenkinsClient, type JenkinsClientOptions } from '../../src/clients/jenkins/client.js';
import type { TriggerPromoteJobInput } from '../../src/domain/activities.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import { Secret } from '../../src/config/secret.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';

export const POLL_MS = 25;

export function clientFor(sandbox: TestSandbox, overrides: Partial<JenkinsClientOptions> = {}): JenkinsClient {
  const { jenkins } = sandbox.world.info;
  return new JenkinsClient({
    url: jenkins.url,
    user: jenkins.user,
    token: new Secret(jenkins.token),
    timeoutMs: 5_000,
    ...overrides,
  });
}

export function activitiesFor(
  sandbox: TestSandbox,
  opts: { client?: JenkinsClient; layout?: PipelineLayout } = {},
): JenkinsActivities {
  return createJenkinsActivities({
    client: opts.client ?? clientFor(sandbox),
    layout: opts.layout ?? sandbox.layout,
    pollIntervalMs: POLL_MS,
    consoleTailLines: 10,
  });
}

/** Everything one attempt produced, for assertions and for the secret scan. */
export interface Attempt<R> {
  readonly result?: R;
  readonly error?: unknown;
  readonly heartbeats: unknown[];
}

/** Runs one attempt; `onHeartbeat` may cancel it (a worker that dies mid-wait, or a workflow that cancels). */
export async function attempt<I, R>(
  fn: (input: I) => Promise<R>,
  input: I,
  opts: {
    heartbeatDetails?: unknown;
    attempt?: number;
    onHeartbeat?: (details: unknown, env: MockActivityEnvironment) => void;
  } = {},
): Promise<Attempt<R>> {
  const env = new MockActivityEnvironment(
    {
      attempt: opts.attempt ?? 1,
      ...(opts.heartbeatDetails !== undefined ? { heartbeatDetails: opts.heartbeatDetails } : {}),
    },
    // Expected failures are the subject of these tests; the worker's "Activity failed" warnings would only be noise.
    { logger: new DefaultLogger('ERROR') },
  );
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => {
    heartbeats.push(d);
    opts.onHeartbeat?.(d, env);
  });
  try {
    return { result: await env.run(fn, input), heartbeats };
  } catch (error) {
    return { error, heartbeats };
  }
}

/**
 * Retries like Temporal does: a retryable failure starts the next attempt with the last heartbeat details of the
 * previous one; a non-retryable failure or success ends it. Returns every attempt.
 */
export async function withRetries<I, R>(
  fn: (input: I) => Promise<R>,
  input: I,
  maxAttempts = 10,
): Promise<Attempt<R>[]> {
  const attempts: Attempt<R>[] = [];
  let details: unknown;
  for (let n = 1; n <= maxAttempts; n++) {
    const a = await attempt(fn, input, { attempt: n, ...(details !== undefined ? { heartbeatDetails: details } : {}) });
    attempts.push(a);
    if (a.heartbeats.length > 0) details = a.heartbeats.at(-1);
    if (a.error === undefined || !(a.error instanceof ApplicationFailure) || a.error.nonRetryable) break;
  }
  return attempts;
}

/** The failure an attempt ended with, checked to be one of our typed ApplicationFailures. */
export function failureOf(a: Attempt<unknown>): ApplicationFailure & { facts: Record<string, unknown> } {
  expect(a.error, 'the attempt should have failed').toBeInstanceOf(ApplicationFailure);
  const failure = a.error as ApplicationFailure;
  return Object.assign(failure, { facts: (failure.details?.[0] ?? {}) as Record<string, unknown> });
}

/** Raises the patch version in the app repo's pom.xml on main, which starts the CI job; returns the new commit. */
export async function pushVersionBump(sandbox: TestSandbox): Promise<string> {
  const { gitlab } = sandbox.world.info;
  const api = new Gitlab({ host: gitlab.url, token: gitlab.token, queryTimeout: 10_000 });
  const file = await api.RepositoryFiles.show(gitlab.appProject, 'pom.xml', 'main');
  const pom = Buffer.from(file.content, 'base64').toString('utf8');
  const current = /<version>([^<]+)<\/version>/.exec(pom)?.[1] ?? '';
  const m = /^(\d+)\.(\d+)\.(\d+)(.*)$/.exec(current);
  if (!m) throw new Error(`unexpected version ${current}`);
  const next = `${m[1]}.${m[2]}.${Number(m[3]) + 1}${m[4]}`;
  const commit = await api.Commits.create(gitlab.appProject, 'main', `chore: bump version to ${next}`, [
    {
      action: 'update',
      filePath: 'pom.xml',
      content: pom.replace(`<version>${current}</version>`, `<version>${next}</version>`),
      lastCommitId: file.last_commit_id,
    },
  ]);
  return commit.id;
}

/** Builds of a job as the sandbox's inspection endpoint reports them. */
export async function buildsOf(sandbox: TestSandbox, job: readonly string[]) {
  const state = await sandbox.state();
  const found = state.jenkins.jobs.find((j) => j.path === job.join('/'));
  if (!found) throw new Error(`no job ${job.join('/')} in the sandbox`);
  return found.builds;
}

/** Waits until no job builds or queues anything, so that a one-shot fault hits the build the test starts next. */
export async function jenkinsIdle(sandbox: TestSandbox): Promise<void> {
  await vi.waitFor(
    async () => {
      const { jenkins } = await sandbox.state();
      expect(jenkins.jobs.every((j) => j.counts.building === 0 && j.counts.queued === 0)).toBe(true);
    },
    { timeout: 30_000, interval: 50 },
  );
}

/** The credential values a report, history or log must never contain, in the forms they could leak in. */
export function credentialsOf(sandbox: TestSandbox): string[] {
  const { jenkins, gitlab } = sandbox.world.info;
  const password = sandbox.world.jenkins.security.user(jenkins.user)?.password;
  const values = [jenkins.token, gitlab.token, ...(password ? [password] : [])];
  return [...values, ...values.map((v) => Buffer.from(`${jenkins.user}:${v}`).toString('base64'))];
}

/** Everything an activity hands back or records, as Temporal would serialise it. */
export function observable(...things: unknown[]): string {
  return JSON.stringify(things, (_key, value: unknown) => {
    if (value instanceof Error)
      return {
        name: value.name,
        message: value.message,
        stack: value.stack,
        ...(value instanceof ApplicationFailure ? { type: value.type, details: value.details } : {}),
        cause: value.cause,
      };
    return value;
  });
}

/** Three hours from now: waits in these tests end by themselves long before. */
export function farDeadline(): string {
  return new Date(Date.now() + 3 * 3600_000).toISOString();
}

/** What a Jenkins test file works with: its sandbox, what its tests saw (for the secret scan), promotion requests. */
export interface JenkinsSuite {
  /** The file's sandbox, started before its first test and stopped after its last. */
  readonly sandbox: TestSandbox;
  /** Inputs, results, heartbeats and failures the tests saw: the closing test scans them for credentials. */
  readonly seen: unknown[];
  /** A fresh promotion request dev → stage: its own image tag, so builds of different tests never share parameters. */
  request(overrides?: Partial<TriggerPromoteJobInput>): TriggerPromoteJobInput;
  /** The promote job's builds of one image tag. */
  promoteBuildsWith(imageTag: string): ReturnType<typeof buildsOf>;
}

/**
 * Registers the file's sandbox (beforeAll/afterAll) and returns what its tests share. `tag(n)` names the image of
 * the n-th request; `runMarker` marks the file's requests.
 */
export function jenkinsSuite(opts: { readonly tag: (n: number) => string; readonly runMarker: string }): JenkinsSuite {
  let started: TestSandbox | undefined;
  let tagNo = 0;
  beforeAll(async () => {
    started = await startSandbox();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const suite: JenkinsSuite = {
    get sandbox(): TestSandbox {
      if (!started) throw new Error('the sandbox is started in beforeAll');
      return started;
    },
    seen: [],
    request: (overrides = {}) => ({
      appName: 'example-app',
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag: opts.tag(++tagNo),
      notBefore: new Date().toISOString(),
      runMarker: opts.runMarker,
      ...overrides,
    }),
    promoteBuildsWith: async (imageTag) =>
      (await buildsOf(suite.sandbox, suite.sandbox.layout.jenkins.promoteJob)).filter(
        (b) => b.params.IMAGE_TAG === imageTag,
      ),
  };
  return suite;
}
