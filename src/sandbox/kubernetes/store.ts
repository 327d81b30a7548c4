/**
 * The cluster's object store: what etcd plus the API server's storage layer do for the simulation.
 *
 * Every write bumps one global resource version (an opaque string to clients); `generation` moves on changes
 * outside `metadata` and `status` for kinds that track it. A bounded history of events lets watches started from
 * a recent resource version replay what they missed; older versions are reported as expired, like a compacted
 * etcd.
 */
import { randomUUID } from 'node:crypto';
import type { Selector } from './label-selector.js';
import { clone, jsonEqual, type KubeObject } from './objects.js';
import { apiVersionOf, qualifiedName, type ResourceType } from './resources.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, as stored in the history and delivered to watchers. */
export interface StoreEvent {
  readonly rv: number;
  readonly type: WatchEventType;
  readonly resource: ResourceType;
  /** The object after the change (before it, for DELETED). */
  readonly object: KubeObject;
  /** The object before the change; absent for ADDED. */
  readonly previous?: KubeObject;
}

export const STORE_ERROR_REASONS = ['NotFound', 'AlreadyExists', 'Conflict', 'Invalid'] as const;
export type StoreErrorReason = (typeof STORE_ERROR_REASONS)[number];

/** A refused write or read; the server maps `reason` to a Status object. */
export class StoreError extends Error {
  constructor(
    readonly reason: StoreErrorReason,
    readonly resource: ResourceType,
    readonly objectName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ListOptions {
  namespace?: string | undefined;
  labelSelector?: Selector | undefined;
  fieldSelector?: ((meta: { name: string; namespace?: string | undefined }) => boolean) | undefined;
}

export interface StoreOptions {
  /** Events kept for watch replay; older resource versions are `Expired`. Default 1000. */
  historyLimit?: number;
  now?: () => Date;
}

/** Where a watch starts: replay from the history, or too old. */
export type WatchStart = { kind: 'replay'; events: StoreEvent[] } | { kind: 'expired'; oldest: number };

function key(resource: ResourceType, namespace: string | undefined, name: string): string {
  return `${resource.group}/${resource.plural}/${namespace ?? ''}/${name}`;
}

export class ObjectStore {
  private readonly objects = new Map<string, { resource: ResourceType; object: KubeObject }>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(ev: StoreEvent) => void>();
  private rv = 0;
  /** Highest resource version whose event was dropped from the history. */
  private compactedThrough = 0;
  private readonly historyLimit: number;
  private readonly now: () => Date;

  constructor(opts: StoreOptions = {}) {
    this.historyLimit = opts.historyLimit ?? 1000;
    this.now = opts.now ?? (() => new Date());
  }

  /** The current global resource version, as clients see it. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** A copy of one object, or undefined. */
  get<T extends KubeObject = KubeObject>(
    resource: ResourceType,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    const entry = this.objects.get(key(resource, resource.namespaced ? namespace : undefined, name));
    return entry ? (clone(entry.object) as T) : undefined;
  }

  /** Copies of the matching objects, sorted by namespace and name, and the resource version of the list. */
  list<T extends KubeObject = KubeObject>(
    resource: ResourceType,
    opts: ListOptions = {},
  ): { items: T[]; resourceVersion: string } {
    const items: T[] = [];
    for (const entry of this.objects.values()) {
      if (entry.resource !== resource || !this.matches(entry.object, opts)) continue;
      items.push(clone(entry.object) as T);
    }
    items.sort((a, b) =>
      `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
      ),
    );
    return { items, resourceVersion: this.resourceVersion };
  }

  /** Whether an object passes the namespace, label and field filters. */
  matches(object: KubeObject, opts: ListOptions): boolean {
    if (opts.namespace !== undefined && object.metadata.namespace !== opts.namespace) return false;
    if (opts.labelSelector && !opts.labelSelector.matches(object.metadata.labels)) return false;
    if (opts.fieldSelector && !opts.fieldSelector(object.metadata)) return false;
    return true;
  }

  /** Stores a new object, filling in uid, timestamps and versions; throws `AlreadyExists`. */
  create<T extends KubeObject>(resource: ResourceType, input: T): T {
    const obj = clone(input);
    const ns = resource.namespaced ? obj.metadata.namespace : undefined;
    const k = key(resource, ns, obj.metadata.name);
    if (this.objects.has(k)) {
      throw new StoreError(
        'AlreadyExists',
        resource,
        obj.metadata.name,
        `${qualifiedName(resource)} "${obj.metadata.name}" already exists`,
      );
    }
    obj.apiVersion = apiVersionOf(resource);
    obj.kind = resource.kind;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = this.timestamp();
    if (resource.tracksGeneration) obj.metadata.generation = 1;
    obj.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, { resource, object: obj });
    this.emit({ rv: this.rv, type: 'ADDED', resource, object: clone(obj) });
    return clone(obj);
  }

  /**
   * Replaces an object. When `input.metadata.resourceVersion` is set it must equal the stored one (optimistic
   * concurrency, 409 `Conflict` otherwise). Identity fields (uid, creationTimestamp, generation) are kept by the
   * store. A write that changes nothing keeps the resource version.
   */
  replace<T extends KubeObject>(resource: ResourceType, input: T): T {
    const ns = resource.namespaced ? input.metadata.namespace : undefined;
    const entry = this.objects.get(key(resource, ns, input.metadata.name));
    if (!entry) throw this.notFound(resource, input.metadata.name);
    const expected = input.metadata.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== entry.object.metadata.resourceVersion) {
      throw new StoreError(
        'Conflict',
        resource,
        input.metadata.name,
        `Operation cannot be fulfilled on ${qualifiedName(resource)} "${input.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    return this.write(resource, entry.object, clone(input)) as T;
  }

  /** Applies `fn` to a copy of the object and stores the result; undefined when the object does not exist. */
  mutate<T extends KubeObject>(
    resource: ResourceType,
    namespace: string | undefined,
    name: string,
    fn: (obj: T) => void,
  ): T | undefined {
    const entry = this.objects.get(key(resource, resource.namespaced ? namespace : undefined, name));
    if (!entry) return undefined;
    const next = clone(entry.object) as T;
    fn(next);
    return this.write(resource, entry.object, next) as T;
  }

  /** Removes an object; returns what was removed, or undefined. */
  delete(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const k = key(resource, resource.namespaced ? namespace : undefined, name);
    const entry = this.objects.get(k);
    if (!entry) return undefined;
    this.objects.delete(k);
    const gone = clone(entry.object);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, type: 'DELETED', resource, object: gone, previous: clone(entry.object) });
    return gone;
  }

  /**
   * Starts a watch after `sinceResourceVersion`: the events since then (to replay) or `expired` when the history
   * no longer reaches back that far. The caller must subscribe in the same tick to miss nothing.
   */
  eventsSince(sinceResourceVersion: number): WatchStart {
    if (sinceResourceVersion < this.compactedThrough) return { kind: 'expired', oldest: this.compactedThrough + 1 };
    return { kind: 'replay', events: this.history.filter((e) => e.rv > sinceResourceVersion) };
  }

  /** Calls `listener` synchronously for every change from now on. Returns the unsubscribe function. */
  subscribe(listener: (ev: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** RFC 3339 time with second precision, as the API server writes. */
  timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  notFound(resource: ResourceType, name: string): StoreError {
    return new StoreError('NotFound', resource, name, `${qualifiedName(resource)} "${name}" not found`);
  }

  private write(resource: ResourceType, current: KubeObject, next: KubeObject): KubeObject {
    const meta = current.metadata;
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    next.metadata = {
      ...next.metadata,
      name: meta.name,
      uid: meta.uid!,
      creationTimestamp: meta.creationTimestamp!,
      resourceVersion: meta.resourceVersion!,
    };
    if (meta.namespace !== undefined) next.metadata.namespace = meta.namespace;
    if (resource.tracksGeneration) next.metadata.generation = meta.generation ?? 1;
    else delete next.metadata.generation;
    if (jsonEqual(next, current)) return clone(current);
    if (resource.tracksGeneration && !jsonEqual(specPart(next), specPart(current)))
      next.metadata.generation = (meta.generation ?? 1) + 1;
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key(resource, meta.namespace, meta.name), { resource, object: next });
    this.emit({ rv: this.rv, type: 'MODIFIED', resource, object: clone(next), previous: clone(current) });
    return clone(next);
  }

  private emit(ev: StoreEvent): void {
    this.history.push(ev);
    while (this.history.length > this.historyLimit) this.compactedThrough = this.history.shift()!.rv;
    for (const listener of [...this.listeners]) listener(ev);
  }
}

/** Everything but metadata and status: what moves `generation`. */
function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}
