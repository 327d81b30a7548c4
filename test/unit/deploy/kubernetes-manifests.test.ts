/**
 * deploy/kubernetes without a cluster: each overlay renders with the kubectl of set-up (`kubectl kustomize`), every
 * rendered object validates against the Kubernetes API schemas of the pinned `kubernetes-models` package, and the
 * worker's Deployment has what production needs: two non-root replicas on a read-only root filesystem, probes on the
 * worker's health endpoints, a drain that fits the termination grace period, configuration that Shepherd loads,
 * credentials from Secrets only, a PodDisruptionBudget and a NetworkPolicy. Nothing is cluster-wide.
 *
 * The schemas check types, formats and required fields; like the API's own OpenAPI documents they do not reject
 * unknown fields, so the fields this file relies on are asserted one by one below.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { loadConfig } from '../../../src/config/load.js';
import { PROJECT_ROOT } from '../../../src/config/paths.js';
import { VARIABLE_BY_NAME } from '../../../src/config/variables.js';
import { parseDuration } from '../../../src/domain/duration.js';
import { kubectlPath } from '../../../src/temporal/binaries.js';
import { SHUTDOWN_GRACE_TIME } from '../../../src/worker/create-worker.js';

interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

/** The model class of every kind the manifests may contain; a kind not listed here fails the schema test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

const OVERLAYS = [
  'overlays/example',
  'overlays/remote-cluster/worker',
  'overlays/remote-cluster/target',
  'overlays/multi-cluster/hub',
  'overlays/multi-cluster/prod-cluster',
] as const;

function render(overlay: string): Rendered[] {
  const out = execFileSync(kubectlPath(), ['kustomize', join(PROJECT_ROOT, 'deploy/kubernetes', overlay)], {
    encoding: 'utf8',
  });
  return parseAllDocuments(out).map((d) => d.toJS() as Rendered);
}

const rendered = new Map(OVERLAYS.map((o) => [o, render(o)]));
/** The one object of `kind` (of the worker's objects: the receiver of ../webhooks has its own, named shepherd-webhooks). */
const one = <T>(objects: Rendered[], kind: string, component: 'worker' | 'webhooks' = 'worker'): T => {
  const found = objects.filter(
    (o) => o.kind === kind && (o.metadata.name === 'shepherd-webhooks') === (component === 'webhooks'),
  );
  expect(
    found.map((o) => o.metadata.name),
    kind,
  ).toHaveLength(1);
  return found[0] as T;
};
const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));

