import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesActivities } from '../../activities/kubernetes.js';
import { assessWorkload } from '../../activities/kubernetes/verify-workload.js';
import type { DeploymentView, PodView } from '../../src/clients/kubernetes/index.js';
import {
  deadlineIn,
  expectNoSecret,
  failureOf,
  mergeNewVersionToDev,
  runActivity,
  startKubeWorld,
  type KubeWorld,
} from './kubernetes-support.js';

const IMAGE = (tag: string) => `docker.jmann.local/p2c/example-app:${tag}`;
/** The container choice of the seed's installation: the one named like the app. */
const TARGET = { container: 'example-app', containerConfigured: false, namespace: 'dev', deployment: 'example-app' };

function deployment(tag: string, counts: Partial<DeploymentView['status']> = {}): DeploymentView {
  return {
    name: 'example-app',
    uid: 'dep-uid',
    generation: 2,
    selector: { matchLabels: { app: 'example-app' }, matchExpressions: [] },
    revision: 2,
    desiredReplicas: 1,
    paused: false,
    containers: [{ name: 'example-app', image: IMAGE(tag) }],
    status: {
      observedGeneration: 2,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      unavailableReplicas: 0,
      ...counts,
    },
    conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
  };
}

function pod(name: string, tag: string, ready = true, restartCount = 0): PodView {
  return {
    name,
    phase: 'Running',
    terminating: false,
    ready,
    containers: [{ name: 'example-app', image: IMAGE(tag), ready, restartCount }],
  };
}

describe('the workload rule of verifyWorkload', () => {
  it('does not count an old Running pod on the previous image as success, even when the counts look rolled out', () => {
    const verdict = assessWorkload(
      deployment('1.0.37-b'),
      [pod('example-app-new-abcde', '1.0.37-b'), pod('example-app-old-fghij', '1.0.36-a')],
      TARGET,
      '1.0.37-b',
    );
    expect(verdict).toEqual({ ok: false, why: 'pods still on another image: example-app-old-fghij (1.0.36-a)' });
  });

  it('follows kubectl rollout status: unobserved generation, pending old replicas and unavailable replicas are not done', () => {
    const pods = [pod('p1', '1.0.37-b')];
    expect(assessWorkload({ ...deployment('1.0.37-b'), generation: 3 }, pods, TARGET, '1.0.37-b')).toMatchObject({
      ok: false,
      why: expect.stringContaining('spec update'),
    });
    expect(assessWorkload(deployment('1.0.37-b', { replicas: 2 }), pods, TARGET, '1.0.37-b')).toMatchObject({
      ok: false,
      why: '1 old replicas pending termination',
    });
    expect(assessWorkload(deployment('1.0.37-b', { availableReplicas: 0 }), pods, TARGET, '1.0.37-b')).toMatchObject({
      ok: false,
      why: '0 of 1 updated replicas available',
    });
    expect(assessWorkload(deployment('1.0.37-b'), [pod('p1', '1.0.37-b', false)], TARGET, '1.0.37-b')).toMatchObject({
      ok: false,
      why: 'pods not ready: p1',
    });
    expect(assessWorkload(deployment('1.0.37-b'), pods, TARGET, '1.0.37-b')).toEqual({
      ok: true,
      pods: [{ name: 'p1', imageTag: '1.0.37-b', ready: true, restarts: 0 }],
    });
  });
});

