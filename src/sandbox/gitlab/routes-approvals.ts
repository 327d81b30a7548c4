/**
 * Approval routes of the simulated GitLab (`lib/api/merge_request_approvals.rb` with EE's `ApprovalState`
 * presenter; real-installations.md §2): the MR's approvals, approve, unapprove, and the project's approval settings.
 *
 * - `GET /projects/:id/merge_requests/:iid/approvals` → 200, the EE shape (`approved`, `approvals_required`,
 *   `approvals_left`, `approved_by[{user}]`, `user_has_approved`, `user_can_approve`, `approval_rules_left`, …).
 * - `POST …/approve` (`sha`) → 201 with that body; 409 on a `sha` that is not the head, 403 without permission, 401
 *   when not eligible (the author), 304 without a body when the caller already approved.
 * - `POST …/unapprove` → 201; 304 when the caller had not approved.
 * - An unknown iid → 404 `{"message":"404 Not found"}` (GitLab's RecordNotFound handler).
 */
import { json, type Router, type SandboxRequest, type SandboxResponse } from '../core/http.js';
import { ApprovalForbiddenError, approvalsOf } from './approvals.js';
import { iso, userBasic } from './entities.js';
import { api, intParam, Params, type RouteContext } from './http-support.js';
import type { MergeRequest, Project, User } from './types.js';

const MR = '/api/v4/projects/:id/merge_requests/:iid';

/** 304 Not Modified carries no body. */
const NOT_MODIFIED: SandboxResponse = { status: 304, headers: {}, body: '' };

export function addApprovalRoutes(router: Router, ctx: RouteContext): void {
  const { model } = ctx;
  const approvals = approvalsOf(model);

  /** The MR the route names, or the 404 GitLab's `find_by!` gives. */
  const lookup = (req: SandboxRequest): { project: Project; mr: MergeRequest } | SandboxResponse => {
    const project = model.project(req.params.id!);
    const iid = intParam(req.params.iid, 'merge_request_iid');
    const mr = model.mergeRequests.all(project).find((m) => m.iid === iid);
    return mr ? { project, mr } : json(404, { message: '404 Not found' });
  };

  /** Approve and unapprove alike: 304 when nothing changed, 403 for a user without permission, else 201 and the body. */
  const decide = (
    req: SandboxRequest,
    project: Project,
    mr: MergeRequest,
    change: (user: User) => string,
  ): SandboxResponse => {
    const user = ctx.userOf(req);
    try {
      if (change(user) === 'unchanged') return NOT_MODIFIED;
    } catch (err) {
      if (err instanceof ApprovalForbiddenError) return json(403, { message: '403 Forbidden' });
      throw err;
    }
    return json(201, body(req, project, mr, user));
  };

  const body = (req: SandboxRequest, project: Project, mr: MergeRequest, user: User): Record<string, unknown> => {
    const state = approvals.state(mr);
    return {
      id: mr.id,
      iid: mr.iid,
      project_id: project.id,
      title: mr.title,
      description: mr.description,
      state: mr.state,
      created_at: iso(mr.createdAt),
      updated_at: iso(mr.updatedAt),
      merge_status: model.mergeRequests.detailedStatus(mr) === 'mergeable' ? 'can_be_merged' : 'cannot_be_merged',
      approved: state.approved,
      approvals_required: state.required,
      approvals_left: state.left,
      require_password_to_approve: false,
      approved_by: state.approvedBy.map((a) => ({ user: userBasic(req.baseUrl, model.userById(a.userId)) })),
      suggested_approvers: [],
      approvers: [],
      approver_groups: [],
      user_has_approved: approvals.hasApproved(mr, user),
      user_can_approve: approvals.canApprove(project, mr, user),
      approval_rules_left: state.rules
        .filter((r) => r.left > 0)
        .map((r, i) => ({ id: i + 1, name: r.name, rule_type: 'regular' })),
      has_approval_rules: state.rules.length > 0,
      merge_request_approvers_available: true,
      multiple_approval_rules_available: true,
      invalid_approvers_rules: [],
    };
  };

  router.add(
    'GET',
    `${MR}/approvals`,
    api((req) => {
      const found = lookup(req);
      if (!('mr' in found)) return found;
      return json(200, body(req, found.project, found.mr, ctx.userOf(req)));
    }),
  );

  router.add(
    'POST',
    `${MR}/approve`,
    api((req) => {
      const found = lookup(req);
      if (!('mr' in found)) return found;
      const params = new Params(req);
      const sha = params.string('sha');
      params.check();
      return decide(req, found.project, found.mr, (user) => approvals.approve(found.project, found.mr, user, sha));
    }),
  );

  router.add(
    'POST',
    `${MR}/unapprove`,
    api((req) => {
      const found = lookup(req);
      if (!('mr' in found)) return found;
      return decide(req, found.project, found.mr, (user) => approvals.unapprove(found.project, found.mr, user));
    }),
  );

  router.add(
    'GET',
    '/api/v4/projects/:id/approvals',
    api((req) => {
      const project = model.project(req.params.id!);
      const settings = approvals.projectSettings(project);
      return json(200, {
        approvals_before_merge: settings.approvalsBeforeMerge,
        reset_approvals_on_push: true,
        selective_code_owner_removals: false,
        disable_overriding_approvers_per_merge_request: false,
        merge_requests_author_approval: settings.authorApproval,
        merge_requests_disable_committers_approval: false,
        require_password_to_approve: false,
      });
    }),
  );
}
