/**
 * The simulated Jenkins on 127.0.0.1: the remote-access API subset Shepherd and the npm `jenkins` client use.
 *
 * Security runs before routing, as Jenkins' filters do: HTTP Basic with a password or an API token (401 for
 * anonymous or bad credentials), then the CSRF crumb check on POST for password-authenticated requests only.
 */
import {
  Router,
  startSandboxServer,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
  type ServerTls,
} from '../core/http.js';
import type { FaultEngine } from '../core/faults.js';
import type { RequestCounter } from '../core/measure.js';
import { crumbJson, queueItemJson, queueJson, rootJson, whoAmIJson } from './api-json.js';
import { handleJobPath, type JobRouteContext } from './job-routes.js';
import type { JenkinsModel } from './model.js';
import { bare, errorPage, jenkinsJson, noValidCrumb, unauthorized } from './responses.js';
import { CRUMB_FIELD, type Principal } from './security.js';
import { applyTree, parseTree, TreeSyntaxError } from './tree.js';

export interface JenkinsServerOptions {
  readonly model: JenkinsModel;
  readonly faults: FaultEngine;
  /** Fixed port, e.g. to come back on the same port; default a free one. */
  readonly port?: number;
  /** Counts the requests received per endpoint. */
  readonly requests?: RequestCounter;
  /** Serve HTTPS with this certificate (an installation behind a company CA). */
  readonly tls?: ServerTls;
}

/**
 * The endpoint of a request for the counts. The job routes are a catch-all (`/job/*`), so the job path
 * (`job/a/job/b`, any depth) becomes `job/:job` and build numbers `:number`: `GET /job/:job/:number/api/json`,
 * `POST /job/:job/buildWithParameters`, `GET /job/:job/lastBuild/api/json`.
 */
export function jenkinsEndpoint(req: SandboxRequest, route: { pattern: string } | undefined): string {
  if (!route) return `${req.method} ${req.rawPath}`;
  if (route.pattern !== '/job/*') return `${req.method} ${route.pattern}`;
  const parts: string[] = [];
  const segs = req.segments;
  let i = 0;
  while (segs[i] === 'job' && segs[i + 1] !== undefined) i += 2;
  parts.push('job', ':job');
  for (const seg of segs.slice(i)) parts.push(/^[0-9]+$/.test(seg) ? ':number' : seg);
  return `${req.method} /${parts.join('/')}`;
}

/** Starts the simulated Jenkins (system `jenkins`) and points the model's root URL at it. */
export async function startJenkinsServer(opts: JenkinsServerOptions): Promise<SandboxServer> {
  const { model } = opts;
  const principals = new WeakMap<SandboxRequest, Principal>();

  const renderJson = (req: SandboxRequest, body: Record<string, unknown>): SandboxResponse => {
    const tree = req.query.get('tree');
    if (!tree) return jenkinsJson(200, body);
    try {
      return jenkinsJson(200, applyTree(body, parseTree(tree)));
    } catch (err) {
      if (err instanceof TreeSyntaxError) return errorPage(400, req.rawPath, err.message);
      throw err;
    }
  };
  const principalOf = (req: SandboxRequest): Principal | undefined => principals.get(req);
  const jobCtx: JobRouteContext = { model, principal: principalOf, renderJson };

  const authenticate = (req: SandboxRequest): SandboxResponse | undefined => {
    const auth = model.security.authenticate(header(req, 'authorization'));
    if (auth.kind === 'anonymous') return unauthorized(req.rawPath, 'Authentication required');
    if (auth.kind === 'invalid') return unauthorized(req.rawPath, 'Invalid password/token for user');
    principals.set(req, auth.principal);
    if (req.method === 'POST' && auth.principal.via === 'password') {
      const crumb = header(req, CRUMB_FIELD.toLowerCase()) ?? formField(req, CRUMB_FIELD);
      if (!model.security.validCrumb(auth.principal.userId, crumb, header(req, 'cookie')))
        return noValidCrumb(req.rawPath);
    }
    return undefined;
  };

  const queueId = (raw: string | null | undefined): number | undefined =>
    raw && /^[0-9]+$/.test(raw) ? Number(raw) : undefined;

  const router = new Router()
    .add('GET', '/api/json', (req) => renderJson(req, rootJson(model, req.baseUrl)))
    .add('GET', '/crumbIssuer/api/json', (req) => {
      const principal = principalOf(req)!;
      const issued = model.security.issueCrumb(principal.userId, header(req, 'cookie'));
      const headers: Record<string, string> = {};
      if (issued.newSession)
        headers['set-cookie'] = `${model.security.sessionCookieName}=${issued.sessionId}; Path=/; HttpOnly`;
      return jenkinsJson(200, crumbJson(issued.crumb, CRUMB_FIELD), headers);
    })
    .add('GET', '/whoAmI/api/json', (req) => renderJson(req, whoAmIJson(principalOf(req)!)))
    .add('GET', '/queue/api/json', (req) => renderJson(req, queueJson(model, req.baseUrl)))
    .add('GET', '/queue/item/:id/api/json', (req) => {
      const id = queueId(req.params.id);
      const item = id === undefined ? undefined : model.queueItem(id);
      return item ? renderJson(req, queueItemJson(model, req.baseUrl, item)) : errorPage(404, req.rawPath);
    })
    .add('POST', '/queue/cancelItem', (req) => {
      const raw = req.query.get('id') ?? formField(req, 'id');
      const id = queueId(raw);
      if (id !== undefined && model.cancelQueueItem(id)) return bare(204);
      return errorPage(404, req.rawPath, `Provided id (${raw ?? ''}) not found`);
    })
    .add('POST', '/queue/item/:id/cancelQueue', (req) => {
      const id = queueId(req.params.id);
      if (id === undefined || !model.queueItem(id)) return errorPage(404, req.rawPath);
      model.cancelQueueItem(id);
      return bare(204);
    })
    .add('GET', '/job/*', (req) => handleJobPath(jobCtx, req))
    .add('POST', '/job/*', (req) => handleJobPath(jobCtx, req));

  const server = await startSandboxServer({
    system: 'jenkins',
    faults: opts.faults,
    router,
    authenticate,
    notFound: (req) => errorPage(404, req.rawPath),
    ...(opts.requests ? { requests: opts.requests, endpointOf: jenkinsEndpoint } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
  model.rootUrl = server.url;
  return server;
}

function header(req: SandboxRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join('; ') : v;
}

function formField(req: SandboxRequest, name: string): string | undefined {
  if (!String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')) return undefined;
  return req.form().get(name) ?? undefined;
}
