import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/sandbox/world/scenarios.js';
import { eventually, until } from '../support/eventually.js';
import { startDriver, type Driver } from './world-driver.js';

const drivers: Driver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
});

async function world(scenario?: string): Promise<Driver> {
  const d = await startDriver(scenario ? { scenario } : {});
  drivers.push(d);
  return d;
}

/** Bump → CI → dev MR → merge → dev synced; returns the new tag and image. */
async function throughDev(d: Driver): Promise<{ version: string; tag: string; image: string }> {
  const { version, sha } = await d.bumpVersion();
  const build = await d.awaitCiBuild(sha);
  expect(build.result).toBe('SUCCESS');
  const tag = `${version}-${sha.slice(0, 7)}`;
  const mr = await d.awaitOpenMr('dev', `update-dev-${tag}`);
  await d.awaitSyncedAndHealthy('dev', await d.merge(mr.iid));
  return { version, tag, image: `docker.jmann.local/p2c/example-app:${tag}` };
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return false;
  } catch (err) {
    return ((err as Error & { cause?: { code?: string } }).cause?.code ?? '') === 'ECONNREFUSED';
  }
}

describe('sandbox fault scenarios', () => {
  it('has a test below for every scenario in the catalogue', () => {
    expect(SCENARIOS.map((s) => s.name).sort()).toEqual(
      [
        'ci-build-fails',
        'ci-build-unstable',
        'dev-not-ready',
        'gitlab-flaky',
        'gitlab-merge-answer-lost',
        'gitlab-outage',
        'jenkins-flaky',
        'jenkins-outage',
        'kubernetes-flaky',
        'kubernetes-outage',
        'mr-head-moves',
        'prod-image-pull',
        'promote-job-cancelled',
        'promote-job-fails',
        'promote-job-hangs',
        'promote-job-starved',
        'slow-systems',
        'stage-degraded',
        'stage-mr-conflict',
        'stage-mr-merged-by-other',
        'stage-sync-fails',
        'stage-sync-hangs',
        // Part F: tested in world-tls.test.ts.
        'tls',
      ].sort(),
    );
  });

  it('gitlab-flaky: merge-request calls get 503 three times, then 429 with Retry-After, then succeed', async () => {
    const d = await world('gitlab-flaky');
    const url = `${d.world.info.gitlab.url}/api/v4/projects/p2c%2Fk8s-deployments/merge_requests`;
    const headers = { 'private-token': d.world.info.gitlab.token };
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 7; i++) {
      const res = await fetch(url, { headers });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([503, 503, 503, 429, 429, 429, 200]);
    expect(retryAfter).toBe('1');
  });

  it('jenkins-flaky: Jenkins answers 502 four times and 503 twice, then recovers', async () => {
    const d = await world('jenkins-flaky');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${d.world.info.jenkins.url}/api/json`)).status);
    expect(statuses.slice(0, 6)).toEqual([502, 502, 502, 502, 503, 503]);
    expect(statuses[6]).toBe(401);
  });

  it('kubernetes-flaky: the API answers Status 500 three times and 429 twice, then recovers', async () => {
    const d = await world('kubernetes-flaky');
    const bodies: { code: number; reason: string }[] = [];
    for (let i = 0; i < 5; i++)
      bodies.push(
        (await (await fetch(`${d.world.info.kubernetes.url}/api/v1/namespaces`)).json()) as {
          code: number;
          reason: string;
        },
      );
    expect(bodies.map((b) => [b.code, b.reason])).toEqual([
      [500, 'InternalError'],
      [500, 'InternalError'],
      [500, 'InternalError'],
      [429, 'TooManyRequests'],
      [429, 'TooManyRequests'],
    ]);
    await expect(d.core.listNamespace()).resolves.toMatchObject({ kind: 'NamespaceList' });
  });

  it('slow-systems: every call takes at least 200 ms longer', async () => {
    const d = await world('slow-systems');
    const start = Date.now();
    await d.gitlab.Projects.show('p2c/example-app');
    expect(Date.now() - start).toBeGreaterThanOrEqual(200);
  });

  it('gitlab-outage, jenkins-outage, kubernetes-outage: the system refuses connections for a while, then comes back on the same port', async () => {
    const cases = [
      ['gitlab-outage', (d: Driver) => `${d.world.info.gitlab.url}/api/v4/version`],
      ['jenkins-outage', (d: Driver) => `${d.world.info.jenkins.url}/api/json`],
      ['kubernetes-outage', (d: Driver) => `${d.world.info.kubernetes.url}/version`],
    ] as const;
    await Promise.all(
      cases.map(async ([scenario, urlOf]) => {
        const d = await world(scenario);
        const url = urlOf(d);
        expect(await refused(url)).toBe(false);
        await until(() => refused(url), `${scenario} to start`, { timeoutMs: 10_000 });
        await until(async () => !(await refused(url)), `${scenario} to end`, { timeoutMs: 20_000 });
      }),
    );
  });

  it('ci-build-fails: the CI build fails in Unit Tests and no dev MR is opened', async () => {
    const d = await world('ci-build-fails');
    const { sha } = await d.bumpVersion();
    const build = await d.awaitCiBuild(sha);
    expect(build.result).toBe('FAILURE');
    const log = await (
      await fetch(`${build.url}consoleText`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${d.world.info.jenkins.user}:${d.world.info.jenkins.token}`).toString('base64')}`,
        },
      })
    ).text();
    expect(log).toContain('BUILD FAILURE');
    expect(log).toContain('Finished: FAILURE');
    expect((await d.state()).gitlab.projects.find((p) => p.path === 'p2c/k8s-deployments')!.counts.opened).toBe(0);
  });

  it('promote-job-fails: the promote build ends FAILURE and opens no MR', async () => {
    const d = await world('promote-job-fails');
    await throughDev(d);
    expect((await d.promote('dev', 'stage')).result).toBe('FAILURE');
    expect(
      (await d.state()).gitlab.projects
        .find((p) => p.path === 'p2c/k8s-deployments')!
        .branches.some((b) => b.startsWith('promote-')),
    ).toBe(false);
  });

  it('promote-job-cancelled: the queue item is cancelled before a build starts', async () => {
    const d = await world('promote-job-cancelled');
    await throughDev(d);
    await expect(d.promote('dev', 'stage')).rejects.toThrow(/was cancelled/);
    expect((await d.state()).jenkins.jobs.find((j) => j.path === 'promote-environment')!.counts.builds).toBe(0);
  });

  it('stage-mr-conflict: the stage promotion MR ends in conflict and GitLab refuses to merge it', async () => {
    const d = await world('stage-mr-conflict');
    const { tag } = await throughDev(d);
    await d.promote('dev', 'stage');
    const mr = await d.awaitOpenMr('stage', `promote-stage-${tag}`);
    await expect(d.merge(mr.iid)).rejects.toThrow(/is conflict/);
    const raw = await fetch(
      `${d.world.info.gitlab.url}/api/v4/projects/p2c%2Fk8s-deployments/merge_requests/${mr.iid}/merge`,
      {
        method: 'PUT',
        headers: { 'private-token': d.world.info.gitlab.token, 'content-type': 'application/json' },
        body: JSON.stringify({ sha: mr.sha }),
      },
    );
    expect(raw.status).toBe(405);
  });

  it('mr-head-moves: the first merge attempt meets a moved head (409) and a retry with the new sha merges', async () => {
    const d = await world('mr-head-moves');
    const { sha } = await d.bumpVersion();
    await d.awaitCiBuild(sha);
    const mr = await d.awaitOpenMr('dev', 'update-dev-');
    await expect(d.merge(mr.iid)).rejects.toThrow(/SHA does not match HEAD of source branch/);
    const merge = await d.merge(mr.iid);
    await d.awaitSyncedAndHealthy('dev', merge);
  });

  it('gitlab-merge-answer-lost: GitLab merges the next MR but the caller gets 504, and finds it merged on its head', async () => {
    const d = await world('gitlab-merge-answer-lost');
    const { sha } = await d.bumpVersion();
    await d.awaitCiBuild(sha);
    const mr = await d.awaitOpenMr('dev', 'update-dev-');
    await expect(d.merge(mr.iid)).rejects.toThrow(/504/);
    const after = await fetch(
      `${d.world.info.gitlab.url}/api/v4/projects/p2c%2Fk8s-deployments/merge_requests/${mr.iid}`,
      { headers: { 'private-token': d.world.info.gitlab.token } },
    );
    const merged = (await after.json()) as { state: string; sha: string; merge_commit_sha: string };
    expect(merged).toMatchObject({ state: 'merged', sha: mr.sha });
    await d.awaitSyncedAndHealthy('dev', merged.merge_commit_sha);
  });

  it('stage-mr-merged-by-other: someone merges the stage MR with one more commit just before the caller, who gets 405', async () => {
    const d = await world('stage-mr-merged-by-other');
    const { tag } = await throughDev(d);
    await d.promote('dev', 'stage');
    const mr = await d.awaitOpenMr('stage', `promote-stage-${tag}`);
    await expect(d.merge(mr.iid)).rejects.toThrow(/405/);
    const state = await d.state();
    const merged = state.gitlab.projects
      .find((p) => p.path === 'p2c/k8s-deployments')!
      .mergeRequests.merged.map((m) => [m.target, m.source]);
    expect(merged).toContainEqual(['stage', `promote-stage-${tag}`]);
  });

  it('stage-sync-fails: Argo CD reports the stage sync operation Failed and stays OutOfSync', async () => {
    const d = await world('stage-sync-fails');
    const { tag } = await throughDev(d);
    await d.promote('dev', 'stage');
    const merge = await d.merge((await d.awaitOpenMr('stage', `promote-stage-${tag}`)).iid);
    const app = await eventually(async () => {
      const a = await d.application('stage');
      return a.status?.operationState?.phase === 'Failed' ? a : undefined;
    }, 'a failed stage sync');
    // As in Argo CD, sync.revision is the revision the comparison was made against: the new commit.
    expect(app.status?.sync).toMatchObject({ status: 'OutOfSync', revision: merge });
    expect(app.status?.operationState?.syncResult?.revision ?? merge).toBe(merge);
    expect((await d.state()).environments.stage!.image).not.toContain(tag);
  });

  it('stage-sync-hangs: the stage sync operation stays Running', async () => {
    const d = await world('stage-sync-hangs');
    const { tag, image } = await throughDev(d);
    await d.promote('dev', 'stage');
    await d.merge((await d.awaitOpenMr('stage', `promote-stage-${tag}`)).iid);
    await until(
      async () => (await d.application('stage')).status?.operationState?.phase === 'Running',
      'a running stage sync',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect((await d.application('stage')).status?.operationState?.phase).toBe('Running');
    expect(await d.readyPodImages('stage')).not.toContain(image);
  });

  it('stage-degraded: a new image crash-loops in stage and the app goes Degraded; reverting to the previous image is healthy again', async () => {
    const d = await world('stage-degraded');
    const before = (await d.state()).environments.stage!.image!;
    const { tag, image } = await throughDev(d);
    await d.promote('dev', 'stage');
    const merge = await d.merge((await d.awaitOpenMr('stage', `promote-stage-${tag}`)).iid);
    const degraded = await eventually(async () => {
      const a = await d.application('stage');
      return a.status?.health?.status === 'Degraded' ? a : undefined;
    }, 'stage to go Degraded');
    expect(degraded.status?.sync?.revision).toBe(merge);
    const pods = (await d.state()).environments.stage!.pods;
    expect(pods.filter((p) => p.image === image).every((p) => p.waiting === 'CrashLoopBackOff' && !p.ready)).toBe(true);
    expect(pods.filter((p) => p.image === before).every((p) => p.ready)).toBe(true);

    const revert = await d.gitlab.Commits.revert('p2c/k8s-deployments', merge, 'stage');
    await d.awaitSyncedAndHealthy('stage', revert.id);
    await until(async () => {
      const images = await d.readyPodImages('stage');
      return images.length === 2 && images.every((i) => i === before);
    }, 'stage back on its previous image');
  });

  it('dev-not-ready: a new image in dev runs but never becomes Ready', async () => {
    const d = await world('dev-not-ready');
    const { sha, version } = await d.bumpVersion();
    await d.awaitCiBuild(sha);
    await d.merge((await d.awaitOpenMr('dev', `update-dev-${version}`)).iid);
    const image = `docker.jmann.local/p2c/example-app:${version}-${sha.slice(0, 7)}`;
    const pod = await eventually(
      async () => (await d.state()).environments.dev!.pods.find((p) => p.image === image && p.phase === 'Running'),
      'a running pod on the new image',
    );
    expect(pod.ready).toBe(false);
    expect(await d.readyPodImages('dev')).not.toContain(image);
  });

  it('prod-image-pull: a new image in prod cannot be pulled', async () => {
    const d = await world('prod-image-pull');
    const { tag, image } = await throughDev(d);
    await d.promote('dev', 'stage');
    await d.awaitSyncedAndHealthy('stage', await d.merge((await d.awaitOpenMr('stage', `promote-stage-${tag}`)).iid));
    await d.promote('stage', 'prod');
    await d.merge((await d.awaitOpenMr('prod', `promote-prod-${tag}`)).iid);
    const pod = await eventually(
      async () =>
        (await d.state()).environments.prod!.pods.find(
          (p) => p.image === image && (p.waiting === 'ImagePullBackOff' || p.waiting === 'ErrImagePull'),
        ),
      'a pod failing to pull',
    );
    expect(pod.ready).toBe(false);
  });
});

describe('the admin endpoint', () => {
  it('switches fault scenarios at run time and refuses an invalid one', async () => {
    const d = await world();
    const admin = d.world.info.admin.url;
    const jenkinsStatus = async (): Promise<number> => (await fetch(`${d.world.info.jenkins.url}/api/json`)).status;
    expect(await jenkinsStatus()).toBe(401);
    const put = await fetch(`${admin}/scenario`, { method: 'PUT', body: JSON.stringify({ name: 'jenkins-flaky' }) });
    expect(put.status).toBe(200);
    expect(await jenkinsStatus()).toBe(502);
    expect(((await (await fetch(`${admin}/state`)).json()) as { scenario: string }).scenario).toBe('jenkins-flaky');
    expect((await fetch(`${admin}/scenario`, { method: 'DELETE' })).status).toBe(200);
    expect(await jenkinsStatus()).toBe(401);
    const custom = await fetch(`${admin}/scenario`, {
      method: 'PUT',
      body: JSON.stringify({ name: 'mine', description: 'x', http: [{ system: 'jenkins', status: 200 }] }),
    });
    expect(custom.status).toBe(400);
    const unknown = await fetch(`${admin}/scenario`, { method: 'PUT', body: JSON.stringify({ name: 'nope' }) });
    expect([unknown.status, ((await unknown.json()) as { error: string }).error]).toEqual([
      400,
      expect.stringContaining('Unknown scenario "nope"'),
    ]);
  });
});
