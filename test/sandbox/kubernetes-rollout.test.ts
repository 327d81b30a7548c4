import { Watch, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, until } from '../support/eventually.js';
import { ENVS, IMAGE_V1, IMAGE_V2, startWorld, type TestWorld } from './kubernetes-fixture.js';

const STAGE = ENVS[1]!;

describe('Deployment rollouts in the simulated cluster', () => {
  let world: TestWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });

  it('rolls pods over one at a time, never below the desired ready count, and ends on the new image', async () => {
    world = await startWorld({ timeScale: 0.002 });
    const w = world;
    const deployments: V1Deployment[] = [];
    const livePods = new Map<string, V1Pod>();
    const podCounts: { total: number; ready: number }[] = [];
    const depWatch = await new Watch(w.kc).watch(
      '/apis/apps/v1/namespaces/stage/deployments',
      {},
      (_t, obj) => deployments.push(obj as V1Deployment),
      () => {},
    );
    const podWatch = await new Watch(w.kc).watch(
      '/api/v1/namespaces/stage/pods',
      {},
      (type, obj) => {
        const pod = obj as V1Pod;
        // A pod the ReplicaSet scaled down stays Terminating for its grace period; maxSurge bounds the others.
        if (type === 'DELETED' || pod.metadata?.deletionTimestamp) livePods.delete(pod.metadata!.name!);
        else livePods.set(pod.metadata!.name!, pod);
        const pods = [...livePods.values()];
        podCounts.push({
          total: pods.length,
          ready: pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
            .length,
        });
      },
      () => {},
    );
    await until(() => livePods.size === 2, 'initial pods');

    w.git.commitImage(STAGE, IMAGE_V2);

    const done = await eventually(async () => {
      const d = await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'stage' });
      const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
      return d.spec?.template.spec?.containers[0]?.image === IMAGE_V2 &&
        c?.reason === 'NewReplicaSetAvailable' &&
        d.status?.observedGeneration === d.metadata?.generation
        ? d
        : undefined;
    }, 'rollout to complete');
    depWatch.abort();
    podWatch.abort();

    expect(done.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(done.status?.unavailableReplicas).toBeUndefined();
    const listed = await w.core.listNamespacedPod({ namespace: 'stage', labelSelector: 'app=example-app' });
    const pods = { items: listed.items.filter((p) => !p.metadata?.deletionTimestamp) };
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(p.spec?.containers[0]?.image).toBe(IMAGE_V2);
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ image: IMAGE_V2, ready: true, started: true });
    }
    // maxSurge 1, maxUnavailable 0: at most 3 pods, and never fewer than 2 ready once the rollout started.
    expect(Math.max(...podCounts.map((c) => c.total))).toBe(3);
    expect(
      Math.min(...podCounts.slice(podCounts.findIndex((c) => c.total === 3)).map((c) => c.ready)),
    ).toBeGreaterThanOrEqual(2);
    // The controller observed the new generation after the spec changed, and reported progress in between.
    const reasons = deployments.map((d) => d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason);
    expect(reasons).toContain('NewReplicaSetCreated');
    expect(deployments.some((d) => (d.metadata?.generation ?? 0) > (d.status?.observedGeneration ?? 0))).toBe(true);
    const mid = deployments.find((d) => d.status?.updatedReplicas === 1);
    expect(mid?.status?.replicas).toBe(3);
    const rs = await w.apps.listNamespacedReplicaSet({ namespace: 'stage' });
    expect(rs.items.map((r) => [r.spec?.template?.spec?.containers[0]?.image, r.spec?.replicas]).sort()).toEqual([
      [IMAGE_V1, 0],
      [IMAGE_V2, 2],
    ]);
  });

  it('shows new pods Pending with an empty imageID before they are pulled and started', async () => {
    // A pod stays Pending for podStart × timeScale: 1 s here, so that a loaded machine still sees it.
    world = await startWorld({ timeScale: 0.05 });
    const w = world;
    w.git.commitImage(ENVS[0]!, IMAGE_V2);
    const pending = await eventually(async () => {
      const pods = await w.core.listNamespacedPod({ namespace: 'dev' });
      return pods.items.find((p) => p.spec?.containers[0]?.image === IMAGE_V2 && p.status?.phase === 'Pending');
    }, 'a pending new pod');
    expect(pending.status?.containerStatuses?.[0]).toMatchObject({
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    });
    expect(pending.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });
});
