import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/sandbox/world/scenarios.js';
import { eventually, until } from '../support/eventually.js';
import { startDriver, type BuildJson, type Driver } from './world-driver.js';

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
        'gitlab-approvals',
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
        // Issue 13: the lead's part
        'protected-main',
        // Part E
        'jenkins-shared-library',
        'jenkins-slow-start',
        // Part C
        'shared-env-branch',
        'manual-sync-prod',
        'multi-source',
        'stage-suspended',
        'stage-missing',
        'stage-health-unknown',
        // Part A: merge rules.
        'ci-must-pass',
        'ci-must-pass-fails',
        'ff-merge',
        // Part D
        'sibling-workload',
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

  // Part E: installations whose Jenkins records builds and starts them differently.
  const jenkinsGet = async (d: Driver, path: string): Promise<Response> =>
    fetch(`${d.world.info.jenkins.url}${path}`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${d.world.info.jenkins.user}:${d.world.info.jenkins.token}`).toString('base64')}`,
      },
    });

  it("jenkins-shared-library: CI builds list the library's BuildData first, carry the SCMRevisionAction and post their commit status", async () => {
    const d = await world('jenkins-shared-library');
    const { sha } = await d.bumpVersion();
    const build = await eventually(async () => {
      const res = await jenkinsGet(d, '/job/example-app/job/main/1/api/json');
      const b = res.status === 200 ? ((await res.json()) as BuildJson & { building: boolean }) : undefined;
      return b && !b.building ? b : undefined;
    }, 'CI #1 to finish');
    const data = build.actions.filter((a) => a._class === 'hudson.plugins.git.util.BuildData') as {
      lastBuiltRevision: { SHA1: string };
      remoteUrls: string[];
    }[];
    expect(data).toHaveLength(2);
    expect(data[0]!.remoteUrls[0]).toMatch(/jenkins-pipeline-library\.git$/);
    expect(data[0]!.lastBuiltRevision.SHA1).not.toBe(sha);
    expect(data[1]).toMatchObject({ lastBuiltRevision: { SHA1: sha }, remoteUrls: [d.world.layout.appRepoUrl] });
    expect(build.actions).toContainEqual(
      expect.objectContaining({
        _class: 'jenkins.scm.api.SCMRevisionAction',
        revision: expect.objectContaining({ hash: sha }),
      }),
    );
    const statuses = (await (
      await fetch(
        `${d.world.info.gitlab.url}/api/v4/projects/${encodeURIComponent(d.world.info.gitlab.appProject)}/repository/commits/${sha}/statuses`,
        { headers: { 'private-token': d.world.info.gitlab.token } },
      )
    ).json()) as { name: string; status: string; target_url: string }[];
    expect(statuses).toEqual([expect.objectContaining({ name: 'jenkins', status: 'success', target_url: build.url })]);
  });

  it('jenkins-slow-start: a CI queue item leaves the queue without an executable for a while, then its build starts', async () => {
    const d = await world('jenkins-slow-start');
    const { sha } = await d.bumpVersion();
    const id = await eventually(
      () => [1, 2, 3, 4, 5].find((i) => d.world.jenkins.queueItem(i)?.jobPath.join('/') === 'example-app/main'),
      'the CI queue item',
    );
    const left = await eventually(async () => {
      const item = (await (await jenkinsGet(d, `/queue/item/${id}/api/json`)).json()) as Record<string, unknown>;
      return item._class === 'hudson.model.Queue$LeftItem' ? item : undefined;
    }, 'the CI item to leave the queue');
    expect(left).toMatchObject({ cancelled: false, executable: null });
    expect((await d.awaitCiBuild(sha)).result).toBe('SUCCESS');
  });

  // Part D
  it("sibling-workload: a second Deployment's pods share app=example-app; its own selector and ReplicaSet tell them apart", async () => {
    const d = await world('sibling-workload');
    const labelled = await d.core.listNamespacedPod({ namespace: 'stage', labelSelector: 'app=example-app' });
    const owners = labelled.items.map((p) => p.metadata!.ownerReferences![0]!.name);
    expect(owners.filter((o) => o.startsWith('example-app-worker-'))).toHaveLength(2);
    expect(owners.filter((o) => !o.startsWith('example-app-worker-'))).toHaveLength(2);
    const worker = await d.apps.readNamespacedDeployment({ namespace: 'stage', name: 'example-app-worker' });
    expect(worker.spec!.template.spec!.containers.map((c) => c.name)).toEqual(['worker', 'log-shipper']);
    // The inspection endpoint shows the app's pods only.
    expect((await d.state()).environments.stage!.pods).toHaveLength(2);
  });
});

