/**
 * The shape of the simulated installation: names of the app, projects, jobs, environments and registries, as in
 * the real system (real-system.md §1). One value shared by the controllers and printed by `shepherd sandbox --json`.
 */
export interface WorldEnvironment {
  readonly env: 'dev' | 'stage' | 'prod';
  readonly namespace: string;
  /** The deployments-repo branch Argo CD tracks. */
  readonly branch: string;
  readonly argoApp: string;
}

export interface WorldLayout {
  readonly app: string;
  readonly group: string;
  readonly appProject: string;
  readonly deploymentsProject: string;
  /** Git URL of the app repo (as recorded in Jenkins' BuildData). */
  readonly appRepoUrl: string;
  /** Git URL of the deployments repo (the Applications' `repoURL`). */
  readonly deploymentsRepoUrl: string;
  readonly registryExternal: string;
  readonly registryInternal: string;
  readonly argoNamespace: string;
  /** Job path segments. */
  readonly ciJob: readonly string[];
  readonly promoteJob: readonly string[];
  readonly environments: Readonly<Record<'dev' | 'stage' | 'prod', WorldEnvironment>>;
  /** The version in pom.xml at the start. */
  readonly initialVersion: string;
}

export function defaultLayout(): WorldLayout {
  const app = 'example-app';
  const group = 'p2c';
  const env = (name: 'dev' | 'stage' | 'prod'): WorldEnvironment => ({
    env: name,
    namespace: name,
    branch: name,
    argoApp: `${app}-${name}`,
  });
  return {
    app,
    group,
    appProject: `${group}/${app}`,
    deploymentsProject: `${group}/k8s-deployments`,
    appRepoUrl: `https://gitlab.sandbox.local/${group}/${app}.git`,
    deploymentsRepoUrl: `https://gitlab.sandbox.local/${group}/k8s-deployments.git`,
    registryExternal: 'docker.jmann.local',
    registryInternal: 'nexus.nexus.svc.cluster.local:5000',
    argoNamespace: 'argocd',
    ciJob: [app, 'main'],
    promoteJob: ['promote-environment'],
    environments: { dev: env('dev'), stage: env('stage'), prod: env('prod') },
    initialVersion: '1.0.36-SNAPSHOT',
  };
}
