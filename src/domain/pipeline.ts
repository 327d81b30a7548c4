/**
 * Where the pipeline's objects live: the layout activities are configured with (never given by workflows). Pure
 * types and naming rules; built from the configuration (`src/config/pipeline.ts`) in external mode, or from the
 * sandbox world's layout in the embedded default (`src/worker/activities.ts`).
 */
import type { Environment } from './environments.js';

export interface PipelineEnvironment {
  readonly namespace: string;
  /**
   * The deployments-repo branch Argo CD tracks; changes reach it only through merge requests. In a directory layout
   * several environments share it, each in its own `directory`.
   */
  readonly branch: string;
  /** Directory layouts: the folder of the deployments repo this environment's files live in; absent: the root. */
  readonly directory?: string | undefined;
  readonly argoApp: string;
  /** The name of the cluster its workload runs on (the pipeline's `clusters`); absent: Argo CD's cluster. */
  readonly cluster?: string | undefined;
  /** Its freeze windows (`src/domain/freeze.ts`): no promotion merges into it while one is open. Absent: none. */
  readonly freeze?: FreezeWindows | undefined;
}

/** The version files the nightly validation bumps (`none`: an empty commit, the build numbers the version). */
export const VERSION_FORMATS = ['maven', 'npm', 'gradle', 'plain', 'none'] as const;
export type VersionFormat = (typeof VERSION_FORMATS)[number];

/** The default file of each version format. */
export const VERSION_FILES: Readonly<Record<VersionFormat, string | undefined>> = {
  maven: 'pom.xml',
  npm: 'package.json',
  gradle: 'gradle.properties',
  plain: 'VERSION',
  none: undefined,
};

/**
 * Where an app's image is declared in an environment's files of the deployments repo. `file` is relative to the
 * environment's directory (the branch root in a branch layout); `{app}`, `{cueName}` and `{env}` are replaced.
 * - `cue`: the seed's env.cue (`{env}: {cueName}: image: "…"`);
 * - `yaml`: a Kubernetes manifest, the `image` of the container named `container` (default: the app's container);
 * - `kustomize`: the `images:` entry whose `name` is `name` (default: `{registry}/{app}`), `newTag` or `digest`;
 * - `helm`: a values file, the tag at the dotted `key` (e.g. `image.tag`), and the repository at `repositoryKey`
 *   when given.
 */
export type ImageDeclaration =
  | { readonly format: 'cue'; readonly file: string }
  | { readonly format: 'yaml'; readonly file: string; readonly container?: string | undefined }
  | { readonly format: 'kustomize'; readonly file: string; readonly name?: string | undefined }
  | {
      readonly format: 'helm';
      readonly file: string;
      readonly key: string;
      readonly repositoryKey?: string | undefined;
    };
export const IMAGE_FORMATS = ['cue', 'yaml', 'kustomize', 'helm'] as const;
export type ImageFormat = ImageDeclaration['format'];

/** The promote job's parameter names for each value Shepherd passes (default: the seed's). */
export interface PromoteParameters {
  readonly app: string;
  readonly source: string;
  readonly target: string;
  readonly tag: string;
}
export const SEED_PROMOTE_PARAMETERS: PromoteParameters = {
  app: 'APP_NAME',
  source: 'SOURCE_ENV',
  target: 'TARGET_ENV',
  tag: 'IMAGE_TAG',
};

/**
 * Branch-name templates of the merge requests: `dev`, the one the app's CI opens into the first environment
 * (`{version}`, `{tag}`; Shepherd finds it by the prefix before the first placeholder it cannot fill); `promotion`,
 * the one a promotion opens (`{app}`, `{source}`, `{target}`, `{tag}`).
 */
export interface BranchTemplates {
  readonly dev: string;
  readonly promotion: string;
}
export const SEED_BRANCH_TEMPLATES: BranchTemplates = {
  dev: 'update-dev-{tag}',
  promotion: 'promote-{target}-{tag}',
};

/** `Fri 16:00` → `Mon 08:00` every week, in `timeZone`; or a one-off span of instants or dates. */
export interface RecurringFreeze {
  readonly from: string;
  readonly to: string;
  readonly reason?: string | undefined;
}
export interface OneOffFreeze {
  /** ISO date (`2026-12-24`, from its start) or instant. */
  readonly from: string;
  /** ISO date (to its end) or instant. */
  readonly to: string;
  readonly reason?: string | undefined;
}
/** An environment's freeze windows: no promotion merges into it while one is open. */
export interface FreezeWindows {
  /** IANA time zone the recurring windows and the one-off dates are read in (default UTC). */
  readonly timeZone: string;
  readonly weekly: readonly RecurringFreeze[];
  readonly dates: readonly OneOffFreeze[];
  /** `wait` (default): the promotion waits before its merge until the window closes; `refuse`: it fails. */
  readonly policy: 'wait' | 'refuse';
}

