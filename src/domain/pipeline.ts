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
    /** Part A: arm GitLab auto-merge while the MR pipeline runs (SHEPHERD_GITLAB_AUTO_MERGE); absent: false. */
    readonly autoMerge?: boolean;
    /**
     * How the version bump reaches the app project: pushed, through a self-merging MR, or pushed with the MR as the
     * fallback when branch protection refuses the push; `branch` absent: the project's default branch.
     */
    readonly bump?: { readonly via: 'auto' | 'push' | 'merge-request'; readonly branch?: string | undefined };
  };
  readonly jenkins: {
    readonly appJob: readonly string[];
    readonly promoteJob: readonly string[];
    /**
     * The app repo's URLs as the CI job clones it (BuildData `remoteUrls`); a checkout also counts as the app's when
     * its path is `gitlab.appProject` on any host. Absent or empty: by the project path alone.
     */
    readonly appRepoUrls?: readonly string[];
  };
  readonly argocdNamespace: string;
  /**
   * Environments whose Application has no automated sync: the Argo CD wait starts the sync itself by writing the
   * Application's `operation` (SHEPHERD_ARGOCD_MANUAL_SYNC). Absent: none.
   */
  readonly argocdManualSync?: readonly Environment[];
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
