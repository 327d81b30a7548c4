/**
 * The Argo CD application controller of the simulation.
 *
 * Every `argoDetect` (and at once when an Application gets the refresh annotation or a requested `operation`)
 * it resolves the target branch through `GitSource`, compares the rendered manifests with the live objects and
 * writes `status.sync`, `status.health`, `reconciledAt`. An OutOfSync app with automated sync (after a change to
 * the live objects only with `selfHeal`; otherwise for a revision it has not synced yet), or a written
 * `operation`, starts a sync operation: `Running` for `argoSync`, then the manifests are applied and the
 * operation `Succeeded` (or `Failed` after the retry policy is used up, under `argo-sync-fails`; it stays
 * `Running` while `argo-sync-hangs` holds). Health follows the live Deployment, so an app is never Healthy at a
 * new revision before its pods run the new image.
 *
 * Argo CD runs in the first cluster (its Applications live in `store`); an Application whose `destination.server`
 * names another cluster registered with `addCluster` (as `argocd cluster add` does) has its manifests applied to,
 * and its health read from, that cluster's store.
 */
import type { Clock } from '../core/clock.js';
import type { DomainFaultContext, FaultEngine } from '../core/faults.js';
import { WorkQueue } from '../core/work-queue.js';
import { clone, type Deployment } from '../kubernetes/objects.js';
import { RESOURCES } from '../kubernetes/resources.js';
import type { ObjectStore, StoreEvent } from '../kubernetes/store.js';
import {
  REFRESH_ANNOTATION,
  isMultiSource,
  parseGoDuration,
  sourcesOf,
  type Application,
  type ApplicationSource,
  type ApplicationStatus,
  type Operation,
  type OperationState,
  type ResourceResult,
} from './application.js';
import type { GitSource } from './git-source.js';
import { deploymentHealth, isWorse, type Health } from './health.js';
import {
  applyDesired,
  group,
  ignoredPointers,
  isInSync,
  liveOf,
  placeDesired,
  version,
  type DesiredObject,
} from './live-state.js';
import { ManifestError, parseManifests } from './manifests.js';

export interface ApplicationControllerOptions {
  store: ObjectStore;
  clock: Clock;
  faults: FaultEngine;
  git: GitSource;
  /** Namespace the Application resources live in (`argocd`). */
  namespace: string;
  /** Whether `image` already ran healthy in `env`, for `newImageOnly` fault rules; default: never. */
  isProvenImage?: (env: string, image: string) => boolean;
}

/** The destination server of the cluster Argo CD runs in, as Applications name it. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/**
 * The target state of an app at one revision per source (`spec.sources` order; one for a single-source app), or
 * why it could not be loaded.
 */
type Target =
  | { ok: true; revisions: string[]; desired: DesiredObject[]; live: ObjectStore }
  | { ok: false; revisions?: string[]; error: string };

const SHA = /^[0-9a-f]{40}$/;

/** The revision fields of `status.sync`, `syncResult` and history: `revision` or, multi-source, `revisions` (§8.1). */
function revisionFields(app: Application, revisions: string[]): { revision?: string; revisions?: string[] } {
  return isMultiSource(app) ? { revisions: [...revisions] } : { revision: revisions[0] ?? '' };
}

/** The source fields matching `revisionFields`. */
function sourceFields(app: Application): { source?: ApplicationSource; sources?: ApplicationSource[] } {
  return isMultiSource(app) ? { sources: clone(sourcesOf(app)) } : { source: clone(sourcesOf(app)[0]!) };
}

/** The revisions a status or operation names, per source: `revisions`, else `[revision]`. */
function revisionsIn(x: { revision?: string | undefined; revisions?: string[] | undefined } | undefined): string[] {
  if (x?.revisions) return x.revisions;
  return x?.revision ? [x.revision] : [];
}

const sameRevisions = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((r, i) => r === b[i]);

interface RunningOperation {
  cancel: () => void;
  automated: boolean;
}

export class ApplicationController {
  private readonly store: ObjectStore;
  private readonly clock: Clock;
  private readonly faults: FaultEngine;
  private readonly git: GitSource;
  private readonly namespace: string;
  private readonly isProvenImage: (env: string, image: string) => boolean;
  private readonly running = new Map<string, RunningOperation>();
  /** The other clusters Applications deploy to, by API server URL, and how to stop following each. */
  private readonly clusters = new Map<string, { store: ObjectStore; unsubscribe: () => void }>();
  /** Revision whose automated sync failed per app: not auto-synced again (Argo CD's rule). */
  private readonly failedAutoSync = new Map<string, string>();
  /** Apps to reconcile on the next tick; a full reconcile covers a health refresh. */
  private readonly queue: WorkQueue<string, 'full' | 'health'>;
  private cancelTick: () => void = () => {};
  private unsubscribe: () => void = () => {};

