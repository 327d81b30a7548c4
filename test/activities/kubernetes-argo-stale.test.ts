/**
 * Argo CD's "Synced + Healthy" can be left over from before the sync (real-system.md §6 item 17). These tests run
 * the world at real speed (time scale 1: Argo CD looks at Git every 30 s) so that the stale states last.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { unsettledReason } from '../../src/domain/environment-state.js';
import type { Application } from '../../src/sandbox/argocd/application.js';
import { RESOURCES } from '../../src/sandbox/kubernetes/resources.js';
import {
  deadlineIn,
  expectNoSecret,
  failureOf,
  runActivity,
  startKubeWorld,
  type KubeWorld,
} from './kubernetes-support.js';

const DEPLOYMENTS = 'p2c/k8s-deployments';

describe('awaitArgoSyncedAndHealthy does not trust a stale Argo CD status', () => {
  let w: KubeWorld | undefined;
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  it('does not take Synced/Healthy at the previous revision for the merge it waits for', async () => {
    w = await startKubeWorld({ timeScale: 1 });
    const before = await w.client.getApplication('argocd', 'example-app-dev');
    await w.d.gitlab.Commits.create(
      DEPLOYMENTS,
      'docs-note',
      'docs: add a note',
      [{ action: 'create', filePath: 'NOTES.md', content: 'a note\n' }],
      { startBranch: 'dev' },
    );
    const mr = await w.d.gitlab.MergeRequests.create(DEPLOYMENTS, 'docs-note', 'dev', 'Add a note');
    const mergeSha = await w.d.merge(mr.iid);

    // Right after the merge Argo CD still says Synced and Healthy — about the revision before it.
    const { result: read } = runActivity(w.activities.readEnvironmentState, { appName: 'example-app', env: 'dev' });
    const state = await read;
    expect(state.sync).toEqual({ status: 'Synced', revision: before.sync.revision });
    expect(state.health.status).toBe('Healthy');
    expect(unsettledReason(state, mergeSha)).toMatch(/^synced revision is /);

    const input = { appName: 'example-app', env: 'dev' as const, revision: mergeSha, deadline: deadlineIn(1.5) };
    const run = runActivity(w.activities.awaitArgoSyncedAndHealthy, input);
    const failure = await failureOf(run.result);
    expect(failure.type).toBe('WaitTimeoutError');
    expect(failure.nonRetryable).toBe(true);
    expect(String(failure.facts['lastSeen'])).toMatch(
      new RegExp(`^synced revision is ${before.sync.revision!.slice(0, 8)}, not ${mergeSha.slice(0, 8)}`),
    );
    expect(run.heartbeats.length).toBeGreaterThan(0);
    expectNoSecret(w.token, input, failure, run.heartbeats);
  });

  it('requests one refresh when Argo CD has not reconciled since the sync finished, and settles only after it', async () => {
    w = await startKubeWorld({ timeScale: 1 });
    const store = w.d.world.cluster.store;
    const app = store.get<Application>(RESOURCES.applications, 'argocd', 'example-app-stage')!;
    const revision = app.status!.sync!.revision!;
    const finishedAt = app.status!.operationState!.finishedAt!;
    // The state right after a sync finished: health and sync already say "Healthy, Synced at R", but the last
    // reconciliation predates the end of the sync, so they may describe the cluster before it.
    store.mutate<Application>(RESOURCES.applications, 'argocd', 'example-app-stage', (a) => {
      a.status!.reconciledAt = new Date(Date.parse(finishedAt) - 60_000).toISOString();
    });

    const state = await runActivity(w.activities.readEnvironmentState, { appName: 'example-app', env: 'stage' }).result;
    expect(state).toMatchObject({
      sync: { status: 'Synced', revision },
      health: { status: 'Healthy' },
      operation: { phase: 'Succeeded', revision },
    });
    expect(unsettledReason(state, revision)).toBe('not reconciled since the sync finished');

    const run = runActivity(w.activities.awaitArgoSyncedAndHealthy, {
      appName: 'example-app',
      env: 'stage',
      revision,
      deadline: deadlineIn(20),
    });
    const result = await run.result;
    expect(result).toMatchObject({ attempt: 1, argoApp: 'example-app-stage', revision, refreshes: 1 });

    const after = await w.client.getApplication('argocd', 'example-app-stage');
    expect(Date.parse(after.reconciledAt!)).toBeGreaterThanOrEqual(Date.parse(after.operation!.finishedAt!));
    expect(after.refreshPending).toBe(false);
    expectNoSecret(w.token, result, run.heartbeats);
  });

  it('a retry carries the refresh count and the wait start of the attempt before it', async () => {
    w = await startKubeWorld({ timeScale: 1 });
    const app = await w.client.getApplication('argocd', 'example-app-prod');
    const revision = app.sync.revision!;
    const details = {
      wait: 'argo-synced-and-healthy',
      revision,
      startedAt: new Date(Date.now() - 600_000).toISOString(),
      refreshes: 2,
      refreshedFor: app.operation!.finishedAt,
    };
    const run = runActivity(
      w.activities.awaitArgoSyncedAndHealthy,
      { appName: 'example-app', env: 'prod', revision, deadline: deadlineIn(20) },
      { attempt: 3, heartbeatDetails: details },
    );
    const result = await run.result;
    expect(result).toMatchObject({ attempt: 3, refreshes: 2 });
    expect(run.heartbeats[0]).toMatchObject({ startedAt: details.startedAt, refreshes: 2 });
  });
});
