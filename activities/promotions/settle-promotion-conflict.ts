/**
 * settlePromotionConflict. A validation's hop found its target's promotion (`promote-<app>-<env>`) already running,
 * started by someone else (the CLI, the Web UI): it settles the conflict the way `shepherd promote` does
 * (src/domain/promotion-policy.ts), through the worker's own Temporal client.
 *
 * - the running one promotes the same image → **join**: waits for its end and returns how it ended;
 * - it promotes another image and is still before its merge → **supersede**: sends it the `supersede` update with
 *   this image, waits until it has unwound, returns `start`;
 * - it is merging or later → **wait**: an environment is never switched mid-rollout; waits for its end, returns
 *   `start`;
 * - it ended meanwhile → `start`;
 * - it runs on another task queue (another Shepherd installation sharing the namespace) → waits for its end, then
 *   `start`: one installation never joins or supersedes another's run.
 *
 * Changes: only the supersede, which the running promotion undoes itself (it closes its MR, deletes its branch).
 * Safe to repeat: a retry finds the superseded run ended (→ `start`) or still unwinding (→ waits again). Waits
 * heartbeating until `deadline` (then PromotionAlreadyRunningError: it still runs), and stops waiting when cancelled.
 */
import { z } from 'zod';
import { activityInfo, Context } from '@temporalio/activity';
import {
  ACTIVITY_FIELDS,
  type SettlePromotionConflictResult,
  type ShepherdActivities,
} from '../../src/domain/activities.js';
import { PromotionAlreadyRunningError } from '../../src/domain/errors.js';
import { decidePromotionRequest, promotionWorkflowId, type CurrentImage } from '../../src/domain/promotion-policy.js';
import { defineActivity } from '../define.js';

/** How often a wait heartbeats while it waits for the running promotion to end. */
const HEARTBEAT_EVERY_MS = 5_000;

export function createSettlePromotionConflict(): ShepherdActivities['settlePromotionConflict'] {
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.text(),
      env: ACTIVITY_FIELDS.environmentName(),
      imageTag: ACTIVITY_FIELDS.imageTag(),
      requestedBy: ACTIVITY_FIELDS.text(),
      deadline: ACTIVITY_FIELDS.instant(),
    }),
    progress: z.object({ waiting: z.string() }),
    async run(input, { attempt, signal, heartbeat }) {
      const workflowId = promotionWorkflowId(input.appName, input.env);
      const handle = Context.current().client.workflow.getHandle(workflowId);
      const deadline = Date.parse(input.deadline);
      /** Waits for the running promotion's end; at the deadline the hop gives up as the CLI would refuse. */
      const waitForEnd = async (why: string): Promise<void> => {
        const ended = handle.result().then(
          () => undefined,
          () => undefined,
        );
        for (;;) {
          const left = deadline - Date.now();
          if (left <= 0) throw new PromotionAlreadyRunningError({ env: input.env, workflowId });
          heartbeat({ waiting: why });
          const tick = new Promise<'tick'>((resolve) =>
            setTimeout(() => resolve('tick'), Math.min(left, HEARTBEAT_EVERY_MS)),
          );
          const cancelled = new Promise<never>((_, reject) => {
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
          if ((await Promise.race([ended.then(() => 'ended' as const), tick, cancelled])) === 'ended') return;
        }
      };

      for (;;) {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') return { decision: 'start', attempt };
        if (description.taskQueue !== activityInfo().taskQueue) {
          // Another Shepherd installation's run (another task queue, same namespace): never joined or superseded
          // from here; the hop waits for its end.
          await waitForEnd(`it belongs to task queue ${description.taskQueue}, not this installation's`);
          continue;
        }
        const running = await handle.query<CurrentImage>('currentImage');
        const decision = decidePromotionRequest(running, input.imageTag);
        if (decision === 'start') return { decision: 'start', attempt };
        if (decision === 'join') {
          await waitForEnd(`joined: it promotes ${input.imageTag} too`);
          return { decision: 'joined', ...(await outcomeOf(handle)), attempt };
        }
        if (decision === 'supersede') {
          try {
            await handle.executeUpdate('supersede', { args: [{ imageTag: input.imageTag, by: input.requestedBy }] });
          } catch {
            // Refused: it moved past its merge meanwhile, or ended. Look again.
            continue;
          }
          await waitForEnd(`superseded by ${input.imageTag}, unwinding`);
          return { decision: 'superseded', supersededImageTag: running.imageTag ?? '', attempt };
        }
        await waitForEnd(`it promotes ${running.imageTag ?? 'another image'} and is ${running.phase}`);
      }
    },
  });
}

/** How the joined run ended: its result, or its failure's type, message and first detail. */
async function outcomeOf(handle: {
  result(): Promise<unknown>;
}): Promise<Pick<SettlePromotionConflictResult & { decision: 'joined' }, 'result' | 'failure'>> {
  try {
    return { result: (await handle.result()) as never };
  } catch (err) {
    const cause = (err as { cause?: { type?: string; message?: string; details?: unknown[] } }).cause;
    return {
      failure: {
        type: cause?.type ?? 'PromotionFailed',
        message: cause?.message ?? (err as Error).message,
        ...(cause?.details?.[0] !== undefined ? { details: cause.details[0] as never } : {}),
      },
    };
  }
}
