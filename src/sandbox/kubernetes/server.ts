/**
 * The simulated Kubernetes API server: discovery, list/get/watch of the served resources, merge and JSON patch
 * and replace of Applications and Deployments, with Status objects for every error. Bearer-token auth, no
 * anonymous requests.
 */
import type { FaultEngine } from '../core/faults.js';
import type { RequestCounter } from '../core/measure.js';
import {
  BadRequest,
  Router,
  json,
  startSandboxServer,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
  type ServerTls,
} from '../core/http.js';
import { notFound, objectDetails, statusResponse } from './api-status.js';
import { apiGroup, apiGroupList, apiResourceList, coreVersions, versionInfo } from './discovery.js';
import { SelectorParseError, parseFieldSelector, parseLabelSelector } from './label-selector.js';
import { isPlainObject, type KubeObject } from './objects.js';
import { PatchError, applyJsonPatch, applyMergePatch } from './patch.js';
import { PermissionModel, SANDBOX_SERVICE_ACCOUNT, type AccessAttributes } from './permissions.js';
import { apiVersionOf, findResource, type ResourceType } from './resources.js';
import { StoreError, type ListOptions, type ObjectStore } from './store.js';
import { watchResponse } from './watch.js';

export interface KubernetesServerOptions {
  store: ObjectStore;
  faults: FaultEngine;
  /** The bearer token clients must send. */
  token: string;
  port?: number;
  /** Interval of watch bookmarks when clients allow them; default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** What the token may do; default: everything. Denied requests get 403 Forbidden. */
  permissions?: PermissionModel;
  /** Counts the requests received per endpoint (watches as `WATCH …`). */
  requests?: RequestCounter;
  /** Serve HTTPS with this certificate; the kubeconfig then carries the CA as `certificate-authority-data`. */
  tls?: ServerTls;
}

/**
 * The endpoint of a request for the counts: the route with the group, version and resource spelled out and the
 * namespace and name as `:ns` and `:name`, e.g. `GET /apis/argoproj.io/v1alpha1/namespaces/:ns/applications/:name`;
 * a watch is `WATCH …` on the collection.
 */
export function kubernetesEndpoint(
  req: SandboxRequest,
  route: { pattern: string; params: Record<string, string> } | undefined,
): string {
  if (!route) return `${req.method} ${req.rawPath}`;
  const watch = req.method === 'GET' && ['true', '1'].includes(req.query.get('watch') ?? '');
  const path = route.pattern
    .split('/')
    .map((part) => {
      if (part === ':namespace') return ':ns';
      if (part === ':name') return ':name';
      return part.startsWith(':') ? (route.params[part.slice(1)] ?? part) : part;
    })
    .join('/');
  return `${watch ? 'WATCH' : req.method} ${path}`;
}

const MERGE_PATCH = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const STRATEGIC_PATCH = 'application/strategic-merge-patch+json';

/** Where a resource request points. */
interface Target {
  resource: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
}

function mediaType(req: SandboxRequest): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

function storeError(err: StoreError): SandboxResponse {
  return statusResponse(err.reason, err.message, objectDetails(err.resource, err.objectName));
}

function listOptions(req: SandboxRequest, namespace: string | undefined): ListOptions {
  return {
    namespace,
    labelSelector: parseLabelSelector(req.query.get('labelSelector')),
    fieldSelector: parseFieldSelector(req.query.get('fieldSelector')),
  };
}

export class KubernetesApi {
  constructor(
    private readonly store: ObjectStore,
    private readonly bookmarkIntervalMs: number,
  ) {}

  /** Resolves the group/version/plural of a request; a 404 Status when the server does not serve it. */
  private target(req: SandboxRequest, group: string): Target | SandboxResponse {
    const { version, plural, namespace, name } = req.params;
    const resource = findResource(group, version ?? '', plural ?? '');
    if (!resource) return statusResponse('NotFound', 'the server could not find the requested resource', {});
    if (namespace !== undefined && !resource.namespaced)
      return statusResponse('NotFound', 'the server could not find the requested resource', {});
    if (namespace === undefined && name !== undefined && resource.namespaced)
      return statusResponse('NotFound', 'the server could not find the requested resource', {});
    return { resource, namespace, name };
  }

