import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKubeconfig } from '../../src/sandbox/kubernetes/kubeconfig.js';
import { IMAGE_V1, TOKEN, api, kubeConfigFor, startWorld, type TestWorld } from './kubernetes-fixture.js';

const GROUP = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'argocd', plural: 'applications' } as const;

function statusOf(err: unknown): { code: number; body: Record<string, unknown> } {
  expect(err).toBeInstanceOf(ApiException);
  const e = err as ApiException<string>;
  return { code: e.code, body: e.body ? (JSON.parse(e.body) as Record<string, unknown>) : {} };
}

describe('simulated Kubernetes API through @kubernetes/client-node', () => {
  let world: TestWorld;
  beforeAll(async () => {
    world = await startWorld({ timeScale: 0.002 });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('serves the seeded Deployment of each environment with the real labels, probes and strategy', async () => {
    const dep = await world.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'stage' });
    expect(dep.metadata?.labels).toEqual({
      app: 'example-app',
      deployment: 'example-app',
      environment: 'stage',
      managed_by: 'argocd',
    });
    expect(dep.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(dep.spec?.replicas).toBe(2);
    expect(dep.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(dep.spec?.progressDeadlineSeconds).toBe(600);
    const container = dep.spec?.template.spec?.containers[0];
    expect(container?.name).toBe('example-app');
    expect(container?.image).toBe(IMAGE_V1);
    expect(container?.ports?.[0]).toMatchObject({ name: 'http', containerPort: 8080 });
    expect(container?.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container?.env).toContainEqual({ name: 'ENVIRONMENT', value: 'stage' });
    expect(dep.status).toMatchObject({
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: dep.metadata?.generation,
    });
    expect(dep.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual(
      expect.arrayContaining([
        ['Available', 'True', 'MinimumReplicasAvailable'],
        ['Progressing', 'True', 'NewReplicaSetAvailable'],
      ]),
    );
  });

  it('lists pods by label selector, including set-based requirements', async () => {
    const all = await world.core.listNamespacedPod({ namespace: 'prod', labelSelector: 'app=example-app' });
    expect(all.items).toHaveLength(3);
    expect(all.metadata?.resourceVersion).toMatch(/^\d+$/);
    const set = await world.core.listNamespacedPod({
      namespace: 'prod',
      labelSelector: 'app=example-app,environment in (prod,stage),!missing',
    });
    expect(set.items).toHaveLength(3);
    const none = await world.core.listNamespacedPod({ namespace: 'prod', labelSelector: 'environment notin (prod)' });
    expect(none.items).toHaveLength(0);
    const pod = all.items[0]!;
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({
      name: 'example-app',
      image: IMAGE_V1,
      ready: true,
      started: true,
      restartCount: 0,
    });
    expect(pod.status?.containerStatuses?.[0]?.imageID).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('lists Deployments and pods across all namespaces', async () => {
    const deps = await world.apps.listDeploymentForAllNamespaces();
    expect(deps.items.map((d) => d.metadata?.namespace).sort()).toEqual(['dev', 'prod', 'stage']);
    const pods = await world.core.listPodForAllNamespaces({ labelSelector: 'app=example-app' });
    expect(pods.items).toHaveLength(6);
    const rs = await world.apps.listNamespacedReplicaSet({ namespace: 'dev' });
    expect(rs.items[0]?.metadata?.name).toMatch(/^example-app-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    const ns = await world.core.listNamespace();
    expect(ns.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['dev', 'stage', 'prod', 'argocd']));
  });

  it('answers a missing object with a NotFound Status in the exception body', async () => {
    const err = await world.apps.readNamespacedDeployment({ name: 'web', namespace: 'dev' }).catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(404);
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "web" not found',
      reason: 'NotFound',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
      code: 404,
    });
    const appErr = await world.co.getNamespacedCustomObject({ ...GROUP, name: 'x' }).catch((e: unknown) => e);
    expect(statusOf(appErr).body.message).toBe('applications.argoproj.io "x" not found');
  });

  it('refuses a wrong bearer token with 401 Unauthorized', async () => {
    const bad = kubeConfigFor(world.server.url, 'wrong').makeApiClient(AppsV1Api);
    const err = await bad.readNamespacedDeployment({ name: 'example-app', namespace: 'dev' }).catch((e: unknown) => e);
    expect((err as ApiException<string>).code).toBe(401);
    const raw = await fetch(`${world.server.url}/api/v1/namespaces`, { headers: { authorization: 'Bearer nope' } });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(await raw.json()).toMatchObject({
      kind: 'Status',
      reason: 'Unauthorized',
      message: 'Unauthorized',
      code: 401,
    });
  });

  it('serves discovery for the core group, apps and argoproj.io with short names', async () => {
    expect(await (await api(world, '/version')).json()).toMatchObject({ major: '1' });
    expect(await (await api(world, '/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await (await api(world, '/apis')).json()) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'argoproj.io']));
    const argo = (await (await api(world, '/apis/argoproj.io/v1alpha1')).json()) as {
      resources: { name: string; shortNames?: string[]; kind: string }[];
    };
    expect(argo.resources.find((r) => r.name === 'applications')).toMatchObject({
      kind: 'Application',
      shortNames: ['app', 'apps'],
    });
    const apps = (await (await api(world, '/apis/apps/v1')).json()) as {
      resources: { name: string; shortNames?: string[] }[];
    };
    expect(apps.resources.find((r) => r.name === 'deployments')?.shortNames).toEqual(['deploy']);
    const core = (await (await api(world, '/api/v1')).json()) as {
      resources: { name: string; shortNames?: string[] }[];
    };
    expect(core.resources.find((r) => r.name === 'pods')?.shortNames).toEqual(['po']);
    expect((await api(world, '/apis/batch/v1')).status).toBe(404);
  });

  it('lists Applications by label and filters by field selector', async () => {
    const list = (await world.co.listNamespacedCustomObject({ ...GROUP, labelSelector: 'environment=stage' })) as {
      kind: string;
      items: { metadata: { name: string } }[];
    };
    expect(list.kind).toBe('ApplicationList');
    expect(list.items.map((a) => a.metadata.name)).toEqual(['example-app-stage']);
    const byName = (await (
      await api(
        world,
        '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications?fieldSelector=metadata.name%3Dexample-app-prod',
      )
    ).json()) as { items: unknown[] };
    expect(byName.items).toHaveLength(1);
    expect((await api(world, '/api/v1/pods?labelSelector=a+in+(b')).status).toBe(400);
  });

  it('merge-patches an Application, bumping resourceVersion but not generation for metadata', async () => {
    const before = (await world.co.getNamespacedCustomObject({ ...GROUP, name: 'example-app-dev' })) as {
      metadata: { resourceVersion: string; generation: number };
    };
    const after = (await world.co.patchNamespacedCustomObject(
      { ...GROUP, name: 'example-app-dev', body: { metadata: { labels: { team: 'platform' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { metadata: { resourceVersion: string; generation: number; labels: Record<string, string> } };
    expect(after.metadata.labels).toEqual({ app: 'example-app', environment: 'dev', team: 'platform' });
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    expect(after.metadata.generation).toBe(before.metadata.generation);
    const removed = (await world.co.patchNamespacedCustomObject(
      { ...GROUP, name: 'example-app-dev', body: { metadata: { labels: { team: null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { metadata: { labels: Record<string, string> } };
    expect(removed.metadata.labels).toEqual({ app: 'example-app', environment: 'dev' });
  });

  it('applies a JSON patch with test and refuses a failing test with 422 Invalid', async () => {
    const ok = (await world.co.patchNamespacedCustomObject({
      ...GROUP,
      name: 'example-app-dev',
      body: [
        { op: 'test', path: '/spec/project', value: 'default' },
        { op: 'add', path: '/metadata/annotations', value: { 'shepherd.io/note': 'x' } },
      ],
    })) as { metadata: { annotations: Record<string, string> } };
    expect(ok.metadata.annotations['shepherd.io/note']).toBe('x');
    const err = await world.co
      .patchNamespacedCustomObject({
        ...GROUP,
        name: 'example-app-dev',
        body: [{ op: 'test', path: '/spec/project', value: 'other' }],
      })
      .catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(422);
    expect(body.reason).toBe('Invalid');
  });

  it('refuses a strategic merge patch on the custom resource with 415', async () => {
    const err = await world.co
      .patchNamespacedCustomObject(
        { ...GROUP, name: 'example-app-dev', body: { metadata: { labels: { a: 'b' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      )
      .catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(415);
    expect(body.reason).toBe('UnsupportedMediaType');
  });

  it('replaces an Application with PUT and answers a stale resourceVersion with 409 Conflict', async () => {
    const current = (await world.co.getNamespacedCustomObject({ ...GROUP, name: 'example-app-prod' })) as {
      metadata: { resourceVersion: string; labels: Record<string, string> };
    };
    const stale = structuredClone(current);
    current.metadata.labels = { ...current.metadata.labels, tier: 'gold' };
    const replaced = (await world.co.replaceNamespacedCustomObject({
      ...GROUP,
      name: 'example-app-prod',
      body: current,
    })) as { metadata: { labels: Record<string, string> } };
    expect(replaced.metadata.labels['tier']).toBe('gold');
    const err = await world.co
      .replaceNamespacedCustomObject({ ...GROUP, name: 'example-app-prod', body: stale })
      .catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(409);
    expect(body).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on applications.argoproj.io "example-app-prod": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it('answers every response, errors included, as application/json', async () => {
    for (const path of [
      '/api/v1/namespaces/dev/pods',
      '/apis/apps/v1/namespaces/dev/deployments/none',
      '/nothing/here',
    ]) {
      const res = await api(world, path);
      expect(res.headers.get('content-type')).toBe('application/json');
      await res.text();
    }
  });

  it('writes a kubeconfig the client library loads, with the sandbox context and namespace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-kc-'));
    try {
      const file = join(dir, 'nested', 'config');
      await writeKubeconfig(file, { server: world.server.url, token: TOKEN, namespace: 'stage' });
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      expect(kc.getCurrentContext()).toBe('shepherd-sandbox');
      expect(kc.getContextObject('shepherd-sandbox')?.namespace).toBe('stage');
      expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(true);
      const ns = await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'stage' });
      expect(ns.status?.phase).toBe('Active');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers events with an empty EventList', async () => {
    const events = await world.core.listNamespacedEvent({ namespace: 'dev' });
    expect(events.items).toEqual([]);
    const raw = (await (await api(world, '/api/v1/namespaces/dev/events')).json()) as {
      kind: string;
      apiVersion: string;
    };
    expect(raw).toMatchObject({ kind: 'EventList', apiVersion: 'v1' });
  });

  it('summarises each environment for the inspection endpoint', () => {
    const snap = world.cluster.snapshot();
    expect(
      snap.map((s) => [
        s.env,
        s.deployment?.image,
        s.deployment?.ready,
        s.pods.length,
        s.application?.sync,
        s.application?.health,
      ]),
    ).toEqual([
      ['dev', IMAGE_V1, 1, 1, 'Synced', 'Healthy'],
      ['stage', IMAGE_V1, 2, 2, 'Synced', 'Healthy'],
      ['prod', IMAGE_V1, 3, 3, 'Synced', 'Healthy'],
    ]);
    expect(snap[0]?.pods[0]).toMatchObject({ image: IMAGE_V1, ready: true, restarts: 0, phase: 'Running' });
  });
});
