/**
 * How the simulated Jenkins shows what a build checked out and how it starts, as real installations do
 * (real-installations.md §6.3–6.5): one BuildData per checkout (a shared library's first) and the multibranch
 * SCMRevisionAction, also under the `tree=` Shepherd asks for; branch jobs whose branch contains `/` (`feature%2Fx`,
 * URL `job/feature%252Fx/`) through the npm `jenkins` client and Shepherd's client; a queue item that left the
 * queue, not cancelled, with `executable: null` until its build exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JenkinsClient } from '../../src/clients/jenkins/client.js';
import { BUILD_TREE } from '../../src/clients/jenkins/schemas.js';
import { Secret } from '../../src/config/secret.js';
import { eventually } from '../support/eventually.js';
import { startJenkinsWorld, USER, type JenkinsWorld } from './jenkins-fixture.js';

const LIBRARY = { sha: '1'.repeat(40), url: 'https://gitlab.example/p2c/jenkins-pipeline-library.git' };
const APP = { sha: 'a'.repeat(40), url: 'git@gitlab.internal:p2c/example-app.git' };

type Action = Record<string, unknown> & { _class?: string };
type BuildJson = { number: number; url: string; actions: Action[] };

describe('sandbox Jenkins SCM data, branch names with / and slow starts', () => {
  let world: JenkinsWorld;
  let shepherd: JenkinsClient;

  beforeAll(async () => {
    world = await startJenkinsWorld({ timeScale: 0.01 });
    world.model.defineJob({
      path: ['example-app', 'feature%2Fx'],
      concurrentBuild: false,
      parameters: [{ type: 'string', name: 'NOTE', default: '' }],
      runner: async (ctx) => {
        ctx.setGitRevision('b'.repeat(40), 'feature/x', APP.url);
        return 'SUCCESS';
      },
    });
    world.model.defineJob({
      path: ['slow-start'],
      concurrentBuild: false,
      startDelayMs: 400,
      runner: async () => 'SUCCESS',
    });
    shepherd = new JenkinsClient({ url: world.url, user: USER.id, token: new Secret(USER.apiToken), timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await world.stop();
  });

  const finishedBuild = (job: string, number: number): Promise<BuildJson> =>
    eventually(async () => {
      const b = (await world.tokenClient().build.get({ name: job, number })) as BuildJson & { building: boolean };
      return b.building ? undefined : b;
    }, `${job} #${number} to finish`);

  it("lists a shared library's BuildData before the app repo's and the SCMRevisionAction, with and without tree=", async () => {
    world.runners.ci = async (ctx) => {
      ctx.setGitRevision(LIBRARY.sha, 'v3', LIBRARY.url);
      ctx.setScmRevision({ hash: APP.sha, head: 'main' });
      ctx.setGitRevision(APP.sha, 'refs/remotes/origin/main', APP.url);
      return 'SUCCESS';
    };
    world.model.scheduleBuild('example-app/main', {}, { kind: 'branch-event' });
    const full = await finishedBuild('example-app/main', 1);
    const data = full.actions.filter((a) => a._class === 'hudson.plugins.git.util.BuildData');
    expect(data.map((d) => [(d.lastBuiltRevision as { SHA1: string }).SHA1, d.remoteUrls])).toEqual([
      [LIBRARY.sha, [LIBRARY.url]],
      [APP.sha, [APP.url]],
    ]);
    expect(full.actions.find((a) => a._class === 'jenkins.scm.api.SCMRevisionAction')).toEqual({
      _class: 'jenkins.scm.api.SCMRevisionAction',
      revision: {
        _class: 'jenkins.plugins.git.AbstractGitSCMSource$SCMRevisionImpl',
        deterministic: true,
        head: { _class: 'jenkins.plugins.git.GitBranchSCMHead', name: 'main' },
        hash: APP.sha,
      },
    });

    const treed = (await world
      .tokenClient()
      .build.get({ name: 'example-app/main', number: 1, tree: BUILD_TREE })) as BuildJson;
    const scm = treed.actions.filter((a) => a.lastBuiltRevision !== undefined || a.revision !== undefined);
    expect(scm).toEqual([
      {
        _class: 'hudson.plugins.git.util.BuildData',
        lastBuiltRevision: { SHA1: LIBRARY.sha },
        remoteUrls: [LIBRARY.url],
      },
      { _class: 'hudson.plugins.git.util.BuildData', lastBuiltRevision: { SHA1: APP.sha }, remoteUrls: [APP.url] },
      {
        _class: 'jenkins.scm.api.SCMRevisionAction',
        revision: {
          _class: 'jenkins.plugins.git.AbstractGitSCMSource$SCMRevisionImpl',
          hash: APP.sha,
          head: { _class: 'jenkins.plugins.git.GitBranchSCMHead', name: 'main' },
        },
      },
    ]);

    const parsed = await shepherd.getBuild(['example-app', 'main'], 1);
    expect(parsed.checkouts).toEqual([
      { sha: LIBRARY.sha, remoteUrls: [LIBRARY.url] },
      { sha: APP.sha, remoteUrls: [APP.url] },
    ]);
    expect(parsed.scmRevision).toBe(APP.sha);
  });

  it('serves the branch job of feature/x as feature%2Fx at job/feature%252Fx/ to the npm client', async () => {
    const npm = world.tokenClient();
    const job = (await npm.job.get({ name: 'example-app/feature%2Fx' })) as Record<string, unknown>;
    expect(job).toMatchObject({
      name: 'feature%2Fx',
      displayName: 'feature/x',
      fullName: 'example-app/feature%2Fx',
      url: `${world.url}/job/example-app/job/feature%252Fx/`,
    });
    const queued = await npm.job.build({ name: 'example-app/feature%2Fx', parameters: { NOTE: 'npm' } });
    const number = await eventually(async () => {
      const item = (await npm.queue.item(queued)) as { executable?: { number: number } | null };
      return item.executable?.number;
    }, 'the feature/x build to start');
    const build = await finishedBuild('example-app/feature%2Fx', number);
    expect(build.url).toBe(`${world.url}/job/example-app/job/feature%252Fx/${number}/`);
  });

  it("serves the branch job of feature/x to Shepherd's client: trigger, list, read, and the build URL parsed back", async () => {
    const job = ['example-app', 'feature%2Fx'];
    expect(await shepherd.jobParameterNames(job)).toEqual(['NOTE']);
    const { queueItemId } = await shepherd.triggerBuild(job, { NOTE: 'shepherd' });
    const started = await eventually(async () => (await shepherd.getQueueItem(queueItemId))?.executable, 'a build');
    const builds = await shepherd.listBuilds(job);
    expect(builds.map((b) => b.number)).toContain(started.number);
    const build = await shepherd.getBuild(job, started.number);
    expect(build.url).toBe(`${world.url}/job/example-app/job/feature%252Fx/${started.number}/`);
    expect(shepherd.buildAt(build.url)).toEqual({ job, number: started.number });
    expect(shepherd.buildAt(`${build.url}display/redirect`)).toEqual({ job, number: started.number });
    expect(shepherd.buildAt('https://elsewhere.example/other-root/job/a/1/')).toBeUndefined();
  });

  it('keeps a slow-starting item left and not cancelled with executable null until its build exists', async () => {
    const id = await world.tokenClient().job.build({ name: 'slow-start' });
    const left = await eventually(async () => {
      const item = (await world.tokenClient().queue.item(id)) as Record<string, unknown>;
      return item._class === 'hudson.model.Queue$LeftItem' ? item : undefined;
    }, 'the item to leave the queue');
    expect(left).toMatchObject({ cancelled: false, executable: null, why: null });
    expect(world.model.job(['slow-start'])!.builds).toHaveLength(0);
    const item = await shepherd.getQueueItem(id);
    expect(item).toMatchObject({ state: 'left', cancelled: false, executable: undefined });

    const executable = await eventually(async () => {
      const i = (await world.tokenClient().queue.item(id)) as { executable: { number: number; url: string } | null };
      return i.executable ?? undefined;
    }, 'the build to exist');
    expect(executable).toMatchObject({ number: 1, url: `${world.url}/job/slow-start/1/` });
  });
});
