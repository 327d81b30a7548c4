/**
 * The sandbox world: the simulated GitLab, Jenkins and Kubernetes (with Argo CD) on 127.0.0.1, seeded as the real
 * installation, tied together by the controllers of the real system — a push to the app repo's main branch starts
 * the CI job, CI opens the dev MR, the promote job opens promotion MRs, Argo CD syncs env branches into the
 * cluster — plus the admin endpoint for inspection, fault scenarios and measurement: the requests each system
 * received per endpoint, the webhook deliveries sent (GitLab project hooks, Jenkins build notifications), and the
 * timeline of the world's changes with their wall-clock instants.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Clock, DEFAULT_TIME_SCALE } from '../core/clock.js';
import { FaultEngine, ScenarioSchema, type Installation, type ScenarioInput } from '../core/faults.js';
import type { SandboxServer, ServerTls } from '../core/http.js';
import { RequestCounter, Timeline } from '../core/measure.js';
import { issueWorldCertificates } from '../core/tls.js';
import { GitLabModel, startGitLabServer } from '../gitlab/index.js';
import { JenkinsModel, startJenkinsServer } from '../jenkins/index.js';
import { JenkinsNotifications, type NotificationEndpoint } from '../jenkins/notifications.js';
import { createCluster, type ClusterEnv } from '../kubernetes/cluster.js';
import { writeKubeconfig } from '../kubernetes/kubeconfig.js';
import { PermissionModel } from '../kubernetes/permissions.js';
import { startKubernetesServer } from '../kubernetes/server.js';
import { startAdminServer, type AdminServer } from './admin-server.js';
import { setUpGitLabApprovals, type WorldApprover } from './approvals.js';
import { ciJobRunner } from './ci-job.js';
import { GitLabPlugin } from './gitlab-plugin.js';
import { applyMergeRules } from './merge-rules.js';
import { gitSourceOver } from './git-source.js';
import { defaultLayout, layoutFromPipeline, type WorldApp, type WorldLayout, type WorldPipeline } from './layout.js';
import { promoteJobRunner, promoteParameters } from './promote-job.js';
import { observeWorld } from './observe.js';
import { findScenario, scenarioForPipeline, SCENARIOS } from './scenarios.js';
import { seedRepositories } from './seed.js';
import { shareEnvBranches } from './shared-env-branch.js';
import { clusterEnvsOf, type WorldParts } from './state.js';

/** Where an app lives in one environment. */
export interface WorldInfoEnvironment {
  readonly branch: string;
  /** Directory layouts: the environment's folder on `branch`. */
  readonly directory?: string;
  readonly namespace: string;
  readonly argoApp: string;
}

/** What `shepherd sandbox --json` prints: everything a client needs to talk to the world. */
export interface WorldInfo {
  readonly gitlab: {
    url: string;
    token: string;
    appProject: string;
    deploymentsProject: string;
    /** Part B: the GitLab users who may approve gated promotions, with their tokens (installation `gitlabApprovals`). */
    approvers?: readonly WorldApprover[];
  };
  readonly jenkins: { url: string; user: string; token: string; ciJob: string; promoteJob: string };
  readonly kubernetes: {
    url: string;
    kubeconfig: string;
    token: string;
    /**
     * With `WorldOptions.clusters`: each cluster by name, its API server and its context in `kubeconfig` (named like
     * the cluster). The first cluster, Argo CD's, is also the kubeconfig's current context.
     */
    clusters?: Readonly<Record<string, { readonly url: string; readonly context: string }>>;
  };
  readonly argocd: { namespace: string };
  /** The first app (the seed's only one). */
  readonly app: string;
  /** The environments in promotion order, each with the first app's Application. */
  readonly environments: Record<string, WorldInfoEnvironment>;
  /** Every app of the world: its project, CI job and Application per environment. */
  readonly apps: readonly {
    readonly name: string;
    readonly appProject: string;
    readonly ciJob: string;
    readonly environments: Record<string, WorldInfoEnvironment>;
  }[];
  readonly admin: { url: string };
  /** The world's whole layout (every app, environment, version file and image declaration), for the worker. */
  readonly layout: WorldLayout;
  /** With the trait `tls`: the world's CA certificate (`ca.pem` in the world's folder), which every server's chains to. */
  readonly tls?: { readonly caFile: string };
  /**
   * The Shepherd configuration variables an operator of this installation sets (e.g. `SHEPHERD_ARGOCD_SYNC=prod`
   * for a manual-sync prod), named in the README's vocabulary; empty for the seed's installation. The demo, the
   * sandbox-mode worker and the tests apply them over the environment (`configForWorld`).
   */
  readonly settings: Readonly<Record<string, string>>;
}

