/**
 * Which pods verifyWorkload verifies (real-installations.md §7.1): those of the Deployment's current ReplicaSet,
 * found through its spec.selector and owner references, in the configured container; images pinned by digest.
 * Against the sandbox's `sibling-workload` installation, where a second Deployment's pods share `app=example-app`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { createKubernetesActivities } from '../../activities/kubernetes.js';
import { assessWorkload } from '../../activities/kubernetes/verify-workload.js';
import type { DeploymentView, PodView } from '../../src/clients/kubernetes/index.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import {
  deadlineIn,
  expectNoSecret,
  failureOf,
  runActivity,
  startKubeWorld,
  type KubeWorld,
} from './kubernetes-support.js';

const REPO = 'docker.jmann.local/p2c/example-app';
const DIGEST = `sha256:${'4f'.repeat(32)}`;

describe('verifyWorkload selects pods as Kubernetes does (sibling-workload installation)', () => {
  let w: KubeWorld;
  beforeAll(async () => {
    w = await startKubeWorld({ scenario: 'sibling-workload' });
  });
  afterAll(async () => {
    await w?.stop();
  });

  /** The activities with the workload settings changed (SHEPHERD_DEPLOYMENT, SHEPHERD_CONTAINER). */
  const withWorkload = (workload: PipelineLayout['workload']) =>
    createKubernetesActivities({ client: w.client, layout: { ...w.layout, workload }, pollIntervalMs: 50 });

  /**
   * Commits a change of the app's pod template to the environment's branch, as an operator would (Argo CD syncs
   * the branch and would undo a change made to the live Deployment), and waits until Argo CD applied it.
   */
  async function commitTemplate(
    env: 'dev' | 'stage' | 'prod',
    change: { image: string; terminationGracePeriodSeconds?: number },
  ): Promise<void> {
    const project = w.d.world.info.gitlab.deploymentsProject;
    const path = w.layout.gitlab.imageFiles.find((f) => f.endsWith('.yaml'))!;
    const raw = String(await w.d.gitlab.RepositoryFiles.showRaw(project, path, env));
    const [deployment, ...rest] = parseAllDocuments(raw).map((d) => d.toJS() as Record<string, unknown>);
    const spec = (deployment as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;
    (spec['containers'] as { image: string }[])[0]!.image = change.image;
    if (change.terminationGracePeriodSeconds !== undefined)
      spec['terminationGracePeriodSeconds'] = change.terminationGracePeriodSeconds;
    const content = [deployment, ...rest].map((doc) => stringify(doc)).join('---\n');
    const commit = await w.d.gitlab.Commits.create(project, env, `chore: ${change.image}`, [
      { action: 'update', filePath: path, content },
    ]);
    await w.d.awaitSyncedAndHealthy(env, commit.id);
  }

  const runningTag = async (env: 'dev' | 'stage' | 'prod'): Promise<string> =>
    (await runActivity(w.activities.readEnvironmentState, { appName: 'example-app', env }).result).imageTag!;

  it('verifies the pods of the current ReplicaSet, not every pod labelled app=<name>', async () => {
    const tag = await runningTag('stage');
    // The worker's pods carry app=example-app too, on another image and with other containers.
    const labelled = await w.client.listPods('stage', 'app=example-app');
    expect(labelled.filter((p) => p.name.startsWith('example-app-worker-'))).toHaveLength(2);
    const run = runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'stage',
      imageTag: tag,
      deadline: deadlineIn(30),
    });
    const result = await run.result;
    const dep = await w.client.readDeployment('stage', 'example-app');
    const [rs] = (await w.client.listReplicaSets('stage', 'app=example-app,deployment=example-app')).filter(
      (r) => r.ownerUid === dep.uid && r.revision === dep.revision,
    );
    expect(result.replicas).toBe(2);
    expect(result.pods).toHaveLength(2);
    for (const p of result.pods) {
      expect(p.name).toMatch(new RegExp(`^${rs!.name}-[a-z0-9]{5}$`));
      expect(p).toMatchObject({ imageTag: tag, ready: true });
    }
    expectNoSecret(w.token, result, run.heartbeats);
  });

  it('verifies a Deployment selected by matchExpressions in its configured container, and names the containers when the configured one is missing', async () => {
    // No container configured, none named like the app, two containers: nothing tells which one to verify.
    const unset = runActivity(withWorkload({ deployment: 'example-app-worker', container: undefined }).verifyWorkload, {
      appName: 'example-app',
      env: 'prod',
      imageTag: '2.4.1',
      deadline: deadlineIn(30),
    });
    const failure = await failureOf(unset.result);
    expect(failure.type).toBe('ValidationError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      'the Deployment prod/example-app-worker has no container "example-app" (its containers: worker, log-shipper): set SHEPHERD_CONTAINER to the app\'s container',
    );
    expect(failure.facts).toMatchObject({ field: 'SHEPHERD_CONTAINER' });

    const missing = runActivity(withWorkload({ deployment: 'example-app', container: 'app' }).verifyWorkload, {
      appName: 'example-app',
      env: 'prod',
      imageTag: await runningTag('prod'),
      deadline: deadlineIn(30),
    });
    expect((await failureOf(missing.result)).message).toContain('has no container "app" (its containers: example-app)');

    // Its selector is app=example-app, deployment=example-app-worker and component in (batch, worker).
    const worker = await runActivity(
      withWorkload({ deployment: 'example-app-worker', container: 'worker' }).verifyWorkload,
      { appName: 'example-app', env: 'prod', imageTag: '2.4.1', deadline: deadlineIn(30) },
    ).result;
    expect(worker.pods).toHaveLength(3);
    expect(worker.pods.every((p) => p.name.startsWith('example-app-worker-') && p.imageTag === '2.4.1')).toBe(true);
  });

  it("ignores the old ReplicaSet's pods during a rollout: pods still Terminating are not the app's", async () => {
    // The pods of this template take an hour (36 s at this time scale) to shut down once replaced.
    const draining = `1.0.98-SNAPSHOT-dddd111`;
    await commitTemplate('dev', { image: `${REPO}:${draining}`, terminationGracePeriodSeconds: 3600 });
    await runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'dev',
      imageTag: draining,
      deadline: deadlineIn(30),
    }).result;

    const next = '1.0.99-SNAPSHOT-eeee222';
    await commitTemplate('dev', { image: `${REPO}:${next}` });
    const result = await runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'dev',
      imageTag: next,
      deadline: deadlineIn(25),
    }).result;
    expect(result.pods.map((p) => p.imageTag)).toEqual([next]);
    // The replaced pod is still there, Terminating, labelled like the app's.
    const listed = await w.client.listPods('dev', 'app=example-app,deployment=example-app');
    expect(listed.filter((p) => p.terminating).map((p) => p.containers[0]!.image)).toEqual([`${REPO}:${draining}`]);
  }, 60_000);

  it('verifies an image pinned by digest, with or without its tag, against the pod spec and the pulled imageID', async () => {
    const tag = '1.0.97-SNAPSHOT-fff3333';
    await commitTemplate('stage', { image: `${REPO}:${tag}@${DIGEST}` });
    const pinned = await runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'stage',
      imageTag: tag,
      deadline: deadlineIn(30),
    }).result;
    expect(pinned.pods.map((p) => p.imageTag)).toEqual([tag, tag]);
    const pods = await w.client.listPods('stage', 'app=example-app,deployment=example-app');
    expect(pods.filter((p) => !p.terminating).map((p) => p.containers[0]!.imageID)).toEqual([
      `${REPO}@${DIGEST}`,
      `${REPO}@${DIGEST}`,
    ]);

    // Another tag than the pinned reference's is not verified.
    const wrong = runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'stage',
      imageTag: '1.0.96-SNAPSHOT-0000000',
      deadline: deadlineIn(1),
    });
    const failure = await failureOf(wrong.result);
    expect(failure.type).toBe('WaitTimeoutError');
    expect(failure.facts['lastSeen']).toBe(`the deployment's pod template runs ${tag}, not 1.0.96-SNAPSHOT-0000000`);

    // Pinned by digest alone (as Kustomize renders a digest): the digest is the version the pods must run.
    const other = `sha256:${'a1'.repeat(32)}`;
    await commitTemplate('stage', { image: `${REPO}@${other}` });
    const digestOnly = await runActivity(w.activities.verifyWorkload, {
      appName: 'example-app',
      env: 'stage',
      imageTag: tag,
      deadline: deadlineIn(30),
    }).result;
    expect(digestOnly.pods.map((p) => p.imageTag)).toEqual([other, other]);
  }, 90_000);
});

