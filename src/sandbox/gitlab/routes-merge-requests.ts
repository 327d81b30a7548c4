/**
 * Merge request routes of the simulated GitLab: create, list, get, update, merge, notes, commits, pipelines.
 */
import { json, type Router, type SandboxRequest } from '../core/http.js';
import { GitLabError } from './errors.js';
import {
  commitBasic,
  diffEntity,
  mergeRequestEntity,
  mergeRequestSimpleEntity,
  noteEntity,
  projectWebUrl,
} from './entities.js';
import { pipelineBasicEntity } from './pipelines.js';
import { api, defined, intParam, paginated, Params, type RouteContext } from './http-support.js';
import type { MergeRequestFilter, UpdateMergeRequestInput } from './merge-requests.js';

const P = '/api/v4/projects/:id';
const MR = `${P}/merge_requests/:iid`;

const LIST_STATES = ['opened', 'closed', 'locked', 'merged', 'all'] as const;
const ORDER_BY = ['created_at', 'updated_at', 'merged_at', 'title'] as const;
const SORT = ['asc', 'desc'] as const;

function iidsOf(req: SandboxRequest): number[] | undefined {
  const values = [...req.query.getAll('iids[]'), ...req.query.getAll('iids')];
  return values.length > 0 ? values.map((v) => intParam(v, 'iids')) : undefined;
}

