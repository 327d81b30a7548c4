/**
 * The simulated Kubernetes cluster with Argo CD: what the sandbox world wires together.
 */
export { createCluster, SimulatedCluster, type ClusterEnv, type ClusterOptions, type EnvSnapshot } from './cluster.js';
export { startKubernetesServer, type KubernetesServerOptions } from './server.js';
export { writeKubeconfig, kubeconfigYaml, SANDBOX_CONTEXT, type KubeconfigOptions } from './kubeconfig.js';
export { buildDeployment, appLabels, type DeploymentInput } from './seed-objects.js';
export type { GitSource } from '../argocd/git-source.js';
