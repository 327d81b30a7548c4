/**
 * The Kubernetes and Argo CD activities, built from an injected client and the pipeline layout (which maps an
 * environment name to its namespace and Argo CD Application). Contracts: `src/domain/activities.ts`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { createAwaitArgoSyncedAndHealthy } from './kubernetes/await-argo-synced-and-healthy.js';
import type { KubernetesActivityDeps } from './kubernetes/common.js';
import { createReadEnvironmentState } from './kubernetes/read-environment-state.js';
import { createVerifyWorkload } from './kubernetes/verify-workload.js';

export type { ActivityClock, KubernetesActivityDeps } from './kubernetes/common.js';

export type KubernetesActivities = Pick<
  ShepherdActivities,
  'readEnvironmentState' | 'awaitArgoSyncedAndHealthy' | 'verifyWorkload'
>;

export function createKubernetesActivities(deps: KubernetesActivityDeps): KubernetesActivities {
  return {
    /** Changes nothing; waits for nothing. A missing Application fails (NotFoundError); a missing Deployment reads as no image. */
    readEnvironmentState: createReadEnvironmentState(deps),
    /**
     * Changes: at most one refresh annotation per sync operation, when Argo CD has not reconciled since the sync
     * finished (repeating it is harmless). Waits on the watch with a polling fallback, heartbeating its progress
     * and resuming from it; SyncFailedError, AppDegradedError after the grace period, WaitTimeoutError at the deadline.
     */
    awaitArgoSyncedAndHealthy: createAwaitArgoSyncedAndHealthy(deps),
    /**
     * Changes nothing. Waits (pod watch, polling, heartbeating the stability window) for the rollout, the pods on
     * the tag, Ready, and restart counts unchanged for `layout.stabilitySeconds`; AppDegradedError on crashes,
     * image pull failures (after the grace period) or ProgressDeadlineExceeded.
     */
    verifyWorkload: createVerifyWorkload(deps),
  };
}
