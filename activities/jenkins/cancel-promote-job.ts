/**
 * cancelPromoteJob: the undo of triggerPromoteJob. Changes: cancels the queue item while it is still queued
 * (`POST /queue/cancelItem?id=N`), or stops the build it became (`POST {job}/{number}/stop`); then waits
 * (heartbeating `{ startedAt, buildNumber, lastSeen }`) until that build has finished, so that nothing the job does
 * afterwards (push a branch, open an MR) comes after the run's own cleanup. Safe to repeat: a cancelled item, a
 * finished build and an item Jenkins has forgotten with no build naming it are "nothing to do"; stopping a build
 * that is already stopping does nothing more. WaitTimeoutError at `deadline` when the build keeps running.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type CancelPromoteJobResult, type ShepherdActivities } from '../../src/domain/activities.js';
import type { JenkinsBuild } from '../../src/clients/jenkins/schemas.js';
import { defineActivity } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil, type Step } from '../poll-until.js';
import type { JenkinsContext } from './support.js';

const CancelProgress = z.object({
  startedAt: z.number(),
  buildNumber: z.number().int().positive().optional(),
  stopRequested: z.boolean().optional(),
  lastSeen: z.string().optional(),
});
type CancelProgress = z.infer<typeof CancelProgress>;

type Outcome = Omit<CancelPromoteJobResult, 'attempt'>;

export function createCancelPromoteJob(ctx: JenkinsContext): ShepherdActivities['cancelPromoteJob'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z
      .object({
        appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
        // 0: Jenkins named no queue item (a very old build found by its parameters); the build number then says it.
        queueItemId: z.number().int().nonnegative(),
        buildNumber: ACTIVITY_FIELDS.positiveWhole().optional(),
        deadline: ACTIVITY_FIELDS.instant(),
      })
      .refine((i) => i.queueItemId > 0 || i.buildNumber !== undefined, {
        path: ['queueItemId'],
        error: 'must be a positive whole number when no buildNumber is given',
      }),
    progress: CancelProgress,
    async run(input, { attempt, signal, resumed, heartbeat }) {
      const job = layout.jenkins.promoteJob;
      const name = job.join('/');
      const { queueItemId } = input;
      const startedAt = resumed?.startedAt ?? Date.now();
      const buildNumber = resumed?.buildNumber ?? input.buildNumber;

      /** The build's state: finished (done), or running and asked to stop. */
      const lookAtBuild = async (progress: CancelProgress, number: number): Promise<Step<CancelProgress, Outcome>> => {
        const build: JenkinsBuild = await client.getBuild(job, number, { signal });
        if (!build.building && build.result !== undefined) {
          const outcome = progress.stopRequested ? 'build-stopped' : 'build-finished';
          return { done: { outcome, buildNumber: number, buildResult: build.result } };
        }
        await client.stopBuild(job, number, { signal });
        return {
          progress: { ...progress, buildNumber: number, stopRequested: true, lastSeen: `${name} #${number} stopping` },
        };
      };

      const outcome = await pollUntil<CancelProgress, Outcome>({
        waitingFor: `Jenkins ${name} queue item ${queueItemId} to be cancelled or its build stopped`,
        startedAt,
        deadline: Date.parse(input.deadline),
        progress: { startedAt, ...(buildNumber !== undefined ? { buildNumber } : {}) },
        ...pacing(ctx.pace, 'jenkins', 'polled'),
        heartbeat,
        async look(progress) {
          if (progress.buildNumber !== undefined) return lookAtBuild(progress, progress.buildNumber);
          const item = await client.getQueueItem(queueItemId, { signal });
          if (!item) {
            const started = (await client.listBuilds(job, { signal })).find((b) => b.queueId === queueItemId);
            if (started) return lookAtBuild(progress, started.number);
            return { done: { outcome: 'nothing-to-cancel' } };
          }
          if (item.executable) return lookAtBuild(progress, item.executable.number);
          if (item.cancelled) return { done: { outcome: 'queue-item-cancelled' } };
          // Still queued: cancel it. Jenkins answers 404 when it left the queue meanwhile; the next look finds its build.
          if (item.state !== 'left' && (await client.cancelQueueItem(queueItemId, { signal })))
            return { done: { outcome: 'queue-item-cancelled' } };
          return {
            progress: { ...progress, lastSeen: `queue item ${queueItemId} left the queue; its build is starting` },
          };
        },
      });
      return { ...outcome, attempt };
    },
  });
}
