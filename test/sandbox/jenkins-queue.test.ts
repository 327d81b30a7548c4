import { afterEach, describe, expect, it } from 'vitest';
import { eventually, until } from '../support/eventually.js';
import { call, Gate, startJenkinsWorld, type JenkinsWorld } from './jenkins-fixture.js';

type QueueItemJson = {
  _class: string;
  id: number;
  why: string | null;
  blocked: boolean;
  buildable: boolean;
  cancelled?: boolean;
  params: string;
  url: string;
  task: { name: string; url: string };
  executable?: { _class: string; number: number; url: string } | null;
  actions: {
    _class?: string;
    parameters?: { name: string; value: unknown }[];
    causes?: { shortDescription: string }[];
  }[];
};

let world: JenkinsWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function start(opts: Parameters<typeof startJenkinsWorld>[0] = {}): Promise<JenkinsWorld> {
  world = await startJenkinsWorld(opts);
  return world;
}

async function queueItem(w: JenkinsWorld, id: number): Promise<QueueItemJson> {
  return (await w.tokenClient().queue.item(id)) as QueueItemJson;
}

const promote = {
  name: 'promote-environment',
  parameters: { SOURCE_ENV: 'dev', TARGET_ENV: 'stage', IMAGE_TAG: '1.0.37-SNAPSHOT-a1b2c3d' },
};

