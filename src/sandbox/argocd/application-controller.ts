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
 */
import type { Clock } from '../core/clock.js';
import type { FaultEngine } from '../core/faults.js';
import { WorkQueue } from '../core/work-queue.js';
import { clone, type Deployment } from '../kubernetes/objects.js';
import { RESOURCES } from '../kubernetes/resources.js';
import type { ObjectStore, StoreEvent } from '../kubernetes/store.js';
import {
  REFRESH_ANNOTATION,
  parseGoDuration,
  type Application,
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

/** The target state of an app at one revision, or why it could not be loaded. */
type Target =
  { ok: true; revision: string; desired: DesiredObject[] } | { ok: false; revision?: string; error: string };

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

  stop(): void {
    this.unsubscribe();
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
    for (const d of target.desired) applyDesired(this.store, d, ignoredPointers(app, d.object));
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
    if (
      ev.resource === RESOURCES.deployments ||
      ev.resource === RESOURCES.replicasets ||
      ev.resource === RESOURCES.pods
    ) {
      for (const app of this.apps()) {
        if (app.spec.destination.namespace === ev.object.metadata.namespace) this.enqueue(app.metadata.name, 'health');
      }
    }
  }

  private enqueue(name: string, kind: 'full' | 'health'): void {
    this.queue.add(name, kind);
  }

  private loadTarget(app: Application, revision?: string): Target {
    const { repoURL, targetRevision, path } = app.spec.source;
    const sha = revision ?? this.git.resolveRevision(repoURL, targetRevision);
    if (!sha) {
      return {
        ok: false,
        error: `Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = unable to resolve '${targetRevision}' to a commit SHA`,
      };
    }
    const files = this.git.readDirectory(repoURL, sha, path);
    if (!files) {
      return {
        ok: false,
        revision: sha,
        error: `Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = ${path}: app path does not exist`,
      };
    }
    try {
      return { ok: true, revision: sha, desired: placeDesired(app, parseManifests(files)) };
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      return {
        ok: false,
        revision: sha,
        error: `Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = ${err.message}`,
      };
    }
  }

  private health(desired: DesiredObject[]): Health {
    let worst: Health = { status: 'Healthy' };
    for (const d of desired) {
      const live = liveOf(this.store, d);
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

  private images(desired: DesiredObject[]): string[] {
    const images = new Set<string>();
    for (const d of desired) {
      const live = liveOf(this.store, d) as Deployment | undefined;
      for (const c of live?.spec?.template?.spec?.containers ?? []) images.add(c.image);
    }
    return [...images].sort();
  }

  private resourcesStatus(app: Application, desired: DesiredObject[]): Record<string, unknown>[] {
    return desired.map((d) => {
      const live = liveOf(this.store, d);
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
    if (!app?.status?.sync?.revision) return;
    const target = this.loadTarget(app, app.status.sync.revision);
    if (!target.ok) return;
    this.write(name, (a, now) => {
      const status = (a.status ??= {});
      this.setHealth(status, this.health(target.desired), now);
      status.resources = this.resourcesStatus(a, target.desired);
      status.summary = { ...status.summary, images: this.images(target.desired) };
    });
  }

  private reconcile(name: string, seed: boolean): void {
    const app = this.store.get<Application>(RESOURCES.applications, this.namespace, name);
    if (!app) return;
    const target = this.loadTarget(app);
    const updated = this.write(name, (a, now) => {
      if (a.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined) {
        const { [REFRESH_ANNOTATION]: _refresh, ...rest } = a.metadata.annotations;
        a.metadata.annotations = rest;
      }
      const status = (a.status ??= {});
      status.reconciledAt = now;
      status.observedAt = now;
      status.sourceType = 'Directory';
      const comparedTo = { source: clone(a.spec.source), destination: clone(a.spec.destination) };
      if (!target.ok) {
        status.sync = { status: 'Unknown', ...(target.revision ? { revision: target.revision } : {}), comparedTo };
        const existing = status.conditions?.find((c) => c.type === 'ComparisonError' && c.message === target.error);
        status.conditions = [
          { type: 'ComparisonError', message: target.error, lastTransitionTime: existing?.lastTransitionTime ?? now },
        ];
        return;
      }
      delete status.conditions;
      const inSync = target.desired.every((d) =>
        isInSync(d.object, liveOf(this.store, d), ignoredPointers(a, d.object)),
      );
      status.sync = { status: inSync ? 'Synced' : 'OutOfSync', revision: target.revision, comparedTo };
      this.setHealth(status, this.health(target.desired), now);
      status.resources = this.resourcesStatus(a, target.desired);
      status.summary = { ...status.summary, images: this.images(target.desired) };
      if (seed && inSync && !status.operationState) {
        const operation: Operation = { sync: { revision: target.revision }, initiatedBy: { automated: true } };
        status.operationState = this.succeededState(
          a,
          operation,
          now,
          now,
          target.revision,
          target.desired.map((d) =>
            this.resourceResult(d, 'Synced', `${d.object.kind.toLowerCase()}/${d.object.metadata.name} created`),
          ),
        );
        this.appendHistory(a, target.revision, now, now, operation);
      }
    });
    if (!updated || this.running.has(name)) return;
    if (updated.operation) {
      this.startOperation(name, updated.operation, false);
      return;
    }
    const automated = updated.spec.syncPolicy?.automated !== undefined;
    const revision = updated.status?.sync?.revision;
    // As in Argo CD, without selfHeal a live change (someone's `kubectl set image`) is left OutOfSync: automated
    // sync only acts on a revision it has not synced yet.
    const selfHeal = updated.spec.syncPolicy?.automated?.selfHeal === true;
    const lastSynced = updated.status?.operationState?.syncResult?.revision;
    if (
      automated &&
      updated.status?.sync?.status === 'OutOfSync' &&
      revision &&
      (selfHeal || lastSynced !== revision) &&
      this.failedAutoSync.get(name) !== revision
    ) {
      const operation: Operation = {
        sync: {
          revision,
          prune: updated.spec.syncPolicy?.automated?.prune ?? false,
          ...(updated.spec.syncPolicy?.syncOptions ? { syncOptions: [...updated.spec.syncPolicy.syncOptions] } : {}),
        },
        initiatedBy: { automated: true },
        ...(updated.spec.syncPolicy?.retry ? { retry: clone(updated.spec.syncPolicy.retry) } : {}),
      };
      this.startOperation(name, operation, true);
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
    const target = this.loadTarget(app, state.operation.sync?.revision);
    const env = app.metadata.labels?.['environment'] ?? app.spec.destination.namespace;
    const images = target.ok
      ? target.desired.flatMap((d) =>
          ((d.object as Partial<Deployment>).spec?.template?.spec?.containers ?? []).map((c) => c.image),
        )
      : [];
    const ctx = {
      env,
      app: app.metadata.labels?.['app'] ?? name,
      newImage: images.some((image) => !this.isProvenImage(env, image)),
    };
    if (this.faults.domainFault('argo-sync-hangs', ctx)) {
      this.schedule(name, this.clock.duration('argoSync'));
      return;
    }
    if (!target.ok) {
      this.fail(app, state, target.revision ?? '', target.error, []);
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
      this.fail(app, state, target.revision, reason, results);
      return;
    }
    const startedAt = state.startedAt;
    const results = target.desired.map((d) =>
      this.resourceResult(d, 'Synced', applyDesired(this.store, d, ignoredPointers(app, d.object))),
    );
    this.running.delete(name);
    this.failedAutoSync.delete(name);
    this.write(name, (a, now) => {
      const status = (a.status ??= {});
      status.operationState = this.succeededState(a, state.operation, startedAt, now, target.revision, results);
      if (state.retryCount) status.operationState.retryCount = state.retryCount;
      delete a.operation;
      this.appendHistory(a, target.revision, startedAt, now, state.operation);
      const inSync = target.desired.every((d) =>
        isInSync(d.object, liveOf(this.store, d), ignoredPointers(a, d.object)),
      );
      status.sync = {
        status: inSync ? 'Synced' : 'OutOfSync',
        revision: target.revision,
        comparedTo: { source: clone(a.spec.source), destination: clone(a.spec.destination) },
      };
      this.setHealth(status, this.health(target.desired), now);
      status.resources = this.resourcesStatus(a, target.desired);
      status.summary = { ...status.summary, images: this.images(target.desired) };
    });
  }

  private succeededState(
    app: Application,
    operation: Operation,
    startedAt: string,
    now: string,
    revision: string,
    resources: ResourceResult[],
  ): OperationState {
    return {
      operation: clone(operation),
      phase: 'Succeeded',
      message: 'successfully synced (all tasks run)',
      startedAt,
      finishedAt: now,
      syncResult: { revision, source: clone(app.spec.source), resources },
    };
  }

  private appendHistory(
    app: Application,
    revision: string,
    startedAt: string,
    now: string,
    operation: Operation,
  ): void {
    const status = (app.status ??= {});
    const history = status.history ?? [];
    const id = history.length > 0 ? Math.max(...history.map((h) => h.id)) + 1 : 0;
    history.push({
      id,
      revision,
      deployedAt: now,
      deployStartedAt: startedAt,
      source: clone(app.spec.source),
      initiatedBy: clone(operation.initiatedBy ?? { automated: true }),
    });
    status.history = history.slice(-(app.spec.revisionHistoryLimit ?? 10));
  }

  /** One failed attempt: retried per the operation's retry strategy, else the operation ends Failed. */
  private fail(
    app: Application,
    state: OperationState,
    revision: string,
    message: string,
    resources: ResourceResult[],
  ): void {
    const name = app.metadata.name;
    const retry = state.operation.retry;
    const limit = retry?.limit ?? 0;
    const retryCount = state.retryCount ?? 0;
    const syncResult = { revision, source: clone(app.spec.source), resources };
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
    if (automated || state.operation.initiatedBy?.automated) this.failedAutoSync.set(name, revision);
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
