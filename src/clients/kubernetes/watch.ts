/**
 * Follows a collection with the watch API, as a wake-up signal for waits that also poll.
 *
 * The protocol (api-contracts.md §5.4): list to get a resourceVersion, watch from it, keep the newest version seen
 * (events and bookmarks), watch again from it when the server ends the stream (`timeoutSeconds`), and list again
 * when the version has expired (an ERROR event or a first answer with code 410). Failures back off and try again;
 * nothing here throws, because the caller's polling keeps it correct when the watch is down.
 */
import type { Watch } from '@kubernetes/client-node';

export interface FollowOptions {
  /** Server-side lifetime of one watch request, in seconds; default 300. */
  readonly timeoutSeconds?: number;
  /** Longest pause between attempts after failures, in milliseconds; default 30 000. */
  readonly maxBackoffMs?: number;
}

/** A running watch. `stop()` ends it and releases its connection. */
export interface ChangeFollower {
  stop(): void;
  /** True while a watch stream is open. */
  readonly connected: boolean;
}

export interface WatchedCollection {
  /** Collection path, e.g. `/api/v1/namespaces/dev/pods`. */
  readonly path: string;
  /** Selectors sent with the list and the watch. */
  readonly query: Readonly<Record<string, string>>;
  /** Lists the collection; returns its `metadata.resourceVersion`. */
  list(): Promise<string | undefined>;
}

type Outcome = 'ended' | 'expired' | 'failed';

interface WatchObject {
  code?: unknown;
  metadata?: { resourceVersion?: unknown };
}

export function followChanges(
  watch: Watch,
  source: WatchedCollection,
  onChange: () => void,
  opts: FollowOptions = {},
): ChangeFollower {
  const timeoutSeconds = opts.timeoutSeconds ?? 300;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  let stopped = false;
  let connected = false;
  let controller: AbortController | undefined;
  let wakeSleeper: (() => void) | undefined;
  let sleepTimer: NodeJS.Timeout | undefined;
  let resourceVersion: string | undefined;
  let failures = 0;

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      wakeSleeper = resolve;
      sleepTimer = setTimeout(resolve, ms);
    });

  const watchOnce = (): Promise<Outcome> =>
    new Promise((resolve) => {
      let expired = false;
      const params: Record<string, string | number | boolean> = {
        ...source.query,
        allowWatchBookmarks: true,
        timeoutSeconds,
      };
      if (resourceVersion !== undefined) params['resourceVersion'] = resourceVersion;
      watch
        .watch(
          source.path,
          params,
          (type: string, object: WatchObject | undefined) => {
            connected = true;
            failures = 0;
            if (type === 'ERROR') {
              if (Number(object?.code) === 410) expired = true;
              return;
            }
            const rv = object?.metadata?.resourceVersion;
            if (typeof rv === 'string' && rv !== '') resourceVersion = rv;
            if (type !== 'BOOKMARK') onChange();
          },
          (err: unknown) => {
            connected = false;
            if (err) resolve(Number((err as { statusCode?: unknown }).statusCode) === 410 ? 'expired' : 'failed');
            else resolve(expired ? 'expired' : 'ended');
          },
        )
        .then(
          (ctrl) => {
            controller = ctrl;
            if (stopped) ctrl.abort();
          },
          () => resolve('failed'),
        );
    });

  const run = async (): Promise<void> => {
    while (!stopped) {
      let outcome: Outcome;
      try {
        if (resourceVersion === undefined) {
          resourceVersion = await source.list();
          // Whatever changed while nobody watched is only visible in the list: let the caller look.
          onChange();
        }
        outcome = stopped ? 'ended' : await watchOnce();
      } catch {
        outcome = 'failed';
      }
      if (stopped) return;
      if (outcome === 'expired') resourceVersion = undefined;
      if (outcome === 'failed') {
        failures += 1;
        await pause(Math.min(maxBackoffMs, 250 * 2 ** failures));
      }
    }
  };
  void run();

  return {
    stop() {
      stopped = true;
      controller?.abort();
      if (sleepTimer) clearTimeout(sleepTimer);
      wakeSleeper?.();
    },
    get connected() {
      return connected;
    },
  };
}
