/**
 * Sends the `wake` signal (src/domain/wake.ts) to the runs an event concerns, through Temporal: whatever worker
 * runs a wait and whatever receiver got the event, the signal lands in the run's history and its wait looks again.
 * A run that does not exist or has ended is not an error: the event simply concerned no waiting run.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WAKE_SIGNAL, type WakeHint } from '../domain/wake.js';
import { validationLockWorkflowId } from '../domain/promotion-policy.js';
import type { WebhookSignalOutcome } from '../observability/metrics.js';
import type { RunTarget } from './routing.js';

export interface WakeResult {
  /** The workflow id signalled, or the lock looked up when no validation runs. */
  readonly workflowId: string;
  readonly outcome: WebhookSignalOutcome;
  readonly error?: unknown;
}

/** Wakes runs on one Temporal namespace; `taskQueue` is the installation's (it names the validation lock). */
export class RunWaker {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async wake(target: RunTarget, hint: WakeHint): Promise<WakeResult> {
    if (target.kind === 'run') return this.signal(target.workflowId, undefined, hint);
    // Every running validation holds the child `lock-validate-<app>@<task queue>`; its parent is the validation,
    // whatever id it was started under (`validate-<app>`, or `validate-<app>-<time>` from the schedule).
    const lockId = validationLockWorkflowId(target.app, this.taskQueue);
    try {
      const lock = await this.client.workflow.getHandle(lockId).describe();
      const parent = lock.parentExecution;
      if (lock.status.name !== 'RUNNING' || !parent) return { workflowId: lockId, outcome: 'not_running' };
      if (!parent.workflowId) return { workflowId: lockId, outcome: 'not_running' };
      return await this.signal(parent.workflowId, parent.runId ?? undefined, hint);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { workflowId: lockId, outcome: 'not_running' };
      return { workflowId: lockId, outcome: 'failed', error };
    }
  }

  private async signal(workflowId: string, runId: string | undefined, hint: WakeHint): Promise<WakeResult> {
    try {
      await this.client.workflow.getHandle(workflowId, runId).signal(WAKE_SIGNAL, hint);
      return { workflowId, outcome: 'signalled' };
    } catch (error) {
      // Temporal answers NotFound both for an id that never ran and for a run that has completed.
      if (error instanceof WorkflowNotFoundError) return { workflowId, outcome: 'not_running' };
      return { workflowId, outcome: 'failed', error };
    }
  }
}
