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

/** The name of the sibling workload (`siblingWorkload` trait): `<app>-worker`. */
export function siblingName(app: string): string {
  return `${app}-worker`;
}

/**
 * A second Deployment of the app's team in the same namespace (the `siblingWorkload` installation trait): a queue
 * worker released on its own schedule, whose pods carry the app's label `app=<app>` too. Its selector needs a
 * matchExpression (`component in (batch, worker)`) besides matchLabels, and its pods run two containers (the worker
 * and a log shipper). Only a selection through the Deployment's selector and its current ReplicaSet tells its pods
 * from the app's.
 */
export function buildSiblingDeployment(input: DeploymentInput): Deployment {
  const name = siblingName(input.app);
  const labels = { app: input.app, deployment: name, environment: input.env, component: 'worker' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: input.namespace, labels: { ...labels } },
    spec: {
      replicas: input.replicas,
      selector: {
        matchLabels: { app: input.app, deployment: name },
        matchExpressions: [{ key: 'component', operator: 'In', values: ['batch', 'worker'] }],
      },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          containers: [
            { name: 'worker', image: input.image, imagePullPolicy: 'IfNotPresent', args: ['--queue', 'orders'] },
            { name: 'log-shipper', image: 'cr.fluentbit.io/fluent/fluent-bit:3.1.9', imagePullPolicy: 'IfNotPresent' },
          ],
          terminationGracePeriodSeconds: 30,
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 600,
    },
  };
}