export interface WorldOptions {
  /**
   * The pipeline the installation runs (Shepherd's declared pipeline fits): its apps, environments, layouts, image
   * formats and version files. Absent: the seed's installation.
   */
  readonly pipeline?: WorldPipeline;
  /** Multiplies the real installation's durations; default 0.01 (a full run takes seconds). */
  readonly timeScale?: number;
  /** A catalogue name or a scenario object to start with. */
  readonly scenario?: string | ScenarioInput;
  /** Folder for the kubeconfig; a new one under the OS temp dir by default. */
  readonly dir: string;
  /**
   * Jenkins Notification plugin endpoints (real Jenkins configures them per job; here each applies to every job
   * unless it names `jobs`). Also settable through the admin endpoint's `PUT /jenkins/notifications`.
   */
  readonly jenkinsNotifications?: readonly NotificationEndpoint[];
  /**
   * The cluster each environment runs on (environment → cluster name, as a pipeline's `environments[].cluster`).
   * The first environment's cluster runs Argo CD; every other cluster named gets an API server, namespaces,
   * Deployment controller and pods of its own. Absent: one cluster.
   */
  readonly clusters?: Readonly<Record<string, string>>;
}

export interface World extends WorldParts {
  readonly info: WorldInfo;
  /** How this installation differs from the seed's (the starting scenario's `installation`); fixed for its life. */
  readonly installation: Installation;
  readonly clock: Clock;
  /** What the cluster token may do (everything unless a test or `PUT /permissions` on the admin server denies). */
  readonly kubePermissions: PermissionModel;
  /** Requests the vendor servers received per endpoint, and webhook deliveries sent. */
  readonly requests: RequestCounter;
  /** The world's changes with their wall-clock instants. */
  readonly timeline: Timeline;
  /** Jenkins build notifications (Notification plugin). */
  readonly notifications: JenkinsNotifications;
  /** Switches the fault scenario (a catalogue name, an object, or undefined for none). */
  setScenario(scenario: string | ScenarioInput | undefined): Promise<void>;
  stop(): Promise<void>;
}

export class UnknownScenarioError extends Error {
  constructor(name: string) {
    super(`Unknown scenario "${name}". Known scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}.`);
    this.name = 'UnknownScenarioError';
  }
}

export class UnknownScenarioAppError extends Error {
  constructor(scenario: string, app: string, apps: readonly string[]) {
    super(
      `Scenario "${scenario}" names app "${app}", which this world does not have (it has ${apps.join(', ')}); use ${scenario}@<one of those>, or ${scenario} alone for every app.`,
    );
    this.name = 'UnknownScenarioAppError';
  }
}

/**
 * A catalogue name, `name@app` (its faults only for that app), or a scenario object; fitted to the pipeline's
 * environments (`scenarioForPipeline`).
 */
function resolveScenario(s: string | ScenarioInput | undefined, layout: WorldLayout): ScenarioInput | undefined {
  if (s === undefined) return undefined;
  if (typeof s !== 'string') return scenarioForPipeline(s, layout.environmentOrder);
  const [name, app] = s.split('@') as [string, string | undefined];
  const found = findScenario(name);
  if (!found) throw new UnknownScenarioError(name);
  const apps = layout.apps.map((a) => a.app);
  if (app !== undefined && !apps.includes(app)) throw new UnknownScenarioAppError(name, app, apps);
  return scenarioForPipeline(found, layout.environmentOrder, app);
}

const secret = (): string => randomBytes(18).toString('hex');

export class InstallationChangeError extends Error {
  constructor(scenario: string) {
    super(
      `Scenario "${scenario}" sets up the installation differently from this world's; installation traits apply when a world starts: restart the sandbox with --scenario ${scenario}.`,
    );
    this.name = 'InstallationChangeError';
  }
}

