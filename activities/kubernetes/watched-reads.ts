/**
 * What a cluster wait reads at each look — the Application, the Deployment, its ReplicaSets and pods — taken from caches that a
 * watch keeps up to date (one list and one long watch per collection for the whole wait), and from the API server
 * only while a cache is not synced (before its first list, the watch down, an expired version being re-listed), so
 * that correctness never depends on the watch. A change in a cache wakes the wait, but no sooner than the minimum
 * gap after the previous look: a rollout's burst of pod events costs a few looks, and no API request.
 *
 * The app's pods are those of the Deployment's current ReplicaSet (real-installations.md §7.1): the ReplicaSet it
 * controls with the highest revision, and the pods that ReplicaSet controls, carrying its pod-template-hash. Both
 * are listed by the Deployment's own `spec.selector` (matchLabels and matchExpressions), never by `app=<name>`: a
 * second Deployment whose pods share that label, or the old ReplicaSet's pods during a rollout, are not the app's.
 * Their caches start at the first look, once the Deployment (and so its selector, immutable in apps/v1) is known.
 */
import {
  currentReplicaSet,
  labelSelectorString,
  podsOfReplicaSet,
  type ApplicationView,
  type CachedCollection,
  type DeploymentView,
  type PodView,
  type ReplicaSetView,
} from '../../src/clients/kubernetes/index.js';
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
  /** The pods of the Deployment's current ReplicaSet, sorted by name (none before it has one). */
  pods(): Promise<PodView[]>;
  /** The Deployment, its current ReplicaSet (if any yet) and that ReplicaSet's pods, from one look. */
  workload(): Promise<Workload>;
}

/** The app's workload as one look sees it. */
export interface Workload {
  readonly deployment: DeploymentView;
  readonly replicaSet: ReplicaSetView | undefined;
  readonly pods: PodView[];
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
  let replicaSets: CachedCollection<ReplicaSetView> | undefined;
  let following = false;
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
      following = true;
      deployment = workload.followDeployment(target.namespace, target.deployment, changed);
      const pacing: Stoppable = {
        stop() {
          following = false;
          wakeWait = undefined;
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
          // The ReplicaSet and pod caches started at the first look.
          replicaSets?.stop();
          pods?.stop();
        },
      };
      return [...(app ? [app] : []), deployment, pacing];
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
      return found ?? workload.readDeployment(target.namespace, target.deployment);
    },
    async pods() {
      return (await this.workload()).pods;
    },
    async workload() {
      const dep = await this.deployment();
      const selector = labelSelectorString(dep.selector);
      if (following && !pods) {
        replicaSets = workload.followReplicaSets(target.namespace, selector, changed);
        pods = workload.followPods(target.namespace, selector, changed);
      }
      const sets = (await cached(replicaSets)) ?? (await workload.listReplicaSets(target.namespace, selector));
      const rs = currentReplicaSet(dep, sets);
      if (!rs) return { deployment: dep, replicaSet: undefined, pods: [] };
      const all = (await cached(pods)) ?? (await workload.listPods(target.namespace, selector));
      return { deployment: dep, replicaSet: rs, pods: podsOfReplicaSet(rs, all) };
    },
  };
}
