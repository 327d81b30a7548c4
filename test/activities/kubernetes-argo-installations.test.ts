/**
 * Part C: awaitArgoSyncedAndHealthy and readEnvironmentState against Argo CD as real teams run it, in sandbox worlds
 * with the installation traits: shared env branches (a synced revision that contains our merge), manual sync (the
 * wait starts the sync itself, once), multi-source Applications (the deployments repo's revision), and the health
 * outcomes waiting cannot change (Suspended, Missing, Unknown). Commits land on the env branches directly, as a
 * merge would, so that each world serves several cases quickly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities, gitLabAncestry } from '../../activities/kubernetes.js';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { Secret } from '../../src/config/secret.js';
import { targetUnsettledReason } from '../../src/domain/environment-state.js';
import type { Application } from '../../src/sandbox/argocd/application.js';
import type { ScenarioInput } from '../../src/sandbox/core/faults.js';
import { eventually } from '../support/eventually.js';
import { deadlineIn, failureOf, runActivity, startKubeWorld, type KubeWorld } from './kubernetes-support.js';

const DEPLOYMENTS = 'p2c/k8s-deployments';
const MANIFEST = 'manifests/exampleApp/exampleApp.yaml';
type Env = 'dev' | 'stage' | 'prod';

/** Commits `tag` as the env's image on its branch (what a promotion merge does); returns the commit. */
function commitImage(w: KubeWorld, env: Env, tag: string): string {
  const gitlab = w.d.world.gitlab;
  const text = gitlab.readFile(DEPLOYMENTS, env, MANIFEST)!;
  const next = text.replace(/image: (\S*example-app):\S+/g, `image: $1:${tag}`);
  expect(next).not.toBe(text);
  return gitlab.commit(DEPLOYMENTS, {
    branch: env,
    message: `Promote example-app ${tag} to ${env}`,
    as: 'shepherd',
    actions: [{ action: 'update', filePath: MANIFEST, content: Buffer.from(next) }],
  }).id;
}

/** The raw Application, read through the Kubernetes client library. */
async function appOf(w: KubeWorld, env: Env): Promise<Application> {
  return (await w.d.custom.getNamespacedCustomObject({
    group: 'argoproj.io',
    version: 'v1alpha1',
    namespace: 'argocd',
    plural: 'applications',
    name: `example-app-${env}`,
  })) as Application;
}

/** Kubernetes activities for the world with the ancestry through its GitLab and the given manual-sync envs. */
function activitiesFor(w: KubeWorld, manualSync: Env[] = []) {
  const info = w.d.world.info;
  const gitlab = new GitLabClient({ url: info.gitlab.url, token: new Secret(info.gitlab.token) });
  const layout = { ...w.layout, argocdManualSync: manualSync };
  return createKubernetesActivities({
    client: w.client,
    layout,
    pollIntervalMs: 50,
    ancestry: gitLabAncestry(gitlab, layout.gitlab.deploymentsProject),
  });
}

const input = (env: Env, revision: string, seconds = 60) => ({
  appName: 'example-app',
  env,
  revision,
  deadline: deadlineIn(seconds),
});