/** The installation traits of a scenario, compared by value. */
function traitsOf(s: ScenarioInput | undefined): Installation {
  return s ? ScenarioSchema.parse(s).installation : {};
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  const layout = opts.pipeline ? layoutFromPipeline(opts.pipeline) : defaultLayout();
  // Which cluster each environment runs on: WorldOptions.clusters, else the pipeline's (absent: the first cluster).
  const clusterOfEnv: Readonly<Record<string, string>> =
    opts.clusters ??
    Object.fromEntries((opts.pipeline?.environments ?? []).flatMap((e) => (e.cluster ? [[e.name, e.cluster]] : [])));
  const clusterEnvs = (app: WorldApp): ClusterEnv[] =>
    clusterEnvsOf(layout, app).map((e) => (clusterOfEnv[e.env] ? { ...e, cluster: clusterOfEnv[e.env] } : e));
  const initialScenario = resolveScenario(opts.scenario, layout);
  const installation = traitsOf(initialScenario);
  /** Shepherd settings this installation needs; each trait that needs one adds it where it is set up. */
  const settings: Record<string, string> = {};
  const clock = new Clock(opts.timeScale ?? DEFAULT_TIME_SCALE);
  const faults = new FaultEngine();
  const published = new Set<string>();
  const creds = {
    gitlabToken: `glpat-${secret()}`,
    jenkinsUser: 'shepherd',
    jenkinsToken: secret(),
    jenkinsPassword: secret(),
    kubeToken: secret(),
  };

  const gitlab = new GitLabModel({ clock, faults });
  gitlab.addUser({
    username: 'shepherd',
    name: 'Shepherd',
    email: 'shepherd@sandbox.local',
    tokens: [creds.gitlabToken],
  });
  const { initialImages } = seedRepositories(gitlab, layout);
  // protected-main: nobody pushes to an app's default branch; changes arrive through merge requests only.
  if (installation.protectedAppDefault)
    for (const app of layout.apps) gitlab.protectBranch(app.appProject, 'main', { pushAccessLevel: 0 });
  const stopMergeRules = applyMergeRules(gitlab, layout, installation); // part A: merge rules
  // Part B: GitLab approval rules on the deployments project, and the approvers' users.
  const approvers = installation.gitlabApprovals
    ? setUpGitLabApprovals(gitlab, layout, installation.gitlabApprovals, settings)
    : undefined;

  // The pipeline's manual-sync environments, and those of the installation trait.
  const manualSync = [...new Set([...layout.manualSync, ...(installation.manualSync ?? [])])];
  const cluster = createCluster({
    clock,
    faults,
    git: gitSourceOver(gitlab, {
      [layout.deploymentsRepoUrl]: layout.deploymentsProject,
      ...Object.fromEntries(layout.apps.map((a) => [a.appRepoUrl, a.appProject])),
    }),
    envs: clusterEnvs(layout.apps[0]!),
    app: layout.app,
    repoURL: layout.deploymentsRepoUrl,
    initialImage: initialImages[layout.app]!,
    argoNamespace: layout.argoNamespace,
    // Part C: Argo CD as the installation runs it (manual sync, multi-source Applications).
    ...(manualSync.length > 0 ? { manualSync } : {}),
    ...(installation.multiSource ? { valuesSource: { repoURL: layout.appRepoUrl, targetRevision: 'main' } } : {}),
  });
  for (const app of layout.apps.slice(1)) cluster.addApp(app.app, clusterEnvs(app), initialImages[app.app]!);
  // Part C: Shepherd syncs the manual-sync environments itself; other teams share the env branches.
  if (manualSync.length > 0) settings.SHEPHERD_ARGOCD_MANUAL_SYNC = manualSync.join(',');
  const unshare = installation.sharedEnvBranch
    ? shareEnvBranches({
        gitlab,
        project: layout.deploymentsProject,
        branches: [...new Set(Object.values(layout.environments).map((e) => e.branch))],
      })
    : () => {};

  // Part E: the CI job's gitlab-plugin posts commit statuses with the Jenkins user's GitLab token; a slow start
  // keeps the CI and promote jobs' items left without an executable for a while.
  const pluginToken = `glpat-${secret()}`;
  gitlab.addToken('jenkins', pluginToken);
  const gitlabPlugins = layout.apps.map((a) => new GitLabPlugin({ project: a.appProject, token: pluginToken }));
  const startDelay =
    installation.jenkinsSlowStartMs !== undefined ? { startDelayMs: clock.scale(installation.jenkinsSlowStartMs) } : {};

  // Part D: the team's worker shares the app's label in every namespace.
  if (installation.siblingWorkload)
    cluster.addSiblingWorkload(`${layout.registryExternal}/${layout.group}/${layout.app}-worker:2.4.1`);

  const jenkins = new JenkinsModel({ clock });
  jenkins.security.addUser({
    id: creds.jenkinsUser,
    fullName: 'Shepherd',
    password: creds.jenkinsPassword,
    apiToken: creds.jenkinsToken,
  });
  for (const [i, app] of layout.apps.entries()) {
    defineFolders(jenkins, app.ciJob, 'multibranch');
    jenkins.defineJob({
      path: app.ciJob,
      description: `CI of ${app.appProject} main`,
      parameters: [{ type: 'boolean', name: 'SKIP_INTEGRATION_TESTS', default: false }],
      concurrentBuild: false,
      estimatedDurationMs: clock.duration('ciBuild'),
      runner: ciJobRunner({
        gitlab,
        faults,
        clock,
        layout,
        app,
        published,
        gitlabPlugin: gitlabPlugins[i]!,
        sharedLibrary: installation.jenkinsSharedLibrary === true,
      }),
      ...startDelay,
    });
  }
  defineFolders(jenkins, layout.promoteJob, 'folder');
  jenkins.defineJob({
    path: layout.promoteJob,
    description: 'Promote an application between environments (jenkins/pipelines/Jenkinsfile.promote)',
    parameters: promoteParameters(layout),
    concurrentBuild: false,
    estimatedDurationMs: clock.duration('promoteBuild'),
    runner: promoteJobRunner({ gitlab, kube: cluster.store, faults, clock, layout }),
    ...startDelay,
    shouldCancelInQueue: (params) =>
      faults.domainFault('promote-job-cancelled', {
        app: String(params[layout.promoteParameters.app] ?? ''),
        env: String(params[layout.promoteParameters.target] ?? ''),
      }) !== undefined,
    starvedInQueue: (params) =>
      faults.domainFault('promote-job-starved', {
        app: String(params[layout.promoteParameters.app] ?? ''),
        env: String(params[layout.promoteParameters.target] ?? ''),
      }) !== undefined,
  });

  // The GitLab push webhook of each app repo triggers a MultiBranch event build of main.
  gitlab.onPush((event) => {
    const app = layout.apps.find((a) => a.appProject === event.project);
    if (app && event.branch === 'main' && event.commits.length > 0) {
      jenkins.scheduleBuild(app.ciJob, {}, { kind: 'branch-event', description: `Push event to branch main` });
    }
  });

  const requests = new RequestCounter();
  const timeline = new Timeline();
  const unobserve = observeWorld({ gitlab, jenkins, store: cluster.store, timeline });
  gitlab.hooks.onDelivery = (event) => requests.delivery('gitlab', event);
  const notifications = new JenkinsNotifications(jenkins, opts.jenkinsNotifications ?? []);
  notifications.onDelivery = (phase) => requests.delivery('jenkins', phase);

  const kubePermissions = new PermissionModel();
  const servers: SandboxServer[] = [];
  let admin: AdminServer | undefined;
  const stop = async (): Promise<void> => {
    stopMergeRules();
    unobserve();
    unshare();
    notifications.stop();
    clock.stop();
    cluster.stop();
    gitlab.stop();
    await faults.stop();
    await Promise.all([...servers.map((s) => s.close()), admin?.close()]);
  };
  try {
    // Part F (company CA): with the trait `tls` every server speaks HTTPS with a certificate of the world's own CA,
    // and Shepherd is told to trust that CA the way an operator would (SHEPHERD_CA_FILE).
    let tls: ServerTls | undefined;
    let caFile: string | undefined;
    let caPem: string | undefined;
    if (installation.tls) {
      const certs = await issueWorldCertificates();
      tls = { cert: certs.serverChainPem, key: certs.serverKeyPem };
      caPem = certs.caPem;
      mkdirSync(opts.dir, { recursive: true });
      caFile = join(opts.dir, 'ca.pem');
      writeFileSync(caFile, caPem);
      settings.SHEPHERD_CA_FILE = caFile;
    }
    const gitlabServer = await startGitLabServer({ model: gitlab, faults, requests, ...(tls ? { tls } : {}) });
    servers.push(gitlabServer);
    for (const plugin of gitlabPlugins) plugin.gitlabUrl = gitlabServer.url;
    const jenkinsServer = await startJenkinsServer({ model: jenkins, faults, requests, ...(tls ? { tls } : {}) });
    servers.push(jenkinsServer);
    const kubeServer = await startKubernetesServer({
      store: cluster.store,
      permissions: kubePermissions,
      faults,
      token: creds.kubeToken,
      requests,
      ...(tls ? { tls } : {}),
    });
    servers.push(kubeServer);
    for (const s of servers) faults.registerSystem(s.system, s);
    // Further clusters: an API server each, with the same token; Argo CD deploys to it from now on.
    const clusters: Record<string, { url: string; context: string }> = {};
    if (cluster.argoCluster !== undefined)
      clusters[cluster.argoCluster] = { url: kubeServer.url, context: cluster.argoCluster };
    for (const [name, other] of cluster.others) {
      const server = await startKubernetesServer({
        store: other.store,
        permissions: kubePermissions,
        faults,
        token: creds.kubeToken,
        requests,
        ...(tls ? { tls } : {}),
      });
      servers.push(server);
      cluster.connectCluster(name, server.url);
      clusters[name] = { url: server.url, context: name };
    }

    mkdirSync(opts.dir, { recursive: true });
    const kubeconfig = join(opts.dir, 'kubeconfig');
    await writeKubeconfig(kubeconfig, {
      server: kubeServer.url,
      token: creds.kubeToken,
      contexts: Object.entries(clusters).map(([name, c]) => ({ name, server: c.url })),
      ...(caPem ? { certificateAuthority: caPem } : {}),
    });

    const info: WorldInfo = {
      gitlab: {
        url: gitlabServer.url,
        token: creds.gitlabToken,
        appProject: layout.appProject,
        deploymentsProject: layout.deploymentsProject,
        ...(approvers ? { approvers } : {}),
      },
      jenkins: {
        url: jenkinsServer.url,
        user: creds.jenkinsUser,
        token: creds.jenkinsToken,
        ciJob: layout.ciJob.join('/job/'),
        promoteJob: layout.promoteJob.join('/job/'),
      },
      kubernetes: {
        url: kubeServer.url,
        kubeconfig,
        token: creds.kubeToken,
        ...(cluster.others.size > 0 ? { clusters } : {}),
      },
      argocd: { namespace: layout.argoNamespace },
      app: layout.app,
      environments: infoEnvironments(layout, layout.apps[0]!),
      apps: layout.apps.map((a) => ({
        name: a.app,
        appProject: a.appProject,
        ciJob: a.ciJob.join('/job/'),
        environments: infoEnvironments(layout, a),
      })),
      admin: { url: '' },
      layout,
      ...(caFile ? { tls: { caFile } } : {}),
      settings,
    };
    const world: World = {
      info,
      layout,
      clock,
      faults,
      gitlab,
      jenkins,
      cluster,
      kubePermissions,
      published,
      requests,
      timeline,
      notifications,
      installation,
      setScenario: async (s) => {
        const next = resolveScenario(s, layout);
        if (
          next &&
          JSON.stringify(traitsOf(next)) !== JSON.stringify(installation) &&
          Object.keys(traitsOf(next)).length > 0
        )
          throw new InstallationChangeError(next.name);
        await faults.activate(next);
      },
      stop,
    };
    admin = await startAdminServer(world, tls ? { tls } : {});
    (info.admin as { url: string }).url = admin.url;
    await faults.activate(initialScenario);
    return world;
  } catch (err) {
    await stop();
    throw err;
  }
}

function infoEnvironments(layout: WorldLayout, app: WorldApp): Record<string, WorldInfoEnvironment> {
  return Object.fromEntries(
    layout.environmentOrder.map((env) => {
      const e = app.environments[env]!;
      return [
        env,
        {
          branch: e.branch,
          ...(e.directory ? { directory: e.directory } : {}),
          namespace: e.namespace,
          argoApp: e.argoApp,
        },
      ];
    }),
  );
}

/**
 * The folders above a job (`example-app` of `example-app/main`), each defined once; the one holding a CI job is its
 * repo's multibranch project.
 */
function defineFolders(jenkins: JenkinsModel, job: readonly string[], holder: 'multibranch' | 'folder'): void {
  for (let i = 1; i < job.length; i++) {
    const folder = job.slice(0, i);
    if (jenkins.node(folder)) continue;
    const last = i === job.length - 1 && holder === 'multibranch';
    jenkins.defineFolder(folder, last ? 'multibranch' : 'folder', last ? `${folder.join('/')} branches` : '');
  }
}
