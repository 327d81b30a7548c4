/**
 * CI pipelines of the simulated GitLab (part A: merge rules): one store per model, keyed by project. A pipeline
 * belongs to a sha and a ref; the MR pipelines a project runs (`Project.mergeRequestPipelines`) go
 * created → pending → running → success|failed on the world's clock. Other parts add pipelines of their own through
 * `createPipeline` (a commit status makes an `external` one) and move them with `transition`; whoever listens with
 * `onFinished` (the merge requests, for auto-merge) hears about every pipeline that ends.
 */
import type { Clock } from '../core/clock.js';
import { GitLabError } from './errors.js';
import type { MergeRequest, Project } from './types.js';

export const PIPELINE_STATUSES = [
  'created',
  'waiting_for_resource',
  'preparing',
  'pending',
  'running',
  'success',
  'failed',
  'canceled',
  'skipped',
  'manual',
  'scheduled',
] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

/** Statuses of a pipeline that has not finished (`Ci::HasStatus::ACTIVE_STATUSES`). */
export const ACTIVE_PIPELINE_STATUSES: ReadonlySet<PipelineStatus> = new Set([
  'created',
  'waiting_for_resource',
  'preparing',
  'pending',
  'running',
]);

/** `source` values of a pipeline that the sandbox creates. */
export type PipelineSource = 'push' | 'merge_request_event' | 'external' | 'api' | 'web';

export interface Pipeline {
  readonly id: number;
  /** Project-local number. */
  readonly iid: number;
  readonly projectId: number;
  readonly sha: string;
  /** The branch, or `refs/merge-requests/:iid/head` for an MR pipeline. */
  readonly ref: string;
  readonly source: PipelineSource;
  /** The MR a `merge_request_event` pipeline runs for. */
  readonly mergeRequestIid: number | undefined;
  status: PipelineStatus;
  readonly createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Cancels the pipeline's pending timers. */
  cancelRun?: () => void;
}

export interface CreatePipelineInput {
  readonly project: Project;
  readonly sha: string;
  readonly ref: string;
  readonly source: PipelineSource;
  readonly mergeRequestIid?: number;
}

/** How long the phases of a sandbox MR pipeline last in the real installation, before the clock scales them. */
const REAL_PIPELINE_MS = { pending: 5_000, running: 60_000 } as const;

export type PipelineListener = (project: Project, pipeline: Pipeline) => void;

export class PipelineStore {
  private readonly byProject = new Map<number, Pipeline[]>();
  private nextId = 1;
  private readonly finishedListeners = new Set<PipelineListener>();

  constructor(private readonly clock: Clock) {}

  /** Creates a pipeline in status `created`; nothing moves it unless the caller (or `run`) does. */
  createPipeline(input: CreatePipelineInput): Pipeline {
    const list = this.byProject.get(input.project.id) ?? [];
    this.byProject.set(input.project.id, list);
    const now = this.clock.now();
    const pipeline: Pipeline = {
      id: this.nextId++,
      iid: list.length + 1,
      projectId: input.project.id,
      sha: input.sha,
      ref: input.ref,
      source: input.source,
      mergeRequestIid: input.mergeRequestIid,
      status: 'created',
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
    };
    list.push(pipeline);
    return pipeline;
  }

  /**
   * Runs a pipeline as a runner would: pending shortly, running, then `outcome` after the scaled durations. A
   * pipeline moved by someone else meanwhile (cancelled, finished) is left alone.
   */
  run(project: Project, pipeline: Pipeline, outcome: 'success' | 'failed'): void {
    const pendingAt = this.clock.scale(REAL_PIPELINE_MS.pending);
    const doneAt = pendingAt + this.clock.scale(REAL_PIPELINE_MS.running);
    const timers = [
      this.clock.after(1, () => this.transitionIf(project, pipeline, 'created', 'pending')),
      this.clock.after(pendingAt, () => this.transitionIf(project, pipeline, 'pending', 'running')),
      this.clock.after(doneAt, () => this.transitionIf(project, pipeline, 'running', outcome)),
    ];
    pipeline.cancelRun = () => timers.forEach((cancel) => cancel());
  }