describe('on a shared env branch (others commit on top of our merge before Argo CD syncs)', () => {
  let w: KubeWorld;
  beforeAll(async () => {
    w = await startKubeWorld({ scenario: 'shared-env-branch' });
  });
  afterAll(() => w.stop());

  it('accepts a synced revision that contains our merge commit', async () => {
    const activities = activitiesFor(w);
    const ours = commitImage(w, 'dev', '1.0.50-shared');
    const result = await runActivity(activities.awaitArgoSyncedAndHealthy, input('dev', ours)).result;
    expect(result).toMatchObject({ argoApp: 'example-app-dev', revision: ours });

    const app = await w.client.getApplication('argocd', 'example-app-dev');
    const head = w.d.world.gitlab.branchHead(DEPLOYMENTS, 'dev')!;
    // Argo CD never saw our commit alone: it synced the other team's commit on top of it.
    expect(app.sync.revision).toBe(head);
    expect(head).not.toBe(ours);
    expect(app.operation).toMatchObject({ phase: 'Succeeded', revision: head });
    expect(await w.d.readyPodImages('dev')).toEqual(['docker.jmann.local/p2c/example-app:1.0.50-shared']);
  });

  it('accepts a later revision Argo CD found in sync without a new sync operation, when the last one contains ours', async () => {
    const activities = activitiesFor(w);
    const ours = commitImage(w, 'prod', '1.0.54-later');
    await runActivity(activities.awaitArgoSyncedAndHealthy, input('prod', ours)).result;
    const synced = (await w.client.getApplication('argocd', 'example-app-prod')).sync.revision!;

    // More of the other teams' commits, not touching our manifests: Argo CD moves sync.revision, runs no sync.
    const gitlab = w.d.world.gitlab;
    gitlab.commit(DEPLOYMENTS, {
      branch: 'prod',
      message: 'docs for prod',
      actions: [{ action: 'create', filePath: 'docs/prod.md', content: Buffer.from('prod\n') }],
    });
    const app = await eventually(async () => {
      const a = await w.client.getApplication('argocd', 'example-app-prod');
      const head = gitlab.branchHead(DEPLOYMENTS, 'prod');
      return a.sync.revision === head && a.sync.status === 'Synced' ? a : undefined;
    }, 'prod compared at the new head');
    expect(app.operation).toMatchObject({ phase: 'Succeeded', revision: synced });

    const again = await runActivity(activities.awaitArgoSyncedAndHealthy, input('prod', ours)).result;
    expect(again.revision).toBe(ours);
    // The next promotion finds prod settled on what its branch declares.
    const state = await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'prod' }).result;
    expect(state.operation).toMatchObject({ phase: 'Succeeded', revision: app.sync.revision });
    expect(targetUnsettledReason(state, { commitSha: app.sync.revision!, imageTag: '1.0.54-later' })).toBeUndefined();
  });

  it('refuses a synced revision that does not contain our commit and times out naming both', async () => {
    const activities = activitiesFor(w);
    // A commit on a side branch: never merged, so nothing Argo CD syncs contains it.
    const gitlab = w.d.world.gitlab;
    const side = gitlab.commit(DEPLOYMENTS, {
      branch: 'side',
      startBranch: 'stage',
      message: 'never merged',
      actions: [{ action: 'create', filePath: 'side.txt', content: Buffer.from('x\n') }],
    }).id;
    const failure = await failureOf(runActivity(activities.awaitArgoSyncedAndHealthy, input('stage', side, 2)).result);
    expect(failure.type).toBe('WaitTimeoutError');
    const synced = (await w.client.getApplication('argocd', 'example-app-stage')).sync.revision!;
    expect(failure.facts.lastSeen).toContain(`synced revision is ${synced.slice(0, 8)}, not ${side.slice(0, 8)};`);
    expect(failure.facts.lastSeen).not.toContain('contains it');
  });
});

describe('on a manual-sync environment (no automated sync policy)', () => {
  let w: KubeWorld;
  beforeAll(async () => {
    w = await startKubeWorld({ scenario: 'manual-sync-prod' });
  });
  afterAll(() => w.stop());

  const shepherdSyncs = (app: Application) =>
    (app.status?.history ?? []).filter((h) => h.initiatedBy.username === 'shepherd');

  it('starts the sync itself on a manual-sync environment and does not start a second', async () => {
    const before = await appOf(w, 'prod');
    expect(before.spec.syncPolicy?.automated).toBeUndefined();
    const activities = activitiesFor(w, ['prod']);
    const ours = commitImage(w, 'prod', '1.0.51-manual');

    // Two attempts at once (a retry racing a slow first attempt), then a third once it is done.
    const [a, b] = await Promise.all([
      runActivity(activities.awaitArgoSyncedAndHealthy, input('prod', ours)).result,
      runActivity(activities.awaitArgoSyncedAndHealthy, input('prod', ours)).result,
    ]);
    expect(a.revision).toBe(ours);
    expect(b.revision).toBe(ours);
    const again = runActivity(activities.awaitArgoSyncedAndHealthy, input('prod', ours));
    await again.result;

    const app = await appOf(w, 'prod');
    expect(shepherdSyncs(app)).toEqual([expect.objectContaining({ revision: ours })]);
    expect(app.status?.operationState?.operation).toMatchObject({
      sync: { revision: 'prod' },
      initiatedBy: { username: 'shepherd' },
    });
    expect(app.status?.operationState?.syncResult?.revision).toBe(ours);
    expect(app.operation).toBeUndefined();
    expect(again.heartbeats.at(-1)).not.toHaveProperty('syncsRequested');
  });

  it('does not touch an environment that syncs on its own (stage keeps automated sync)', async () => {
    const activities = activitiesFor(w, ['prod']);
    const ours = commitImage(w, 'stage', '1.0.52-auto');
    await runActivity(activities.awaitArgoSyncedAndHealthy, input('stage', ours)).result;
    const app = await appOf(w, 'stage');
    expect(app.status?.operationState?.operation.initiatedBy).toEqual({ automated: true });
    expect(shepherdSyncs(app)).toEqual([]);
  });
});

