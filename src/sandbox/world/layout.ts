/**
 * The shape of the simulated installation: names of the apps, projects, jobs, environments and registries, as in
 * the real system (real-system.md §1). One value shared by the controllers and printed by `shepherd sandbox --json`.
 * Without a pipeline it is the seed's installation (`defaultLayout`); with one (`layoutFromPipeline`) it is the
 * installation the pipeline declares: any number of apps and environments, branch or directory layouts, each image
 * format and version file.
 */

/** The version files an app's CI reads its version from (`none`: no file; the build number versions the image). */
export type WorldVersionFormat = 'maven' | 'npm' | 'gradle' | 'plain' | 'none';

/**
 * Where an app's image is declared in an environment's files of the deployments repo (`file` relative to the
 * environment's directory; `{app}`, `{cueName}`, `{env}` are filled in): the seed's CUE block, a container's `image`
 * in plain Kubernetes YAML, a kustomization's `images:` entry, or a key path of Helm values.
 */
export type WorldImageDeclaration =
  | { readonly format: 'cue'; readonly file: string }
  | { readonly format: 'yaml'; readonly file: string; readonly container?: string | undefined }
  | { readonly format: 'kustomize'; readonly file: string; readonly name?: string | undefined }
  | {
      readonly format: 'helm';
      readonly file: string;
      readonly key: string;
      readonly repositoryKey?: string | undefined;
    };

/** The promote job's parameter names. */
export interface WorldPromoteParameters {
  readonly app: string;
  readonly source: string;
  readonly target: string;
  readonly tag: string;
}

/** Where one app lives in one environment, as a pipeline declares it. */
export interface WorldPipelinePlace {
  readonly namespace: string;
  readonly branch: string;
  readonly directory?: string | undefined;
  readonly argoApp: string;
}

/** One app of a pipeline, as a pipeline declares it (Shepherd's `PipelineLayout` has this shape and more). */
export interface WorldPipelineApp {
  readonly app: { readonly name: string; readonly cueName: string };
  readonly gitlab: {
    readonly appProject: string;
    readonly deploymentsProject: string;
    readonly versionFile: string;
    readonly versionFormat?: WorldVersionFormat | undefined;
    readonly imageDeclarations?: readonly WorldImageDeclaration[] | undefined;
    readonly branches?: { readonly dev: string; readonly promotion: string } | undefined;
  };
  readonly jenkins: {
    readonly appJob: readonly string[];
    readonly promoteJob: readonly string[];
    readonly promoteParameters?: WorldPromoteParameters | undefined;
  };
  readonly argocdNamespace: string;
  readonly environments: Readonly<Record<string, WorldPipelinePlace>>;
  readonly registry: { readonly external: string; readonly group: string };
}

/**
 * The pipeline a world is built from. Defined here, structurally, so that the sandbox imports nothing of Shepherd:
 * Shepherd's `DeclaredPipeline` (a resolved pipeline file) is one as it is.
 */
export interface WorldPipeline {
  readonly name?: string | undefined;
  /** In promotion order: the first receives CI's builds. */
  readonly environments: readonly {
    readonly name: string;
    readonly manualSync?: boolean | undefined;
    /** The cluster its workloads run on (a name; the first one named is Argo CD's); absent: the first cluster. */
    readonly cluster?: string | undefined;
  }[];
  readonly apps: readonly WorldPipelineApp[];
}

export interface WorldEnvironment {
  readonly env: string;
  readonly namespace: string;
  /** The deployments-repo branch Argo CD tracks (shared by the environments of a directory layout). */
  readonly branch: string;
  /** Directory layouts: the environment's folder on `branch`; absent: the branch root. */
  readonly directory?: string;
  readonly argoApp: string;
}

/** One app of the world: its project, CI job, version file and where its image is declared. */
export interface WorldApp {
  readonly app: string;
  readonly cueName: string;
  readonly group: string;
  readonly appProject: string;
  /** Git URL of the app repo (as recorded in Jenkins' BuildData). */
  readonly appRepoUrl: string;
  readonly ciJob: readonly string[];
  readonly versionFormat: WorldVersionFormat;
  /** The version file in the app repo; undefined with `none`. */
  readonly versionFile: string | undefined;
  /** The version at the start (`none`: `0.0.0`, the build number counts from there). */
  readonly initialVersion: string;
  readonly declarations: readonly WorldImageDeclaration[];
  readonly registryExternal: string;
  /** Per environment, in the pipeline's order: where the app lives (its own Argo CD Application). */
  readonly environments: Readonly<Record<string, WorldEnvironment>>;
}