describe('verifyWorkload against the sandbox cluster', () => {
  let w: KubeWorld | undefined;
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  it('refuses while the old pod still runs the previous image during a rollout', async () => {
    // Real speed: a new pod takes 20 s to become ready, so the old one keeps serving throughout this test.
    w = await startKubeWorld({ timeScale: 1 });
    const before = await runActivity(w.activities.readEnvironmentState, { appName: 'example-app', env: 'dev' }).result;
    const newTag = '1.0.99-SNAPSHOT-abc1234';
    await w.d.apps.patchNamespacedDeployment(
      {
        namespace: 'dev',
        name: 'example-app',
        body: { spec: { template: { spec: { containers: [{ name: 'example-app', image: IMAGE(newTag) }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const run = runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'dev',
      imageTag: newTag,
      deadline: deadlineIn(1.5),
    });
    const failure = await failureOf(run.result);
    expect(failure.type).toBe('WaitTimeoutError');
    expect(String(failure.facts['lastSeen'])).toMatch(
      /old replicas pending termination|another image|updated replicas available/,
    );
    const ready = await w.d.readyPodImages('dev');
    expect(ready).toEqual([IMAGE(before.imageTag!)]);
    expectNoSecret(w.token, failure, run.heartbeats);
  });

  it('dev-not-ready: new pods that never become Ready end in AppDegradedError (ProgressDeadlineExceeded), never success', async () => {
    w = await startKubeWorld({ scenario: 'dev-not-ready' });
    const { tag } = await mergeNewVersionToDev(w.d);
    const run = runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'dev',
      imageTag: tag,
      deadline: deadlineIn(100),
    });
    const failure = await failureOf(run.result);
    expect(failure.type).toBe('AppDegradedError');
    expect(failure.facts).toMatchObject({ env: 'dev', reason: 'ProgressDeadlineExceeded' });
    expect((failure.facts['pods'] as { reason?: string }[]).every((p) => p.reason === 'NotReady')).toBe(true);
    // The previous pod kept serving meanwhile; it never counted as the new version being up.
    expect((await w.d.readyPodImages('dev')).some((image) => !image.endsWith(tag))).toBe(true);
  });

  it('a retry resumes the stability window from the heartbeat details, and restarts since then reopen it', async () => {
    w = await startKubeWorld({ layout: { stabilitySeconds: 3600 } });
    const state = await runActivity(w.activities.readEnvironmentState, { appName: 'example-app', env: 'stage' }).result;
    const tag = state.imageTag!;
    const pods = await w.client.listPods('stage', 'app=example-app');
    const input = { appName: 'example-app', env: 'stage' as const, imageTag: tag, deadline: deadlineIn(1) };

    // A first attempt would need an hour of stability.
    const fresh = await failureOf(runActivity(w.activities.verifyWorkload, input).result);
    expect(fresh.type).toBe('WaitTimeoutError');
    expect(String(fresh.facts['lastSeen'])).toMatch(/stab/);

    const stableSince = new Date(Date.now() - 2 * 3600_000).toISOString();
    const restarts = Object.fromEntries(pods.map((p) => [p.name, p.containers[0]!.restartCount]));
    const resumed = runActivity(w.activities.verifyWorkload, input, {
      attempt: 2,
      heartbeatDetails: { wait: 'workload', imageTag: tag, startedAt: stableSince, stableSince, restarts },
    });
    const result = await resumed.result;
    expect(result).toMatchObject({ attempt: 2, replicas: 2 });
    expect(result.pods.map((p) => p.name).sort()).toEqual(pods.map((p) => p.name).sort());

    const restartedMeanwhile = Object.fromEntries(pods.map((p) => [p.name, p.containers[0]!.restartCount + 1]));
    const reopened = await failureOf(
      runActivity(
        w.activities.verifyWorkload,
        { ...input, deadline: deadlineIn(1) },
        {
          attempt: 3,
          heartbeatDetails: {
            wait: 'workload',
            imageTag: tag,
            startedAt: stableSince,
            stableSince,
            restarts: restartedMeanwhile,
          },
        },
      ).result,
    );
    expect(reopened.type).toBe('WaitTimeoutError');
  });

  it('refuses an unknown environment or an empty tag before touching the cluster', async () => {
    w = await startKubeWorld();
    const acts = createKubernetesActivities({ client: w.client, layout: w.layout });
    const badEnv = await failureOf(
      runActivity(acts.verifyWorkload, {
        appName: 'example-app',
        env: 'qa' as 'dev',
        imageTag: 'x',
        deadline: deadlineIn(1),
      }).result,
    );
    expect(badEnv.facts).toMatchObject({ field: 'env' });
    const badTag = await failureOf(
      runActivity(acts.verifyWorkload, { appName: 'example-app', env: 'dev', imageTag: '', deadline: deadlineIn(1) })
        .result,
    );
    expect(badTag.facts).toMatchObject({ field: 'imageTag' });
    const badDeadline = await failureOf(
      runActivity(acts.verifyWorkload, { appName: 'example-app', env: 'dev', imageTag: 'x', deadline: 'tomorrow' })
        .result,
    );
    expect(badDeadline.facts).toMatchObject({ field: 'deadline' });
  });
});
