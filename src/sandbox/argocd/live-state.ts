/**
 * Comparing desired manifests with live objects and applying them, the part of Argo CD's sync that touches the
 * cluster. `ignoreDifferences` JSON pointers (the real Applications ignore a Deployment's `/spec/replicas`) are
 * left out of the comparison and keep their live value on apply.
 */
import { clone, isPlainObject, jsonEqual, type KubeObject } from '../kubernetes/objects.js';
import { resourceForKind, type ResourceType } from '../kubernetes/resources.js';
import type { ObjectStore } from '../kubernetes/store.js';
import type { Application } from './application.js';

/** One desired object with where it goes. */
export interface DesiredObject {
  resource: ResourceType | undefined;
  object: KubeObject;
  namespace: string;
}

export function group(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export function version(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[1]! : apiVersion;
}

/** The JSON pointers `app.spec.ignoreDifferences` ignores for `obj`. */
export function ignoredPointers(app: Application, obj: KubeObject): string[] {
  return (app.spec.ignoreDifferences ?? [])
    .filter(
      (d) =>
        d.kind === obj.kind &&
        (d.group ?? '') === group(obj.apiVersion) &&
        (d.name === undefined || d.name === obj.metadata.name),
    )
    .flatMap((d) => d.jsonPointers ?? []);
}

function tokens(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function readPointer(obj: unknown, pointer: string): unknown {
  let node = obj;
  for (const t of tokens(pointer)) node = isPlainObject(node) ? node[t] : undefined;
  return node;
}

function writePointer(obj: unknown, pointer: string, value: unknown): void {
  const path = tokens(pointer);
  let node = obj;
  for (const t of path.slice(0, -1)) {
    if (!isPlainObject(node)) return;
    node = node[t];
  }
  if (!isPlainObject(node)) return;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** The fields Argo CD manages on an object: labels, annotations it sets, and everything outside metadata/status. */
function managedView(obj: KubeObject, desired: KubeObject, ignore: string[]): unknown {
  const { metadata, status: _status, apiVersion: _a, kind: _k, ...rest } = clone(obj);
  const view: Record<string, unknown> = { ...rest };
  const annotations = Object.keys(desired.metadata.annotations ?? {});
  view['labels'] = metadata.labels ?? {};
  view['annotations'] = Object.fromEntries(annotations.map((k) => [k, metadata.annotations?.[k]]));
  for (const p of ignore) writePointer(view, p, undefined);
  return view;
}

/** Whether the live object matches the desired one (ignoring `ignore` pointers). */
export function isInSync(desired: KubeObject, live: KubeObject | undefined, ignore: string[]): boolean {
  if (!live) return false;
  return jsonEqual(managedView(desired, desired, ignore), managedView(live, desired, ignore));
}

/** Where each desired object goes; objects without a namespace land in the destination namespace. */
export function placeDesired(app: Application, objects: KubeObject[]): DesiredObject[] {
  return objects.map((object) => {
    const resource = resourceForKind(object.apiVersion, object.kind);
    const namespace = object.metadata.namespace ?? app.spec.destination.namespace;
    return { resource, object, namespace };
  });
}

/** The live object for a desired one, or undefined. */
export function liveOf(store: ObjectStore, d: DesiredObject): KubeObject | undefined {
  return d.resource ? store.get(d.resource, d.namespace, d.object.metadata.name) : undefined;
}

/**
 * Creates or updates the live object from the desired one (the `kubectl apply` of a sync); returns the message
 * Argo CD records for the resource (`deployment.apps/example-app configured`).
 */
export function applyDesired(store: ObjectStore, d: DesiredObject, ignore: string[]): string {
  const label = `${d.object.kind.toLowerCase()}${group(d.object.apiVersion) ? `.${group(d.object.apiVersion)}` : ''}/${d.object.metadata.name}`;
  if (!d.resource) return `${label} unchanged`;
  const live = liveOf(store, d);
  const { status: _status, ...desired } = clone(d.object);
  desired.metadata = { ...desired.metadata, namespace: d.namespace };
  if (!live) {
    store.create(d.resource, desired as KubeObject);
    return `${label} created`;
  }
  if (isInSync(d.object, live, ignore)) return `${label} unchanged`;
  const next: KubeObject = {
    ...desired,
    metadata: {
      ...live.metadata,
      labels: desired.metadata.labels ?? {},
      annotations: { ...live.metadata.annotations, ...desired.metadata.annotations },
    },
  };
  if (live['status'] !== undefined) next['status'] = live['status'];
  for (const p of ignore) {
    const kept = readPointer(live, p);
    if (kept !== undefined) writePointer(next, p, kept);
  }
  delete next.metadata.resourceVersion;
  store.replace(d.resource, next);
  return `${label} configured`;
}
