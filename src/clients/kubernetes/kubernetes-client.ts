/**
 * Shepherd's client for the cluster and the Argo CD Applications in it, over @kubernetes/client-node 1.4.
 *
 * Reads go through the library's typed APIs and are parsed (`objects.ts`); every failure becomes a typed error
 * (`errors.ts`). Retries are Temporal's business: a call fails once and says whether it is worth retrying.
 */
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  VersionApi,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import type { CompanyCa } from '../../config/company-ca.js';
import { KubernetesApiError, kubernetesError, type KubernetesTarget } from './errors.js';
import {
  REFRESH_ANNOTATION,
  parseApplication,
  parseDeployment,
  parsePod,
  parseReplicaSet,
  type ApplicationView,
  type DeploymentView,
  type PodView,
  type ReplicaSetView,
} from './objects.js';
import { followCollection, type CachedCollection, type FollowOptions } from './watch.js';

const ARGO = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' } as const;

export interface KubernetesClientOptions {
  /** A kubeconfig file. Without it, the library's default loading: `$KUBECONFIG`, `~/.kube/config`, in-cluster. */
  readonly kubeconfigPath?: string | undefined;
  /** A context of the kubeconfig other than its current one. */
  readonly context?: string | undefined;
  /** The setting authentication errors name (never the credential): `KUBECONFIG` unless told otherwise. */
  readonly credentialVariable?: string | undefined;
  /** A company CA (SHEPHERD_CA_FILE) to trust besides the cluster's own CA (or the default roots without one). */
  readonly companyCa?: CompanyCa | undefined;
}

/** A sync to request by writing an Application's `operation` (part C). */
export interface ApplicationSyncRequest {
  /** Single-source apps: the revision (a branch or a SHA) to sync. */
  readonly revision?: string;
  /** Multi-source apps: one revision per `spec.sources` entry, in order. */
  readonly revisions?: readonly string[];
  /** `initiatedBy.username`, as Argo CD's UI and history show it. */
  readonly username: string;
  /** Why, in `operation.info` (`reason`). */
  readonly reason: string;
  /** The Application's version the request was decided on. */
  readonly resourceVersion: string;
}

/** What the activities need from the cluster. A hand-written fake can implement it too. */
export interface KubernetesClient {
  /** `GET apps/v1 Deployment`; NotFoundError naming `namespace/name` when it does not exist. */
  readDeployment(namespace: string, name: string): Promise<DeploymentView>;
  /** Pods of `namespace` matching a label selector (`app=example-app`). */
  listPods(namespace: string, labelSelector: string): Promise<PodView[]>;
  /** `list apps/v1 ReplicaSets` of `namespace` matching a label selector (a Deployment's `spec.selector`). */
  listReplicaSets(namespace: string, labelSelector: string): Promise<ReplicaSetView[]>;
  /** The Argo CD Application; NotFoundError naming `namespace/name` when it does not exist. */
  getApplication(namespace: string, name: string): Promise<ApplicationView>;
  /**
   * Asks Argo CD to reconcile now: merge-patches the annotation `argocd.argoproj.io/refresh` (the controller
   * removes it when done). Repeating it while one is pending changes nothing.
   */
  requestApplicationRefresh(namespace: string, name: string, mode?: 'normal' | 'hard'): Promise<void>;
  /**
   * Part C. Starts a sync as `argocd app sync` does, by merge-patching the Application's `operation`
   * (real-installations.md §8.2): `sync.revision` for a single-source app, `sync.revisions` (one per source, in
   * order) for a multi-source one, `initiatedBy.username`. The patch carries `resourceVersion`, the version the
   * caller decided on: false (nothing written) when the Application changed since (409 Conflict), so that an
   * operation someone else wrote meanwhile is never overwritten.
   */
  requestApplicationSync(namespace: string, name: string, request: ApplicationSyncRequest): Promise<boolean>;
  /**
   * The Application kept up to date by a watch (one list, then the events; re-listed after 410 Expired, resumed
   * after the stream ends or fails), calling `onChange` after each change. Never throws: while it is not synced
   * the caller reads with `getApplication`.
   */
  followApplication(
    namespace: string,
    name: string,
    onChange: () => void,
    opts?: FollowOptions,
  ): CachedCollection<ApplicationView>;
  /** Like `followApplication`, for the Deployment `namespace/name`. */
  followDeployment(
    namespace: string,
    name: string,
    onChange: () => void,
    opts?: FollowOptions,
  ): CachedCollection<DeploymentView>;
  /** Like `followApplication`, for the pods matching `labelSelector`. */
  followPods(
    namespace: string,
    labelSelector: string,
    onChange: () => void,
    opts?: FollowOptions,
  ): CachedCollection<PodView>;
  /** Like `followApplication`, for the ReplicaSets matching `labelSelector`. */
  followReplicaSets(
    namespace: string,
    labelSelector: string,
    onChange: () => void,
    opts?: FollowOptions,
  ): CachedCollection<ReplicaSetView>;
}

