/**
 * What the Kubernetes / Argo CD activities share: their injected dependencies, input checks, the mapping from an
 * environment name to where it lives, and the conversion of failures to Temporal's typed failures.
 */
import { ApplicationFailure } from '@temporalio/common';
import { KubernetesApiError, type KubernetesClient } from '../../src/clients/kubernetes/index.js';
import type { PipelineEnvironment, PipelineLayout } from '../../src/domain/pipeline.js';
import type { AppEnvironment } from '../../src/domain/activities.js';
import { isEnvironment } from '../../src/domain/environments.js';
import { ShepherdError, ValidationError } from '../../src/domain/errors.js';
import { toApplicationFailure } from '../../src/temporal/common/failures.js';

/** A source of the current time, so that tests can move it. */
export interface ActivityClock {
  now(): number;
}

export interface KubernetesActivityDeps {
  readonly client: KubernetesClient;
  readonly layout: PipelineLayout;
  /** Longest pause between two looks during a wait (the watch wakes it sooner); default 5 000 ms. */
  readonly pollIntervalMs?: number;
  readonly clock?: ActivityClock;
}

/** The resolved place of one app environment. */
export interface EnvironmentTarget extends PipelineEnvironment {
  readonly env: AppEnvironment['env'];
  readonly appName: string;
  /** Label selector of the app's pods (`app={name}`, as the real scripts select them). */
  readonly podSelector: string;
}

export function resolveTarget(layout: PipelineLayout, input: AppEnvironment): EnvironmentTarget {
  if (!isEnvironment(input.env)) throw new ValidationError('env', 'must be one of dev, stage, prod');
  if (input.appName !== layout.app.name)
    throw new ValidationError('appName', `must be the configured app ${JSON.stringify(layout.app.name)}`);
  const place = layout.environments[input.env];
  return { ...place, env: input.env, appName: input.appName, podSelector: `app=${input.appName}` };
}

/** The deadline as epoch milliseconds. */
export function parseDeadline(deadline: string): number {
  const at = typeof deadline === 'string' ? Date.parse(deadline) : Number.NaN;
  if (!Number.isFinite(at)) throw new ValidationError('deadline', 'must be an ISO-8601 instant');
  return at;
}

export function requireText(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(field, 'must not be empty');
  return value;
}

/** The tag of an image reference (`registry/group/app:tag`, digest ignored); undefined when it has none. */
export function imageTagOf(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon >= 0 && colon < lastSegment.length - 1 ? lastSegment.slice(colon + 1) : undefined;
}

/** The app's container among several: the one named like the app, else the first. */
export function appContainer<C extends { readonly name: string }>(
  containers: readonly C[],
  appName: string,
): C | undefined {
  return containers.find((c) => c.name === appName) ?? containers[0];
}

/** Runs an activity body and throws what Temporal should record: our errors as typed ApplicationFailures. */
export async function asActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ShepherdError) throw toApplicationFailure(err);
    if (err instanceof KubernetesApiError) {
      // A request the API refuses for its content is a bug or a misconfiguration: retrying cannot help.
      throw ApplicationFailure.create({
        message: err.message,
        type: 'KubernetesApiError',
        nonRetryable: true,
        details: [{ system: 'kubernetes', status: err.status }],
      });
    }
    throw err;
  }
}
