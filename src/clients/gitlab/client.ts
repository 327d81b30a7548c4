/**
 * Shepherd's GitLab client over `@gitbeaker/rest`: the calls the activities make, typed with our own small types,
 * responses parsed with zod, failures mapped to Shepherd's errors (`errors.ts`). It works around the library's
 * known gaps (api-contracts.md §0, §2): the MR list defaults to every state, so `state` is always sent;
 * `detailed_merge_status` is read as a plain string; the 409 duplicate-MR message is a list; a refused revert
 * loses GitLab's `error_code`, so `empty` is told from `conflict` by comparing trees; 500/503/504 and network
 * errors are not retried by gitbeaker and surface as TransientError for Temporal to retry.
 */
import { Buffer } from 'node:buffer';
import type { Agent as HttpAgent } from 'node:http';
import { Gitlab } from '@gitbeaker/rest';
import type { z } from 'zod';
import type { CompanyCa } from '../../config/company-ca.js';
import type { Secret } from '../../config/secret.js';
import { fetchDispatcher } from '../trust.js';
import { httpFailureOf, toGitLabError, unexpectedResponse, type GitLabTarget } from './errors.js';
import {
  BranchSchema,
  CommitSchema,
  CommitStatusSchema,
  CompareDiffsSchema,
  CompareSchema,
  DiffSchema,
  CurrentUserSchema,
  MergeRequestApprovalsSchema,
  MergeRequestSchema,
  NoteSchema,
  PipelineSchema,
  ProjectSchema,
  ProtectedBranchSchema,
  RepositoryFileSchema,
  TokenSchema,
} from './schemas.js';
import { TransientError, ValidationError } from '../../domain/errors.js';

export interface GitLabClientOptions {
  /** Base URL of the GitLab instance, e.g. `https://gitlab.example.com` (a trailing slash is dropped). */
  readonly url: string;
  readonly token: Secret;
  /** Per-request timeout; default 30 s. */
  readonly timeoutMs?: number;
  /** A company CA (SHEPHERD_CA_FILE) to trust besides the default roots. */
  readonly companyCa?: CompanyCa | undefined;
}

export interface GitLabProject {
  readonly path: string;
  readonly defaultBranch: string;
}

export interface RepositoryFile {
  readonly path: string;
  readonly content: string;
  /** The last commit that changed the file on the ref: the `last_commit_id` guard of an update. */
  readonly lastCommitId: string;
}

export interface CommitInfo {
  readonly sha: string;
  readonly title: string;
  readonly message: string;
  readonly parentShas: readonly string[];
}

export interface FileUpdate {
  readonly filePath: string;
  readonly content: string;
  /** Refuse the commit when the file changed since this commit (someone else's change is never clobbered). */
  readonly lastCommitId?: string;
  /** The file does not exist yet: the commit creates it (GitLab refuses to create a file that exists). */
  readonly create?: boolean;
}

export interface BranchInfo {
  readonly name: string;
  readonly headSha: string;
}

export type MergeRequestState = 'opened' | 'closed' | 'locked' | 'merged';

export interface MergeRequestInfo {
  readonly iid: number;
  readonly state: string;
  readonly title: string;
  readonly description: string;
  readonly sourceBranch: string;
  readonly targetBranch: string;
  readonly webUrl: string;
  /** Head of the source branch. */
  readonly sha: string;
  readonly detailedMergeStatus: string | undefined;
  /** The merge commit, else the squash commit, once merged (fast-forward merges leave both empty). */
  readonly mergeCommitSha: string | undefined;
  readonly createdAt: string;
  /** The pipeline for the MR head, when GitLab shows it (part A). */
  readonly headPipeline: PipelineInfo | undefined;
  /** Why the last rebase or automatic merge failed; undefined when nothing failed. */
  readonly mergeError: string | undefined;
  /** Whether a rebase is queued or running; undefined unless asked for (`getMergeRequest(…, {rebase: true})`). */
  readonly rebaseInProgress: boolean | undefined;
  /** Auto-merge is armed (`merge_when_pipeline_succeeds`). */
  readonly autoMergeArmed: boolean;
}

