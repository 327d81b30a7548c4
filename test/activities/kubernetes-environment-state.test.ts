import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesActivities } from '../../activities/kubernetes.js';
import { createKubernetesClient } from '../../src/clients/kubernetes/index.js';
import { isSyncedAndHealthyAt } from '../../src/domain/environment-state.js';
import { eventually } from '../support/eventually.js';
import { expectNoSecret, failureOf, runActivity, startKubeWorld, type KubeWorld } from './kubernetes-support.js';

describe('readEnvironmentState against the sandbox cluster', () => {
  let w: KubeWorld | undefined;
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  it('reports the image per container, the replicas and what Argo CD says about each environment', async () => {
    w = await startKubeWorld();
    const world = await w.d.state();
    for (const env of ['dev', 'stage', 'prod'] as const) {
      const { result } = runActivity(w.activities.readEnvironmentState, { appName: 'example-app', env });
      const state = await result;
      const image = world.environments[env]!.image!;
      expect(state).toMatchObject({
        attempt: 1,
        env,
        argoApp: `example-app-${env}`,
        imageTag: image.split(':').at(-1),
        containers: [{ name: 'example-app', image, imageTag: image.split(':').at(-1) }],
        sync: { status: 'Synced', revision: world.environments[env]!.revision },
        health: { status: 'Healthy' },
        operation: { phase: 'Succeeded', revision: world.environments[env]!.revision },
      });
      const replicas = { dev: 1, stage: 2, prod: 3 }[env];
      expect(state.replicas).toEqual({ desired: replicas, updated: replicas, ready: replicas, available: replicas });
      expect(isSyncedAndHealthyAt(state)).toBe(true);
      expectNoSecret(w.token, state);
    }
  });

  it('fails at once naming the Argo CD Application when it does not exist', async () => {
    w = await startKubeWorld();
    const layout = {
      ...w.layout,
      environments: {
        ...w.layout.environments,
        stage: { ...w.layout.environments.stage!, argoApp: 'example-app-staging' },
      },
    };
    const acts = createKubernetesActivities({ client: w.client, layout });
    const failure = await failureOf(
      runActivity(acts.readEnvironmentState, { appName: 'example-app', env: 'stage' }).result,
    );
    expect(failure.type).toBe('NotFoundError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toEqual({ system: 'argocd', kind: 'application', name: 'argocd/example-app-staging' });
    expect(failure.message).toContain('example-app-staging');
  });

  it('refuses bad input with a ValidationError naming the field', async () => {
    w = await startKubeWorld();
    const failure = await failureOf(
      runActivity(w.activities.readEnvironmentState, { appName: 'other-app', env: 'dev' }).result,
    );
    expect(failure.type).toBe('ValidationError');
    expect(failure.facts).toMatchObject({ field: 'appName' });
  });

  it('fails at once with an AuthenticationError that names KUBECONFIG, never the token', async () => {
    w = await startKubeWorld();
    const original = readFileSync(w.d.world.info.kubernetes.kubeconfig, 'utf8');
    const wrongToken = 'not-the-token-0123456789';
    const file = join(mkdtempSync(join(tmpdir(), 'shepherd-kube-')), 'kubeconfig');
    writeFileSync(file, original.replace(w.token, wrongToken));
    const acts = createKubernetesActivities({
      client: createKubernetesClient({ kubeconfigPath: file }),
      layout: w.layout,
    });
    const failure = await failureOf(
      runActivity(acts.readEnvironmentState, { appName: 'example-app', env: 'dev' }).result,
    );
    expect(failure.type).toBe('AuthenticationError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toEqual({ system: 'kubernetes', status: 401, credentialVariable: 'KUBECONFIG' });
    expect(failure.message).toContain('KUBECONFIG');
    expectNoSecret(wrongToken, failure);
    expectNoSecret(w.token, failure);
  });

  it('kubernetes-flaky: each 5xx or 429 fails the attempt with a retryable TransientError, and a later attempt recovers', async () => {
    w = await startKubeWorld({ scenario: 'kubernetes-flaky' });
    const failures = [];
    let attempt = 1;
    for (;;) {
      const { result } = runActivity(
        w.activities.readEnvironmentState,
        { appName: 'example-app', env: 'dev' },
        { attempt },
      );
      // Settle first, assert after: an assertion inside the try would be taken for a failed attempt.
      const settled = await result.then(
        (state) => ({ state }),
        () => ({ state: undefined }),
      );
      if (settled.state) {
        expect(settled.state.attempt).toBe(attempt);
        expect(settled.state.health.status).toBe('Healthy');
        expectNoSecret(w.token, settled.state);
        break;
      }
      failures.push(await failureOf(result));
      attempt += 1;
      expect(attempt).toBeLessThan(10);
    }
    expect(failures.map((f) => [f.type, f.nonRetryable, f.facts['status']])).toEqual([
      ['TransientError', false, 500],
      ['TransientError', false, 500],
      ['TransientError', false, 500],
      ['TransientError', false, 429],
      ['TransientError', false, 429],
    ]);
    // Retry-After travels as the next retry delay, so Temporal waits as long as the API asked.
    expect(failures[3]!.facts['retryAfterSeconds']).toBe(1);
    expect(failures[3]!.nextRetryDelay).toBeDefined();
    for (const f of failures) expectNoSecret(w.token, f);
  });

  it('an unreachable API server is a TransientError, and reads work again once it is back', async () => {
    w = await startKubeWorld({
      scenario: {
        name: 'kube-down-now',
        description: 'down at once for 1.5 s',
        http: [{ system: 'kubernetes', down: true, forMs: 1_500 }],
      },
    });
    const kube = w;
    const failure = await eventually(async () => {
      const { result } = runActivity(kube.activities.readEnvironmentState, { appName: 'example-app', env: 'prod' });
      return result.then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    }, 'a failed read while the API server is down');
    const typed = await failureOf(Promise.reject(failure));
    expect(typed.type).toBe('TransientError');
    expect(typed.nonRetryable).toBe(false);
    expect(typed.facts).toEqual({ system: 'kubernetes' });
    expectNoSecret(kube.token, typed);
    const state = await eventually(
      () =>
        runActivity(kube.activities.readEnvironmentState, { appName: 'example-app', env: 'prod' }).result.catch(
          () => undefined,
        ),
      'a read after the API server came back',
    );
    expect(state.sync.status).toBe('Synced');
  });
});
