/**
 * A multi-cluster pipeline: one Argo CD cluster holds the Applications, and an environment configured with a cluster
 * of its own (SHEPHERD_KUBECONFIG_<ENV>) has its Deployment and pods read there. Both clients are Shepherd's real
 * Kubernetes client against the sandbox's API server; each is wrapped to record which calls reach it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes.js';
import { createKubernetesClient, type KubernetesClient } from '../../src/clients/kubernetes/index.js';
import {
  deadlineIn,
  mergeNewVersionToDev,
  mergePromotion,
  runActivity,
  startKubeWorld,
  type KubeWorld,
} from './kubernetes-support.js';

/** `client`, with the names of the methods called on it appended to `calls`. */
function recording(client: KubernetesClient, calls: string[]): KubernetesClient {
  return new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('Kubernetes activities in a multi-cluster pipeline', () => {
  let w: KubeWorld;
  const argoCalls: string[] = [];
  const stageCalls: string[] = [];
  let activities: KubernetesActivities;

  beforeAll(async () => {
    w = await startKubeWorld();
    const kubeconfigPath = w.d.world.info.kubernetes.kubeconfig;
    activities = createKubernetesActivities({
      client: recording(createKubernetesClient({ kubeconfigPath }), argoCalls),
      workloads: { stage: recording(createKubernetesClient({ kubeconfigPath }), stageCalls) },
      layout: w.layout,
      pollIntervalMs: 50,
    });
  }, 60_000);
  afterAll(() => w?.stop());

  const reset = (): void => {
    argoCalls.length = 0;
    stageCalls.length = 0;
  };

  it("reads an environment's Application in the Argo CD cluster and its Deployment in the environment's own cluster", async () => {
    reset();
    const state = await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'stage' }).result;
    expect(state.imageTag).toBeDefined();
    expect(argoCalls).toEqual(['getApplication']);
    expect(stageCalls).toEqual(['readDeployment']);
  });

  it('keeps an environment without a cluster of its own on the Argo CD cluster', async () => {
    reset();
    await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'dev' }).result;
    expect(argoCalls).toEqual(['getApplication', 'readDeployment']);
    expect(stageCalls).toEqual([]);
  });

  it("waits for the sync in the Argo CD cluster and for the rollout's pods in the environment's cluster", async () => {
    const { tag, mergeSha: devSha } = await mergeNewVersionToDev(w.d);
    await w.d.awaitSyncedAndHealthy('dev', devSha);
    const mergeSha = await mergePromotion(w.d, 'dev', 'stage', tag);
    reset();
    await runActivity(activities.awaitArgoSyncedAndHealthy, {
      appName: 'example-app',
      env: 'stage',
      revision: mergeSha,
      deadline: deadlineIn(60),
    }).result;
    await runActivity(activities.verifyWorkload, {
      appName: 'example-app',
      env: 'stage',
      imageTag: tag,
      deadline: deadlineIn(60),
    }).result;
    // Only Application calls reach the Argo CD cluster (a refresh when Argo CD had not reconciled is one of them).
    expect(argoCalls).toContain('followApplication');
    expect(
      argoCalls.filter((c) => !['followApplication', 'getApplication', 'requestApplicationRefresh'].includes(c)),
    ).toEqual([]);
    // The Deployment and the pods come from caches that follow the environment's own cluster.
    expect(stageCalls).toEqual(expect.arrayContaining(['followDeployment', 'followPods']));
    expect(
      argoCalls.filter((c) => ['followDeployment', 'followPods', 'readDeployment', 'listPods'].includes(c)),
    ).toEqual([]);
  }, 90_000);
});
