/**
 * Jenkins activities: find the CI build of a commit, await a build, trigger the promote job. Thin: they map the
 * workflow's roles and names to the configured jobs, poll through the injected client, heartbeat their progress and
 * resume from it on a retry. Errors come typed from the client and leave as `toApplicationFailure(...)`.
 */
import { activityInfo, cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import { z } from 'zod';
import type {
  AwaitJenkinsBuildInput,
  AwaitJenkinsBuildResult,
  FindCiBuildForCommitInput,
  FindCiBuildForCommitResult,
  JenkinsJobRole,
  ShepherdActivities,
  TriggerPromoteJobInput,
  TriggerPromoteJobResult,
} from '../src/domain/activities.js';
import { isLegalPromotion } from '../src/domain/environments.js';
import {
  BuildCancelledError,
  BuildFailedError,
  ShepherdError,
  ValidationError,
  WaitTimeoutError,
} from '../src/domain/errors.js';
import { toApplicationFailure } from '../src/temporal/common/failures.js';
import { isImageTag, RULES } from '../src/domain/inputs.js';
import type { PipelineLayout } from '../src/domain/pipeline.js';
import type { JenkinsClient, JobPath } from '../src/clients/jenkins/client.js';
import type { JenkinsBuild, JenkinsQueueItem } from '../src/clients/jenkins/schemas.js';
import { look, pauseAfter } from './polling.js';

export interface JenkinsActivityDeps {
  readonly client: JenkinsClient;
  readonly layout: PipelineLayout;
  /** Pause between two polls of Jenkins; default 3 s. */
  readonly pollIntervalMs?: number;
  /** Console lines a BuildFailedError carries; default 50 (what the seed's validate script printed). */
  readonly consoleTailLines?: number;
}

export type JenkinsActivities = Pick<
  ShepherdActivities,
  'findCiBuildForCommit' | 'awaitJenkinsBuild' | 'triggerPromoteJob'
>;

/** Heartbeat details: a retry of the same activity resumes from them. Unreadable details are ignored. */
const FindProgressSchema = z.object({
  inspectedThrough: z.number().int().nonnegative(),
  since: z.number(),
  lastSeen: z.string().optional(),
});
const AwaitProgressSchema = z.object({
  buildNumber: z.number().int(),
  lastSeen: z.string(),
  since: z.number().optional(),
});
const TriggerProgressSchema = z.object({
  queueItemId: z.number().int().positive(),
  buildNumber: z.number().int().positive().optional(),
  lastSeen: z.string().optional(),
});
type FindProgress = z.infer<typeof FindProgressSchema>;
type AwaitProgress = z.infer<typeof AwaitProgressSchema>;
type TriggerProgress = z.infer<typeof TriggerProgressSchema>;

const DEFAULT_POLL_MS = 3_000;
const DEFAULT_TAIL_LINES = 50;
const COMMIT_SHA = /^[0-9a-f]{7,40}$/i;

export function createJenkinsActivities(deps: JenkinsActivityDeps): JenkinsActivities {
  const { client, layout } = deps;
  const pollMs = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
  const tailLines = deps.consoleTailLines ?? DEFAULT_TAIL_LINES;
  const jobOf = (role: JenkinsJobRole): JobPath =>
    role === 'app-ci' ? layout.jenkins.appJob : layout.jenkins.promoteJob;
  const requireApp = (appName: string): void => {
    if (appName !== layout.app.name)
      throw new ValidationError('appName', `must be the configured application ${JSON.stringify(layout.app.name)}`);
  };

  return {
    /**
     * Changes nothing. Waits, polling the app CI job's builds, until one recorded `commitSha` as its built revision
     * (the git plugin's `lastBuiltRevision`), and returns the newest such build. Safe to repeat: it only reads; the
     * heartbeat carries the highest build number already ruled out, so a retry does not rescan older builds.
     * A poll Jenkins cannot answer (TransientError) saw nothing: heartbeated as `Jenkins unreachable: …`, the wait
     * goes on. WaitTimeoutError at `deadline`, carrying the last state or error seen.
     */
    async findCiBuildForCommit(input: FindCiBuildForCommitInput): Promise<FindCiBuildForCommitResult> {
      return typed(async () => {
        requireApp(input.appName);
        if (!COMMIT_SHA.test(input.commitSha))
          throw new ValidationError('commitSha', 'must be a git commit sha (7 to 40 hexadecimal digits)');
        const sha = input.commitSha.toLowerCase();
        const job = layout.jenkins.appJob;
        const resumed = parseDetails(FindProgressSchema);
        const progress: { -readonly [K in keyof FindProgress]: FindProgress[K] } = resumed ?? {
          inspectedThrough: 0,
          since: Date.now(),
        };
        const deadline = deadlineOf(input.deadline, progress.since);
        for (;;) {
          const seen = await look(() => client.listBuilds(job, { signal: cancellationSignal() }));
          if (seen.ok) {
            const builds = seen.value.filter((b) => b.number > progress.inspectedThrough);
            const match = builds.find((b) => b.revision !== undefined && revisionMatches(b.revision, sha));
            if (match)
              return { attempt: activityInfo().attempt, job: 'app-ci', buildNumber: match.number, url: match.url };
            // Builds are ruled out in order, up to the first one still checking out (its revision is not known yet).
            for (const b of [...builds].sort((a, b) => a.number - b.number)) {
              if (b.revision === undefined && b.building) break;
              progress.inspectedThrough = b.number;
            }
            progress.lastSeen =
              builds.length === 0
                ? `no build after #${progress.inspectedThrough}`
                : `builds up to #${progress.inspectedThrough} built other commits`;
          } else {
            progress.lastSeen = seen.unreachable;
          }
          heartbeat({ ...progress });
          await pauseOrTimeOut(
            deadline,
            pauseAfter(seen, pollMs),
            `the ${job.join('/')} build of ${sha.slice(0, 12)}`,
            progress.lastSeen,
          );
        }
      });
    },

    /**
     * Changes nothing. Waits, heartbeating `{ buildNumber, lastSeen }`, until the build finishes. SUCCESS returns its
     * duration and URL; FAILURE, UNSTABLE and NOT_BUILT throw BuildFailedError with the console tail; ABORTED throws
     * BuildCancelledError. Safe to repeat: it only reads, and a retry of the same build keeps the wait's start.
     * A poll Jenkins cannot answer (TransientError) saw nothing: heartbeated as `Jenkins unreachable: …`, the wait
     * goes on. WaitTimeoutError at `deadline`, carrying the last state or error seen.
     */
    async awaitJenkinsBuild(input: AwaitJenkinsBuildInput): Promise<AwaitJenkinsBuildResult> {
      return typed(async () => {
        requireApp(input.appName);
        if (!Number.isInteger(input.buildNumber) || input.buildNumber < 1)
          throw new ValidationError('buildNumber', 'must be a positive whole number');
        const job = jobOf(input.job);
        const name = job.join('/');
        const resumed = parseDetails(AwaitProgressSchema);
        const since =
          resumed?.buildNumber === input.buildNumber && resumed.since !== undefined ? resumed.since : Date.now();
        const deadline = deadlineOf(input.deadline, since);
        for (;;) {
          const seen = await look(async () => {
            const build = await client.getBuild(job, input.buildNumber, { signal: cancellationSignal() });
            const failed =
              !build.building && build.result !== undefined && build.result !== 'SUCCESS' && build.result !== 'ABORTED';
            return {
              build,
              consoleTail: failed
                ? await client.consoleTail(job, build.number, tailLines, { signal: cancellationSignal() })
                : undefined,
            };
          });
          if (seen.ok) {
            const { build, consoleTail } = seen.value;
            if (!build.building && build.result !== undefined) {
              const ref = { job: input.job, buildNumber: build.number, url: build.url };
              if (build.result === 'SUCCESS')
                return { attempt: activityInfo().attempt, build: ref, result: 'SUCCESS', durationMs: build.durationMs };
              if (build.result === 'ABORTED') throw new BuildCancelledError({ job: name, buildNumber: build.number });
              throw new BuildFailedError({
                job: name,
                buildNumber: build.number,
                result: build.result,
                url: build.url,
                consoleTail: consoleTail ?? '',
              });
            }
          }
          const progress: AwaitProgress = {
            buildNumber: input.buildNumber,
            lastSeen: seen.ok ? describeRunning(seen.value.build) : seen.unreachable,
            since,
          };
          heartbeat(progress);
          await pauseOrTimeOut(
            deadline,
            pauseAfter(seen, pollMs),
            `Jenkins ${name} #${input.buildNumber} to finish`,
            progress.lastSeen,
          );
        }
      });
    },

    /**
     * Changes: queues one `promote-environment` build with APP_NAME, SOURCE_ENV, TARGET_ENV and IMAGE_TAG. Safe to
     * repeat: the queue item is heartbeated as soon as Jenkins names it, and a retry follows the recorded item (or
     * build) instead of triggering again; with nothing recorded, a queued item or a build with identical parameters
     * queued at or after `notBefore` is taken as ours (`reused`), and an identical item still queued is folded into by
     * Jenkins itself (303). Waits (heartbeating) until the queue item becomes a build; a cancelled item throws
     * BuildCancelledError. It does not wait for the build to finish (awaitJenkinsBuild does).
     */
    async triggerPromoteJob(input: TriggerPromoteJobInput): Promise<TriggerPromoteJobResult> {
      return typed(async () => {
        requireApp(input.appName);
        if (!isLegalPromotion(input.sourceEnv, input.targetEnv))
          throw new ValidationError('targetEnv', RULES.promotion);
        if (!isImageTag(input.imageTag)) throw new ValidationError('imageTag', RULES.imageTag);
        const notBefore = Date.parse(input.notBefore);
        if (Number.isNaN(notBefore)) throw new ValidationError('notBefore', 'must be an ISO-8601 instant');
        const job = layout.jenkins.promoteJob;
        const parameters = {
          APP_NAME: input.appName,
          SOURCE_ENV: input.sourceEnv,
          TARGET_ENV: input.targetEnv,
          IMAGE_TAG: input.imageTag,
        };
        const result = (
          build: { number: number; url: string },
          queueItemId: number,
          reused: boolean,
        ): TriggerPromoteJobResult => {
          heartbeat({ queueItemId, buildNumber: build.number } satisfies TriggerProgress);
          return {
            attempt: activityInfo().attempt,
            build: { job: 'promote', buildNumber: build.number, url: build.url },
            queueItemId,
            reused,
          };
        };

        const recorded = parseDetails(TriggerProgressSchema);
        if (recorded?.buildNumber !== undefined) {
          const build = await client.getBuild(job, recorded.buildNumber, { signal: cancellationSignal() });
          return result(build, recorded.queueItemId, true);
        }
        let queueItemId: number;
        let reused: boolean;
        if (recorded) {
          queueItemId = recorded.queueItemId;
          reused = true;
        } else {
          const earlier = await findIdentical(client, job, parameters, notBefore);
          if (earlier?.kind === 'build') return result(earlier.build, earlier.build.queueId ?? 0, true);
          if (earlier?.kind === 'queued') {
            queueItemId = earlier.item.id;
            reused = true;
          } else {
            const queued = await client.triggerBuild(job, parameters, { signal: cancellationSignal() });
            queueItemId = queued.queueItemId;
            reused = queued.coalesced;
          }
          heartbeat({ queueItemId } satisfies TriggerProgress);
        }
        const build = await followQueueItem(client, job, queueItemId, pollMs);
        return result(build, queueItemId, reused);
      });
    },
  };
}

/** A build or queued item of `job` with exactly our parameters, queued at or after `notBefore` (Jenkins' clock). */
async function findIdentical(
  client: JenkinsClient,
  job: JobPath,
  parameters: Readonly<Record<string, string>>,
  notBefore: number,
): Promise<{ kind: 'queued'; item: JenkinsQueueItem } | { kind: 'build'; build: JenkinsBuild } | undefined> {
  const same = (values: Readonly<Record<string, string>>): boolean =>
    Object.entries(parameters).every(([k, v]) => values[k] === v);
  // The queue first, then the builds: an item that starts in between is then found as a build.
  const item = (await client.listQueue(job, { signal: cancellationSignal() })).find(
    (i) => same(i.parameters) && i.inQueueSince >= notBefore,
  );
  if (item) return { kind: 'queued', item };
  const builds = (await client.listBuilds(job, { signal: cancellationSignal() })).filter(
    (b) => same(b.parameters) && b.timestamp >= notBefore,
  );
  const oldest = builds.sort((a, b) => a.number - b.number)[0];
  return oldest ? { kind: 'build', build: oldest } : undefined;
}

/** Polls queue item `id` until it names its build; finds the build by `queueId` once Jenkins has forgotten the item. */
async function followQueueItem(
  client: JenkinsClient,
  job: JobPath,
  id: number,
  pollMs: number,
): Promise<{ number: number; url: string }> {
  const name = job.join('/');
  let lastWhy: string | undefined;
  for (;;) {
    const item = await client.getQueueItem(id, { signal: cancellationSignal() });
    if (!item) {
      const build = (await client.listBuilds(job, { signal: cancellationSignal() })).find((b) => b.queueId === id);
      if (build) return build;
      throw new BuildCancelledError({
        job: name,
        queueItemId: id,
        why: `queue item ${id} is gone and no build of ${name} came from it`,
      });
    }
    if (item.executable) return item.executable;
    if (item.cancelled || item.state === 'left') {
      throw new BuildCancelledError({
        job: name,
        queueItemId: id,
        why: lastWhy ? `cancelled in the queue while waiting: ${lastWhy}` : 'cancelled in the queue',
      });
    }
    lastWhy = item.why;
    heartbeat({ queueItemId: id, ...(lastWhy ? { lastSeen: lastWhy } : {}) } satisfies TriggerProgress);
    await sleep(pollMs);
  }
}

/** Runs an activity body: our errors leave as typed ApplicationFailures; cancellation and the rest pass unchanged. */
async function typed<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ShepherdError) throw toApplicationFailure(err);
    throw err;
  }
}

