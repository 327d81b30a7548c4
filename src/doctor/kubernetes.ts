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
import { AuthenticationError, CertificateError, NotFoundError } from '../domain/errors.js';
import type { Environment } from '../domain/environments.js';
import { fail, pass, reasonOf, skipped, type CheckResult } from './check.js';
import type { Installation } from './installation.js';
import { describePermission, requiredPermissions, RBAC_DIR, type Permission } from './rbac.js';

type Cluster = KubernetesClient & KubernetesInstallationChecks;

export async function checkKubernetes(inst: Installation, opts: { quick: boolean }): Promise<CheckResult[]> {
  const { kubeconfig, context } = inst.kubernetes;
  const main = await reachCluster(
    inst,
    'cluster',
    { kubeconfig, context },
    inst.names.kubeconfig,
    'SHEPHERD_KUBE_CONTEXT',
  );
  if (!main.cluster) {
    if (!opts.quick)
      main.results.push(
        skipped('kubernetes', 'namespaces, Deployments, Applications and permissions', 'the cluster check failed'),
      );
    return main.results;
  }
  const results = [...main.results];
  // Environments whose workload runs in a cluster of its own (multi-cluster pipelines): each such cluster is reached
  // once, with its kubeconfig, and serves every environment on it.
  const workloads: Partial<Record<Environment, Cluster | undefined>> = {};
  const groups = new Map<string, Environment[]>();
  for (const env of Object.keys(inst.environments)) {
    const own = inst.environments[env]!.cluster;
    if (own) groups.set(own.name ?? env, [...(groups.get(own.name ?? env) ?? []), env]);
  }
  for (const [name, envs] of groups) {
    const own = inst.environments[envs[0]!]!.cluster!;
    const upper = envs[0]!.toUpperCase();
    const reached = await reachCluster(
      inst,
      envs.length === 1 && name === envs[0] ? `${name}: cluster` : `cluster ${name} (${envs.join(', ')})`,
      own,
      own.credentialVariable ?? `SHEPHERD_KUBECONFIG_${upper}`,
      own.contextVariable ?? `SHEPHERD_KUBE_CONTEXT_${upper}`,
    );
    results.push(...reached.results);
    for (const env of envs) workloads[env] = reached.cluster;
  }
  if (opts.quick) return results;
  for (const env of Object.keys(inst.environments)) {
    const workload = inst.environments[env]!.cluster ? workloads[env] : main.cluster;
    results.push(...(await checkEnvironment(main.cluster, workload, inst, env)));
  }
  results.push(...(await checkPermissions(main.cluster, workloads, inst)));
  return results;
}

/** Builds a client for a cluster and asks its version: the check line, and the client when it answered. */
async function reachCluster(
  inst: Installation,
  name: string,
  where: { readonly kubeconfig: string | undefined; readonly context: string | undefined },
  kubeconfigVariable: string,
  contextVariable: string,
): Promise<{ results: CheckResult[]; cluster?: Cluster }> {
  const shown = `${where.context ? `context ${where.context} of ` : ''}${where.kubeconfig ?? 'the default kubeconfig'}`;
  const reach = `${name} answers with ${shown}`;
  try {
    const cluster = createKubernetesClient({
      kubeconfigPath: where.kubeconfig,
      context: where.context,
      credentialVariable: kubeconfigVariable,
      companyCa: inst.companyCa,
    });
    const version = await cluster.serverVersion();
    return { results: [pass('kubernetes', reach, version)], cluster };
  } catch (err) {
    const refused = err instanceof AuthenticationError;
    return {
      results: [
        fail(
          'kubernetes',
          reach,
          refused ? `the API server refused the credentials (HTTP ${err.facts.status})` : reasonOf(err),
          err instanceof CertificateError
            ? err.fix
            : (inst.sandboxFix ??
                (refused
                  ? `Renew the credentials in ${kubeconfigVariable}`
                  : `Check ${kubeconfigVariable} (and ${contextVariable}) and that the API server is up`)),
        ),
      ],
    };
  }
}

/**
 * The environment's namespace and Deployment, in the cluster that runs its workload (skipped when that cluster did
 * not answer), and its Application, in the Argo CD cluster.
 */
async function checkEnvironment(
  argo: Cluster,
  cluster: Cluster | undefined,
  inst: Installation,
  env: Environment,
): Promise<CheckResult[]> {
  const { namespace, argoApp } = inst.environments[env]!;
  const results: CheckResult[] = [];
  if (!cluster) {
    results.push(skipped('kubernetes', `${env}: namespace and Deployment`, `the ${env} cluster check failed`));
    results.push(await checkApplication(argo, inst, env));
    return results;
  }
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
  results.push(await checkApplication(argo, inst, env));
  return results;
}

async function checkApplication(argo: Cluster, inst: Installation, env: Environment): Promise<CheckResult> {
  const { argoApp } = inst.environments[env]!;
  const appCheck = `${env}: Argo CD Application ${inst.argocdNamespace}/${argoApp} exists`;
  try {
    const app = await argo.getApplication(inst.argocdNamespace, argoApp);
    return pass('kubernetes', appCheck, `${app.sync.status}, ${app.health.status}`);
  } catch (err) {
    return err instanceof NotFoundError
      ? fail(
          'kubernetes',
          appCheck,
          'no such Application',
          `Create it (Shepherd expects one per environment, named <app>-<env>) or set ARGOCD_NAMESPACE`,
        )
      : readFailure(appCheck, err);
  }
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

async function checkPermissions(
  argo: Cluster,
  workloads: Partial<Record<Environment, Cluster | undefined>>,
  inst: Installation,
): Promise<CheckResult[]> {
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
  // Each namespace is asked of the cluster it lives in; an environment whose cluster did not answer is left out.
  const places: [string, string, readonly Permission[], Cluster | undefined][] = [
    ['Argo CD', inst.argocdNamespace, needed.argocd, argo],
    ...Object.keys(inst.environments).map(
      (env) =>
        [
          env,
          inst.environments[env]!.namespace,
          needed.environments[env] ?? [],
          inst.environments[env]!.cluster ? workloads[env] : argo,
        ] as [string, string, Permission[], Cluster | undefined],
    ),
  ];
  const results: CheckResult[] = [];
  for (const [place, namespace, permissions, cluster] of places) {
    const what = `${place}: permissions in namespace ${namespace} are granted`;
    if (!cluster) {
      results.push(skipped('kubernetes', what, `the ${place} cluster check failed`));
      continue;
    }
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
