/**
 * Build notifications as the Notification plugin (jenkinsci/notification-plugin) sends them. Real Jenkins keeps the
 * endpoints in each job's `HudsonNotificationProperty`; the sandbox keeps one list for the controller, each endpoint
 * applying to every job unless it names the jobs (full names such as `example-app/main`).
 *
 * Phases, one `POST` per endpoint each, in order: QUEUED (sent when the build starts, just before STARTED, with the
 * time it entered the queue), STARTED, COMPLETED (result set, timestamp + duration) and FINALIZED. The body is the
 * plugin's Gson JSON: snake_case, null fields omitted. URL userinfo becomes HTTP Basic auth. The answer's status is
 * ignored; only an exception (connection error, timeout) is a failure, re-attempted immediately `retries` times.
 */
import type { Build } from './build.js';
import type { JenkinsModel, JobNode, RunEvent } from './model.js';
import { paramsRecord } from './parameters.js';

export const NOTIFICATION_PHASES = ['QUEUED', 'STARTED', 'COMPLETED', 'FINALIZED'] as const;
export type NotificationPhase = (typeof NOTIFICATION_PHASES)[number];

export const NOTIFICATION_EVENTS = [
  'all',
  'queued',
  'started',
  'completed',
  'finalized',
  'failed',
  'failedAndFirstSuccess',
  'manual',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export interface NotificationEndpoint {
  readonly url: string;
  /** Which phases are sent; default `all`. */
  readonly event?: NotificationEvent;
  /** Full job names (`example-app/main`) this endpoint applies to; default every job. */
  readonly jobs?: readonly string[];
  /** Connect and read timeout; default 30000 ms, as the plugin. */
  readonly timeoutMs?: number;
  /** Immediate re-attempts after an exception; default 0. */
  readonly retries?: number;
}

/** One attempt, for inspection: the answer's status, or the error when there was none. */
export interface NotificationAttempt {
  readonly at: string;
  readonly url: string;
  readonly job: string;
  readonly number: number;
  readonly phase: NotificationPhase;
  readonly status?: number;
  readonly error?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const ATTEMPT_LOG_LIMIT = 500;

export class JenkinsNotifications {
  /** Called once per attempt with the phase, for the world's delivery counts. */
  onDelivery: ((phase: NotificationPhase) => void) | undefined;
  private list: NotificationEndpoint[] = [];
  private readonly attemptLog: NotificationAttempt[] = [];
  /** Per endpoint URL, the chain of its sends: the plugin sends synchronously, so one endpoint sees phases in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly model: JenkinsModel,
    endpoints: readonly NotificationEndpoint[] = [],
  ) {
    this.set(endpoints);
    this.unsubscribe = model.onRunEvent((e) => this.onRunEvent(e));
  }

  get endpoints(): readonly NotificationEndpoint[] {
    return this.list;
  }

  /** Replaces the endpoints; throws on a URL that is not http(s) or an unknown event. */
  set(endpoints: readonly NotificationEndpoint[]): void {
    for (const e of endpoints) {
      let url: URL;
      try {
        url = new URL(e.url);
      } catch {
        throw new Error(`invalid notification url: ${e.url}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`notification url must be http or https: ${e.url}`);
      if (e.event !== undefined && !NOTIFICATION_EVENTS.includes(e.event))
        throw new Error(`unknown notification event "${String(e.event)}"; one of ${NOTIFICATION_EVENTS.join(', ')}`);
    }
    this.list = endpoints.map((e) => ({ ...e }));
  }

  /** The latest attempts, oldest first. */
  attempts(): readonly NotificationAttempt[] {
    return [...this.attemptLog];
  }

  /** Resolves when every notification started so far has been sent or has failed. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  stop(): void {
    this.unsubscribe();
    this.stopping.abort();
  }

  private onRunEvent(e: RunEvent): void {
    if (e.type === 'queue-left' || this.list.length === 0) return;
    const phases: NotificationPhase[] =
      e.type === 'started' ? ['QUEUED', 'STARTED'] : e.type === 'completed' ? ['COMPLETED'] : ['FINALIZED'];
    const jobName = e.job.path.join('/');
    for (const phase of phases) {
      // Rendered now: the build moves on while earlier sends are still under way.
      const body = JSON.stringify(this.state(e.job, e.build, phase));
      for (const endpoint of this.list) {
        if (endpoint.jobs !== undefined && !endpoint.jobs.includes(jobName)) continue;
        if (!selects(endpoint.event ?? 'all', phase, e.job, e.build)) continue;
        this.enqueue(endpoint, { job: jobName, number: e.build.number, phase }, body);
      }
    }
  }

  /** The plugin's `JobState` for a phase, null fields omitted. */
  private state(job: JobNode, build: Build, phase: NotificationPhase): Record<string, unknown> {
    const url = `${job.path.map((p) => `job/${encodeURIComponent(p)}/`).join('')}`;
    const buildUrl = `${url}${build.number}/`;
    const queued = this.model.queueItem(build.queueId);
    const timestamp =
      phase === 'QUEUED'
        ? (queued?.inQueueSince ?? build.timestamp)
        : phase === 'STARTED'
          ? build.timestamp
          : build.timestamp + build.duration;
    const params = paramsRecord(build.parameters);
    const revision = build.gitRevision;
    return {
      name: job.path[job.path.length - 1],
      display_name: job.path[job.path.length - 1],
      url,
      build: {
        full_url: `${this.model.rootUrl}/${buildUrl}`,
        number: build.number,
        queue_id: build.queueId,
        timestamp,
        duration: phase === 'COMPLETED' || phase === 'FINALIZED' ? build.duration : 0,
        phase,
        ...(build.result !== undefined && phase !== 'QUEUED' && phase !== 'STARTED' ? { status: build.result } : {}),
        url: buildUrl,
        scm: {
          ...(revision ? { url: revision.remoteUrl, branch: revision.branchName, commit: revision.sha } : {}),
          changes: [],
          culprits: [],
        },
        ...(Object.keys(params).length > 0
          ? { parameters: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) }
          : {}),
        log: '',
        artifacts: {},
      },
    };
  }

  private enqueue(
    endpoint: NotificationEndpoint,
    what: { job: string; number: number; phase: NotificationPhase },
    body: string,
  ): void {
    const previous = this.chains.get(endpoint.url) ?? Promise.resolve();
    const next = previous.then(() => this.send(endpoint, what, body));
    this.chains.set(endpoint.url, next);
    this.inFlight.add(next);
    void next.finally(() => {
      this.inFlight.delete(next);
      if (this.chains.get(endpoint.url) === next) this.chains.delete(endpoint.url);
    });
  }

  private async send(
    endpoint: NotificationEndpoint,
    what: { job: string; number: number; phase: NotificationPhase },
    body: string,
  ): Promise<void> {
    const target = new URL(endpoint.url);
    const headers: Record<string, string> = { 'Content-Type': 'application/json;charset=UTF-8' };
    if (target.username !== '' || target.password !== '') {
      const credentials = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
      headers.Authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      target.username = '';
      target.password = '';
    }
    const attempts = 1 + Math.max(0, endpoint.retries ?? 0);
    for (let i = 0; i < attempts && !this.stopping.signal.aborted; i++) {
      this.onDelivery?.(what.phase);
      try {
        const res = await fetch(target, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([
            AbortSignal.timeout(endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS),
            this.stopping.signal,
          ]),
        });
        await res.arrayBuffer();
        this.record({ ...what, url: redact(endpoint.url), status: res.status });
        return;
      } catch (err) {
        const e = err as Error & { cause?: { message?: string } };
        this.record({ ...what, url: redact(endpoint.url), error: e.cause?.message ?? e.message });
      }
    }
  }

  private record(attempt: Omit<NotificationAttempt, 'at'>): void {
    this.attemptLog.push({ at: new Date().toISOString(), ...attempt });
    if (this.attemptLog.length > ATTEMPT_LOG_LIMIT) this.attemptLog.shift();
  }
}

/** The plugin's `Endpoint.isForPhase` with the `failed` and `failedAndFirstSuccess` shortcuts. */
function selects(event: NotificationEvent, phase: NotificationPhase, job: JobNode, build: Build): boolean {
  switch (event) {
    case 'all':
      return true;
    case 'manual':
      return false;
    case 'failed':
      return phase === 'FINALIZED' && build.result === 'FAILURE';
    case 'failedAndFirstSuccess': {
      if (phase !== 'FINALIZED') return false;
      if (build.result === 'FAILURE') return true;
      const previous = job.builds.find((b) => b.number < build.number && !b.building);
      return build.result === 'SUCCESS' && previous?.result === 'FAILURE';
    }
    default:
      return event.toUpperCase() === phase;
  }
}

function redact(raw: string): string {
  const url = new URL(raw);
  if (url.password !== '') url.password = '*****';
  return url.toString();
}
