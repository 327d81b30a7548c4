import { afterEach, describe, expect, it } from 'vitest';
import { JenkinsNotifications } from '../../src/sandbox/jenkins/notifications.js';
import { until } from '../support/eventually.js';
import { Gate, JOBS, startJenkinsWorld, type JenkinsWorld } from './jenkins-fixture.js';
import { closedPort, receiversPerTest } from './webhook-receiver.js';

const startReceiver = receiversPerTest();
const open: { world: JenkinsWorld; notifications: JenkinsNotifications }[] = [];
afterEach(async () => {
  for (const { world, notifications } of open.splice(0)) {
    notifications.stop();
    await world.stop();
  }
});

async function start(endpoints: ConstructorParameters<typeof JenkinsNotifications>[1]) {
  const world = await startJenkinsWorld();
  const notifications = new JenkinsNotifications(world.model, endpoints);
  open.push({ world, notifications });
  return { world, notifications };
}

interface JobState {
  name: string;
  url: string;
  build: {
    full_url: string;
    number: number;
    queue_id: number;
    timestamp: number;
    duration: number;
    phase: string;
    status?: string;
    url: string;
    scm: Record<string, unknown>;
    parameters?: Record<string, string>;
  };
}

describe('sandbox Jenkins build notifications (Notification plugin)', () => {
  it('posts QUEUED, STARTED, COMPLETED and FINALIZED of a CI build, with parameters and Basic auth from the URL', async () => {
    const r = await startReceiver();
    const target = new URL(r.url);
    const { world, notifications } = await start([{ url: `http://ci:pa%24s@${target.host}/webhooks/jenkins` }]);
    const gate = new Gate();
    world.runners.ci = async (ctx) => {
      ctx.setGitRevision('a'.repeat(40), 'refs/remotes/origin/main', 'https://gitlab.example/p2c/example-app.git');
      await gate.wait(ctx);
      return 'UNSTABLE';
    };
    const queueId = await world.tokenClient().job.build({
      name: JOBS.ci,
      parameters: { SKIP_INTEGRATION_TESTS: true },
    });
    await until(() => r.deliveries.length === 2, 'QUEUED and STARTED');
    gate.open();
    await until(() => r.deliveries.length === 4, 'COMPLETED and FINALIZED');
    await notifications.idle();
    expect(r.deliveries).toHaveLength(4);

    for (const d of r.deliveries) {
      expect(d.method).toBe('POST');
      expect(d.path).toBe('/webhooks/jenkins');
      expect(d.headers['content-type']).toBe('application/json;charset=UTF-8');
      expect(d.headers.authorization).toBe(`Basic ${Buffer.from('ci:pa$s').toString('base64')}`);
    }
    const states = r.deliveries.map((d) => d.json<JobState>());
    expect(states.map((s) => s.build.phase)).toEqual(['QUEUED', 'STARTED', 'COMPLETED', 'FINALIZED']);
    const build = world.model.build(['example-app', 'main'], 1)!;
    for (const s of states) {
      expect(s).toMatchObject({
        name: 'main',
        url: 'job/example-app/job/main/',
        build: {
          number: 1,
          queue_id: queueId,
          url: 'job/example-app/job/main/1/',
          full_url: `${world.url}/job/example-app/job/main/1/`,
          parameters: { SKIP_INTEGRATION_TESTS: 'true' },
        },
      });
    }
    // No result until it is set: null fields are omitted.
    expect(states[0]!.build).not.toHaveProperty('status');
    expect(states[1]!.build).not.toHaveProperty('status');
    expect(states[2]!.build.status).toBe('UNSTABLE');
    expect(states[3]!.build.status).toBe('UNSTABLE');
    expect(states[0]!.build.timestamp).toBe(world.model.queueItem(queueId)!.inQueueSince);
    expect(states[1]!.build.timestamp).toBe(build.timestamp);
    expect(states[2]!.build).toMatchObject({ timestamp: build.timestamp + build.duration, duration: build.duration });
    expect(states[3]!.build.scm).toMatchObject({
      url: 'https://gitlab.example/p2c/example-app.git',
      branch: 'refs/remotes/origin/main',
      commit: 'a'.repeat(40),
    });
    expect(notifications.attempts().map((a) => [a.phase, a.status])).toEqual([
      ['QUEUED', 200],
      ['STARTED', 200],
      ['COMPLETED', 200],
      ['FINALIZED', 200],
    ]);
  });

  it('honours the event filter and the jobs an endpoint names, and ignores the answer status', async () => {
    const all = await startReceiver();
    const completed = await startReceiver();
    completed.status = 500;
    const { world, notifications } = await start([
      { url: all.url, jobs: ['promote-environment'] },
      { url: completed.url, event: 'completed' },
    ]);
    const client = world.tokenClient();
    await client.job.build({ name: JOBS.ci, parameters: { SKIP_INTEGRATION_TESTS: false } });
    await until(() => completed.deliveries.length === 1, 'the CI build COMPLETED');
    await client.job.build({ name: JOBS.promote, parameters: { SOURCE_ENV: 'dev', TARGET_ENV: 'stage' } });
    await until(() => completed.deliveries.length === 2, 'the promote build COMPLETED');
    await until(() => all.deliveries.length === 4, 'the promote build phases');
    await notifications.idle();
    expect(all.deliveries.map((d) => d.json<JobState>().name)).toEqual(Array(4).fill('promote-environment'));
    expect(completed.deliveries.map((d) => d.json<JobState>().build.phase)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(completed.deliveries.map((d) => d.json<JobState>().name)).toEqual(['main', 'promote-environment']);
    expect(all.deliveries[0]!.json<JobState>().build.parameters).toMatchObject({
      SOURCE_ENV: 'dev',
      TARGET_ENV: 'stage',
    });
  });

  it('re-attempts an endpoint that cannot be reached only as many times as its retries say', async () => {
    const port = await closedPort();
    const { world, notifications } = await start([
      { url: `http://127.0.0.1:${port}/`, event: 'finalized', retries: 2 },
    ]);
    await world.tokenClient().job.build({ name: JOBS.plain });
    await until(() => notifications.attempts().length > 0, 'the first attempt');
    await notifications.idle();
    const attempts = notifications.attempts();
    expect(attempts.map((a) => a.phase)).toEqual(['FINALIZED', 'FINALIZED', 'FINALIZED']);
    expect(attempts.every((a) => a.status === undefined && /ECONNREFUSED/.test(a.error ?? ''))).toBe(true);
  });

  it('refuses an endpoint that is not an http(s) URL', async () => {
    const { notifications } = await start([]);
    expect(() => notifications.set([{ url: 'ftp://example/' }])).toThrow(/http or https/);
    expect(() => notifications.set([{ url: 'nonsense' }])).toThrow(/invalid notification url/);
  });
});
