/**
 * The simulated GitLab's HTTP server: REST API v4 under `/api/v4`, authenticated by personal access tokens
 * (`PRIVATE-TOKEN`, `Authorization: Bearer`, `JOB-TOKEN` or the legacy `private_token` query parameter).
 */
import {
  json,
  Router,
  startSandboxServer,
  type SandboxRequest,
  type SandboxServer,
  type ServerTls,
} from '../core/http.js';
import type { FaultEngine } from '../core/faults.js';
import type { RequestCounter } from '../core/measure.js';
import { personalAccessTokenEntity, projectEntity, protectedBranchEntity, userFull } from './entities.js';
import { api, paginated, type RouteContext } from './http-support.js';
import type { GitLabModel } from './model.js';
import { inEventChain } from './hooks.js';
import { addApprovalRoutes } from './routes-approvals.js';
import { addHookRoutes } from './routes-hooks.js';
import { addMergeRequestRoutes } from './routes-merge-requests.js';
import { addPipelineRoutes } from './routes-pipelines.js';
import { addRepositoryRoutes } from './routes-repository.js';
import { addStatusRoutes } from './routes-statuses.js';
import { fullPath, type User } from './types.js';
import { SIMULATED_GITLAB_VERSION } from './version.js';

export interface GitLabServerOptions {
  readonly model: GitLabModel;
  readonly faults: FaultEngine;
  /** Fixed port (to come back on the same port after an outage); default: a free port. */
  readonly port?: number;
  /** Counts the requests received per endpoint (`GET /api/v4/projects/:id/merge_requests/:iid`). */
  readonly requests?: RequestCounter;
  /** Serve HTTPS with this certificate (an installation behind a company CA). */
  readonly tls?: ServerTls;
}

export { SIMULATED_GITLAB_VERSION } from './version.js';

function tokenOf(req: SandboxRequest): string | undefined {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const bearer = /^Bearer\s+(.+)$/i.exec(header('authorization') ?? '')?.[1];
  return header('private-token') ?? bearer ?? header('job-token') ?? req.query.get('private_token') ?? undefined;
}

/** Starts the simulated GitLab on 127.0.0.1 (system name `gitlab` for the fault engine). */
export async function startGitLabServer(opts: GitLabServerOptions): Promise<SandboxServer> {
  const { model } = opts;
  const users = new WeakMap<SandboxRequest, User>();
  const tokens = new WeakMap<SandboxRequest, string>();
  const ctx: RouteContext = {
    model,
    userOf(req) {
      const user = users.get(req);
      if (!user) throw new Error('request reached a route without authentication');
      return user;
    },
  };
  const router = new Router();

  router.add('GET', '/api/v4/user', (req) => json(200, userFull(req.baseUrl, ctx.userOf(req))));
  router.add('GET', '/api/v4/personal_access_tokens/self', (req) => {
    const info = model.tokenInfo(tokens.get(req)!);
    return info ? json(200, personalAccessTokenEntity(info)) : json(401, { message: '401 Unauthorized' });
  });
  router.add(
    'GET',
    '/api/v4/projects/:id/protected_branches',
    api((req) => {
      const project = model.project(req.params.id!);
      const search = req.query.get('search');
      const names = [...project.protectedBranches].filter((n) => search === null || n.includes(search)).sort();
      return paginated(req, names, (name) => protectedBranchEntity(project, name));
    }),
  );
  router.add('GET', '/api/v4/version', () =>
    json(200, { version: SIMULATED_GITLAB_VERSION, revision: 'sandbox', kas: { enabled: false }, enterprise: false }),
  );
  router.add('GET', '/api/v4/projects', (req) => {
    const search = req.query.get('search')?.toLowerCase();
    const projects = model
      .allProjects()
      .filter((p) => search === undefined || fullPath(p).toLowerCase().includes(search));
    return paginated(req, projects, (p) => projectEntity(req.baseUrl, model, p));
  });
  router.add(
    'GET',
    '/api/v4/projects/:id',
    api((req) => json(200, projectEntity(req.baseUrl, model, model.project(req.params.id!)))),
  );
  addRepositoryRoutes(router, ctx);
  addMergeRequestRoutes(router, ctx);
  addHookRoutes(router, ctx);
  addStatusRoutes(router, ctx); // part E: commit statuses
  addPipelineRoutes(router, ctx); // part A: merge rules
  addApprovalRoutes(router, ctx); // part B: merge request approvals

  const server = await startSandboxServer({
    system: 'gitlab',
    faults: opts.faults,
    router,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.requests ? { requests: opts.requests } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    notFound: () => json(404, { error: '404 Not Found' }),
    aroundHandler: (req, run) => {
      const uuid = req.headers['x-gitlab-event-uuid'];
      return inEventChain(Array.isArray(uuid) ? uuid[0] : uuid, run);
    },
    authenticate(req) {
      if (!req.rawPath.startsWith('/api/v4/')) return undefined;
      const token = tokenOf(req);
      const user = token !== undefined ? model.userByToken(token) : undefined;
      if (!user) return json(401, { message: '401 Unauthorized' });
      users.set(req, user);
      tokens.set(req, token!);
      return undefined;
    },
  });
  model.hooks.instanceUrl = server.url;
  return server;
}
