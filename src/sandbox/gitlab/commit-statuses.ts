/**
 * Commit statuses of the simulated GitLab (`lib/api/commit_statuses.rb`, `Ci::CreateCommitStatusService`): the
 * statuses CI systems outside GitLab (Jenkins' gitlab-plugin, gitlab-branch-source) post on a commit.
 *
 * As in GitLab, a status is a job of stage `external` in the newest pipeline of its sha and ref, or of a new pipeline
 * with `source: "external"` when there is none. A post updates the pending or running job with the same name, ref
 * and user; a post after that job finished makes a new job and marks the old one retried. A state the job is already
 * in cannot be entered again (400 "Cannot transition status via :run from :running ...").
 *
 * The store lives beside the GitLab model (one per model, `commitStatusesOf`), so the model itself is unchanged.
 */
import { GitLabError } from './errors.js';
import type { GitLabModel } from './model.js';
import type { Project, User } from './types.js';

/** The states a status can be posted with (`state` of `POST /projects/:id/statuses/:sha`). */
export const COMMIT_STATUS_STATES = ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'] as const;
export type CommitStatusState = (typeof COMMIT_STATUS_STATES)[number];
/** A job's status: the posted states plus `created`, the state of a job built before its first transition. */
type JobStatus = CommitStatusState | 'created';

/** The state machine event each posted state fires, as GitLab names it in its error message. */
const EVENT_OF: Readonly<Record<CommitStatusState, string>> = {
  pending: 'enqueue',
  running: 'run',
  success: 'success',
  failed: 'drop',
  canceled: 'cancel',
  skipped: 'skip',
};

/** The states each event may leave (`CommitStatus`'s state machine). */
const FROM: Readonly<Record<CommitStatusState, readonly JobStatus[]>> = {
  pending: ['created', 'skipped'],
  running: ['created', 'pending'],
  success: ['created', 'pending', 'running'],
  failed: ['created', 'pending', 'running'],
  canceled: ['created', 'pending', 'running'],
  skipped: ['created', 'pending'],
};

const FINISHED: readonly JobStatus[] = ['success', 'failed', 'canceled', 'skipped'];

/** One posted status (a `GenericCommitStatus` job). */
export interface CommitStatus {
  readonly id: number;
  readonly projectId: number;
  readonly sha: string;
  readonly ref: string;
  readonly name: string;
  status: JobStatus;
  targetUrl: string | null;
  description: string | null;
  coverage: number | null;
  readonly pipelineId: number;
  readonly authorId: number;
  readonly createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** A newer job with the same name replaced it; hidden from the list unless `all=true`. */
  retried: boolean;
}

/**
 * The pipelines a status attaches to. SEAM(part A pipelines): until the GitLab pipelines store
 * (src/sandbox/gitlab/pipelines.ts) is merged, external pipelines live here (`LocalExternalPipelines`); the lead
 * connects the two by passing an implementation over that store to `commitStatusesOf(model, pipelines)`, so that a
 * status lands in the newest pipeline of its sha and ref, whatever created it.
 */
export interface StatusPipelines {
  /** The newest pipeline's id for `sha` and `ref`, if any. */
  newest(project: Project, sha: string, ref: string): number | undefined;
  /** The ref of the newest pipeline for `sha`, if any (the default `ref` of a post without one). */
  newestRef(project: Project, sha: string): string | undefined;
  /** True when pipeline `id` exists for `sha` and `ref`. */
  has(project: Project, id: number, sha: string, ref: string): boolean;
  /** Creates a pipeline with `source: "external"` for `sha` and `ref`; returns its id. */
  createExternal(project: Project, sha: string, ref: string): number;
}

/** External pipelines kept by the statuses store itself (until the seam above is connected). */
export class LocalExternalPipelines implements StatusPipelines {
  private nextId = 1;
  private readonly pipelines: { id: number; projectId: number; sha: string; ref: string }[] = [];

  newest(project: Project, sha: string, ref: string): number | undefined {
    return this.pipelines.findLast((p) => p.projectId === project.id && p.sha === sha && p.ref === ref)?.id;
  }

  newestRef(project: Project, sha: string): string | undefined {
    return this.pipelines.findLast((p) => p.projectId === project.id && p.sha === sha)?.ref;
  }

  has(project: Project, id: number, sha: string, ref: string): boolean {
    return this.pipelines.some((p) => p.id === id && p.projectId === project.id && p.sha === sha && p.ref === ref);
  }

  createExternal(project: Project, sha: string, ref: string): number {
    const id = this.nextId++;
    this.pipelines.push({ id, projectId: project.id, sha, ref });
    return id;
  }
}

/** What a post says, already checked for presence and types by the route. */
export interface PostStatusInput {
  readonly sha: string;
  readonly state: CommitStatusState;
  /** `name` or `context`; GitLab's default is `default`. */
  readonly name?: string;
  readonly ref?: string;
  readonly targetUrl?: string;
  readonly description?: string;
  readonly coverage?: number;
  readonly pipelineId?: number;
}

/** Filters of `GET …/repository/commits/:sha/statuses`. */
export interface ListStatusesFilter {
  readonly ref?: string;
  readonly name?: string;
  readonly stage?: string;
  readonly pipelineId?: number;
  /** Include retried jobs; default false (only the latest job per name). */
  readonly all?: boolean;
  readonly orderBy?: 'id' | 'pipeline_id';
  readonly sort?: 'asc' | 'desc';
}

