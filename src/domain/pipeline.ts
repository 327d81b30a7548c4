/**
 * Where the pipeline's objects live: the layout activities are configured with (never given by workflows). Pure
 * types and naming rules; built from the configuration (`src/config/pipeline.ts`) in external mode, or from the
 * sandbox world's layout in the embedded default (`src/worker/activities.ts`).
 */
import type { Environment } from './environments.js';

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
  /**
   * The app's workload in each environment's namespace (part D): its Deployment's name, and the container whose
   * image is verified (undefined: the one named like the app, or the only one).
   */
  readonly workload: { readonly deployment: string; readonly container: string | undefined };
}

/** `example-app` → `exampleApp`: the app's CUE identifier, as the deployments repo's update-app-image.sh derives it. */
export function cueIdentifier(app: string): string {
  return app.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The files of an env branch that declare the app's image: env.cue and the rendered manifest. */
export function imageFilesFor(cueName: string): string[] {
  return ['env.cue', `manifests/${cueName}/${cueName}.yaml`];
}
