/**
 * A multi-cluster pipeline: one Argo CD cluster holds the Applications, and an environment configured with a cluster
 * of its own (SHEPHERD_KUBECONFIG_<ENV>, or the pipeline file's `clusters`) has its Deployment and pods read there.
 * First against one API server with each client wrapped to record which calls reach it; then against a world whose
 * prod runs on a second API server, with the per-cluster clients the worker builds from the pipeline file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes.js';
import { createKubernetesClient, type KubernetesClient } from '../../src/clients/kubernetes/index.js';
import { loadConfig, type ShepherdConfig } from '../../src/config/load.js';
import { PROJECT_ROOT } from '../../src/config/paths.js';
import { workloadClientsFrom } from '../../src/worker/activities.js';
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

describe('Kubernetes activities with prod on a second API server (examples/pipelines/two-clusters.yaml)', () => {
  let w: KubeWorld;
  let config: ShepherdConfig;
  let workloads: ReturnType<typeof workloadClientsFrom>;
  let activities: KubernetesActivities;
  let argoOnly: KubernetesActivities;

  beforeAll(async () => {
    w = await startKubeWorld({ clusters: { dev: 'main-cluster', stage: 'main-cluster', prod: 'prod-cluster' } });
    const kubeconfigPath = w.d.world.info.kubernetes.kubeconfig;
    // The pipeline names each cluster's context; the world's kubeconfig (KUBECONFIG) has one per cluster.
    config = loadConfig({
      env: {
        SHEPHERD_PIPELINE: join(PROJECT_ROOT, 'examples/pipelines/two-clusters.yaml'),
        KUBECONFIG: kubeconfigPath,
      },
    });
    workloads = workloadClientsFrom(config);
    const argo = createKubernetesClient({ kubeconfigPath });
    activities = createKubernetesActivities({ client: argo, workloads, layout: w.layout, pollIntervalMs: 50 });
    argoOnly = createKubernetesActivities({ client: argo, layout: w.layout, pollIntervalMs: 50 });
  }, 60_000);
  afterAll(() => w?.stop());

  it('builds one client per cluster the environments name, shared by the environments on it', () => {
    expect(Object.keys(workloads).sort()).toEqual(['dev', 'prod', 'stage']);
    expect(workloads.dev).toBe(workloads.stage);
    expect(workloads.prod).not.toBe(workloads.dev);
  });

  it('reaches a cluster the pipeline gives no context through the world’s context named like it', async () => {
    const noContexts = {
      ...config,
      pipeline: { ...config.pipeline, clusters: { 'main-cluster': {}, 'prod-cluster': {} } },
    };
    const { kubeconfig, clusters } = w.d.world.info.kubernetes;
    const viaWorld = workloadClientsFrom(noContexts, kubeconfig, clusters);
    expect((await viaWorld.prod!.readDeployment('prod', 'example-app')).name).toBe('example-app');
    // Without the world's contexts, the kubeconfig's current context is the first cluster, which has no prod.
    const current = workloadClientsFrom(noContexts, kubeconfig);
    await expect(current.prod!.readDeployment('prod', 'example-app')).rejects.toThrow(/no deployment/);
  });

  it('names the pipeline file’s cluster, not a variable, when the second cluster refuses the credentials', async () => {
    const wrong = join(mkdtempSync(join(tmpdir(), 'shepherd-clusters-')), 'kubeconfig');
    writeFileSync(wrong, readFileSync(w.d.world.info.kubernetes.kubeconfig, 'utf8').replace(w.token, 'not-the-token'));
    const refused = workloadClientsFrom({ ...config, kubernetes: { ...config.kubernetes, kubeconfig: wrong } });
    const failure = await refused.prod!.readDeployment('prod', 'example-app').then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toMatch(
      /refused the credentials \(HTTP 401\): check the kubeconfig of cluster "prod-cluster" \(clusters\.prod-cluster in .*two-clusters\.yaml\)/,
    );
  });

  it("reads prod's workload on the second cluster, where the Argo CD cluster has none", async () => {
    const state = await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'prod' }).result;
    expect(state.imageTag).toBeDefined();
    // Looked for in the Argo CD cluster, prod has no Deployment: it reads as not deployed yet.
    const onArgoCluster = await runActivity(argoOnly.readEnvironmentState, { appName: 'example-app', env: 'prod' })
      .result;
    expect(onArgoCluster.imageTag).toBeUndefined();
  });

  it('waits for the sync in the Argo CD cluster and verifies the promoted pods on the second cluster', async () => {
    const { tag, mergeSha: devSha } = await mergeNewVersionToDev(w.d);
    await w.d.awaitSyncedAndHealthy('dev', devSha);
    const stageSha = await mergePromotion(w.d, 'dev', 'stage', tag);
    await w.d.awaitSyncedAndHealthy('stage', stageSha);
    const prodSha = await mergePromotion(w.d, 'stage', 'prod', tag);
    await runActivity(activities.awaitArgoSyncedAndHealthy, {
      appName: 'example-app',
      env: 'prod',
      revision: prodSha,
      deadline: deadlineIn(60),
    }).result;
    await runActivity(activities.verifyWorkload, {
      appName: 'example-app',
      env: 'prod',
      imageTag: tag,
      deadline: deadlineIn(60),
    }).result;
    const state = await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'prod' }).result;
    expect(state.imageTag).toBe(tag);
  }, 120_000);
});
