/**
 * JSON entities of the GitLab REST API v4 (the `API::Entities::*` shapes), rendered from the model's state.
 * Timestamps are ISO-8601 with milliseconds and `Z`, as GitLab.com sends them.
 */
import { createHash } from 'node:crypto';
import { unifiedDiff } from './diff-text.js';
import type { Commit, FileChange, FileEntry } from './git-store.js';
import type { GitLabModel } from './model.js';
import { isDraftTitle } from './merge-requests.js';
import { pipelineBasicEntity, pipelineEntity } from './pipelines.js';
import { fullPath, type MergeRequest, type Note, type PersonalAccessToken, type Project, type User } from './types.js';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function projectWebUrl(base: string, project: Project): string {
  return `${base}/${fullPath(project)}`;
}

export function userBasic(base: string, user: User): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: 'active',
    locked: false,
    avatar_url: null,
    web_url: `${base}/${user.username}`,
  };
}

/** `GET /user`: the authenticated user, with the private fields a token owner sees. */
export function userFull(base: string, user: User): Record<string, unknown> {
  return {
    ...userBasic(base, user),
    created_at: iso(user.createdAt),
    bio: '',
    public_email: null,
    email: user.email,
    commit_email: user.email,
    is_admin: user.username === 'root',
    bot: false,
    two_factor_enabled: false,
    external: false,
    private_profile: false,
  };
}

/** `GET /personal_access_tokens/self`: the token's record, never its value. */
export function personalAccessTokenEntity(token: PersonalAccessToken): Record<string, unknown> {
  return {
    id: token.id,
    name: token.name,
    revoked: false,
    created_at: iso(token.createdAt),
    description: null,
    scopes: [...token.scopes],
    user_id: token.userId,
    last_used_at: null,
    active: true,
    expires_at: null,
  };
}

/**
 * One entry of `GET /projects/:id/protected_branches`, with GitLab's defaults for a branch protected without options:
 * Maintainers (40) push and merge, no force push. `id` is stable per project and name.
 */
export function protectedBranchEntity(project: Project, name: string): Record<string, unknown> {
  const id = project.id * 1000 + [...project.protectedBranches].sort().indexOf(name) + 1;
  const descriptions: Record<number, string> = { 0: 'No one', 30: 'Developers + Maintainers', 40: 'Maintainers' };
  const level = (n: number, accessLevel = 40) => ({
    id: id * 10 + n,
    access_level: accessLevel,
    access_level_description: descriptions[accessLevel],
    deploy_key_id: null,
    user_id: null,
    group_id: null,
  });
  return {
    id,
    name,
    push_access_levels: [level(1, project.pushAccessLevels.get(name) ?? 40)],
    merge_access_levels: [level(2)],
    allow_force_push: false,
    code_owner_approval_required: false,
  };
}

export function projectEntity(base: string, model: GitLabModel, project: Project): Record<string, unknown> {
  const web = projectWebUrl(base, project);
  const head = project.repo.branchHead(project.defaultBranch);
  const lastActivity = head ? project.repo.getCommit(head)!.committedAt : project.createdAt;
  return {
    id: project.id,
    description: project.description,
    name: project.name,
    name_with_namespace: `${project.namespace} / ${project.name}`,
    path: project.path,
    path_with_namespace: fullPath(project),
    created_at: iso(project.createdAt),
    default_branch: project.defaultBranch,
    tag_list: [],
    topics: [],
    ssh_url_to_repo: `git@${new URL(base).host}:${fullPath(project)}.git`,
    http_url_to_repo: `${web}.git`,
    web_url: web,
    readme_url: null,
    avatar_url: null,
    forks_count: 0,
    star_count: 0,
    last_activity_at: iso(lastActivity),
    namespace: {
      id: project.namespaceId,
      name: project.namespace,
      path: project.namespace,
      kind: 'group',
      full_path: project.namespace,
      parent_id: null,
      avatar_url: null,
      web_url: `${base}/groups/${project.namespace}`,
    },
    visibility: 'private',
    empty_repo: project.repo.branchNames().length === 0,
    archived: false,
    issues_enabled: true,
    merge_requests_enabled: true,
    jobs_enabled: true,
    creator_id: 1,
    open_issues_count: 0,
    merge_method: project.mergeMethod,
    squash_option: 'default_off',
    only_allow_merge_if_pipeline_succeeds: project.onlyAllowMergeIfPipelineSucceeds,
    only_allow_merge_if_all_discussions_are_resolved: false,
    remove_source_branch_after_merge: false,
    auto_devops_enabled: false,
    open_merge_requests_count: model.mergeRequests.all(project).filter((m) => m.state === 'opened').length,
    permissions: { project_access: { access_level: 40, notification_level: 3 }, group_access: null },
  };
}

