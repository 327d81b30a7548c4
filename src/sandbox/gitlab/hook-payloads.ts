/**
 * The JSON bodies of GitLab's project webhooks (`Gitlab::DataBuilder::Push`, `Gitlab::HookData::MergeRequestBuilder`),
 * rendered from the model's state at the moment of the event. Hook payloads write times as `2016-08-12 15:23:28 UTC`
 * except commit timestamps, which are ISO-8601 with an offset.
 */
import type { Commit } from './git-store.js';
import type { GitLabModel } from './model.js';
import { fullPath, type MergeRequest, type Project, type User } from './types.js';

export const ZERO = '0'.repeat(40);

/** Push data keeps the newest 20 commits; `total_commits_count` has the true count. */
const PUSH_COMMIT_LIMIT = 20;

export function hookTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function commitTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
}

export function hookProject(base: string, project: Project): Record<string, unknown> {
  const web = `${base}/${fullPath(project)}`;
  const ssh = `git@${new URL(base).host}:${fullPath(project)}.git`;
  return {
    id: project.id,
    name: project.name,
    description: project.description,
    web_url: web,
    avatar_url: null,
    git_ssh_url: ssh,
    git_http_url: `${web}.git`,
    namespace: project.namespace,
    visibility_level: 0,
    path_with_namespace: fullPath(project),
    default_branch: project.defaultBranch,
    ci_config_path: null,
    homepage: web,
    url: ssh,
    ssh_url: ssh,
    http_url: `${web}.git`,
  };
}

function hookRepository(base: string, project: Project): Record<string, unknown> {
  const web = `${base}/${fullPath(project)}`;
  return {
    name: project.name,
    url: `git@${new URL(base).host}:${fullPath(project)}.git`,
    description: project.description,
    homepage: web,
    git_http_url: `${web}.git`,
    git_ssh_url: `git@${new URL(base).host}:${fullPath(project)}.git`,
    visibility_level: 0,
  };
}

/** A commit as push and MR hooks render it, with the paths it added, modified and removed against its parent. */
export function hookCommit(base: string, project: Project, commit: Commit, withFiles = true): Record<string, unknown> {
  const title = commit.message.split('\n', 1)[0] ?? '';
  const out: Record<string, unknown> = {
    id: commit.id,
    message: commit.message,
    title,
    timestamp: commitTimestamp(commit.committedAt),
    url: `${base}/${fullPath(project)}/-/commit/${commit.id}`,
    author: { name: commit.author.name, email: commit.author.email },
  };
  if (!withFiles) return out;
  const parentId = commit.parentIds[0];
  const parent = parentId !== undefined ? project.repo.getCommit(parentId) : undefined;
  const added: string[] = [];
  const modified: string[] = [];
  const removed: string[] = [];
  for (const change of project.repo.diff(parent?.tree ?? new Map(), commit.tree)) {
    if (!change.before) added.push(change.newPath);
    else if (!change.after) removed.push(change.oldPath);
    else if (change.oldPath !== change.newPath) {
      removed.push(change.oldPath);
      added.push(change.newPath);
    } else modified.push(change.newPath);
  }
  return { ...out, added, modified, removed };
}

function hookUser(user: User): Record<string, unknown> {
  return { id: user.id, name: user.name, username: user.username, avatar_url: null, email: '[REDACTED]' };
}

/** The Push Hook body: `before` is 40 zeros for a new branch, `after` 40 zeros (and `checkout_sha` null) for a deleted one. */
export function pushPayload(
  base: string,
  project: Project,
  push: { branch: string; before: string; after: string; commits: readonly Commit[]; user: User },
): Record<string, unknown> {
  const deleted = push.after === ZERO;
  return {
    object_kind: 'push',
    event_name: 'push',
    before: push.before,
    after: push.after,
    ref: `refs/heads/${push.branch}`,
    ref_protected: project.protectedBranches.has(push.branch) || push.branch === project.defaultBranch,
    checkout_sha: deleted ? null : push.after,
    message: null,
    user_id: push.user.id,
    user_name: push.user.name,
    user_username: push.user.username,
    user_email: '',
    user_avatar: null,
    project_id: project.id,
    project: hookProject(base, project),
    commits: push.commits.slice(-PUSH_COMMIT_LIMIT).map((c) => hookCommit(base, project, c)),
    total_commits_count: push.commits.length,
    push_options: {},
    repository: hookRepository(base, project),
  };
}

