/**
 * The simulated GitLab's state and rules: users and tokens, projects with real git-like history, commits through
 * file actions, branches, revert, and (through `MergeRequestService`) merge requests. No HTTP here: the server
 * translates requests into these calls, and the lead's controllers use the same calls directly.
 */
import type { Clock } from '../core/clock.js';
import type { DomainFaultContext, FaultEngine } from '../core/faults.js';
import { GitLabError } from './errors.js';
import {
  GitRepository,
  blobOf,
  commitTitle,
  isInvalidFilePath,
  type Commit,
  type FileAction,
  type Person,
  type Tree,
} from './git-store.js';
import { ProjectHooks } from './hooks.js';
import { MergeRequestService, type MergeRequestHost } from './merge-requests.js';
import { PipelineStore } from './pipelines.js';
import {
  fullPath,
  type MergeRequest,
  type MergeRequestEvent,
  type MergeRequestEventAction,
  type PersonalAccessToken,
  type Project,
  type PushEvent,
  type User,
} from './types.js';

export const ZERO_SHA = '0'.repeat(40);

export interface GitLabModelOptions {
  readonly clock: Clock;
  readonly faults: FaultEngine;
  /** Branches that are environments (domain faults are matched on them); default `dev`, `stage`, `prod`. */
  readonly envBranches?: readonly string[];
  /** Names the application an MR deploys, for domain fault matching; default: read from the MR title. */
  readonly appOf?: (project: Project, mr: MergeRequest) => string | undefined;
}

/** Input of `GitLabModel.commit`, mirroring `POST /projects/:id/repository/commits`. */
export interface CommitInput {
  readonly branch: string;
  readonly message: string;
  readonly actions: readonly FileAction[];
  readonly startBranch?: string;
  readonly startSha?: string;
  readonly force?: boolean;
  /** Acting user's username; default `root`. */
  readonly as?: string;
  readonly authorName?: string;
  readonly authorEmail?: string;
  /** Which API's wording a stale `last_commit_id` gets: the files API or the commits API (default). */
  readonly staleWording?: 'files' | 'commits';
}

export type PushListener = (event: PushEvent) => void | Promise<void>;
export type MergeRequestListener = (event: MergeRequestEvent) => void | Promise<void>;

/** What `snapshot()` reports per project, for the inspection endpoint. */
export interface ProjectSnapshot {
  readonly id: number;
  readonly path: string;
  readonly defaultBranch: string;
  readonly branches: readonly { name: string; head: string; commits: number }[];
  readonly mergeRequests: Record<
    'opened' | 'closed' | 'merged',
    readonly {
      iid: number;
      source: string;
      target: string;
      title: string;
      mergeCommitSha: string | null;
      detailedMergeStatus: string;
    }[]
  >;
  readonly merges: number;
  readonly reverts: number;
}

const REVERT_FAILED =
  'Sorry, we cannot revert this commit automatically. This commit may already have been reverted, or a more recent commit may have updated some of its content.';
