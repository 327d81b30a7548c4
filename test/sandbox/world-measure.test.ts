import { afterEach, describe, expect, it } from 'vitest';
import type { RequestCountsSnapshot, TimelineEntry } from '../../src/sandbox/core/measure.js';
import { until } from '../support/eventually.js';
import { receiversPerTest } from './webhook-receiver.js';
import { startDriver, type Driver } from './world-driver.js';

const startReceiver = receiversPerTest();
const drivers: Driver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
});

async function admin<T>(d: Driver, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${d.world.info.admin.url}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe('sandbox world measured from outside', () => {
  it('counts requests per endpoint and records the timeline of one build, one MR opened and merged, one sync', async () => {
    const d = await startDriver();
    drivers.push(d);
    const { info, layout } = d.world;
    const gitlabHooks = await startReceiver();
    const jenkinsHooks = await startReceiver();

    await admin(d, 'DELETE', '/timeline');
    const reset = await admin<RequestCountsSnapshot>(d, 'DELETE', '/requests');
    expect(reset.total).toBe(0);
    expect(
      await admin(d, 'PUT', '/jenkins/notifications', { endpoints: [{ url: jenkinsHooks.url, event: 'completed' }] }),
    ).toEqual({ endpoints: [{ url: jenkinsHooks.url, event: 'completed' }] });
    await d.gitlab.ProjectHooks.add(info.gitlab.deploymentsProject, `${gitlabHooks.url}/webhooks/gitlab`, {
      pushEvents: true,
      mergeRequestsEvents: true,
    });

    const { version, sha } = await d.bumpVersion();
    const build = await d.awaitCiBuild(sha);
    const tag = `${version}-${sha.slice(0, 7)}`;
    const mr = await d.awaitOpenMr('dev', `update-dev-${tag}`);
    const mergeSha = await d.merge(mr.iid);
    await d.awaitSyncedAndHealthy('dev', mergeSha);
    const devNs = layout.environments.dev!.namespace;
    const rolloutSubject = `${devNs}/${info.app}`;
    await until(async () => {
      const timeline = await admin<TimelineEntry[]>(d, 'GET', '/timeline');
      return timeline.some((e) => e.kind === 'rollout-complete' && e.subject === rolloutSubject);
    }, 'the dev rollout to complete');

    // The timeline: the causal chain of the scenario, in order, each instant the wall clock with milliseconds.
    const timeline = await admin<TimelineEntry[]>(d, 'GET', '/timeline');
    for (const e of timeline) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect([...timeline].sort((a, b) => a.at.localeCompare(b.at))).toEqual(timeline);
    const ciBuild = `${layout.ciJob.join('/')}#${build.number}`;
    const mrSubject = `${info.gitlab.deploymentsProject}!${mr.iid}`;
    const index = (kind: string, subject: string): number => {
      const i = timeline.findIndex((e) => e.kind === kind && e.subject === subject);
      expect(i, `${kind} ${subject} in ${JSON.stringify(timeline, null, 1)}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const chain = [
      index('branch-pushed', `${info.gitlab.appProject}@main`),
      index('queue-left', ciBuild),
      index('build-started', ciBuild),
      // The CI build opens the dev MR as one of its steps, before it finishes.
      index('mr-opened', mrSubject),
      index('mr-merged', mrSubject),
      index('sync-finished', `${info.argocd.namespace}/${layout.environments.dev!.argoApp}`),
    ];
    expect([...chain].sort((a, b) => a - b)).toEqual(chain);
    expect(index('rollout-complete', rolloutSubject)).toBeGreaterThan(index('mr-merged', mrSubject));
    expect(index('build-finished', ciBuild)).toBeGreaterThan(index('build-started', ciBuild));
    expect(index('branch-pushed', `${info.gitlab.deploymentsProject}@dev`)).toBeGreaterThan(chain[3]!);
    expect(timeline[index('build-finished', ciBuild)]!).toMatchObject({
      system: 'jenkins',
      detail: { result: 'SUCCESS' },
    });
    expect(timeline[index('mr-merged', mrSubject)]!).toMatchObject({
      system: 'gitlab',
      detail: { mergeCommitSha: mergeSha, target: 'dev' },
    });
    expect(timeline.some((e) => e.kind === 'health-changed' && e.system === 'argocd')).toBe(true);

    // One watch, counted as WATCH on its collection.
    const watch = new AbortController();
    const res = await fetch(
      `${info.kubernetes.url}/apis/argoproj.io/v1alpha1/namespaces/${info.argocd.namespace}/applications?watch=true`,
      { headers: { authorization: `Bearer ${info.kubernetes.token}` }, signal: watch.signal },
    );
    expect(res.status).toBe(200);
    watch.abort();

    await until(() => gitlabHooks.deliveries.length >= 3 && jenkinsHooks.deliveries.length >= 1, 'the deliveries');
    const counts = await admin<RequestCountsSnapshot>(d, 'GET', '/requests');
    const { gitlab, jenkins, kubernetes } = counts.systems;
    expect(gitlab.endpoints['POST /api/v4/projects/:id/hooks']).toBe(1);
    expect(gitlab.endpoints['POST /api/v4/projects/:id/repository/commits']).toBe(1);
    expect(gitlab.endpoints['PUT /api/v4/projects/:id/merge_requests/:iid/merge']).toBe(1);
    expect(gitlab.endpoints['GET /api/v4/projects/:id/merge_requests']).toBeGreaterThanOrEqual(1);
    expect(jenkins.endpoints['GET /job/:job/:number/api/json']).toBeGreaterThanOrEqual(1);
    expect(kubernetes.endpoints['GET /apis/argoproj.io/v1alpha1/namespaces/:ns/applications/:name']).toBeGreaterThan(0);
    expect(kubernetes.endpoints['WATCH /apis/argoproj.io/v1alpha1/namespaces/:ns/applications']).toBe(1);
    for (const system of [gitlab, jenkins, kubernetes])
      expect(system.total).toBe(Object.values(system.endpoints).reduce((a, b) => a + b, 0));
    expect(counts.total).toBe(gitlab.total + jenkins.total + kubernetes.total);
    expect(counts.deliveries.gitlab.events['Merge Request Hook']).toBeGreaterThanOrEqual(2);
    expect(counts.deliveries.gitlab.events['Push Hook']).toBeGreaterThanOrEqual(1);
    expect(counts.deliveries.jenkins.events.COMPLETED).toBeGreaterThanOrEqual(1);
    expect(counts.deliveries.total).toBe(counts.deliveries.gitlab.total + counts.deliveries.jenkins.total);

    // The admin endpoint is not counted.
    expect((await admin<RequestCountsSnapshot>(d, 'GET', '/requests')).total).toBe(counts.total);
    expect((await admin<RequestCountsSnapshot>(d, 'DELETE', '/requests')).total).toBe(0);
    expect(await admin(d, 'DELETE', '/timeline')).toEqual([]);
    expect(await admin(d, 'GET', '/timeline')).toEqual([]);
  });

  it('refuses a notification endpoint that is not a list of urls', async () => {
    const d = await startDriver();
    drivers.push(d);
    const res = await fetch(`${d.world.info.admin.url}/jenkins/notifications`, {
      method: 'PUT',
      body: JSON.stringify({ endpoints: [{ url: 'http://x/', event: 'sometimes' }] }),
    });
    expect(res.status).toBe(400);
    expect(await admin(d, 'GET', '/jenkins/notifications')).toEqual({ endpoints: [], attempts: [] });
  });
});
