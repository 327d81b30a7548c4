/**
 * findCiBuildForCommit. Changes nothing. Waits, polling the app CI job's builds, until one built `commitSha`, and
 * returns the newest such build. A build counts when it shows the commit in whichever way the installation records
 * it, never through "the first BuildData" (a Pipeline shared library or a second checkout adds BuildData of other
 * repositories, often first):
 *
 * 1. a git plugin BuildData whose `remoteUrls` name the app repo (layout `jenkins.appRepoUrls`, or the GitLab
 *    project path on any host, whatever the URL form: https, ssh, `.git`, trailing slash) built the commit;
 * 2. the multibranch `SCMRevisionAction` of the build names the commit (`revision.hash`);
 * 3. else the commit status Jenkins' GitLab integration posted on the commit in GitLab: its `target_url` names a
 *    build of the app job (job path and number), which is then read.
 *
 * Safe to repeat: it only reads; the heartbeat carries the highest build number already ruled out, so a retry does
 * not rescan older builds. A poll Jenkins cannot answer saw nothing (heartbeated as `Jenkins unreachable: …`); GitLab
 * unreachable while looking at the statuses only skips that source for the poll. WaitTimeoutError at `deadline`
 * (the `ciBuildStart` budget, JENKINS_BUILD_START_TIMEOUT), saying what was looked at and what to do.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { NotFoundError, TransientError, WaitTimeoutError } from '../../src/domain/errors.js';
import { isAppRepo } from '../../src/domain/repo-url.js';
import type { JenkinsBuild } from '../../src/clients/jenkins/schemas.js';
import type { JobPath } from '../../src/clients/jenkins/client.js';
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

/** How a build showed that it built the commit. */
type FoundBy = 'build-data' | 'scm-revision' | 'commit-status';

export function createFindCiBuildForCommit(ctx: JenkinsContext): ShepherdActivities['findCiBuildForCommit'] {
  const { client, layout } = ctx;
  const appProject = layout.gitlab.appProject;
  const appRepoUrls = layout.jenkins.appRepoUrls ?? [];
  /** The app repo's checkouts among a build's BuildData. */
  const appCheckouts = (b: JenkinsBuild) =>
    b.checkouts.filter((c) => c.remoteUrls.some((u) => isAppRepo(u, appProject, appRepoUrls)));
  const builtBy = (b: JenkinsBuild, sha: string): FoundBy | undefined => {
    if (appCheckouts(b).some((c) => revisionMatches(c.sha, sha))) return 'build-data';
    if (b.scmRevision !== undefined && revisionMatches(b.scmRevision, sha)) return 'scm-revision';
    return undefined;
  };
  /** True once a build's revision is known: it checked the app repo out, has an SCM revision, or is over. */
  const decided = (b: JenkinsBuild) => !b.building || b.scmRevision !== undefined || appCheckouts(b).length > 0;

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
      const name = job.join('/');
      const start: FindProgress = resumed ?? { inspectedThrough: 0, since: Date.now() };
      const build = await pollUntil<FindProgress, JenkinsBuild>({
        waitingFor: `the ${name} build of ${sha.slice(0, 12)}`,
        startedAt: start.since,
        deadline: Date.parse(input.deadline),
        progress: start,
        ...pacing(ctx.pace, 'jenkins', 'burst'),
        heartbeat,
        async look(progress) {
          const builds = (await client.listBuilds(job, { signal })).filter((b) => b.number > progress.inspectedThrough);
          const match = builds.find((b) => builtBy(b, sha) !== undefined);
          if (match) return { done: match };
          // Builds are ruled out in order, up to the first one still checking out (its revision is not known yet).
          let inspectedThrough = progress.inspectedThrough;
          for (const b of [...builds].sort((x, y) => x.number - y.number)) {
            if (!decided(b)) break;
            inspectedThrough = b.number;
          }
          const posted = await buildFromCommitStatus(sha, job);
          if (posted.build) return { done: posted.build };
          const seen =
            builds.length === 0
              ? `no build of ${name} after #${inspectedThrough}`
              : `builds of ${name} up to #${inspectedThrough} built other commits`;
          return { progress: { ...progress, inspectedThrough, lastSeen: `${seen}${posted.note}` } };
        },
        // An outage at the deadline gets the usual timeout naming the system.
        timedOut: (progress, unreachable) =>
          unreachable
            ? undefined
            : new WaitTimeoutError({
                waitingFor: `the ${name} build of ${sha.slice(0, 12)} to start`,
                timeoutSeconds: Math.max(0, Math.round((Date.parse(input.deadline) - start.since) / 1000)),
                lastSeen: `${progress.lastSeen ?? 'nothing yet'}. Looked at each build's git BuildData for ${appProject}${
                  ctx.commitStatuses
                    ? ', its SCMRevisionAction and the commit statuses in GitLab'
                    : ' and its SCMRevisionAction'
                }. What to do: check that a push to the app repo triggers ${name} (its webhook or SCM polling) and that the job checks out ${appProject}${
                  appRepoUrls.length > 0
                    ? ` from ${appRepoUrls.join(' or ')} (APP_REPO_URL)`
                    : ' (set APP_REPO_URL if it clones another path)'
                }; on a busy Jenkins raise JENKINS_BUILD_START_TIMEOUT`,
              }),
      });
      return { attempt, job: 'app-ci', buildNumber: build.number, url: build.url };
    },
  });

  /**
   * The app job's build named by a commit status on `sha` (the newest build when several are), read from Jenkins;
   * `note` says why none was used, for the heartbeat.
   */
  async function buildFromCommitStatus(
    sha: string,
    job: JobPath,
  ): Promise<{ readonly build?: JenkinsBuild; readonly note: string }> {
    if (!ctx.commitStatuses) return { note: '' };
    let statuses;
    try {
      statuses = await ctx.commitStatuses.listCommitStatuses(appProject, sha);
    } catch (err) {
      if (err instanceof TransientError) return { note: `; GitLab unreachable for commit statuses: ${err.message}` };
      // GitLab does not know the commit (yet: a mirror that lags): no status to follow.
      if (err instanceof NotFoundError) return { note: `; GitLab has no commit ${sha.slice(0, 12)} in ${appProject}` };
      throw err;
    }
    const numbers = statuses
      .map((s) => (s.targetUrl === undefined ? undefined : client.buildAt(s.targetUrl)))
      .filter((at) => at !== undefined && sameJob(at.job, job))
      .map((at) => at!.number)
      .sort((a, b) => b - a);
    const newest = numbers[0];
    if (newest === undefined) {
      return { note: statuses.length === 0 ? '' : `; no commit status on it names a ${job.join('/')} build` };
    }
    try {
      return { build: await client.getBuild(job, newest), note: '' };
    } catch (err) {
      // Jenkins discarded the build the status names (build retention): the status cannot be followed.
      if (err instanceof NotFoundError)
        return { note: `; the commit status names ${job.join('/')} #${newest}, which Jenkins no longer has` };
      throw err;
    }
  }
}

function revisionMatches(revision: string, sha: string): boolean {
  const r = revision.toLowerCase();
  return sha.length === 40 ? r === sha : r.startsWith(sha);
}

function sameJob(a: JobPath, b: JobPath): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
