/**
 * Merge request approvals of the simulated GitLab, as GitLab EE (Premium approval rules) keeps them
 * (`lib/api/merge_request_approvals.rb`, `ApprovalState`, `MergeRequestPolicy`; real-installations.md §2):
 *
 * - Project members with access levels: a non-member or a Guest has no `approve_merge_request` permission (403).
 * - Approval rules per project: MRs targeting one of the rule's branches need `required` approvals from the
 *   rule's eligible usernames. Anyone permitted may approve (they are listed in `approved_by`), but only eligible
 *   approvers count toward `approvals_left`.
 * - `merge_requests_author_approval` (default off): the MR's author may not approve (401).
 * - While approvals are missing the MR's `detailed_merge_status` is `not_approved` and a merge is refused (405);
 *   once new commits reach the MR its approvals are reset (`reset_approvals_on_push`) and the status is
 *   `approvals_syncing` for a while (two mergeability checks from the push), then `not_approved`.
 * - Each approval and unapproval is delivered to the project's hooks as an MR hook with `action` `approved` (the
 *   rules became satisfied), `approval` (not yet), `unapproved` (no longer approved) or `unapproval` (unchanged).
 *
 * State is kept per model (`approvalsOf(model)`), so that the model itself needs no field for it.
 */
import { GitLabError } from './errors.js';
import type { GitLabModel } from './model.js';
import type { MergeRequest, Project, User } from './types.js';

/** GitLab's access levels. */
export const ACCESS_LEVELS = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;
export type AccessLevel = keyof typeof ACCESS_LEVELS;

/** One approval rule of a project (`approval_rules`, rule_type `regular`), scoped to target branches. */
export interface ApprovalRule {
  readonly name: string;
  readonly targetBranches: readonly string[];
  /** Usernames whose approvals count. */
  readonly eligible: readonly string[];
  readonly required: number;
}

export interface GivenApproval {
  readonly userId: number;
  readonly at: number;
}

/** What `GET …/approvals` says of an MR. */
export interface ApprovalStateView {
  readonly required: number;
  readonly left: number;
  readonly approved: boolean;
  readonly approvedBy: readonly GivenApproval[];
  readonly rules: readonly (ApprovalRule & { readonly left: number })[];
  /** Approvals were just reset by a push and are being re-synced. */
  readonly syncing: boolean;
}

/** The outcome of an approve or unapprove call that GitLab accepted or answered 304. */
export type ApprovalChange = 'changed' | 'unchanged';

/** 403 `{"message":"403 Forbidden"}`: the user has no `approve_merge_request` permission on the MR. */
export class ApprovalForbiddenError extends Error {
  constructor() {
    super('403 Forbidden');
    this.name = 'ApprovalForbiddenError';
  }
}

const MODELS = new WeakMap<GitLabModel, MergeRequestApprovals>();

/** The approvals of `model`, created (and hooked into its merge checks and pushes) on first use. */
export function approvalsOf(model: GitLabModel): MergeRequestApprovals {
  let approvals = MODELS.get(model);
  if (!approvals) {
    approvals = new MergeRequestApprovals(model);
    MODELS.set(model, approvals);
  }
  return approvals;
}

export class MergeRequestApprovals {
  private readonly members = new Map<number, Map<number, number>>();
  private readonly rules = new Map<number, ApprovalRule[]>();
  private readonly authorApproval = new Map<number, boolean>();
  /** Approvals per MR id, in the order given. */
  private readonly given = new Map<number, GivenApproval[]>();
  /** MR id → the head its approvals were given on (or that was first seen). */
  private readonly heads = new Map<number, string>();
  /** MR id → until when (clock ms) its approvals are syncing after a push. */
  private readonly syncingUntil = new Map<number, number>();

  constructor(private readonly model: GitLabModel) {
    model.mergeRequests.extraChecks.push((mr) => this.failingCheck(mr));
  }

  // ---- set-up (the world, tests) ------------------------------------------------------------------------------

  /** Makes `username` a member of the project with `level` (replacing any earlier level). */
  addMember(projectRef: string | number, username: string, level: AccessLevel): void {
    const project = this.model.project(projectRef);
    const user = this.user(username);
    const levels = this.members.get(project.id) ?? new Map<number, number>();
    levels.set(user.id, ACCESS_LEVELS[level]);
    this.members.set(project.id, levels);
  }

  /** Adds an approval rule to the project (EE `POST /projects/:id/approval_rules`). */
  addRule(projectRef: string | number, rule: ApprovalRule): void {
    const project = this.model.project(projectRef);
    for (const u of rule.eligible) this.user(u);
    this.rules.set(project.id, [...(this.rules.get(project.id) ?? []), rule]);
  }

  /** The project setting `merge_requests_author_approval` (default false: authors may not approve). */
  setAuthorApproval(projectRef: string | number, allowed: boolean): void {
    this.authorApproval.set(this.model.project(projectRef).id, allowed);
  }

  /** The project's approval settings as `GET /projects/:id/approvals` shows them. */
  projectSettings(project: Project): { approvalsBeforeMerge: number; authorApproval: boolean } {
    const rules = this.rules.get(project.id) ?? [];
    return {
      approvalsBeforeMerge: rules.reduce((max, r) => Math.max(max, r.required), 0),
      authorApproval: this.authorApproval.get(project.id) ?? false,
    };
  }

  // ---- reading ----------------------------------------------------------------------------------------------

  /** The rules that apply to the MR (by its target branch). */
  rulesFor(mr: MergeRequest): ApprovalRule[] {
    return (this.rules.get(mr.projectId) ?? []).filter((r) => r.targetBranches.includes(mr.targetBranch));
  }

