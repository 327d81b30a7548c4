/**
 * awaitArgoSyncedAndHealthy and verifyWorkload after real merges in the sandbox world (bump → CI → dev MR → merge,
 * then the promote job for stage and prod), in the happy path and under the fault scenarios that concern them.
 */
import { CancelledFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deadlineIn,
  expectNoSecret,
  failureOf,
  mergeNewVersionToDev,
  mergePromotion,
  runActivity,
  startKubeWorld,
  type KubeWorld,
} from './kubernetes-support.js';

describe('awaitArgoSyncedAndHealthy and verifyWorkload after a real merge', () => {
  let w: KubeWorld | undefined;
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  it('waits from the merge until Argo CD has synced the merge commit and the new pods run, then verifies them', async () => {
    w = await startKubeWorld();
    const { tag, image, mergeSha } = await mergeNewVersionToDev(w.d);
    const input = { appName: 'example-app', env: 'dev' as const, revision: mergeSha, deadline: deadlineIn(60) };

    const run = runActivity(w.activities.awaitArgoSyncedAndHealthy, input);
    const result = await run.result;
    expect(result).toMatchObject({ attempt: 1, argoApp: 'example-app-dev', revision: mergeSha });
    const app = await w.client.getApplication('argocd', 'example-app-dev');
    expect(app.sync).toEqual({ status: 'Synced', revision: mergeSha });
    expect(app.operation).toMatchObject({ phase: 'Succeeded', revision: mergeSha });
    expect(app.health.status).toBe('Healthy');
    // Healthy at the merge commit means the Deployment rolled out: the pods that serve run the new image.
    expect(await w.d.readyPodImages('dev')).toEqual([image]);

    const verify = runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'dev',
      imageTag: tag,
      deadline: deadlineIn(30),
    });
    const verified = await verify.result;
    expect(verified.replicas).toBe(1);
    expect(verified.pods).toEqual([expect.objectContaining({ imageTag: tag, ready: true, restarts: 0 })]);
    expectNoSecret(w.token, input, result, run.heartbeats, verified, verify.heartbeats);
  });

  it('a retry after the worker died mid-wait resumes from the heartbeat details instead of starting over', async () => {
    w = await startKubeWorld();
    const { mergeSha } = await mergeNewVersionToDev(w.d);
    const input = { appName: 'example-app', env: 'dev' as const, revision: mergeSha, deadline: deadlineIn(60) };

    const first = runActivity(w.activities.awaitArgoSyncedAndHealthy, input);
    const firstOutcome = first.result.then(
      () => 'settled',
      (err: unknown) => err,
    );
    await new Promise<void>((resolve) => first.env.once('heartbeat', () => resolve()));
    first.env.cancel();
    const outcome = await firstOutcome;
    if (outcome !== 'settled') expect(outcome).toBeInstanceOf(CancelledFailure);
    const details = first.heartbeats.at(-1) as { startedAt: string; refreshes: number; revision: string };
    expect(details).toMatchObject({ revision: mergeSha, startedAt: expect.any(String) });

    const second = runActivity(w.activities.awaitArgoSyncedAndHealthy, input, {
      attempt: 2,
      heartbeatDetails: details,
    });
    const result = await second.result;
    expect(result.attempt).toBe(2);
    expect(result.refreshes).toBeGreaterThanOrEqual(details.refreshes);
    expect(second.heartbeats[0]).toMatchObject({ startedAt: details.startedAt });
  });

  it('stage-degraded: ends with AppDegradedError (CrashLoopBackOff, pods listed) after the grace period, not at the deadline', async () => {
    w = await startKubeWorld({ scenario: 'stage-degraded' });
    const { tag, mergeSha: devMerge } = await mergeNewVersionToDev(w.d);
    await w.d.awaitSyncedAndHealthy('dev', devMerge);
    const stageMerge = await mergePromotion(w.d, 'dev', 'stage', tag);

    const run = runActivity(w.activities.awaitArgoSyncedAndHealthy, {
      appName: 'example-app',
      env: 'stage',
      revision: stageMerge,
      deadline: deadlineIn(100),
    });
    const failure = await failureOf(run.result);
    expect(failure.type).toBe('AppDegradedError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toMatchObject({ env: 'stage', argoApp: 'example-app-stage', reason: 'CrashLoopBackOff' });
    const pods = failure.facts['pods'] as { name: string; reason?: string; restarts: number }[];
    expect(pods.length).toBeGreaterThan(0);
    const live = (await w.d.state()).environments.stage!.pods as unknown as { name: string }[];
    for (const p of pods) {
      expect(p.reason).toBe('CrashLoopBackOff');
      expect(p.restarts).toBeGreaterThan(0);
      expect(live.map((l) => l.name)).toContain(p.name);
    }
    expect(failure.message).toContain(pods[0]!.name);
    // The first sight of crashing pods started the grace period instead of failing at once.
    expect(run.heartbeats.some((h) => typeof (h as { unhealthySince?: string }).unhealthySince === 'string')).toBe(
      true,
    );
    expectNoSecret(w.token, failure, run.heartbeats);
  });

  it('prod-image-pull: ends with AppDegradedError ImagePullBackOff/ErrImagePull naming the pods', async () => {
    w = await startKubeWorld({ scenario: 'prod-image-pull' });
    const { tag, mergeSha: devMerge } = await mergeNewVersionToDev(w.d);
    await w.d.awaitSyncedAndHealthy('dev', devMerge);
    const stageMerge = await mergePromotion(w.d, 'dev', 'stage', tag);
    await w.d.awaitSyncedAndHealthy('stage', stageMerge);
    const prodMerge = await mergePromotion(w.d, 'stage', 'prod', tag);

    const failure = await failureOf(
      runActivity(w.activities.awaitArgoSyncedAndHealthy, {
        appName: 'example-app',
        env: 'prod',
        revision: prodMerge,
        deadline: deadlineIn(100),
      }).result,
    );
    expect(failure.type).toBe('AppDegradedError');
    expect(failure.facts).toMatchObject({ env: 'prod', argoApp: 'example-app-prod' });
    expect(['ImagePullBackOff', 'ErrImagePull']).toContain(failure.facts['reason']);
    const pods = failure.facts['pods'] as { name: string; reason?: string }[];
    expect(pods.length).toBeGreaterThan(0);
    for (const p of pods) expect(['ImagePullBackOff', 'ErrImagePull']).toContain(p.reason);

    // verifyWorkload reaches the same verdict from the pods themselves.
    const verify = await failureOf(
      runActivity(w.activities.verifyWorkload, {
        appName: 'example-app',
        env: 'prod',
        imageTag: tag,
        deadline: deadlineIn(100),
      }).result,
    );
    expect(verify.type).toBe('AppDegradedError');
    expect(['ImagePullBackOff', 'ErrImagePull']).toContain(verify.facts['reason']);
    expectNoSecret(w.token, failure, verify);
  });

  it("stage-sync-fails: ends with a non-retryable SyncFailedError carrying Argo CD's message", async () => {
    w = await startKubeWorld({ scenario: 'stage-sync-fails' });
    const { tag, mergeSha: devMerge } = await mergeNewVersionToDev(w.d);
    await w.d.awaitSyncedAndHealthy('dev', devMerge);
    const stageMerge = await mergePromotion(w.d, 'dev', 'stage', tag);

    const failure = await failureOf(
      runActivity(w.activities.awaitArgoSyncedAndHealthy, {
        appName: 'example-app',
        env: 'stage',
        revision: stageMerge,
        deadline: deadlineIn(100),
      }).result,
    );
    expect(failure.type).toBe('SyncFailedError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toMatchObject({ argoApp: 'example-app-stage', revision: stageMerge, phase: 'Failed' });
    expect(String(failure.facts['detail'])).toContain('admission webhook');
    expect(failure.message).toContain('admission webhook');
  });

  it('stage-sync-hangs: ends with WaitTimeoutError at the deadline, saying the sync is still running', async () => {
    w = await startKubeWorld({ scenario: 'stage-sync-hangs' });
    const { tag, mergeSha: devMerge } = await mergeNewVersionToDev(w.d);
    await w.d.awaitSyncedAndHealthy('dev', devMerge);
    const stageMerge = await mergePromotion(w.d, 'dev', 'stage', tag);

    const run = runActivity(w.activities.awaitArgoSyncedAndHealthy, {
      appName: 'example-app',
      env: 'stage',
      revision: stageMerge,
      deadline: deadlineIn(3),
    });
    const failure = await failureOf(run.result);
    expect(failure.type).toBe('WaitTimeoutError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts['waitingFor']).toContain('example-app-stage');
    expect(failure.facts['lastSeen']).toMatch(/sync operation (is )?Running/);
    // The old pods are still Healthy meanwhile: that was never taken for success.
    expect((await w.d.state()).environments.stage!.health).toBe('Healthy');
  });
});
