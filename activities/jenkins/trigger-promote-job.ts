/**
 * triggerPromoteJob. Changes: queues one `promote-environment` build with the app, source and target environment and
 * image tag, under the parameter names of the layout's `jenkins.promoteParameters` (the seed's APP_NAME, SOURCE_ENV,
 * TARGET_ENV and IMAGE_TAG). Safe to repeat: the queue item is heartbeated as soon as Jenkins names it, and a retry follows the
 * recorded item (or build) instead of triggering again; with nothing recorded, a queued item or a build with
 * identical parameters queued at or after `notBefore` is taken as ours (`reused`), and an identical item still
 * queued is folded into by Jenkins itself (303). Waits (heartbeating `{ queueItemId, startedAt, lastSeen }`) until
 * the queue item names its build, up to `deadline` or, when the workflow gives none, `WAIT_BUDGETS.ciBuildStart`
 * after the first attempt started (WaitTimeoutError); a poll Jenkins cannot answer saw nothing. Only an item
 * Jenkins marks cancelled throws BuildCancelledError; one that left the queue without naming its build yet is
 * waited for. It does not wait for the build to finish (awaitJenkinsBuild does). queuePromoteJob is the same trigger without
 * the wait: it returns as soon as Jenkins named the queue item (the build too, when an identical one had already
 * started), and the workflow waits for the item in awaitJenkinsQueueItem, a wait that a cancel can end.
 */
import {
  ACTIVITY_FIELDS,
  promotionInput,
  type ShepherdActivities,
  type TriggerPromoteJobInput,
} from '../../src/domain/activities.js';
import { environmentOrderOf, SEED_PROMOTE_PARAMETERS } from '../../src/domain/pipeline.js';
import { WAIT_BUDGETS } from '../../src/domain/wait-budgets.js';
import type { JenkinsClient, JobPath } from '../../src/clients/jenkins/client.js';
import type { JenkinsBuild, JenkinsQueueItem } from '../../src/clients/jenkins/schemas.js';
import { defineActivity } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil } from '../poll-until.js';
import { lookAtQueueItem, QueueProgress, type StartedBuild } from './await-jenkins-queue-item.js';
import type { JenkinsContext } from './support.js';

/**
 * Heartbeat details: the queue item once Jenkins named it, its build once known, and when the first attempt
 * started (the start of the default deadline). Details without `startedAt` (an older worker's) start it afresh.
 */
const TriggerProgress = QueueProgress;
type TriggerProgress = QueueProgress;

export function createTriggerPromoteJob(ctx: JenkinsContext): ShepherdActivities['triggerPromoteJob'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: promotionInput(
      layout.app.name,
      {
        notBefore: ACTIVITY_FIELDS.instant(),
        deadline: ACTIVITY_FIELDS.instant().optional(),
      },
      environmentOrderOf(layout),
    ),
    progress: TriggerProgress,
    async run(input, { attempt, signal, resumed, heartbeat }) {
      const job = layout.jenkins.promoteJob;
      const startedAt = resumed?.startedAt ?? Date.now();
      const deadline =
        input.deadline !== undefined ? Date.parse(input.deadline) : startedAt + WAIT_BUDGETS.ciBuildStart * 1000;
      const queued = await queueOnce(ctx, input, { startedAt, resumed, heartbeat, signal });
      const { queueItemId, reused } = queued;
      const build =
        queued.build ??
        (await pollUntil<TriggerProgress, StartedBuild>({
          waitingFor: `Jenkins ${job.join('/')} queue item ${queueItemId} to start its build`,
          startedAt,
          deadline,
          progress: { queueItemId, startedAt },
          ...pacing(ctx.pace, 'jenkins', 'covered'),
          heartbeat,
          look: (progress) => lookAtQueueItem(client, job, progress, signal),
        }));
      heartbeat({ queueItemId, startedAt, buildNumber: build.number });
      return {
        attempt,
        build: { job: 'promote' as const, buildNumber: build.number, url: build.url },
        queueItemId,
        reused,
      };
    },
  });
}

/**
 * queuePromoteJob: triggerPromoteJob's trigger alone. Changes: queues one `promote-environment` build. Safe to
 * repeat the same way (heartbeated queue item, identical item or build since `notBefore` reused, 303 folding).
 * Returns once Jenkins named the queue item, with the build when an identical one had already started.
 */
export function createQueuePromoteJob(ctx: JenkinsContext): ShepherdActivities['queuePromoteJob'] {
  const { layout } = ctx;
  return defineActivity({
    input: promotionInput(layout.app.name, { notBefore: ACTIVITY_FIELDS.instant() }, environmentOrderOf(layout)),
    progress: TriggerProgress,
    async run(input, { attempt, signal, resumed, heartbeat }) {
      const startedAt = resumed?.startedAt ?? Date.now();
      const queued = await queueOnce(ctx, input, { startedAt, resumed, heartbeat, signal });
      return {
        attempt,
        queueItemId: queued.queueItemId,
        reused: queued.reused,
        ...(queued.build
          ? { build: { job: 'promote' as const, buildNumber: queued.build.number, url: queued.build.url } }
          : {}),
      };
    },
  });
}

interface QueueCall {
  readonly startedAt: number;
  readonly resumed: TriggerProgress | undefined;
  readonly heartbeat: (progress: TriggerProgress) => void;
  readonly signal: AbortSignal;
}

/**
 * Queues the build once: follows what an earlier attempt heartbeated, else takes an identical item or build queued
 * since `notBefore` as ours, else POSTs the trigger; heartbeats the queue item as soon as it is known.
 */
async function queueOnce(
  ctx: JenkinsContext,
  input: Omit<TriggerPromoteJobInput, 'runMarker' | 'deadline'>,
  { startedAt, resumed, heartbeat, signal }: QueueCall,
): Promise<{ queueItemId: number; reused: boolean; build?: StartedBuild }> {
  const { client, layout } = ctx;
  const job = layout.jenkins.promoteJob;
  // The job's own parameter names (the layout's mapping; the seed's APP_NAME, SOURCE_ENV, TARGET_ENV, IMAGE_TAG):
  // the trigger sends them, and an identical queued item or build is recognised by them.
  const names = layout.jenkins.promoteParameters ?? SEED_PROMOTE_PARAMETERS;
  const parameters = {
    [names.app]: input.appName,
    [names.source]: input.sourceEnv,
    [names.target]: input.targetEnv,
    [names.tag]: input.imageTag,
  };
  if (resumed?.buildNumber !== undefined) {
    const build = await client.getBuild(job, resumed.buildNumber, { signal });
    return { queueItemId: resumed.queueItemId, reused: true, build };
  }
  if (resumed) return { queueItemId: resumed.queueItemId, reused: true };
  const earlier = await findIdentical(client, job, parameters, Date.parse(input.notBefore), signal);
  if (earlier?.kind === 'build') {
    const queueItemId = earlier.build.queueId ?? 0;
    heartbeat({ queueItemId, startedAt, buildNumber: earlier.build.number });
    return { queueItemId, reused: true, build: earlier.build };
  }
  let queueItemId: number;
  let reused: boolean;
  if (earlier?.kind === 'queued') {
    queueItemId = earlier.item.id;
    reused = true;
  } else {
    const queued = await client.triggerBuild(job, parameters, { signal });
    queueItemId = queued.queueItemId;
    reused = queued.coalesced;
  }
  heartbeat({ queueItemId, startedAt });
  return { queueItemId, reused };
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
