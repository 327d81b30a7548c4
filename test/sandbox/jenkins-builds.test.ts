import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, until } from '../support/eventually.js';
import { call, Gate, startJenkinsWorld, type JenkinsWorld } from './jenkins-fixture.js';

type BuildJson = {
  _class: string;
  number: number;
  id: string;
  url: string;
  building: boolean;
  inProgress: boolean;
  result: string | null;
  duration: number;
  timestamp: number;
  queueId: number;
  fullDisplayName: string;
  description: string | null;
  actions: Record<string, unknown>[];
};

let world: JenkinsWorld;
beforeEach(async () => {
  world = await startJenkinsWorld();
});
afterEach(async () => {
  await world.stop();
});

const PROMOTE = 'promote-environment';
const params = { SOURCE_ENV: 'dev', TARGET_ENV: 'stage', IMAGE_TAG: '1.0.37-SNAPSHOT-a1b2c3d' };

async function getBuild(name: string, number: number | string): Promise<BuildJson> {
  return (await world.tokenClient().build.get({ name, number })) as BuildJson;
}

async function startedBuild(name: string, parameters?: Record<string, string | boolean>): Promise<number> {
  const client = world.tokenClient();
  const id = await client.job.build(parameters ? { name, parameters } : { name });
  return eventually(
    async () => ((await client.queue.item(id)) as { executable?: { number: number } | null }).executable?.number,
    `queue item ${id} to start a build of ${name}`,
  );
}

async function finished(name: string, number: number): Promise<BuildJson> {
  return eventually(async () => {
    const b = await getBuild(name, number);
    return b.building ? undefined : b;
  }, `${name} #${number} to finish`);
}

