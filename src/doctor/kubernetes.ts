/**
 * The cluster's checks: reachable with the configured kubeconfig and context; each environment's namespace, the app's
 * Deployment and its Argo CD Application present; and the permissions the waits need granted, asked of the API
 * server itself with SelfSubjectAccessReviews for exactly what deploy/kubernetes/rbac grants (see rbac.ts).
 */
import {
  createKubernetesClient,
  type KubernetesClient,
  type KubernetesInstallationChecks,
} from '../clients/kubernetes/index.js';
import { AuthenticationError, NotFoundError } from '../domain/errors.js';
import { ENVIRONMENTS } from '../domain/environments.js';
import { fail, pass, reasonOf, skipped, type CheckResult } from './check.js';
import type { Installation } from './installation.js';
import { describePermission, requiredPermissions, RBAC_DIR, type Permission } from './rbac.js';

type Cluster = KubernetesClient & KubernetesInstallationChecks;

export async function checkKubernetes(inst: Installation, opts: { quick: boolean }): Promise<CheckResult[]> {
  const { kubeconfig, context } = inst.kubernetes;
  const where = `${context ? `context ${context} of ` : ''}${kubeconfig ?? 'the default kubeconfig'}`;
  const reach = `cluster answers with ${where}`;
  let cluster: Cluster;
  let version: string;
  try {
    cluster = createKubernetesClient({
      kubeconfigPath: kubeconfig,
      context,
      credentialVariable: inst.names.kubeconfig,
    });
    version = await cluster.serverVersion();
  } catch (err) {
    const refused = err instanceof AuthenticationError;
    const results = [
      fail(
        'kubernetes',
        reach,
        refused ? `the API server refused the credentials (HTTP ${err.facts.status})` : reasonOf(err),
        inst.sandboxFix ??
          (refused
            ? `Renew the credentials in ${inst.names.kubeconfig}`
            : `Check ${inst.names.kubeconfig} (and SHEPHERD_KUBE_CONTEXT) and that the API server is up`),
      ),
    ];
    if (!opts.quick)
      results.push(
        skipped('kubernetes', 'namespaces, Deployments, Applications and permissions', 'the cluster check failed'),
      );
    return results;
  }
  const results = [pass('kubernetes', reach, version)];
  if (opts.quick) return results;
  for (const env of ENVIRONMENTS) results.push(...(await checkEnvironment(cluster, inst, env)));
  results.push(...(await checkPermissions(cluster, inst)));
  return results;
}

async function checkEnvironment(
  cluster: Cluster,
  inst: Installation,
  env: (typeof ENVIRONMENTS)[number],
): Promise<CheckResult[]> {
  const { namespace, argoApp } = inst.environments[env];
  const results: CheckResult[] = [];
  const nsCheck = `${env}: namespace ${namespace} exists`;
  try {
    if (!(await cluster.namespaceExists(namespace))) {
      results.push(
        fail(
          'kubernetes',
          nsCheck,
          'the cluster has no such namespace',
          `Create it, or set ${env.toUpperCase()}_NAMESPACE`,
        ),
      );
    } else results.push(pass('kubernetes', nsCheck));
  } catch (err) {
    results.push(readFailure(nsCheck, err));
  }
  const deployCheck = `${env}: Deployment ${namespace}/${inst.app} exists`;
  try {
    const d = await cluster.readDeployment(namespace, inst.app);
    results.push(pass('kubernetes', deployCheck, `${d.status.readyReplicas}/${d.desiredReplicas} ready`));
  } catch (err) {
    results.push(
      err instanceof NotFoundError
        ? fail(
            'kubernetes',
            deployCheck,
            'no such Deployment',
            `Check APP_REPO_NAME and that Argo CD application ${argoApp} has synced`,
          )
        : readFailure(deployCheck, err),
    );
  }
  const appCheck = `${env}: Argo CD Application ${inst.argocdNamespace}/${argoApp} exists`;
  try {
    const app = await cluster.getApplication(inst.argocdNamespace, argoApp);
    results.push(pass('kubernetes', appCheck, `${app.sync.status}, ${app.health.status}`));
  } catch (err) {
    results.push(
      err instanceof NotFoundError
        ? fail(
            'kubernetes',
            appCheck,
            'no such Application',
            `Create it (Shepherd expects one per environment, named <app>-<env>) or set ARGOCD_NAMESPACE`,
          )
        : readFailure(appCheck, err),
    );
  }
  return results;
}

function readFailure(what: string, err: unknown): CheckResult {
  if (err instanceof AuthenticationError)
    return fail(
      'kubernetes',
      what,
      `the API server refused to let Shepherd read it (HTTP ${err.facts.status})`,
      "Apply deploy/kubernetes/rbac for Shepherd's service account (see the permission checks below)",
    );
  return fail('kubernetes', what, reasonOf(err), 'Run doctor again once the API server answers');
}

async function checkPermissions(cluster: Cluster, inst: Installation): Promise<CheckResult[]> {
  let needed;
  try {
    needed = requiredPermissions();
  } catch (err) {
    return [
      fail(
        'kubernetes',
        'permissions the waits need are granted',
        `cannot read the Roles in ${RBAC_DIR} (${reasonOf(err)})`,
        'Run doctor from a checkout of the Shepherd repository, which holds deploy/kubernetes/rbac',
      ),
    ];
  }
  const places: [string, string, readonly Permission[]][] = [
    ['Argo CD', inst.argocdNamespace, needed.argocd],
    ...ENVIRONMENTS.map(
      (env) =>
        [env, inst.environments[env].namespace, needed.environments[env] ?? []] as [string, string, Permission[]],
    ),
  ];
  const results: CheckResult[] = [];
  for (const [place, namespace, permissions] of places) {
    const what = `${place}: permissions in namespace ${namespace} are granted`;
    try {
      const denied: Permission[] = [];
      for (const p of permissions) if (!(await cluster.canI({ ...p, namespace }))) denied.push(p);
      results.push(
        denied.length === 0
          ? pass('kubernetes', what, permissions.map(describePermission).join(', '))
          : fail(
              'kubernetes',
              what,
              `missing ${denied.map(describePermission).join(', ')}`,
              `Grant them to Shepherd's identity: apply deploy/kubernetes/rbac (kubectl apply -k deploy/kubernetes/overlays/<yours>)`,
            ),
      );
    } catch (err) {
      results.push(
        fail(
          'kubernetes',
          what,
          `asking the API server failed (${reasonOf(err)})`,
          'Run doctor again once the API server answers',
        ),
      );
    }
  }
  return results;
}