describe('the digest rule of verifyWorkload', () => {
  const target = { container: 'example-app', containerConfigured: false, namespace: 'prod', deployment: 'example-app' };
  const image = `${REPO}:1.0.37-b@${DIGEST}`;
  const deployment: DeploymentView = {
    name: 'example-app',
    uid: 'u1',
    generation: 3,
    selector: { matchLabels: { app: 'example-app' }, matchExpressions: [] },
    revision: 3,
    desiredReplicas: 1,
    paused: false,
    containers: [{ name: 'example-app', image }],
    status: {
      observedGeneration: 3,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      unavailableReplicas: 0,
    },
    conditions: [],
  };
  const pod = (imageID: string | undefined): PodView => ({
    name: 'example-app-abc-x1y2z',
    phase: 'Running',
    terminating: false,
    ready: true,
    containers: [{ name: 'example-app', image, imageID, ready: true, restartCount: 0 }],
  });

  it('does not verify a pod whose runtime pulled another digest than the pinned one', () => {
    const pulled = `sha256:${'0b'.repeat(32)}`;
    expect(assessWorkload(deployment, [pod(`docker-pullable://${REPO}@${pulled}`)], target, '1.0.37-b')).toEqual({
      ok: false,
      why: 'pods still on another image: example-app-abc-x1y2z (pulled sha256:0b0b0b0b0b0b, pinned sha256:4f4f4f4f4f4f)',
    });
    expect(assessWorkload(deployment, [pod(`docker-pullable://${REPO}@${DIGEST}`)], target, '1.0.37-b')).toMatchObject({
      ok: true,
    });
    // Before the image is pulled there is no imageID to compare; readiness decides.
    expect(assessWorkload(deployment, [pod(undefined)], target, '1.0.37-b')).toMatchObject({ ok: true });
  });
});
