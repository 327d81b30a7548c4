/**
 * The simulated Jenkins controller: folders and jobs, the build queue, executors and running builds. No HTTP here;
 * the server translates requests into these calls and renders what they hold.
 *
 * Queue life cycle, as Jenkins' `hudson.model.Queue` has it: a trigger creates a WaitingItem for the quiet period,
 * which then becomes a BuildableItem (waiting for an executor) or a BlockedItem (a non-concurrent job already
 * building); an executor takes it and it becomes a LeftItem naming its build, or it is cancelled. Left items stay
 * readable for five (scaled) minutes. A trigger with the same parameters as an item still queued is folded into it.
 */
import type { Clock } from '../core/clock.js';
import { Build, causeDescription } from './build.js';
import { paramsRecord, resolveParameters, sameParameters, toSubmitted } from './parameters.js';
import { QueueItem, type QueueItemState } from './queue-item.js';
import { JenkinsSecurity } from './security.js';
import type { BuildCause, BuildContext, BuildParams, BuildResult, FolderKind, JobDefinition } from './types.js';

export interface FolderNode {
  readonly kind: 'folder';
  readonly folderKind: FolderKind;
  readonly path: readonly string[];
  readonly description: string;
  readonly children: string[];
}

export interface JobNode {
  readonly kind: 'job';
  readonly path: readonly string[];
  readonly def: JobDefinition;
  /** Newest first. */
  readonly builds: Build[];
  nextBuildNumber: number;
}

export type ItemNode = FolderNode | JobNode;

/** No folder or job at this path. */
export class UnknownJobError extends Error {
  override readonly name = 'UnknownJobError';
}

/** What `scheduleBuild` did: a new queue item, or the trigger was folded into one already queued. */
export interface ScheduleResult {
  readonly itemId: number;
  readonly created: boolean;
}

export interface JenkinsModelOptions {
  readonly clock: Clock;
  /** Executors of the controller and its agents; items wait as buildable while all are busy. Default 4. */
  readonly executors?: number;
  /** How long a left item stays readable; default five scaled minutes, but at least 30 s of wall time. */
  readonly leftItemTtlMs?: number;
}

/** Per-job state for assertions and reports. */
export interface JenkinsJobSnapshot {
  readonly path: string;
  readonly nextBuildNumber: number;
  readonly builds: readonly {
    readonly number: number;
    readonly result: BuildResult | null;
    readonly building: boolean;
    readonly params: BuildParams;
    readonly queueId: number;
    readonly duration: number;
    readonly causes: readonly string[];
    readonly description: string | null;
  }[];
  readonly queue: readonly {
    readonly id: number;
    readonly state: QueueItemState;
    readonly params: BuildParams;
    readonly why: string | null;
  }[];
  readonly counts: { readonly builds: number; readonly building: number; readonly queued: number } & Partial<
    Record<BuildResult, number>
  >;
}

/**
 * What happened to a queue item or a run, in order, as Jenkins' `QueueListener` and `RunListener` see it:
 * the item left the queue (with its build, or cancelled), the build started, completed (result set) and was
 * finalized (logs closed).
 */
export type RunEvent =
  | { readonly type: 'queue-left'; readonly item: QueueItem; readonly build: Build | undefined }
  | { readonly type: 'started' | 'completed' | 'finalized'; readonly job: JobNode; readonly build: Build };
export type RunListener = (event: RunEvent) => void;

export interface JenkinsSnapshot {
  readonly jobs: readonly JenkinsJobSnapshot[];
}

/** Wall time, before scaling, an executor takes to pick up a buildable item (agent pod provisioning). */
const EXECUTOR_PICKUP_REAL_MS = 2_000;
/** Jenkins' left-item cache keeps entries for five minutes. */
const LEFT_ITEM_REAL_TTL_MS = 300_000;
const LEFT_ITEM_MIN_TTL_MS = 30_000;
const ROOT = '';

export class JenkinsModel {
  readonly security = new JenkinsSecurity();
  /** Absolute root URL without a trailing slash; the server sets it when it starts. */
  rootUrl = 'http://127.0.0.1';
  readonly executors: number;
  /** The world's clock; every timer of the model goes through it. */
  readonly clock: Clock;
  private readonly leftItemTtlMs: number;
  private readonly nodes = new Map<string, ItemNode>();
  private readonly queue: QueueItem[] = [];
  private readonly leftItems = new Map<number, QueueItem>();
  /** Items an executor took whose build does not exist yet (JobDefinition.startDelayMs). */
  private readonly starting = new Set<QueueItem>();
  private nextQueueId = 1;
  private readonly runListeners = new Set<RunListener>();
  /** Errors thrown by run listeners, kept for inspection instead of breaking the queue or the build. */
  readonly listenerErrors: Error[] = [];

