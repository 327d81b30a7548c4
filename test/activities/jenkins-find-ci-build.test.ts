/**
 * findCiBuildForCommit as real installations record a build's commit (real-installations.md §6.2–6.3), and the
 * start of builds on a slow Jenkins (§6.5): a scripted sandbox Jenkins and a sandbox GitLab, driven through
 * Shepherd's Jenkins and GitLab clients; then the jenkins-shared-library world end to end.
 */
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJenkinsActivities, type JenkinsActivities } from '../../activities/jenkins.js';
import { runFields } from '../../src/cli/operator.js';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { JenkinsClient } from '../../src/clients/jenkins/client.js';
import { loadConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secret.js';
import type { FindCiBuildForCommitInput } from '../../src/domain/activities.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import type { BuildContext, JobRunner } from '../../src/sandbox/jenkins/index.js';
import { defaultLayout } from '../../src/sandbox/world/layout.js';
import { GitLabPlugin } from '../../src/sandbox/world/gitlab-plugin.js';
import { layoutForWorld } from '../../src/worker/activities.js';
import { eventually, until } from '../support/eventually.js';
import { startSandbox } from '../support/sandbox.js';
import { startGitLabWorld, TOKEN, type GitLabWorld } from '../sandbox/gitlab-fixture.js';
import { Gate, startJenkinsWorld, USER, type JenkinsWorld } from '../sandbox/jenkins-fixture.js';
import { attempt, failureOf, farDeadline, POLL_MS, pushVersionBump } from './jenkins-support.js';

const APP_PROJECT = 'p2c/example-app';
const LIBRARY_URL = 'https://gitlab.example/p2c/jenkins-pipeline-library.git';

describe('findCiBuildForCommit and the queue wait against a scripted Jenkins and GitLab', () => {
  let jenkins: JenkinsWorld;
  let gitlab: GitLabWorld;
  let layout: PipelineLayout;
  /** What the next CI builds do, in order; a build with nothing scripted succeeds without checking anything out. */
  const script: JobRunner[] = [];

  beforeAll(async () => {
    [jenkins, gitlab] = await Promise.all([startJenkinsWorld({ timeScale: 0.01 }), startGitLabWorld()]);
    gitlab.model.createProject({ path: APP_PROJECT, files: { 'pom.xml': '<version>1.0.0</version>\n' } });
    jenkins.runners.ci = (ctx) => (script.shift() ?? (async () => 'SUCCESS'))(ctx);
    jenkins.model.defineJob({
      path: ['slow-promote'],
      parameters: [{ type: 'string', name: 'IMAGE_TAG', default: '' }],
      concurrentBuild: false,
      startDelayMs: 1_000,
      runner: async () => 'SUCCESS',
    });
    layout = layoutForWorld({ layout: defaultLayout() });
  });
  afterAll(async () => {
    await Promise.all([jenkins?.stop(), gitlab?.stop()]);
  });

  const jenkinsClient = (): JenkinsClient =>
    new JenkinsClient({ url: jenkins.url, user: USER.id, token: new Secret(USER.apiToken), timeoutMs: 5_000 });
  const activities = (opts: { statuses?: boolean; layout?: PipelineLayout } = {}): JenkinsActivities =>
    createJenkinsActivities({
      client: jenkinsClient(),
      layout: opts.layout ?? layout,
      pollIntervalMs: POLL_MS,
      ...(opts.statuses
        ? { commitStatuses: new GitLabClient({ url: gitlab.server.url, token: new Secret(TOKEN) }) }
        : {}),
    });
  const find = (commitSha: string, deadline = farDeadline()): FindCiBuildForCommitInput => ({
    appName: 'example-app',
    commitSha,
    deadline,
  });
  /** A new commit of the app project in GitLab. */
  const commitInGitLab = (): string =>
    gitlab.model.commit(APP_PROJECT, {
      branch: 'main',
      message: 'bump',
      as: 'shepherd',
      actions: [
        { action: 'update', filePath: 'pom.xml', content: Buffer.from(`<version>${Math.random()}</version>\n`) },
      ],
    }).id;
  /** Queues a CI build that runs `runner`; returns its number once it exists. */
  const ciBuild = async (runner: JobRunner): Promise<number> => {
    script.push(runner);
    const { itemId } = jenkins.model.scheduleBuild('example-app/main', {}, { kind: 'branch-event' });
    return eventually(() => jenkins.model.queueItem(itemId)?.executable?.number, 'the CI build to start');
  };
  const finished = (number: number): Promise<void> =>
    until(() => jenkins.model.build(['example-app', 'main'], number)?.building === false, `CI #${number} to finish`);

  it("finds the build whose BuildData matches the app repo when a shared library's BuildData comes first", async () => {
    const sha = 'c'.repeat(40);
    // A build of a fork at the same commit: a BuildData with the commit, but of another repository.
    const fork = await ciBuild(async (ctx) => {
      ctx.setGitRevision(sha, 'refs/remotes/origin/main', 'https://gitlab.example/someone/example-app-fork.git');
      return 'SUCCESS';
    });
    await finished(fork);
    // The app's build: the library is checked out first, the app repo (ssh form, internal host, trailing slash) next.
    const app = await ciBuild(async (ctx) => {
      ctx.setGitRevision('1'.repeat(40), 'v3', LIBRARY_URL);
      ctx.setGitRevision(sha, 'refs/remotes/origin/main', 'ssh://git@gitlab.internal:2222/p2c/example-app.git/');
      return 'SUCCESS';
    });
    const found = await attempt(activities().findCiBuildForCommit, find(sha));
    expect(found.error).toBeUndefined();
    expect(found.result).toMatchObject({ job: 'app-ci', buildNumber: app });
    expect(found.result!.url).toBe(`${jenkins.url}/job/example-app/job/main/${app}/`);
  });

  it('finds the build through SCMRevisionAction while the app repo is not checked out yet', async () => {
    const sha = 'd'.repeat(40);
    const gate = new Gate();
    const number = await ciBuild(async (ctx: BuildContext) => {
      ctx.setScmRevision({ hash: sha, head: 'main' });
      ctx.setGitRevision('1'.repeat(40), 'v3', LIBRARY_URL);
      await gate.wait(ctx);
      return 'SUCCESS';
    });
    try {
      const found = await attempt(activities().findCiBuildForCommit, find(sha));
      expect(found.result).toMatchObject({ job: 'app-ci', buildNumber: number });
      expect(jenkins.model.build(['example-app', 'main'], number)!.building).toBe(true);
    } finally {
      gate.open();
    }
    await finished(number);
  });

  it('finds the build through the commit status Jenkins posted, and not without GitLab to ask', async () => {
    const sha = commitInGitLab();
    const plugin = new GitLabPlugin({ project: APP_PROJECT, token: TOKEN });
    plugin.gitlabUrl = gitlab.server.url;
    // Another job posted on the same commit first: its status names a build of another job.
    expect(await plugin.post(sha, 'running', 'main', `${jenkins.url}/job/promote-environment/3/`)).toMatch(/posted/);
    const ciPlugin = new GitLabPlugin({ project: APP_PROJECT, token: TOKEN, context: 'ci' });
    ciPlugin.gitlabUrl = gitlab.server.url;
    const gate = new Gate();
    // A build that records nothing about its checkout (no BuildData, no SCMRevisionAction), only the status.
    const number = await ciBuild(async (ctx) => {
      ctx.log(await ciPlugin.post(sha, 'running', 'main', ctx.url));
      await gate.wait(ctx);
      return 'SUCCESS';
    });
    try {
      await until(
        async () => (await gitlab.gitlab.Commits.allStatuses(APP_PROJECT, sha)).length === 2,
        'both statuses',
      );
      const without = await attempt(
        activities().findCiBuildForCommit,
        find(sha, new Date(Date.now() + 300).toISOString()),
      );
      expect(failureOf(without).type).toBe('WaitTimeoutError');
      const found = await attempt(activities({ statuses: true }).findCiBuildForCommit, find(sha));
      expect(found.error).toBeUndefined();
      expect(found.result).toMatchObject({
        job: 'app-ci',
        buildNumber: number,
        url: `${jenkins.url}/job/example-app/job/main/${number}/`,
      });
    } finally {
      gate.open();
    }
    await finished(number);
  });

  it('waits while the queue item left without an executable, then returns its build', async () => {
    const slow = { ...layout, jenkins: { ...layout.jenkins, promoteJob: ['slow-promote'] } };
    const { queueItemId } = await jenkinsClient().triggerBuild(['slow-promote'], { IMAGE_TAG: 'x' });
    const waited = await attempt(activities({ layout: slow }).awaitJenkinsQueueItem, {
      appName: 'example-app',
      job: 'promote',
      queueItemId,
      deadline: farDeadline(),
    });
    expect(waited.error).toBeUndefined();
    expect(waited.result).toMatchObject({ build: { job: 'promote', buildNumber: 1 }, queueItemId });
    expect(waited.heartbeats).toContainEqual(
      expect.objectContaining({ queueItemId, lastSeen: 'left the queue; its build is starting' }),
    );
  });

  it('gives up after JENKINS_BUILD_START_TIMEOUT with a clear error', async () => {
    const config = loadConfig({ env: { JENKINS_BUILD_START_TIMEOUT: '2s' } });
    const budget = runFields(config).waitBudgets?.ciBuildStart;
    expect(budget).toBe(2);
    const neverBuilt = 'e'.repeat(40);
    const a = await attempt(
      activities({ statuses: true }).findCiBuildForCommit,
      find(neverBuilt, new Date(Date.now() + budget! * 1000).toISOString()),
    );
    const failure = failureOf(a);
    expect(failure.type).toBe('WaitTimeoutError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toMatchObject({ timeoutSeconds: 2, waitingFor: expect.stringContaining('example-app/main') });
    expect(failure.message).toContain('BuildData for p2c/example-app');
    expect(failure.message).toContain('commit statuses in GitLab');
    expect(failure.message).toContain('raise JENKINS_BUILD_START_TIMEOUT');
  });
});

describe('the jenkins-shared-library installation', () => {
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  beforeAll(async () => {
    sandbox = await startSandbox({ scenario: 'jenkins-shared-library' });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('finds the CI build of a pushed commit, whose first BuildData is the library, and whose commit status names it', async () => {
    const sha = await pushVersionBump(sandbox);
    const { info } = sandbox.world;
    const acts = createJenkinsActivities({
      client: new JenkinsClient({
        url: info.jenkins.url,
        user: info.jenkins.user,
        token: new Secret(info.jenkins.token),
      }),
      layout: sandbox.layout,
      pollIntervalMs: POLL_MS,
      commitStatuses: new GitLabClient({ url: info.gitlab.url, token: new Secret(info.gitlab.token) }),
    });
    const found = await attempt(acts.findCiBuildForCommit, find(sha));
    expect(found.error).toBeUndefined();
    const build = sandbox.world.jenkins.build(sandbox.layout.jenkins.appJob, found.result!.buildNumber)!;
    expect(build.checkouts[0]!.remoteUrl).toMatch(/jenkins-pipeline-library\.git$/);
    expect(build.checkouts[1]).toMatchObject({ sha, remoteUrl: sandbox.world.layout.appRepoUrl });
    expect(build.scmRevision).toMatchObject({ hash: sha, head: 'main' });

    const gitlab = new GitLabClient({ url: info.gitlab.url, token: new Secret(info.gitlab.token) });
    const status = await eventually(async () => {
      const [s] = await gitlab.listCommitStatuses(info.gitlab.appProject, sha, { name: 'jenkins' });
      return s?.status === 'success' ? s : undefined;
    }, 'the CI build to post success');
    expect(status).toMatchObject({ ref: 'main', targetUrl: found.result!.url, description: 'success' });
  });

  function find(commitSha: string): FindCiBuildForCommitInput {
    return { appName: 'example-app', commitSha, deadline: farDeadline() };
  }
});