describe('sandbox Jenkins builds', () => {
  it('reports a running build with result null and duration 0, then its final result', async () => {
    const gate = new Gate();
    world.runners.promote = gate.runner('SUCCESS');
    const n = await startedBuild(PROMOTE, params);
    const running = await getBuild(PROMOTE, n);
    expect(running).toMatchObject({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
      number: 1,
      id: '1',
      url: `${world.url}/job/promote-environment/1/`,
      building: true,
      inProgress: true,
      result: null,
      duration: 0,
      fullDisplayName: 'promote-environment #1',
    });
    const paramsAction = running.actions.find((a) => a._class === 'hudson.model.ParametersAction');
    expect(paramsAction?.parameters).toContainEqual({
      _class: 'hudson.model.StringParameterValue',
      name: 'IMAGE_TAG',
      value: '1.0.37-SNAPSHOT-a1b2c3d',
    });
    const causeAction = running.actions.find((a) => a._class === 'hudson.model.CauseAction');
    expect(causeAction?.causes).toEqual([
      {
        _class: 'hudson.model.Cause$UserIdCause',
        shortDescription: 'Started by user Shepherd Bot',
        userId: 'shepherd',
        userName: 'Shepherd Bot',
      },
    ]);
    expect(running.actions).toContainEqual({});

    gate.open();
    const done = await finished(PROMOTE, n);
    expect(done).toMatchObject({ building: false, inProgress: false, result: 'SUCCESS' });
    expect(done.duration).toBeGreaterThan(0);
    expect(await getBuild(PROMOTE, 'lastBuild')).toMatchObject({ number: n });
    expect(await getBuild(PROMOTE, 'lastSuccessfulBuild')).toMatchObject({ number: n });
    expect(await getBuild(PROMOTE, 'lastCompletedBuild')).toMatchObject({ number: n });
  });

  it('exposes boolean parameters as BooleanParameterValue on the multibranch branch job', async () => {
    const n = await startedBuild('example-app/main', { SKIP_INTEGRATION_TESTS: true });
    const b = await finished('example-app/main', n);
    expect(b.url).toBe(`${world.url}/job/example-app/job/main/1/`);
    expect(b.fullDisplayName).toBe('example-app » main #1');
    const p = b.actions.find((a) => a._class === 'hudson.model.ParametersAction');
    expect(p?.parameters).toEqual([
      { _class: 'hudson.model.BooleanParameterValue', name: 'SKIP_INTEGRATION_TESTS', value: true },
    ]);
  });

  it('answers 404 for lastSuccessfulBuild and lastCompletedBuild before any build, and for an unknown number', async () => {
    const client = world.tokenClient();
    for (const number of ['lastSuccessfulBuild', 'lastCompletedBuild', 'lastBuild', 7]) {
      await expect(client.build.get({ name: PROMOTE, number })).rejects.toMatchObject({ notFound: true });
    }
    const res = await call(world, '/job/promote-environment/lastBuild/api/json');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
  });

  it('serves the progressive log from a byte offset with X-Text-Size, and X-More-Data only while running', async () => {
    const gate = new Gate();
    world.runners.promote = gate.runner('SUCCESS', ['Detect Image', 'image: 1.0.37-SNAPSHOT-a1b2c3d']);
    const n = await startedBuild(PROMOTE, params);
    await until(() => gate.entered, 'the build to enter its gate');

    const first = await call(world, `/job/promote-environment/${n}/logText/progressiveText?start=0`);
    expect(first.headers.get('content-type')).toBe('text/plain;charset=utf-8');
    expect(first.headers.get('x-more-data')).toBe('true');
    const text = await first.text();
    expect(text).toBe('Started by user Shepherd Bot\nDetect Image\nimage: 1.0.37-SNAPSHOT-a1b2c3d\n');
    const size = Number(first.headers.get('x-text-size'));
    expect(size).toBe(Buffer.byteLength(text));

    gate.open();
    await finished(PROMOTE, n);
    const rest = await world.tokenClient().build.log({ name: PROMOTE, number: n, start: size, meta: true });
    expect(rest).toEqual({
      text: 'step two\nFinished: SUCCESS\n',
      more: false,
      size: String(size + Buffer.byteLength('step two\nFinished: SUCCESS\n')),
    });
    const viaGet = await call(world, `/job/promote-environment/${n}/logText/progressiveText?start=${size}`);
    expect(viaGet.headers.get('x-more-data')).toBeNull();
    expect(await viaGet.text()).toBe('step two\nFinished: SUCCESS\n');
  });

  it('serves the whole console log as text ending with the result', async () => {
    const n = await startedBuild(PROMOTE, params);
    await finished(PROMOTE, n);
    const res = await call(world, `/job/promote-environment/${n}/consoleText`);
    expect(res.headers.get('content-type')).toBe('text/plain;charset=utf-8');
    const log = await res.text();
    expect(log.startsWith('Started by user Shepherd Bot\n')).toBe(true);
    expect(log.endsWith('Finished: SUCCESS\n')).toBe(true);
  });

  it('stops a running build with a 302 the npm client accepts, and the build ends ABORTED', async () => {
    world.runners.promote = async (ctx) => {
      for (;;) await ctx.sleep(5);
    };
    const n = await startedBuild(PROMOTE, params);
    await expect(world.tokenClient().build.stop({ name: PROMOTE, number: n })).resolves.toBeUndefined();
    const done = await finished(PROMOTE, n);
    expect(done.result).toBe('ABORTED');
    const log = await (await call(world, `/job/promote-environment/${n}/consoleText`)).text();
    expect(log).toContain('Aborted by shepherd\n');
    expect(log.endsWith('Finished: ABORTED\n')).toBe(true);
    const raw = await call(world, `/job/promote-environment/${n}/stop`, {
      method: 'POST',
      headers: { referer: `${world.url}/job/promote-environment/` },
    });
    expect(raw.status).toBe(302);
    expect(raw.headers.get('location')).toBe(`${world.url}/job/promote-environment/`);
  });

  it('ends a build FAILURE with the error in the log when the runner throws', async () => {
    world.runners.promote = async (ctx) => {
      ctx.log('Validate Parameters');
      throw new Error('Invalid promotion path: dev -> prod');
    };
    const n = await startedBuild(PROMOTE, params);
    expect((await finished(PROMOTE, n)).result).toBe('FAILURE');
    const log = await (await call(world, `/job/promote-environment/${n}/consoleText`)).text();
    expect(log).toContain('ERROR: Invalid promotion path: dev -> prod\n');
    expect(log.endsWith('Finished: FAILURE\n')).toBe(true);
  });

  it('exposes the git revision as the git plugin BuildData action, plus description and display name', async () => {
    world.runners.ci = async (ctx) => {
      ctx.setGitRevision(
        'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
        'main',
        'https://gitlab.example/p2c/example-app.git',
      );
      ctx.setDescription('image 1.0.37-SNAPSHOT-a1b2c3d');
      ctx.setDisplayName('#1 1.0.37-SNAPSHOT');
      return 'SUCCESS';
    };
    world.model.scheduleBuild('example-app/main', {}, { kind: 'branch-event' });
    const b = await eventually(async () => {
      const res = await call(world, '/job/example-app/job/main/lastCompletedBuild/api/json');
      return res.status === 200 ? ((await res.json()) as BuildJson) : undefined;
    }, 'a completed build of example-app/main');
    const data = b.actions.find((a) => a._class === 'hudson.plugins.git.util.BuildData') as Record<string, unknown>;
    expect(data.lastBuiltRevision).toEqual({
      SHA1: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      branch: [{ SHA1: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', name: 'main' }],
    });
    expect(data.remoteUrls).toEqual(['https://gitlab.example/p2c/example-app.git']);
    expect(Object.keys(data.buildsByBranchName as object)).toEqual(['main']);
    expect(b.description).toBe('image 1.0.37-SNAPSHOT-a1b2c3d');
    expect(b).toMatchObject({
      displayName: '#1 1.0.37-SNAPSHOT',
      fullDisplayName: 'example-app » main #1 1.0.37-SNAPSHOT',
    });
    const cause = b.actions.find((a) => a._class === 'hudson.model.CauseAction');
    expect(cause?.causes).toEqual([{ _class: 'jenkins.branch.BranchEventCause', shortDescription: 'Branch event' }]);
  });

  it('describes jobs with their parameter definitions, builds and permalinks, and folders with their jobs', async () => {
    const n = await startedBuild(PROMOTE, params);
    await finished(PROMOTE, n);
    const job = (await world.tokenClient().job.get({ name: PROMOTE })) as Record<string, unknown>;
    expect(job).toMatchObject({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
      name: 'promote-environment',
      fullName: 'promote-environment',
      url: `${world.url}/job/promote-environment/`,
      color: 'blue',
      nextBuildNumber: 2,
      inQueue: false,
      queueItem: null,
      concurrentBuild: false,
      lastBuild: { number: 1, url: `${world.url}/job/promote-environment/1/` },
      lastSuccessfulBuild: { number: 1 },
      lastFailedBuild: null,
      builds: [
        {
          _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
          number: 1,
          url: `${world.url}/job/promote-environment/1/`,
        },
      ],
    });
    const property = job.property as { _class: string; parameterDefinitions?: Record<string, unknown>[] }[];
    const defs = property.find((p) => p._class === 'hudson.model.ParametersDefinitionProperty')?.parameterDefinitions;
    expect(defs?.find((d) => d.name === 'TARGET_ENV')).toMatchObject({
      type: 'ChoiceParameterDefinition',
      choices: ['stage', 'prod'],
      defaultParameterValue: { value: 'stage' },
    });
    expect(defs?.find((d) => d.name === 'IMAGE_TAG')).toMatchObject({ type: 'StringParameterDefinition', trim: true });

    const folder = (await world.tokenClient().job.get({ name: 'example-app' })) as {
      _class: string;
      jobs: { name: string; url: string }[];
    };
    expect(folder._class).toBe('org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject');
    expect(folder.jobs).toEqual([
      {
        _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
        name: 'main',
        url: `${world.url}/job/example-app/job/main/`,
        color: 'notbuilt',
      },
    ]);
  });

  it('filters top-level and nested fields with ?tree=, keeping _class', async () => {
    const n = await startedBuild(PROMOTE, params);
    await finished(PROMOTE, n);
    const res = await call(
      world,
      `/job/promote-environment/${n}/api/json?tree=number,result,actions[parameters[name,value]]`,
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['_class', 'actions', 'number', 'result']);
    const p = (body.actions as { parameters?: unknown[] }[]).find((a) => a.parameters);
    expect(p?.parameters).toContainEqual({
      _class: 'hudson.model.StringParameterValue',
      name: 'TARGET_ENV',
      value: 'stage',
    });
    const job = (await (
      await call(world, '/job/promote-environment/api/json?tree=builds[number]{0,1}')
    ).json()) as Record<string, unknown>;
    expect(job).toEqual({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
      builds: [{ _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun', number: 1 }],
    });
    const byQueue = (await (
      await call(
        world,
        '/job/promote-environment/api/json?tree=builds[number,queueId,result],lastBuild[number,building]',
      )
    ).json()) as Record<string, unknown>;
    expect(byQueue.builds).toEqual([
      {
        _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
        number: 1,
        queueId: expect.any(Number),
        result: 'SUCCESS',
      },
    ]);
    expect(byQueue.lastBuild).toEqual({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
      number: 1,
      building: false,
    });
  });

  it('streams a finished build log through the npm client log stream and ends', async () => {
    const n = await startedBuild(PROMOTE, params);
    await finished(PROMOTE, n);
    const client = world.tokenClient() as unknown as {
      build: { logStream(o: { name: string; number: number; delay: number }): NodeJS.EventEmitter };
    };
    const stream = client.build.logStream({ name: PROMOTE, number: n, delay: 5 });
    const text = await new Promise<string>((resolve, reject) => {
      let acc = '';
      stream.on('data', (chunk: string) => (acc += chunk));
      stream.on('error', reject);
      stream.on('end', () => resolve(acc));
    });
    expect(text.endsWith('Finished: SUCCESS\n')).toBe(true);
  });

  it('answers 400 to a malformed ?tree= spec', async () => {
    const res = await call(world, '/api/json?tree=jobs[name');
    expect(res.status).toBe(400);
  });
});
