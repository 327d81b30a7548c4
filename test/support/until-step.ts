import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../../workflows/messages.js';
import { eventually, GiveUp, type PollOptions } from './eventually.js';

/**
 * Polls a run's progress query until its current step is `step` (the run waits there). Fails at once when the run
 * ends first, and after `timeoutMs` (default 30 s) naming the step it was at.
 */
export async function untilStep(handle: WorkflowHandle, step: string, opts: PollOptions = {}): Promise<void> {
  let at = 'nothing';
  try {
    await eventually(
      async () => {
        const progress = await handle.query(progressQuery).catch(() => undefined);
        at = progress?.current?.name ?? 'nothing';
        if (at === step) return 'reached';
        const { status } = await handle.describe();
        if (status.name !== 'RUNNING') throw new GiveUp(`${handle.workflowId} ended ${status.name} before ${step}`);
        return undefined;
      },
      `${handle.workflowId} to reach step ${step}`,
      { everyMs: 50, ...opts },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; at ${at}`, { cause: err });
  }
}