  /** Moves a pipeline to `status`, stamping start and finish times; finished pipelines are announced. */
  transition(project: Project, pipeline: Pipeline, status: PipelineStatus): void {
    const now = this.clock.now();
    pipeline.status = status;
    pipeline.updatedAt = now;
    if (status === 'running') pipeline.startedAt ??= now;
    if (!ACTIVE_PIPELINE_STATUSES.has(status)) {
      pipeline.finishedAt = now;
      pipeline.cancelRun?.();
      pipeline.cancelRun = undefined;
      for (const l of [...this.finishedListeners]) l(project, pipeline);
    }
  }

  private transitionIf(project: Project, pipeline: Pipeline, from: PipelineStatus, to: PipelineStatus): void {
    if (pipeline.status === from) this.transition(project, pipeline, to);
  }

  /** Calls `listener` whenever a pipeline finishes; returns the unsubscribe function. */
  onFinished(listener: PipelineListener): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /** Every pipeline of the project, newest first. */
  all(project: Project): Pipeline[] {
    return [...(this.byProject.get(project.id) ?? [])].reverse();
  }

  /** One pipeline by its global id; 404 `Not found` as GitLab's `find_by!` answers. */
  get(project: Project, id: number): Pipeline {
    const p = (this.byProject.get(project.id) ?? []).find((x) => x.id === id);
    if (!p) throw GitLabError.recordNotFound();
    return p;
  }

  /** The pipelines of an MR, newest first: those run for it and those on its source branch (`external` included). */
  forMergeRequest(project: Project, mr: MergeRequest): Pipeline[] {
    return this.all(project).filter(
      (p) => p.mergeRequestIid === mr.iid || (p.ref === mr.sourceBranch && p.mergeRequestIid === undefined),
    );
  }

  /** The MR's head pipeline: the newest of its pipelines for its current head `sha`. */
  headPipelineOf(project: Project, mr: MergeRequest): Pipeline | undefined {
    return this.forMergeRequest(project, mr).find((p) => p.sha === mr.sha);
  }

  /** Cancels every pending run timer (the world stopping). */
  stop(): void {
    for (const list of this.byProject.values()) for (const p of list) p.cancelRun?.();
  }
}

/** The `Ci::Pipeline` basic entity (`GET …/pipelines`, `GET …/merge_requests/:iid/pipelines`). */
export function pipelineBasicEntity(webBase: string, pipeline: Pipeline): Record<string, unknown> {
  return {
    id: pipeline.id,
    iid: pipeline.iid,
    project_id: pipeline.projectId,
    sha: pipeline.sha,
    ref: pipeline.ref,
    status: pipeline.status,
    source: pipeline.source,
    created_at: new Date(pipeline.createdAt).toISOString(),
    updated_at: new Date(pipeline.updatedAt).toISOString(),
    web_url: `${webBase}/-/pipelines/${pipeline.id}`,
  };
}

/** The full pipeline entity (`GET …/pipelines/:id`, and `head_pipeline` of the single MR). */
export function pipelineEntity(webBase: string, pipeline: Pipeline): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    ...pipelineBasicEntity(webBase, pipeline),
    before_sha: '0'.repeat(40),
    tag: false,
    yaml_errors: null,
    user: null,
    started_at: iso(pipeline.startedAt),
    finished_at: iso(pipeline.finishedAt),
    committed_at: null,
    duration:
      pipeline.startedAt !== null && pipeline.finishedAt !== null
        ? Math.round((pipeline.finishedAt - pipeline.startedAt) / 1000)
        : null,
    queued_duration: null,
    coverage: null,
    detailed_status: {
      icon: `status_${pipeline.status}`,
      text: pipeline.status,
      label: pipeline.status,
      group: pipeline.status,
      tooltip: pipeline.status,
      has_details: true,
      details_path: `/-/pipelines/${pipeline.id}`,
      illustration: null,
      favicon: `/assets/ci_favicons/favicon_status_${pipeline.status}.png`,
    },
  };
}