/** An environment of the declared pipeline, in promotion order. */
export interface DeclaredEnvironment {
  readonly name: string;
  readonly branch: string;
  readonly directory?: string | undefined;
  readonly namespace: string;
  /** The Argo CD Application's name template (`{app}`, `{env}`); the seed's: `{app}-{env}`. */
  readonly argoApp: string;
  readonly cluster?: string | undefined;
  /** Whether a promotion into it waits for an approval, and who may give it (empty: anyone). */
  readonly approval: { readonly required: boolean; readonly approvers: readonly string[] };
  readonly freeze?: FreezeWindows | undefined;
  /** Its Application has no automated sync: Shepherd starts the sync itself. */
  readonly manualSync: boolean;
}

/** A cluster an environment's workload runs on: a kubeconfig (path) and context; absent: the defaults. */
export interface DeclaredCluster {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/**
 * The whole declared pipeline (`--pipeline FILE`, or the seed's written out from `infra.env` when there is no
 * file): its environments in order, and one layout per app. Built by `src/config/pipeline-file.ts`.
 */
export interface DeclaredPipeline {
  readonly name: string;
  readonly environments: readonly DeclaredEnvironment[];
  readonly clusters: Readonly<Record<string, DeclaredCluster>>;
  readonly apps: readonly PipelineLayout[];
  readonly promotion: { readonly mode: 'jenkins' | 'gitlab' };
}

/** The pipeline's environment names, in promotion order. */
export function environmentNames(pipeline: Pick<DeclaredPipeline, 'environments'>): string[] {
  return pipeline.environments.map((e) => e.name);
}

/** The app's layout; throws with the names there are when the pipeline has no such app. */
export function appLayout(pipeline: Pick<DeclaredPipeline, 'apps'>, appName: string): PipelineLayout {
  const found = pipeline.apps.find((a) => a.app.name === appName);
  if (!found)
    throw new Error(
      `the pipeline has no app "${appName}" (it has ${pipeline.apps.map((a) => a.app.name).join(', ')}); pass one of those with --app`,
    );
  return found;
}

/** Replaces `{name}` placeholders; unknown ones stay as they are. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-zA-Z]+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** The deployments-repo path of `file` (an image declaration's) in environment `env`. */
export function declarationPath(layout: PipelineLayout, env: string, file: string): string {
  const place = layout.environments[env];
  const filled = fillTemplate(file, { app: layout.app.name, cueName: layout.app.cueName, env });
  return place?.directory ? `${place.directory.replace(/\/+$/, '')}/${filled}` : filled;
}

export interface PipelineLayout {
  /** The application: project, Deployment, container and label name, and its CUE id. */
  readonly app: { readonly name: string; readonly cueName: string };
  /** The pipeline's environments in promotion order (absent: the seed's dev, stage, prod). */
  readonly environmentOrder?: readonly Environment[];
  readonly gitlab: {
    readonly appProject: string;
    readonly deploymentsProject: string;
    /** The version file of the app repo (`versionFormat` says how it is bumped; empty with `none`). */
    readonly versionFile: string;
    /** How the version is bumped (absent: `maven`, in `versionFile`). */
    readonly versionFormat?: VersionFormat;
    /** The files of `imageDeclarations`, for messages (the activities read and write the declarations). */
    readonly imageFiles: readonly string[];
    /**
     * Where the image is declared in each environment's files (absent: the seed's CUE file and manifest, as
     * `imageFiles`). Paths are relative to the environment's directory.
     */
    readonly imageDeclarations?: readonly ImageDeclaration[];
    /** The merge requests' branch-name templates (absent: the seed's). */
    readonly branches?: BranchTemplates;
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
    /** The promote job's parameter names (absent: the seed's APP_NAME, SOURCE_ENV, TARGET_ENV, IMAGE_TAG). */
    readonly promoteParameters?: PromoteParameters;
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

/** The seed's image declarations: env.cue and the manifest rendered from it. */
export function seedImageDeclarations(cueName: string): ImageDeclaration[] {
  return [
    { format: 'cue', file: 'env.cue' },
    { format: 'yaml', file: `manifests/${cueName}/${cueName}.yaml` },
  ];
}

/** The layout's image declarations (the seed's when it names none). */
export function imageDeclarationsOf(layout: PipelineLayout): readonly ImageDeclaration[] {
  return layout.gitlab.imageDeclarations ?? seedImageDeclarations(layout.app.cueName);
}

/** The layout's environments in promotion order. */
export function environmentOrderOf(layout: Pick<PipelineLayout, 'environmentOrder'>): readonly Environment[] {
  return layout.environmentOrder ?? ['dev', 'stage', 'prod'];
}

/**
 * Where environment `env` of the layout lives; throws, naming the environments there are, when the pipeline has no
 * such environment (a run started for another pipeline's environment).
 */
export function placeOf(layout: Pick<PipelineLayout, 'environments' | 'app'>, env: Environment): PipelineEnvironment {
  const place = layout.environments[env];
  if (!place)
    throw new Error(
      `the pipeline of ${layout.app.name} has no environment "${env}" (it has ${Object.keys(layout.environments).join(', ')}); pass one of those`,
    );
  return place;
}