  constructor(opts: JenkinsModelOptions) {
    this.clock = opts.clock;
    this.executors = opts.executors ?? 4;
    this.leftItemTtlMs = opts.leftItemTtlMs ?? Math.max(opts.clock.scale(LEFT_ITEM_REAL_TTL_MS), LEFT_ITEM_MIN_TTL_MS);
    this.nodes.set(ROOT, { kind: 'folder', folderKind: 'folder', path: [], description: '', children: [] });
  }

  // ---- definitions -------------------------------------------------------------------------------------------

  /** Subscribes to queue and run events (called synchronously); returns the unsubscribe function. */
  onRunEvent(listener: RunListener): () => void {
    this.runListeners.add(listener);
    return () => this.runListeners.delete(listener);
  }

  private emit(event: RunEvent): void {
    for (const listener of [...this.runListeners]) {
      try {
        listener(event);
      } catch (err) {
        this.listenerErrors.push(err instanceof Error ? err : new Error(String(err)));
        if (this.listenerErrors.length > 100) this.listenerErrors.shift();
      }
    }
  }

  /** Creates a folder (or multibranch project) at `path`; parents must exist. `'a/b'` and `['a','b']` are equal. */
  defineFolder(path: string | readonly string[], kind: FolderKind = 'folder', description = ''): void {
    const p = toPath(path);
    this.attach(p, { kind: 'folder', folderKind: kind, path: p, description, children: [] });
  }

  /** Creates a job; its parent folders must exist. */
  defineJob(def: JobDefinition): void {
    const p = toPath(def.path);
    this.attach(p, { kind: 'job', path: p, def, builds: [], nextBuildNumber: 1 });
  }

  private attach(path: readonly string[], node: ItemNode): void {
    const name = path[path.length - 1];
    if (name === undefined) throw new Error('a job or folder needs a name');
    const parent = this.nodes.get(key(path.slice(0, -1)));
    if (!parent || parent.kind !== 'folder') throw new UnknownJobError(`no folder ${path.slice(0, -1).join('/')}`);
    if (this.nodes.has(key(path))) throw new Error(`${path.join('/')} already exists`);
    parent.children.push(name);
    this.nodes.set(key(path), node);
  }

  // ---- lookups -------------------------------------------------------------------------------------------------

  /** The folder or job at `path`; the empty path is the root folder. */
  node(path: readonly string[]): ItemNode | undefined {
    return this.nodes.get(key(path));
  }

  job(path: readonly string[]): JobNode | undefined {
    const n = this.nodes.get(key(path));
    return n?.kind === 'job' ? n : undefined;
  }

  private requireJob(path: readonly string[]): JobNode {
    const job = this.job(path);
    if (!job) throw new UnknownJobError(`no job ${path.join('/')}`);
    return job;
  }

  build(path: readonly string[], number: number): Build | undefined {
    return this.job(path)?.builds.find((b) => b.number === number);
  }

  /** Items still in the queue, oldest first. */
  queuedItems(): readonly QueueItem[] {
    return [...this.queue];
  }

  /** A queued item, or a left one still remembered. */
  queueItem(id: number): QueueItem | undefined {
    return this.queue.find((i) => i.id === id) ?? this.leftItems.get(id);
  }

  /** The queued item of a job, if any (Jenkins' `queueItem` on the job). */
  queueItemOf(path: readonly string[]): QueueItem | undefined {
    const k = key(path);
    return this.queue.find((i) => key(i.jobPath) === k);
  }

  /** Jenkins' estimate: the mean of the last three successful builds, else the definition's hint, else -1. */
  estimatedDuration(job: JobNode): number {
    const done = job.builds.filter((b) => b.result === 'SUCCESS' || b.result === 'UNSTABLE').slice(0, 3);
    if (done.length > 0) return Math.round(done.reduce((s, b) => s + b.duration, 0) / done.length);
    return job.def.estimatedDurationMs ?? -1;
  }

  now(): number {
    return this.clock.now();
  }

  // ---- scheduling ------------------------------------------------------------------------------------------------

