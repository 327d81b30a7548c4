import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, until } from '../support/eventually.js';
import { ENVS, IMAGE_V1, IMAGE_V2, IMAGE_V3, startWorld, type TestWorld } from './kubernetes-fixture.js';

const GROUP = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'argocd', plural: 'applications' } as const;
const STAGE = ENVS[1]!;

interface AppStatus {
  status?: { health?: { status: string }; sync?: { status: string; revision?: string } };
}

async function stagePods(w: TestWorld): Promise<V1Pod[]> {
  // Pods still terminating (an old ReplicaSet's graceful shutdown) are leaving: only the live ones count.
  return (await w.core.listNamespacedPod({ namespace: 'stage', labelSelector: 'app=example-app' })).items.filter(
    (p) => !p.metadata?.deletionTimestamp,
  );
}

function imageOf(p: V1Pod): string | undefined {
  return p.spec?.containers[0]?.image;
}

function isReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

describe('pod faults in the simulated cluster', () => {
  let world: TestWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });

  it('crash-loops a new image in stage while the old pods keep serving, then a rollback comes up healthy', async () => {
    world = await startWorld({
      scenario: {
        name: 'stage-degraded',
        description: 'new images crash in stage',
        domain: [{ kind: 'pods-crashloop', env: 'stage', newImageOnly: true }],
      },
    });
    const w = world;
    w.git.commitImage(STAGE, IMAGE_V2);

    const crashing = await eventually(async () => {
      const pod = (await stagePods(w)).find((p) => imageOf(p) === IMAGE_V2);
      const cs = pod?.status?.containerStatuses?.[0];
      return cs && cs.restartCount >= 3 ? pod : undefined;
    }, 'restartCount to climb');
    const cs = crashing.status!.containerStatuses![0]!;
    expect(cs.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(cs.ready).toBe(false);
    expect(crashing.status?.phase).toBe('Running');
    const pods = await stagePods(w);
    expect(pods.filter((p) => imageOf(p) === IMAGE_V1 && isReady(p))).toHaveLength(2);
    expect(pods.filter((p) => imageOf(p) === IMAGE_V2)).toHaveLength(1);

    const degraded = await eventually(async () => {
      const app = (await w.co.getNamespacedCustomObject({ ...GROUP, name: 'example-app-stage' })) as AppStatus;
      return app.status?.health?.status === 'Degraded' ? app : undefined;
    }, 'Argo health Degraded');
    expect(degraded.status?.sync?.status).toBe('Synced');
    const dep = await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'stage' });
    expect(dep.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
    expect(dep.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');

    const rollback = w.git.commitImage(STAGE, IMAGE_V1);
    await until(async () => {
      const app = (await w.co.getNamespacedCustomObject({ ...GROUP, name: 'example-app-stage' })) as AppStatus;
      return (
        app.status?.sync?.revision === rollback &&
        app.status.sync.status === 'Synced' &&
        app.status.health?.status === 'Healthy'
      );
    }, 'rollback to be synced and healthy');
    const after = await stagePods(w);
    expect(after.map(imageOf)).toEqual([IMAGE_V1, IMAGE_V1]);
    expect(after.every(isReady)).toBe(true);
  });

  it('keeps new pods Pending in ErrImagePull, then ImagePullBackOff, with no imageID', async () => {
    world = await startWorld({
      scenario: { name: 'bad-registry', description: 'pull fails', domain: [{ kind: 'pods-imagepull', env: 'stage' }] },
    });
    const w = world;
    w.git.commitImage(STAGE, IMAGE_V2);
    const seen = new Set<string>();
    const backoff = await eventually(async () => {
      const pod = (await stagePods(w)).find((p) => imageOf(p) === IMAGE_V2);
      const reason = pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (reason) seen.add(reason);
      return reason === 'ImagePullBackOff' ? pod : undefined;
    }, 'ImagePullBackOff');
    expect(backoff.status?.phase).toBe('Pending');
    expect(backoff.status?.containerStatuses?.[0]).toMatchObject({ imageID: '', ready: false, started: false });
    expect(backoff.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe(
      `Back-off pulling image "${IMAGE_V2}"`,
    );
    expect((await stagePods(w)).filter((p) => imageOf(p) === IMAGE_V1 && isReady(p))).toHaveLength(2);
  });

  it('runs new pods that never pass readiness under app-degraded, ending in ProgressDeadlineExceeded', async () => {
    world = await startWorld({
      scenario: { name: 'degraded', description: 'readiness fails', domain: [{ kind: 'app-degraded', env: 'stage' }] },
    });
    const w = world;
    w.git.commitImage(STAGE, IMAGE_V3);
    const dep = await eventually(async () => {
      const d = await w.apps.readNamespacedDeployment({ name: 'example-app', namespace: 'stage' });
      return d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason === 'ProgressDeadlineExceeded'
        ? d
        : undefined;
    }, 'ProgressDeadlineExceeded');
    expect(dep.status).toMatchObject({
      replicas: 3,
      updatedReplicas: 1,
      readyReplicas: 2,
      availableReplicas: 2,
      unavailableReplicas: 1,
    });
    const pod = (await stagePods(w)).find((p) => imageOf(p) === IMAGE_V3)!;
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: false, started: true, restartCount: 0 });
    expect(pod.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
    });
  });

  it('leaves other environments healthy when a fault is limited to one', async () => {
    world = await startWorld({
      scenario: { name: 'stage-only', description: 'x', domain: [{ kind: 'pods-crashloop', env: 'stage' }] },
    });
    const w = world;
    const sha = w.git.commitImage(ENVS[0]!, IMAGE_V2);
    await until(async () => {
      const app = (await w.co.getNamespacedCustomObject({ ...GROUP, name: 'example-app-dev' })) as AppStatus;
      return app.status?.sync?.revision === sha && app.status.health?.status === 'Healthy';
    }, 'dev healthy on the new image');
  });
});