  constructor(opts: ApplicationControllerOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.faults = opts.faults;
    this.git = opts.git;
    this.namespace = opts.namespace;
    this.isProvenImage = opts.isProvenImage ?? (() => false);
    this.queue = new WorkQueue(
      opts.clock,
      (queued, next) => (queued === 'full' ? queued : next),
      (name, kind) => (kind === 'full' ? this.reconcile(name, false) : this.refreshHealth(name)),
    );
  }

  /** Starts the periodic reconcile and the reactions to refresh requests, operations and live changes. */
  start(): void {
    this.unsubscribe = this.store.subscribe((ev) => this.onEvent(ev));
    const tick = (): void => {
      for (const app of this.apps()) this.enqueue(app.metadata.name, 'full');
      this.cancelTick = this.clock.after(this.clock.duration('argoDetect'), tick);
    };
    this.cancelTick = this.clock.after(this.clock.duration('argoDetect'), tick);
  }

  /**
   * Registers another cluster (its API server URL and its objects): Applications whose `destination.server` is
   * `server` deploy there, and changes of its workloads refresh their health. Registering a URL again replaces it.
   */
  addCluster(server: string, store: ObjectStore): void {
    this.clusters.get(server)?.unsubscribe();
    const unsubscribe = store.subscribe((ev) => this.onLiveEvent(server, ev));
    this.clusters.set(server, { store, unsubscribe });
    for (const app of this.apps()) if (app.spec.destination.server === server) this.enqueue(app.metadata.name, 'full');
  }

  stop(): void {
    this.unsubscribe();
    for (const c of this.clusters.values()) c.unsubscribe();
    this.cancelTick();
    for (const op of this.running.values()) op.cancel();
    this.running.clear();
  }

  /**
   * Reconciles one app at once. With `seed`, an app found in sync gets the operation state and history of the
   * sync that brought it there (the world starts after Argo CD has deployed each environment once).
   */
  reconcileNow(name: string, seed = false): void {
    this.reconcile(name, seed);
  }

  /**
   * Applies an app's target state at once, without an operation: the world starts after Argo CD has deployed
   * each environment. Does nothing when the target cannot be loaded.
   */
  seedSync(name: string): void {
    const app = this.store.get<Application>(RESOURCES.applications, this.namespace, name);
    if (!app) return;
    const target = this.loadTarget(app);
    if (!target.ok) return;
    for (const d of target.desired) applyDesired(target.live, d, ignoredPointers(app, d.object));
  }

