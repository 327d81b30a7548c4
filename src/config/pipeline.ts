/** The pipeline layout (`src/domain/pipeline.ts`) of a configured installation. */
import { imageFilesFor, type PipelineLayout } from '../domain/pipeline.js';
import type { ShepherdConfig } from './load.js';

/** The layout of a configured (external) installation. */
export function pipelineFromConfig(config: ShepherdConfig): PipelineLayout {
  if (!config.gitlab || !config.jenkins)
    throw new Error('pipelineFromConfig needs GitLab and Jenkins to be configured (external mode)');
  const group = config.gitlab.deploymentsProject.split('/').slice(0, -1).join('/');
  return {
    app: { name: config.app.name, cueName: config.app.cueName },
    gitlab: {
      appProject: config.gitlab.appProject,
      deploymentsProject: config.gitlab.deploymentsProject,
      versionFile: 'pom.xml',
      imageFiles: imageFilesFor(config.app.cueName),
      autoMerge: config.gitlabMerge.autoMerge,
      bump: config.bump,
    },
    jenkins: {
      appJob: config.jenkins.appJob,
      promoteJob: config.jenkins.promoteJob,
      appRepoUrls: config.jenkins.appRepoUrls,
    },
    argocdNamespace: config.kubernetes.argocdNamespace,
    argocdManualSync: config.kubernetes.argocdManualSync,
    environments: {
      dev: {
        namespace: config.environments.dev.namespace,
        branch: config.environments.dev.branch,
        argoApp: config.environments.dev.argoApp,
      },
      stage: {
        namespace: config.environments.stage.namespace,
        branch: config.environments.stage.branch,
        argoApp: config.environments.stage.argoApp,
      },
      prod: {
        namespace: config.environments.prod.namespace,
        branch: config.environments.prod.branch,
        argoApp: config.environments.prod.argoApp,
      },
    },
    registry: { external: config.registry.external, group },
    degradedGraceSeconds: 30,
    stabilitySeconds: 10,
    workload: { deployment: config.kubernetes.deployment, container: config.kubernetes.container },
  };
}
