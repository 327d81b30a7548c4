/**
 * The record of a run: its steps (what, when, how long, how many attempts, what it waits on), the undos that ran,
 * and its visibility (search attributes and memo). Backs `progressQuery` and the reports.
 */
import { isCancellation, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
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

type MutableStep = { -readonly [K in keyof StepRecord]: StepRecord[K] };

export class Journal {
  readonly steps: MutableStep[] = [];
  readonly rollback: RollbackRecord[] = [];
  private current: MutableStep | undefined;
  private events = 0;

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
      delete record.waitingOn;
      delete record.timeoutAt;
      if (this.current === record) this.current = undefined;
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
    upsertSearchAttributes([
      { key: ShepherdApp, value: this.appName },
      { key: ShepherdStatus, value: status },
      ...(fields.env ? [{ key: ShepherdEnvironment, value: fields.env }] : []),
      ...(fields.imageTag ? [{ key: ShepherdImageTag, value: fields.imageTag }] : []),
    ]);
    upsertMemo({ status, ...(fields.summary ? { summary: fields.summary } : {}) });
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