/** Line statistics of a commit against its first parent. */
export function commitStats(project: Project, commit: Commit): { additions: number; deletions: number; total: number } {
  const parent = commit.parentIds[0] !== undefined ? project.repo.getCommit(commit.parentIds[0]) : undefined;
  let additions = 0;
  let deletions = 0;
  for (const change of project.repo.diff(parent?.tree ?? new Map(), commit.tree)) {
    const d = unifiedDiff(change.before?.content.toString('utf8') ?? '', change.after?.content.toString('utf8') ?? '');
    additions += d.additions;
    deletions += d.deletions;
  }
  return { additions, deletions, total: additions + deletions };
}

export function commitBasic(base: string, project: Project, commit: Commit): Record<string, unknown> {
  const title = commit.message.split('\n', 1)[0] ?? '';
  return {
    id: commit.id,
    short_id: commit.id.slice(0, 8),
    created_at: iso(commit.committedAt),
    parent_ids: [...commit.parentIds],
    title,
    message: commit.message,
    author_name: commit.author.name,
    author_email: commit.author.email,
    authored_date: iso(commit.authoredAt),
    committer_name: commit.committer.name,
    committer_email: commit.committer.email,
    committed_date: iso(commit.committedAt),
    trailers: {},
    extended_trailers: {},
    web_url: `${projectWebUrl(base, project)}/-/commit/${commit.id}`,
  };
}

/** `GET …/commits/:sha` and `POST …/commits`: the basic commit plus stats and pipeline fields. */
export function commitDetail(
  base: string,
  project: Project,
  commit: Commit,
  withStats = true,
): Record<string, unknown> {
  return {
    ...commitBasic(base, project, commit),
    ...(withStats ? { stats: commitStats(project, commit) } : {}),
    status: null,
    project_id: project.id,
    last_pipeline: null,
  };
}

export function branchEntity(base: string, project: Project, name: string): Record<string, unknown> {
  const { repo } = project;
  const head = repo.getCommit(repo.branchHead(name)!)!;
  const defaultHead = repo.branchHead(project.defaultBranch);
  return {
    name,
    commit: commitBasic(base, project, head),
    merged: name !== project.defaultBranch && defaultHead !== undefined && repo.isAncestor(head.id, defaultHead),
    protected: project.protectedBranches.has(name),
    default: name === project.defaultBranch,
    developers_can_push: false,
    developers_can_merge: false,
    // The sandbox's users are Maintainers: they may push unless the branch's protection allows no one.
    can_push: !(project.protectedBranches.has(name) && project.pushAccessLevels.get(name) === 0),
    web_url: `${projectWebUrl(base, project)}/-/tree/${name}`,
  };
}

export function fileEntity(
  project: Project,
  path: string,
  ref: string,
  commit: Commit,
  entry: FileEntry,
): Record<string, unknown> {
  return {
    file_name: path.split('/').pop() ?? path,
    file_path: path,
    size: entry.content.length,
    encoding: 'base64',
    content_sha256: createHash('sha256').update(entry.content).digest('hex'),
    ref,
    blob_id: entry.blobId,
    commit_id: commit.id,
    last_commit_id: project.repo.lastCommitFor(commit.id, path) ?? commit.id,
    execute_filemode: entry.executable,
    content: entry.content.toString('base64'),
  };
}

/** The `X-Gitlab-*` headers of `HEAD …/files/:path` and `…/raw`. */
export function fileHeaders(file: Record<string, unknown>): Record<string, string> {
  const h = (k: string) => String(file[k]);
  return {
    'x-gitlab-blob-id': h('blob_id'),
    'x-gitlab-commit-id': h('commit_id'),
    'x-gitlab-content-sha256': h('content_sha256'),
    'x-gitlab-encoding': 'base64',
    'x-gitlab-file-name': h('file_name'),
    'x-gitlab-file-path': h('file_path'),
    'x-gitlab-last-commit-id': h('last_commit_id'),
    'x-gitlab-ref': h('ref'),
    'x-gitlab-size': h('size'),
    'x-gitlab-execute-filemode': h('execute_filemode'),
  };
}

export function diffEntity(change: FileChange): Record<string, unknown> {
  const mode = (e: FileEntry | undefined) => (e === undefined ? '0' : e.executable ? '100755' : '100644');
  return {
    old_path: change.oldPath,
    new_path: change.newPath,
    a_mode: mode(change.before),
    b_mode: mode(change.after),
    diff: unifiedDiff(change.before?.content.toString('utf8') ?? '', change.after?.content.toString('utf8') ?? '').diff,
    new_file: change.before === undefined,
    renamed_file: false,
    deleted_file: change.after === undefined,
    generated_file: false,
  };
}

function mergeStatusLegacy(mr: MergeRequest): string {
  if (mr.check === 'checking') return 'checking';
  return mr.check === 'conflict' ? 'cannot_be_merged' : 'can_be_merged';
}

