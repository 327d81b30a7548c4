/**
 * The Kubernetes and Argo CD activities, built from an injected client and the pipeline layout (which maps an
 * environment name to its namespace and Argo CD Application); one activity a file in `./kubernetes/`.
 * Contracts: `src/domain/activities.ts`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { createAwaitArgoSyncedAndHealthy } from './kubernetes/await-argo-synced-and-healthy.js';
import type { KubernetesActivityDeps } from './kubernetes/common.js';
import { createReadEnvironmentState } from './kubernetes/read-environment-state.js';
import { createVerifyWorkload } from './kubernetes/verify-workload.js';

export type { ActivityClock, KubernetesActivityDeps } from './kubernetes/common.js';
export { gitLabAncestry, type RevisionAncestry } from './kubernetes/ancestry.js';

export type KubernetesActivities = Pick<
  ShepherdActivities,
  'readEnvironmentState' | 'awaitArgoSyncedAndHealthy' | 'verifyWorkload'
>;

export function createKubernetesActivities(deps: KubernetesActivityDeps): KubernetesActivities {
  return {
    readEnvironmentState: createReadEnvironmentState(deps),
    awaitArgoSyncedAndHealthy: createAwaitArgoSyncedAndHealthy(deps),
    verifyWorkload: createVerifyWorkload(deps),
  };
}
