/**
 * The resource types the simulated API server knows, with the facts discovery and error messages need.
 */

/** One served resource type (a row of an APIResourceList). */
export interface ResourceType {
  /** API group; `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly verbs: readonly string[];
  /** Whether `metadata.generation` is kept (bumped on every change outside metadata and status). */
  readonly tracksGeneration: boolean;
  readonly categories?: readonly string[];
}

const READ = ['get', 'list', 'watch'] as const;
const WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export const RESOURCES = {
  namespaces: {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: READ,
    tracksGeneration: false,
  },
  pods: {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    verbs: READ,
    tracksGeneration: false,
    categories: ['all'],
  },
  services: {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    verbs: READ,
    tracksGeneration: false,
    categories: ['all'],
  },
  configmaps: {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: READ,
    tracksGeneration: false,
  },
  events: {
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: READ,
    tracksGeneration: false,
  },
  deployments: {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    verbs: WRITE,
    tracksGeneration: true,
    categories: ['all'],
  },
  replicasets: {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    singular: 'replicaset',
    namespaced: true,
    shortNames: ['rs'],
    verbs: READ,
    tracksGeneration: true,
    categories: ['all'],
  },
  applications: {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'Application',
    plural: 'applications',
    singular: 'application',
    namespaced: true,
    shortNames: ['app', 'apps'],
    verbs: WRITE,
    tracksGeneration: true,
    categories: ['argo'],
  },
} as const satisfies Record<string, ResourceType>;

export type ResourceName = keyof typeof RESOURCES;

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOf(r: ResourceType): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** `deployments.apps`, or `pods` for the core group: the resource name used in Status messages. */
export function qualifiedName(r: ResourceType): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

/** Finds the resource served at `group`/`version` under `plural`. */
export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return Object.values(RESOURCES).find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** Finds a resource type by its kind and apiVersion (for applying manifests). */
export function resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return Object.values(RESOURCES).find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}