  /**
   * Queues a build of the job at `path`. Fields not defined on the job are ignored, missing ones take their
   * defaults. When an item with the same parameters is still queued the trigger is folded into it.
   * Throws `UnknownJobError`, or `IllegalParameterError` for a choice outside its choices.
   */
  scheduleBuild(
    path: string | readonly string[],
    params: Readonly<Record<string, string | boolean | number>> | ReadonlyMap<string, string>,
    cause: BuildCause,
    opts: { quietPeriodMs?: number } = {},
  ): ScheduleResult {
    const job = this.requireJob(toPath(path));
    const submitted = params instanceof Map ? params : toSubmitted(params as Record<string, string | boolean | number>);
    const values = resolveParameters(job.def.parameters ?? [], submitted);
    const existing = this.queue.find((i) => key(i.jobPath) === key(job.path) && sameParameters(i.parameters, values));
    if (existing) {
      // Jenkins counts a repeated cause instead of listing it twice.
      if (!existing.causes.some((c) => JSON.stringify(c) === JSON.stringify(cause))) existing.causes.push(cause);
      return { itemId: existing.id, created: false };
    }
    const quiet = opts.quietPeriodMs ?? this.clock.duration('queueWait');
    const item = new QueueItem(this.nextQueueId++, job.path, values, cause, this.clock.now(), quiet);
    this.queue.push(item);
    this.clock.after(quiet, () => this.endQuietPeriod(item));
    return { itemId: item.id, created: true };
  }

  private endQuietPeriod(item: QueueItem): void {
    if (!item.inQueue) return;
    item.state = 'buildable';
    item.buildableStartMilliseconds = this.clock.now();
    const job = this.job(item.jobPath);
    item.starved = job?.def.starvedInQueue?.(paramsRecord(item.parameters)) ?? false;
    this.clock.after(this.clock.scale(EXECUTOR_PICKUP_REAL_MS), () => {
      item.pickupReady = true;
      this.maintain();
    });
    this.maintain();
  }

  /** Re-evaluates every queued item: blocks, unblocks and hands items to free executors, oldest first. */
  private maintain(): void {
    for (const item of [...this.queue]) {
      if (item.state === 'waiting') continue;
      const job = this.job(item.jobPath);
      if (!job) continue;
      const running = job.builds.find((b) => b.building);
      const startingHere = [...this.starting].some((s) => key(s.jobPath) === key(job.path));
      if (!job.def.concurrentBuild && (running || startingHere)) {
        item.state = 'blocked';
        item.blockedBy = running;
        continue;
      }
      item.state = 'buildable';
      item.blockedBy = undefined;
      if (item.pickupReady && !item.starved && this.busyExecutors() < this.executors) this.start(item, job);
    }
  }

  busyExecutors(): number {
    let n = this.starting.size;
    for (const node of this.nodes.values()) if (node.kind === 'job') n += node.builds.filter((b) => b.building).length;
    return n;
  }

  /** Cancels an item still in the queue; false when it has left (or never existed). */
  cancelQueueItem(id: number): boolean {
    const item = this.queue.find((i) => i.id === id);
    if (!item) return false;
    this.leave(item, undefined);
    this.maintain();
    return true;
  }

  private leave(item: QueueItem, build: Build | undefined): void {
    const i = this.queue.indexOf(item);
    if (i >= 0) this.queue.splice(i, 1);
    const leftEarlier = item.state === 'left';
    item.state = 'left';
    item.blockedBy = undefined;
    item.executable = build;
    item.cancelled = build === undefined;
    item.leftAt ??= this.clock.now();
    this.leftItems.set(item.id, item);
    // A slow start's item has been remembered since it left; Jenkins forgets it five minutes after that.
    const ttl = leftEarlier ? Math.max(0, item.leftAt + this.leftItemTtlMs - this.clock.now()) : this.leftItemTtlMs;
    this.clock.after(ttl, () => this.leftItems.delete(item.id));
    this.emit({ type: 'queue-left', item, build });
  }

  private start(item: QueueItem, job: JobNode): void {
    if (job.def.shouldCancelInQueue?.(paramsRecord(item.parameters))) {
      this.leave(item, undefined);
      return;
    }
    const delay = job.def.startDelayMs ?? 0;
    if (delay > 0) {
      // The executor has the item: it left the queue, not cancelled, but its Run does not exist yet.
      const i = this.queue.indexOf(item);
      if (i >= 0) this.queue.splice(i, 1);
      item.state = 'left';
      item.blockedBy = undefined;
      item.leftAt = this.clock.now();
      this.leftItems.set(item.id, item);
      this.starting.add(item);
      this.clock.after(delay, () => {
        this.starting.delete(item);
        this.createRun(item, job);
      });
      return;
    }
    this.createRun(item, job);
  }

