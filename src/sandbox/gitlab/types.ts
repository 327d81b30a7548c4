/**
 * The state of the simulated GitLab: users, projects, merge requests and notes, and the events it emits.
 * Plain data; the model (`model.ts`) owns and mutates it, the HTTP layer renders it.
 */
import type { Commit, GitRepository } from './git-store.js';

export interface User {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly createdAt: number;
}

/** A personal access token as `GET /personal_access_tokens/self` describes it (never its value). */
export interface PersonalAccessToken {
  readonly id: number;
  readonly name: string;
  readonly userId: number;
  readonly scopes: readonly string[];
  readonly createdAt: number;
}

export interface Project {
  readonly id: number;
  /** Last path segment, e.g. `example-app`. */
  readonly path: string;
  readonly name: string;
  /** Group path, e.g. `p2c`. */
  readonly namespace: string;
  readonly namespaceId: number;
  readonly description: string;
  defaultBranch: string;
  /** Branches that cannot be deleted through the API (the default branch always is protected in GitLab CE setups). */
  readonly protectedBranches: Set<string>;
  /**
   * Who may push to a protected branch (`push_access_levels`): 0 no one, 30 Developers, 40 Maintainers (absent:
   * 40, GitLab's default). Sandbox users are Maintainers, so only 0 refuses their pushes; merges stay allowed.
   */
  readonly pushAccessLevels: Map<string, 0 | 30 | 40>;
  readonly repo: GitRepository;
  readonly createdAt: number;
  /** Commits added per branch since the project was created (the initial commit counts for the default branch). */
  readonly commitsPerBranch: Map<string, number>;
  merges: number;
  reverts: number;
  // Part A (merge rules): the project's merge settings and the pipelines its MRs run.
  /** `merge_method`: `merge` (a merge commit), `rebase_merge` (rebased, then a merge commit), `ff` (no merge commit). */
  mergeMethod: MergeMethod;
  /** `only_allow_merge_if_pipeline_succeeds`: an MR merges only when its head pipeline succeeded. */
  onlyAllowMergeIfPipelineSucceeds: boolean;
  /**
   * The project's CI for MRs: each new MR head starts a `merge_request_event` pipeline that ends as this returns;
   * undefined: MRs run no pipeline.
   */
  mergeRequestPipelines: ((mr: MergeRequest) => 'success' | 'failed') | undefined;
}

export const MERGE_METHODS = ['merge', 'rebase_merge', 'ff'] as const;
export type MergeMethod = (typeof MERGE_METHODS)[number];

export function fullPath(project: Project): string {
  return `${project.namespace}/${project.path}`;
}

export const MR_STATES = ['opened', 'closed', 'merged'] as const;
export type MergeRequestState = (typeof MR_STATES)[number];

/**
 * Outcome of GitLab's asynchronous mergeability check while the MR is open; `commits_status` means the source
 * branch is gone or has nothing the target does not already contain.
 */
export const MERGE_CHECK_STATES = ['checking', 'mergeable', 'conflict', 'commits_status'] as const;
export type MergeCheckState = (typeof MERGE_CHECK_STATES)[number];

export interface MergeRequest {
  readonly id: number;
  readonly iid: number;
  readonly projectId: number;
  title: string;
  description: string;
  readonly sourceBranch: string;
  targetBranch: string;
  state: MergeRequestState;
  readonly authorId: number;
  labels: string[];
  /** Source branch head; frozen when the MR is merged or closed. */
  sha: string;
  /** Target head the diff was computed against (`diff_refs.base_sha` is the merge base). */
  targetSha: string;
  check: MergeCheckState;
  /** Pending mergeability check, cancelled when the heads move again. */
  cancelCheck?: () => void;
  squash: boolean;
  /** `remove_source_branch` given at creation (`force_remove_source_branch`). */
  forceRemoveSourceBranch: boolean;
  /** `should_remove_source_branch` given at merge. */
  shouldRemoveSourceBranch: boolean | null;
  mergeCommitSha: string | null;
  squashCommitSha: string | null;
  mergedAt: number | null;
  mergeUserId: number | null;
  closedAt: number | null;
  closedById: number | null;
  preparedAt: number | null;
  readonly createdAt: number;
  updatedAt: number;
  // Part A (merge rules): rebase and auto-merge.
  /** A `PUT …/rebase` is queued or running. */
  rebaseInProgress: boolean;
  /** Why the last rebase or automatic merge failed (`merge_error`); null when nothing failed. */
  mergeError: string | null;
  /** Auto-merge armed (`merge_when_pipeline_succeeds`): who armed it and the merge parameters it keeps. */
  autoMerge: AutoMergeParams | null;
  /** A head pushed by a rebase with `skip_ci`: it starts no pipeline. */
  skipCiFor?: string;
}

/** The parameters an armed auto-merge merges with once the head pipeline succeeds. */
export interface AutoMergeParams {
  readonly userId: number;
  readonly sha?: string;
  readonly shouldRemoveSourceBranch?: boolean;
  readonly squash?: boolean;
  readonly mergeCommitMessage?: string;
  readonly squashCommitMessage?: string;
}

export interface Note {
  readonly id: number;
  readonly projectId: number;
  readonly mergeRequestIid: number;
  readonly mergeRequestId: number;
  readonly body: string;
  readonly authorId: number;
  readonly system: boolean;
  readonly internal: boolean;
  readonly createdAt: number;
}

/**
 * A branch changed: fired once per update (API commits, merges, reverts, branch force-updates, new branches) and
 * for a deletion, whose `after` is 40 zeros and `commits` empty.
 */
export interface PushEvent {
  readonly project: string;
  readonly projectId: number;
  readonly branch: string;
  /** Previous head, or 40 zeros for a new branch. */
  readonly before: string;
  /** New head, or 40 zeros for a deleted branch. */
  readonly after: string;
  /** New commits, oldest first. */
  readonly commits: readonly Commit[];
  readonly userId: number;
}

export const MR_EVENT_ACTIONS = ['opened', 'merged', 'closed', 'reopened', 'updated'] as const;
export type MergeRequestEventAction = (typeof MR_EVENT_ACTIONS)[number];

export interface MergeRequestEvent {
  readonly project: string;
  readonly projectId: number;
  readonly action: MergeRequestEventAction;
  readonly iid: number;
  readonly sourceBranch: string;
  readonly targetBranch: string;
  readonly title: string;
  readonly mergeCommitSha: string | null;
}

/** The commit author used when an API caller does not pass `author_name`/`author_email`. */
export interface AuthorOverride {
  readonly authorName?: string;
  readonly authorEmail?: string;
}
