/** The pipeline layout (`src/domain/pipeline.ts`) of a configured installation, and the seed's declared pipeline. */
import { ENVIRONMENTS } from '../domain/environments.js';
import {
  imageFilesFor,
  seedImageDeclarations,
  SEED_BRANCH_TEMPLATES,
  SEED_PROMOTE_PARAMETERS,
  type DeclaredCluster,
  type DeclaredPipeline,
  type PipelineLayout,
} from '../domain/pipeline.js';
import type { ShepherdConfig } from './load.js';

/** What `seedPipeline` reads of the configuration. */
export type SeedSettings = Pick<
  ShepherdConfig,
  'app' | 'environments' | 'gitlab' | 'jenkins' | 'kubernetes' | 'gitlabMerge' | 'bump' | 'registry' | 'approvals'
>;

/**
 * The seed's installation written out as a declared pipeline, from the `infra.env` variables: dev, stage and prod
 * on branches of their names, one app with its version in pom.xml and its image in env.cue plus the manifest. What
 * Shepherd runs when no pipeline file is given (`examples/pipelines/seed.yaml` is the same, as a file).
 */
export function seedPipeline(config: SeedSettings): DeclaredPipeline {
  const clusters: Record<string, DeclaredCluster> = {};
  const environments = ENVIRONMENTS.map((name) => {
    const env = config.environments[name]!;
    if (env.cluster) clusters[name] = { kubeconfig: env.cluster.kubeconfig, context: env.cluster.context };
    return {
      name,
      branch: env.branch,
      namespace: env.namespace,
      argoApp: '{app}-{env}',
      ...(env.cluster ? { cluster: name } : {}),
      approval: {
        required: config.approvals.environments.includes(name),
        approvers: [...config.approvals.approvers],
      },
      manualSync: config.kubernetes.argocdManualSync.includes(name),
    };
  });
  return {
    name: 'seed',
    environments,
    clusters,
    apps: [seedLayout(config)],
    promotion: { mode: 'jenkins' },
  };
}

function seedLayout(config: SeedSettings): PipelineLayout {
  const group = config.gitlab?.deploymentsProject.split('/').slice(0, -1).join('/') ?? 'p2c';
  const name = config.app.name;
  return {
    app: { name, cueName: config.app.cueName },
    environmentOrder: [...ENVIRONMENTS],
    gitlab: {
      appProject: config.gitlab?.appProject ?? `${group}/${name}`,
      deploymentsProject: config.gitlab?.deploymentsProject ?? `${group}/k8s-deployments`,
      versionFile: 'pom.xml',
      versionFormat: 'maven',
      imageFiles: imageFilesFor(config.app.cueName),
      imageDeclarations: seedImageDeclarations(config.app.cueName),
      branches: SEED_BRANCH_TEMPLATES,
      autoMerge: config.gitlabMerge.autoMerge,
      bump: config.bump,
    },
    jenkins: {
      appJob: config.jenkins?.appJob ?? [name, 'main'],
      promoteJob: config.jenkins?.promoteJob ?? ['promote-environment'],
      promoteParameters: SEED_PROMOTE_PARAMETERS,
      appRepoUrls: config.jenkins?.appRepoUrls ?? [],
    },
    argocdNamespace: config.kubernetes.argocdNamespace,
    argocdManualSync: config.kubernetes.argocdManualSync,
    environments: Object.fromEntries(
      ENVIRONMENTS.map((e) => {
        const env = config.environments[e]!;
        return [
          e,
          {
            namespace: env.namespace,
            branch: env.branch,
            argoApp: env.argoApp,
            ...(env.cluster ? { cluster: e } : {}),
          },
        ];
      }),
    ),
    registry: { external: config.registry.external, group },
    degradedGraceSeconds: 30,
    stabilitySeconds: 10,
    workload: { deployment: config.kubernetes.deployment, container: config.kubernetes.container },
  };
}

/** The layout of a configured (external) installation's first app (the only one without a pipeline file). */
export function pipelineFromConfig(config: ShepherdConfig): PipelineLayout {
  if (!config.gitlab || !config.jenkins)
    throw new Error('pipelineFromConfig needs GitLab and Jenkins to be configured (external mode)');
  return config.pipeline.apps[0]!;
}
