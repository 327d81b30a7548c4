/**
 * A small Jenkins world for the sandbox Jenkins tests: one user, the two jobs of the real installation (the
 * multibranch CI job and `promote-environment`) plus a plain job without parameters, each driven by a runner the
 * test can script, and clients configured the way Shepherd configures them.
 */
import Jenkins from 'jenkins';
import { Clock } from '../../src/sandbox/core/clock.js';
import { FaultEngine } from '../../src/sandbox/core/faults.js';
import type { SandboxServer } from '../../src/sandbox/core/http.js';
import {
  JenkinsModel,
  startJenkinsServer,
  type BuildContext,
  type BuildParams,
  type BuildResult,
  type JobRunner,
} from '../../src/sandbox/jenkins/index.js';

export const USER = {
  id: 'shepherd',
  fullName: 'Shepherd Bot',
  password: 'correct-horse',
  apiToken: '11f0c2d5e0b54a7a9c1d2e3f4a5b6c7d8e',
} as const;

export const JOBS = {
  ci: 'example-app/main',
  promote: 'promote-environment',
  plain: 'plain',
} as const;
type JobKey = keyof typeof JOBS;

/**
 * The npm client as used in object form. `@types/jenkins` types several calls positionally and wrongly
 * (api-contracts §0.11), so the tests see this narrower, accurate view of the same client object.
 */
export interface ObjectFormClient {
  info(): Promise<unknown>;
  job: {
    build(o: { name: string; parameters?: Record<string, string | boolean>; delay?: string }): Promise<number>;
    get(o: { name: string; tree?: string }): Promise<unknown>;
    exists(o: { name: string }): Promise<boolean>;
  };
  build: {
    get(o: { name: string; number: number | string; tree?: string }): Promise<unknown>;
    log(o: {
      name: string;
      number: number;
      start?: number;
      meta: true;
    }): Promise<{ text: string; more: boolean; size?: string }>;
    stop(o: { name: string; number: number }): Promise<void>;
  };
  queue: { item(n: number): Promise<unknown>; list(): Promise<unknown>; cancel(n: number): Promise<void> };
}

export interface JenkinsWorld {
  readonly clock: Clock;
  readonly model: JenkinsModel;
  readonly server: SandboxServer;
  readonly faults: FaultEngine;
  readonly url: string;
  /** Replace to script what a job's builds do; the default succeeds at once. */
  readonly runners: Record<JobKey, JobRunner>;
  /** Answers for `shouldCancelInQueue` of the promote job. */
  cancelPromoteInQueue: (params: BuildParams) => boolean;
  /** The npm client authenticated with the API token (crumbs still fetched, as by default). */
  tokenClient(opts?: { crumbIssuer?: boolean }): ObjectFormClient;
  passwordClient(): ObjectFormClient;
  basic(secret: string, user?: string): string;
  stop(): Promise<void>;
}

export async function startJenkinsWorld(
  opts: { timeScale?: number; leftItemTtlMs?: number } = {},
): Promise<JenkinsWorld> {
  const clock = new Clock(opts.timeScale ?? 0.001);
  const faults = new FaultEngine();
  const model = new JenkinsModel({
    clock,
    ...(opts.leftItemTtlMs !== undefined ? { leftItemTtlMs: opts.leftItemTtlMs } : {}),
  });
  model.security.addUser(USER);
  const succeed: JobRunner = async () => 'SUCCESS';
  const runners: Record<JobKey, JobRunner> = { ci: succeed, promote: succeed, plain: succeed };
  const world = {
    cancelPromoteInQueue: (_params: BuildParams) => false,
  };
  model.defineFolder('example-app', 'multibranch');
  model.defineJob({
    path: ['example-app', 'main'],
    description: 'example-app CI, branch main',
    parameters: [{ type: 'boolean', name: 'SKIP_INTEGRATION_TESTS', default: false }],
    concurrentBuild: false,
    runner: (ctx) => runners.ci(ctx),
  });
  model.defineJob({
    path: ['promote-environment'],
    description: 'Promote an application image from one environment to the next',
    parameters: [
      { type: 'string', name: 'APP_NAME', default: 'example-app' },
      { type: 'choice', name: 'SOURCE_ENV', choices: ['dev', 'stage'] },
      { type: 'choice', name: 'TARGET_ENV', choices: ['stage', 'prod'] },
      { type: 'string', name: 'IMAGE_TAG', default: '', trim: true },
    ],
    concurrentBuild: false,
    runner: (ctx) => runners.promote(ctx),
    shouldCancelInQueue: (params) => world.cancelPromoteInQueue(params),
  });
  model.defineJob({ path: ['plain'], concurrentBuild: true, runner: (ctx) => runners.plain(ctx) });
  const server = await startJenkinsServer({ model, faults });
  const basic = (secret: string, user: string = USER.id): string =>
    `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
  return Object.assign(world, {
    clock,
    model,
    server,
    faults,
    url: server.url,
    runners,
    basic,
    tokenClient: (o: { crumbIssuer?: boolean } = {}) =>
      new Jenkins({
        baseUrl: server.url,
        crumbIssuer: o.crumbIssuer ?? true,
        headers: { authorization: basic(USER.apiToken) },
      }) as unknown as ObjectFormClient,
    passwordClient: () =>
      new Jenkins({
        baseUrl: server.url,
        crumbIssuer: true,
        headers: { authorization: basic(USER.password) },
      }) as unknown as ObjectFormClient,
    async stop() {
      clock.stop();
      await faults.stop();
      await server.close();
    },
  });
}

/** A build step that waits until the test opens it; rejects when the build is stopped. */
export class Gate {
  private release!: () => void;
  private readonly opened = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  entered = false;

  open(): void {
    this.release();
  }

  wait(ctx: BuildContext): Promise<void> {
    this.entered = true;
    return new Promise((resolve, reject) => {
      if (ctx.signal.aborted) reject(new Error('aborted'));
      ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      void this.opened.then(resolve);
    });
  }

  /** A runner that logs, waits for the gate and ends with `result`. */
  runner(result: BuildResult = 'SUCCESS', lines: readonly string[] = ['step one']): JobRunner {
    return async (ctx) => {
      for (const line of lines) ctx.log(line);
      await this.wait(ctx);
      ctx.log('step two');
      return result;
    };
  }
}

/** `fetch` with the API token unless other headers are given. */
export function call(
  world: JenkinsWorld,
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${world.url}${path}`, {
    redirect: 'manual',
    ...init,
    headers: { authorization: world.basic(USER.apiToken), ...init.headers },
  });
}