/** A CI pipeline (part A). */
export interface PipelineInfo {
  readonly id: number;
  readonly sha: string;
  /** `created`, `pending`, `running`, `success`, `failed`, `canceled`, `skipped`, `manual`, … */
  readonly status: string;
  readonly source: string | undefined;
  readonly webUrl: string;
}

export interface MergeRequestFilter {
  readonly state: MergeRequestState;
  readonly sourceBranch?: string;
  readonly targetBranch?: string;
  /** ISO instant; only MRs created at or after it. */
  readonly createdAfter?: string;
  /** Matched against title and description. */
  readonly search?: string;
}

/** The outcome of a merge attempt; refusals are answers the caller decides on, not exceptions. */
export type MergeOutcome =
  | { readonly kind: 'merged'; readonly mergeRequest: MergeRequestInfo }
  /** 409: the source branch moved since `sha`. */
  | { readonly kind: 'head-moved'; readonly message: string }
  /** 405/406: not mergeable right now (closed, checking, conflicts, rules). */
  | { readonly kind: 'not-mergeable'; readonly status: number; readonly message: string }
  /** 422: GitLab tried and failed. */
  | { readonly kind: 'failed'; readonly message: string }
  /** 200 with the MR still open: auto-merge is armed and GitLab merges when the head pipeline succeeds. */
  | { readonly kind: 'auto-merge-armed'; readonly mergeRequest: MergeRequestInfo };

export type RevertOutcome =
  | { readonly kind: 'reverted'; readonly commit: CommitInfo }
  /** The change is already absent from the branch. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'conflict'; readonly message: string };

/** Part B: who approved an MR, and whether GitLab considers it approved. */
export interface MergeRequestApprovals {
  /** EE: the approval rules are satisfied; CE: some approval exists. */
  readonly approved: boolean;
  /** EE only. */
  readonly approvalsRequired: number | undefined;
  /** EE only. */
  readonly approvalsLeft: number | undefined;
  /** Everyone who approved, whether or not a rule counts them. */
  readonly approvedBy: readonly { readonly username: string; readonly name: string }[];
  /** For the token's user. */
  readonly userHasApproved: boolean;
  readonly userCanApprove: boolean;
}

/** Part B: the outcome of an approve call; GitLab's refusals are answers the caller explains, not exceptions. */
export type ApproveOutcome =
  | { readonly kind: 'approved'; readonly approvals: MergeRequestApprovals }
  /** 304 (or an old GitLab's 401 on a repeat): this user had approved already. */
  | { readonly kind: 'already-approved'; readonly approvals: MergeRequestApprovals }
  /** 409: the MR's head is no longer the given sha. */
  | { readonly kind: 'head-moved'; readonly message: string }
  /** 403: no permission to approve MRs of the project (not a member, or Guest). */
  | { readonly kind: 'forbidden'; readonly message: string }
  /** 401: permitted but not eligible (the author or a committer where the project forbids it, or a password). */
  | { readonly kind: 'not-eligible'; readonly message: string };

export interface NoteInfo {
  readonly id: number;
  readonly body: string;
  readonly system: boolean;
}