const BRANCH_NAME = /^(?!\/|.*(?:\/\.|\/\/|\.\.|@\{|\\))[^ ~^:?*[]+(?<!\.lock|\/|\.)$/;

/** Whether `name` is a valid git branch name (`git check-ref-format --branch`), as GitLab validates it. */
export function isValidBranchName(name: string): boolean {
  const hasControlChar = [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  return name !== 'HEAD' && name !== '@' && !name.startsWith('-') && !hasControlChar && BRANCH_NAME.test(name);
}

export class GitLabModel {
  readonly clock: Clock;
  readonly faults: FaultEngine;
  readonly mergeRequests: MergeRequestService;
  /** Project webhooks and their deliveries. */
  readonly hooks: ProjectHooks;
  /** CI pipelines (part A: MR pipelines; commit statuses add `external` ones). */
  readonly pipelines: PipelineStore;
  private readonly users = new Map<number, User>();
  private readonly tokens = new Map<string, PersonalAccessToken>();
  private nextTokenId = 1;
  private readonly projects = new Map<number, Project>();
  private readonly namespaces = new Map<string, number>();
  private readonly pushListeners = new Set<PushListener>();
  private readonly mrListeners = new Set<MergeRequestListener>();
  private nextUserId = 1;
  private nextProjectId = 1;
  /** Errors thrown by event listeners, kept for inspection instead of breaking the API call that fired them. */
  readonly listenerErrors: Error[] = [];

  constructor(private readonly opts: GitLabModelOptions) {
    this.clock = opts.clock;
    this.faults = opts.faults;
    this.addUser({ username: 'root', name: 'Administrator', email: 'admin@example.com' });
    this.pipelines = new PipelineStore(opts.clock);
    this.mergeRequests = new MergeRequestService(this.mergeRequestHost());
    this.hooks = new ProjectHooks(this);
  }

  // ---- users and tokens -------------------------------------------------------------------------------------

  /**
   * Adds a user; `tokens` are personal access tokens accepted as `PRIVATE-TOKEN` or `Authorization: Bearer`, each
   * with the `api` scope.
   */
  addUser(input: { username: string; name?: string; email?: string; tokens?: readonly string[] }): User {
    if (this.findUser(input.username)) throw new Error(`user ${input.username} already exists`);
    const user: User = {
      id: this.nextUserId++,
      username: input.username,
      name: input.name ?? input.username,
      email: input.email ?? `${input.username}@example.com`,
      createdAt: this.clock.now(),
    };
    this.users.set(user.id, user);
    for (const t of input.tokens ?? []) this.addToken(user.username, t);
    return user;
  }

  /** Adds a personal access token for an existing user; its scopes default to `api` (what Shepherd needs). */
  addToken(username: string, token: string, scopes: readonly string[] = ['api']): void {
    const id = this.nextTokenId++;
    this.tokens.set(token, {
      id,
      name: `token-${id}`,
      userId: this.userNamed(username).id,
      scopes: [...scopes],
      createdAt: this.clock.now(),
    });
  }

  /** The record of a token (`GET /personal_access_tokens/self`); undefined when it is unknown or revoked. */
  tokenInfo(token: string): PersonalAccessToken | undefined {
    return this.tokens.get(token);
  }

  /** Replaces the scopes of a token, as an administrator re-issuing it with other scopes would. */
  setTokenScopes(token: string, scopes: readonly string[]): void {
    const t = this.tokens.get(token);
    if (!t) throw new Error('unknown token');
    this.tokens.set(token, { ...t, scopes: [...scopes] });
  }

  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  userByToken(token: string): User | undefined {
    const id = this.tokens.get(token)?.userId;
    return id === undefined ? undefined : this.users.get(id);
  }

  findUser(username: string): User | undefined {
    return [...this.users.values()].find((u) => u.username === username);
  }

  userById(id: number): User {
    const u = this.users.get(id);
    if (!u) throw new Error(`unknown user ${id}`);
    return u;
  }

  private userNamed(username = 'root'): User {
    const u = this.findUser(username);
    if (!u) throw new Error(`unknown user ${username}`);
    return u;
  }

  // ---- projects ---------------------------------------------------------------------------------------------

  /**
   * Creates a project `group/name` whose default branch holds `files` in one initial commit (an empty repository
   * when `files` is absent).
   */
  createProject(input: {
    path: string;
    defaultBranch?: string;
    files?: Record<string, string>;
    description?: string;
    as?: string;
  }): Project {
    const [namespace, path, ...extra] = input.path.split('/');
    if (!namespace || !path || extra.length > 0) throw new Error(`project path must be group/name, got ${input.path}`);
    if (this.findProject(input.path)) throw new Error(`project ${input.path} already exists`);
    let namespaceId = this.namespaces.get(namespace);
    if (namespaceId === undefined) {
      namespaceId = this.namespaces.size + 1;
      this.namespaces.set(namespace, namespaceId);
    }
    const defaultBranch = input.defaultBranch ?? 'main';
    const project: Project = {
      id: this.nextProjectId++,
      path,
      name: path,
      namespace,
      namespaceId,
      description: input.description ?? '',
      defaultBranch,
      protectedBranches: new Set([defaultBranch]),
      pushAccessLevels: new Map(),
      repo: new GitRepository(() => this.clock.now()),
      createdAt: this.clock.now(),
      commitsPerBranch: new Map(),
      merges: 0,
      reverts: 0,
      mergeMethod: 'merge',
      onlyAllowMergeIfPipelineSucceeds: false,
      mergeRequestPipelines: undefined,
    };
    this.projects.set(project.id, project);
    if (input.files) {
      const user = this.userNamed(input.as);
      const tree = new Map(
        Object.entries(input.files).map(([p, content]) => [p, blobOf(Buffer.from(content, 'utf8'))]),
      );
      const commit = project.repo.createCommit({
        parentIds: [],
        tree,
        message: 'Initial commit',
        author: personOf(user),
      });
      this.moveBranch(project, defaultBranch, commit, user.id);
    }
    return project;
  }

  /** Finds a project by numeric id (as number or string) or by full path; undefined when unknown. */
  findProject(ref: string | number): Project | undefined {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return this.projects.get(Number(ref));
    return [...this.projects.values()].find((p) => fullPath(p) === ref);
  }

  /** Like `findProject`, but refuses with GitLab's 404 Project Not Found. */
  project(ref: string | number): Project {
    const p = this.findProject(ref);
    if (!p) throw GitLabError.notFound('Project');
    return p;
  }

  allProjects(): Project[] {
    return [...this.projects.values()];
  }

  // ---- repository -------------------------------------------------------------------------------------------

  /** Resolves a ref (`HEAD` = default branch); refuses with 404 Commit Not Found. */
  resolveRef(projectRef: string | number, ref: string): Commit {
    const project = this.project(projectRef);
    const commit = project.repo.resolve(ref === 'HEAD' ? project.defaultBranch : ref);
    if (!commit) throw GitLabError.notFound('Commit');
    return commit;
  }

  branchHead(projectRef: string | number, branch: string): string | undefined {
    return this.project(projectRef).repo.branchHead(branch);
  }

  /** Creates `name` at `ref`, refusing like `POST …/repository/branches` does. Returns the head commit. */
  createBranch(projectRef: string | number, name: string, ref: string, as?: string): Commit {
    const project = this.project(projectRef);
    if (!isValidBranchName(name)) throw GitLabError.badRequest('Branch name is invalid');
    if (project.repo.hasBranch(name)) throw GitLabError.badRequest('Branch already exists');
    const commit = project.repo.resolve(ref === 'HEAD' ? project.defaultBranch : ref);
    if (!commit) throw GitLabError.badRequest(`Invalid reference name: ${ref}`);
    this.moveBranch(project, name, commit, this.userNamed(as).id, []);
    return commit;
  }

  /**
   * Protects a branch name: Maintainers push and merge, as `POST …/protected_branches` defaults to, unless
   * `pushAccessLevel` says otherwise (0: no one pushes, changes arrive only through merge requests).
   */
  protectBranch(projectRef: string | number, name: string, opts: { pushAccessLevel?: 0 | 30 | 40 } = {}): void {
    const project = this.project(projectRef);
    project.protectedBranches.add(name);
    if (opts.pushAccessLevel !== undefined) project.pushAccessLevels.set(name, opts.pushAccessLevel);
    else project.pushAccessLevels.delete(name);
  }

  /** Removes a branch's protection; a no-op when it was not protected. */
  unprotectBranch(projectRef: string | number, name: string): void {
    const project = this.project(projectRef);
    project.protectedBranches.delete(name);
    project.pushAccessLevels.delete(name);
  }

  /** Whether sandbox users (Maintainers) may push to `branch` directly: not when its protection allows no one. */
  mayPush(project: Project, branch: string): boolean {
    return !(project.protectedBranches.has(branch) && project.pushAccessLevels.get(branch) === 0);
  }

  /**
   * Deletes a branch as `as` (default root); the default and protected branches are refused (405 in the API). The
   * deletion is reported as a push whose `after` is 40 zeros.
   */
  deleteBranch(projectRef: string | number, name: string, as?: string): void {
    const project = this.project(projectRef);
    if (!project.repo.hasBranch(name)) throw GitLabError.notFound('Branch');
    if (name === project.defaultBranch) throw new GitLabError('not-allowed', 'Cannot remove HEAD branch');
    if (project.protectedBranches.has(name)) throw new GitLabError('not-allowed', 'Protected branch cant be removed');
    this.removeBranch(project, name, this.userNamed(as).id);
  }

  private removeBranch(project: Project, branch: string, userId: number): void {
    const before = project.repo.branchHead(branch) ?? ZERO_SHA;
    project.repo.deleteBranch(branch);
    this.mergeRequests.onBranchChanged(project, branch);
    this.emit(this.pushListeners, {
      project: fullPath(project),
      projectId: project.id,
      branch,
      before,
      after: ZERO_SHA,
      commits: [],
      userId,
    } satisfies PushEvent);
  }

  /**
   * Commits `actions` to `branch` atomically, with the commits API's rules: a new branch needs `startBranch` or
   * `startSha`; an existing one is overwritten from the start point only with `force`.
   */
  commit(projectRef: string | number, input: CommitInput): Commit {
    const project = this.project(projectRef);
    const user = this.userNamed(input.as);
    const { repo } = project;
    if (input.startBranch !== undefined && input.startSha !== undefined)
      throw GitLabError.invalidParams('start_branch, start_sha are mutually exclusive');
    // As the commit and file services' `validate_permissions!`: a protected branch nobody may push to refuses it.
    if (!this.mayPush(project, input.branch))
      throw new GitLabError('forbidden', 'You are not allowed to push into this branch');
    const start = input.startSha ?? input.startBranch ?? input.branch;
    const differentStart = start !== input.branch;
    const exists = repo.hasBranch(input.branch);
    if (differentStart || !exists) {
      if (!isValidBranchName(input.branch)) throw GitLabError.badRequest('Branch name is invalid');
    }
    if (differentStart && exists && !input.force) throw GitLabError.badRequest('Branch already exists');
    const emptyRepo = repo.branchNames().length === 0;
    let startCommit: Commit | undefined;
    if (input.startSha !== undefined) {
      startCommit = repo.getCommit(input.startSha) ?? repo.resolve(input.startSha);
      if (!startCommit) throw GitLabError.badRequest(`Invalid start_sha: ${input.startSha}`);
    } else if (!emptyRepo) {
      const head = repo.branchHead(start);
      if (head === undefined)
        throw GitLabError.badRequest('You can only create or edit files when you are on a branch');
      startCommit = repo.getCommit(head);
    }
    for (const a of input.actions) {
      for (const p of [a.filePath, ...(a.previousPath !== undefined ? [a.previousPath] : [])]) {
        if (isInvalidFilePath(p))
          throw GitLabError.badRequest(`Your changes could not be committed, because the file path ${p} is invalid`);
      }
    }
    const stale =
      input.staleWording === 'files'
        ? () => 'You are attempting to update a file that has changed since you started editing it.'
        : (path: string) => `The file has changed since you started editing it: ${path}`;
    const tree = repo.applyActions(startCommit, input.actions, stale);
    const author: Person = { name: input.authorName ?? user.name, email: input.authorEmail ?? user.email };
    const commit = repo.createCommit({
      parentIds: startCommit ? [startCommit.id] : [],
      tree,
      message: input.message,
      author,
      committer: personOf(user),
    });
    this.moveBranch(project, input.branch, commit, user.id);
    return commit;
  }

  /** The content of `path` at `ref` as UTF-8 text; undefined when the ref or the file does not exist. */
  readFile(projectRef: string | number, ref: string, path: string): string | undefined {
    const project = this.project(projectRef);
    return project.repo
      .resolve(ref === 'HEAD' ? project.defaultBranch : ref)
      ?.tree.get(path)
      ?.content.toString('utf8');
  }

  /** Every file under `dir` (recursively) at `ref`, path → UTF-8 content; empty when the ref does not exist. */
  listFiles(projectRef: string | number, ref: string, dir: string): Map<string, string> {
    const project = this.project(projectRef);
    const tree: Tree = project.repo.resolve(ref === 'HEAD' ? project.defaultBranch : ref)?.tree ?? new Map();
    const prefix = dir === '' || dir === '/' ? '' : `${dir.replace(/\/+$/, '')}/`;
    const out = new Map<string, string>();
    for (const [p, entry] of [...tree].sort(([a], [b]) => (a < b ? -1 : 1)))
      if (p.startsWith(prefix)) out.set(p, entry.content.toString('utf8'));
    return out;
  }

  /**
   * Reverts `sha` on `branch` (a merge commit against its first parent), GitLab style. With `dryRun` nothing is
   * committed and `undefined` is returned when the revert would apply. Refuses with `error_code` `empty` when the
   * change is already undone and `conflict` when it cannot be applied.
   */
  revert(
    projectRef: string | number,
    sha: string,
    branch: string,
    opts: { as?: string; dryRun?: boolean } = {},
  ): Commit | undefined {
    const project = this.project(projectRef);
    const { repo } = project;
    const target = repo.resolve(sha);
    if (!target) throw GitLabError.notFound('Commit');
    const headId = repo.branchHead(branch);
    if (headId === undefined) throw GitLabError.notFound('Branch');
    const head = repo.getCommit(headId)!;
    const parentTree: Tree = target.parentIds[0] !== undefined ? repo.getCommit(target.parentIds[0])!.tree : new Map();
    const outcome = repo.threeWayMerge(target.tree, head.tree, parentTree);
    if (outcome.conflicts) throw GitLabError.badRequest(REVERT_FAILED, 'conflict');
    if (repo.diff(head.tree, outcome.tree).length === 0) throw GitLabError.badRequest(REVERT_FAILED, 'empty');
    if (opts.dryRun) return undefined;
    const user = this.userNamed(opts.as);
    const merged = this.mergeRequests.all(project).find((mr) => mr.mergeCommitSha === target.id);
    const description = merged ? `This reverts merge request !${merged.iid}` : `This reverts commit ${target.id}`;
    const commit = repo.createCommit({
      parentIds: [head.id],
      tree: outcome.tree,
      message: `Revert "${commitTitle(target.message).trim()}"\n\n${description}`,
      author: personOf(user),
    });
    project.reverts++;
    this.moveBranch(project, branch, commit, user.id);
    return commit;
  }

  // ---- merge requests (delegated) ---------------------------------------------------------------------------

  /** Opens an MR as `as` (default root); see `MergeRequestService.create`. */
  createMergeRequest(
    projectRef: string | number,
    input: Parameters<MergeRequestService['create']>[2] & { as?: string },
  ): MergeRequest {
    return this.mergeRequests.create(this.project(projectRef), this.userNamed(input.as), input);
  }

  /** MRs of a project matching the given branches and state (default: all states). */
  findMergeRequests(
    projectRef: string | number,
    filter: { sourceBranch?: string; targetBranch?: string; state?: MergeRequest['state'] } = {},
  ): MergeRequest[] {
    return this.mergeRequests.list(this.project(projectRef), filter);
  }

  /** Merges an MR as `as`; see `MergeRequestService.merge`. */
  mergeMergeRequest(
    projectRef: string | number,
    iid: number,
    opts: Parameters<MergeRequestService['merge']>[3] & { as?: string } = {},
  ): MergeRequest {
    return this.mergeRequests.merge(this.project(projectRef), iid, this.userNamed(opts.as), opts);
  }

  // ---- events -----------------------------------------------------------------------------------------------

  /** Subscribes to branch pushes; returns the unsubscribe function. Delivered asynchronously, in order. */
  onPush(listener: PushListener): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  /** Subscribes to MR events (opened, merged, closed, reopened, updated); returns the unsubscribe function. */
  onMergeRequest(listener: MergeRequestListener): () => void {
    this.mrListeners.add(listener);
    return () => this.mrListeners.delete(listener);
  }

  private emit<E>(listeners: Iterable<(e: E) => void | Promise<void>>, event: E): void {
    for (const l of [...listeners]) {
      queueMicrotask(() => {
        Promise.resolve()
          .then(() => l(event))
          .catch((err: unknown) => {
            this.listenerErrors.push(err instanceof Error ? err : new Error(String(err)));
            if (this.listenerErrors.length > 100) this.listenerErrors.shift();
          });
      });
    }
  }

  /**
   * Points `branch` at `commit` and reports the push. `newCommits` defaults to the commits the branch did not
   * contain before (oldest first); open MRs on the branch are re-checked.
   */
  private moveBranch(
    project: Project,
    branch: string,
    commit: Commit,
    userId: number,
    newCommits?: readonly Commit[],
  ): void {
    const { repo } = project;
    const before = repo.branchHead(branch);
    repo.setBranch(branch, commit.id);
    const commits = newCommits ?? (before === undefined ? [commit] : repo.range(before, commit.id));
    project.commitsPerBranch.set(branch, (project.commitsPerBranch.get(branch) ?? 0) + commits.length);
    this.mergeRequests.onBranchChanged(project, branch);
    this.emit(this.pushListeners, {
      project: fullPath(project),
      projectId: project.id,
      branch,
      before: before ?? ZERO_SHA,
      after: commit.id,
      commits,
      userId,
    } satisfies PushEvent);
  }

  private mergeRequestHost(): MergeRequestHost {
    const envBranches = new Set(this.opts.envBranches ?? ['dev', 'stage', 'prod']);
    return {
      clock: this.clock,
      faults: this.faults,
      pipelines: this.pipelines,
      projectById: (id) => this.project(id),
      userById: (id) => this.userById(id),
      moveBranch: (project, branch, commit, userId, newCommits) =>
        this.moveBranch(project, branch, commit, userId, newCommits),
      deleteBranch: (project, branch, userId) => {
        if (
          !project.repo.hasBranch(branch) ||
          branch === project.defaultBranch ||
          project.protectedBranches.has(branch)
        )
          return;
        this.removeBranch(project, branch, userId);
      },
      concurrentPush: (project, branch) => {
        const head = project.repo.branchHead(branch);
        if (head === undefined) return undefined;
        const pusher =
          this.findUser('concurrent-pusher') ??
          this.addUser({ username: 'concurrent-pusher', name: 'Concurrent Pusher' });
        const commit = project.repo.createCommit({
          parentIds: [head],
          tree: project.repo.getCommit(head)!.tree,
          message: `chore: concurrent push to ${branch}`,
          author: personOf(pusher),
        });
        this.moveBranch(project, branch, commit, pusher.id);
        return pusher;
      },
      faultContext: (project, mr): DomainFaultContext => {
        const app = this.opts.appOf ? this.opts.appOf(project, mr) : appFromTitle(mr.title);
        return {
          ...(envBranches.has(mr.targetBranch) ? { env: mr.targetBranch } : {}),
          ...(app !== undefined ? { app } : {}),
        };
      },
      emitMergeRequest: (project, mr, action: MergeRequestEventAction) =>
        this.emit(this.mrListeners, {
          project: fullPath(project),
          projectId: project.id,
          action,
          iid: mr.iid,
          sourceBranch: mr.sourceBranch,
          targetBranch: mr.targetBranch,
          title: mr.title,
          mergeCommitSha: mr.mergeCommitSha,
        } satisfies MergeRequestEvent),
    };
  }

  // ---- inspection -------------------------------------------------------------------------------------------

  /** A compact picture of every project for the inspection endpoint. */
  snapshot(): ProjectSnapshot[] {
    return this.allProjects().map((project) => {
      const mrs = this.mergeRequests.all(project);
      const group = (state: MergeRequest['state']) =>
        mrs
          .filter((mr) => mr.state === state)
          .map((mr) => ({
            iid: mr.iid,
            source: mr.sourceBranch,
            target: mr.targetBranch,
            title: mr.title,
            mergeCommitSha: mr.mergeCommitSha,
            detailedMergeStatus: this.mergeRequests.detailedStatus(mr),
          }));
      return {
        id: project.id,
        path: fullPath(project),
        defaultBranch: project.defaultBranch,
        branches: project.repo.branchNames().map((name) => ({
          name,
          head: project.repo.branchHead(name)!,
          commits: project.commitsPerBranch.get(name) ?? 0,
        })),
        mergeRequests: { opened: group('opened'), closed: group('closed'), merged: group('merged') },
        merges: project.merges,
        reverts: project.reverts,
      };
    });
  }

  /** Cancels pending mergeability checks (the clock's `stop()` does too). */
  stop(): void {
    this.hooks.stop();
    this.pipelines.stop();
    for (const project of this.allProjects()) for (const mr of this.mergeRequests.all(project)) mr.cancelCheck?.();
  }
}

export function personOf(user: User): Person {
  return { name: user.name, email: user.email };
}

/** The app named by the real system's MR titles: `Deploy example-app to dev: …`, `Promote example-app to stage: …`. */
function appFromTitle(title: string): string | undefined {
  return /^(?:Deploy|Promote)\s+(\S+)\s+to\s/.exec(title)?.[1];
}
