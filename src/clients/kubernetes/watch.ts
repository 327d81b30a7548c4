/**
 * An informer-style cache of one collection: list it once, then keep the objects up to date from the watch events,
 * so that a wait reads the Application, the Deployment and the pods from memory instead of asking the API server
 * at every look.
 *
 * The protocol (api-contracts.md §5.4): list to get the objects and a resourceVersion, watch from it, apply
 * ADDED / MODIFIED / DELETED, keep the newest version seen (events and bookmarks), watch again from it when the
 * server ends the stream (`timeoutSeconds`) or the connection drops, and list again when the version has expired
 * (an ERROR event or a first answer with code 410). Failures back off and try again; nothing here throws. The
 * cache says whether it is synced: a reader must fall back to a direct read when it is not, so that correctness
 * never depends on the watch.
 */
import type { Watch } from '@kubernetes/client-node';

export interface FollowOptions {
  /** Server-side lifetime of one watch request, in seconds; default 300. */
  readonly timeoutSeconds?: number;
  /** Longest pause between attempts after failures, in milliseconds; default 30 000. */
  readonly maxBackoffMs?: number;
}

/** A collection kept up to date by a watch. `stop()` ends the watch and releases its connection. */
export interface CachedCollection<T> {
  /**
   * True while the objects follow the server: listed, and the watch open or being resumed from the newest
   * version without a gap. False before the first list, after a failure and while an expired version is re-listed.
   */
  readonly synced: boolean;
  /** The objects (sorted by name) while synced; undefined when not, and the reader must ask the API server. */
  current(): readonly T[] | undefined;
  /** Settles once the first list has answered: true when it succeeded (the cache is synced), false when it failed. */
  ready(): Promise<boolean>;
  stop(): void;
}

/** One listing of the collection: its raw objects and the collection's `metadata.resourceVersion`. */
export interface Listing {
  readonly resourceVersion: string | undefined;
  readonly items: readonly unknown[];
}

export interface WatchedCollection<T> {
  /** Collection path, e.g. `/api/v1/namespaces/dev/pods`. */
  readonly path: string;
  /** Selectors sent with the list and the watch. */
  readonly query: Readonly<Record<string, string>>;
  /** Lists the collection. */
  list(): Promise<Listing>;
  /** Turns a raw object (from the list or a watch event) into what readers get; throws on a malformed object. */
  parse(raw: unknown): T;
}

/** `ended`: the server closed the stream normally; `idle`: it did so at once, without a single event. */
type Outcome = 'ended' | 'idle' | 'expired' | 'failed';

/** A stream the server ends sooner than this without any event is not worth reopening at once. */
const SHORTEST_USEFUL_STREAM_MS = 1_000;

interface RawObject {
  code?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; resourceVersion?: unknown };
}

const keyOf = (raw: RawObject | undefined): string | undefined => {
  const name = raw?.metadata?.name;
  if (typeof name !== 'string') return undefined;
  const ns = raw?.metadata?.namespace;
  return `${typeof ns === 'string' ? ns : ''}/${name}`;
};

/**
 * Follows `source` until stopped, calling `onChange` after every change of its objects (and after every (re-)list,
 * since whatever changed while nobody watched is only visible there).
 */