// Part B: approvals with a real identity.
describe('installation gitlab-approvals', () => {
  it('gitlab-approvals: an MR into prod stays not_approved and unmergeable until alice approves it with her token', async () => {
    const d = await world('gitlab-approvals');
    const { info } = d.world;
    const project = info.gitlab.deploymentsProject;
    const alice = info.gitlab.approvers?.find((a) => a.username === 'alice');
    expect(alice).toBeDefined();
    expect(info.settings).toMatchObject({
      SHEPHERD_APPROVALS_SOURCE: 'gitlab',
      SHEPHERD_APPROVAL_ENVIRONMENTS: 'prod',
    });
    const head = d.world.gitlab.commit(project, {
      branch: 'promote-prod-by-hand',
      startBranch: info.environments.prod!.branch,
      message: 'by hand',
      as: 'shepherd',
      actions: [{ action: 'create', filePath: 'by-hand.txt', content: Buffer.from('x\n') }],
    }).id;
    const mr = d.world.gitlab.createMergeRequest(project, {
      sourceBranch: 'promote-prod-by-hand',
      targetBranch: info.environments.prod!.branch,
      title: 'Promote example-app to prod: by hand',
      as: 'shepherd',
    });
    const status = () =>
      eventually(async () => {
        const opened = (await d.state()).gitlab.projects.find((p) => p.path === project)!.mergeRequests.opened;
        const s = opened.find((m) => m.iid === mr.iid)?.detailedMergeStatus;
        return s === 'checking' ? undefined : s;
      }, 'the mergeability check');
    expect(await status()).toBe('not_approved');
    const approve = (token: string) =>
      fetch(`${info.gitlab.url}/api/v4/projects/${encodeURIComponent(project)}/merge_requests/${mr.iid}/approve`, {
        method: 'POST',
        headers: { 'private-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ sha: head }),
      });
    expect((await approve(info.gitlab.token)).status).toBe(401);
    expect((await approve(alice!.token)).status).toBe(201);
    expect(await status()).toBe('mergeable');
  });
});

describe('the admin endpoint', () => {
  // Part A: merge rules.
  const DEPLOYMENTS = 'p2c/k8s-deployments';
  /** The MR's detailed merge status once `done` says it is final. */
  const statusOf = (d: Driver, iid: number, done: (status: string) => boolean) =>
    eventually(async () => {
      const status = String((await d.gitlab.MergeRequests.show(DEPLOYMENTS, iid)).detailed_merge_status);
      return done(status) ? status : undefined;
    }, `MR !${iid} to reach its status`);

  it('ci-must-pass: the dev MR runs a pipeline, is ci_still_running, then mergeable once it succeeded', async () => {
    const d = await world('ci-must-pass');
    const { sha } = await d.bumpVersion();
    await d.awaitCiBuild(sha);
    const mr = await d.awaitOpenMr('dev', 'update-dev-');
    const project = await d.gitlab.Projects.show(DEPLOYMENTS);
    expect(project.only_allow_merge_if_pipeline_succeeds).toBe(true);
    expect(await statusOf(d, mr.iid, (s) => s !== 'checking' && s !== 'ci_still_running')).toBe('mergeable');
    const shown = await d.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid);
    expect(shown.head_pipeline).toMatchObject({ status: 'success', source: 'merge_request_event', sha: mr.sha });
    await d.awaitSyncedAndHealthy('dev', await d.merge(mr.iid));
  });

  it('ci-must-pass-fails: dev MRs pass, the stage promotion MR pipeline fails and GitLab answers ci_must_pass', async () => {
    const d = await world('ci-must-pass-fails');
    const { version, sha } = await d.bumpVersion();
    await d.awaitCiBuild(sha);
    const tag = `${version}-${sha.slice(0, 7)}`;
    const dev = await d.awaitOpenMr('dev', `update-dev-${tag}`);
    expect(await statusOf(d, dev.iid, (s) => s !== 'checking' && s !== 'ci_still_running')).toBe('mergeable');
    await d.awaitSyncedAndHealthy('dev', await d.merge(dev.iid));
    await d.promote('dev', 'stage');
    const mr = await d.awaitOpenMr('stage', `promote-stage-${tag}`);
    expect(await statusOf(d, mr.iid, (s) => s !== 'checking' && s !== 'ci_still_running')).toBe('ci_must_pass');
    const [pipeline] = await d.gitlab.MergeRequests.allPipelines(DEPLOYMENTS, mr.iid);
    expect(pipeline).toMatchObject({ status: 'failed', sha: mr.sha });
    await expect(d.merge(mr.iid)).rejects.toThrow(/is ci_must_pass/);
  });

  it('ff-merge: another team commits to dev while the dev MR is open; after a rebase it merges fast-forward and dev syncs', async () => {
    const d = await world('ff-merge');
    const { sha } = await d.bumpVersion();
    await d.awaitCiBuild(sha);
    const mr = await d.awaitOpenMr('dev', 'update-dev-');
    expect(await statusOf(d, mr.iid, (s) => s !== 'checking')).toBe('need_rebase');
    await d.gitlab.MergeRequests.rebase(DEPLOYMENTS, mr.iid);
    const rebased = await eventually(async () => {
      const m = await d.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid, { includeRebaseInProgress: true });
      return m.rebase_in_progress === false && m.sha !== mr.sha ? String(m.sha) : undefined;
    }, 'the rebase');
    expect(await statusOf(d, mr.iid, (s) => s !== 'checking')).toBe('mergeable');
    const merged = await d.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha: rebased });
    expect(merged).toMatchObject({ state: 'merged', merge_commit_sha: null });
    await d.awaitSyncedAndHealthy('dev', rebased);
  });

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

