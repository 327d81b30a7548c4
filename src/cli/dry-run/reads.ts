/**
 * The only doors a dry-run has to the systems: the read methods of Shepherd's clients, nothing that writes. The
 * types are narrowed to those methods, so that the planner cannot call anything else; the clients come from the
 * configuration (external mode) or from the sandbox world announced in the state folder (embedded mode), the same
 * systems a real run of this installation would drive.
 */
import type { GitLabClient } from '../../clients/gitlab/index.js';
import { GitLabClient as GitLabApi } from '../../clients/gitlab/index.js';
import { createKubernetesClient, type KubernetesClient } from '../../clients/kubernetes/index.js';
import type { ShepherdConfig } from '../../config/load.js';
import { Secret } from '../../config/secret.js';
import { readWorldFile, worldFilePath } from '../../sandbox/world/world-file.js';
import { workloadClientsFrom } from '../../worker/activities.js';
import { UsageError } from '../command.js';

/** GitLab, read only: projects, branches, files, and commit ancestry (GET requests). */
export type GitLabReads = Pick<GitLabClient, 'getProject' | 'getBranch' | 'readFile' | 'isAncestor'>;

/** A cluster, read only: the Argo CD Application and the Deployment (`get` requests). */
export type KubernetesReads = Pick<KubernetesClient, 'getApplication' | 'readDeployment'>;

export interface DryRunReads {
  readonly gitlab: GitLabReads;
  /** The Argo CD cluster, and every environment's workload unless `workloads` names another cluster. */
  readonly kubernetes: KubernetesReads;
  readonly workloads: Readonly<Partial<Record<string, KubernetesReads>>>;
}

/**
 * The systems of `config` to read from, and the configuration to plan with: in external mode the configured ones;
 * in embedded mode the running sandbox world's (with its installation settings applied, as the worker does). No
 * world running: a UsageError saying to start one, since a dry-run must look at the world a real run would use.
 */
export function readsFor(
  config: ShepherdConfig,
  configWith: (overrides: Readonly<Record<string, string>>) => ShepherdConfig,
): { reads: DryRunReads; config: ShepherdConfig; where: string } {
  if (config.mode === 'external') {
    if (!config.gitlab)
      throw new UsageError('the dry-run reads GitLab, but GITLAB_URL_EXTERNAL is not set; nothing was read');
    return {
      config,
      where: `GitLab ${config.gitlab.url} and the configured cluster`,
      reads: {
        gitlab: new GitLabApi({ url: config.gitlab.url, token: config.gitlab.token, companyCa: config.companyCa }),
        kubernetes: createKubernetesClient({
          kubeconfigPath: config.kubernetes.kubeconfig,
          context: config.kubernetes.context,
          companyCa: config.companyCa,
        }),
        workloads: workloadClientsFrom(config),
      },
    };
  }
  const info = readWorldFile(config.temporal.stateDir);
  if (!info)
    throw new UsageError(
      `no external systems are configured (GITLAB_URL_EXTERNAL, …) and no sandbox world runs (${worldFilePath(config.temporal.stateDir)}): ` +
        'start `npx shepherd sandbox` in another terminal (the dry-run looks at the world a real run would use), or configure the real systems',
    );
  const worldConfig = configWith(info.settings ?? {});
  return {
    config: worldConfig,
    where: `the sandbox world (GitLab ${info.gitlab.url}, Kubernetes ${info.kubernetes.url})`,
    reads: {
      gitlab: new GitLabApi({
        url: info.gitlab.url,
        token: new Secret(info.gitlab.token),
        companyCa: worldConfig.companyCa,
      }),
      kubernetes: createKubernetesClient({
        kubeconfigPath: info.kubernetes.kubeconfig,
        companyCa: worldConfig.companyCa,
      }),
      workloads: {},
    },
  };
}
