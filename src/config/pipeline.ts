/**
 * Where the pipeline's objects live: what activities are configured with (never given by workflows). Built from
 * the configuration in external mode, or from the sandbox world's layout in the embedded default.
 */
import type { Environment } from '../domain/environments.js';
import type { ShepherdConfig } from './load.js';

export interface PipelineEnvironment {
  readonly namespace: string;
  /** The deployments-repo branch Argo CD tracks; changes reach it only through merge requests. */
  readonly branch: string;
  readonly argoApp: string;
}

export interface PipelineLayout {
  /** The application: project, Deployment, container and label name, and its CUE id. */
  readonly app: { readonly name: string; readonly cueName: string };
  readonly gitlab: {
    readonly appProject: string;
    readonly deploymentsProject: string;
    /** The version file of the app repo; its first `<version>` element is bumped. */
    readonly versionFile: string;
    /** Files of an env branch that carry the image reference (updated by a native promotion MR). */
    readonly imageFiles: readonly string[];
  };
  readonly jenkins: { readonly appJob: readonly string[]; readonly promoteJob: readonly string[] };
  readonly argocdNamespace: string;
  readonly environments: Readonly<Record<Environment, PipelineEnvironment>>;
  /** Registry of deployed image references (`{registry}/{group}/{app}:{tag}`). */
  readonly registry: { readonly external: string; readonly group: string };
  /** Seconds a pod may crash or wait while starting before a wait ends with AppDegradedError. */
  readonly degradedGraceSeconds: number;
  /** Seconds every pod must stay Ready without restarts for verifyWorkload. */
  readonly stabilitySeconds: number;
}

export function imageFilesFor(cueName: string): string[] {
  return ['env.cue', `manifests/${cueName}/${cueName}.yaml`];
}

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
    },
    jenkins: { appJob: config.jenkins.appJob, promoteJob: config.jenkins.promoteJob },
    argocdNamespace: config.kubernetes.argocdNamespace,
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
  };
}