export function followCollection<T>(
  watch: Watch,
  source: WatchedCollection<T>,
  onChange: () => void,
  opts: FollowOptions = {},
): CachedCollection<T> {
  const timeoutSeconds = opts.timeoutSeconds ?? 300;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const objects = new Map<string, T>();
  let stopped = false;
  let synced = false;
  let controller: AbortController | undefined;
  let wakeSleeper: (() => void) | undefined;
  let sleepTimer: NodeJS.Timeout | undefined;
  let resourceVersion: string | undefined;
  let failures = 0;
  let firstList: ((ok: boolean) => void) | undefined;
  const firstListed = new Promise<boolean>((resolve) => (firstList = resolve));

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      wakeSleeper = resolve;
      sleepTimer = setTimeout(resolve, ms);
    });

  const relist = async (): Promise<void> => {
    const listing = await source.list();
    const next = new Map<string, T>();
    for (const item of listing.items) {
      const key = keyOf(item as RawObject);
      if (key !== undefined) next.set(key, source.parse(item));
    }
    objects.clear();
    for (const [k, v] of next) objects.set(k, v);
    resourceVersion = listing.resourceVersion;
    synced = true;
  };

  const watchOnce = (): Promise<Outcome> =>
    new Promise((resolve) => {
      let expired = false;
      let failed = false;
      let finished = false;
      let received = false;
      const openedAt = Date.now();
      const params: Record<string, string | number | boolean> = {
        ...source.query,
        allowWatchBookmarks: true,
        timeoutSeconds,
      };
      if (resourceVersion !== undefined) params['resourceVersion'] = resourceVersion;
      const apply = (type: string, object: RawObject | undefined): void => {
        if (type === 'ERROR') {
          // Expired: the events since our version are gone; anything else is a failure of this stream.
          if (Number(object?.code) === 410) expired = true;
          else failed = true;
          synced = false;
          controller?.abort();
          return;
        }
        if (expired || failed) return;
        const key = keyOf(object);
        if (type === 'ADDED' || type === 'MODIFIED') {
          if (key !== undefined) objects.set(key, source.parse(object));
        } else if (type === 'DELETED') {
          if (key !== undefined) objects.delete(key);
        } else if (type !== 'BOOKMARK') {
          return;
        }
        const rv = object?.metadata?.resourceVersion;
        if (typeof rv === 'string' && rv !== '') resourceVersion = rv;
        if (type !== 'BOOKMARK') onChange();
      };
      watch
        .watch(
          source.path,
          params,
          (type: string, object: RawObject | undefined) => {
            failures = 0;
            received = true;
            try {
              apply(type, object);
            } catch {
              // A malformed object: this cache can no longer tell the truth; readers ask the API server meanwhile.
              failed = true;
              synced = false;
              controller?.abort();
            }
          },
          (err: unknown) => {
            finished = true;
            if (err) {
              synced = false;
              resolve(Number((err as { statusCode?: unknown }).statusCode) === 410 ? 'expired' : 'failed');
            } else if (expired || failed) resolve(expired ? 'expired' : 'failed');
            else resolve(!received && Date.now() - openedAt < SHORTEST_USEFUL_STREAM_MS ? 'idle' : 'ended');
          },
        )
        .then(
          (ctrl) => {
            controller = ctrl;
            // The stream is open (the library settles only once the answer came): resumed from our version.
            if (!finished && !stopped) synced = true;
            if (stopped) ctrl.abort();
          },
          () => {
            synced = false;
            resolve('failed');
          },
        );
    });

  const run = async (): Promise<void> => {
    while (!stopped) {
      let outcome: Outcome;
      try {
        if (!synced && resourceVersion === undefined) {
          await relist();
          firstList?.(true);
          failures = 0;
          if (stopped) return;
          onChange();
        }
        outcome = stopped ? 'ended' : await watchOnce();
      } catch {
        firstList?.(false);
        outcome = 'failed';
      }
      if (stopped) return;
      if (outcome === 'expired') {
        synced = false;
        resourceVersion = undefined;
      }
      // A failure unsyncs the cache until the watch resumes, with a growing back-off. A server that keeps closing
      // empty streams at once (a proxy's idle timeout) is only not hammered: the pause stays short, since the cache
      // counts as synced meanwhile and the reopened watch replays what happened during it.
      if (outcome === 'failed') {
        failures += 1;
        await pause(Math.min(maxBackoffMs, 250 * 2 ** failures));
      } else if (outcome === 'idle') {
        await pause(SHORTEST_USEFUL_STREAM_MS);
      }
    }
  };
  void run();

  return {
    get synced() {
      return synced && !stopped;
    },
    current() {
      if (!synced || stopped) return undefined;
      return [...objects.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
    },
    ready: () => firstListed,
    stop() {
      stopped = true;
      synced = false;
      firstList?.(false);
      controller?.abort();
      if (sleepTimer) clearTimeout(sleepTimer);
      wakeSleeper?.();
    },
  };
}
