/**
 * The Argo CD `Application` custom resource as the simulation stores it, and the builder for the per-environment
 * Applications of the real installation (real-system.md §1.5).
 */
import type { KubeObject } from '../kubernetes/objects.js';
import type { HealthStatus } from './health.js';

export interface ApplicationSource {
  repoURL: string;
  targetRevision: string;
  /** Absent on a `ref`-only source (real-installations.md §8.1), which renders nothing. */
  path?: string;
  /** Names the source for `$ref/...` in another source's value files (`ref: values`). */
  ref?: string;
  [key: string]: unknown;
}

export interface SyncOperation {
  revision?: string;
  /** One per `spec.sources[]` entry, in order, for multi-source apps (`revision` is for single-source ones). */
  revisions?: string[];
  prune?: boolean;
  dryRun?: boolean;
  syncOptions?: string[];
  [key: string]: unknown;
}

export interface Operation {
  sync?: SyncOperation;
  initiatedBy?: { username?: string; automated?: boolean };
  retry?: RetryStrategy;
  info?: { name: string; value: string }[];
  [key: string]: unknown;
}

export interface RetryStrategy {
  limit?: number;
  backoff?: { duration?: string; factor?: number; maxDuration?: string };
}

export interface ResourceResult {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: 'Synced' | 'SyncFailed' | 'Pruned' | 'PruneSkipped';
  message: string;
  hookPhase: string;
  syncPhase: string;
  images?: string[];
}

export interface OperationState {
  operation: Operation;
  phase: 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Terminating';
  message: string;
  startedAt: string;
  finishedAt?: string;
  retryCount?: number;
  /** `revision`/`source` for a single-source app, `revisions`/`sources` for a multi-source one. */
  syncResult?: {
    revision?: string;
    source?: ApplicationSource;
    revisions?: string[];
    sources?: ApplicationSource[];
    resources: ResourceResult[];
  };
}

export interface HistoryEntry {
  id: number;
  revision?: string;
  revisions?: string[];
  deployedAt: string;
  deployStartedAt: string;
  source?: ApplicationSource;
  sources?: ApplicationSource[];
  initiatedBy: { username?: string; automated?: boolean };
}

export interface ApplicationStatus {
  sync?: {
    status: 'Synced' | 'OutOfSync' | 'Unknown';
    /** Single-source apps only; a multi-source app has `revisions` instead (§8.1). */
    revision?: string;
    revisions?: string[];
    comparedTo: { source?: ApplicationSource; sources?: ApplicationSource[]; destination: Record<string, unknown> };
  };
  health?: { status: HealthStatus; message?: string; lastTransitionTime?: string };
  operationState?: OperationState;
  history?: HistoryEntry[];
  reconciledAt?: string;
  observedAt?: string;
  sourceType?: string;
  summary?: { images?: string[]; externalURLs?: string[] };
  conditions?: { type: string; message: string; lastTransitionTime: string }[];
  resources?: Record<string, unknown>[];
  [key: string]: unknown;
}

export interface Application extends KubeObject {
  spec: {
    project: string;
    /** The single source; ignored when `sources` is present. */
    source?: ApplicationSource;
    sources?: ApplicationSource[];
    destination: { server?: string; name?: string; namespace: string };
    syncPolicy?: {
      automated?: { prune?: boolean; selfHeal?: boolean; allowEmpty?: boolean };
      syncOptions?: string[];
      retry?: RetryStrategy;
    };
    ignoreDifferences?: { group?: string; kind: string; name?: string; namespace?: string; jsonPointers?: string[] }[];
    revisionHistoryLimit?: number;
    [key: string]: unknown;
  };
  operation?: Operation;
  status?: ApplicationStatus;
}

export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

/** What one environment's Application looks like. */
export interface ApplicationSpecInput {
  name: string;
  namespace: string;
  app: string;
  env: string;
  repoURL: string;
  branch: string;
  path: string;
  destinationNamespace: string;
  /** No automated sync: it syncs only when someone writes `operation` (installation trait `manualSync`). */
  manualSync?: boolean;
  /**
   * Multi-source (installation trait `multiSource`): a `ref: values` source from this repo first, then the
   * manifests source (so that the deployments repo is not at index 0, as in teams that list the values first).
   */
  valuesSource?: { repoURL: string; targetRevision: string };
}

/**
 * The Application of the real installation for one environment: automated sync with prune and self-heal, unless
 * `manualSync`; a single `source`, or `sources` with `valuesSource`.
 */
export function buildApplication(input: ApplicationSpecInput): Application {
  const manifests: ApplicationSource = { repoURL: input.repoURL, targetRevision: input.branch, path: input.path };
  const sources = input.valuesSource
    ? { sources: [{ ...input.valuesSource, ref: 'values' }, manifests] }
    : { source: manifests };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { app: input.app, environment: input.env },
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    },
    spec: {
      project: 'default',
      ...sources,
      destination: { server: 'https://kubernetes.default.svc', namespace: input.destinationNamespace },
      syncPolicy: {
        ...(input.manualSync ? {} : { automated: { prune: true, selfHeal: true, allowEmpty: false } }),
        syncOptions: ['CreateNamespace=true', 'PruneLast=true'],
        retry: { limit: 5, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
      },
      ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }],
    },
  };
}

/**
 * Parses Argo CD's Go-style durations (`5s`, `3m`, `1h30m`) to milliseconds; undefined on bad input. Not
 * src/domain/duration.ts: that is Shepherd's own input syntax, this is what Argo CD accepts in `retry.backoff`.
 */
export function parseGoDuration(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let matched = '';
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    matched += m[0];
  }
  return matched === s ? total : undefined;
}

/** The sources of an app in `spec.sources` order: `spec.sources` when present, else `[spec.source]` (§8.1). */
export function sourcesOf(app: Application): ApplicationSource[] {
  return app.spec.sources ?? (app.spec.source ? [app.spec.source] : []);
}

/** Whether the app is multi-source: its status then carries `revisions`/`sources`, never `revision`/`source`. */
export function isMultiSource(app: Application): boolean {
  return app.spec.sources !== undefined;
}