describe('sandbox Jenkins queue', () => {
  it('returns the queue number from job.build and moves the item from waiting to left with its executable', async () => {
    const w = await start({ timeScale: 0.02 });
    const gate = new Gate();
    w.runners.promote = gate.runner();
    const id = await w.tokenClient().job.build(promote);
    expect(typeof id).toBe('number');
    const waiting = await queueItem(w, id);
    expect(waiting._class).toBe('hudson.model.Queue$WaitingItem');
    expect(waiting.why).toMatch(/^In the quiet period\. Expires in /);
    expect(waiting.url).toBe(`queue/item/${id}/`);
    expect(waiting.params).toBe(
      '\nAPP_NAME=example-app\nSOURCE_ENV=dev\nTARGET_ENV=stage\nIMAGE_TAG=1.0.37-SNAPSHOT-a1b2c3d',
    );
    expect(waiting.task).toMatchObject({ name: 'promote-environment', url: `${w.url}/job/promote-environment/` });

    const left = await eventually(async () => {
      const item = await queueItem(w, id);
      return item._class === 'hudson.model.Queue$LeftItem' ? item : undefined;
    }, `queue item ${id} to leave the queue`);
    expect(left).toMatchObject({
      cancelled: false,
      why: null,
      executable: {
        _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
        number: 1,
        url: `${w.url}/job/promote-environment/1/`,
      },
    });
    const build = (await w.tokenClient().build.get({ name: 'promote-environment', number: 1 })) as { queueId: number };
    expect(build.queueId).toBe(id);
    gate.open();
  });

  it('shows an item as buildable, waiting for an executor, after the quiet period', async () => {
    const w = await start({ timeScale: 0.05 });
    const id = await w.tokenClient().job.build({ name: 'plain' });
    const buildable = await eventually(async () => {
      const item = await queueItem(w, id);
      return item._class === 'hudson.model.Queue$BuildableItem' ? item : undefined;
    }, 'the item to be buildable');
    expect(buildable).toMatchObject({ buildable: true, blocked: false, why: 'Waiting for next available executor' });
  });

  it('blocks a second item of a non-concurrent job while a build runs, naming that build', async () => {
    const w = await start();
    const gate = new Gate();
    w.runners.promote = gate.runner();
    const client = w.tokenClient();
    await client.job.build(promote);
    await until(() => gate.entered, 'the first build to enter its gate');
    const second = await client.job.build({ ...promote, parameters: { ...promote.parameters, IMAGE_TAG: 'other' } });
    const blocked = await eventually(async () => {
      const item = await queueItem(w, second);
      return item._class === 'hudson.model.Queue$BlockedItem' ? item : undefined;
    }, 'the second item to be blocked');
    expect(blocked.blocked).toBe(true);
    expect(blocked.why).toMatch(/^Build #1 is already in progress \(ETA: .+\)$/);
    gate.open();
    const left = await eventually(async () => {
      const item = await queueItem(w, second);
      return item.executable ? item : undefined;
    }, 'the second item to start its build');
    expect(left.executable?.number).toBe(2);
  });

  it('answers 303 with the queued item when identical parameters are already waiting, which the npm client rejects', async () => {
    const w = await start({ timeScale: 0.5 });
    const first = await w.tokenClient().job.build(promote);
    const body = new URLSearchParams(promote.parameters).toString();
    const res = await call(w, '/job/promote-environment/buildWithParameters', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${w.url}/queue/item/${first}/`);
    await expect(w.tokenClient().job.build(promote)).rejects.toThrow();
    const different = await w
      .tokenClient()
      .job.build({ ...promote, parameters: { ...promote.parameters, IMAGE_TAG: 'v2' } });
    expect(different).not.toBe(first);
  });

  it('cancels a queued item with 204 on /queue/cancelItem and answers 404 once it has left', async () => {
    const w = await start({ timeScale: 0.5 });
    const id = await w.tokenClient().job.build(promote);
    const res = await call(w, `/queue/cancelItem?id=${id}`, { method: 'POST' });
    expect(res.status).toBe(204);
    const item = await queueItem(w, id);
    expect(item).toMatchObject({ _class: 'hudson.model.Queue$LeftItem', cancelled: true, executable: null });
    const again = await call(w, `/queue/cancelItem?id=${id}`, { method: 'POST' });
    expect(again.status).toBe(404);
    expect(await again.text()).toContain(`Provided id (${id}) not found`);
  });

  it('cancels through the deprecated cancelQueue with 204, so the npm client throws although the item is cancelled', async () => {
    const w = await start({ timeScale: 0.5 });
    const client = w.tokenClient();
    const id = await client.job.build(promote);
    await expect(client.queue.cancel(id)).rejects.toThrow(`failed to cancel: ${id}`);
    expect(await queueItem(w, id)).toMatchObject({ cancelled: true, executable: null });
  });

  it('cancels the item before it starts when the job decides so in the queue', async () => {
    const w = await start();
    w.cancelPromoteInQueue = (params) => params.TARGET_ENV === 'prod';
    const id = await w.tokenClient().job.build({ ...promote, parameters: { SOURCE_ENV: 'stage', TARGET_ENV: 'prod' } });
    const left = await eventually(async () => {
      const item = await queueItem(w, id);
      return item._class === 'hudson.model.Queue$LeftItem' ? item : undefined;
    }, 'the cancelled item to leave the queue');
    expect(left).toMatchObject({ cancelled: true, executable: null });
    expect(w.model.snapshot().jobs.find((j) => j.path === 'promote-environment')?.builds).toEqual([]);
  });

  it('forgets left items after their retention time and then answers 404', async () => {
    // Long enough to see the left item with its executable on a loaded machine, short enough to wait out.
    const w = await start({ leftItemTtlMs: 1_000 });
    const client = w.tokenClient();
    const id = await client.job.build({ name: 'plain' });
    await until(
      async () => (await queueItem(w, id)).executable !== undefined && (await queueItem(w, id)).executable !== null,
      'the item to start its build',
    );
    const gone = await eventually(async () => {
      const res = await call(w, `/queue/item/${id}/api/json`);
      return res.status === 404 ? res : undefined;
    }, 'the left item to be forgotten');
    expect(gone.headers.get('content-type')).toContain('text/html');
    await expect(client.queue.item(id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses a choice outside its choices with 400 and queues nothing', async () => {
    const w = await start();
    const res = await call(w, '/job/promote-environment/buildWithParameters?SOURCE_ENV=dev&TARGET_ENV=qa', {
      method: 'POST',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Illegal choice for parameter TARGET_ENV: qa');
    await expect(
      w.tokenClient().job.build({ name: 'promote-environment', parameters: { TARGET_ENV: 'qa' } }),
    ).rejects.toMatchObject({ statusCode: 400 });
    expect(w.model.queuedItems()).toHaveLength(0);
  });

  it('answers 400 "<job> is not parameterized" to buildWithParameters on a job without parameters', async () => {
    const w = await start();
    const res = await call(w, '/job/plain/buildWithParameters?X=1', { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('plain is not parameterized');
  });

  it('answers 404 for an unknown job, which the npm client reports as notFound', async () => {
    const w = await start();
    const client = w.tokenClient();
    await expect(client.job.build({ name: 'nope', parameters: { A: 'b' } })).rejects.toMatchObject({ notFound: true });
    await expect(client.job.get({ name: 'example-app/nope' })).rejects.toMatchObject({ notFound: true });
    expect(await client.job.exists({ name: 'nope' })).toBe(false);
    expect(await client.job.exists({ name: 'example-app/main' })).toBe(true);
  });

  it('ignores unknown parameters, fills defaults and trims trimmed strings', async () => {
    const w = await start({ timeScale: 0.5 });
    const id = await w
      .tokenClient()
      .job.build({ name: 'promote-environment', parameters: { IMAGE_TAG: '  v1  ', UNKNOWN: 'x' } });
    const item = await queueItem(w, id);
    const params = item.actions.find((a) => a._class === 'hudson.model.ParametersAction')?.parameters;
    expect(params).toEqual([
      { _class: 'hudson.model.StringParameterValue', name: 'APP_NAME', value: 'example-app' },
      { _class: 'hudson.model.StringParameterValue', name: 'SOURCE_ENV', value: 'dev' },
      { _class: 'hudson.model.StringParameterValue', name: 'TARGET_ENV', value: 'stage' },
      { _class: 'hudson.model.StringParameterValue', name: 'IMAGE_TAG', value: 'v1' },
    ]);
    const cause = item.actions.find((a) => a._class === 'hudson.model.CauseAction')?.causes?.[0];
    expect(cause?.shortDescription).toBe('Started by user Shepherd Bot');
  });

  it('lists queued items on /queue/api/json and the job shows inQueue with its queueItem', async () => {
    const w = await start({ timeScale: 0.5 });
    const id = await w.tokenClient().job.build(promote);
    const items = (await w.tokenClient().queue.list()) as QueueItemJson[];
    expect(items.map((i) => i.id)).toEqual([id]);
    const job = (await w.tokenClient().job.get({ name: 'promote-environment' })) as {
      inQueue: boolean;
      queueItem: { id: number } | null;
    };
    expect(job.inQueue).toBe(true);
    expect(job.queueItem?.id).toBe(id);
  });

  it('starts a build from the model API with an SCM branch-event cause, as a push to the app repo does', async () => {
    const w = await start();
    const { itemId, created } = w.model.scheduleBuild(
      ['example-app', 'main'],
      {},
      { kind: 'branch-event', description: 'Push event to branch main' },
    );
    expect(created).toBe(true);
    const build = await eventually(
      () =>
        w.model
          .snapshot()
          .jobs.find((j) => j.path === 'example-app/main')
          ?.builds.find((b) => b.result === 'SUCCESS'),
      'a successful example-app/main build',
    );
    expect(build).toMatchObject({
      number: 1,
      queueId: itemId,
      params: { SKIP_INTEGRATION_TESTS: false },
      causes: ['Push event to branch main'],
    });
  });

  it('accepts the classic json form on /build for a parameterized job and honours delay=0sec', async () => {
    const w = await start({ timeScale: 0.5 });
    const json = JSON.stringify({
      parameter: [
        { name: 'TARGET_ENV', value: 'prod' },
        { name: 'SOURCE_ENV', value: 'stage' },
      ],
    });
    const res = await call(w, '/job/promote-environment/build?delay=0sec', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ json }).toString(),
    });
    expect(res.status).toBe(201);
    const id = Number(/\/queue\/item\/(\d+)\/$/.exec(res.headers.get('location') ?? '')?.[1]);
    const item = await eventually(
      async () => {
        const i = await queueItem(w, id);
        return i._class === 'hudson.model.Queue$WaitingItem' ? undefined : i;
      },
      'the item to stop waiting',
      { timeoutMs: 2_000 },
    );
    expect(item.params).toContain('\nTARGET_ENV=prod');
    const bare = await call(w, '/job/promote-environment/build', { method: 'POST' });
    expect(bare.status).toBe(400);
  });

  it('lets injected HTTP faults through the kernel answer for Jenkins', async () => {
    const w = await start();
    await w.faults.activate({
      name: 'jenkins-flaky',
      description: 'one 503 on the queue',
      http: [{ system: 'jenkins', path: '^/queue/', status: 503, count: 1 }],
    });
    expect((await call(w, '/queue/api/json')).status).toBe(503);
    expect((await call(w, '/queue/api/json')).status).toBe(200);
  });
});