/** A `target_url` GitLab refuses: only http and https URLs are allowed. */
export class BlockedTargetUrlError extends Error {
  override readonly name = 'BlockedTargetUrlError';
}

export class CommitStatuses {
  private nextId = 1;
  private readonly statuses: CommitStatus[] = [];

  constructor(
    private readonly model: GitLabModel,
    readonly pipelines: StatusPipelines = new LocalExternalPipelines(),
  ) {}

  /**
   * Posts a status as `user`. Refuses as GitLab does: 404 Commit Not Found (unknown sha), 404 References for commit
   * Not Found (no ref given and none found), 404 Pipeline ... Not Found (unmatched `pipelineId`),
   * BlockedTargetUrlError (not http/https), 400 Cannot transition status (the job is already in that state).
   */
  post(projectRef: string | number, user: User, input: PostStatusInput): CommitStatus {
    const project = this.model.project(projectRef);
    const commit = project.repo.resolve(input.sha);
    if (!commit) throw GitLabError.notFound('Commit');
    const sha = commit.id;
    const ref = input.ref ?? this.pipelines.newestRef(project, sha) ?? this.firstBranchContaining(project, sha);
    if (ref === undefined) throw new GitLabError('not-found', 'References for commit');
    if (input.targetUrl !== undefined && !isHttpUrl(input.targetUrl)) {
      throw new BlockedTargetUrlError('is blocked: Only allowed schemes are http, https');
    }
    let pipelineId: number;
    if (input.pipelineId !== undefined) {
      if (!this.pipelines.has(project, input.pipelineId, sha, ref))
        throw new GitLabError('not-found', 'Pipeline for pipeline_id, sha and ref');
      pipelineId = input.pipelineId;
    } else {
      pipelineId = this.pipelines.newest(project, sha, ref) ?? this.pipelines.createExternal(project, sha, ref);
    }
    const name = input.name ?? 'default';
    const now = this.model.clock.now();
    let job = this.statuses.find(
      (s) =>
        s.projectId === project.id &&
        s.pipelineId === pipelineId &&
        s.sha === sha &&
        s.ref === ref &&
        s.name === name &&
        s.authorId === user.id &&
        (s.status === 'pending' || s.status === 'running'),
    );
    if (job && !FROM[input.state].includes(job.status)) {
      throw GitLabError.badRequest(
        `Cannot transition status via :${EVENT_OF[input.state]} from :${job.status} (Reason(s): Status cannot transition via "${EVENT_OF[input.state]}")`,
      );
    }
    if (!job) {
      job = {
        id: this.nextId++,
        projectId: project.id,
        sha,
        ref,
        name,
        status: 'created',
        targetUrl: null,
        description: null,
        coverage: null,
        pipelineId,
        authorId: user.id,
        createdAt: now,
        startedAt: null,
        finishedAt: null,
        retried: false,
      };
      for (const old of this.statuses) {
        if (old.projectId === project.id && old.sha === sha && old.ref === ref && old.name === name) old.retried = true;
      }
      this.statuses.push(job);
    }
    if (input.targetUrl !== undefined) job.targetUrl = input.targetUrl;
    if (input.description !== undefined) job.description = input.description;
    if (input.coverage !== undefined) job.coverage = input.coverage;
    job.status = input.state;
    if (input.state === 'running' && job.startedAt === null) job.startedAt = now;
    if (FINISHED.includes(input.state)) job.finishedAt = now;
    return job;
  }

  /** The statuses of a commit (404 Commit Not Found for an unknown one), filtered and ordered as GitLab does. */
  list(projectRef: string | number, shaOrRef: string, filter: ListStatusesFilter = {}): CommitStatus[] {
    const project = this.model.project(projectRef);
    const commit = project.repo.resolve(shaOrRef);
    if (!commit) throw GitLabError.notFound('Commit');
    const found = this.statuses.filter(
      (s) =>
        s.projectId === project.id &&
        s.sha === commit.id &&
        (filter.all === true || !s.retried) &&
        (filter.ref === undefined || s.ref === filter.ref) &&
        (filter.name === undefined || s.name === filter.name) &&
        (filter.stage === undefined || filter.stage === 'external') &&
        (filter.pipelineId === undefined || s.pipelineId === filter.pipelineId),
    );
    const key = filter.orderBy === 'pipeline_id' ? (s: CommitStatus) => s.pipelineId : (s: CommitStatus) => s.id;
    const sign = filter.sort === 'desc' ? -1 : 1;
    return found.sort((a, b) => sign * (key(a) - key(b) || a.id - b.id));
  }

  /** The first branch (by name) whose head contains `sha`. */
  private firstBranchContaining(project: Project, sha: string): string | undefined {
    return project.repo
      .branchNames()
      .sort()
      .find((b) => {
        const head = project.repo.branchHead(b);
        return head !== undefined && project.repo.isAncestor(sha, head);
      });
  }
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const STORES = new WeakMap<GitLabModel, CommitStatuses>();

/**
 * The commit statuses of `model` (created on first use). `pipelines` replaces the store's own external pipelines the
 * first time it is given (the seam above).
 */
export function commitStatusesOf(model: GitLabModel, pipelines?: StatusPipelines): CommitStatuses {
  let store = STORES.get(model);
  if (!store) {
    store = new CommitStatuses(model, pipelines);
    STORES.set(model, store);
  }
  return store;
}