/** The MR entity of `view=simple` lists: the fields every MR entity starts with. */
export function mergeRequestSimpleEntity(base: string, project: Project, mr: MergeRequest): Record<string, unknown> {
  return {
    id: mr.id,
    iid: mr.iid,
    project_id: project.id,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    created_at: iso(mr.createdAt),
    updated_at: iso(mr.updatedAt),
    web_url: `${projectWebUrl(base, project)}/-/merge_requests/${mr.iid}`,
  };
}

/** The MR entity; `detailed` adds the fields only the single GET (and mutations) return. */
export function mergeRequestEntity(
  base: string,
  model: GitLabModel,
  project: Project,
  mr: MergeRequest,
  detailed: boolean,
  opts: { includeRebaseInProgress?: boolean } = {},
): Record<string, unknown> {
  const author = model.userById(mr.authorId);
  // `merge_user` is who merged, or who armed auto-merge while it waits.
  const mergeUserId = mr.mergeUserId ?? mr.autoMerge?.userId ?? null;
  const mergeUser = mergeUserId !== null ? userBasic(base, model.userById(mergeUserId)) : null;
  const closedBy = mr.closedById !== null ? userBasic(base, model.userById(mr.closedById)) : null;
  const entity: Record<string, unknown> = {
    ...mergeRequestSimpleEntity(base, project, mr),
    merged_by: mr.mergeUserId !== null ? mergeUser : null,
    merge_user: mergeUser,
    merged_at: mr.mergedAt !== null ? iso(mr.mergedAt) : null,
    merge_after: null,
    prepared_at: mr.preparedAt !== null ? iso(mr.preparedAt) : null,
    closed_by: closedBy,
    closed_at: mr.closedAt !== null ? iso(mr.closedAt) : null,
    target_branch: mr.targetBranch,
    source_branch: mr.sourceBranch,
    user_notes_count: model.mergeRequests.notes(project, mr.iid).filter((n) => !n.system).length,
    upvotes: 0,
    downvotes: 0,
    author: userBasic(base, author),
    assignees: [],
    assignee: null,
    reviewers: [],
    source_project_id: project.id,
    target_project_id: project.id,
    labels: [...mr.labels],
    draft: isDraftTitle(mr.title),
    work_in_progress: isDraftTitle(mr.title),
    milestone: null,
    merge_when_pipeline_succeeds: mr.autoMerge !== null,
    merge_status: mergeStatusLegacy(mr),
    detailed_merge_status: model.mergeRequests.detailedStatus(mr),
    sha: mr.sha,
    merge_commit_sha: mr.mergeCommitSha,
    squash_commit_sha: mr.squashCommitSha,
    discussion_locked: null,
    should_remove_source_branch: mr.shouldRemoveSourceBranch ?? mr.autoMerge?.shouldRemoveSourceBranch ?? null,
    force_remove_source_branch: mr.forceRemoveSourceBranch,
    reference: `!${mr.iid}`,
    references: { short: `!${mr.iid}`, relative: `!${mr.iid}`, full: `${fullPath(project)}!${mr.iid}` },
    time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
    squash: mr.squash,
    squash_on_merge: mr.squash,
    task_completion_status: { count: 0, completed_count: 0 },
    has_conflicts: mr.state === 'opened' && mr.check === 'conflict',
    blocking_discussions_resolved: true,
    imported: false,
    imported_from: 'none',
  };
  if (!detailed) return entity;
  const { repo } = project;
  const base_sha = repo.mergeBase(mr.targetSha, mr.sha) ?? null;
  const headPipeline = model.mergeRequests.headPipeline(mr);
  const web = projectWebUrl(base, project);
  return {
    ...entity,
    subscribed: true,
    changes_count: String(
      repo.diff(base_sha ? repo.getCommit(base_sha)!.tree : new Map(), repo.getCommit(mr.sha)!.tree).length,
    ),
    latest_build_started_at: null,
    latest_build_finished_at: null,
    first_deployed_to_production_at: null,
    pipeline: headPipeline ? pipelineBasicEntity(web, headPipeline) : null,
    head_pipeline: headPipeline ? pipelineEntity(web, headPipeline) : null,
    diff_refs: { base_sha, head_sha: mr.sha, start_sha: mr.targetSha },
    merge_error: mr.mergeError,
    ...(opts.includeRebaseInProgress ? { rebase_in_progress: mr.rebaseInProgress } : {}),
    first_contribution: false,
    user: { can_merge: true },
  };
}

export function noteEntity(base: string, model: GitLabModel, note: Note): Record<string, unknown> {
  return {
    id: note.id,
    type: null,
    body: note.body,
    attachment: null,
    author: userBasic(base, model.userById(note.authorId)),
    created_at: iso(note.createdAt),
    updated_at: iso(note.createdAt),
    system: note.system,
    noteable_id: note.mergeRequestId,
    noteable_type: 'MergeRequest',
    project_id: note.projectId,
    resolvable: false,
    confidential: note.internal,
    internal: note.internal,
    noteable_iid: note.mergeRequestIid,
    commands_changes: {},
  };
}