export interface WorldLayout {
  /** The first app's name, project, job and URLs (the seed's only app). */
  readonly app: string;
  readonly group: string;
  readonly appProject: string;
  readonly deploymentsProject: string;
  /** Git URL of the first app's repo (as recorded in Jenkins' BuildData). */
  readonly appRepoUrl: string;
  /** Git URL of the deployments repo (the Applications' `repoURL`). */
  readonly deploymentsRepoUrl: string;
  readonly registryExternal: string;
  readonly registryInternal: string;
  readonly argoNamespace: string;
  /** Job path segments of the first app's CI job, and of the promote job. */
  readonly ciJob: readonly string[];
  readonly promoteJob: readonly string[];
  /** The environments in promotion order. */
  readonly environmentOrder: readonly string[];
  /** Per environment: the first app's place (every app shares namespace, branch and directory). */
  readonly environments: Readonly<Record<string, WorldEnvironment>>;
  /** The version in the first app's version file at the start. */
  readonly initialVersion: string;
  /** Every app of the world, the first one first. */
  readonly apps: readonly WorldApp[];
  readonly promoteParameters: WorldPromoteParameters;
  /** Branch-name templates: the dev MR CI opens (`{tag}`), a promotion MR (`{app}`, `{source}`, `{target}`, `{tag}`). */
  readonly branches: { readonly dev: string; readonly promotion: string };
  /** Environments whose Applications have no automated sync, as the pipeline declares them. */
  readonly manualSync: readonly string[];
}

const SANDBOX_GIT = 'https://gitlab.sandbox.local';
const REGISTRY_INTERNAL = 'nexus.nexus.svc.cluster.local:5000';
const SEED_PARAMETERS: WorldPromoteParameters = {
  app: 'APP_NAME',
  source: 'SOURCE_ENV',
  target: 'TARGET_ENV',
  tag: 'IMAGE_TAG',
};
const SEED_BRANCHES = { dev: 'update-dev-{tag}', promotion: 'promote-{target}-{tag}' };

/** The version each format's file starts at. */
const INITIAL_VERSIONS: Readonly<Record<WorldVersionFormat, string>> = {
  maven: '1.0.36-SNAPSHOT',
  npm: '1.4.0',
  gradle: '2.3.0-SNAPSHOT',
  plain: '0.9.0',
  none: '0.0.0',
};