  /** GET on a collection or an object, and watch. */
  read(req: SandboxRequest, group: string): SandboxResponse {
    const t = this.target(req, group);
    if (!('resource' in t)) return t;
    try {
      if (t.name !== undefined) {
        const obj = this.store.get(t.resource, t.namespace, t.name);
        return obj ? json(200, obj) : notFound(t.resource, t.name);
      }
      const opts = listOptions(req, t.namespace);
      const watch = req.query.get('watch');
      if (watch === 'true' || watch === '1') {
        const timeout = req.query.get('timeoutSeconds');
        return watchResponse(this.store, t.resource, {
          ...opts,
          resourceVersion: req.query.get('resourceVersion') ?? undefined,
          allowWatchBookmarks:
            req.query.get('allowWatchBookmarks') === 'true' || req.query.get('allowWatchBookmarks') === '1',
          timeoutSeconds: timeout === null ? undefined : Number(timeout),
          sendInitialEvents: req.query.get('sendInitialEvents') === 'true',
          bookmarkIntervalMs: this.bookmarkIntervalMs,
        });
      }
      const { items, resourceVersion } = this.store.list(t.resource, opts);
      return json(200, {
        kind: `${t.resource.kind}List`,
        apiVersion: apiVersionOf(t.resource),
        metadata: { resourceVersion },
        items,
      });
    } catch (err) {
      if (err instanceof SelectorParseError) return statusResponse('BadRequest', err.message);
      throw err;
    }
  }

