/**
 * The RBAC of deploy/kubernetes grants exactly what Shepherd's Kubernetes client uses, no more, no less.
 *
 * The calls are recorded, not listed by hand: the real Kubernetes activities (with the real client) run against the
 * sandbox's API server through a recording proxy on 127.0.0.1, and every request is mapped to what an authorizer
 * sees (verb, API group, resource, namespace). Two sandbox worlds cover every call:
 * - a new version taken to dev (bump, CI, merge), then the activities of a promotion's reads and waits on it:
 *   readEnvironmentState, awaitArgoSyncedAndHealthy, verifyWorkload — gets, lists and watches;
 * - Argo CD's stale "Synced" after a sync (at real speed, as in test/activities/kubernetes-argo-stale.test.ts), where
 *   the wait asks for a refresh — the patch.
 * Recording is preferred to reading src/clients/kubernetes/ because it also sees the calls the library makes for us
 * (the list before a watch, re-lists), and it fails when a new call appears without its permission.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities } from '../../../activities/kubernetes.js';
import { createKubernetesClient } from '../../../src/clients/kubernetes/index.js';
import { PROJECT_ROOT } from '../../../src/config/paths.js';
import type { Application } from '../../../src/sandbox/argocd/application.js';
import { kubeconfigYaml } from '../../../src/sandbox/kubernetes/kubeconfig.js';
import { RESOURCES } from '../../../src/sandbox/kubernetes/resources.js';
import { kubectlPath } from '../../../src/temporal/binaries.js';
import { layoutForWorld } from '../../../src/worker/activities.js';
import { deadlineIn, mergeNewVersionToDev, runActivity } from '../../activities/kubernetes-support.js';
import { startDriver, type Driver } from '../../sandbox/world-driver.js';
import { startRecordingProxy } from '../../support/recording-proxy.js';

/** One API request as RBAC authorizes it. `namespace` undefined: a cluster-scoped or non-resource request. */
interface ApiCall {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string | undefined;
}

/** Maps a request to its RBAC attributes, as the API server's request-info resolver does for these paths. */
function apiCall(method: string, url: string): ApiCall {
  const { pathname, searchParams } = new URL(url, 'http://x');
  const parts = pathname.split('/').filter(Boolean);
  let rest: string[];
  let group: string;
  if (parts[0] === 'api') [group, rest] = ['', parts.slice(2)];
  else if (parts[0] === 'apis') [group, rest] = [parts[1] ?? '', parts.slice(3)];
  else return { verb: method.toLowerCase(), group: '', resource: pathname, namespace: undefined };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  const [resource = '', name] = rest;
  const watch = ['true', '1'].includes(searchParams.get('watch') ?? '');
  const verbs: Record<string, string> = {
    GET: name ? 'get' : watch ? 'watch' : 'list',
    PATCH: 'patch',
    PUT: 'update',
    POST: 'create',
    DELETE: name ? 'delete' : 'deletecollection',
  };
  return { verb: verbs[method] ?? method.toLowerCase(), group, resource, namespace };
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  rules?: { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }[];
}

const render = (overlay: string): KubeObject[] =>
  parseAllDocuments(
    execFileSync(kubectlPath(), ['kustomize', join(PROJECT_ROOT, 'deploy/kubernetes', overlay)], { encoding: 'utf8' }),
  ).map((d) => d.toJS() as KubeObject);

/** `place verb group/resource`, the place being `argocd` or `environment` (any of dev, stage, prod). */
type Permission = string;

