import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../../src/sandbox/argocd/application.js';
import type { Pod } from '../../src/sandbox/kubernetes/objects.js';
import { isPodReady } from '../../src/sandbox/kubernetes/pod-simulator.js';
import { RESOURCES } from '../../src/sandbox/kubernetes/resources.js';
import { eventually, until } from '../support/eventually.js';
import { ENVS, IMAGE_V1, IMAGE_V2, startWorld, type TestWorld } from './kubernetes-fixture.js';

const GROUP = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'argocd', plural: 'applications' } as const;
const STAGE = ENVS[1]!;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function getApp(w: TestWorld, name: string): Promise<Application> {
  return (await w.co.getNamespacedCustomObject({ ...GROUP, name })) as Application;
}

describe('the simulated Argo CD application controller', () => {
  let world: TestWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });

  it('starts every environment synced and healthy at its branch head, with one history entry', async () => {
    world = await startWorld();
    for (const env of ENVS) {
      const app = await getApp(world, env.argoApp);
      expect(app.metadata.labels).toEqual({ app: 'example-app', environment: env.env });
      expect(app.spec).toMatchObject({
        project: 'default',
        source: { targetRevision: env.branch, path: 'manifests/exampleApp' },
        destination: { server: 'https://kubernetes.default.svc', namespace: env.namespace },
        syncPolicy: { automated: { prune: true, selfHeal: true }, retry: { limit: 5 } },
        ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }],
      });
      expect(app.status?.sync).toMatchObject({ status: 'Synced', revision: world.git.head(env.branch) });
      expect(app.status?.health?.status).toBe('Healthy');
      expect(app.status?.history).toHaveLength(1);
      expect(app.status?.summary?.images).toEqual([IMAGE_V1]);
    }
  });

  it('syncs a new commit: OutOfSync, Running, Succeeded with result and history, Healthy only once pods run it', async () => {
    world = await startWorld();
    const w = world;
    const seen: Application[] = [];
    const violations: string[] = [];
    let sha = '';
    w.cluster.store.subscribe((ev) => {
      if (ev.resource !== RESOURCES.applications || ev.object.metadata.name !== STAGE.argoApp) return;
      const app = ev.object as Application;
      seen.push(app);
      if (
        sha &&
        app.status?.sync?.revision === sha &&
        app.status.sync.status === 'Synced' &&
        app.status.health?.status === 'Healthy'
      ) {
        // Pods still Terminating (their ReplicaSet scaled down) no longer count, as for the real controllers.
        const pods = w.cluster.store
          .list<Pod>(RESOURCES.pods, { namespace: 'stage' })
          .items.filter((p) => !p.metadata.deletionTimestamp);
        if (!pods.every((p) => p.spec.containers[0]?.image === IMAGE_V2 && isPodReady(p)))
          violations.push(ev.object.metadata.resourceVersion ?? '');
      }
    });
    sha = w.git.commitImage(STAGE, IMAGE_V2);

    const healthy = await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.sync?.revision === sha &&
        app.status.sync.status === 'Synced' &&
        app.status.health?.status === 'Healthy'
        ? app
        : undefined;
    }, 'stage to be synced and healthy at the new commit');

    expect(violations).toEqual([]);
    expect(seen.some((a) => a.status?.sync?.status === 'OutOfSync' && a.status.sync.revision === sha)).toBe(true);
    expect(seen.some((a) => a.status?.operationState?.phase === 'Running' && a.operation !== undefined)).toBe(true);
    expect(seen.some((a) => a.status?.sync?.revision === sha && a.status.health?.status === 'Progressing')).toBe(true);
    const op = healthy.status!.operationState!;
    expect(op).toMatchObject({
      phase: 'Succeeded',
      message: 'successfully synced (all tasks run)',
      operation: { initiatedBy: { automated: true }, sync: { revision: sha } },
    });
    expect(op.finishedAt).toBeDefined();
    expect(op.syncResult?.revision).toBe(sha);
    expect(op.syncResult?.resources).toContainEqual(
      expect.objectContaining({
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace: 'stage',
        name: 'example-app',
        status: 'Synced',
        syncPhase: 'Sync',
      }),
    );
    expect(healthy.operation).toBeUndefined();
    expect(healthy.status?.history?.at(-1)).toMatchObject({ id: 1, revision: sha, initiatedBy: { automated: true } });
    expect(healthy.status?.summary?.images).toEqual([IMAGE_V2]);
    expect(healthy.status?.reconciledAt).toBeDefined();
    const dep = await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'stage' });
    expect(dep.spec?.replicas).toBe(2);
  });

  it('fails the sync under argo-sync-fails after the retry limit and stays OutOfSync', async () => {
    world = await startWorld({
      scenario: { name: 'sync-fails', description: 'x', domain: [{ kind: 'argo-sync-fails', env: 'stage' }] },
    });
    const w = world;
    const sha = w.git.commitImage(STAGE, IMAGE_V2);
    const failed = await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.operationState?.phase === 'Failed' ? app : undefined;
    }, 'operation Failed');
    const op = failed.status!.operationState!;
    expect(op.message).toMatch(/^one or more objects failed to apply, reason: .+ \(retried 5 times\)\.$/);
    expect(op.retryCount).toBe(5);
    expect(op.finishedAt).toBeDefined();
    expect(op.syncResult?.resources.find((r) => r.kind === 'Deployment')?.status).toBe('SyncFailed');
    expect(failed.status?.sync).toMatchObject({ status: 'OutOfSync', revision: sha });
    expect(failed.operation).toBeUndefined();
    const dep = await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'stage' });
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe(IMAGE_V1);
  });

  it('retries a failed sync attempt and succeeds when the fault clears', async () => {
    world = await startWorld({
      scenario: {
        name: 'sync-fails-once',
        description: 'x',
        domain: [{ kind: 'argo-sync-fails', env: 'stage', count: 1 }],
      },
    });
    const w = world;
    const messages = new Set<string>();
    w.cluster.store.subscribe((ev) => {
      const msg = (ev.object as Application).status?.operationState?.message;
      if (ev.resource === RESOURCES.applications && msg) messages.add(msg);
    });
    const sha = w.git.commitImage(STAGE, IMAGE_V2);
    const done = await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.operationState?.phase === 'Succeeded' && app.status.operationState.syncResult?.revision === sha
        ? app
        : undefined;
    }, 'operation Succeeded after a retry');
    expect(done.status?.operationState?.retryCount).toBe(1);
    expect(
      [...messages].some((m) => /^Retrying attempt #1 at \d\d:\d\d:\d\d: one or more objects failed to apply/.test(m)),
    ).toBe(true);
  });

  it('keeps the operation Running while argo-sync-hangs holds, and finishes once it is lifted', async () => {
    world = await startWorld({
      scenario: { name: 'sync-hangs', description: 'x', domain: [{ kind: 'argo-sync-hangs', env: 'stage' }] },
    });
    const w = world;
    const sha = w.git.commitImage(STAGE, IMAGE_V2);
    await until(
      () => w.faults.fired.filter((f) => f.kind === 'argo-sync-hangs').length >= 3,
      'several hung sync attempts',
    );
    const app = await getApp(w, STAGE.argoApp);
    expect(app.status?.operationState?.phase).toBe('Running');
    expect(app.status?.operationState?.finishedAt).toBeUndefined();
    expect(app.status?.sync?.status).toBe('OutOfSync');
    expect(
      (await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'stage' })).spec?.template.spec
        ?.containers[0]?.image,
    ).toBe(IMAGE_V1);
    await w.faults.activate(undefined);
    await until(async () => {
      const a = await getApp(w, STAGE.argoApp);
      return a.status?.operationState?.phase === 'Succeeded' && a.status.operationState.syncResult?.revision === sha;
    }, 'the sync to finish');
  });

  it('reconciles at once on the refresh annotation and removes it afterwards', async () => {
    world = await startWorld({ timeScale: 1 });
    const w = world;
    const before = await getApp(w, STAGE.argoApp);
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));
    const sha = w.git.commitImage(STAGE, IMAGE_V2);
    await w.co.patchNamespacedCustomObject(
      {
        ...GROUP,
        name: STAGE.argoApp,
        body: { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } },
      },
      MERGE,
    );
    const refreshed = await eventually(
      async () => {
        const app = await getApp(w, STAGE.argoApp);
        return app.metadata.annotations?.['argocd.argoproj.io/refresh'] === undefined ? app : undefined;
      },
      'annotation removed',
      { timeoutMs: 5_000 },
    );
    expect(Date.parse(refreshed.status!.reconciledAt!)).toBeGreaterThan(Date.parse(before.status!.reconciledAt!));
    expect(refreshed.status?.sync).toMatchObject({ status: 'OutOfSync', revision: sha });
    expect(refreshed.status?.operationState?.phase).toBe('Running');
  });

  it('leaves a hand-made change to the live Deployment OutOfSync without selfHeal, and still syncs a new revision', async () => {
    world = await startWorld();
    const w = world;
    await w.co.patchNamespacedCustomObject(
      { ...GROUP, name: STAGE.argoApp, body: { spec: { syncPolicy: { automated: { selfHeal: false } } } } },
      MERGE,
    );
    await w.apps.patchNamespacedDeployment(
      {
        name: 'example-app',
        namespace: STAGE.namespace,
        body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: IMAGE_V2 }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const drifted = await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.sync?.status === 'OutOfSync' && app.status.health?.status === 'Healthy' ? app : undefined;
    }, 'stage OutOfSync and Healthy on the hand-set image');
    await new Promise((r) => setTimeout(r, 300));
    const still = await getApp(w, STAGE.argoApp);
    expect(still.status?.sync?.status).toBe('OutOfSync');
    expect(still.status?.history).toHaveLength(drifted.status?.history?.length ?? 0);
    const live = await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: STAGE.namespace });
    expect(live.spec?.template.spec?.containers[0]?.image).toBe(IMAGE_V2);

    const sha = w.git.commitImage(STAGE, IMAGE_V1);
    await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.operationState?.syncResult?.revision === sha && app.status.sync?.status === 'Synced'
        ? app
        : undefined;
    }, 'the new revision synced automatically');
  });

  it('runs a sync requested through the operation field when automated sync is off', async () => {
    world = await startWorld();
    const w = world;
    await w.co.patchNamespacedCustomObject(
      { ...GROUP, name: STAGE.argoApp, body: { spec: { syncPolicy: { automated: null } } } },
      MERGE,
    );
    const sha = w.git.commitImage(STAGE, IMAGE_V2);
    const outOfSync = await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.sync?.status === 'OutOfSync' && app.status.sync.revision === sha ? app : undefined;
    }, 'OutOfSync without an automatic sync');
    expect(outOfSync.status?.operationState?.phase).toBe('Succeeded');
    expect(outOfSync.status?.operationState?.syncResult?.revision).not.toBe(sha);

    await w.co.patchNamespacedCustomObject(
      {
        ...GROUP,
        name: STAGE.argoApp,
        body: {
          operation: {
            initiatedBy: { username: 'deploy-bot' },
            sync: { revision: sha, prune: false, syncStrategy: { hook: {} } },
          },
        },
      },
      MERGE,
    );
    const done = await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.operationState?.phase === 'Succeeded' && app.status.operationState.syncResult?.revision === sha
        ? app
        : undefined;
    }, 'the requested sync to succeed');
    expect(done.operation).toBeUndefined();
    expect(done.status?.operationState?.operation.initiatedBy).toEqual({ username: 'deploy-bot' });
    expect(done.status?.history?.at(-1)).toMatchObject({ revision: sha, initiatedBy: { username: 'deploy-bot' } });
    await until(
      async () => (await getApp(w, STAGE.argoApp)).status?.health?.status === 'Healthy',
      'healthy after the rollout',
    );
  });

  it('reports Missing health and self-heals when the live Deployment drifts or disappears', async () => {
    world = await startWorld();
    const w = world;
    w.cluster.store.delete(RESOURCES.deployments, 'dev', 'example-app');
    await until(async () => {
      const app = await getApp(w, 'example-app-dev');
      return (
        app.status?.health?.status === 'Missing' ||
        app.status?.operationState?.syncResult?.resources.some((r) => r.message.endsWith('created')) === true
      );
    }, 'Missing health or a re-creating sync');
    await until(async () => {
      const app = await getApp(w, 'example-app-dev');
      return app.status?.sync?.status === 'Synced' && app.status.health?.status === 'Healthy';
    }, 'self-healed');
  });
});
