/**
 * Resource health as Argo CD assesses it. A Deployment follows `kubectl rollout status`
 * (gitops-engine's health_deployment mirrors it).
 */
import { count, type Deployment } from '../kubernetes/objects.js';

export const HEALTH_STATUSES = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface Health {
  status: HealthStatus;
  message?: string;
}

/** Health of a live Deployment; `Missing` when it does not exist. */
export function deploymentHealth(dep: Deployment | undefined): Health {
  if (!dep) return { status: 'Missing' };
  if (dep.spec.paused) return { status: 'Suspended', message: 'Deployment is paused' };
  const st = dep.status ?? {};
  const desired = dep.spec.replicas ?? 1;
  if ((dep.metadata.generation ?? 0) > count(st.observedGeneration)) {
    return {
      status: 'Progressing',
      message: 'Waiting for rollout to finish: observed deployment generation less than desired generation',
    };
  }
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { status: 'Degraded', message: `Deployment "${dep.metadata.name}" exceeded its progress deadline` };
  }
  if (count(st.updatedReplicas) < desired) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${count(st.updatedReplicas)} out of ${desired} new replicas have been updated...`,
    };
  }
  if (count(st.replicas) > count(st.updatedReplicas)) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${count(st.replicas) - count(st.updatedReplicas)} old replicas are pending termination...`,
    };
  }
  if (count(st.availableReplicas) < count(st.updatedReplicas)) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${count(st.availableReplicas)} of ${count(st.updatedReplicas)} updated replicas are available...`,
    };
  }
  return { status: 'Healthy' };
}

/** Whether `a` is worse than `b` in Argo CD's order (Healthy < Suspended < Progressing < Missing < Degraded < Unknown). */
export function isWorse(a: HealthStatus, b: HealthStatus): boolean {
  return HEALTH_STATUSES.indexOf(a) > HEALTH_STATUSES.indexOf(b);
}
