import type { Watch } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesClient, type PodView } from '../../src/clients/kubernetes/index.js';
import { followCollection, type CachedCollection, type Listing } from '../../src/clients/kubernetes/watch.js';
import type { KubeObject } from '../../src/sandbox/kubernetes/objects.js';
import { RESOURCES } from '../../src/sandbox/kubernetes/resources.js';
import { until } from '../support/eventually.js';
import { startCountingProxy, startKubeWorld, type CountingProxy, type KubeWorld } from './kubernetes-support.js';

type Callback = (type: string, object: unknown) => void;
type Done = (err: unknown) => void;

/** A scripted stand-in for the library's Watch: each call plays the next script against the callbacks. */
function scriptedWatch(scripts: ((cb: Callback, done: Done) => void)[]) {
  const calls: Record<string, unknown>[] = [];
  const watch = {
    watch(_path: string, params: Record<string, unknown>, cb: Callback, done: Done): Promise<AbortController> {
      calls.push(params);
      const script = scripts.shift();
      if (script) setTimeout(() => script(cb, done), 0);
      return Promise.resolve(new AbortController());
    },
  };
  return { watch: watch as unknown as Watch, calls };
}

const obj = (name: string, rv: string, phase = 'Running') => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  status: { phase },
});

/** A collection of `{name, phase}` whose lists are played from `lists` in turn. */
function source(lists: Listing[]) {
  return {
    path: '/api/v1/namespaces/ns/pods',
    query: { labelSelector: 'app=a' },
    list: () => {
      const next = lists.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error('no more lists'));
    },
    parse: (raw: unknown) => {
      const o = raw as ReturnType<typeof obj>;
      return `${o.metadata.name}:${o.status.phase}`;
    },
  };
}

describe('a collection cached from the watch API', () => {
  let cache: CachedCollection<unknown> | undefined;
  afterEach(() => {
    cache?.stop();
    cache = undefined;
  });

  it('lists once, then applies ADDED, MODIFIED and DELETED events from the list version on', async () => {
    const { watch, calls } = scriptedWatch([
      (cb) => {
        cb('ADDED', obj('b', '11'));
        cb('MODIFIED', obj('a', '12', 'Succeeded'));
        cb('DELETED', obj('c', '13'));
      },
    ]);
    const lists = [{ resourceVersion: '10', items: [obj('c', '3'), obj('a', '5')] }];
    let changes = 0;
    cache = followCollection(watch, source(lists), () => (changes += 1));
    expect(await cache.ready()).toBe(true);
    await until(() => changes === 4, 'the list and three events');
    expect(cache.current()).toEqual(['a:Succeeded', 'b:Running']);
    expect(calls).toEqual([
      expect.objectContaining({ resourceVersion: '10', labelSelector: 'app=a', allowWatchBookmarks: true }),
    ]);
  });

  it('re-lists after 410 Expired, replacing what it held, and watches again from the new list version', async () => {
    const { watch, calls } = scriptedWatch([
      (cb, done) => {
        cb('ERROR', { kind: 'Status', reason: 'Expired', code: 410 });
        done(null);
      },
      (cb) => cb('MODIFIED', obj('b', '43', 'Failed')),
    ]);
    const lists = [
      { resourceVersion: '10', items: [obj('a', '5')] },
      { resourceVersion: '42', items: [obj('b', '40')] },
    ];
    cache = followCollection(watch, source(lists), () => {});
    await until(() => calls.length === 2 && cache?.current()?.[0] === 'b:Failed', 'the event after the re-list');
    expect(cache.current()).toEqual(['b:Failed']);
    expect(calls.map((c) => c['resourceVersion'])).toEqual(['10', '42']);
    expect(lists).toEqual([]);
  });

  it('keeps the newest resourceVersion (bookmarks too) to resume after the server ends the stream', async () => {
    const { watch, calls } = scriptedWatch([
      (cb, done) => {
        cb('MODIFIED', obj('a', '7'));
        cb('BOOKMARK', { metadata: { resourceVersion: '9' } });
        done(null);
      },
    ]);
    const lists = [{ resourceVersion: '1', items: [] }];
    cache = followCollection(watch, source(lists), () => {});
    await until(() => calls.length === 2, 'the watch to resume');
    expect(calls.map((c) => c['resourceVersion'])).toEqual(['1', '9']);
    expect(cache.current()).toEqual(['a:Running']);
  });

  it('is not synced (readers must ask the API server) before its first list answered and after the watch failed', async () => {
    const { watch } = scriptedWatch([(_cb, done) => done(Object.assign(new Error('Forbidden'), { statusCode: 403 }))]);
    cache = followCollection(watch, source([{ resourceVersion: '1', items: [obj('a', '1')] }]), () => {});
    expect(cache.synced).toBe(false);
    expect(cache.current()).toBeUndefined();
    expect(await cache.ready()).toBe(true);
    await until(() => !cache!.synced, 'the failed watch to unsync the cache');
    expect(cache.current()).toBeUndefined();

    const failing = followCollection(watch, source([]), () => {});
    try {
      expect(await failing.ready()).toBe(false);
      expect(failing.current()).toBeUndefined();
    } finally {
      failing.stop();
    }
  });
});