describe('with multi-source Applications (a ref: values source, then the manifests)', () => {
  let w: KubeWorld;
  beforeAll(async () => {
    w = await startKubeWorld({ scenario: 'multi-source' });
  });
  afterAll(() => w.stop());

  it("waits on the deployments repo's entry of sync.revisions and reads it as the environment's revision", async () => {
    const raw = await appOf(w, 'dev');
    expect(raw.spec.sources?.map((s) => s.ref ?? s.path)).toEqual(['values', 'manifests/exampleApp']);
    const activities = activitiesFor(w);
    const ours = commitImage(w, 'dev', '1.0.53-multi');
    await runActivity(activities.awaitArgoSyncedAndHealthy, input('dev', ours)).result;

    const app = await appOf(w, 'dev');
    expect(app.status?.sync?.revision).toBeUndefined();
    expect(app.status?.sync?.revisions).toEqual([w.d.world.gitlab.branchHead('p2c/example-app', 'main'), ours]);
    expect(app.status?.operationState?.syncResult?.revisions?.[1]).toBe(ours);

    const state = await runActivity(activities.readEnvironmentState, { appName: 'example-app', env: 'dev' }).result;
    expect(state.sync).toEqual({ status: 'Synced', revision: ours });
    expect(state.operation).toMatchObject({ phase: 'Succeeded', revision: ours });
    expect(state.imageTag).toBe('1.0.53-multi');
  });
});

describe('health that waiting cannot change', () => {
  const scenario: ScenarioInput = {
    name: 'health-outcomes',
    description: 'dev Suspended, stage Missing, prod Unknown for new images',
    domain: [
      { kind: 'argo-health-suspended', env: 'dev', newImageOnly: true },
      { kind: 'argo-health-missing', env: 'stage', newImageOnly: true },
      { kind: 'argo-health-unknown', env: 'prod', newImageOnly: true },
    ],
  };
  let w: KubeWorld;
  beforeAll(async () => {
    w = await startKubeWorld({ scenario });
  });
  afterAll(() => w.stop());

  it('Suspended (a paused Deployment) ends the wait with AppHealthBlockedError naming the app and the message', async () => {
    const ours = commitImage(w, 'dev', '1.0.60-paused');
    const failure = await failureOf(
      runActivity(activitiesFor(w).awaitArgoSyncedAndHealthy, input('dev', ours, 120)).result,
    );
    expect(failure.type).toBe('AppHealthBlockedError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toMatchObject({
      env: 'dev',
      argoApp: 'example-app-dev',
      health: 'Suspended',
      revision: ours,
      detail: 'Deployment is paused',
    });
    expect(failure.message).toContain('rollout resume');
  });

  it('Missing after our sync Succeeded ends the wait after the grace period, not at the deadline', async () => {
    const ours = commitImage(w, 'stage', '1.0.61-gone');
    const started = Date.now();
    const failure = await failureOf(
      runActivity(activitiesFor(w).awaitArgoSyncedAndHealthy, input('stage', ours, 120)).result,
    );
    expect(failure.type).toBe('AppHealthBlockedError');
    expect(failure.facts).toMatchObject({ env: 'stage', argoApp: 'example-app-stage', health: 'Missing' });
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('Unknown (a ComparisonError) ends the wait with the condition as detail', async () => {
    const ours = commitImage(w, 'prod', '1.0.62-broken');
    const failure = await failureOf(
      runActivity(activitiesFor(w).awaitArgoSyncedAndHealthy, input('prod', ours, 120)).result,
    );
    expect(failure.type).toBe('AppHealthBlockedError');
    expect(failure.facts).toMatchObject({ env: 'prod', argoApp: 'example-app-prod', health: 'Unknown' });
    expect(String(failure.facts.detail)).toMatch(
      /^ComparisonError: Failed to load target state: .*argo-health-unknown/,
    );
  });
});