// Part C: Argo CD as real teams run it.
describe('sandbox scenarios of Argo CD installations', () => {
  const DEPLOYMENTS = 'p2c/k8s-deployments';
  const MANIFEST = 'manifests/exampleApp/exampleApp.yaml';

  /** Commits `tag` as the env's image on its branch, as a promotion merge does; returns the commit. */
  function commitImage(d: Driver, env: string, tag: string): string {
    const text = d.world.gitlab.readFile(DEPLOYMENTS, env, MANIFEST)!;
    return d.world.gitlab.commit(DEPLOYMENTS, {
      branch: env,
      message: `Promote ${tag} to ${env}`,
      as: 'shepherd',
      actions: [
        {
          action: 'update',
          filePath: MANIFEST,
          content: Buffer.from(text.replace(/image: (\S*example-app):\S+/g, `image: $1:${tag}`)),
        },
      ],
    }).id;
  }

  const appStatus = async (d: Driver, env: string) =>
    (await d.application(env)).status as { health?: { status?: string; message?: string }; sync?: { status?: string } };

  it('shared-env-branch: another team commits on top of each merge before Argo CD syncs the branch', async () => {
    const d = await world('shared-env-branch');
    const ours = commitImage(d, 'dev', '1.0.70-a');
    const head = await eventually(() => {
      const h = d.world.gitlab.branchHead(DEPLOYMENTS, 'dev');
      return h !== ours ? h : undefined;
    }, "the other team's commit");
    const commit = d.world.gitlab.project(DEPLOYMENTS).repo.getCommit(head!)!;
    expect(commit.parentIds).toEqual([ours]);
    expect(commit.message).toMatch(/^other-app:/);
    await d.awaitSyncedAndHealthy('dev', head!);
  });

  it('manual-sync-prod: the prod Application has no automated sync and the world asks Shepherd to sync it', async () => {
    const d = await world('manual-sync-prod');
    expect(d.world.info.settings).toEqual({ SHEPHERD_ARGOCD_MANUAL_SYNC: 'prod' });
    const prod = (await d.application('prod')) as unknown as { spec: { syncPolicy?: { automated?: unknown } } };
    const stage = (await d.application('stage')) as unknown as { spec: { syncPolicy?: { automated?: unknown } } };
    expect(prod.spec.syncPolicy?.automated).toBeUndefined();
    expect(stage.spec.syncPolicy?.automated).toBeDefined();
  });

  it('multi-source: Applications declare spec.sources and report sync.revisions', async () => {
    const d = await world('multi-source');
    const app = (await d.application('dev')) as unknown as {
      spec: { sources?: { ref?: string; path?: string }[] };
      status: { sync: { revision?: string; revisions?: string[] } };
    };
    expect(app.spec.sources?.map((s) => s.ref ?? s.path)).toEqual(['values', 'manifests/exampleApp']);
    expect(app.status.sync.revision).toBeUndefined();
    expect(app.status.sync.revisions).toEqual([
      d.world.gitlab.branchHead('p2c/example-app', 'main'),
      d.world.gitlab.branchHead(DEPLOYMENTS, 'dev'),
    ]);
  });

  it('stage-suspended: a new image in stage leaves the Deployment paused and the app Suspended', async () => {
    const d = await world('stage-suspended');
    commitImage(d, 'stage', '1.0.71-p');
    const health = await eventually(async () => {
      const h = (await appStatus(d, 'stage')).health;
      return h?.status === 'Suspended' ? h : undefined;
    }, 'stage Suspended');
    expect(health.message).toBe('Deployment is paused');
  });

  it('stage-missing: a new image in stage has its Deployment deleted and the app Missing although synced', async () => {
    const d = await world('stage-missing');
    const ours = commitImage(d, 'stage', '1.0.72-m');
    await until(async () => (await appStatus(d, 'stage')).health?.status === 'Missing', 'stage Missing');
    const app = (await d.application('stage')) as unknown as { status: { history?: { revision?: string }[] } };
    expect(app.status.history?.map((h) => h.revision)).toContain(ours);
  });

  it('stage-health-unknown: a new image in stage cannot be compared: sync and health Unknown, a ComparisonError', async () => {
    const d = await world('stage-health-unknown');
    commitImage(d, 'stage', '1.0.73-u');
    await until(async () => (await appStatus(d, 'stage')).health?.status === 'Unknown', 'stage Unknown');
    const app = (await d.application('stage')) as unknown as {
      status: { sync: { status: string }; conditions?: { type: string; message: string }[] };
    };
    expect(app.status.sync.status).toBe('Unknown');
    expect(app.status.conditions?.[0]).toMatchObject({
      type: 'ComparisonError',
      message: expect.stringContaining('argo-health-unknown'),
    });
  });
});
