/**
 * The record of a run: its steps (what, when, how long, how many attempts, what it waits on), the undos that ran,
 * and its visibility (search attributes and memo). Backs `progressQuery` and the reports.
 *
 * It is also where a run is observed: one log line when a step starts and one when it ends with its outcome, one
 * when the run ends; and Shepherd's metrics (src/observability/metrics.ts): step and wait durations, approvals
 * pending, rollbacks, runs by outcome. The workflow `log` and `metricMeter` emit nothing while replaying and add no
 * command to the history, so neither changes what a run does.
 */
import {
  isCancellation,
  log,
  metricMeter,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { NO_ENVIRONMENT, ShepherdMetrics } from '../../src/observability/metrics.js';
import type { ActivityResult, NotificationEvent } from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import { summarizeFailure } from '../../src/temporal/common/failures.js';
import type { Progress, RollbackRecord, RunStatus, StepLinks, StepRecord, WaitingOn } from '../../src/domain/report.js';
import {
  ShepherdApp,
  ShepherdEnvironment,
  ShepherdImageTag,
  ShepherdStatus,
} from '../../src/temporal/common/search-attributes.js';
import { notifications } from './activities.js';

export interface StepOptions<T> {
  readonly env?: Environment;
  readonly imageTag?: string;
  readonly waitingOn?: WaitingOn;
  /** For waits: the budget in seconds; the step passes the resulting deadline to its activity. */
  readonly budgetSeconds?: number;
  /** Links to record once the step succeeded. */
  readonly links?: (result: T) => StepLinks;
}

/** Where a step acts: the environment and, once known, the image. */
export type StepPlace = Pick<StepOptions<unknown>, 'env' | 'imageTag'>;

/** The options of a step that waits at most `budgetSeconds` on `waitingOn`; the progress query shows both. */
export function waitOptions<T>(
  place: StepPlace,
  budgetSeconds: number,
  waitingOn: WaitingOn,
  links?: (result: T) => StepLinks,
): StepOptions<T> {
  return { ...place, budgetSeconds, waitingOn, ...(links ? { links } : {}) };
}

/** The app a run's journal names in its search attributes, also for an input that fails validation. */
export function appNameOf(input: unknown): string {
  const appName = (input as { appName?: unknown } | undefined)?.appName;
  return typeof appName === 'string' ? appName : 'unknown';
}

/** The statuses a run shows while it goes on; any other is its end. */
const IN_PROGRESS: ReadonlySet<RunStatus> = new Set<RunStatus>([
  'running',
  'waiting-approval',
  'waiting-freeze',
  'merging',
]);

type MutableStep = { -readonly [K in keyof StepRecord]: StepRecord[K] };

export class Journal {
  readonly steps: MutableStep[] = [];
  readonly rollback: RollbackRecord[] = [];
  private current: MutableStep | undefined;
  private events = 0;
  /** The environment the run last showed: where a validation got to when it ends. */
  private env: Environment | undefined;
  /** Rollback records of child runs, which count them in their own metrics. */
  private readonly adopted = new Set<RollbackRecord>();
  private readonly metrics = new ShepherdMetrics(metricMeter);

  constructor(private readonly appName: string) {}

  /** Runs one step, recording its start, duration, attempts, links, and failure. */
  async step<T>(name: string, options: StepOptions<T>, run: (deadline: string) => Promise<T>): Promise<T> {
    const startedMs = Date.now();
    const deadline = new Date(startedMs + (options.budgetSeconds ?? 0) * 1000).toISOString();
    const record: MutableStep = {
      name,
      status: 'running',
      startedAt: new Date(startedMs).toISOString(),
      ...(options.env ? { env: options.env } : {}),
      ...(options.imageTag ? { imageTag: options.imageTag } : {}),
      ...(options.waitingOn ? { waitingOn: options.waitingOn } : {}),
      ...(options.budgetSeconds !== undefined ? { timeoutAt: deadline } : {}),
    };
    this.steps.push(record);
    this.current = record;
    const waitingOn = options.waitingOn?.kind;
    const where = { step: name, app: this.appName, environment: options.env ?? NO_ENVIRONMENT };
    log.info(`step ${name} started`, { ...where, ...(waitingOn ? { waitingOn } : {}) });
    if (waitingOn === 'approval') this.metrics.approvalStarted({ app: where.app, environment: where.environment });
    try {
      const result = await run(deadline);
      const attempt = (result as Partial<ActivityResult> | undefined)?.attempt;
      Object.assign(record, {
        status: 'succeeded',
        durationMs: Date.now() - startedMs,
        ...(attempt !== undefined ? { attempts: attempt } : {}),
      });
      if (options.links) record.links = options.links(result);
      return result;
    } catch (err) {
      Object.assign(record, {
        status: isCancellation(err) ? 'cancelled' : 'failed',
        durationMs: Date.now() - startedMs,
        failure: summarizeFailure(err),
      });
      throw err;
    } finally {
      this.stepEnded(record, where, waitingOn);
      delete record.waitingOn;
      delete record.timeoutAt;
      if (this.current === record) this.current = undefined;
    }
  }

  /**
   * Takes a child run's rollback records into this run's record (a failed promotion under a validation): they are
   * reported here and counted in the child's metrics, not again here.
   */
  adopt(records: readonly RollbackRecord[]): void {
    for (const record of records) this.adopted.add(record);
    this.rollback.push(...records);
  }

  private stepEnded(
    record: MutableStep,
    where: { step: string; app: string; environment: string },
    waitingOn: string | undefined,
  ): void {
    const outcome = record.status;
    const seconds = (record.durationMs ?? 0) / 1000;
    const failure = record.failure ? { failure: { type: record.failure.type, message: record.failure.message } } : {};
    const line = { ...where, outcome, durationMs: record.durationMs, ...failure };
    if (outcome === 'failed') log.warn(`step ${where.step} ${outcome}`, line);
    else log.info(`step ${where.step} ${outcome}`, line);
    this.metrics.stepEnded({ ...where, name: where.step, outcome, seconds, ...(waitingOn ? { waitingOn } : {}) });
    if (waitingOn === 'approval') {
      const decision = outcome === 'succeeded' ? 'approved' : outcome === 'failed' ? 'rejected' : 'cancelled';
      this.metrics.approvalEnded({ app: where.app, environment: where.environment }, decision, seconds);
    }
  }

  /** The run ended with `status`: its log line, its outcome counter, and the undos it ran itself. */
  private ended(status: RunStatus, summary: string | undefined): void {
    const { workflowType } = workflowInfo();
    const environment = this.env ?? NO_ENVIRONMENT;
    const line = { app: this.appName, environment, outcome: status, ...(summary ? { summary } : {}) };
    if (status === 'failed') log.warn(`run ${status}`, line);
    else log.info(`run ${status}`, line);
    this.metrics.runEnded(workflowType, { app: this.appName, environment, outcome: status });
    for (const record of this.rollback) {
      if (this.adopted.has(record)) continue;
      const tags = { app: this.appName, environment: record.env ?? environment, action: record.action };
      this.metrics.undoEnded(tags, record.status);
    }
  }

  progress(): Progress {
    return {
      steps: this.steps.map((step) => ({ ...step })),
      current: this.current ? { ...this.current } : undefined,
      rollback: [...this.rollback],
    };
  }

  /** Keeps the search attributes and the memo current; call on phase changes only (each call is a history event). */
  show(status: RunStatus, fields: { env?: Environment; imageTag?: string; summary?: string }): void {
    if (fields.env) this.env = fields.env;
    upsertSearchAttributes([
      { key: ShepherdApp, value: this.appName },
      { key: ShepherdStatus, value: status },
      ...(fields.env ? [{ key: ShepherdEnvironment, value: fields.env }] : []),
      ...(fields.imageTag ? [{ key: ShepherdImageTag, value: fields.imageTag }] : []),
    ]);
    upsertMemo({ status, ...(fields.summary ? { summary: fields.summary } : {}) });
    if (!IN_PROGRESS.has(status)) this.ended(status, fields.summary);
  }

  /** Posts a notification; a lost notification never fails the run. */
  async notify(
    event: NotificationEvent,
    text: string,
    fields: { env?: Environment; imageTag?: string; links?: string[] } = {},
  ): Promise<void> {
    const { workflowId, runId } = workflowInfo();
    this.events += 1;
    try {
      await notifications.notifyEvent({
        eventId: `${workflowId}/${runId}/${this.events}`,
        event,
        appName: this.appName,
        text,
        ...fields,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
    }
  }
}
