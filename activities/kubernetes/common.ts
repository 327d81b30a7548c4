/**
 * What the Kubernetes / Argo CD activities share: their injected dependencies, the input fields naming an app
 * environment, the mapping from an environment name to where it lives, and the failure of a refused request.
 */
import { ApplicationFailure } from '@temporalio/common';
import { KubernetesApiError, type KubernetesClient } from '../../src/clients/kubernetes/index.js';
import {
  environmentOrderOf,
  placeOf,
  type PipelineEnvironment,
  type PipelineLayout,
} from '../../src/domain/pipeline.js';
import { ACTIVITY_FIELDS, type AppEnvironment } from '../../src/domain/activities.js';
import type { Environment } from '../../src/domain/environments.js';
import type { RevisionAncestry } from './ancestry.js';
import { ValidationError } from '../../src/domain/errors.js';

/** A source of the current time, so that tests can move it. */
export interface ActivityClock {
  now(): number;
}

export interface KubernetesActivityDeps {
  /** The Argo CD cluster: Applications, and every environment's workload unless `workloads` names another. */
  readonly client: KubernetesClient;
  /**
   * The clusters that run environments' workloads (Deployment, pods) when they are not the Argo CD cluster, as in a
   * multi-cluster pipeline where one Argo CD deploys to a cluster per environment.
   */
  readonly workloads?: Readonly<Partial<Record<Environment, KubernetesClient>>>;
  readonly layout: PipelineLayout;
  /** Longest pause between two looks during a wait (the watch wakes it sooner); default 5 000 ms. */
  readonly pollIntervalMs?: number;
  /**
   * Shortest pause between a look and the next one a watch event causes; default 250 ms. Bounds the looks during
   * a rollout's burst of pod events (they read the watched caches, so it paces work, not API requests).
   */
  readonly minLookGapMs?: number;
  readonly clock?: ActivityClock;
  /**
   * Part C: whether a revision contains another (GitLab's merge base), so that the Argo CD wait accepts a synced
   * revision other teams' commits landed on top of ours. Absent: only the merge commit itself is accepted.
   */
  readonly ancestry?: RevisionAncestry;
}

/** The resolved place of one app environment. */
export interface EnvironmentTarget extends PipelineEnvironment {
  readonly env: AppEnvironment['env'];
  readonly appName: string;
  /** The app's Deployment (SHEPHERD_DEPLOYMENT); its pods are those of its current ReplicaSet. */
  readonly deployment: string;
  /** The container whose image is verified: the configured one (SHEPHERD_CONTAINER), else named like the app. */
  readonly container: string;
  /** Whether `container` was configured; if not, a pod with a single container of another name is verified by it. */
  readonly containerConfigured: boolean;
}

/**
 * The input fields naming an app environment, in the order their checks report: the environment, then the app
 * (which must be the configured one).
 */
export function appEnvironmentFields(layout: PipelineLayout) {
  return {
    env: ACTIVITY_FIELDS.environment(environmentOrderOf(layout)),
    appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
  };
}

/** Where a (parsed) app environment lives. */
export function resolveTarget(layout: PipelineLayout, input: AppEnvironment): EnvironmentTarget {
  const place = placeOf(layout, input.env);
  const configured = layout.workload.container;
  return {
    ...place,
    env: input.env,
    appName: input.appName,
    deployment: layout.workload.deployment,
    container: configured ?? input.appName,
    containerConfigured: configured !== undefined,
  };
}

/** The cluster that runs `env`'s Deployment and pods: its own when configured, else the Argo CD cluster. */
export function workloadClient(deps: KubernetesActivityDeps, env: Environment): KubernetesClient {
  return deps.workloads?.[env] ?? deps.client;
}

/** The app's container among several: the one named like the app, else the first. */
export function appContainer<C extends { readonly name: string }>(
  containers: readonly C[],
  appName: string,
): C | undefined {
  return containers.find((c) => c.name === appName) ?? containers[0];
}

/**
 * The container to verify among `containers` (of the Deployment's template or of a pod): the configured one; when
 * none is configured, the one named like the app, else the only one. A ValidationError (not retryable: the
 * setting and the cluster disagree) names the containers there are, so that SHEPHERD_CONTAINER can be set.
 */
export function verifiedContainer<C extends { readonly name: string }>(
  containers: readonly C[],
  target: Pick<EnvironmentTarget, 'container' | 'containerConfigured' | 'namespace' | 'deployment'>,
  where = `the Deployment ${target.namespace}/${target.deployment}`,
): C {
  const named = containers.find((c) => c.name === target.container);
  if (named) return named;
  if (!target.containerConfigured && containers.length === 1) return containers[0]!;
  const names = containers.map((c) => c.name).join(', ') || 'none';
  throw new ValidationError(
    'SHEPHERD_CONTAINER',
    `names a container of ${where}`,
    `${where} has no container "${target.container}" (its containers: ${names}): set SHEPHERD_CONTAINER to the app's container`,
  );
}

/**
 * The failure of a request the Kubernetes API refused for its content (KubernetesApiError, not a ShepherdError):
 * a bug or a misconfiguration, so retrying cannot help. Other errors are left as they are.
 */
export function kubernetesFailure(err: unknown): ApplicationFailure | undefined {
  if (!(err instanceof KubernetesApiError)) return undefined;
  return ApplicationFailure.create({
    message: err.message,
    type: 'KubernetesApiError',
    nonRetryable: true,
    details: [{ system: 'kubernetes', status: err.status }],
  });
}
