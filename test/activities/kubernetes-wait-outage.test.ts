import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/domain/errors.js';
import {
  deadlineIn,
  expectNoSecret,
  failureOf,
  runActivity,
  startKubeWorld,
  type KubeWorld,
} from './kubernetes-support.js';

/**
 * The cluster waits while the Kubernetes API server is down: a look it cannot answer saw nothing, so a short outage
 * is ridden out within the attempt and a long one ends the wait at its deadline with WaitTimeoutError naming the
 * Kubernetes API, instead of a TransientError that the retry policy would repeat long past the deadline.
 */
describe('awaitArgoSyncedAndHealthy and verifyWorkload through a Kubernetes API outage', () => {
  let w: KubeWorld;
  let revision: string;
  let imageTag: string;

  beforeAll(async () => {
    w = await startKubeWorld();
    // prod starts synced and healthy: a wait for its current revision and tag settles as soon as it can look.
    const state = await runActivity(w.activities.readEnvironmentState, { appName: 'example-app', env: 'prod' }).result;
    revision = state.sync.revision!;
    imageTag = state.imageTag!;
  });
  afterAll(async () => {
    await w?.stop();
  });

  /** Takes the API server off the network for `forMs` and returns once connections are really refused. */
  async function apiDown(forMs: number): Promise<void> {
    await w.d.world.setScenario({
      name: 'kube-down',
      description: `API server down for ${forMs} ms`,
      http: [{ system: 'kubernetes', down: true, afterMs: 0, forMs }],
    });
    for (let i = 0; i < 200; i++) {
      try {
        await w.client.getApplication(w.layout.argocdNamespace, w.layout.environments.prod!.argoApp);
      } catch (err) {
        if (err instanceof TransientError) return;
        throw err;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the API server never went down');
  }

  const unreachable = expect.stringMatching(
    /^the Kubernetes API unreachable: Kubernetes API unreachable while trying to /,
  );

  /** The two cluster waits, each started against prod with a deadline `seconds` away. */
  const waits = [
    {
      name: 'awaitArgoSyncedAndHealthy',
      start: (seconds: number) =>
        runActivity(w.activities.awaitArgoSyncedAndHealthy, {
          appName: 'example-app',
          env: 'prod',
          revision,
          deadline: deadlineIn(seconds),
        }),
      /** What its heartbeats carry besides `lastSeen`. */
      marker: () => ({ revision }),
      /** What its result says once it settled. */
      settled: () => ({ attempt: 1, revision }),
      waitingFor: /^gave up waiting for Argo CD example-app-prod synced and healthy at \w{8} after \d+s /,
    },
    {
      name: 'verifyWorkload',
      start: (seconds: number) =>
        runActivity(w.activities.verifyWorkload, {
          appName: 'example-app',
          env: 'prod',
          imageTag,
          deadline: deadlineIn(seconds),
        }),
      marker: () => ({ imageTag }),
      settled: () => ({ attempt: 1, pods: expect.arrayContaining([expect.objectContaining({ imageTag })]) }),
      waitingFor: /^gave up waiting for example-app in prod running \S+ and stable after \d+s /,
    },
  ];

  describe.each(waits)('$name', (wait) => {
    it('rides out an outage shorter than its deadline, noting it in its heartbeats, and ends in one attempt', async () => {
      await apiDown(1_500);
      try {
        const run = wait.start(30);
        const result = await run.result;
        expect(result).toMatchObject(wait.settled());
        expect(run.heartbeats).toContainEqual(expect.objectContaining({ ...wait.marker(), lastSeen: unreachable }));
        expectNoSecret(w.token, result, run.heartbeats);
      } finally {
        await w.d.world.setScenario(undefined);
      }
    });

    it('ends at its deadline with a non-retryable WaitTimeoutError naming the Kubernetes API when the outage outlasts it', async () => {
      await apiDown(120_000);
      try {
        const run = wait.start(2);
        const failure = await failureOf(run.result);
        expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
        expect(failure.message).toMatch(wait.waitingFor);
        expect(failure.message).toMatch(/\(last seen: the Kubernetes API unreachable: /);
        expect(failure.facts).toMatchObject({ lastSeen: unreachable });
        expectNoSecret(w.token, failure, run.heartbeats);
      } finally {
        await w.d.world.setScenario(undefined);
      }
    });
  });
});