export function addMergeRequestRoutes(router: Router, ctx: RouteContext): void {
  const { model } = ctx;
  const mrs = model.mergeRequests;

  router.add(
    'POST',
    `${P}/merge_requests`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const sourceBranch = params.required('source_branch');
      const targetBranch = params.required('target_branch');
      const title = params.required('title');
      const description = params.string('description');
      if (description !== undefined && description.length > 1_048_576)
        params.problem('description is too long (maximum is 1048576 characters)');
      const labels = params.list('labels');
      const removeSourceBranch = params.bool('remove_source_branch');
      const squash = params.bool('squash');
      params.check();
      const mr = mrs.create(
        project,
        ctx.userOf(req),
        defined({ sourceBranch, targetBranch, title, description, labels, removeSourceBranch, squash }),
      );
      return json(201, mergeRequestEntity(req.baseUrl, model, project, mr, true));
    }),
  );

  router.add(
    'GET',
    `${P}/merge_requests`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const state = params.oneOf('state', LIST_STATES);
      const orderBy = params.oneOf('order_by', ORDER_BY);
      const sort = params.oneOf('sort', SORT);
      const createdAfter = params.time('created_after');
      const createdBefore = params.time('created_before');
      const updatedAfter = params.time('updated_after');
      const updatedBefore = params.time('updated_before');
      const labels = params.list('labels');
      const view = params.string('view');
      params.check();
      const filter: MergeRequestFilter = defined({
        state,
        orderBy,
        sort,
        createdAfter,
        createdBefore,
        updatedAfter,
        updatedBefore,
        labels,
        sourceBranch: params.string('source_branch'),
        targetBranch: params.string('target_branch'),
        search: params.string('search'),
        iids: iidsOf(req),
      });
      return paginated(req, mrs.list(project, filter), (mr) =>
        view === 'simple'
          ? mergeRequestSimpleEntity(req.baseUrl, project, mr)
          : mergeRequestEntity(req.baseUrl, model, project, mr, false),
      );
    }),
  );

  router.add(
    'GET',
    MR,
    api((req) => {
      const project = model.project(req.params.id!);
      const mr = mrs.get(project, intParam(req.params.iid, 'merge_request_iid'));
      const params = new Params(req);
      const includeRebaseInProgress = params.bool('include_rebase_in_progress') ?? false;
      params.check();
      return json(200, mergeRequestEntity(req.baseUrl, model, project, mr, true, { includeRebaseInProgress }));
    }),
  );

  router.add(
    'PUT',
    MR,
    api((req) => {
      const project = model.project(req.params.id!);
      const iid = intParam(req.params.iid, 'merge_request_iid');
      const params = new Params(req);
      const stateEvent = params.oneOf('state_event', ['close', 'reopen'] as const);
      const squash = params.bool('squash');
      const removeSourceBranch = params.bool('remove_source_branch');
      const input: UpdateMergeRequestInput = defined({
        title: params.string('title'),
        description: params.string('description'),
        targetBranch: params.string('target_branch'),
        stateEvent,
        labels: params.list('labels'),
        addLabels: params.list('add_labels'),
        removeLabels: params.list('remove_labels'),
        squash,
        removeSourceBranch,
      });
      const known = [
        'assignee_id',
        'assignee_ids',
        'reviewer_ids',
        'milestone_id',
        'allow_collaboration',
        'discussion_locked',
        'merge_after',
      ];
      if (Object.keys(input).length === 0 && !known.some((k) => params.has(k))) {
        params.problem(
          'assignee_id, assignee_ids, reviewer_ids, description, labels, add_labels, remove_labels, milestone_id, remove_source_branch, allow_collaboration, squash, target_branch, title, state_event, discussion_locked, merge_after are missing, at least one parameter must be provided',
        );
      }
      params.check();
      const mr = mrs.update(project, iid, ctx.userOf(req), input);
      return json(200, mergeRequestEntity(req.baseUrl, model, project, mr, true));
    }),
  );

  router.add(
    'PUT',
    `${MR}/merge`,
    api((req) => {
      const project = model.project(req.params.id!);
      const iid = intParam(req.params.iid, 'merge_request_iid');
      const params = new Params(req);
      const sha = params.string('sha');
      const shouldRemoveSourceBranch = params.bool('should_remove_source_branch');
      const squash = params.bool('squash');
      const mergeCommitMessage = params.string('merge_commit_message');
      const squashCommitMessage = params.string('squash_commit_message');
      // `auto_merge` (17.11+) and the deprecated `merge_when_pipeline_succeeds` ask for the same thing.
      const autoMerge = params.bool('auto_merge') ?? params.bool('merge_when_pipeline_succeeds');
      params.check();
      const mr = mrs.merge(
        project,
        iid,
        ctx.userOf(req),
        defined({ sha, shouldRemoveSourceBranch, squash, mergeCommitMessage, squashCommitMessage, autoMerge }),
      );
      return json(200, mergeRequestEntity(req.baseUrl, model, project, mr, true));
    }),
  );

  router.add(
    'GET',
    `${MR}/notes`,
    api((req) => {
      const project = model.project(req.params.id!);
      const iid = intParam(req.params.iid, 'merge_request_iid');
      const params = new Params(req);
      const sort = params.oneOf('sort', SORT) ?? 'desc';
      // Notes are never edited here, so ordering by updated_at is the creation order too.
      params.oneOf('order_by', ['created_at', 'updated_at'] as const);
      params.check();
      const notes = mrs.notes(project, iid);
      if (sort === 'desc') notes.reverse();
      return paginated(req, notes, (n) => noteEntity(req.baseUrl, model, n));
    }),
  );

  router.add(
    'POST',
    `${MR}/notes`,
    api((req) => {
      const project = model.project(req.params.id!);
      const iid = intParam(req.params.iid, 'merge_request_iid');
      const params = new Params(req);
      const body = params.required('body');
      const internal = params.bool('internal') ?? false;
      params.check();
      const note = mrs.addNote(project, iid, ctx.userOf(req), body, { internal });
      return json(201, noteEntity(req.baseUrl, model, note));
    }),
  );

  router.add(
    'GET',
    `${MR}/notes/:noteId`,
    api((req) => {
      const project = model.project(req.params.id!);
      const iid = intParam(req.params.iid, 'merge_request_iid');
      const noteId = intParam(req.params.noteId, 'note_id');
      const note = mrs.notes(project, iid).find((n) => n.id === noteId);
      if (!note) throw GitLabError.notFound('Note');
      return json(200, noteEntity(req.baseUrl, model, note));
    }),
  );

  router.add(
    'GET',
    `${MR}/pipelines`,
    api((req) => {
      const project = model.project(req.params.id!);
      const mr = mrs.get(project, intParam(req.params.iid, 'merge_request_iid'));
      const web = projectWebUrl(req.baseUrl, project);
      return paginated(req, model.pipelines.forMergeRequest(project, mr), (p) => pipelineBasicEntity(web, p));
    }),
  );

  // Part A: `PUT …/rebase` queues the rebase (202); the MR shows it with `include_rebase_in_progress=true`.
  router.add(
    'PUT',
    `${MR}/rebase`,
    api((req) => {
      const project = model.project(req.params.id!);
      const iid = intParam(req.params.iid, 'merge_request_iid');
      const params = new Params(req);
      const skipCi = params.bool('skip_ci') ?? false;
      params.check();
      mrs.rebase(project, iid, ctx.userOf(req), { skipCi });
      return json(202, { rebase_in_progress: true });
    }),
  );

  router.add(
    'GET',
    `${MR}/commits`,
    api((req) => {
      const project = model.project(req.params.id!);
      const mr = mrs.get(project, intParam(req.params.iid, 'merge_request_iid'));
      const base = project.repo.mergeBase(mr.targetSha, mr.sha);
      const commits = base !== undefined ? project.repo.range(base, mr.sha).reverse() : project.repo.log(mr.sha);
      return paginated(req, commits, (c) => commitBasic(req.baseUrl, project, c));
    }),
  );

  router.add(
    'GET',
    `${MR}/diffs`,
    api((req) => {
      const project = model.project(req.params.id!);
      const mr = mrs.get(project, intParam(req.params.iid, 'merge_request_iid'));
      const base = project.repo.mergeBase(mr.targetSha, mr.sha);
      const { repo } = project;
      return paginated(
        req,
        repo.diff(base !== undefined ? repo.getCommit(base)!.tree : new Map(), repo.getCommit(mr.sha)!.tree),
        diffEntity,
      );
    }),
  );
}
