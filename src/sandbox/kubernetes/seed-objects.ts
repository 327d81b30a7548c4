/**
 * The objects the real installation has in each environment (real-system.md §1.6): the app's Deployment with
 * its labels, probes and RollingUpdate strategy, and the namespaces.
 */
import type { Deployment, KubeObject } from './objects.js';

/** Namespace object. */
export function buildNamespace(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export interface DeploymentInput {
  app: string;
  env: string;
  namespace: string;
  image: string;
  replicas: number;
}

/** The labels the design-era manifests put on the app's Deployment, selector and pods. */
export function appLabels(app: string, env: string): Record<string, string> {
  return { app, deployment: app, environment: env, managed_by: 'argocd' };
}

/** The app's Deployment as the generated manifest declares it. */
export function buildDeployment(input: DeploymentInput): Deployment {
  const labels = appLabels(input.app, input.env);
  const probe = (path: string) => ({
    httpGet: { path, port: 8080, scheme: 'HTTP' },
    initialDelaySeconds: 10,
    periodSeconds: 10,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 3,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: input.app, namespace: input.namespace, labels: { ...labels } },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: { ...labels } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          containers: [
            {
              name: input.app,
              image: input.image,
              imagePullPolicy: 'Always',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              env: [{ name: 'ENVIRONMENT', value: input.env }],
              livenessProbe: probe('/health/live'),
              readinessProbe: probe('/health/ready'),
            },
          ],
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
}