  /** PATCH of one object with a merge patch or a JSON patch. */
  patch(req: SandboxRequest, group: string): SandboxResponse {
    const t = this.target(req, group);
    if (!('resource' in t)) return t;
    if (t.name === undefined || !t.resource.verbs.includes('patch')) return this.methodNotAllowed();
    const type = mediaType(req);
    const custom = t.resource.group === 'argoproj.io';
    if (type !== MERGE_PATCH && type !== JSON_PATCH && (type !== STRATEGIC_PATCH || custom)) {
      return statusResponse(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}${custom ? '' : `, ${STRATEGIC_PATCH}`}`,
      );
    }
    const current = this.store.get(t.resource, t.namespace, t.name);
    if (!current) return notFound(t.resource, t.name);
    let patch: unknown;
    try {
      patch = req.json();
    } catch (err) {
      if (err instanceof BadRequest) return statusResponse('BadRequest', `error decoding patch: ${err.message}`);
      throw err;
    }
    let patched: unknown;
    try {
      patched = type === JSON_PATCH ? applyJsonPatch(current, patch) : applyMergePatch(current, patch ?? {});
    } catch (err) {
      if (!(err instanceof PatchError)) throw err;
      if (err.malformed) return statusResponse('BadRequest', err.message);
      return this.invalid(t.resource, t.name, err.message);
    }
    return this.replaceWith(t, patched);
  }

  /** PUT of one object: a full replacement guarded by `metadata.resourceVersion`. */
  replace(req: SandboxRequest, group: string): SandboxResponse {
    const t = this.target(req, group);
    if (!('resource' in t)) return t;
    if (t.name === undefined || !t.resource.verbs.includes('update')) return this.methodNotAllowed();
    let body: unknown;
    try {
      body = req.json();
    } catch (err) {
      if (err instanceof BadRequest) return statusResponse('BadRequest', err.message);
      throw err;
    }
    if (!isPlainObject(body) || !isPlainObject(body.metadata))
      return statusResponse('BadRequest', "Object 'Kind' is missing in request body");
    if (body.metadata.name !== t.name) {
      return statusResponse(
        'BadRequest',
        `the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${t.name})`,
      );
    }
    if (typeof body.metadata.resourceVersion !== 'string' || body.metadata.resourceVersion === '') {
      return this.invalid(
        t.resource,
        t.name,
        'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
        'metadata.resourceVersion',
      );
    }
    if (!this.store.get(t.resource, t.namespace, t.name)) return notFound(t.resource, t.name);
    return this.replaceWith(t, body);
  }

  private replaceWith(t: Target, next: unknown): SandboxResponse {
    const name = t.name!;
    if (!isPlainObject(next) || !isPlainObject(next.metadata))
      return this.invalid(t.resource, name, 'metadata: Required value: the object must keep its metadata', 'metadata');
    if (next.metadata.name !== name)
      return this.invalid(
        t.resource,
        name,
        `metadata.name: Invalid value: "${String(next.metadata.name)}": field is immutable`,
        'metadata.name',
      );
    if (t.resource.namespaced && next.metadata.namespace !== undefined && next.metadata.namespace !== t.namespace) {
      return statusResponse(
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const obj = {
      ...next,
      metadata: { ...next.metadata, name, ...(t.namespace !== undefined ? { namespace: t.namespace } : {}) },
    } as KubeObject;
    try {
      return json(200, this.store.replace(t.resource, obj));
    } catch (err) {
      if (err instanceof StoreError) return storeError(err);
      throw err;
    }
  }

  private invalid(resource: ResourceType, name: string, message: string, field?: string): SandboxResponse {
    return statusResponse('Invalid', `${resource.kind}.${resource.group || 'core'} "${name}" is invalid: ${message}`, {
      ...objectDetails(resource, name),
      kind: resource.kind,
      causes: [{ reason: 'FieldValueInvalid', message, ...(field ? { field } : {}) }],
    });
  }

  private methodNotAllowed(): SandboxResponse {
    return statusResponse('MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  }
}

/** The RBAC attributes of a resource request, as the API server's request-info resolver derives them. */
function accessOf(req: SandboxRequest, group: string): AccessAttributes {
  const { plural = '', namespace, name } = req.params;
  const watch = ['true', '1'].includes(req.query.get('watch') ?? '');
  const verbs: Record<string, string> = {
    GET: name !== undefined ? 'get' : watch ? 'watch' : 'list',
    PATCH: 'patch',
    PUT: 'update',
  };
  return { verb: verbs[req.method] ?? req.method.toLowerCase(), group, resource: plural, namespace };
}

/** The 403 a real API server sends for a request RBAC refuses, naming the user, verb, resource and namespace. */
function forbidden(a: AccessAttributes, name: string | undefined): SandboxResponse {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const where = a.namespace !== undefined ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return statusResponse(
    'Forbidden',
    `${qualified}${name !== undefined ? ` "${name}"` : ''} is forbidden: User "${SANDBOX_SERVICE_ACCOUNT}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}"${where}`,
    { ...(name !== undefined ? { name } : {}), ...(a.group ? { group: a.group } : {}), kind: a.resource },
  );
}

/**
 * `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: 201 with the review and its `status.allowed`,
 * answered from the permission model. Only `resourceAttributes` reviews are modelled; a non-resource review is
 * allowed, as the default discovery roles allow them.
 */
function selfSubjectAccessReview(req: SandboxRequest, permissions: PermissionModel): SandboxResponse {
  let body: unknown;
  try {
    body = req.json();
  } catch (err) {
    if (err instanceof BadRequest) return statusResponse('BadRequest', err.message);
    throw err;
  }
  const spec = isPlainObject(body) && isPlainObject(body.spec) ? body.spec : undefined;
  const attrs = spec && isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  if (!spec || (!attrs && !isPlainObject(spec.nonResourceAttributes))) {
    return statusResponse(
      'Invalid',
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
      { kind: 'SelfSubjectAccessReview', group: 'authorization.k8s.io' },
    );
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const allowed = attrs
    ? permissions.allows({
        verb: str(attrs.verb),
        group: str(attrs.group),
        resource: str(attrs.resource),
        namespace: str(attrs.namespace) === '' ? undefined : str(attrs.namespace),
      })
    : true;
  return json(201, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status: allowed ? { allowed: true, reason: PermissionModel.ALLOWED_REASON } : { allowed: false },
  });
}

/** Builds the routes of the API server. */
export function kubernetesRouter(api: KubernetesApi, permissions: PermissionModel = new PermissionModel()): Router {
  const router = new Router();
  const guarded =
    (handle: (req: SandboxRequest) => SandboxResponse, groupOf: (req: SandboxRequest) => string) =>
    (req: SandboxRequest): SandboxResponse => {
      const access = accessOf(req, groupOf(req));
      return permissions.allows(access) ? handle(req) : forbidden(access, req.params.name);
    };
  router
    .add('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', (req) =>
      selfSubjectAccessReview(req, permissions),
    )
    .add('GET', '/version', () => json(200, versionInfo()))
    .add('GET', '/api', (req) => json(200, coreVersions(req.baseUrl.replace(/^http:\/\//, ''))))
    .add('GET', '/apis', () => json(200, apiGroupList()))
    .add('GET', '/api/:version', (req) => {
      const list = apiResourceList('', req.params.version ?? '');
      return list
        ? json(200, list)
        : statusResponse('NotFound', 'the server could not find the requested resource', {});
    })
    .add('GET', '/apis/:group', (req) => {
      const g = apiGroup(req.params.group ?? '');
      return g ? json(200, g) : statusResponse('NotFound', 'the server could not find the requested resource', {});
    })
    .add('GET', '/apis/:group/:version', (req) => {
      const list = apiResourceList(req.params.group ?? '', req.params.version ?? '');
      return list
        ? json(200, list)
        : statusResponse('NotFound', 'the server could not find the requested resource', {});
    });
  const core = (): string => '';
  const named = (req: SandboxRequest) => req.params.group ?? '';
  for (const [prefix, groupOf] of [
    ['/api/:version', core],
    ['/apis/:group/:version', named],
  ] as const) {
    const read = guarded((req) => api.read(req, groupOf(req)), groupOf);
    router
      .add('GET', `${prefix}/namespaces/:namespace/:plural`, read)
      .add('GET', `${prefix}/namespaces/:namespace/:plural/:name`, read)
      .add(
        'PATCH',
        `${prefix}/namespaces/:namespace/:plural/:name`,
        guarded((req) => api.patch(req, groupOf(req)), groupOf),
      )
      .add(
        'PUT',
        `${prefix}/namespaces/:namespace/:plural/:name`,
        guarded((req) => api.replace(req, groupOf(req)), groupOf),
      )
      .add('GET', `${prefix}/:plural`, read)
      .add('GET', `${prefix}/:plural/:name`, read);
  }
  return router;
}

/**
 * Starts the simulated API server (system `kubernetes`) on 127.0.0.1. The caller registers it with the fault
 * engine (`faults.registerSystem`) when outages should be able to take it down.
 */
export async function startKubernetesServer(opts: KubernetesServerOptions): Promise<SandboxServer> {
  const api = new KubernetesApi(opts.store, opts.bookmarkIntervalMs ?? 1000);
  const server = await startSandboxServer({
    system: 'kubernetes',
    faults: opts.faults,
    router: kubernetesRouter(api, opts.permissions),
    ...(opts.requests ? { requests: opts.requests, endpointOf: kubernetesEndpoint } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    // An API server with anonymous auth off (`--anonymous-auth=false`, real-installations.md §7.3): a request
    // without valid credentials — none at all, or a wrong token — is 401 Unauthorized, whatever its path
    // (`/version` and the health paths included); an invalid token is never treated as anonymous. Note that
    // kubectl sends no credentials to a plain-http server: it reaches this one through an authenticating proxy,
    // as `kubectl proxy` is one, or over HTTPS.
    authenticate: (req) => {
      if (req.headers.authorization === `Bearer ${opts.token}`) return undefined;
      return statusResponse('Unauthorized', 'Unauthorized');
    },
    notFound: (req) =>
      req.method === 'GET'
        ? statusResponse('NotFound', 'the server could not find the requested resource', {})
        : statusResponse('MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
  });
  return server;
}
