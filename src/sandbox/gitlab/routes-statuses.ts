/**
 * Commit status routes of the simulated GitLab (`lib/api/commit_statuses.rb`):
 * `POST /projects/:id/statuses/:sha` (parameters as JSON, form or query, as Jenkins' gitlab-plugin sends them
 * form-encoded) and `GET /projects/:id/repository/commits/:sha/statuses`.
 */
import { json, type Router } from '../core/http.js';
import { BlockedTargetUrlError, COMMIT_STATUS_STATES, commitStatusesOf, type CommitStatus } from './commit-statuses.js';
import { iso, userBasic } from './entities.js';
import { api, defined, paginated, Params, type RouteContext } from './http-support.js';
import type { GitLabModel } from './model.js';

const P = '/api/v4/projects/:id';
const MAX_LENGTH = 255;

/** `API::Entities::CommitStatus`. */
function statusEntity(base: string, model: GitLabModel, s: CommitStatus): Record<string, unknown> {
  return {
    id: s.id,
    sha: s.sha,
    ref: s.ref,
    status: s.status,
    name: s.name,
    target_url: s.targetUrl,
    description: s.description,
    created_at: iso(s.createdAt),
    started_at: s.startedAt === null ? null : iso(s.startedAt),
    finished_at: s.finishedAt === null ? null : iso(s.finishedAt),
    allow_failure: false,
    coverage: s.coverage,
    pipeline_id: s.pipelineId,
    author: userBasic(base, model.userById(s.authorId)),
  };
}

export function addStatusRoutes(router: Router, ctx: RouteContext): void {
  const { model } = ctx;
  router.add(
    'POST',
    `${P}/statuses/:sha`,
    api((req) => {
      const params = new Params(req);
      const state = params.has('state') ? params.oneOf('state', COMMIT_STATUS_STATES) : undefined;
      if (!params.has('state')) params.problem('state is missing');
      // gitlab-plugin and gitlab-branch-source send `context`; `name` wins when both are given.
      const name = params.string('name') ?? params.string('context');
      const ref = params.string('ref');
      const description = params.string('description');
      for (const [key, value] of [
        ['name', name],
        ['ref', ref],
        ['description', description],
      ] as const) {
        if (value !== undefined && value.length > MAX_LENGTH) params.problem(`${key} is too long`);
      }
      const coverageRaw = params.string('coverage');
      const coverage = coverageRaw === undefined || coverageRaw === '' ? undefined : Number(coverageRaw);
      if (coverage !== undefined && Number.isNaN(coverage)) params.problem('coverage is invalid');
      const pipelineRaw = params.string('pipeline_id');
      if (pipelineRaw !== undefined && !/^\d+$/.test(pipelineRaw)) params.problem('pipeline_id is invalid');
      params.check();
      try {
        const status = commitStatusesOf(model).post(
          req.params.id!,
          ctx.userOf(req),
          defined({
            sha: req.params.sha!,
            state: state!,
            // An empty ref (gitlab-plugin sends `ref=` without an MR cause) counts as none.
            ref: ref === '' ? undefined : ref,
            name: name === '' ? undefined : name,
            targetUrl: params.string('target_url'),
            description,
            coverage,
            pipelineId: pipelineRaw === undefined ? undefined : Number(pipelineRaw),
          }),
        );
        return json(201, statusEntity(req.baseUrl, model, status));
      } catch (err) {
        if (err instanceof BlockedTargetUrlError) return json(400, { message: { target_url: [err.message] } });
        throw err;
      }
    }),
  );
  router.add(
    'GET',
    `${P}/repository/commits/:sha/statuses`,
    api((req) => {
      const params = new Params(req);
      const all = params.bool('all');
      const orderBy = params.oneOf('order_by', ['id', 'pipeline_id'] as const);
      const sort = params.oneOf('sort', ['asc', 'desc'] as const);
      const pipelineRaw = params.string('pipeline_id');
      if (pipelineRaw !== undefined && !/^\d+$/.test(pipelineRaw)) params.problem('pipeline_id is invalid');
      params.check();
      const statuses = commitStatusesOf(model).list(
        req.params.id!,
        req.params.sha!,
        defined({
          ref: params.string('ref'),
          name: params.string('name'),
          stage: params.string('stage'),
          pipelineId: pipelineRaw === undefined ? undefined : Number(pipelineRaw),
          all,
          orderBy,
          sort,
        }),
      );
      return paginated(req, statuses, (s) => statusEntity(req.baseUrl, model, s));
    }),
  );
}
