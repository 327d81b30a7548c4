/**
 * What a cluster wait reads at each look — the Application, the Deployment, the pods — taken from caches that a
 * watch keeps up to date (one list and one long watch per collection for the whole wait), and from the API server
 * only while a cache is not synced (before its first list, the watch down, an expired version being re-listed), so
 * that correctness never depends on the watch. A change in a cache wakes the wait, but no sooner than the minimum
 * gap after the previous look: a rollout's burst of pod events costs a few looks, and no API request.
 */
import type { ApplicationView, CachedCollection, DeploymentView, PodView } from '../../src/clients/kubernetes/index.js';
import { workloadClient, type EnvironmentTarget, type KubernetesActivityDeps } from './common.js';

/** The minimum gap between two looks a watch event may cause, unless the deps say otherwise. */
export const DEFAULT_MIN_LOOK_GAP_MS = 250;

/** Something pollUntil stops when the wait ends. */
interface Stoppable {
  stop(): void;
}

export interface WatchedReads {
  /** Starts the caches; `wake` is pollUntil's: called after a change, at most once per minimum gap after a look. */
  follow(wake: () => void): Stoppable[];
  /** Marks the start of a look. */
  looking(): void;
  /** The Application (NotFoundError when it does not exist). */
  application(): Promise<ApplicationView>;
  /** The app's Deployment (NotFoundError when it does not exist). */
  deployment(): Promise<DeploymentView>;
  /** The app's pods, sorted by name. */
  pods(): Promise<PodView[]>;
}

/** The objects of `cache` once its first list has answered, if it is synced; undefined: ask the API server. */
async function cached<T>(cache: CachedCollection<T> | undefined): Promise<readonly T[] | undefined> {
  if (!cache) return undefined;
  await cache.ready();
  return cache.current();
}

/**
 * The reads of one wait on `target`. `application: false` leaves the Application out of the caches (a wait that
 * never reads it).
 */
export function watchedReads(
  deps: KubernetesActivityDeps,
  target: EnvironmentTarget,
  opts: { application: boolean },
): WatchedReads {
  const { client, layout } = deps;
  const workload = workloadClient(deps, target.env);
  const minGapMs = deps.minLookGapMs ?? DEFAULT_MIN_LOOK_GAP_MS;
  let app: CachedCollection<ApplicationView> | undefined;
  let deployment: CachedCollection<DeploymentView> | undefined;
  let pods: CachedCollection<PodView> | undefined;
  let lastLook = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let wakeWait: (() => void) | undefined;

  // The gap is measured on the real clock: it paces the looks, whatever clock the wait's own timing uses.
  const changed = (): void => {
    if (timer !== undefined || !wakeWait) return;
    const delay = lastLook + minGapMs - Date.now();
    if (delay <= 0) {
      wakeWait?.();
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      wakeWait?.();
    }, delay);
  };

  return {
    follow(wake) {
      wakeWait = wake;
      if (opts.application) app = client.followApplication(layout.argocdNamespace, target.argoApp, changed);
      deployment = workload.followDeployment(target.namespace, target.appName, changed);
      pods = workload.followPods(target.namespace, target.podSelector, changed);
      const pacing: Stoppable = {
        stop() {
          wakeWait = undefined;
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
        },
      };
      return [...(app ? [app] : []), deployment, pods, pacing];
    },
    looking() {
      lastLook = Date.now();
      // A wake-up still pending is for changes this look is about to see (the caches are updated before they call
      // `changed`): drop it. A change from now on schedules its own, a gap from now.
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    async application() {
      // An empty synced cache may lag a creation, or the Application is gone: the direct read says which.
      const found = (await cached(app))?.[0];
      return found ?? client.getApplication(layout.argocdNamespace, target.argoApp);
    },
    async deployment() {
      const found = (await cached(deployment))?.[0];
      return found ?? workload.readDeployment(target.namespace, target.appName);
    },
    async pods() {
      const found = await cached(pods);
      return found ? [...found] : workload.listPods(target.namespace, target.podSelector);
    },
  };
}
