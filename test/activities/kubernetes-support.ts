/**
 * What the Kubernetes / Argo CD activity tests share: a sandbox world driven through the real clients
 * (test/sandbox/world-driver.ts), Shepherd's Kubernetes client and activities configured against it, and helpers
 * to run an activity in a MockActivityEnvironment and read the typed failure it throws.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type { Info } from '@temporalio/activity';
import { expect } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes.js';
import { createKubernetesClient, type KubernetesClient } from '../../src/clients/kubernetes/index.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import { layoutForWorld } from '../../src/worker/activities.js';
import type { ScenarioInput } from '../../src/sandbox/core/faults.js';
import { kubeconfigYaml } from '../../src/sandbox/kubernetes/kubeconfig.js';
import { startDriver, type Driver } from '../sandbox/world-driver.js';
import { startRecordingProxy } from '../support/recording-proxy.js';

export interface KubeWorld {
  readonly d: Driver;
  readonly layout: PipelineLayout;
  readonly client: KubernetesClient;
  readonly activities: KubernetesActivities;
  /** The credential the world's kubeconfig carries: must never show up in anything an activity returns or throws. */
  readonly token: string;
  stop(): Promise<void>;
}

export async function startKubeWorld(
  opts: {
    scenario?: string | ScenarioInput;
    timeScale?: number;
    layout?: Partial<PipelineLayout>;
    /** Environment → cluster name: a world whose environments sit on several clusters (`WorldOptions.clusters`). */
    clusters?: Readonly<Record<string, string>>;
  } = {},
): Promise<KubeWorld> {
  const d = await startDriver({
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    ...(opts.timeScale ? { timeScale: opts.timeScale } : {}),
    ...(opts.clusters ? { clusters: opts.clusters } : {}),
  });
  const layout: PipelineLayout = {
    ...layoutForWorld(d.world, { degradedGraceSeconds: 1, stabilitySeconds: 0.2 }),
    ...opts.layout,
  };
  const client = createKubernetesClient({ kubeconfigPath: d.world.info.kubernetes.kubeconfig });
  return {
    d,
    layout,
    client,
    activities: createKubernetesActivities({ client, layout, pollIntervalMs: 50 }),
    token: d.world.info.kubernetes.token,
    stop: () => d.stop(),
  };
}

/** An activity run in a mock activity context, with the heartbeats it sent. */
export function runActivity<I, R>(
  fn: (input: I) => Promise<R>,
  input: I,
  info: Partial<Info> = {},
): { result: Promise<R>; heartbeats: unknown[]; env: MockActivityEnvironment } {
  // Failures are what these tests expect: keep the mock worker's WARN lines about them out of the output.
  const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  return { result: env.run(fn, input), heartbeats, env };
}

/** The typed failure an activity threw. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure & { facts: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    return Object.assign(f, { facts: (f.details?.[0] ?? {}) as Record<string, unknown> });
  }
  throw new Error('expected the activity to fail');
}

export const deadlineIn = (seconds: number): string => new Date(Date.now() + seconds * 1000).toISOString();

/** Fails when `token` appears anywhere in the given values (results, failures with message and details, heartbeats). */
export function expectNoSecret(token: string, ...values: unknown[]): void {
  for (const v of values) {
    const text =
      v instanceof Error
        ? JSON.stringify({
            message: v.message,
            stack: v.stack,
            details: (v as ApplicationFailure).details,
            cause: String(v.cause ?? ''),
          })
        : JSON.stringify(v ?? null);
    expect(text).not.toContain(token);
  }
}

/** A version bump taken through CI and the dev MR to a merge on the dev branch: what the nightly run does first. */
export async function mergeNewVersionToDev(d: Driver): Promise<{ tag: string; image: string; mergeSha: string }> {
  const { version, sha } = await d.bumpVersion();
  const build = await d.awaitCiBuild(sha);
  expect(build.result).toBe('SUCCESS');
  const tag = `${version}-${sha.slice(0, 7)}`;
  const mr = await d.awaitOpenMr('dev', `update-dev-${tag}`);
  const mergeSha = await d.merge(mr.iid);
  return { tag, image: `docker.jmann.local/p2c/example-app:${tag}`, mergeSha };
}

/** Runs the promote job for `tag` from `source` (already synced on it) and merges the promotion MR. */
export async function mergePromotion(
  d: Driver,
  source: 'dev' | 'stage',
  target: 'stage' | 'prod',
  tag: string,
): Promise<string> {
  const build = await d.promote(source, target, tag);
  expect(build.result).toBe('SUCCESS');
  const mr = await d.awaitOpenMr(target, `promote-${target}-${tag}`);
  return d.merge(mr.iid);
}

/** One request that reached the API server, as an authorizer names it: `list pods`, `watch deployments`, `get …`. */
export interface CountedRequest {
  readonly verb: 'get' | 'list' | 'watch' | 'patch' | 'other';
  /** The resource (`pods`, `deployments`, `applications`) and, for an object, its name after a slash. */
  readonly resource: string;
  readonly namespace: string | undefined;
}

export interface CountingProxy {
  /** A kubeconfig for the world's API server reached through the proxy. */
  readonly kubeconfig: string;
  readonly requests: CountedRequest[];
  /** How many requests were `verb resource` (e.g. `list pods`), in any namespace. */
  count(verb: CountedRequest['verb'], resource: string): number;
  stop(): Promise<void>;
}

function countedRequest(method: string, url: string): CountedRequest {
  const { pathname, searchParams } = new URL(url, 'http://x');
  const parts = pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...
  let rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  const [resource = pathname, name] = rest;
  const watch = ['true', '1'].includes(searchParams.get('watch') ?? '');
  const verb =
    method === 'GET' ? (name !== undefined ? 'get' : watch ? 'watch' : 'list') : method === 'PATCH' ? 'patch' : 'other';
  return { verb, resource: name !== undefined ? `${resource}/${name}` : resource, namespace };
}

/**
 * A proxy on 127.0.0.1 in front of the world's Kubernetes API server that counts every request (watch streams pass
 * through as they come), with a kubeconfig pointing at it: requests counted at the HTTP level, whatever the client.
 */
export async function startCountingProxy(w: KubeWorld): Promise<CountingProxy> {
  const requests: CountedRequest[] = [];
  const proxy = await startRecordingProxy(w.d.world.info.kubernetes.url, (method, path) =>
    requests.push(countedRequest(method, path)),
  );
  const kubeconfig = join(dirname(w.d.world.info.kubernetes.kubeconfig), `kubeconfig-proxy-${new URL(proxy.url).port}`);
  writeFileSync(kubeconfig, kubeconfigYaml({ server: proxy.url, token: w.token }), { mode: 0o600 });
  return {
    kubeconfig,
    requests,
    count: (verb, resource) => requests.filter((r) => r.verb === verb && r.resource === resource).length,
    stop: () => proxy.stop(),
  };
}
