/**
 * Turning what the cluster says into Shepherd's vocabulary: the environment state of the contract, and the pods
 * in trouble (crashing or unable to pull their image).
 */
import type { ApplicationView, DeploymentView, PodView } from '../../src/clients/kubernetes/index.js';
import type { EnvironmentState } from '../../src/domain/activities.js';
import { AppDegradedError, type ErrorFacts } from '../../src/domain/errors.js';
import { imageTagOf } from '../../src/domain/image-reference.js';
import { appContainer, type EnvironmentTarget } from './common.js';

export function toEnvironmentState(
  target: EnvironmentTarget,
  deployment: DeploymentView | undefined,
  app: ApplicationView,
  attempt: number,
): EnvironmentState {
  const containers = (deployment?.containers ?? []).map((c) => ({
    name: c.name,
    image: c.image,
    imageTag: imageTagOf(c.image),
  }));
  const op = app.operation;
  return {
    attempt,
    env: target.env,
    argoApp: target.argoApp,
    imageTag: appContainer(containers, target.container)?.imageTag,
    containers,
    replicas: {
      desired: deployment?.desiredReplicas ?? 0,
      updated: deployment?.status.updatedReplicas ?? 0,
      ready: deployment?.status.readyReplicas ?? 0,
      available: deployment?.status.availableReplicas ?? 0,
    },
    sync: { status: app.sync.status, revision: app.sync.revision },
    health: { status: app.health.status, ...(app.health.message !== undefined ? { message: app.health.message } : {}) },
    operation: op
      ? {
          phase: op.phase,
          revision: op.revision ?? '',
          ...(op.finishedAt !== undefined ? { finishedAt: op.finishedAt } : {}),
        }
      : undefined,
    reconciledAt: app.reconciledAt,
  };
}

export type TroubleReason = 'CrashLoopBackOff' | 'ImagePullBackOff' | 'ErrImagePull';
export type TroubledPod = ErrorFacts['AppDegradedError']['pods'][number];

const WAITING_TROUBLES: readonly string[] = ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull'];

/**
 * Pods whose app container is crash-looping or cannot pull its image. Besides the waiting reasons, a container
 * that crashed more than once and has not been ready since counts as crash-looping: between two back-offs it is
 * briefly `running` again. One crash alone does not count (a pod may crash once while starting).
 */
export function troubledPods(
  pods: readonly PodView[],
  appName: string,
): { reason: TroubleReason; pods: TroubledPod[] } | undefined {
  const found: (TroubledPod & { reason: TroubleReason })[] = [];
  for (const pod of pods) {
    if (pod.terminating) continue;
    const c = appContainer(pod.containers, appName);
    if (!c) continue;
    let reason: TroubleReason | undefined;
    if (c.waitingReason !== undefined && WAITING_TROUBLES.includes(c.waitingReason))
      reason = c.waitingReason as TroubleReason;
    else if (!c.ready && c.restartCount >= 2 && c.lastTerminationReason !== undefined) reason = 'CrashLoopBackOff';
    if (reason) found.push({ name: pod.name, reason, restarts: c.restartCount });
  }
  if (found.length === 0) return undefined;
  // An image that cannot be pulled explains everything else; report it first.
  const reason: TroubleReason = found.some((p) => p.reason === 'ImagePullBackOff')
    ? 'ImagePullBackOff'
    : found.some((p) => p.reason === 'ErrImagePull')
      ? 'ErrImagePull'
      : 'CrashLoopBackOff';
  return { reason, pods: found };
}

/** Pods of the app whose app container runs `imageTag` (`undefined`: every pod). */
export function podsRunning(pods: readonly PodView[], appName: string, imageTag: string | undefined): PodView[] {
  if (imageTag === undefined) return [...pods];
  return pods.filter((p) => {
    const c = appContainer(p.containers, appName);
    return c !== undefined && imageTagOf(c.image) === imageTag;
  });
}

/** Whether the Deployment's `Progressing` condition says the rollout exceeded its progress deadline. */
export function progressDeadlineExceeded(deployment: DeploymentView | undefined): boolean {
  return (
    deployment?.conditions.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded') ?? false
  );
}

/**
 * Keeps the time since when the app has looked unhealthy (`unhealthySince`, cleared once it no longer does) and
 * throws AppDegradedError once that lasted the grace period: a crash or pull failure that outlasts it is not a
 * rollout's passing hiccup.
 */
export function trackUnhealthy<P extends { readonly unhealthySince?: string | undefined }>(
  progress: P,
  trouble: Pick<ErrorFacts['AppDegradedError'], 'reason' | 'pods'> | undefined,
  at: number,
  target: EnvironmentTarget,
  graceSeconds: number,
): P {
  if (!trouble) {
    if (progress.unhealthySince === undefined) return progress;
    const { unhealthySince: _cleared, ...rest } = progress;
    return rest as P;
  }
  const since = progress.unhealthySince ?? new Date(at).toISOString();
  if (at - Date.parse(since) >= graceSeconds * 1000)
    throw new AppDegradedError({ env: target.env, argoApp: target.argoApp, ...trouble });
  return { ...progress, unhealthySince: since };
}
