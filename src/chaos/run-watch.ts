/**
 * Following one validatePipeline run from outside, through the same messages a person uses: the `progress` query
 * (of the run, and of the child promotion it waits on) tells which step runs; the `approve` update opens the prod
 * gate. Every call tolerates a missing worker or a restarting server: a look that fails is simply "not known now".
 */
import type { Client } from '@temporalio/client';
import type { ValidationReport, WaitingOn } from '../domain/report.js';
import type { ValidatePipelineInput } from '../domain/inputs.js';
import { runOutcome } from '../temporal/run-outcome.js';
import { validationStart } from '../temporal/run-start.js';
import { approveUpdate, progressQuery } from '../../workflows/messages.js';
import { validatePipeline } from '../../workflows/validate-pipeline.js';

/** Where a run is: the innermost running step (inside the child promotion when there is one). */
export interface RunPosition {
  /** The workflow the step runs in: the validation, or `promote-<app>-<env>`. */
  readonly workflowId: string;
  readonly step: string | undefined;
  readonly waitingOn: WaitingOn['kind'] | undefined;
  /** Environment of the step, when it has one. */
  readonly env: string | undefined;
  /** Rollback records so far (of the child when the step is in the child), to tell a compensation in progress. */
  readonly rollbackRecords: number;
  /** True once the run or its child reports a failed step (a compensation follows). */
  readonly failing: boolean;
}

export interface StartOptions {
  readonly appName: string;
  readonly taskQueue: string;
  /** Environments behind the approval gate; default prod. */
  readonly approvalEnvironments?: readonly ('dev' | 'stage' | 'prod')[];
  /** The last environment the run promotes to; default prod. */
  readonly through?: 'dev' | 'stage' | 'prod';
  /** The runs' heartbeat timeout: how soon a killed worker's wait moves to a new worker. */
  readonly heartbeatTimeout: string;
  /** Overrides of the wait budgets, in seconds. */
  readonly waitBudgets?: {
    readonly build?: number;
    readonly mergeRequest?: number;
    readonly sync?: number;
    readonly workload?: number;
  };
}

/** Starts validatePipeline (`validate-<app>`) as any client would; anyone may approve. */
export async function startValidation(client: Client, opts: StartOptions): Promise<string> {
  const input: ValidatePipelineInput = {
    appName: opts.appName,
    approvalEnvironments: [...(opts.approvalEnvironments ?? ['prod'])],
    approvers: [],
    heartbeatTimeout: opts.heartbeatTimeout,
    ...(opts.through ? { through: opts.through } : {}),
    ...(opts.waitBudgets ? { waitBudgets: { ...opts.waitBudgets } } : {}),
  };
  const start = validationStart(input, opts.taskQueue, 'the chaos runner');
  await client.workflow.start(validatePipeline, start);
  return start.workflowId;
}

const LOOK_TIMEOUT_MS = 3_000;

async function within<T>(client: Client, fn: () => Promise<T>, timeoutMs = LOOK_TIMEOUT_MS): Promise<T | undefined> {
  try {
    return await client.connection.withDeadline(Date.now() + timeoutMs, fn);
  } catch {
    return undefined;
  }
}

/** Where the run is now, or undefined when nobody can answer (no worker, server away, run finished). */
export async function runPosition(client: Client, workflowId: string): Promise<RunPosition | undefined> {
  const progress = await within(client, () => client.workflow.getHandle(workflowId).query(progressQuery));
  if (!progress) return undefined;
  const failing = progress.steps.some((s) => s.status === 'failed');
  const current = progress.current;
  if (current?.waitingOn?.kind === 'child-workflow') {
    const childId = current.waitingOn.ref;
    const child = await within(client, () => client.workflow.getHandle(childId).query(progressQuery));
    if (!child) return undefined;
    return {
      workflowId: childId,
      step: child.current?.name,
      waitingOn: child.current?.waitingOn?.kind,
      env: child.current?.env,
      rollbackRecords: child.rollback.length,
      failing: failing || child.steps.some((s) => s.status === 'failed'),
    };
  }
  return {
    workflowId,
    step: current?.name,
    waitingOn: current?.waitingOn?.kind,
    env: current?.env,
    rollbackRecords: progress.rollback.length,
    failing,
  };
}

/**
 * Approves the gate at `position` through the `approve` update; false when it was not accepted within
 * `timeoutMs`. Right after a worker died the update waits for the workflow task to leave the dead worker's
 * sticky queue (about 10 s), so a caller that must know should allow more than the default.
 */
export async function approveAt(
  client: Client,
  position: RunPosition,
  by: string,
  timeoutMs = LOOK_TIMEOUT_MS,
): Promise<boolean> {
  if (position.waitingOn !== 'approval') return false;
  const outcome = await within(
    client,
    () =>
      client.workflow
        .getHandle(position.workflowId)
        .executeUpdate(approveUpdate, { args: [{ by, reason: 'approved by the resilience check' }] }),
    timeoutMs,
  );
  return outcome !== undefined;
}

export type RunEnd =
  | { readonly kind: 'finished'; readonly report: ValidationReport }
  | { readonly kind: 'closed'; readonly status: string }
  | { readonly kind: 'stuck'; readonly position: RunPosition | undefined };

export interface AwaitOptions {
  /** Give up (`stuck`) after this long. */
  readonly boundMs: number;
  /** Approve every gate the run reaches, as this person. */
  readonly approveAs?: string;
  readonly pollMs?: number;
  /** Called on every look, e.g. to time a fault on a step. */
  readonly onPosition?: (position: RunPosition | undefined) => void | Promise<void>;
}

/** Follows the run until it closes (its report when it left one) or the bound passes. */
export async function awaitRunEnd(client: Client, workflowId: string, opts: AwaitOptions): Promise<RunEnd> {
  const until = Date.now() + opts.boundMs;
  let position: RunPosition | undefined;
  for (;;) {
    // The report travels as the result of a run that succeeded and as the failure's detail of one that did not.
    const outcome = await within(client, () => runOutcome(client, workflowId));
    if (outcome !== undefined && outcome.status !== 'RUNNING') {
      if (outcome.kind === 'validation') return { kind: 'finished', report: outcome.report };
      return { kind: 'closed', status: outcome.status };
    }
    if (Date.now() > until) return { kind: 'stuck', position };
    position = (await runPosition(client, workflowId)) ?? position;
    await opts.onPosition?.(position);
    if (opts.approveAs && position?.waitingOn === 'approval') await approveAt(client, position, opts.approveAs);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 150));
  }
}

/** Waits until the run is at a step matching `pred`; undefined when the run ended or `timeoutMs` passed first. */
export async function waitForPosition(
  client: Client,
  workflowId: string,
  pred: (p: RunPosition) => boolean,
  timeoutMs: number,
  approveAs?: string,
): Promise<RunPosition | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const position = await runPosition(client, workflowId);
    if (position && pred(position)) return position;
    if (approveAs && position?.waitingOn === 'approval') await approveAt(client, position, approveAs);
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
