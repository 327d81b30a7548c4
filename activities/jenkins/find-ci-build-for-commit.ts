/**
 * findCiBuildForCommit. Changes nothing. Waits, polling the app CI job's builds, until one recorded `commitSha` as
 * its built revision (the git plugin's `lastBuiltRevision`, not `lastBuild` guessing), and returns the newest such
 * build. Safe to repeat: it only reads; the heartbeat carries the highest build number already ruled out, so a
 * retry does not rescan older builds. A poll Jenkins cannot answer saw nothing (heartbeated as `Jenkins
 * unreachable: …`). WaitTimeoutError at `deadline`, carrying the last state or error seen.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import type { JenkinsBuild } from '../../src/clients/jenkins/schemas.js';
import { defineActivity } from '../define.js';
import { pacing } from '../wakeups.js';
import { pollUntil } from '../poll-until.js';
import type { JenkinsContext } from './support.js';

/** Heartbeat details: the builds ruled out so far and when the first attempt started. */
const FindProgress = z.object({
  inspectedThrough: z.number().int().nonnegative(),
  since: z.number(),
  lastSeen: z.string().optional(),
});
type FindProgress = z.infer<typeof FindProgress>;

export function createFindCiBuildForCommit(ctx: JenkinsContext): ShepherdActivities['findCiBuildForCommit'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      commitSha: ACTIVITY_FIELDS.commitSha(),
      deadline: ACTIVITY_FIELDS.instant(),
    }),
    progress: FindProgress,
    async run(input, { attempt, signal, resumed, heartbeat }) {
      const sha = input.commitSha.toLowerCase();
      const job = layout.jenkins.appJob;
      const start: FindProgress = resumed ?? { inspectedThrough: 0, since: Date.now() };
      const build = await pollUntil<FindProgress, JenkinsBuild>({
        waitingFor: `the ${job.join('/')} build of ${sha.slice(0, 12)}`,
        startedAt: start.since,
        deadline: Date.parse(input.deadline),
        progress: start,
        ...pacing(ctx.pace, 'jenkins', 'burst'),
        heartbeat,
        async look(progress) {
          const builds = (await client.listBuilds(job, { signal })).filter((b) => b.number > progress.inspectedThrough);
          const match = builds.find((b) => b.revision !== undefined && revisionMatches(b.revision, sha));
          if (match) return { done: match };
          // Builds are ruled out in order, up to the first one still checking out (its revision is not known yet).
          let inspectedThrough = progress.inspectedThrough;
          for (const b of [...builds].sort((x, y) => x.number - y.number)) {
            if (b.revision === undefined && b.building) break;
            inspectedThrough = b.number;
          }
          const lastSeen =
            builds.length === 0
              ? `no build after #${inspectedThrough}`
              : `builds up to #${inspectedThrough} built other commits`;
          return { progress: { ...progress, inspectedThrough, lastSeen } };
        },
      });
      return { attempt, job: 'app-ci', buildNumber: build.number, url: build.url };
    },
  });
}

function revisionMatches(revision: string, sha: string): boolean {
  const r = revision.toLowerCase();
  return sha.length === 40 ? r === sha : r.startsWith(sha);
}
