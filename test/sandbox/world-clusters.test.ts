/**
 * A sandbox world whose environments sit on two clusters (the pipeline's `environments[].cluster`): prod runs on
 * `prod-cluster`, an API server of its own with its own namespaces, Deployments and pods; Argo CD stays in the first
 * cluster and deploys prod's Application to the second server. Driven through @kubernetes/client-node with the
 * contexts of the world's kubeconfig, one per cluster, as an operator's kubectl would.
 */
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { mergeNewVersionToDev, mergePromotion } from '../activities/kubernetes-support.js';
import { startDriver, type Driver, type Application } from './world-driver.js';

interface ClusterApis {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
}

function apisFor(kubeconfig: string, context: string): ClusterApis {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  kc.setCurrentContext(context);
  return {
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

const namespaces = async (c: ClusterApis): Promise<string[]> =>
  (await c.core.listNamespace()).items.map((n) => n.metadata!.name!);

async function readyImages(c: ClusterApis, namespace: string): Promise<string[]> {
  const pods = await c.core.listNamespacedPod({ namespace, labelSelector: 'app=example-app' });
  return pods.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .filter((p) => p.status?.conditions?.some((cond) => cond.type === 'Ready' && cond.status === 'True'))
    .map((p) => p.spec!.containers[0]!.image!);
}

describe('a sandbox world with prod on a second cluster', () => {
  let d: Driver;
  let main: ClusterApis;
  let prod: ClusterApis;
  let prodUrl: string;

  beforeAll(async () => {
    d = await startDriver({ clusters: { dev: 'main-cluster', stage: 'main-cluster', prod: 'prod-cluster' } });
    const k = d.world.info.kubernetes;
    main = apisFor(k.kubeconfig, 'main-cluster');
    prod = apisFor(k.kubeconfig, 'prod-cluster');
    prodUrl = k.clusters!['prod-cluster']!.url;
  }, 60_000);
  afterAll(() => d?.stop());

  it('writes a kubeconfig with a context per cluster, named like the clusters, and says which is which', () => {
    const k = d.world.info.kubernetes;
    expect(k.clusters).toEqual({
      'main-cluster': { url: k.url, context: 'main-cluster' },
      'prod-cluster': { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), context: 'prod-cluster' },
    });
    expect(prodUrl).not.toBe(k.url);
    const config = parse(readFileSync(k.kubeconfig, 'utf8')) as {
      'current-context': string;
      contexts: { name: string; context: { cluster: string } }[];
      clusters: { name: string; cluster: { server: string } }[];
    };
    expect(config['current-context']).toBe('shepherd-sandbox');
    const serverOf = (context: string): string | undefined => {
      const cluster = config.contexts.find((c) => c.name === context)?.context.cluster;
      return config.clusters.find((c) => c.name === cluster)?.cluster.server;
    };
    expect(serverOf('shepherd-sandbox')).toBe(k.url);
    expect(serverOf('main-cluster')).toBe(k.url);
    expect(serverOf('prod-cluster')).toBe(prodUrl);
  });

  it('runs each environment’s namespace and Deployment on its own cluster, and Argo CD only on the first', async () => {
    expect(await namespaces(main)).toEqual(expect.arrayContaining(['dev', 'stage', 'argocd']));
    expect(await namespaces(main)).not.toContain('prod');
    expect(await namespaces(prod)).toContain('prod');
    expect(await namespaces(prod)).not.toEqual(expect.arrayContaining(['dev']));
    expect(await namespaces(prod)).not.toContain('argocd');
    const deployment = await prod.apps.readNamespacedDeployment({ namespace: 'prod', name: 'example-app' });
    expect(deployment.status?.readyReplicas).toBe(deployment.spec?.replicas);
    await expect(main.apps.readNamespacedDeployment({ namespace: 'prod', name: 'example-app' })).rejects.toThrow();
    expect((await readyImages(prod, 'prod')).length).toBeGreaterThan(0);
  });

  it('keeps prod’s Application in the first cluster, with the second API server as its destination', async () => {
    const app = (await main.custom.getNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: 'argocd',
      plural: 'applications',
      name: 'example-app-prod',
    })) as Application & { spec: { destination: { server: string; namespace: string } } };
    expect(app.spec.destination).toEqual({ server: prodUrl, namespace: 'prod' });
    expect(app.status?.sync?.status).toBe('Synced');
    expect(app.status?.health?.status).toBe('Healthy');
    const stage = (await d.application('stage')) as Application & { spec: { destination: { server: string } } };
    expect(stage.spec.destination.server).toBe('https://kubernetes.default.svc');
  });

  it('promotes into prod: Argo CD applies the new image on the second cluster, whose pods then run it', async () => {
    const { tag, image, mergeSha: devSha } = await mergeNewVersionToDev(d);
    await d.awaitSyncedAndHealthy('dev', devSha);
    const stageSha = await mergePromotion(d, 'dev', 'stage', tag);
    await d.awaitSyncedAndHealthy('stage', stageSha);
    const prodSha = await mergePromotion(d, 'stage', 'prod', tag);
    await d.awaitSyncedAndHealthy('prod', prodSha);
    await eventually(async () => {
      const images = await readyImages(prod, 'prod');
      return images.length > 0 && images.every((i) => i === image) ? images : undefined;
    }, 'prod-cluster’s pods all ready on the promoted image');
    const live = await prod.apps.readNamespacedDeployment({ namespace: 'prod', name: 'example-app' });
    expect(live.spec?.template.spec?.containers[0]?.image).toBe(image);
    // The first cluster was not touched: still no prod workload there.
    expect((await main.apps.listNamespacedDeployment({ namespace: 'prod' })).items).toEqual([]);
  }, 120_000);

  it('reports a destination server Argo CD does not know as a comparison error, as Argo CD does', async () => {
    await main.custom.patchNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: 'argocd',
      plural: 'applications',
      name: 'example-app-stage',
      body: [
        { op: 'replace', path: '/spec/destination/server', value: 'https://nowhere.example:6443' },
        { op: 'add', path: '/metadata/annotations', value: { 'argocd.argoproj.io/refresh': 'normal' } },
      ],
    });
    const app = await eventually(async () => {
      const a = (await d.application('stage')) as Application & {
        status?: { conditions?: { type: string; message: string }[] };
      };
      return a.status?.sync?.status === 'Unknown' ? a : undefined;
    }, 'the stage Application compared against an unknown cluster');
    expect(app.status?.conditions).toEqual([
      expect.objectContaining({
        type: 'ComparisonError',
        message: 'Failed to load target state: there are no clusters with this URL: https://nowhere.example:6443',
      }),
    ]);
  });
});