/** `example-app` → `exampleApp` (the sandbox's own copy of the rule; see deployments-repo.ts `cueIdOf`). */
function cueName(app: string): string {
  return app.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function defaultLayout(): WorldLayout {
  const app = 'example-app';
  const group = 'p2c';
  const env = (name: string): WorldEnvironment => ({
    env: name,
    namespace: name,
    branch: name,
    argoApp: `${app}-${name}`,
  });
  const environments = { dev: env('dev'), stage: env('stage'), prod: env('prod') };
  const cue = cueName(app);
  const theApp: WorldApp = {
    app,
    cueName: cue,
    group,
    appProject: `${group}/${app}`,
    appRepoUrl: `${SANDBOX_GIT}/${group}/${app}.git`,
    ciJob: [app, 'main'],
    versionFormat: 'maven',
    versionFile: 'pom.xml',
    initialVersion: INITIAL_VERSIONS.maven,
    declarations: [
      { format: 'cue', file: 'env.cue' },
      { format: 'yaml', file: `manifests/${cue}/${cue}.yaml` },
    ],
    registryExternal: 'docker.jmann.local',
    environments,
  };
  return {
    app,
    group,
    appProject: theApp.appProject,
    deploymentsProject: `${group}/k8s-deployments`,
    appRepoUrl: theApp.appRepoUrl,
    deploymentsRepoUrl: `${SANDBOX_GIT}/${group}/k8s-deployments.git`,
    registryExternal: theApp.registryExternal,
    registryInternal: REGISTRY_INTERNAL,
    argoNamespace: 'argocd',
    ciJob: theApp.ciJob,
    promoteJob: ['promote-environment'],
    environmentOrder: ['dev', 'stage', 'prod'],
    environments,
    initialVersion: theApp.initialVersion,
    apps: [theApp],
    promoteParameters: SEED_PARAMETERS,
    branches: SEED_BRANCHES,
    manualSync: [],
  };
}

/** A pipeline the world cannot simulate; says what to change. */
export class WorldPipelineError extends Error {
  constructor(problem: string) {
    super(`The sandbox cannot build this pipeline's world: ${problem}`);
    this.name = 'WorldPipelineError';
  }
}

/** The image declaration Argo CD renders the app from: kustomize, then Helm, then plain YAML. */
export function renderedDeclaration(app: Pick<WorldApp, 'app' | 'declarations'>): WorldImageDeclaration {
  for (const format of ['kustomize', 'helm', 'yaml'] as const) {
    const found = app.declarations.find((d) => d.format === format);
    if (found) return found;
  }
  throw new WorldPipelineError(
    `app ${app.app} declares its image only in CUE; add the manifest rendered from it (a \`yaml\` declaration), a kustomization or Helm values for Argo CD to deploy.`,
  );
}

/** `file` of a declaration with its placeholders filled, inside the environment's directory. */
export function placedFile(app: Pick<WorldApp, 'app' | 'cueName'>, env: WorldEnvironment, file: string): string {
  const filled = file.replace(/\{(app|cueName|env)\}/g, (_, key: string) =>
    key === 'app' ? app.app : key === 'cueName' ? app.cueName : env.env,
  );
  return env.directory ? `${env.directory.replace(/\/+$/, '')}/${filled}` : filled;
}

/** The folder Argo CD renders the app from in an environment: the rendered declaration's folder. */
export function sourcePathOf(app: WorldApp, env: string): string {
  const place = app.environments[env]!;
  const file = placedFile(app, place, renderedDeclaration(app).file);
  const slash = file.lastIndexOf('/');
  return slash < 0 ? '.' : file.slice(0, slash);
}

/** The world of a pipeline: every app and environment it declares, named as it names them. */
export function layoutFromPipeline(pipeline: WorldPipeline): WorldLayout {
  const first = pipeline.apps[0];
  if (!first) throw new WorldPipelineError('it has no apps; declare at least one.');
  const order = pipeline.environments.map((e) => e.name);
  if (order.length < 2) throw new WorldPipelineError('it has fewer than two environments; declare at least two.');
  const deploymentsProject = first.gitlab.deploymentsProject;
  const apps = pipeline.apps.map((a): WorldApp => {
    if (a.gitlab.deploymentsProject !== deploymentsProject)
      throw new WorldPipelineError(
        `app ${a.app.name} uses deployments repo ${a.gitlab.deploymentsProject}, the others ${deploymentsProject}; the world simulates one deployments repo, so give every app the same.`,
      );
    const format = a.gitlab.versionFormat ?? 'maven';
    const environments = Object.fromEntries(
      order.map((name) => {
        const place = a.environments[name];
        if (!place) throw new WorldPipelineError(`app ${a.app.name} has no place in environment ${name}.`);
        return [
          name,
          {
            env: name,
            namespace: place.namespace,
            branch: place.branch,
            ...(place.directory ? { directory: place.directory } : {}),
            argoApp: place.argoApp,
          },
        ];
      }),
    );
    const app: WorldApp = {
      app: a.app.name,
      cueName: a.app.cueName,
      group: a.registry.group,
      appProject: a.gitlab.appProject,
      appRepoUrl: `${SANDBOX_GIT}/${a.gitlab.appProject}.git`,
      ciJob: a.jenkins.appJob,
      versionFormat: format,
      versionFile: format === 'none' ? undefined : a.gitlab.versionFile,
      initialVersion: INITIAL_VERSIONS[format],
      declarations: a.gitlab.imageDeclarations ?? [
        { format: 'cue', file: 'env.cue' },
        { format: 'yaml', file: `manifests/${a.app.cueName}/${a.app.cueName}.yaml` },
      ],
      registryExternal: a.registry.external,
      environments,
    };
    renderedDeclaration(app);
    for (const d of app.declarations)
      if (d.format === 'helm' && !/(^|\/)values\.yaml$/.test(d.file))
        throw new WorldPipelineError(
          `app ${app.app} declares its Helm values in ${d.file}; the world's Argo CD renders a chart with its values.yaml only, so declare the image in the chart's values.yaml.`,
        );
    return app;
  });
  const theFirst = apps[0]!;
  return {
    app: theFirst.app,
    group: theFirst.group,
    appProject: theFirst.appProject,
    deploymentsProject,
    appRepoUrl: theFirst.appRepoUrl,
    deploymentsRepoUrl: `${SANDBOX_GIT}/${deploymentsProject}.git`,
    registryExternal: theFirst.registryExternal,
    registryInternal: REGISTRY_INTERNAL,
    argoNamespace: first.argocdNamespace,
    ciJob: theFirst.ciJob,
    promoteJob: first.jenkins.promoteJob,
    environmentOrder: order,
    environments: theFirst.environments,
    initialVersion: theFirst.initialVersion,
    apps,
    promoteParameters: first.jenkins.promoteParameters ?? SEED_PARAMETERS,
    branches: first.gitlab.branches ?? SEED_BRANCHES,
    manualSync: pipeline.environments.filter((e) => e.manualSync === true).map((e) => e.name),
  };
}

/** The app of the world called `name`, or undefined. */
export function worldApp(layout: WorldLayout, name: string): WorldApp | undefined {
  return layout.apps.find((a) => a.app === name);
}

/** Replaces `{name}` placeholders of a branch template. */
export function fillBranch(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-zA-Z]+)\}/g, (whole, key: string) => values[key] ?? whole);
}