describe('the pods cache on the sandbox cluster', () => {
  let w: KubeWorld | undefined;
  let proxy: CountingProxy | undefined;
  let pods: CachedCollection<PodView> | undefined;
  afterEach(async () => {
    pods?.stop();
    await proxy?.stop();
    await w?.stop();
    [pods, proxy, w] = [undefined, undefined, undefined];
  });

  /** A pod of the probe app in `default`, where no controller manages pods: only the test changes them. */
  const probePod = (name: string, phase = 'Pending'): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'probe' } },
    spec: { containers: [{ name: 'probe', image: 'registry.local/probe:1' }] },
    status: { phase },
  });
  const seen = (): string | undefined =>
    pods
      ?.current()
      ?.map((p) => `${p.name}:${p.phase}`)
      .join(' ');

  it('follows pods being added, modified and deleted, and re-lists the right ones after its version expired', async () => {
    w = await startKubeWorld({ timeScale: 1 });
    proxy = await startCountingProxy(w);
    const store = w.d.world.cluster.store;
    store.create(RESOURCES.pods, probePod('probe-a'));
    const client = createKubernetesClient({ kubeconfigPath: proxy.kubeconfig });
    // Short watch requests, so that the stream ends (and has to be resumed) while the test holds the watch back.
    pods = client.followPods('default', 'app=probe', () => {}, { timeoutSeconds: 1, maxBackoffMs: 200 });
    expect(await pods.ready()).toBe(true);
    expect(seen()).toBe('probe-a:Pending');

    store.create(RESOURCES.pods, probePod('probe-b'));
    await until(() => seen() === 'probe-a:Pending probe-b:Pending', 'the added pod');
    store.mutate(RESOURCES.pods, 'default', 'probe-a', (p) => {
      p['status'] = { phase: 'Running' };
    });
    await until(() => seen() === 'probe-a:Running probe-b:Pending', 'the modified pod');
    store.delete(RESOURCES.pods, 'default', 'probe-b');
    await until(() => seen() === 'probe-a:Running', 'the deleted pod');
    expect(proxy.count('list', 'pods')).toBe(1);

    // Hold the watch back (403) until more changes than the server's watch history keeps have happened.
    w.d.world.kubePermissions.setDenied([{ verb: 'watch', group: '', resource: 'pods', namespace: 'default' }]);
    await until(() => !pods!.synced, 'the watch to be refused');
    store.delete(RESOURCES.pods, 'default', 'probe-a');
    store.create(RESOURCES.pods, probePod('probe-c', 'Running'));
    for (let i = 0; i < 1_001; i++) {
      store.create(RESOURCES.configmaps, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `filler-${i}`, namespace: 'default' },
      });
    }
    w.d.world.kubePermissions.setDenied([]);

    await until(() => seen() === 'probe-c:Running', 'the cache to re-list after its version expired');
    expect(proxy.count('list', 'pods')).toBe(2);
    store.create(RESOURCES.pods, probePod('probe-d'));
    await until(() => seen() === 'probe-c:Running probe-d:Pending', 'the watch to carry on after the re-list');
  });
});
