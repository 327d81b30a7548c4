import { PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, until } from '../support/eventually.js';
import { api, startWorld, type TestWorld } from './kubernetes-fixture.js';

const APPS_PATH = '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications';
const GROUP = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'argocd', plural: 'applications' } as const;

interface Received {
  type: string;
  object: {
    kind?: string;
    metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> };
    code?: number;
    reason?: string;
    message?: string;
  };
}

/** Starts a watch with the real client; collects events and the done callback. */
async function watch(world: TestWorld, path: string, params: Record<string, string | number | boolean | undefined>) {
  const events: Received[] = [];
  let done: { err: unknown } | undefined;
  const ctrl = await new Watch(world.kc).watch(
    path,
    params,
    (type, object) => events.push({ type, object: object as Received['object'] }),
    (err) => {
      done = { err };
    },
  );
  return { events, ctrl, done: () => done };
}

describe('watch on the simulated API server', () => {
  let world: TestWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });

  it('starts with ADDED for existing objects and then streams MODIFIED changes', async () => {
    world = await startWorld();
    const w = await watch(world, APPS_PATH, { labelSelector: 'environment=dev' });
    await until(
      () => w.events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'example-app-dev'),
      'initial ADDED',
    );
    expect(w.events.every((e) => e.object.metadata?.name === 'example-app-dev')).toBe(true);
    await world.co.patchNamespacedCustomObject(
      { ...GROUP, name: 'example-app-dev', body: { metadata: { labels: { touched: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const modified = await eventually(
      () => w.events.find((e) => e.type === 'MODIFIED' && e.object.metadata?.labels?.['touched'] === 'yes'),
      'MODIFIED event',
    );
    expect(modified.object.kind).toBe('Application');
    w.ctrl.abort();
  });

  it('replays what happened after a recent resourceVersion', async () => {
    world = await startWorld();
    const list = (await world.co.listNamespacedCustomObject({ ...GROUP })) as { metadata: { resourceVersion: string } };
    await world.co.patchNamespacedCustomObject(
      { ...GROUP, name: 'example-app-prod', body: { metadata: { labels: { missed: 'no' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const w = await watch(world, APPS_PATH, { resourceVersion: list.metadata.resourceVersion });
    const replayed = await eventually(
      () => w.events.find((e) => e.object.metadata?.labels?.['missed'] === 'no'),
      'replayed event',
    );
    expect(replayed.type).toBe('MODIFIED');
    expect(w.events.some((e) => e.type === 'ADDED')).toBe(false);
    w.ctrl.abort();
  });

  it('sends BOOKMARK events only when allowWatchBookmarks is set', async () => {
    world = await startWorld({ bookmarkIntervalMs: 20 });
    const rv = (await world.apps.listNamespacedDeployment({ namespace: 'dev' })).metadata?.resourceVersion ?? '';
    const w = await watch(world, '/apis/apps/v1/namespaces/dev/deployments', {
      resourceVersion: rv,
      allowWatchBookmarks: true,
    });
    const bookmark = await eventually(() => w.events.find((e) => e.type === 'BOOKMARK'), 'a bookmark');
    expect(bookmark.object.kind).toBe('Deployment');
    expect(bookmark.object.metadata?.resourceVersion).toMatch(/^\d+$/);
    w.ctrl.abort();
  });

  it('ends the stream normally after timeoutSeconds', async () => {
    world = await startWorld();
    const w = await watch(world, '/api/v1/namespaces/dev/pods', { timeoutSeconds: 1 });
    const done = await eventually(() => w.done(), 'end of stream', { timeoutMs: 10_000 });
    expect(done.err).toBeNull();
    expect(w.events.filter((e) => e.type === 'ADDED')).toHaveLength(1);
  });

  it('answers a too-old resourceVersion with an ERROR Expired (410) event', async () => {
    world = await startWorld({ watchHistoryLimit: 5 });
    for (let i = 0; i < 8; i++) {
      await world.co.patchNamespacedCustomObject(
        { ...GROUP, name: 'example-app-dev', body: { metadata: { labels: { n: String(i) } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    const w = await watch(world, APPS_PATH, { resourceVersion: '1' });
    const done = await eventually(() => w.done(), 'end of stream');
    expect(done.err).toBeNull();
    const error = w.events.find((e) => e.type === 'ERROR');
    expect(error?.object).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    expect(error?.object.message).toMatch(/^too old resource version: 1 \(\d+\)$/);
  });

  it('accepts watch=1 and streams newline-delimited JSON over raw HTTP', async () => {
    world = await startWorld();
    const res = await api(world, '/apis/apps/v1/deployments?watch=1&timeoutSeconds=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Received);
    expect(lines.map((l) => [l.type, l.object.metadata?.name])).toEqual([
      ['ADDED', 'example-app'],
      ['ADDED', 'example-app'],
      ['ADDED', 'example-app'],
    ]);
  });
});