/** GitLab's MR hook actions, from the model's event names. */
export const MR_HOOK_ACTIONS = {
  opened: 'open',
  updated: 'update',
  closed: 'close',
  reopened: 'reopen',
  merged: 'merge',
} as const;
export type MergeRequestHookAction = (typeof MR_HOOK_ACTIONS)[keyof typeof MR_HOOK_ACTIONS] | ApprovalHookAction;

/**
 * Part B: the approval actions of the MR hook (EE): `approved` when an approval satisfies the rules, `approval`
 * when it does not yet, `unapproved` when a removal makes the MR unapproved, `unapproval` when it does not.
 */
export type ApprovalHookAction = 'approved' | 'approval' | 'unapproved' | 'unapproval';

const STATE_IDS = { opened: 1, closed: 2, merged: 3, locked: 4 } as const;

/** The Merge Request Hook body; `oldrev` is the previous source head when the update brought new commits. */
export function mergeRequestPayload(
  base: string,
  model: GitLabModel,
  project: Project,
  mr: MergeRequest,
  action: MergeRequestHookAction,
  opts: { user: User; oldrev?: string },
): Record<string, unknown> {
  const web = `${base}/${fullPath(project)}`;
  const head = project.repo.getCommit(mr.sha);
  const detailed = model.mergeRequests.detailedStatus(mr);
  const mergeStatus =
    mr.check === 'checking' ? 'checking' : mr.check === 'conflict' ? 'cannot_be_merged' : 'can_be_merged';
  const attributes: Record<string, unknown> = {
    id: mr.id,
    iid: mr.iid,
    title: mr.title,
    description: mr.description,
    url: `${web}/-/merge_requests/${mr.iid}`,
    source_branch: mr.sourceBranch,
    target_branch: mr.targetBranch,
    source_project_id: project.id,
    target_project_id: project.id,
    source: hookProject(base, project),
    target: hookProject(base, project),
    state: mr.state,
    state_id: STATE_IDS[mr.state],
    merge_status: mergeStatus,
    detailed_merge_status: detailed,
    draft: false,
    work_in_progress: false,
    blocking_discussions_resolved: true,
    first_contribution: false,
    merge_commit_sha: mr.mergeCommitSha,
    merge_error: null,
    merge_params: { force_remove_source_branch: mr.forceRemoveSourceBranch ? '1' : '0' },
    merge_user_id: mr.mergeUserId,
    merge_when_pipeline_succeeds: false,
    head_pipeline_id: null,
    author_id: mr.authorId,
    assignee_id: null,
    assignee_ids: [],
    reviewer_ids: [],
    labels: mr.labels.map((title) => ({ title })),
    milestone_id: null,
    squash: mr.squash,
    created_at: hookTime(mr.createdAt),
    updated_at: hookTime(mr.updatedAt),
    prepared_at: mr.preparedAt !== null ? hookTime(mr.preparedAt) : null,
    last_edited_at: null,
    time_estimate: 0,
    total_time_spent: 0,
    last_commit: head ? hookCommit(base, project, head, false) : null,
    action,
  };
  if (opts.oldrev !== undefined) attributes.oldrev = opts.oldrev;
  const changes: Record<string, unknown> = {};
  if (action === 'close' || action === 'reopen' || action === 'merge') {
    const previous = action === 'reopen' ? STATE_IDS.closed : STATE_IDS.opened;
    changes.state_id = { previous, current: STATE_IDS[mr.state] };
  }
  return {
    object_kind: 'merge_request',
    event_type: 'merge_request',
    user: hookUser(opts.user),
    project: hookProject(base, project),
    object_attributes: attributes,
    labels: mr.labels.map((title) => ({ title })),
    changes,
    repository: {
      name: project.name,
      url: hookRepository(base, project).url,
      description: project.description,
      homepage: web,
    },
    assignees: [],
    reviewers: [],
  };
}