/** The attributes of a resource request an authorizer decides on; `namespace` undefined: cluster-wide. */
export interface ResourceAccess {
  readonly verb: string;
  /** API group; `''` for the core group. */
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string | undefined;
}

/** What `shepherd doctor` asks of the cluster beyond what the activities need. */
export interface KubernetesInstallationChecks {
  /** The API server's version (`GET /version`): proves it answers and the credentials are accepted. */
  serverVersion(): Promise<string>;
  /** Whether the namespace exists (`GET /api/v1/namespaces/{name}`); false on 404. */
  namespaceExists(name: string): Promise<boolean>;
  /** Whether the configured credentials may do `access` (a SelfSubjectAccessReview). */
  canI(access: ResourceAccess): Promise<boolean>;
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Loads the kubeconfig (file or default rules, then the context) and builds the client. */
export function createKubernetesClient(
  opts: KubernetesClientOptions = {},
): KubernetesClient & KubernetesInstallationChecks {
  const kc = new KubeConfig();
  if (opts.kubeconfigPath !== undefined) kc.loadFromFile(opts.kubeconfigPath);
  else kc.loadFromDefault();
  if (opts.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new Error(
        `kubeconfig has no context ${JSON.stringify(opts.context)} (contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  if (opts.companyCa) trustCompanyCa(kc, opts.companyCa);
  return new LibraryKubernetesClient(kc, opts.credentialVariable ?? 'KUBECONFIG');
}

/**
 * Adds the company CA to what the current cluster trusts. The library hands the cluster's CA to https as `ca`, which
 * replaces the default roots: so the cluster's own CA (certificate-authority[-data]) when the kubeconfig has one, as
 * kubectl trusts only that one, else the default roots, and in both cases the company CA after it.
 */
function trustCompanyCa(kc: KubeConfig, ca: CompanyCa): void {
  const current = kc.getCurrentCluster();
  if (!current || current.skipTLSVerify || !current.server.startsWith('https:')) return;
  const own = current.caFile
    ? readFileSync(current.caFile, 'utf8')
    : current.caData
      ? Buffer.from(current.caData, 'base64').toString('utf8')
      : undefined;
  const trusted = own !== undefined ? [own, ...ca.certificates] : [...ca.trusted];
  const { caFile: _file, ...rest } = current;
  void _file;
  const cluster = { ...rest, caData: Buffer.from(trusted.join('\n'), 'utf8').toString('base64') };
  kc.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === current.name ? cluster : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
}

class LibraryKubernetesClient implements KubernetesClient, KubernetesInstallationChecks {
  private readonly apps: AppsV1Api;
  private readonly authorization: AuthorizationV1Api;
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly watcher: Watch;

  constructor(
    kc: KubeConfig,
    private readonly credentialVariable: string,
  ) {
    this.kc = kc;
    this.apps = kc.makeApiClient(AppsV1Api);
    this.authorization = kc.makeApiClient(AuthorizationV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(kc);
  }

  private async call<T>(what: string, fn: () => Promise<T>, target?: KubernetesTarget): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw kubernetesError(err, what, this.credentialVariable, target);
    }
  }

  async serverVersion(): Promise<string> {
    const info = await this.call('read the server version', () => this.kc.makeApiClient(VersionApi).getCode());
    return info.gitVersion;
  }

  async namespaceExists(name: string): Promise<boolean> {
    try {
      await this.call(`read namespace ${name}`, () => this.core.readNamespace({ name }));
      return true;
    } catch (err) {
      if (err instanceof KubernetesApiError && err.status === 404) return false;
      throw err;
    }
  }

  async canI(access: ResourceAccess): Promise<boolean> {
    const review = await this.call(`review access to ${access.verb} ${access.resource}`, () =>
      this.authorization.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: access.verb,
              group: access.group,
              resource: access.resource,
              ...(access.namespace !== undefined ? { namespace: access.namespace } : {}),
            },
          },
        },
      }),
    );
    return review.status?.allowed === true;
  }

  async readDeployment(namespace: string, name: string): Promise<DeploymentView> {
    const raw = await this.call(
      `read deployment ${namespace}/${name}`,
      () => this.apps.readNamespacedDeployment({ namespace, name }),
      { kind: 'deployment', namespace, name },
    );
    return parseDeployment(raw);
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodView[]> {
    const list = await this.call(`list pods ${labelSelector} in ${namespace}`, () =>
      this.core.listNamespacedPod({ namespace, labelSelector }),
    );
    return list.items.map(parsePod);
  }

  async listReplicaSets(namespace: string, labelSelector: string): Promise<ReplicaSetView[]> {
    const list = await this.call(`list replicasets ${labelSelector} in ${namespace}`, () =>
      this.apps.listNamespacedReplicaSet({ namespace, labelSelector }),
    );
    return list.items.map(parseReplicaSet);
  }

  async getApplication(namespace: string, name: string): Promise<ApplicationView> {
    const raw = await this.call(
      `read application ${namespace}/${name}`,
      () => this.custom.getNamespacedCustomObject({ ...ARGO, namespace, name }),
      { kind: 'application', namespace, name },
    );
    return parseApplication(raw);
  }

  async requestApplicationRefresh(namespace: string, name: string, mode: 'normal' | 'hard' = 'normal'): Promise<void> {
    const body = { metadata: { annotations: { [REFRESH_ANNOTATION]: mode } } };
    await this.call(
      `annotate application ${namespace}/${name} for a refresh`,
      () => this.custom.patchNamespacedCustomObject({ ...ARGO, namespace, name, body }, MERGE_PATCH),
      {
        kind: 'application',
        namespace,
        name,
      },
    );
  }

  async requestApplicationSync(namespace: string, name: string, request: ApplicationSyncRequest): Promise<boolean> {
    const sync = request.revisions ? { revisions: [...request.revisions] } : { revision: request.revision };
    const body = {
      metadata: { resourceVersion: request.resourceVersion },
      operation: {
        sync,
        initiatedBy: { username: request.username },
        info: [{ name: 'reason', value: request.reason }],
      },
    };
    try {
      await this.call(
        `write a sync operation on application ${namespace}/${name}`,
        () => this.custom.patchNamespacedCustomObject({ ...ARGO, namespace, name, body }, MERGE_PATCH),
        { kind: 'application', namespace, name },
      );
      return true;
    } catch (err) {
      if (err instanceof KubernetesApiError && err.status === 409) return false;
      throw err;
    }
  }

  followApplication(
    namespace: string,
    name: string,
    onChange: () => void,
    opts: FollowOptions = {},
  ): CachedCollection<ApplicationView> {
    const fieldSelector = `metadata.name=${name}`;
    return followCollection(
      this.watcher,
      {
        path: `/apis/${ARGO.group}/${ARGO.version}/namespaces/${namespace}/${ARGO.plural}`,
        query: { fieldSelector },
        list: async () => {
          const list = (await this.custom.listNamespacedCustomObject({ ...ARGO, namespace, fieldSelector })) as {
            metadata?: { resourceVersion?: string };
            items?: unknown[];
          };
          return { resourceVersion: list.metadata?.resourceVersion, items: list.items ?? [] };
        },
        parse: parseApplication,
      },
      onChange,
      opts,
    );
  }

  followDeployment(
    namespace: string,
    name: string,
    onChange: () => void,
    opts: FollowOptions = {},
  ): CachedCollection<DeploymentView> {
    const fieldSelector = `metadata.name=${name}`;
    return followCollection(
      this.watcher,
      {
        path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
        query: { fieldSelector },
        list: async () => {
          const list = await this.apps.listNamespacedDeployment({ namespace, fieldSelector });
          return { resourceVersion: list.metadata?.resourceVersion, items: list.items };
        },
        parse: parseDeployment,
      },
      onChange,
      opts,
    );
  }

  followPods(
    namespace: string,
    labelSelector: string,
    onChange: () => void,
    opts: FollowOptions = {},
  ): CachedCollection<PodView> {
    return followCollection(
      this.watcher,
      {
        path: `/api/v1/namespaces/${namespace}/pods`,
        query: { labelSelector },
        list: async () => {
          const list = await this.core.listNamespacedPod({ namespace, labelSelector });
          return { resourceVersion: list.metadata?.resourceVersion, items: list.items };
        },
        parse: parsePod,
      },
      onChange,
      opts,
    );
  }

  followReplicaSets(
    namespace: string,
    labelSelector: string,
    onChange: () => void,
    opts: FollowOptions = {},
  ): CachedCollection<ReplicaSetView> {
    return followCollection(
      this.watcher,
      {
        path: `/apis/apps/v1/namespaces/${namespace}/replicasets`,
        query: { labelSelector },
        list: async () => {
          const list = await this.apps.listNamespacedReplicaSet({ namespace, labelSelector });
          return { resourceVersion: list.metadata?.resourceVersion, items: list.items };
        },
        parse: parseReplicaSet,
      },
      onChange,
      opts,
    );
  }
}
