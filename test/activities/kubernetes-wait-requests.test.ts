/**
 * The cluster waits read the Application, the Deployment, its ReplicaSets and the pods from caches a watch keeps up to date: the
 * API requests of a wait are one list and one watch per collection, however many watch events it sees; with the
 * watch down, the waits read the objects directly and still complete. Requests are counted at the HTTP level, by a
 * proxy in front of the sandbox's API server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes.js';
import { createKubernetesClient } from '../../src/clients/kubernetes/index.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import { RESOURCES } from '../../src/sandbox/kubernetes/resources.js';
import type { StoreEvent } from '../../src/sandbox/kubernetes/store.js';
import {
  deadlineIn,
  mergeNewVersionToDev,
  runActivity,
  startCountingProxy,
  startKubeWorld,
  type CountingProxy,
  type KubeWorld,
} from './kubernetes-support.js';

describe('the API requests of the cluster waits', () => {
  let w: KubeWorld | undefined;
  let proxy: CountingProxy | undefined;
  let unsubscribe: (() => void) | undefined;
  afterEach(async () => {
    unsubscribe?.();
    await proxy?.stop();
    await w?.stop();
    [unsubscribe, proxy, w] = [undefined, undefined, undefined];
  });

  /** The activities on a client that talks through the counting proxy. */
  async function countedActivities(
    world: KubeWorld,
    layout: PipelineLayout = world.layout,
    pacing: { pollIntervalMs: number; minLookGapMs?: number } = { pollIntervalMs: 50 },
  ) {
    proxy = await startCountingProxy(world);
    const client = createKubernetesClient({ kubeconfigPath: proxy.kubeconfig });
    return createKubernetesActivities({ client, layout, ...pacing });
  }

  /**
   * Once the wait has looked for the first time (its first heartbeat), changes an annotation of a pod of `namespace`
   * 300 times, in batches that the watch streams deliver between them. True when the wait was still running after.
   */
  async function podNoise(world: KubeWorld, namespace: string, run: ReturnType<typeof runActivity>): Promise<boolean> {
    let settled = false;
    run.result.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise<void>((resolve) => run.env.once('heartbeat', () => resolve()));
    const store = world.d.world.cluster.store;
    const pod = store.list(RESOURCES.pods, { namespace }).items[0]!;
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 30; i++) {
        store.mutate(RESOURCES.pods, namespace, pod.metadata.name, (p) => {
          p.metadata.annotations = { ...p.metadata.annotations, 'example.com/noise': `${batch}-${i}` };
        });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return !settled;
  }

  /** Counts the store's pod events in `namespace` from now on. */
  function podEvents(world: KubeWorld, namespace: string): { readonly count: number } {
    const seen = { count: 0 };
    unsubscribe = world.d.world.cluster.store.subscribe((ev: StoreEvent) => {
      if (ev.resource === RESOURCES.pods && ev.object.metadata.namespace === namespace) seen.count += 1;
    });
    return seen;
  }

  const requests = (p: CountingProxy) => p.requests.map((r) => `${r.verb} ${r.resource}`).sort();

  it('verifyWorkload costs one list and one watch of the Deployment and of the pods, through hundreds of pod events', async () => {
    w = await startKubeWorld();
    // A stability window long enough for the noise below to land inside the wait.
    const activities = await countedActivities(w, { ...w.layout, stabilitySeconds: 2 });
    const state = await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'prod' }).result;
    proxy!.requests.length = 0;
    const events = podEvents(w, 'prod');

    const run = runActivity(activities.verifyWorkload, {
      appName: 'example-app',
      env: 'prod',
      imageTag: state.imageTag!,
      deadline: deadlineIn(30),
    });
    // Pod events that change nothing the wait checks (an annotation), as a busy cluster sends them.
    expect(await podNoise(w, 'prod', run)).toBe(true);
    const result = await run.result;

    expect(result.pods).toHaveLength(state.replicas.desired);
    expect(result.pods.every((p) => p.imageTag === state.imageTag && p.ready)).toBe(true);
    expect(events.count).toBe(300);
    expect(requests(proxy!)).toEqual([
      'list deployments',
      'list pods',
      'list replicasets',
      'watch deployments',
      'watch pods',
      'watch replicasets',
    ]);
  });

  it('wakes at most once per minimum gap between looks, however many pod events arrive', async () => {
    w = await startKubeWorld();
    // Gaps far longer than the wait: the looks are the first one and the one at the end of the stability window.
    const activities = await countedActivities(
      w,
      { ...w.layout, stabilitySeconds: 2 },
      { pollIntervalMs: 600_000, minLookGapMs: 600_000 },
    );
    const state = await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'prod' }).result;
    const events = podEvents(w, 'prod');
    const run = runActivity(activities.verifyWorkload, {
      appName: 'example-app',
      env: 'prod',
      imageTag: state.imageTag!,
      deadline: deadlineIn(30),
    });
    expect(await podNoise(w, 'prod', run)).toBe(true);
    await run.result;

    expect(events.count).toBe(300);
    // One heartbeat per look: the window started, then the window closed.
    expect(run.heartbeats).toEqual([
      expect.objectContaining({ lastSeen: 'rolled out; stability window started' }),
      expect.objectContaining({ lastSeen: expect.stringMatching(/^rolled out and stable since /) }),
    ]);
  });

  it('awaitArgoSyncedAndHealthy and verifyWorkload through a rollout: one list and one watch per collection each', async () => {
    w = await startKubeWorld();
    const activities: KubernetesActivities = await countedActivities(w);
    const { tag, mergeSha } = await mergeNewVersionToDev(w.d);
    const events = podEvents(w, 'dev');
    proxy!.requests.length = 0;

    const app = { appName: 'example-app', env: 'dev' as const };
    await runActivity(activities.awaitArgoSyncedAndHealthy, { ...app, revision: mergeSha, deadline: deadlineIn(60) })
      .result;
    const verified = await runActivity(activities.verifyWorkload, { ...app, imageTag: tag, deadline: deadlineIn(30) })
      .result;

    expect(verified.pods).toEqual([expect.objectContaining({ imageTag: tag, ready: true })]);
    // The rollout: a new pod created, started, ready; the old one terminating, then gone.
    expect(events.count).toBeGreaterThanOrEqual(4);
    const refresh = proxy!.count('patch', 'applications/example-app-dev');
    expect(refresh).toBeLessThanOrEqual(1);
    // At most one list and one watch of each collection per wait (two waits: the Argo CD wait and verifyWorkload);
    // a wait that settles before it needs the pods may not open their watches at all.
    const made = requests(proxy!).filter((r) => !r.startsWith('patch '));
    const times = (r: string) => made.filter((m) => m === r).length;
    expect(times('list applications')).toBe(1);
    expect(times('watch applications')).toBe(1);
    expect(times('list deployments')).toBe(2);
    for (const collection of ['deployments', 'pods', 'replicasets']) {
      expect(times(`list ${collection}`), collection).toBeGreaterThanOrEqual(1);
      expect(times(`list ${collection}`), collection).toBeLessThanOrEqual(2);
      expect(times(`watch ${collection}`), collection).toBeLessThanOrEqual(times(`list ${collection}`));
    }
    expect(made.filter((r) => !/^(list|watch) (applications|deployments|pods|replicasets)$/.test(r))).toEqual([]);
  });

  it('completes both waits through a rollout with every watch refused, reading the objects directly', async () => {
    w = await startKubeWorld();
    const activities = await countedActivities(w);
    w.d.world.kubePermissions.setDenied([
      { verb: 'watch', group: 'argoproj.io', resource: 'applications' },
      { verb: 'watch', group: 'apps', resource: 'deployments' },
      { verb: 'watch', group: '', resource: 'pods' },
      { verb: 'watch', group: 'apps', resource: 'replicasets' },
    ]);
    const { tag, mergeSha } = await mergeNewVersionToDev(w.d);
    proxy!.requests.length = 0;

    const app = { appName: 'example-app', env: 'dev' as const };
    const settled = await runActivity(activities.awaitArgoSyncedAndHealthy, {
      ...app,
      revision: mergeSha,
      deadline: deadlineIn(60),
    }).result;
    const verified = await runActivity(activities.verifyWorkload, { ...app, imageTag: tag, deadline: deadlineIn(30) })
      .result;

    expect(settled).toMatchObject({ attempt: 1, revision: mergeSha });
    expect(verified.pods).toEqual([expect.objectContaining({ imageTag: tag, ready: true })]);
    // The stability window alone takes several looks: with no watch, they read the Deployment and the pods directly.
    // (A look right after a cache's first list may still read it, before the refused watch marks it unsynced.)
    expect(proxy!.count('get', 'deployments/example-app')).toBeGreaterThanOrEqual(1);
    // At least one direct read per wait; how many more depends on how many looks the stability window took.
    expect(proxy!.count('list', 'pods')).toBeGreaterThanOrEqual(2);
    expect(proxy!.count('list', 'replicasets')).toBeGreaterThanOrEqual(2);
  });
});
