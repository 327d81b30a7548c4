/**
 * awaitJenkinsQueueItem. Changes nothing. Waits (polling, heartbeating `{ queueItemId, startedAt, lastSeen }`) until
 * a queue item Jenkins named for a trigger becomes a build, and returns that build. Safe to repeat: it only reads,
 * and a retry keeps the first attempt's start. Only an item Jenkins marks `cancelled: true` throws
 * BuildCancelledError; an item that left the queue without naming its build yet is waited for, and an item Jenkins
 * has forgotten is found through the build that names it as `queueId`. A poll Jenkins cannot answer saw nothing.
 * WaitTimeoutError at `deadline` with what the queue said last (e.g. `Waiting for next available executor`).
 * Cancellable: the workflow waits here outside any shield, so a cancel or supersede ends the wait at once.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { BuildCancelledError } from '../../src/domain/errors.js';
import type { JenkinsClient, JobPath } from '../../src/clients/jenkins/client.js';
import { defineActivity } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil, type Step } from '../poll-until.js';
import { jobOf, type JenkinsContext } from './support.js';

/** Heartbeat details of a queue wait; `buildNumber` once known (trigger-promote-job's retry reads it). */
export const QueueProgress = z.object({
  queueItemId: z.number().int().positive(),
  startedAt: z.number().optional(),
  buildNumber: z.number().int().positive().optional(),
  lastSeen: z.string().optional(),
});
export type QueueProgress = z.infer<typeof QueueProgress>;

/** The build a queue item became. */
export interface StartedBuild {
  readonly number: number;
  readonly url: string;
}

/**
 * One look at queue item `queueItemId` of `job`: its build once it has one, else the progress to heartbeat. Throws
 * BuildCancelledError only for an item marked cancelled, or one Jenkins forgot with no build naming it.
 */
export async function lookAtQueueItem(
  client: JenkinsClient,
  job: JobPath,
  progress: QueueProgress,
  signal: AbortSignal,
): Promise<Step<QueueProgress, StartedBuild>> {
  const { queueItemId } = progress;
  const name = job.join('/');
  const item = await client.getQueueItem(queueItemId, { signal });
  if (!item) {
    // Jenkins forgets an item some minutes after it left the queue: its build names it as `queueId`.
    const started = (await client.listBuilds(job, { signal })).find((b) => b.queueId === queueItemId);
    if (started) return { done: started };
    throw new BuildCancelledError({
      job: name,
      queueItemId,
      why: `queue item ${queueItemId} is gone and no build of ${name} came from it`,
    });
  }
  if (item.executable) return { done: item.executable };
  if (item.cancelled) {
    throw new BuildCancelledError({
      job: name,
      queueItemId,
      why: progress.lastSeen ? `cancelled in the queue while waiting: ${progress.lastSeen}` : 'cancelled in the queue',
    });
  }
  const lastSeen = item.why ?? (item.state === 'left' ? 'left the queue; its build is starting' : undefined);
  const { lastSeen: _previous, ...rest } = progress;
  return { progress: { ...rest, ...(lastSeen !== undefined ? { lastSeen } : {}) } };
}

export function createAwaitJenkinsQueueItem(ctx: JenkinsContext): ShepherdActivities['awaitJenkinsQueueItem'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      job: ACTIVITY_FIELDS.jobRole(),
      queueItemId: ACTIVITY_FIELDS.positiveWhole(),
      deadline: ACTIVITY_FIELDS.instant(),
    }),
    progress: QueueProgress,
    async run(input, { attempt, signal, resumed, heartbeat }) {
      const job = jobOf(layout, input.job);
      const { queueItemId } = input;
      const startedAt =
        resumed?.queueItemId === queueItemId && resumed.startedAt !== undefined ? resumed.startedAt : Date.now();
      const build = await pollUntil<QueueProgress, StartedBuild>({
        waitingFor: `Jenkins ${job.join('/')} queue item ${queueItemId} to start its build`,
        startedAt,
        deadline: Date.parse(input.deadline),
        progress: { queueItemId, startedAt },
        ...pacing(ctx.pace, 'jenkins', 'covered'),
        heartbeat,
        look: (progress) => lookAtQueueItem(client, job, progress, signal),
      });
      heartbeat({ queueItemId, startedAt, buildNumber: build.number });
      return { attempt, build: { job: input.job, buildNumber: build.number, url: build.url }, queueItemId };
    },
  });
}
