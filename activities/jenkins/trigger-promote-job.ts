/**
 * triggerPromoteJob. Changes: queues one `promote-environment` build with APP_NAME, SOURCE_ENV, TARGET_ENV and
 * IMAGE_TAG. Safe to repeat: the queue item is heartbeated as soon as Jenkins names it, and a retry follows the
 * recorded item (or build) instead of triggering again; with nothing recorded, a queued item or a build with
 * identical parameters queued at or after `notBefore` is taken as ours (`reused`), and an identical item still
 * queued is folded into by Jenkins itself (303). Waits (heartbeating `{ queueItemId, startedAt, lastSeen }`) until
 * the queue item names its build, up to `deadline` or, when the workflow gives none, `WAIT_BUDGETS.ciBuildStart`
 * after the first attempt started (WaitTimeoutError); a poll Jenkins cannot answer saw nothing. Only an item
 * Jenkins marks cancelled throws BuildCancelledError; one that left the queue without naming its build yet is
 * waited for. It does not wait for the build to finish (awaitJenkinsBuild does).
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, promotionInput, type ShepherdActivities } from '../../src/domain/activities.js';
import { BuildCancelledError } from '../../src/domain/errors.js';
import { WAIT_BUDGETS } from '../../src/domain/wait-budgets.js';
import type { JenkinsClient, JobPath } from '../../src/clients/jenkins/client.js';
import type { JenkinsBuild, JenkinsQueueItem } from '../../src/clients/jenkins/schemas.js';
import { defineActivity } from '../define.js';
import { pollUntil } from '../poll-until.js';
import type { JenkinsContext } from './support.js';

/**
 * Heartbeat details: the queue item once Jenkins named it, its build once known, and when the first attempt
 * started (the start of the default deadline). Details without `startedAt` (an older worker's) start it afresh.
 */
const TriggerProgress = z.object({
  queueItemId: z.number().int().positive(),
  startedAt: z.number().optional(),
  buildNumber: z.number().int().positive().optional(),
  lastSeen: z.string().optional(),
});
type TriggerProgress = z.infer<typeof TriggerProgress>;

export function createTriggerPromoteJob(ctx: JenkinsContext): ShepherdActivities['triggerPromoteJob'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: promotionInput(layout.app.name, {
      notBefore: ACTIVITY_FIELDS.instant(),
      deadline: ACTIVITY_FIELDS.instant().optional(),
    }),
    progress: TriggerProgress,
    async run(input, { attempt, signal, resumed, heartbeat }) {
      const job = layout.jenkins.promoteJob;
      const startedAt = resumed?.startedAt ?? Date.now();
      const deadline =
        input.deadline !== undefined ? Date.parse(input.deadline) : startedAt + WAIT_BUDGETS.ciBuildStart * 1000;
      const parameters = {
        APP_NAME: input.appName,
        SOURCE_ENV: input.sourceEnv,
        TARGET_ENV: input.targetEnv,
        IMAGE_TAG: input.imageTag,
      };
      const result = (build: { number: number; url: string }, queueItemId: number, reused: boolean) => {
        heartbeat({ queueItemId, startedAt, buildNumber: build.number });
        return {
          attempt,
          build: { job: 'promote' as const, buildNumber: build.number, url: build.url },
          queueItemId,
          reused,
        };
      };

      if (resumed?.buildNumber !== undefined) {
        const build = await client.getBuild(job, resumed.buildNumber, { signal });
        return result(build, resumed.queueItemId, true);
      }
      let queueItemId: number;
      let reused: boolean;
      if (resumed) {
        queueItemId = resumed.queueItemId;
        reused = true;
      } else {
        const earlier = await findIdentical(client, job, parameters, Date.parse(input.notBefore), signal);
        if (earlier?.kind === 'build') return result(earlier.build, earlier.build.queueId ?? 0, true);
        if (earlier?.kind === 'queued') {
          queueItemId = earlier.item.id;
          reused = true;
        } else {
          const queued = await client.triggerBuild(job, parameters, { signal });
          queueItemId = queued.queueItemId;
          reused = queued.coalesced;
        }
        heartbeat({ queueItemId, startedAt });
      }

      const name = job.join('/');
      const build = await pollUntil<TriggerProgress, { number: number; url: string }>({
        waitingFor: `Jenkins ${name} queue item ${queueItemId} to start its build`,
        startedAt,
        deadline,
        progress: { queueItemId, startedAt },
        intervalMs: ctx.pollIntervalMs,
        heartbeat,
        async look(progress) {
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
              why: progress.lastSeen
                ? `cancelled in the queue while waiting: ${progress.lastSeen}`
                : 'cancelled in the queue',
            });
          }
          const lastSeen = item.why ?? (item.state === 'left' ? 'left the queue; its build is starting' : undefined);
          return { progress: { queueItemId, startedAt, ...(lastSeen !== undefined ? { lastSeen } : {}) } };
        },
      });
      return result(build, queueItemId, reused);
    },
  });
}

/** A build or queued item of `job` with exactly our parameters, queued at or after `notBefore` (Jenkins' clock). */
async function findIdentical(
  client: JenkinsClient,
  job: JobPath,
  parameters: Readonly<Record<string, string>>,
  notBefore: number,
  signal: AbortSignal,
): Promise<{ kind: 'queued'; item: JenkinsQueueItem } | { kind: 'build'; build: JenkinsBuild } | undefined> {
  const same = (values: Readonly<Record<string, string>>): boolean =>
    Object.entries(parameters).every(([k, v]) => values[k] === v);
  // The queue first, then the builds: an item that starts in between is then found as a build.
  const item = (await client.listQueue(job, { signal })).find((i) => same(i.parameters) && i.inQueueSince >= notBefore);
  if (item) return { kind: 'queued', item };
  const builds = (await client.listBuilds(job, { signal })).filter(
    (b) => same(b.parameters) && b.timestamp >= notBefore,
  );
  const oldest = builds.sort((a, b) => a.number - b.number)[0];
  return oldest ? { kind: 'build', build: oldest } : undefined;
}