function parseDetails<S extends z.ZodType>(schema: S): z.output<S> | undefined {
  const parsed = schema.safeParse(activityInfo().heartbeatDetails);
  return parsed.success ? parsed.data : undefined;
}

interface Deadline {
  readonly at: number;
  readonly since: number;
}

function deadlineOf(iso: string, since: number): Deadline {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) throw new ValidationError('deadline', 'must be an ISO-8601 instant');
  return { at, since };
}

/** Sleeps until the next poll (cancellable), or throws WaitTimeoutError once the deadline has passed. */
async function pauseOrTimeOut(deadline: Deadline, pollMs: number, waitingFor: string, lastSeen: string): Promise<void> {
  const remaining = deadline.at - Date.now();
  if (remaining <= 0) {
    throw new WaitTimeoutError({
      waitingFor,
      timeoutSeconds: Math.max(0, Math.round((deadline.at - deadline.since) / 1000)),
      lastSeen,
    });
  }
  await sleep(Math.min(pollMs, remaining));
}

function revisionMatches(revision: string, sha: string): boolean {
  const r = revision.toLowerCase();
  return sha.length === 40 ? r === sha : r.startsWith(sha);
}

function describeRunning(build: JenkinsBuild): string {
  const seconds = Math.max(0, Math.round((Date.now() - build.timestamp) / 1000));
  return build.building ? `building for ${seconds}s` : 'finishing';
}