/** A commit status (part E): the state an external CI posted on a commit, and the page it points at. */
export interface CommitStatusInfo {
  readonly id: number;
  readonly sha: string;
  readonly ref: string | undefined;
  /** `pending`, `running`, `success`, `failed`, `canceled`, `skipped` (or a GitLab job status). */
  readonly status: string;
  readonly name: string;
  /** For Jenkins: the build URL. */
  readonly targetUrl: string | undefined;
  readonly description: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class GitLabClient {
  readonly #api: InstanceType<typeof Gitlab>;

  constructor(options: GitLabClientOptions) {
    const dispatcher = fetchDispatcher(options.companyCa);
    this.#api = new Gitlab({
      host: options.url.replace(/\/+$/, ''),
      token: options.token.reveal(),
      queryTimeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // gitbeaker passes `agent` to fetch as its `dispatcher` (its type says http.Agent, its code says dispatcher).
      ...(dispatcher ? { agent: dispatcher as unknown as HttpAgent } : {}),
    });
  }

  /** The user the token belongs to (`GET /user`). AuthenticationError when the token is wrong, expired or revoked. */
  async currentUser(): Promise<{ readonly username: string }> {
    const raw = await this.#call('GET user', undefined, () => this.#api.Users.showCurrentUser());
    return { username: parse(CurrentUserSchema, raw, 'GET user').username };
  }

  /**
   * The scopes of the token in use (`GET /personal_access_tokens/self`, GitLab 15.5+). Undefined when GitLab cannot
   * say: older versions answer 404, and project, group and OAuth tokens are not personal access tokens.
   */
  async currentTokenScopes(): Promise<readonly string[] | undefined> {
    try {
      const raw = await this.#api.PersonalAccessTokens.show();
      return parse(TokenSchema, raw, 'GET personal_access_tokens/self').scopes;
    } catch (err) {
      if (httpFailureOf(err)?.status === 404) return undefined;
      throw toGitLabError(err, 'GET personal_access_tokens/self');
    }
  }

  /** The names (or wildcards such as `release/*`) of a project's protected branches. */
  async listProtectedBranches(project: string): Promise<string[]> {
    const what = `GET protected branches of ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () =>
      this.#api.ProtectedBranches.all(project, { perPage: 100, maxPages: 5 }),
    );
    return parseList(ProtectedBranchSchema, raw, what).map((b) => b.name);
  }

  /** The project and its default branch. NotFoundError (project) when it does not exist or is not visible. */
  async getProject(project: string): Promise<GitLabProject> {
    const raw = await this.#call(`GET project ${project}`, { kind: 'project', name: project }, () =>
      this.#api.Projects.show(project),
    );
    const p = parse(ProjectSchema, raw, `GET project ${project}`);
    return { path: p.path_with_namespace, defaultBranch: p.default_branch };
  }

  /** A text file at `ref` (branch, tag or sha). NotFoundError when the project, ref or file is missing. */
  async readFile(project: string, path: string, ref: string): Promise<RepositoryFile> {
    const what = `GET file ${path}@${ref} in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: `${project}: ${path}@${ref}` }, () =>
      this.#api.RepositoryFiles.show(project, path, ref),
    );
    const file = parse(RepositoryFileSchema, raw, what);
    const content = file.encoding === 'base64' ? Buffer.from(file.content, 'base64').toString('utf8') : file.content;
    return { path: file.file_path, content, lastCommitId: file.last_commit_id };
  }

  /**
   * One atomic commit of file updates on `branch`; with `startBranch` the branch is created from it. A stale
   * `lastCommitId` (the file changed meanwhile) is a TransientError: a retry reads the file again.
   */
  async commitFiles(
    project: string,
    input: { branch: string; message: string; updates: readonly FileUpdate[]; startBranch?: string },
  ): Promise<CommitInfo> {
    const what = `POST commit to ${input.branch} in ${project}`;
    const actions = input.updates.map((u) => ({
      action: u.create === true ? ('create' as const) : ('update' as const),
      filePath: u.filePath,
      content: u.content,
      ...(u.lastCommitId !== undefined && u.create !== true ? { lastCommitId: u.lastCommitId } : {}),
    }));
    try {
      const raw = await this.#api.Commits.create(
        project,
        input.branch,
        input.message,
        actions,
        input.startBranch !== undefined ? { startBranch: input.startBranch } : {},
      );
      return commitOf(parse(CommitSchema, raw, what));
    } catch (err) {
      const http = httpFailureOf(err);
      if (http?.status === 400 && /changed since you started editing/i.test(http.message)) {
        throw new TransientError(
          `a file changed on ${input.branch} while Shepherd was editing it; it will be read again`,
          { system: 'gitlab', status: 400 },
        );
      }
      throw toGitLabError(err, what, { kind: 'project', name: project, branch: input.branch });
    }
  }

  /** The newest commits of `ref` (one page, newest first). */
  async listCommits(project: string, ref: string, limit = 50): Promise<CommitInfo[]> {
    const what = `GET commits of ${ref} in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () =>
      this.#api.Commits.all(project, { refName: ref, perPage: Math.min(limit, 100), page: 1 }),
    );
    return parseList(CommitSchema, raw, what).map(commitOf);
  }

  /** One commit by sha. */
  async getCommit(project: string, sha: string): Promise<CommitInfo> {
    const what = `GET commit ${sha} in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () => this.#api.Commits.show(project, sha));
    return commitOf(parse(CommitSchema, raw, what));
  }

  /** Commits reachable from `to` but not from `from` (oldest first) and the paths that differ between them. */
  async compare(
    project: string,
    from: string,
    to: string,
    opts: { straight?: boolean } = {},
  ): Promise<{ commits: CommitInfo[]; changedPaths: string[] }> {
    const what = `GET compare ${from}...${to} in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () =>
      this.#api.Repositories.compare(project, from, to, { straight: opts.straight ?? false }),
    );
    const parsed = parse(CompareSchema, raw, what);
    const changedPaths = (parsed.diffs ?? []).flatMap((d) => [d.old_path, d.new_path]);
    return { commits: parsed.commits.map(commitOf), changedPaths: [...new Set(changedPaths)] };
  }

  /** The branch, or undefined when it does not exist. */
  async getBranch(project: string, name: string): Promise<BranchInfo | undefined> {
    try {
      const raw = await this.#api.Branches.show(project, name);
      return branchOf(parse(BranchSchema, raw, `GET branch ${name}`));
    } catch (err) {
      if (httpFailureOf(err)?.status === 404 && /branch/i.test(httpFailureOf(err)!.message)) return undefined;
      throw toGitLabError(err, `GET branch ${name} in ${project}`, { kind: 'project', name: project });
    }
  }

  /** Creates `name` at `ref`. */
  async createBranch(project: string, name: string, ref: string): Promise<BranchInfo> {
    const what = `POST branch ${name} from ${ref} in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () =>
      this.#api.Branches.create(project, name, ref),
    );
    return branchOf(parse(BranchSchema, raw, what));
  }

  /** Deletes a branch; false when it did not exist. The default or a protected branch is refused (ValidationError). */
  async deleteBranch(project: string, name: string): Promise<boolean> {
    try {
      await this.#api.Branches.remove(project, name);
      return true;
    } catch (err) {
      const http = httpFailureOf(err);
      if (http?.status === 404 && /branch/i.test(http.message)) return false;
      throw toGitLabError(err, `DELETE branch ${name} in ${project}`, { kind: 'project', name: project });
    }
  }

  /** MRs matching the filter, newest first. `state` is required: GitLab's default is every state. */
  async listMergeRequests(project: string, filter: MergeRequestFilter): Promise<MergeRequestInfo[]> {
    const what = `GET merge requests in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () =>
      this.#api.MergeRequests.all({
        projectId: project,
        state: filter.state,
        orderBy: 'created_at',
        sort: 'desc',
        perPage: 100,
        maxPages: 5,
        ...(filter.sourceBranch !== undefined ? { sourceBranch: filter.sourceBranch } : {}),
        ...(filter.targetBranch !== undefined ? { targetBranch: filter.targetBranch } : {}),
        ...(filter.createdAfter !== undefined ? { createdAfter: filter.createdAfter } : {}),
        ...(filter.search !== undefined ? { search: filter.search } : {}),
      }),
    );
    return parseList(MergeRequestSchema, raw, what).map(mergeRequestOf);
  }

  /** One MR with its current (not list-cached) merge status. NotFoundError (merge-request) when missing. */
  async getMergeRequest(project: string, iid: number): Promise<MergeRequestInfo> {
    const what = `GET merge request !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequests.show(project, iid),
    );
    return mergeRequestOf(parse(MergeRequestSchema, raw, what));
  }

  /**
   * Opens an MR, or returns the open one for the same branch pair when GitLab refuses a duplicate (409, whose
   * message is a list naming `!iid`).
   */
  async createMergeRequest(
    project: string,
    input: {
      sourceBranch: string;
      targetBranch: string;
      title: string;
      description: string;
      /** `remove_source_branch`: GitLab deletes the source branch once the MR merges (part A). */
      removeSourceBranch?: boolean;
    },
  ): Promise<{ mergeRequest: MergeRequestInfo; created: boolean }> {
    const what = `POST merge request ${input.sourceBranch} → ${input.targetBranch} in ${project}`;
    try {
      const raw = await this.#api.MergeRequests.create(project, input.sourceBranch, input.targetBranch, input.title, {
        description: input.description,
        ...(input.removeSourceBranch !== undefined ? { removeSourceBranch: input.removeSourceBranch } : {}),
      });
      return { mergeRequest: mergeRequestOf(parse(MergeRequestSchema, raw, what)), created: true };
    } catch (err) {
      if (httpFailureOf(err)?.status !== 409) throw toGitLabError(err, what, { kind: 'project', name: project });
      const [open] = await this.listMergeRequests(project, {
        state: 'opened',
        sourceBranch: input.sourceBranch,
        targetBranch: input.targetBranch,
      });
      if (!open) throw toGitLabError(err, what, { kind: 'project', name: project });
      return { mergeRequest: await this.getMergeRequest(project, open.iid), created: false };
    }
  }

  /**
   * Merges with the `sha` guard. GitLab's refusals come back as outcomes; transport failures throw. Part A:
   * `shouldRemoveSourceBranch` deletes the source branch after the merge; `autoMerge` arms auto-merge while the head
   * pipeline runs (sent as `auto_merge`, 17.11+, and as the older `merge_when_pipeline_succeeds`, which every
   * version accepts), which answers 200 with the MR still open.
   */
  async mergeMergeRequest(
    project: string,
    iid: number,
    sha: string,
    opts: { shouldRemoveSourceBranch?: boolean; autoMerge?: boolean } = {},
  ): Promise<MergeOutcome> {
    const what = `PUT merge of !${iid} in ${project}`;
    try {
      const raw = await this.#api.MergeRequests.merge(project, iid, {
        sha,
        ...(opts.shouldRemoveSourceBranch !== undefined
          ? { shouldRemoveSourceBranch: opts.shouldRemoveSourceBranch }
          : {}),
        ...(opts.autoMerge === true ? { autoMerge: true, mergeWhenPipelineSucceeds: true } : {}),
      });
      const merged = mergeRequestOf(parse(MergeRequestSchema, raw, what));
      if (opts.autoMerge === true && merged.state === 'opened')
        return { kind: 'auto-merge-armed', mergeRequest: merged };
      return { kind: 'merged', mergeRequest: merged };
    } catch (err) {
      const http = httpFailureOf(err);
      if (http?.status === 409) return { kind: 'head-moved', message: http.message };
      if (http?.status === 405 || http?.status === 406)
        return { kind: 'not-mergeable', status: http.status, message: http.message };
      if (http?.status === 422) return { kind: 'failed', message: http.message };
      throw toGitLabError(err, what, { kind: 'merge-request', name: `${project}!${iid}` });
    }
  }

  /** Closes an MR (`state_event=close`). */
  async closeMergeRequest(project: string, iid: number): Promise<MergeRequestInfo> {
    const what = `PUT close of !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequests.edit(project, iid, { stateEvent: 'close' }),
    );
    return mergeRequestOf(parse(MergeRequestSchema, raw, what));
  }

  /** Comments on an MR. */
  async addNote(project: string, iid: number, body: string): Promise<NoteInfo> {
    const what = `POST note on !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequestNotes.create(project, iid, body),
    );
    return noteOf(parse(NoteSchema, raw, what));
  }

  /** The MR's comments, system notes excluded. */
  async listNotes(project: string, iid: number): Promise<NoteInfo[]> {
    const what = `GET notes of !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequestNotes.all(project, iid, { sort: 'asc', orderBy: 'created_at', perPage: 100, maxPages: 5 }),
    );
    return parseList(NoteSchema, raw, what)
      .map(noteOf)
      .filter((n) => !n.system);
  }

  /**
   * GitLab's revert of `sha` as a new commit on `branch`. gitbeaker drops the refusal's `error_code`, so a 400 is
   * told apart here: `empty` when every path the commit changed already has its parent's content on the branch,
   * `conflict` otherwise.
   */
  async revertCommit(project: string, sha: string, branch: string): Promise<RevertOutcome> {
    const what = `POST revert of ${sha.slice(0, 8)} onto ${branch} in ${project}`;
    try {
      const raw = await this.#api.Commits.revert(project, sha, branch);
      return { kind: 'reverted', commit: commitOf(parse(CommitSchema, raw, what)) };
    } catch (err) {
      const http = httpFailureOf(err);
      if (http?.status !== 400) throw toGitLabError(err, what, { kind: 'branch', name: branch });
      const commit = await this.getCommit(project, sha);
      const parent = commit.parentShas[0];
      if (parent === undefined) return { kind: 'conflict', message: http.message };
      const changed = await this.compare(project, parent, sha, { straight: true });
      const branchHead = await this.getBranch(project, branch);
      if (!branchHead) return { kind: 'conflict', message: http.message };
      const sinceParent = await this.compare(project, parent, branchHead.headSha, { straight: true });
      const stillThere = changed.changedPaths.some((p) => sinceParent.changedPaths.includes(p));
      return stillThere ? { kind: 'conflict', message: http.message } : { kind: 'empty' };
    }
  }

  // ---- Part E: commit statuses ----------------------------------------------------------------------------------

  /**
   * The latest status per name that CI systems posted on commit `sha` (`GET …/repository/commits/:sha/statuses`,
   * first 100), oldest first, optionally only those for `ref` or named `name` (Jenkins' gitlab-plugin posts `jenkins`,
   * gitlab-branch-source `jenkinsci/branch`). NotFoundError for an unknown project or commit.
   */
  async listCommitStatuses(
    project: string,
    sha: string,
    filter: { readonly ref?: string; readonly name?: string } = {},
  ): Promise<CommitStatusInfo[]> {
    const what = `GET statuses of commit ${sha.slice(0, 12)} in ${project}`;
    // gitbeaker types this call without pagination options but forwards them as `per_page`.
    const query: { ref?: string; name?: string } = { perPage: 100, ...filter } as { ref?: string; name?: string };
    const raw = await this.#call(what, { kind: 'project', name: project }, () =>
      this.#api.Commits.allStatuses(project, sha, query),
    );
    return parseList(CommitStatusSchema, raw, what).map((c) => ({
      id: c.id,
      sha: c.sha,
      ref: c.ref ?? undefined,
      status: c.status,
      name: c.name ?? 'default',
      targetUrl: c.target_url ?? undefined,
      description: c.description ?? undefined,
    }));
  }

  // ---- Part C: ancestry of commits (real-installations.md §4.1) -------------------------------------------------

  /**
   * Whether `ancestor` is `descendant` or in its history: `merge_base(ancestor, descendant) == ancestor`, which holds
   * when others have pushed on top (a shared env branch). False when the histories share nothing (404 "Merge Base
   * Not Found") or GitLab knows one of the commits not (400 "Could not find ref"): such a revision cannot contain
   * `ancestor`. A pure read; the answer for two commits never changes, so callers may cache it.
   */
  async isAncestor(project: string, ancestor: string, descendant: string): Promise<boolean> {
    if (ancestor === descendant) return true;
    const what = `GET merge_base of ${ancestor.slice(0, 8)} and ${descendant.slice(0, 8)} in ${project}`;
    try {
      const raw = await this.#api.Repositories.mergeBase(project, [ancestor, descendant]);
      return parse(CommitSchema, raw, what).id === ancestor;
    } catch (err) {
      const http = httpFailureOf(err);
      if (http?.status === 404 && /merge base/i.test(http.message)) return false;
      if (http?.status === 400 && /could not find ref/i.test(http.message)) return false;
      throw toGitLabError(err, what, { kind: 'project', name: project });
    }
  }

  // ---- part A: merge rules (rebase, pipelines) ------------------------------------------------------------------

  /**
   * One MR with `include_rebase_in_progress=true`, so that `rebaseInProgress` is known. NotFoundError
   * (merge-request) when missing.
   */
  async getMergeRequestRebaseState(project: string, iid: number): Promise<MergeRequestInfo> {
    const what = `GET merge request !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequests.show(project, iid, { includeRebaseInProgress: true }),
    );
    return mergeRequestOf(parse(MergeRequestSchema, raw, what));
  }

  /**
   * Queues GitLab's rebase of the MR's source branch onto its target (`PUT …/rebase`, 202). GitLab does it
   * asynchronously: poll `getMergeRequestRebaseState` until `rebaseInProgress` is false, then read `sha` (done) or
   * `mergeError` (failed). A 403 (source branch missing, protected or not pushable) is a ValidationError naming
   * GitLab's reason, not a credentials problem; a 409 (could not enqueue) is transient.
   */
  async rebaseMergeRequest(project: string, iid: number): Promise<void> {
    const what = `PUT rebase of !${iid} in ${project}`;
    try {
      await this.#api.MergeRequests.rebase(project, iid);
    } catch (err) {
      const http = httpFailureOf(err);
      if (http?.status === 403 && /source branch/i.test(http.message))
        throw new ValidationError(
          `gitlab: ${what}`,
          `was refused: ${http.message}`,
          `GitLab cannot rebase merge request !${iid}: ${http.message}. Rebase it by hand (or let Shepherd open a new one), then run again.`,
        );
      if (http?.status === 409)
        throw new TransientError(`GitLab could not queue the rebase of !${iid}: ${http.message}`, {
          system: 'gitlab',
          status: 409,
        });
      throw toGitLabError(err, what, { kind: 'merge-request', name: `${project}!${iid}` });
    }
  }

  /** The MR's pipelines, newest first (`GET …/merge_requests/:iid/pipelines`, first page). */
  async listMergeRequestPipelines(project: string, iid: number): Promise<PipelineInfo[]> {
    const what = `GET pipelines of !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequests.allPipelines(project, iid, { perPage: 20, page: 1 }),
    );
    return parseList(PipelineSchema, raw, what).map(pipelineOf);
  }

  /** One pipeline by id (`GET …/pipelines/:id`). */
  async getPipeline(project: string, id: number): Promise<PipelineInfo> {
    const what = `GET pipeline ${id} in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () => this.#api.Pipelines.show(project, id));
    return pipelineOf(parse(PipelineSchema, raw, what));
  }

  /**
   * The lines `to` adds and removes in each of `paths` against its merge base with `from` (`compare`, three dots),
   * without the context lines and hunk headers, so that the same change on a moved base compares equal. A path
   * the comparison does not touch is absent.
   */
  async changedLines(
    project: string,
    from: string,
    to: string,
    paths: readonly string[],
  ): Promise<Map<string, readonly string[]>> {
    const what = `GET compare ${from}...${to} in ${project}`;
    const raw = await this.#call(what, { kind: 'project', name: project }, () =>
      this.#api.Repositories.compare(project, from, to, { straight: false }),
    );
    return changedLinesOf(parse(CompareDiffsSchema, raw, what).diffs, paths);
  }

  /** Like `changedLines`, for the MR's own diff (`GET …/merge_requests/:iid/diffs`), open or merged. */
  async mergeRequestChangedLines(
    project: string,
    iid: number,
    paths: readonly string[],
  ): Promise<Map<string, readonly string[]>> {
    const what = `GET diffs of !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequests.allDiffs(project, iid, { perPage: 100, maxPages: 5 }),
    );
    if (!Array.isArray(raw)) throw unexpectedResponse(what, 'expected a list');
    return changedLinesOf(
      raw.map((d) => parse(DiffSchema, d, what)),
      paths,
    );
  }

  // ---- Part B: merge request approvals (real-installations.md §2) -----------------------------------------------

  /**
   * The approvals of an MR (`GET …/merge_requests/:iid/approvals`). NotFoundError (merge-request) for an unknown
   * iid. `approvalsLeft` is undefined on GitLab CE, whose `approved` only means that some approval exists.
   */
  async getMergeRequestApprovals(project: string, iid: number): Promise<MergeRequestApprovals> {
    const what = `GET approvals of !${iid} in ${project}`;
    const raw = await this.#call(what, { kind: 'merge-request', name: `${project}!${iid}` }, () =>
      this.#api.MergeRequestApprovals.showConfiguration(project, { mergerequestIId: iid }),
    );
    return approvalsOf(parse(MergeRequestApprovalsSchema, raw, what));
  }

  /**
   * Approves an MR as the token's user, only if its head is still `sha` (`POST …/approve`). GitLab's refusals are
   * outcomes: 401 not eligible (the author or a committer where the project forbids it), 403 no permission
   * (not a member, or Guest), 409 the head moved, 304 already approved by this user (older GitLab: 401 on a
   * repeat, so a 401 is checked against `approved_by` before it is reported as ineligible).
   */
  async approveMergeRequest(project: string, iid: number, sha: string): Promise<ApproveOutcome> {
    const what = `POST approve of !${iid} in ${project}`;
    try {
      const raw = await this.#api.MergeRequestApprovals.approve(project, iid, { sha });
      return { kind: 'approved', approvals: approvalsOf(parse(MergeRequestApprovalsSchema, raw, what)) };
    } catch (err) {
      const http = httpFailureOf(err);
      if (http?.status === 409) return { kind: 'head-moved', message: http.message };
      if (http?.status === 403) return { kind: 'forbidden', message: http.message };
      if (http?.status === 304 || http?.status === 401) {
        const approvals = await this.getMergeRequestApprovals(project, iid);
        if (http.status === 304 || approvals.userHasApproved) return { kind: 'already-approved', approvals };
        return { kind: 'not-eligible', message: http.message };
      }
      throw toGitLabError(err, what, { kind: 'merge-request', name: `${project}!${iid}` });
    }
  }

  /** Withdraws the token user's approval (`POST …/unapprove`); false when there was none (304). */
  async unapproveMergeRequest(project: string, iid: number): Promise<boolean> {
    const what = `POST unapprove of !${iid} in ${project}`;
    try {
      await this.#api.MergeRequestApprovals.unapprove(project, iid);
      return true;
    } catch (err) {
      if (httpFailureOf(err)?.status === 304) return false;
      throw toGitLabError(err, what, { kind: 'merge-request', name: `${project}!${iid}` });
    }
  }

  async #call<T>(what: string, target: GitLabTarget | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toGitLabError(err, what, target);
    }
  }
}

function parse<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success)
    throw unexpectedResponse(
      what,
      result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  return result.data;
}

function parseList<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S>[] {
  if (!Array.isArray(raw)) throw unexpectedResponse(what, 'expected a list');
  return raw.map((item) => parse(schema, item, what));
}

function commitOf(c: z.output<typeof CommitSchema>): CommitInfo {
  return { sha: c.id, title: c.title, message: c.message, parentShas: c.parent_ids ?? [] };
}

function branchOf(b: z.output<typeof BranchSchema>): BranchInfo {
  return { name: b.name, headSha: b.commit.id };
}

function noteOf(n: z.output<typeof NoteSchema>): NoteInfo {
  return { id: n.id, body: n.body, system: n.system ?? false };
}

function mergeRequestOf(m: z.output<typeof MergeRequestSchema>): MergeRequestInfo {
  return {
    iid: m.iid,
    state: m.state,
    title: m.title,
    description: m.description ?? '',
    sourceBranch: m.source_branch,
    targetBranch: m.target_branch,
    webUrl: m.web_url,
    sha: m.sha ?? '',
    detailedMergeStatus: m.detailed_merge_status ?? undefined,
    mergeCommitSha: m.merge_commit_sha ?? m.squash_commit_sha ?? undefined,
    createdAt: m.created_at,
    headPipeline: m.head_pipeline ? pipelineOf(m.head_pipeline) : undefined,
    mergeError: m.merge_error ?? undefined,
    rebaseInProgress: m.rebase_in_progress ?? undefined,
    autoMergeArmed: m.merge_when_pipeline_succeeds ?? false,
  };
}

/** The added and removed lines of each diff of `paths`, without context lines and hunk headers. */
function changedLinesOf(
  diffs: readonly z.output<typeof DiffSchema>[],
  paths: readonly string[],
): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const d of diffs) {
    if (!paths.includes(d.new_path) && !paths.includes(d.old_path)) continue;
    out.set(
      d.new_path,
      d.diff.split('\n').filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l)),
    );
  }
  return out;
}

function pipelineOf(p: z.output<typeof PipelineSchema>): PipelineInfo {
  return { id: p.id, sha: p.sha, status: p.status, source: p.source ?? undefined, webUrl: p.web_url };
}

function approvalsOf(a: z.output<typeof MergeRequestApprovalsSchema>): MergeRequestApprovals {
  return {
    approved: a.approved ?? false,
    approvalsRequired: a.approvals_required ?? undefined,
    approvalsLeft: a.approvals_left ?? undefined,
    approvedBy: a.approved_by.map((entry) => ({ username: entry.user.username, name: entry.user.name ?? '' })),
    userHasApproved: a.user_has_approved ?? false,
    userCanApprove: a.user_can_approve ?? false,
  };
}