  state(mr: MergeRequest): ApprovalStateView {
    this.resetOnPush(mr);
    const approvedBy = this.given.get(mr.id) ?? [];
    const approverNames = new Set(approvedBy.map((a) => this.model.userById(a.userId).username));
    const rules = this.rulesFor(mr).map((rule) => {
      const counted = rule.eligible.filter((u) => approverNames.has(u)).length;
      return { ...rule, left: Math.max(0, rule.required - counted) };
    });
    const required = rules.reduce((sum, r) => sum + r.required, 0);
    const left = rules.reduce((sum, r) => sum + r.left, 0);
    return { required, left, approved: left === 0, approvedBy, rules, syncing: this.isSyncing(mr) };
  }

  /** The access level of `user` in the project; root (the instance admin) counts as owner. */
  levelOf(project: Project, user: User): number {
    if (user.username === 'root') return ACCESS_LEVELS.owner;
    return this.members.get(project.id)?.get(user.id) ?? 0;
  }

  /** GitLab's `user_can_approve`: permitted, eligible by the project's settings, and not approved yet. */
  canApprove(project: Project, mr: MergeRequest, user: User): boolean {
    return (
      mr.state === 'opened' &&
      this.levelOf(project, user) >= ACCESS_LEVELS.reporter &&
      this.eligible(project, mr, user) &&
      !this.hasApproved(mr, user)
    );
  }

  hasApproved(mr: MergeRequest, user: User): boolean {
    this.resetOnPush(mr);
    return (this.given.get(mr.id) ?? []).some((a) => a.userId === user.id);
  }

  // ---- changes ----------------------------------------------------------------------------------------------

  /**
   * `POST …/approve`: 403 without the permission (non-member, Guest, or the MR is not open), 409 when `sha` is not
   * the MR's head, 401 when the user is not eligible (the author while author approval is off), `unchanged` (304)
   * when the user already approved; else the approval is recorded and the hook fired.
   */
  approve(project: Project, mr: MergeRequest, user: User, sha: string | undefined): ApprovalChange {
    if (mr.state !== 'opened' || this.levelOf(project, user) < ACCESS_LEVELS.reporter)
      throw new ApprovalForbiddenError();
    if (sha !== undefined && sha !== mr.sha)
      throw new GitLabError('conflict', `SHA does not match HEAD of source branch: ${mr.sha}`);
    if (!this.eligible(project, mr, user)) throw new GitLabError('unauthorized', '401 Unauthorized');
    if (this.hasApproved(mr, user)) return 'unchanged';
    const wasApproved = this.state(mr).approved;
    this.given.set(mr.id, [...(this.given.get(mr.id) ?? []), { userId: user.id, at: this.model.clock.now() }]);
    const nowApproved = this.state(mr).approved;
    mr.updatedAt = this.model.clock.now();
    this.model.mergeRequests.addNote(project, mr.iid, user, 'approved this merge request', { system: true });
    // EE: `approved` for the approval that satisfies the rules; `approval` for one that does not (yet, or again).
    this.model.hooks.approvalEvent(project, mr.iid, nowApproved && !wasApproved ? 'approved' : 'approval', user);
    return 'changed';
  }

  /** `POST …/unapprove`: 403 without the permission, `unchanged` (304) when the user had not approved. */
  unapprove(project: Project, mr: MergeRequest, user: User): ApprovalChange {
    if (mr.state !== 'opened' || this.levelOf(project, user) < ACCESS_LEVELS.reporter)
      throw new ApprovalForbiddenError();
    if (!this.hasApproved(mr, user)) return 'unchanged';
    const wasApproved = this.state(mr).approved;
    this.given.set(
      mr.id,
      (this.given.get(mr.id) ?? []).filter((a) => a.userId !== user.id),
    );
    const nowApproved = this.state(mr).approved;
    mr.updatedAt = this.model.clock.now();
    this.model.mergeRequests.addNote(project, mr.iid, user, 'unapproved this merge request', { system: true });
    this.model.hooks.approvalEvent(project, mr.iid, wasApproved && !nowApproved ? 'unapproved' : 'unapproval', user);
    return 'changed';
  }

  // ---- rules ------------------------------------------------------------------------------------------------

  private eligible(project: Project, mr: MergeRequest, user: User): boolean {
    return mr.authorId !== user.id || (this.authorApproval.get(project.id) ?? false);
  }

  private isSyncing(mr: MergeRequest): boolean {
    const until = this.syncingUntil.get(mr.id);
    return until !== undefined && this.model.clock.now() < until;
  }

  /** The merge check of approvals: `approvals_syncing` right after a push, `not_approved` while approvals are missing. */
  private failingCheck(mr: MergeRequest): string | undefined {
    if (this.rulesFor(mr).length === 0) return undefined;
    this.resetOnPush(mr);
    if (this.isSyncing(mr)) return 'approvals_syncing';
    return this.state(mr).approved ? undefined : 'not_approved';
  }

  /**
   * New commits reached the MR since its approvals were given: they are dropped (`reset_approvals_on_push`) and
   * re-synced from when the head moved (the MR's `updatedAt`). Checked on every read, so that no push is missed.
   */
  private resetOnPush(mr: MergeRequest): void {
    const seen = this.heads.get(mr.id);
    this.heads.set(mr.id, mr.sha);
    if (seen === undefined || seen === mr.sha || mr.state !== 'opened') return;
    this.given.delete(mr.id);
    // The re-sync outlasts the mergeability check the push started, so that it shows once that check is done.
    this.syncingUntil.set(mr.id, mr.updatedAt + 2 * this.model.clock.duration('mergeCheck'));
  }

  private user(username: string): User {
    const user = this.model.findUser(username);
    if (!user) throw new Error(`unknown user ${username}`);
    return user;
  }
}
