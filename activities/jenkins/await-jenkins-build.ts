/**
 * awaitJenkinsBuild. Changes nothing. Waits, heartbeating `{ buildNumber, lastSeen, since }`, until the build
 * finishes. SUCCESS returns its duration and URL; FAILURE and NOT_BUILT throw BuildFailedError with the console
 * tail; UNSTABLE throws it too unless the run counts UNSTABLE builds as `success` (`unstableBuilds`, from
 * JENKINS_UNSTABLE_BUILDS), then it returns like SUCCESS with result UNSTABLE; ABORTED throws BuildCancelledError. Safe to repeat: it only reads, and a retry of the same build
 * keeps the wait's start. A poll Jenkins cannot answer saw nothing (heartbeated as `Jenkins unreachable: …`).
 * WaitTimeoutError at `deadline`, carrying the last state or error seen.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { BuildCancelledError, BuildFailedError } from '../../src/domain/errors.js';
import { RULES, UNSTABLE_BUILD_OUTCOMES } from '../../src/domain/inputs.js';
import type { JenkinsBuild } from '../../src/clients/jenkins/schemas.js';
import { defineActivity } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil } from '../poll-until.js';
import { jobOf, type JenkinsContext } from './support.js';

/** Heartbeat details: the build awaited, what it was doing, and when the first attempt started. */
const AwaitProgress = z.object({
  buildNumber: z.number().int(),
  lastSeen: z.string().optional(),
  since: z.number().optional(),
});
type AwaitProgress = z.infer<typeof AwaitProgress>;

export function createAwaitJenkinsBuild(ctx: JenkinsContext): ShepherdActivities['awaitJenkinsBuild'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      job: ACTIVITY_FIELDS.jobRole(),
      buildNumber: ACTIVITY_FIELDS.positiveWhole(),
      deadline: ACTIVITY_FIELDS.instant(),
      unstableBuilds: z.enum(UNSTABLE_BUILD_OUTCOMES, { error: RULES.unstableBuilds }).optional(),
    }),
    progress: AwaitProgress,
    async run(input, { attempt, signal, resumed, heartbeat }) {
      const job = jobOf(layout, input.job);
      const name = job.join('/');
      const since =
        resumed?.buildNumber === input.buildNumber && resumed.since !== undefined ? resumed.since : Date.now();
      const build = await pollUntil<AwaitProgress, JenkinsBuild>({
        waitingFor: `Jenkins ${name} #${input.buildNumber} to finish`,
        startedAt: since,
        deadline: Date.parse(input.deadline),
        progress: { buildNumber: input.buildNumber, since },
        ...pacing(ctx.pace, 'jenkins', 'covered'),
        heartbeat,
        async look(progress) {
          const seen = await client.getBuild(job, input.buildNumber, { signal });
          if (seen.building || seen.result === undefined) {
            return { progress: { ...progress, lastSeen: describeRunning(seen) } };
          }
          if (seen.result === 'SUCCESS') return { done: seen };
          if (seen.result === 'UNSTABLE' && input.unstableBuilds === 'success') return { done: seen };
          if (seen.result === 'ABORTED') throw new BuildCancelledError({ job: name, buildNumber: seen.number });
          throw new BuildFailedError({
            job: name,
            buildNumber: seen.number,
            result: seen.result,
            url: seen.url,
            consoleTail: await client.consoleTail(job, seen.number, ctx.consoleTailLines, { signal }),
          });
        },
      });
      return {
        attempt,
        build: { job: input.job, buildNumber: build.number, url: build.url },
        result: build.result === 'UNSTABLE' ? 'UNSTABLE' : 'SUCCESS',
        durationMs: build.durationMs,
      };
    },
  });
}

function describeRunning(build: JenkinsBuild): string {
  const seconds = Math.max(0, Math.round((Date.now() - build.timestamp) / 1000));
  return build.building ? `building for ${seconds}s` : 'finishing';
}
