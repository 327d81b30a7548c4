export {
  createKubernetesClient,
  type ApplicationSyncRequest,
  type KubernetesClient,
  type KubernetesClientOptions,
  type KubernetesInstallationChecks,
  type ResourceAccess,
} from './kubernetes-client.js';
export { KubernetesApiError } from './errors.js';
export {
  REFRESH_ANNOTATION,
  forSource,
  projectPathOf,
  sourceIndexOf,
  type ApplicationSourceView,
  type ApplicationView,
  type DeploymentView,
  type PodContainerView,
  type PodView,
} from './objects.js';
// Part D: ReplicaSets, selectors and the current ReplicaSet's pods.
export {
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  currentReplicaSet,
  labelSelectorString,
  podsOfReplicaSet,
  selectorMatches,
  type LabelSelectorView,
  type ReplicaSetView,
} from './objects.js';
export type { CachedCollection, FollowOptions } from './watch.js';
