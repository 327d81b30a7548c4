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
export type { CachedCollection, FollowOptions } from './watch.js';