describe.each(OVERLAYS)('deploy/kubernetes/%s', (overlay) => {
  const objects = rendered.get(overlay)!;

  it('renders, and every object validates against the Kubernetes API schemas', () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} ${o.metadata.name}`).toBeDefined();
      expect(() => new Model!(o as never).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
  });

  it('is namespaced throughout: no cluster-wide grant, every object in a named namespace', () => {
    expect(objects.filter((o) => /^Cluster/.test(o.kind))).toEqual([]);
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, o.kind).toBeTruthy();
    for (const b of objects.filter((o) => o.kind === 'RoleBinding') as unknown as RoleBinding[]) {
      expect(b.roleRef.kind).toBe('Role');
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'shepherd', namespace: 'shepherd' }]);
    }
  });

  it('holds no credential: Secrets only by reference, or filled in by the control plane', () => {
    for (const s of objects.filter((o) => o.kind === 'Secret') as unknown as Secret[]) {
      expect(s.type).toBe('kubernetes.io/service-account-token');
      expect(s.data ?? s.stringData).toBeUndefined();
    }
  });
});

describe.each(['overlays/example', 'overlays/remote-cluster/worker', 'overlays/multi-cluster/hub'] as const)(
  'the worker of %s',
  (overlay) => {
    const objects = rendered.get(overlay)!;
    const deployment = one<Deployment>(objects, 'Deployment');
    const pod = deployment.spec!.template.spec!;
    const container = pod.containers.find((c) => c.name === 'worker')!;
    const config = one<ConfigMap>(objects, 'ConfigMap').data!;
    const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));

    it('runs two replicas of the image as the non-root node user on a read-only root filesystem', () => {
      expect(deployment.spec!.replicas).toBe(2);
      expect(container.image).toMatch(/^registry\.example\.com\/platform\/shepherd-worker:\d+\.\d+\.\d+$/);
      expect(container.args).toEqual(['worker']);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      // Writable places are emptyDirs.
      const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
      for (const path of ['/tmp', '/app/reports']) {
        const mount = container.volumeMounts!.find((m) => m.mountPath === path);
        expect(mount, path).toBeDefined();
        expect(volumes.get(mount!.name)?.emptyDir, path).toBeDefined();
      }
      for (const m of container.volumeMounts!.filter((x) => !volumes.get(x.name)?.emptyDir))
        expect(m.readOnly).toBe(true);
      expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources?.limits).toHaveProperty('memory');
    });

    it("probes the worker's own endpoints: /healthz for liveness, /readyz for readiness, on SHEPHERD_HEALTH_ADDRESS", () => {
      const healthPort = portOf(config.SHEPHERD_HEALTH_ADDRESS!);
      expect(config.SHEPHERD_HEALTH_ADDRESS).toMatch(/^0\.0\.0\.0:/);
      expect(ports.get(container.livenessProbe!.httpGet!.port as string)).toBe(healthPort);
      expect(container.livenessProbe!.httpGet!.path).toBe('/healthz');
      expect(ports.get(container.readinessProbe!.httpGet!.port as string)).toBe(healthPort);
      expect(container.readinessProbe!.httpGet!.path).toBe('/readyz');
      expect(ports.get('metrics')).toBe(portOf(config.SHEPHERD_METRICS_ADDRESS!));
    });

    it('leaves the SIGTERM drain (activity grace, then cancellation and close) room within the grace period', () => {
      const graceSeconds = parseDuration(SHUTDOWN_GRACE_TIME)! / 1000;
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(graceSeconds * 2);
    });

    it('takes a configuration Shepherd loads from the ConfigMap, and every credential from a Secret', () => {
      const secretEnv = (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef);
      for (const name of Object.keys(config)) {
        expect(VARIABLE_BY_NAME.has(name), name).toBe(true);
        expect(VARIABLE_BY_NAME.get(name)!.secret, `${name} is a secret`).toBeFalsy();
      }
      expect(secretEnv.map((e) => e.name).sort()).toEqual(
        ['GITLAB_TOKEN', 'JENKINS_TOKEN', 'SHEPHERD_NOTIFY_WEBHOOK_URL', 'TEMPORAL_API_KEY'].sort(),
      );
      for (const e of secretEnv) expect(VARIABLE_BY_NAME.get(e.name)?.secret, e.name).toBe(true);
      expect((container.env ?? []).filter((e) => e.value !== undefined)).toEqual([]);
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'shepherd-config' } }]);

      const env = { ...config, ...Object.fromEntries(secretEnv.map((e) => [e.name, 'from-a-secret'])) };
      delete env.SHEPHERD_NOTIFY_WEBHOOK_URL;
      const loaded = loadConfig({ env });
      expect(loaded.mode).toBe('external');
      expect(loaded.temporal.address).toBeDefined();
      expect(loaded.observability.healthAddress).toBe(config.SHEPHERD_HEALTH_ADDRESS);
    });

    it('keeps one worker up through voluntary disruptions', () => {
      const pdb = one<PodDisruptionBudget>(objects, 'PodDisruptionBudget');
      expect(pdb.spec!.selector!.matchLabels).toEqual(deployment.spec!.selector.matchLabels);
      expect(deployment.spec!.template.metadata!.labels).toMatchObject(deployment.spec!.selector.matchLabels!);
      expect(pdb.spec!.minAvailable).toBe(1);
      expect(deployment.spec!.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    });

    it('admits traffic only to the health and metrics ports, and sends it only to DNS, the API, GitLab, Jenkins and Temporal', () => {
      const policy = one<NetworkPolicy>(objects, 'NetworkPolicy');
      expect(policy.spec!.podSelector.matchLabels).toEqual(deployment.spec!.selector.matchLabels);
      expect(policy.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.spec!.ingress!.flatMap((r) => (r.ports ?? []).map((p) => p.port)).sort()).toEqual([
        'health',
        'metrics',
      ]);
      const egressPorts = new Set(policy.spec!.egress!.flatMap((r) => (r.ports ?? []).map((p) => p.port)));
      for (const needed of [53, 443, portOf(config.TEMPORAL_ADDRESS!)])
        expect(egressPorts.has(needed), String(needed)).toBe(true);
      // Every egress rule names its ports: no "anything anywhere".
      for (const rule of policy.spec!.egress!) expect(rule.ports?.length).toBeGreaterThan(0);
      const service = one<Service>(objects, 'Service');
      expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
      expect(service.spec!.ports!.map((p) => p.targetPort)).toEqual(['metrics']);
    });
  },
);

describe('the overlays', () => {
  it('in-cluster: the worker reads the cluster as its ServiceAccount, which the Roles are bound to', () => {
    const objects = rendered.get('overlays/example')!;
    const deployment = one<Deployment>(objects, 'Deployment');
    expect(deployment.spec!.template.spec!.serviceAccountName).toBe('shepherd');
    expect(one<ConfigMap>(objects, 'ConfigMap').data).not.toHaveProperty('KUBECONFIG');
    expect(objects.filter((o) => o.kind === 'Role')).toHaveLength(4);
  });

  it('remote cluster: the worker reads the kubeconfig of a mounted Secret, and the Roles live in the other cluster', () => {
    const worker = rendered.get('overlays/remote-cluster/worker')!;
    const deployment = one<Deployment>(worker, 'Deployment');
    const pod = deployment.spec!.template.spec!;
    const config = one<ConfigMap>(worker, 'ConfigMap').data!;
    expect(pod.automountServiceAccountToken).toBe(false);
    const volume = pod.volumes!.find((v) => v.secret?.secretName === 'shepherd-kubeconfig')!;
    const mount = pod.containers[0]!.volumeMounts!.find((m) => m.name === volume.name)!;
    expect(config.KUBECONFIG).toBe(`${mount.mountPath}/config`);
    expect(worker.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);

    const target = rendered.get('overlays/remote-cluster/target')!;
    expect(target.filter((o) => o.kind === 'Deployment')).toEqual([]);
    expect(target.filter((o) => o.kind === 'Role')).toHaveLength(4);
    const token = one<Secret>(target, 'Secret');
    expect(token.metadata!.annotations).toEqual({ 'kubernetes.io/service-account.name': 'shepherd' });
  });

  it("multi-cluster: the worker reads the hub as its ServiceAccount and prod with the mounted kubeconfig named by SHEPHERD_KUBECONFIG_PROD; prod's Role lives in the prod cluster only", () => {
    const hub = rendered.get('overlays/multi-cluster/hub')!;
    const pod = one<Deployment>(hub, 'Deployment').spec!.template.spec!;
    const config = one<ConfigMap>(hub, 'ConfigMap').data!;
    expect(pod.serviceAccountName).toBe('shepherd');
    expect(config).not.toHaveProperty('KUBECONFIG');
    const volume = pod.volumes!.find((v) => v.secret?.secretName === 'shepherd-kubeconfig-prod')!;
    const mount = pod.containers[0]!.volumeMounts!.find((m) => m.name === volume.name)!;
    expect(config.SHEPHERD_KUBECONFIG_PROD).toBe(`${mount.mountPath}/config`);
    const namespacesOf = (objects: Rendered[]): string[] =>
      objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace!);
    expect(namespacesOf(hub).sort()).toEqual(['argocd', 'dev', 'stage']);
    const prod = rendered.get('overlays/multi-cluster/prod-cluster')!;
    expect(namespacesOf(prod)).toEqual(['prod']);
    expect(prod.filter((o) => o.kind === 'Deployment')).toEqual([]);
  });
});

describe('the webhook receiver of overlays/example', () => {
  const objects = rendered.get('overlays/example')!;
  const deployment = one<Deployment>(objects, 'Deployment', 'webhooks');
  const pod = deployment.spec!.template.spec!;
  const container = pod.containers.find((c) => c.name === 'webhooks')!;
  const env = new Map((container.env ?? []).map((e) => [e.name, e]));

  it('runs two non-root replicas of `shepherd webhooks` with no Kubernetes credentials at all', () => {
    expect(deployment.spec!.replicas).toBe(2);
    expect(container.args).toEqual(['webhooks']);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(one<ServiceAccount>(objects, 'ServiceAccount', 'webhooks').automountServiceAccountToken).toBe(false);
    expect(objects.filter((o) => o.kind === 'RoleBinding').map((b) => JSON.stringify(b))).not.toContainEqual(
      expect.stringContaining('shepherd-webhooks'),
    );
  });

  it('listens where its port, probes, Service and Ingress point, and takes its tokens from Secrets only', () => {
    const address = env.get('SHEPHERD_WEBHOOK_ADDRESS')!.value!;
    const port = container.ports!.find((p) => p.name === 'http')!.containerPort;
    expect(portOf(address)).toBe(port);
    expect(container.livenessProbe!.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe!.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    for (const name of ['SHEPHERD_WEBHOOK_GITLAB_TOKEN', 'SHEPHERD_WEBHOOK_JENKINS_TOKEN']) {
      expect(env.get(name)?.valueFrom?.secretKeyRef?.name, name).toBe('shepherd-credentials');
      expect(VARIABLE_BY_NAME.get(name)?.secret, name).toBe(true);
    }
    const service = one<Service>(objects, 'Service', 'webhooks');
    expect(service.spec!.ports).toEqual([{ name: 'http', port, targetPort: 'http' }]);
    const ingress = one<Ingress>(objects, 'Ingress', 'webhooks');
    const paths = ingress.spec!.rules!.flatMap((r) => r.http!.paths);
    expect(paths.map((p) => [p.path, p.backend.service!.name])).toEqual([['/webhooks/', 'shepherd-webhooks']]);
  });

  it('has a disruption budget and a network policy that lets it reach only DNS and Temporal', () => {
    expect(one<PodDisruptionBudget>(objects, 'PodDisruptionBudget', 'webhooks').spec!.minAvailable).toBe(1);
    const policy = one<NetworkPolicy>(objects, 'NetworkPolicy', 'webhooks');
    const egressPorts = policy.spec!.egress!.flatMap((e) => (e.ports ?? []).map((p) => p.port));
    expect(new Set(egressPorts)).toEqual(new Set([53, 7233]));
  });
});
