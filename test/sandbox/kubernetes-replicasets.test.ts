/**
 * Ownership as the real Deployment controller keeps it (real-installations.md §7.1), read through
 * @kubernetes/client-node: a ReplicaSet per pod template, pods owned by their ReplicaSet, revision annotations,
 * old ReplicaSets kept up to revisionHistoryLimit, Terminating pods; and an API server that refuses requests
 * without the token (§7.3).
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  VersionApi,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import {
  ENVS,
  IMAGE_V1,
  IMAGE_V2,
  IMAGE_V3,
  api,
  renderManifest,
  startWorld,
  type TestWorld,
} from './kubernetes-fixture.js';

const REVISION = 'deployment.kubernetes.io/revision';
const WORKER_IMAGE = 'docker.sandbox.local/p2c/example-app-worker:2.4.1';

describe('ReplicaSets and pods of the simulated Deployment controller', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await startWorld({ timeScale: 0.002 });
    w.cluster.addSiblingWorkload(WORKER_IMAGE);
  });
  afterAll(async () => {
    await w?.stop();
  });

  const deployment = (ns: string, name = 'example-app'): Promise<V1Deployment> =>
    w.apps.readNamespacedDeployment({ namespace: ns, name });
  const replicaSets = async (ns: string, labelSelector?: string): Promise<V1ReplicaSet[]> =>
    (await w.apps.listNamespacedReplicaSet({ namespace: ns, ...(labelSelector ? { labelSelector } : {}) })).items;
  const pods = async (ns: string, labelSelector?: string): Promise<V1Pod[]> =>
    (await w.core.listNamespacedPod({ namespace: ns, ...(labelSelector ? { labelSelector } : {}) })).items;
  const owned = <T extends { metadata?: { ownerReferences?: { uid: string }[] } }>(items: T[], uid: string): T[] =>
    items.filter((i) => i.metadata?.ownerReferences?.some((o) => o.uid === uid));

  /**
   * Commits `image` to the environment's branch (Argo CD syncs it; it would undo a change made to the live
   * Deployment) and waits until the Deployment rolled out. `edit` changes the rendered manifest first.
   */
  async function rollOut(ns: string, image: string, edit: (yaml: string) => string = (y) => y): Promise<V1Deployment> {
    const env = ENVS.find((e) => e.namespace === ns)!;
    w.git.commitFiles(env.branch, { 'exampleApp.yaml': edit(renderManifest(env, image)) });
    return eventually(async () => {
      const d = await deployment(ns);
      const done =
        d.spec?.template.spec?.containers[0]?.image === image &&
        d.status?.observedGeneration === d.metadata?.generation &&
        d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable';
      return done ? d : undefined;
    }, `${ns}/example-app to run ${image}`);
  }

  it('creates one ReplicaSet per pod template, named <deployment>-<pod-template-hash>, controlled by the Deployment, revision on both', async () => {
    const before = await deployment('dev');
    expect(before.metadata?.annotations?.[REVISION]).toBe('1');
    const done = await rollOut('dev', IMAGE_V2);
    const uid = done.metadata!.uid!;
    const sets = owned(await replicaSets('dev'), uid).sort(
      (a, b) => Number(a.metadata!.annotations![REVISION]) - Number(b.metadata!.annotations![REVISION]),
    );
    expect(sets.map((rs) => [rs.spec?.template?.spec?.containers[0]?.image, rs.spec?.replicas])).toEqual([
      [IMAGE_V1, 0],
      [IMAGE_V2, 1],
    ]);
    for (const rs of sets) {
      const hash = rs.metadata!.labels!['pod-template-hash']!;
      expect(hash).toMatch(/^[a-z0-9]{6,10}$/);
      expect(rs.metadata!.name).toBe(`example-app-${hash}`);
      expect(rs.spec!.selector.matchLabels).toEqual({
        ...before.spec!.selector.matchLabels,
        'pod-template-hash': hash,
      });
      expect(rs.spec!.template!.metadata!.labels!['pod-template-hash']).toBe(hash);
      expect(rs.metadata!.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'example-app',
          uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    expect(new Set(sets.map((rs) => rs.metadata!.labels!['pod-template-hash'])).size).toBe(2);
    expect(sets.map((rs) => rs.metadata!.annotations![REVISION])).toEqual(['1', '2']);
    expect(sets[1]!.metadata!.annotations).toMatchObject({
      'deployment.kubernetes.io/desired-replicas': '1',
      'deployment.kubernetes.io/max-replicas': '2',
    });
    expect(done.metadata?.annotations?.[REVISION]).toBe('2');
  });

  it('names pods <replicaset>-<5 chars>, owned by their ReplicaSet, with the template labels and its pod-template-hash', async () => {
    const dep = await deployment('prod');
    const [rs] = owned(await replicaSets('prod'), dep.metadata!.uid!);
    const hash = rs!.metadata!.labels!['pod-template-hash']!;
    const mine = owned(await pods('prod'), rs!.metadata!.uid!);
    expect(mine).toHaveLength(3);
    for (const p of mine) {
      expect(p.metadata!.name).toMatch(new RegExp(`^${rs!.metadata!.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.metadata!.labels).toEqual({ ...dep.spec!.template.metadata!.labels, 'pod-template-hash': hash });
      expect(p.metadata!.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs!.metadata!.name,
          uid: rs!.metadata!.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    // The RS's own selector (pod-template-hash included) lists exactly its pods.
    const selector = Object.entries(rs!.spec!.selector.matchLabels!)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    expect((await pods('prod', selector)).map((p) => p.metadata!.name).sort()).toEqual(
      mine.map((p) => p.metadata!.name).sort(),
    );
  });

  it("keeps a scaled-down ReplicaSet's pods Terminating for their grace period, uncounted by the Deployment", async () => {
    // 30 s of grace at this time scale is 60 ms: catch a pod in between through the watch-free store.
    const terminating: string[] = [];
    const off = w.cluster.store.subscribe((ev) => {
      const meta = ev.object.metadata;
      if (
        ev.resource.plural === 'pods' &&
        ev.type === 'MODIFIED' &&
        meta.namespace === 'stage' &&
        meta.deletionTimestamp
      )
        terminating.push(`${meta.name} ${String(meta['deletionGracePeriodSeconds'])}`);
    });
    const done = await rollOut('stage', IMAGE_V2);
    off();
    expect(terminating).toHaveLength(2);
    expect(terminating.every((t) => t.endsWith(' 30'))).toBe(true);
    expect(done.status).toMatchObject({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    // Terminating pods are still listed until their grace period ends; then only the new ones are left.
    const left = await eventually(async () => {
      const found = await pods('stage', 'app=example-app,deployment=example-app');
      return found.length === 2 ? found : undefined;
    }, 'the old pods to go');
    expect(left.every((p) => p.spec?.containers[0]?.image === IMAGE_V2 && !p.metadata?.deletionTimestamp)).toBe(true);
  });

  it('reuses the old ReplicaSet on a rollback as the newest revision, remembering its old one in revision-history', async () => {
    const dep = await rollOut('dev', IMAGE_V1);
    const sets = owned(await replicaSets('dev'), dep.metadata!.uid!);
    expect(sets).toHaveLength(2);
    const v1 = sets.find((rs) => rs.spec?.template?.spec?.containers[0]?.image === IMAGE_V1)!;
    expect(v1.metadata!.annotations).toMatchObject({
      [REVISION]: '3',
      'deployment.kubernetes.io/revision-history': '1',
    });
    expect(v1.spec!.replicas).toBe(1);
    expect(dep.metadata!.annotations![REVISION]).toBe('3');
  });

  it('keeps old ReplicaSets at 0 replicas up to revisionHistoryLimit and deletes the oldest beyond it', async () => {
    const limitOne = (yaml: string): string => yaml.replace('revisionHistoryLimit: 10', 'revisionHistoryLimit: 1');
    await rollOut('prod', IMAGE_V2, limitOne);
    const dep = await rollOut('prod', IMAGE_V3, limitOne);
    expect(dep.spec?.revisionHistoryLimit).toBe(1);
    const sets = await eventually(async () => {
      const found = owned(await replicaSets('prod'), dep.metadata!.uid!);
      return found.length === 2 ? found : undefined;
    }, 'the oldest ReplicaSet to be deleted');
    expect(sets.map((rs) => [rs.spec?.template?.spec?.containers[0]?.image, rs.spec?.replicas]).sort()).toEqual([
      [IMAGE_V2, 0],
      [IMAGE_V3, 3],
    ]);
  });

  it('serves ReplicaSets by set-based label selector; a sibling Deployment sharing app= has its own, selected by its matchExpressions', async () => {
    const worker = await deployment('dev', 'example-app-worker');
    expect(worker.spec!.selector).toEqual({
      matchLabels: { app: 'example-app', deployment: 'example-app-worker' },
      matchExpressions: [{ key: 'component', operator: 'In', values: ['batch', 'worker'] }],
    });
    // app=example-app alone lists the pods of both Deployments: that label does not tell them apart.
    const byApp = await pods('dev', 'app=example-app');
    expect(new Set(byApp.map((p) => p.metadata!.ownerReferences![0]!.name.replace(/-[a-z0-9]+$/, '')))).toEqual(
      new Set(['example-app', 'example-app-worker']),
    );
    const sets = await replicaSets('dev', 'app=example-app,component in (batch,worker)');
    expect(sets.map((rs) => rs.metadata!.ownerReferences![0]!.name)).toEqual(['example-app-worker']);
    expect(sets[0]!.spec!.selector.matchExpressions).toEqual(worker.spec!.selector.matchExpressions);
    expect(sets[0]!.spec!.template!.spec!.containers.map((c) => c.name)).toEqual(['worker', 'log-shipper']);
  });

  it('answers 401 Unauthorized to a request without the token, /version included (anonymous auth off)', async () => {
    for (const path of [
      '/version',
      '/healthz',
      '/api/v1/namespaces/dev/pods',
      '/apis/apps/v1/namespaces/dev/replicasets',
    ]) {
      const res = await fetch(`${w.server.url}${path}`);
      expect([path, res.status]).toEqual([path, 401]);
      expect(await res.json()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    expect((await api(w, '/version')).status).toBe(200);

    const anonymous = new KubeConfig();
    anonymous.loadFromOptions({
      clusters: [{ name: 'sandbox', server: w.server.url, skipTLSVerify: true }],
      users: [{ name: 'nobody' }],
      contexts: [{ name: 'ctx', cluster: 'sandbox', user: 'nobody' }],
      currentContext: 'ctx',
    });
    for (const call of [
      () => anonymous.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: 'dev' }),
      () => anonymous.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'dev' }),
      () => anonymous.makeApiClient(VersionApi).getCode(),
    ]) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiException);
      expect((err as ApiException<unknown>).code).toBe(401);
    }
  });
});
