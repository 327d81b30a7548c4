/**
 * A small GitLab world for the sandbox GitLab tests: model + server on 127.0.0.1, the deployments project with
 * env branches, a token user, and a gitbeaker client pointed at it.
 */
import { GitbeakerRequestError, Gitlab } from '@gitbeaker/rest';
import { afterEach, expect } from 'vitest';
import { Clock } from '../../src/sandbox/core/clock.js';
import { FaultEngine } from '../../src/sandbox/core/faults.js';
import type { SandboxServer } from '../../src/sandbox/core/http.js';
import { GitLabModel } from '../../src/sandbox/gitlab/model.js';
import { startGitLabServer } from '../../src/sandbox/gitlab/server.js';
import type { MergeRequest, MergeRequestEvent, PushEvent } from '../../src/sandbox/gitlab/types.js';
import { eventually } from '../support/eventually.js';

export const TOKEN = 'glpat-shepherd-test';
export const DEPLOYMENTS = 'p2c/k8s-deployments';
export const DEPLOYMENTS_ID = encodeURIComponent(DEPLOYMENTS);
export const MANIFEST = 'manifests/exampleApp/exampleApp.yaml';

export const manifest = (image: string): string =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: example-app\nspec:\n  template:\n    spec:\n      containers:\n        - name: example-app\n          image: ${image}\n`;

export interface GitLabWorld {
  readonly clock: Clock;
  readonly faults: FaultEngine;
  readonly model: GitLabModel;
  readonly server: SandboxServer;
  readonly gitlab: InstanceType<typeof Gitlab>;
  readonly pushes: PushEvent[];
  readonly mrEvents: MergeRequestEvent[];
  /** Raw fetch against `/api/v4` with the test token (unless `headers` replaces it). */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export async function startGitLabWorld(opts: { timeScale?: number } = {}): Promise<GitLabWorld> {
  const clock = new Clock(opts.timeScale ?? 0.001);
  const faults = new FaultEngine();
  const model = new GitLabModel({ clock, faults });
  model.addUser({ username: 'shepherd', name: 'Shepherd Bot', email: 'shepherd@example.com', tokens: [TOKEN] });
  model.createProject({
    path: DEPLOYMENTS,
    files: {
      'env.cue': 'package envs\n',
      'README.md': '# deployments\n',
      [MANIFEST]: manifest('registry/p2c/example-app:IMAGE_TAG_NOT_SET'),
    },
  });
  for (const env of ['dev', 'stage', 'prod']) model.createBranch(DEPLOYMENTS, env, 'main');
  const server = await startGitLabServer({ model, faults });
  faults.registerSystem('gitlab', server);
  const gitlab = new Gitlab({ host: server.url, token: TOKEN, queryTimeout: 10_000 });
  const pushes: PushEvent[] = [];
  const mrEvents: MergeRequestEvent[] = [];
  model.onPush((e) => {
    pushes.push(e);
  });
  model.onMergeRequest((e) => {
    mrEvents.push(e);
  });
  return {
    clock,
    faults,
    model,
    server,
    gitlab,
    pushes,
    mrEvents,
    api: (method, path, body, headers) =>
      fetch(`${server.url}/api/v4${path}`, {
        method,
        headers: {
          'private-token': TOKEN,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    async stop() {
      clock.stop();
      await faults.stop();
      await server.close();
    },
  };
}

/** Waits until the MR's mergeability check has finished and returns its detailed status. */
export function settledStatus(world: GitLabWorld, iid: number): Promise<string> {
  return eventually(() => {
    const mr: MergeRequest = world.model.mergeRequests.get(world.model.project(DEPLOYMENTS), iid);
    const status = world.model.mergeRequests.detailedStatus(mr);
    return status === 'checking' ? undefined : status;
  }, `MR !${iid} to leave checking`);
}

/** Creates `branch` from `from` with one commit changing the manifest image; returns the new head. */
export function pushImageChange(world: GitLabWorld, branch: string, from: string, image: string): string {
  return world.model.commit(DEPLOYMENTS, {
    branch,
    startBranch: from,
    message: `Deploy example-app: ${image}`,
    as: 'shepherd',
    actions: [{ action: 'update', filePath: MANIFEST, content: Buffer.from(manifest(image)) }],
  }).id;
}

/**
 * One world per test, stopped after it: call once at the top of a test file; the returned function starts the
 * current test's world.
 */
export function gitLabWorldPerTest(): (opts?: { timeScale?: number }) => Promise<GitLabWorld> {
  let world: GitLabWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });
  return async (opts = {}) => {
    world = await startGitLabWorld(opts);
    return world;
  };
}

/** Awaits a gitbeaker call that must fail with an HTTP error; returns its status, message and response body. */
export async function requestError(p: Promise<unknown>): Promise<{ status: number; message: string; body: unknown }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GitbeakerRequestError);
    const e = err as GitbeakerRequestError;
    const response = (e.cause as { response: Response }).response;
    return { status: response.status, message: e.message, body: (e.cause as { description?: unknown }).description };
  }
  throw new Error('expected the call to fail');
}
