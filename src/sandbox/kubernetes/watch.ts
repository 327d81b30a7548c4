/**
 * Watch streams: newline-delimited `{"type","object"}` JSON over a chunked 200 response.
 *
 * Without a resource version (or with `0`) the stream starts with a synthetic ADDED per existing object; with
 * one it replays the stored events after it, or sends an ERROR `Expired` (410) event and ends when the history no
 * longer reaches back. Objects moving in or out of a label selector arrive as ADDED / DELETED, as from the real
 * watch cache. `timeoutSeconds` ends the stream normally; bookmarks are sent when allowed.
 */
import type { ServerResponse } from 'node:http';
import type { SandboxResponse } from '../core/http.js';
import { statusObject, statusResponse } from './api-status.js';
import type { KubeObject } from './objects.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { ListOptions, ObjectStore, StoreEvent } from './store.js';

export interface WatchRequest extends ListOptions {
  resourceVersion?: string | undefined;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number | undefined;
  /**
   * `sendInitialEvents=true` (the watch-list protocol client-go uses, kubectl wait included): the current state
   * as ADDED events, then a BOOKMARK annotated `k8s.io/initial-events-end`.
   */
  sendInitialEvents?: boolean;
  /** How often a bookmark is sent when allowed (real servers: about a minute). */
  bookmarkIntervalMs: number;
}

/** Builds the streaming response for one watch request. */
export function watchResponse(store: ObjectStore, resource: ResourceType, req: WatchRequest): SandboxResponse {
  const rvText = req.resourceVersion ?? '';
  const since = rvText === '' || rvText === '0' ? undefined : Number(rvText);
  if (since !== undefined && !(Number.isInteger(since) && since >= 0)) {
    return statusResponse(
      'BadRequest',
      `resourceVersion: Invalid value: "${rvText}": strconv.ParseUint: parsing "${rvText}": invalid syntax`,
    );
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-cache, private' },
    stream: (res: ServerResponse, onClose: (fn: () => void) => void) => {
      res.flushHeaders();
      const timers: NodeJS.Timeout[] = [];
      let unsubscribe: () => void = () => {};
      let ended = false;
      const send = (type: string, object: unknown): void => {
        if (!ended) res.write(`${JSON.stringify({ type, object })}\n`);
      };
      const end = (): void => {
        if (ended) return;
        ended = true;
        cleanup();
        res.end();
      };
      const cleanup = (): void => {
        unsubscribe();
        for (const t of timers) clearTimeout(t);
      };
      onClose(() => {
        ended = true;
        cleanup();
      });
      const bookmark = (annotations?: Record<string, string>): void => {
        const metadata = { resourceVersion: store.resourceVersion, ...(annotations ? { annotations } : {}) };
        send('BOOKMARK', { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata });
      };

      const deliver = (ev: StoreEvent): void => {
        if (ev.resource !== resource) return;
        const now = store.matches(ev.object, req);
        const before = ev.previous !== undefined && store.matches(ev.previous, req);
        if (ev.type === 'ADDED' && now) send('ADDED', ev.object);
        else if (ev.type === 'DELETED' && before) send('DELETED', ev.object);
        else if (ev.type === 'MODIFIED') {
          if (now && before) send('MODIFIED', ev.object);
          else if (now) send('ADDED', ev.object);
          else if (before) send('DELETED', ev.object);
        }
      };

      if (since === undefined || req.sendInitialEvents) {
        for (const obj of store.list<KubeObject>(resource, req).items) send('ADDED', obj);
        if (req.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
      } else {
        const start = store.eventsSince(since);
        if (start.kind === 'expired') {
          const st = statusObject('Expired', `too old resource version: ${since} (${start.oldest})`);
          send('ERROR', st);
          end();
          return;
        }
        for (const ev of start.events) deliver(ev);
      }
      unsubscribe = store.subscribe(deliver);

      if (req.allowWatchBookmarks) {
        const every = (): void => {
          timers.push(
            setTimeout(() => {
              bookmark();
              every();
            }, req.bookmarkIntervalMs),
          );
        };
        every();
      }
      if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0) {
        timers.push(
          setTimeout(() => {
            if (req.allowWatchBookmarks) bookmark();
            end();
          }, req.timeoutSeconds * 1000),
        );
      }
    },
  };
}
