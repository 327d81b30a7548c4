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
  CompareSchema,
  CurrentUserSchema,
  MergeRequestSchema,
  NoteSchema,
  ProjectSchema,
  ProtectedBranchSchema,
  RepositoryFileSchema,
  TokenSchema,
} from './schemas.js';
import { TransientError } from '../../domain/errors.js';

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
  | { readonly kind: 'failed'; readonly message: string };

export type RevertOutcome =
  | { readonly kind: 'reverted'; readonly commit: CommitInfo }
  /** The change is already absent from the branch. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'conflict'; readonly message: string };

export interface NoteInfo {
  readonly id: number;
  readonly body: string;
  readonly system: boolean;
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
      action: 'update' as const,
      filePath: u.filePath,
      content: u.content,
      ...(u.lastCommitId !== undefined ? { lastCommitId: u.lastCommitId } : {}),
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
      throw toGitLabError(err, what, { kind: 'project', name: project });
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
    input: { sourceBranch: string; targetBranch: string; title: string; description: string },
  ): Promise<{ mergeRequest: MergeRequestInfo; created: boolean }> {
    const what = `POST merge request ${input.sourceBranch} → ${input.targetBranch} in ${project}`;
    try {
      const raw = await this.#api.MergeRequests.create(project, input.sourceBranch, input.targetBranch, input.title, {
        description: input.description,
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

  /** Merges with the `sha` guard. GitLab's refusals come back as outcomes; transport failures throw. */
  async mergeMergeRequest(project: string, iid: number, sha: string): Promise<MergeOutcome> {
    const what = `PUT merge of !${iid} in ${project}`;
    try {
      const raw = await this.#api.MergeRequests.merge(project, iid, { sha });
      return { kind: 'merged', mergeRequest: mergeRequestOf(parse(MergeRequestSchema, raw, what)) };
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
  };
}