  private apps(): Application[] {
    return this.store.list<Application>(RESOURCES.applications, { namespace: this.namespace }).items;
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.resource === RESOURCES.applications) {
      if (ev.type === 'DELETED' || ev.object.metadata.namespace !== this.namespace) return;
      const app = ev.object as Application;
      const refresh = app.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined;
      const requested = app.operation !== undefined && !this.running.has(app.metadata.name);
      if (ev.type === 'ADDED' || refresh || requested) this.enqueue(app.metadata.name, 'full');
      return;
    }
    this.onLiveEvent(IN_CLUSTER_SERVER, ev);
  }

  /** A workload changed in the cluster at `server`: the apps deployed to its namespace there refresh their health. */
  private onLiveEvent(server: string, ev: StoreEvent): void {
    if (
      ev.resource === RESOURCES.deployments ||
      ev.resource === RESOURCES.replicasets ||
      ev.resource === RESOURCES.pods
    ) {
      for (const app of this.apps()) {
        if (
          (app.spec.destination.server ?? IN_CLUSTER_SERVER) === server &&
          app.spec.destination.namespace === ev.object.metadata.namespace
        )
          this.enqueue(app.metadata.name, 'health');
      }
    }
  }

  /** The objects of the cluster the app deploys to; undefined when Argo CD knows no cluster at that URL. */
  private destinationStore(app: Application): ObjectStore | undefined {
    const server = app.spec.destination.server ?? IN_CLUSTER_SERVER;
    return server === IN_CLUSTER_SERVER ? this.store : this.clusters.get(server)?.store;
  }

  private enqueue(name: string, kind: 'full' | 'health'): void {
    this.queue.add(name, kind);
  }

  /**
   * Resolves each source's revision (`revisions[i]`, a SHA or a branch as an `operation` may name it, else the
   * source's `targetRevision`) and renders the sources that have a path; a `ref`-only source only resolves.
   */
  private loadTarget(app: Application, revisions?: readonly string[]): Target {
    const live = this.destinationStore(app);
    // Argo CD's words when an Application names a cluster it does not know.
    if (!live)
      return {
        ok: false,
        error: `Failed to load target state: there are no clusters with this URL: ${app.spec.destination.server ?? ''}`,
      };
    const sources = sourcesOf(app);
    const resolved: string[] = [];
    const objects = [];
    const failed = (i: number, desc: string): Target => ({
      ok: false,
      ...(resolved.length > 0 ? { revisions: resolved } : {}),
      error: `Failed to load target state: failed to generate manifest for source ${i + 1} of ${sources.length}: rpc error: code = Unknown desc = ${desc}`,
    });
    for (const [i, source] of sources.entries()) {
      const wanted = revisions?.[i] ?? source.targetRevision;
      const sha = SHA.test(wanted) ? wanted : this.git.resolveRevision(source.repoURL, wanted);
      if (!sha) return failed(i, `unable to resolve '${wanted}' to a commit SHA`);
      resolved.push(sha);
      if (source.path === undefined) continue;
      const files = this.git.readDirectory(source.repoURL, sha, source.path);
      if (!files) return failed(i, `${source.path}: app path does not exist`);
      try {
        objects.push(...parseManifests(files));
      } catch (err) {
        if (!(err instanceof ManifestError)) throw err;
        return failed(i, err.message);
      }
    }
    return { ok: true, revisions: resolved, desired: placeDesired(app, objects), live };
  }

  private health(store: ObjectStore, desired: DesiredObject[]): Health {
    let worst: Health = { status: 'Healthy' };
    for (const d of desired) {
      const live = liveOf(store, d);
      const h: Health =
        d.object.kind === 'Deployment'
          ? deploymentHealth(live as Deployment | undefined)
          : live || !d.resource
            ? { status: 'Healthy' }
            : { status: 'Missing' };
      if (isWorse(h.status, worst.status)) worst = h;
    }
    return worst;
  }

  private images(store: ObjectStore, desired: DesiredObject[]): string[] {
    const images = new Set<string>();
    for (const d of desired) {
      const live = liveOf(store, d) as Deployment | undefined;
      for (const c of live?.spec?.template?.spec?.containers ?? []) images.add(c.image);
    }
    return [...images].sort();
  }

  private resourcesStatus(store: ObjectStore, app: Application, desired: DesiredObject[]): Record<string, unknown>[] {
    return desired.map((d) => {
      const live = liveOf(store, d);
      const synced = isInSync(d.object, live, ignoredPointers(app, d.object));
      const h =
        d.object.kind === 'Deployment'
          ? deploymentHealth(live as Deployment | undefined)
          : { status: live ? 'Healthy' : 'Missing' };
      return {
        group: group(d.object.apiVersion) || undefined,
        version: version(d.object.apiVersion),
        kind: d.object.kind,
        namespace: d.namespace,
        name: d.object.metadata.name,
        status: synced ? 'Synced' : 'OutOfSync',
        health: {
          status: h.status,
          ...(h.status !== 'Healthy' && 'message' in h && h.message ? { message: h.message } : {}),
        },
      };
    });
  }

  private setHealth(status: ApplicationStatus, h: Health, now: string): void {
    const prev = status.health;
    status.health = {
      status: h.status,
      ...(h.message ? { message: h.message } : {}),
      lastTransitionTime: prev && prev.status === h.status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    };
  }

  private write(name: string, fn: (app: Application, now: string) => void): Application | undefined {
    return this.store.mutate<Application>(RESOURCES.applications, this.namespace, name, (app) =>
      fn(app, this.store.timestamp()),
    );
  }

  private refreshHealth(name: string): void {
    const app = this.store.get<Application>(RESOURCES.applications, this.namespace, name);
    const current = revisionsIn(app?.status?.sync);
    if (!app || current.length === 0) return;
    const target = this.loadTarget(app, current);
    if (!target.ok) return;
    this.write(name, (a, now) => {
      const status = (a.status ??= {});
      this.setHealth(status, this.health(target.live, target.desired), now);
      status.resources = this.resourcesStatus(target.live, a, target.desired);
      status.summary = { ...status.summary, images: this.images(target.live, target.desired) };
    });
  }

  private reconcile(name: string, seed: boolean): void {
    const app = this.store.get<Application>(RESOURCES.applications, this.namespace, name);
    if (!app) return;
    const target = this.comparisonFault(app, this.loadTarget(app));
    const updated = this.write(name, (a, now) => {
      if (a.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined) {
        const { [REFRESH_ANNOTATION]: _refresh, ...rest } = a.metadata.annotations;
        a.metadata.annotations = rest;
      }
      const status = (a.status ??= {});
      status.reconciledAt = now;
      status.observedAt = now;
      status.sourceType = 'Directory';
      const comparedTo = { ...sourceFields(a), destination: clone(a.spec.destination) };
      if (!target.ok) {
        status.sync = {
          status: 'Unknown',
          ...(target.revisions ? revisionFields(a, target.revisions) : {}),
          comparedTo,
        };
        const existing = status.conditions?.find((c) => c.type === 'ComparisonError' && c.message === target.error);
        status.conditions = [
          { type: 'ComparisonError', message: target.error, lastTransitionTime: existing?.lastTransitionTime ?? now },
        ];
        // A failed comparison leaves health Unknown with an empty message (real-installations.md §8.3).
        this.setHealth(status, { status: 'Unknown' }, now);
        return;
      }
      delete status.conditions;
      const inSync = target.desired.every((d) =>
        isInSync(d.object, liveOf(target.live, d), ignoredPointers(a, d.object)),
      );
      status.sync = { status: inSync ? 'Synced' : 'OutOfSync', ...revisionFields(a, target.revisions), comparedTo };
      this.setHealth(status, this.health(target.live, target.desired), now);
      status.resources = this.resourcesStatus(target.live, a, target.desired);
      status.summary = { ...status.summary, images: this.images(target.live, target.desired) };
      if (seed && inSync && !status.operationState) {
        const operation: Operation = { sync: revisionFields(a, target.revisions), initiatedBy: { automated: true } };
        status.operationState = this.succeededState(
          a,
          operation,
          now,
          now,
          target.revisions,
          target.desired.map((d) =>
            this.resourceResult(d, 'Synced', `${d.object.kind.toLowerCase()}/${d.object.metadata.name} created`),
          ),
        );
        this.appendHistory(a, target.revisions, now, now, operation);
      }
    });
    if (!updated || this.running.has(name)) return;
    if (updated.operation) {
      this.startOperation(name, updated.operation, false);
      return;
    }
    const automated = updated.spec.syncPolicy?.automated !== undefined;
    const revisions = revisionsIn(updated.status?.sync);
    // As in Argo CD, without selfHeal a live change (someone's `kubectl set image`) is left OutOfSync: automated
    // sync only acts on a revision it has not synced yet.
    const selfHeal = updated.spec.syncPolicy?.automated?.selfHeal === true;
    const lastSynced = revisionsIn(updated.status?.operationState?.syncResult);
    if (
      automated &&
      updated.status?.sync?.status === 'OutOfSync' &&
      revisions.length > 0 &&
      (selfHeal || !sameRevisions(lastSynced, revisions)) &&
      this.failedAutoSync.get(name) !== revisions.join(',')
    ) {
      const operation: Operation = {
        sync: {
          ...revisionFields(updated, revisions),
          prune: updated.spec.syncPolicy?.automated?.prune ?? false,
          ...(updated.spec.syncPolicy?.syncOptions ? { syncOptions: [...updated.spec.syncPolicy.syncOptions] } : {}),
        },
        initiatedBy: { automated: true },
        ...(updated.spec.syncPolicy?.retry ? { retry: clone(updated.spec.syncPolicy.retry) } : {}),
      };
      this.startOperation(name, operation, true);
    }
  }

  /** The facts domain faults match on: the app's environment and app, and whether the target brings a new image. */
  private faultContext(app: Application, target: Target): DomainFaultContext {
    const env = app.metadata.labels?.['environment'] ?? app.spec.destination.namespace;
    const images = target.ok
      ? target.desired.flatMap((d) =>
          ((d.object as Partial<Deployment>).spec?.template?.spec?.containers ?? []).map((c) => c.image),
        )
      : [];
    return {
      env,
      app: app.metadata.labels?.['app'] ?? app.metadata.name,
      newImage: images.some((image) => !this.isProvenImage(env, image)),
    };
  }

  /**
   * `argo-health-unknown`: the comparison fails as when the repo server cannot render the manifests (a Kustomize or
   * Helm error): a ComparisonError condition, sync and health `Unknown` (real-installations.md §8.3).
   */
  private comparisonFault(app: Application, target: Target): Target {
    if (!target.ok || !this.faults.domainFault('argo-health-unknown', this.faultContext(app, target))) return target;
    const n = sourcesOf(app).length;
    return {
      ok: false,
      revisions: target.revisions,
      error: `Failed to load target state: failed to generate manifest for source ${n} of ${n}: rpc error: code = Unknown desc = Manifest generation error (cached): plugin sidecar failed: exit status 1 (injected fault argo-health-unknown)`,
    };
  }

  /**
   * What happens to the live objects right after a sync applied them, under domain faults: `argo-health-suspended`
   * pauses the Deployment (`kubectl rollout pause`, health `Suspended` "Deployment is paused");
   * `argo-health-missing` has it deleted (a cleanup job or a competing controller), so the app's health is `Missing`
   * although the sync Succeeded, and self-heal's next sync meets the same fate.
   */
  private liveFaults(store: ObjectStore, desired: DesiredObject[], ctx: DomainFaultContext): void {
    const deployments = desired.filter((d) => d.object.kind === 'Deployment' && d.resource);
    if (deployments.length === 0) return;
    if (this.faults.domainFault('argo-health-suspended', ctx)) {
      for (const d of deployments)
        store.mutate<Deployment>(d.resource!, d.namespace, d.object.metadata.name, (dep) => {
          dep.spec.paused = true;
        });
    }
    if (this.faults.domainFault('argo-health-missing', ctx)) {
      for (const d of deployments) store.delete(d.resource!, d.namespace, d.object.metadata.name);
    }
  }

  private startOperation(name: string, operation: Operation, automated: boolean): void {
    const written = this.write(name, (a, now) => {
      a.operation = clone(operation);
      (a.status ??= {}).operationState = {
        operation: clone(operation),
        phase: 'Running',
        message: 'one or more tasks are running',
        startedAt: now,
      };
    });
    if (!written) return;
    const op: RunningOperation = { cancel: () => {}, automated };
    this.running.set(name, op);
    op.cancel = this.clock.after(this.clock.duration('argoSync'), () => this.attempt(name));
  }

  private schedule(name: string, ms: number): void {
    const op = this.running.get(name);
    if (op) op.cancel = this.clock.after(ms, () => this.attempt(name));
  }

  private resourceResult(d: DesiredObject, status: ResourceResult['status'], message: string): ResourceResult {
    return {
      group: group(d.object.apiVersion),
      version: version(d.object.apiVersion),
      kind: d.object.kind,
      namespace: d.namespace,
      name: d.object.metadata.name,
      status,
      message,
      hookPhase: status === 'Synced' ? 'Running' : 'Failed',
      syncPhase: 'Sync',
    };
  }

  private attempt(name: string): void {
    const app = this.store.get<Application>(RESOURCES.applications, this.namespace, name);
    const state = app?.status?.operationState;
    if (!app || !state || state.phase !== 'Running') {
      this.running.delete(name);
      return;
    }
    const requested = revisionsIn(state.operation.sync);
    const target = this.loadTarget(app, requested.length > 0 ? requested : undefined);
    const ctx = this.faultContext(app, target);
    if (this.faults.domainFault('argo-sync-hangs', ctx)) {
      this.schedule(name, this.clock.duration('argoSync'));
      return;
    }
    if (!target.ok) {
      this.fail(app, state, target.revisions ?? [], target.error, []);
      return;
    }
    if (this.faults.domainFault('argo-sync-fails', ctx)) {
      const deployment = target.desired.find((d) => d.object.kind === 'Deployment') ?? target.desired[0];
      const what = deployment
        ? `${deployment.object.kind}.${group(deployment.object.apiVersion) || 'core'} "${deployment.object.metadata.name}"`
        : 'the manifests';
      const reason = `one or more objects failed to apply, reason: error when patching ${what}: admission webhook "validate.sandbox.local" denied the request (injected fault argo-sync-fails)`;
      const results = target.desired.map((d) =>
        this.resourceResult(
          d,
          d === deployment ? 'SyncFailed' : 'Synced',
          d === deployment ? reason : `${d.object.kind.toLowerCase()}/${d.object.metadata.name} unchanged`,
        ),
      );
      this.fail(app, state, target.revisions, reason, results);
      return;
    }
    const startedAt = state.startedAt;
    const results = target.desired.map((d) =>
      this.resourceResult(d, 'Synced', applyDesired(target.live, d, ignoredPointers(app, d.object))),
    );
    this.liveFaults(target.live, target.desired, ctx);
    this.running.delete(name);
    this.failedAutoSync.delete(name);
    this.write(name, (a, now) => {
      const status = (a.status ??= {});
      status.operationState = this.succeededState(a, state.operation, startedAt, now, target.revisions, results);
      if (state.retryCount) status.operationState.retryCount = state.retryCount;
      delete a.operation;
      this.appendHistory(a, target.revisions, startedAt, now, state.operation);
      const inSync = target.desired.every((d) =>
        isInSync(d.object, liveOf(target.live, d), ignoredPointers(a, d.object)),
      );
      status.sync = {
        status: inSync ? 'Synced' : 'OutOfSync',
        ...revisionFields(a, target.revisions),
        comparedTo: { ...sourceFields(a), destination: clone(a.spec.destination) },
      };
      this.setHealth(status, this.health(target.live, target.desired), now);
      status.resources = this.resourcesStatus(target.live, a, target.desired);
      status.summary = { ...status.summary, images: this.images(target.live, target.desired) };
    });
  }

  private succeededState(
    app: Application,
    operation: Operation,
    startedAt: string,
    now: string,
    revisions: string[],
    resources: ResourceResult[],
  ): OperationState {
    return {
      operation: clone(operation),
      phase: 'Succeeded',
      message: 'successfully synced (all tasks run)',
      startedAt,
      finishedAt: now,
      syncResult: { ...revisionFields(app, revisions), ...sourceFields(app), resources },
    };
  }

  private appendHistory(
    app: Application,
    revisions: string[],
    startedAt: string,
    now: string,
    operation: Operation,
  ): void {
    const status = (app.status ??= {});
    const history = status.history ?? [];
    const id = history.length > 0 ? Math.max(...history.map((h) => h.id)) + 1 : 0;
    history.push({
      id,
      ...revisionFields(app, revisions),
      deployedAt: now,
      deployStartedAt: startedAt,
      ...sourceFields(app),
      initiatedBy: clone(operation.initiatedBy ?? { automated: true }),
    });
    status.history = history.slice(-(app.spec.revisionHistoryLimit ?? 10));
  }

  /** One failed attempt: retried per the operation's retry strategy, else the operation ends Failed. */
  private fail(
    app: Application,
    state: OperationState,
    revisions: string[],
    message: string,
    resources: ResourceResult[],
  ): void {
    const name = app.metadata.name;
    const retry = state.operation.retry;
    const limit = retry?.limit ?? 0;
    const retryCount = state.retryCount ?? 0;
    const syncResult = { ...revisionFields(app, revisions), ...sourceFields(app), resources };
    if (retryCount < limit) {
      const base = parseGoDuration(retry?.backoff?.duration) ?? 5_000;
      const factor = retry?.backoff?.factor ?? 2;
      const max = parseGoDuration(retry?.backoff?.maxDuration) ?? 180_000;
      const delay = Math.min(base * factor ** retryCount, max);
      this.write(name, (a) => {
        const at = new Date(this.clock.now() + this.clock.scale(delay)).toISOString().slice(11, 19);
        (a.status ??= {}).operationState = {
          ...state,
          retryCount: retryCount + 1,
          message: `Retrying attempt #${retryCount + 1} at ${at}: ${message}`,
          syncResult,
        };
      });
      this.schedule(name, this.clock.scale(delay));
      return;
    }
    const automated = this.running.get(name)?.automated ?? false;
    this.running.delete(name);
    if (automated || state.operation.initiatedBy?.automated) this.failedAutoSync.set(name, revisions.join(','));
    this.write(name, (a, now) => {
      const status = (a.status ??= {});
      status.operationState = {
        ...state,
        phase: 'Failed',
        message: retryCount > 0 ? `${message} (retried ${retryCount} times).` : message,
        finishedAt: now,
        syncResult,
      };
      delete a.operation;
    });
  }
}