  private createRun(item: QueueItem, job: JobNode): void {
    const build = new Build(
      job.path,
      job.nextBuildNumber++,
      item.id,
      item.parameters,
      [...item.causes],
      this.estimatedDuration(job),
      this.clock.now(),
    );
    job.builds.unshift(build);
    this.leave(item, build);
    this.emit({ type: 'started', job, build });
    void this.run(job, build);
  }

  private async run(job: JobNode, build: Build): Promise<void> {
    for (const cause of build.causes) build.log(causeDescription(cause));
    const signal = build.abort.signal;
    const ctx: BuildContext = {
      number: build.number,
      params: paramsRecord(build.parameters),
      url: `${jobUrl(this.rootUrl, job.path)}${build.number}/`,
      log: (line) => build.log(line),
      sleep: (ms) => abortableSleep(this.clock, ms, signal),
      signal,
      setGitRevision: (sha, branchName, remoteUrl) => {
        build.addCheckout({ sha, branchName, remoteUrl });
      },
      setScmRevision: (revision) => {
        build.scmRevision = revision;
      },
      setDescription: (text) => {
        build.description = text;
      },
      setDisplayName: (text) => {
        build.displayName = text;
      },
    };
    let result: BuildResult;
    try {
      result = await Promise.resolve().then(() => job.def.runner(ctx));
      if (signal.aborted) result = 'ABORTED';
    } catch (err) {
      if (signal.aborted) result = 'ABORTED';
      else {
        build.log(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
        result = 'FAILURE';
      }
    }
    build.finish(result, this.clock.now());
    this.emit({ type: 'completed', job, build });
    this.emit({ type: 'finalized', job, build });
    this.maintain();
  }

  /**
   * Stops a running build: its runner's signal is aborted and the build ends ABORTED once the runner returns.
   * Returns false when no such build exists; stopping a finished build does nothing.
   */
  stopBuild(path: readonly string[], number: number, by = 'anonymous'): boolean {
    const build = this.build(path, number);
    if (!build) return false;
    if (build.building && !build.abort.signal.aborted) {
      build.log(`Aborted by ${by}`);
      build.abort.abort();
    }
    return true;
  }

  // ---- inspection ----------------------------------------------------------------------------------------------

  /** Every job with its builds (newest first), queued items and counts. */
  snapshot(): JenkinsSnapshot {
    const now = this.clock.now();
    const jobs: JenkinsJobSnapshot[] = [];
    for (const node of this.nodes.values()) {
      if (node.kind !== 'job') continue;
      const queued = this.queue.filter((i) => key(i.jobPath) === key(node.path));
      const counts: Record<string, number> = {
        builds: node.builds.length,
        building: node.builds.filter((b) => b.building).length,
        queued: queued.length,
      };
      for (const b of node.builds) if (b.result) counts[b.result] = (counts[b.result] ?? 0) + 1;
      jobs.push({
        path: node.path.join('/'),
        nextBuildNumber: node.nextBuildNumber,
        builds: node.builds.map((b) => ({
          number: b.number,
          result: b.result ?? null,
          building: b.building,
          params: paramsRecord(b.parameters),
          queueId: b.queueId,
          duration: b.duration,
          causes: b.causes.map(causeDescription),
          description: b.description ?? null,
        })),
        queue: queued.map((i) => ({ id: i.id, state: i.state, params: paramsRecord(i.parameters), why: i.why(now) })),
        counts: counts as JenkinsJobSnapshot['counts'],
      });
    }
    return { jobs };
  }
}

function toPath(path: string | readonly string[]): readonly string[] {
  return typeof path === 'string' ? path.split('/').filter((s) => s.length > 0) : [...path];
}

function key(path: readonly string[]): string {
  return path.join('/');
}

/** `<root>/job/a/job/b/`, each name encoded the way Jenkins encodes URL segments. */
export function jobUrl(root: string, path: readonly string[]): string {
  return `${root}/${path.map((p) => `job/${encodeURIComponent(p)}/`).join('')}`;
}

function abortableSleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): Error => Object.assign(new Error('build was stopped'), { name: 'AbortError' });
    if (signal.aborted) {
      reject(aborted());
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(aborted());
    };
    const cancel = clock.after(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