describe('the RBAC of deploy/kubernetes', () => {
  const recorded: ApiCall[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-rbac-'));
  let sandboxPlaces: Map<string, string>;

  /** Runs `scenario` on a world whose activities talk to the API server through the recorder. */
  async function recordIn(
    timeScale: number | undefined,
    scenario: (
      d: Driver,
      activities: ReturnType<typeof createKubernetesActivities>,
      layout: ReturnType<typeof layoutForWorld>,
    ) => Promise<void>,
  ): Promise<void> {
    const d = await startDriver(timeScale ? { timeScale } : {});
    const calls: ApiCall[] = [];
    const recorder = await startRecordingProxy(d.world.info.kubernetes.url, (method, path) =>
      calls.push(apiCall(method, path)),
    );
    try {
      const kubeconfig = join(dir, `kubeconfig-${recorded.length}-${Date.now()}`);
      writeFileSync(kubeconfig, kubeconfigYaml({ server: recorder.url, token: d.world.info.kubernetes.token }), {
        mode: 0o600,
      });
      const layout = layoutForWorld(d.world, { degradedGraceSeconds: 1, stabilitySeconds: 0.2 });
      sandboxPlaces = new Map([
        [layout.argocdNamespace, 'argocd'],
        ...Object.values(layout.environments).map((e) => [e.namespace, 'environment'] as [string, string]),
      ]);
      const client = createKubernetesClient({ kubeconfigPath: kubeconfig });
      await scenario(d, createKubernetesActivities({ client, layout, pollIntervalMs: 50 }), layout);
      // Watches stopped by the activities may still be closing; give their last requests time to land.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      recorded.push(...calls);
      await recorder.stop();
      await d.stop();
    }
  }

  beforeAll(async () => {
    await recordIn(undefined, async (d, activities) => {
      const { tag, mergeSha } = await mergeNewVersionToDev(d);
      const app = { appName: 'example-app', env: 'dev' as const };
      await runActivity(activities.readEnvironmentState, app).result;
      await runActivity(activities.awaitArgoSyncedAndHealthy, { ...app, revision: mergeSha, deadline: deadlineIn(30) })
        .result;
      await runActivity(activities.verifyWorkload, { ...app, imageTag: tag, deadline: deadlineIn(30) }).result;
    });
    await recordIn(1, async (d, activities, layout) => {
      // Right after a sync, before Argo CD reconciled again (see kubernetes-argo-stale.test.ts): the wait refreshes.
      const store = d.world.cluster.store;
      const name = layout.environments.stage!.argoApp;
      const app = store.get<Application>(RESOURCES.applications, layout.argocdNamespace, name)!;
      store.mutate<Application>(RESOURCES.applications, layout.argocdNamespace, name, (a) => {
        a.status!.reconciledAt = new Date(Date.parse(app.status!.operationState!.finishedAt!) - 60_000).toISOString();
      });
      const input = { appName: 'example-app', env: 'stage' as const, revision: app.status!.sync!.revision! };
      const result = await runActivity(activities.awaitArgoSyncedAndHealthy, { ...input, deadline: deadlineIn(20) })
        .result;
      expect(result.refreshes).toBe(1);
    });
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const used = (): Set<Permission> =>
    new Set(
      recorded.map((c) => {
        const place =
          c.namespace === undefined ? 'cluster' : (sandboxPlaces.get(c.namespace) ?? `namespace ${c.namespace}`);
        return `${place} ${c.verb} ${c.group}/${c.resource}`;
      }),
    );

  // An installation may span clusters: the multi-cluster example grants in the hub and in the prod cluster together.
  for (const overlays of [
    ['overlays/example'],
    ['overlays/remote-cluster/target'],
    ['overlays/multi-cluster/hub', 'overlays/multi-cluster/prod-cluster'],
  ]) {
    it(`${overlays.join(' + ')}: grants exactly the calls the activities made, per kind of namespace`, () => {
      const objects = overlays.flatMap((overlay) => render(overlay));
      const roles = objects.filter((o) => o.kind === 'Role');
      const config = render('overlays/example').find((o) => o.kind === 'ConfigMap')!.data!;
      const places = new Map([
        [config.ARGOCD_NAMESPACE!, 'argocd'],
        [config.DEV_NAMESPACE!, 'environment'],
        [config.STAGE_NAMESPACE!, 'environment'],
        [config.PROD_NAMESPACE!, 'environment'],
      ]);
      // A Role in every namespace Shepherd reads, nowhere else.
      expect(roles.map((r) => r.metadata.namespace).sort()).toEqual([...places.keys()].sort());

      const grantedIn = (role: KubeObject): Set<Permission> => {
        const place = places.get(role.metadata.namespace!)!;
        const out = new Set<Permission>();
        for (const rule of role.rules ?? []) {
          expect(rule.resourceNames, 'resourceNames cannot restrict list or watch').toBeUndefined();
          for (const g of rule.apiGroups ?? [])
            for (const r of rule.resources ?? []) for (const v of rule.verbs ?? []) out.add(`${place} ${v} ${g}/${r}`);
        }
        return out;
      };
      const granted = new Set(roles.flatMap((r) => [...grantedIn(r)]));
      // The three environment Roles are the same: a promotion reaches each environment in turn.
      const envGrants = roles.filter((r) => places.get(r.metadata.namespace!) === 'environment').map(grantedIn);
      for (const g of envGrants) expect([...g].sort()).toEqual([...envGrants[0]!].sort());

      const usedNow = used();
      const missing = [...usedNow].filter((p) => !granted.has(p)).sort();
      const extra = [...granted].filter((p) => !usedNow.has(p)).sort();
      expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    });
  }

  it('recorded the calls of every kind the client has: get, list, watch and patch', () => {
    expect([...used()].sort()).toEqual(
      expect.arrayContaining([
        'argocd get argoproj.io/applications',
        'argocd list argoproj.io/applications',
        'argocd watch argoproj.io/applications',
        'argocd patch argoproj.io/applications',
        'environment get apps/deployments',
        'environment list /pods',
        'environment watch /pods',
        'environment list apps/replicasets',
        'environment watch apps/replicasets',
      ]),
    );
  });

  it('maps requests to verbs as the API server does', () => {
    expect(apiCall('GET', '/api/v1/namespaces/dev/pods?labelSelector=app%3Dx&watch=true')).toEqual({
      verb: 'watch',
      group: '',
      resource: 'pods',
      namespace: 'dev',
    });
    expect(apiCall('GET', '/apis/apps/v1/namespaces/dev/deployments/x')).toMatchObject({ verb: 'get', group: 'apps' });
    expect(apiCall('PATCH', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/x')).toMatchObject({
      verb: 'patch',
      resource: 'applications',
    });
    expect(apiCall('GET', '/apis/apps/v1/deployments')).toMatchObject({ verb: 'list', namespace: undefined });
  });
});
