/**
 * Pipeline routes of the simulated GitLab (part A: merge rules): `GET /projects/:id/pipelines` (filters `sha`,
 * `ref`, `status`, `source`) and `GET /projects/:id/pipelines/:pipeline_id`. The MR's own list is with the MR routes.
 */
import { json, type Router } from '../core/http.js';
import { projectWebUrl } from './entities.js';
import { api, intParam, paginated, Params, type RouteContext } from './http-support.js';
import { PIPELINE_STATUSES, pipelineBasicEntity, pipelineEntity } from './pipelines.js';

const P = '/api/v4/projects/:id';

export function addPipelineRoutes(router: Router, ctx: RouteContext): void {
  const { model } = ctx;

  router.add(
    'GET',
    `${P}/pipelines`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const sha = params.string('sha');
      const ref = params.string('ref');
      const status = params.oneOf('status', PIPELINE_STATUSES);
      const source = params.string('source');
      params.check();
      const found = model.pipelines
        .all(project)
        .filter(
          (p) =>
            (sha === undefined || p.sha === sha) &&
            (ref === undefined || p.ref === ref) &&
            (status === undefined || p.status === status) &&
            (source === undefined || p.source === source),
        );
      const web = projectWebUrl(req.baseUrl, project);
      return paginated(req, found, (p) => pipelineBasicEntity(web, p));
    }),
  );

  router.add(
    'GET',
    `${P}/pipelines/:pipelineId`,
    api((req) => {
      const project = model.project(req.params.id!);
      const pipeline = model.pipelines.get(project, intParam(req.params.pipelineId, 'pipeline_id'));
      return json(200, pipelineEntity(projectWebUrl(req.baseUrl, project), pipeline));
    }),
  );
}
