import type { Watch } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { followChanges } from '../../src/clients/kubernetes/watch.js';
import { until } from '../support/eventually.js';
import { startKubeWorld, type KubeWorld } from './kubernetes-support.js';

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

describe('following changes with the watch API', () => {
  let w: KubeWorld | undefined;
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  it('re-lists and watches again from the new resourceVersion after 410 Expired', async () => {
    const lists: string[] = ['10', '42'];
    const { watch, calls } = scriptedWatch([
      (cb, done) => {
        cb('ERROR', { kind: 'Status', reason: 'Expired', code: 410 });
        done(null);
      },
      (cb) => cb('MODIFIED', { metadata: { resourceVersion: '43' } }),
    ]);
    let changes = 0;
    const follower = followChanges(
      watch,
      { path: '/apis/x', query: { fieldSelector: 'metadata.name=a' }, list: () => Promise.resolve(lists.shift()) },
      () => (changes += 1),
    );
    await until(() => calls.length === 2 && changes >= 3, 'a second watch after the re-list');
    follower.stop();
    expect(calls.map((c) => c['resourceVersion'])).toEqual(['10', '42']);
    expect(calls[0]).toMatchObject({ fieldSelector: 'metadata.name=a', allowWatchBookmarks: true });
    expect(lists).toEqual([]);
  });

  it('keeps the newest resourceVersion (bookmarks too) to resume after the server ends the stream', async () => {
    const { watch, calls } = scriptedWatch([
      (cb, done) => {
        cb('MODIFIED', { metadata: { resourceVersion: '7' } });
        cb('BOOKMARK', { metadata: { resourceVersion: '9' } });
        done(null);
      },
    ]);
    let lists = 0;
    const follower = followChanges(
      watch,
      { path: '/api/v1/pods', query: {}, list: () => Promise.resolve(String(++lists)) },
      () => {},
    );
    await until(() => calls.length === 2, 'the watch to resume');
    follower.stop();
    expect(calls.map((c) => c['resourceVersion'])).toEqual(['1', '9']);
    expect(lists).toBe(1);
  });

  it('tells about changes of an Application on the sandbox cluster', async () => {
    w = await startKubeWorld({ timeScale: 1 });
    let changes = 0;
    const follower = w.client.watchApplication('argocd', 'example-app-dev', () => (changes += 1));
    try {
      await until(() => follower.connected || changes > 0, 'the watch to start');
      const seen = changes;
      await w.client.requestApplicationRefresh('argocd', 'example-app-dev');
      await until(() => changes > seen, 'a change after the refresh request');
    } finally {
      follower.stop();
    }
  });
});
