/**
 * Part C: the simulated Argo CD as real teams set it up — Applications without automated sync that sync only when
 * someone writes `operation` (real-installations.md §8.2), and multi-source Applications (§8.1) — driven through
 * @kubernetes/client-node.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../../src/sandbox/argocd/application.js';
import { eventually } from '../support/eventually.js';
import { ENVS, IMAGE_V1, IMAGE_V2, REPO_URL, startWorld, type TestWorld } from './kubernetes-fixture.js';

const GROUP = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'argocd', plural: 'applications' } as const;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const STAGE = ENVS[1]!;
const PROD = ENVS[2]!;

async function getApp(w: TestWorld, name: string): Promise<Application> {
  return (await w.co.getNamespacedCustomObject({ ...GROUP, name })) as Application;
}

async function writeOperation(w: TestWorld, name: string, operation: Record<string, unknown>): Promise<void> {
  await w.co.patchNamespacedCustomObject({ ...GROUP, name, body: { operation } }, MERGE);
}

/** Waits until the controller has reconciled `name` again after `after` (its `reconciledAt` moved on). */
async function reconciledAfter(w: TestWorld, name: string, after: string | undefined): Promise<Application> {
  return eventually(async () => {
    const app = await getApp(w, name);
    return app.status?.reconciledAt !== undefined && app.status.reconciledAt !== after ? app : undefined;
  }, `${name} reconciled again`);
}

describe('the simulated Argo CD: manual sync', () => {
  let world: TestWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });

  it('leaves a manual-sync app OutOfSync at a new commit until someone writes operation, then syncs the branch', async () => {
    world = await startWorld({ timeScale: 0.01, manualSync: ['prod'] });
    const w = world;
    const start = await getApp(w, PROD.argoApp);
    expect(start.spec.syncPolicy?.automated).toBeUndefined();
    expect(start.status?.sync?.status).toBe('Synced');

    const sha = w.git.commitImage(PROD, IMAGE_V2);
    const outOfSync = await eventually(async () => {
      const app = await getApp(w, PROD.argoApp);
      return app.status?.sync?.revision === sha && app.status.sync.status === 'OutOfSync' ? app : undefined;
    }, 'prod OutOfSync at the new commit');
    // Two more reconciliations: still no operation of its own.
    const later = await reconciledAfter(w, PROD.argoApp, outOfSync.status?.reconciledAt);
    const again = await reconciledAfter(w, PROD.argoApp, later.status?.reconciledAt);
    expect(again.status?.sync?.status).toBe('OutOfSync');
    expect(again.status?.operationState?.syncResult?.revision).toBe(start.status?.operationState?.syncResult?.revision);
    expect(
      (await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'prod' })).spec?.template.spec
        ?.containers[0]?.image,
    ).toBe(IMAGE_V1);

    await writeOperation(w, PROD.argoApp, { sync: { revision: 'prod' }, initiatedBy: { username: 'alice' } });
    const synced = await eventually(async () => {
      const app = await getApp(w, PROD.argoApp);
      return app.status?.operationState?.phase === 'Succeeded' && app.status.operationState.syncResult?.revision === sha
        ? app
        : undefined;
    }, 'the written operation to succeed');
    // The branch name resolves to its head; the operation is cleared in the same write that ends it.
    expect(synced.status?.operationState?.operation).toMatchObject({
      sync: { revision: 'prod' },
      initiatedBy: { username: 'alice' },
    });
    expect(synced.operation).toBeUndefined();
    expect(synced.status?.history?.at(-1)).toMatchObject({ revision: sha, initiatedBy: { username: 'alice' } });
  });

  it('loses an operation written while another runs: only the running one completes', async () => {
    world = await startWorld({
      timeScale: 0.01,
      manualSync: ['prod'],
      scenario: {
        name: 'prod-sync-slow',
        description: 'the first attempts of prod syncs hang',
        domain: [{ kind: 'argo-sync-hangs', env: 'prod', count: 3 }],
      },
    });
    const w = world;
    const sha = w.git.commitImage(PROD, IMAGE_V2);
    await writeOperation(w, PROD.argoApp, { sync: { revision: sha }, initiatedBy: { username: 'alice' } });
    await eventually(async () => {
      const app = await getApp(w, PROD.argoApp);
      return app.status?.operationState?.phase === 'Running' ? app : undefined;
    }, 'the first operation to run');
    await writeOperation(w, PROD.argoApp, { sync: { revision: 'prod' }, initiatedBy: { username: 'bob' } });

    const done = await eventually(async () => {
      const app = await getApp(w, PROD.argoApp);
      return app.status?.operationState?.phase === 'Succeeded' && app.status.operationState.syncResult?.revision === sha
        ? app
        : undefined;
    }, 'the first operation to finish');
    expect(done.operation).toBeUndefined();
    const after = await reconciledAfter(w, PROD.argoApp, done.status?.reconciledAt);
    const users = (after.status?.history ?? []).map((h) => h.initiatedBy.username);
    expect(users).toContain('alice');
    expect(users).not.toContain('bob');
    expect(after.status?.operationState?.operation.initiatedBy).toEqual({ username: 'alice' });
  });
});

describe('the simulated Argo CD: multi-source Applications', () => {
  let world: TestWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });

  it('reports sync.revisions per source (never sync.revision), in comparedTo, syncResult and history', async () => {
    world = await startWorld({ timeScale: 0.01, valuesSource: { repoURL: REPO_URL, targetRevision: 'dev' } });
    const w = world;
    const seeded = await getApp(w, STAGE.argoApp);
    expect(seeded.spec.source).toBeUndefined();
    expect(seeded.spec.sources).toEqual([
      { repoURL: REPO_URL, targetRevision: 'dev', ref: 'values' },
      { repoURL: REPO_URL, targetRevision: 'stage', path: 'manifests/exampleApp' },
    ]);
    expect(seeded.status?.sync?.revisions).toEqual([w.git.head('dev'), w.git.head('stage')]);
    expect(seeded.status?.sync).not.toHaveProperty('revision');
    expect(seeded.status?.sync?.comparedTo.sources).toHaveLength(2);

    const sha = w.git.commitImage(STAGE, IMAGE_V2);
    const synced = await eventually(async () => {
      const app = await getApp(w, STAGE.argoApp);
      return app.status?.operationState?.phase === 'Succeeded' &&
        app.status.operationState.syncResult?.revisions?.[1] === sha &&
        app.status.health?.status === 'Healthy'
        ? app
        : undefined;
    }, 'stage synced at the new commit');
    const op = synced.status!.operationState!;
    expect(op.operation.sync).toEqual(expect.objectContaining({ revisions: [w.git.head('dev'), sha] }));
    expect(op.operation.sync).not.toHaveProperty('revision');
    expect(op.syncResult).not.toHaveProperty('revision');
    expect(op.syncResult?.sources).toHaveLength(2);
    expect(synced.status?.sync).toMatchObject({ status: 'Synced', revisions: [w.git.head('dev'), sha] });
    expect(synced.status?.history?.at(-1)).toMatchObject({ revisions: [w.git.head('dev'), sha] });
    expect(synced.status?.summary?.images).toEqual([IMAGE_V2]);
  });
});
