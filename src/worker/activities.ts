/**
 * Builds Shepherd's activities: clients from configuration (or from the sandbox world in the embedded default),
 * then each system's activity factory with the clients and the pipeline layout it needs. The only place clients
 * and activities are constructed.
 */
import { createGitLabActivities } from '../../activities/gitlab.js';
import { createJenkinsActivities } from '../../activities/jenkins.js';
import { createKubernetesActivities, gitLabAncestry } from '../../activities/kubernetes.js';
import { createNotificationActivities } from '../../activities/notifications.js';
import { createPromotionActivities } from '../../activities/promotions.js';
import { GitLabClient } from '../clients/gitlab/index.js';
import { JenkinsClient } from '../clients/jenkins/client.js';
import { createKubernetesClient, type KubernetesClient } from '../clients/kubernetes/index.js';
import { createWebhookClient, type NotificationClient } from '../clients/notifications/index.js';
import { loadConfig, type LoadOptions, type ShepherdConfig } from '../config/load.js';
import { Secret } from '../config/secret.js';
import type { ShepherdActivities } from '../domain/activities.js';
import type { Environment } from '../domain/environments.js';
import {
  cueIdentifier,
  seedImageDeclarations,
  type BranchTemplates,
  type ImageDeclaration,
  type PipelineLayout,
  type PromoteParameters,
  type VersionFormat,
} from '../domain/pipeline.js';

export interface ActivityClients {
  readonly gitlab: GitLabClient;
  readonly jenkins: JenkinsClient;
  readonly kubernetes: KubernetesClient;
  /** Environments whose workload runs in another cluster than Argo CD's (multi-cluster pipelines). */
  readonly workloads?: Readonly<Partial<Record<Environment, KubernetesClient>>>;
  readonly notifications: NotificationClient | undefined;
}

/**
 * How often waits look again, and whether webhooks wake them (then the waits they cover poll at `fallbackMs`);
 * the sandbox runs faster than the real systems, so it is polled more often.
 */
export interface PollIntervals {
  readonly gitlabMs?: number | undefined;
  readonly jenkinsMs?: number | undefined;
  readonly kubernetesMs?: number | undefined;
  /** Which systems deliver webhooks to a receiver of this installation. */
  readonly webhooks?: WebhookSystems | undefined;
  readonly fallbackMs?: number | undefined;
}

/** The systems whose events reach the receiver (GitLab hooks, Jenkins notifications). */
export interface WebhookSystems {
  readonly gitlab: boolean;
  readonly jenkins: boolean;
}

/** The wait settings of the configuration (SHEPHERD_WEBHOOKS, SHEPHERD_POLL_*). */
export function pollIntervalsFrom(config: ShepherdConfig | undefined): PollIntervals {
  const w = config?.waits;
  return {
    gitlabMs: w?.pollGitlabMs,
    jenkinsMs: w?.pollJenkinsMs,
    kubernetesMs: w?.pollKubernetesMs,
    webhooks: config?.webhooks.enabled ? { gitlab: true, jenkins: true } : undefined,
    fallbackMs: w?.fallbackMs,
  };
}

/** The webhook settings a system's activities take. */
function webhookDeps(
  poll: PollIntervals,
  system: keyof WebhookSystems,
): { webhooks?: boolean; fallbackIntervalMs?: number } {
  return {
    ...(poll.webhooks?.[system] ? { webhooks: true } : {}),
    ...(poll.fallbackMs ? { fallbackIntervalMs: poll.fallbackMs } : {}),
  };
}

/**
 * The activities of every app of the pipeline, on one worker: each app's set is built with its own layout, and each
 * call goes to the set of the app its input names (`appName`). Calls that name no app (merge requests by iid,
 * branches, notifications) concern the deployments repo the apps share, and go to the first app's set.
 */
export function buildActivities(
  clients: ActivityClients,
  layouts: PipelineLayout | readonly PipelineLayout[],
  poll: PollIntervals = {},
): ShepherdActivities {
  const all = Array.isArray(layouts) ? (layouts as readonly PipelineLayout[]) : [layouts as PipelineLayout];
  if (all.length === 0) throw new Error('buildActivities needs the layout of at least one app');
  if (all.length === 1) return buildAppActivities(clients, all[0]!, poll);
  const byApp = new Map(all.map((layout) => [layout.app.name, buildAppActivities(clients, layout, poll)]));
  const first = byApp.get(all[0]!.app.name)!;
  return dispatchByApp(byApp, first);
}

/** One activity set whose functions call the set of the app the input names (else `fallback`). */
export function dispatchByApp(
  byApp: ReadonlyMap<string, ShepherdActivities>,
  fallback: ShepherdActivities,
): ShepherdActivities {
  const routed: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(fallback) as (keyof ShepherdActivities)[]) {
    routed[name] = (input: unknown) => {
      const app = typeof input === 'object' && input !== null ? (input as { appName?: unknown }).appName : undefined;
      const set = (typeof app === 'string' ? byApp.get(app) : undefined) ?? fallback;
      return (set[name] as (i: unknown) => Promise<unknown>)(input);
    };
  }
  return routed as unknown as ShepherdActivities;
}

function buildAppActivities(clients: ActivityClients, layout: PipelineLayout, poll: PollIntervals): ShepherdActivities {
  return {
    ...createGitLabActivities({
      client: clients.gitlab,
      layout,
      ...(poll.gitlabMs ? { pollIntervalMs: poll.gitlabMs } : {}),
      ...webhookDeps(poll, 'gitlab'),
    }),
    ...createJenkinsActivities({
      client: clients.jenkins,
      layout,
      commitStatuses: clients.gitlab, // part E: the build URL Jenkins posted on the commit
      ...(poll.jenkinsMs ? { pollIntervalMs: poll.jenkinsMs } : {}),
      ...webhookDeps(poll, 'jenkins'),
    }),
    ...createKubernetesActivities({
      client: clients.kubernetes,
      ancestry: gitLabAncestry(clients.gitlab, layout.gitlab.deploymentsProject),
      ...(clients.workloads ? { workloads: clients.workloads } : {}),
      layout,
      ...(poll.kubernetesMs ? { pollIntervalMs: poll.kubernetesMs } : {}),
    }),
    ...createNotificationActivities({ client: clients.notifications }),
    ...createPromotionActivities({ layout }),
  };
}

function notificationsFrom(config: ShepherdConfig): NotificationClient | undefined {
  const url = config.notifications.webhookUrl;
  return url ? createWebhookClient({ webhookUrl: url, companyCa: config.companyCa }) : undefined;
}

/** Activities against the configured real systems (external mode). */
export function activitiesFromConfig(config: ShepherdConfig): ShepherdActivities {
  if (!config.gitlab || !config.jenkins) throw new Error('activitiesFromConfig needs GitLab and Jenkins configured');
  const clients: ActivityClients = {
    gitlab: new GitLabClient({ url: config.gitlab.url, token: config.gitlab.token, companyCa: config.companyCa }),
    jenkins: new JenkinsClient({
      url: config.jenkins.url,
      user: config.jenkins.user,
      token: config.jenkins.token,
      companyCa: config.companyCa,
    }),
    kubernetes: createKubernetesClient({
      kubeconfigPath: config.kubernetes.kubeconfig,
      context: config.kubernetes.context,
      companyCa: config.companyCa,
    }),
    workloads: workloadClientsFrom(config),
    notifications: notificationsFrom(config),
  };
  return buildActivities(clients, config.pipeline.apps, pollIntervalsFrom(config));
}

/** Where a declared cluster is reached, and the setting an authentication error should name. */
export interface ClusterAccess {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly credentialVariable: string;
}

/**
 * The clusters environments' workloads run on, by cluster name: each cluster of the pipeline's `clusters` that an
 * environment names (`environments[].cluster`). A cluster without a kubeconfig is reached through `kubeconfig`
 * (KUBECONFIG, or the sandbox world's). The seed's SHEPHERD_KUBECONFIG_<ENV> and SHEPHERD_KUBE_CONTEXT_<ENV> declare
 * a cluster named like the environment, and authentication errors name those variables.
 */
export function clustersOfPipeline(
  config: Pick<ShepherdConfig, 'pipeline' | 'pipelineFile'>,
  kubeconfig: string | undefined,
  contexts: Readonly<Record<string, { readonly context: string }>> = {},
): Map<string, ClusterAccess> {
  const clusters = new Map<string, ClusterAccess>();
  for (const env of config.pipeline.environments) {
    if (env.cluster === undefined || clusters.has(env.cluster)) continue;
    const declared = config.pipeline.clusters[env.cluster] ?? {};
    clusters.set(env.cluster, {
      kubeconfig: declared.kubeconfig ?? kubeconfig,
      // In `kubeconfig`, a cluster the pipeline gives no context is reached through the one named like it, if any.
      context: declared.context ?? (declared.kubeconfig === undefined ? contexts[env.cluster]?.context : undefined),
      credentialVariable:
        config.pipelineFile === undefined
          ? `SHEPHERD_KUBECONFIG_${env.cluster.toUpperCase()}`
          : `the kubeconfig of cluster "${env.cluster}" (clusters.${env.cluster} in ${config.pipelineFile})`,
    });
  }
  return clusters;
}

/**
 * A client for each environment whose workload runs on a cluster the pipeline names; environments on the same
 * cluster share one client (and so one watch of its Deployments and pods). Environments that name no cluster are
 * absent: their workload is read in Argo CD's cluster. `kubeconfig`: what a cluster without one uses; `contexts`: the
 * context of each cluster in it, when the pipeline names none (a sandbox world's `kubernetes.clusters`).
 */
export function workloadClientsFrom(
  config: Pick<ShepherdConfig, 'pipeline' | 'pipelineFile' | 'companyCa' | 'kubernetes'>,
  kubeconfig: string | undefined = config.kubernetes.kubeconfig,
  contexts: Readonly<Record<string, { readonly context: string }>> = {},
): Partial<Record<Environment, KubernetesClient>> {
  const byCluster = new Map<string, KubernetesClient>();
  for (const [name, access] of clustersOfPipeline(config, kubeconfig, contexts))
    byCluster.set(
      name,
      createKubernetesClient({
        kubeconfigPath: access.kubeconfig,
        context: access.context,
        credentialVariable: access.credentialVariable,
        companyCa: config.companyCa,
      }),
    );
  const clients: Partial<Record<Environment, KubernetesClient>> = {};
  for (const env of config.pipeline.environments)
    if (env.cluster !== undefined) clients[env.name] = byCluster.get(env.cluster)!;
  return clients;
}

/**
 * What the composition root needs of a sandbox world: where its systems listen, the credentials it issued, and the
 * names of its installation. Stated here, by shape, so that the worker does not depend on the sandbox's code; the
 * sandbox's `World` (and `shepherd sandbox --json`) provide exactly this.
 */
/** One app of a sandbox world (`WorldApp`): what its layout is built from. */
export interface SandboxApp {
  readonly app: string;
  readonly cueName: string;
  readonly group: string;
  readonly appProject: string;
  readonly appRepoUrl: string;
  readonly ciJob: readonly string[];
  readonly versionFormat: VersionFormat;
  readonly versionFile: string | undefined;
  readonly declarations: readonly ImageDeclaration[];
  readonly registryExternal: string;
  readonly environments: Readonly<Record<string, SandboxPlace>>;
}

/** Where an app lives in one environment of a sandbox world. */
export interface SandboxPlace {
  readonly namespace: string;
  readonly branch: string;
  readonly directory?: string;
  readonly argoApp: string;
}

export interface SandboxInstallation {
  readonly layout: {
    readonly app: string;
    readonly group: string;
    readonly appProject: string;
    readonly deploymentsProject: string;
    readonly registryExternal: string;
    readonly argoNamespace: string;
    /** The app repo's URL as the CI job clones it (its builds' BuildData), part E. */
    readonly appRepoUrl?: string;
    readonly ciJob: readonly string[];
    readonly promoteJob: readonly string[];
    readonly environments: Readonly<Record<string, SandboxPlace>>;
    /** A world built from a pipeline: its environments in order, every app, the promote job's names. */
    readonly environmentOrder?: readonly string[];
    readonly apps?: readonly SandboxApp[];
    readonly promoteParameters?: PromoteParameters;
    readonly branches?: BranchTemplates;
  };
  readonly info: {
    /** The Shepherd settings this installation needs (`WorldInfo.settings`); `configForWorld` applies them. */
    readonly settings?: Readonly<Record<string, string>>;
    readonly gitlab: { readonly url: string; readonly token: string };
    readonly jenkins: { readonly url: string; readonly user: string; readonly token: string };
    readonly kubernetes: {
      readonly kubeconfig: string;
      /** The world's clusters by name, each with its context in `kubeconfig` (worlds with several clusters). */
      readonly clusters?: Readonly<Record<string, { readonly context: string }>>;
    };
  };
}

/**
 * The configuration for a sandbox world: the environment (or `opts.env`, `--vars-file`) with the world's
 * installation settings over it, so that Shepherd is set up for the installation the world simulates.
 */
export function configForWorld(
  world: { readonly info: Pick<SandboxInstallation['info'], 'settings'> },
  opts: LoadOptions = {},
): ShepherdConfig {
  return loadConfig({ ...opts, overrides: { ...(opts.overrides ?? {}), ...(world.info.settings ?? {}) } });
}

/** The world's pace: how long pods may crash and must stay Ready (the sandbox runs at a fraction of real time). */
type WorldTiming = { degradedGraceSeconds?: number; stabilitySeconds?: number };

/**
 * The pipeline layout of the sandbox world's first app (the seed's only one). `config` (from `configForWorld`)
 * carries the installation's settings that the layout reflects; absent: the seed's installation.
 */
export function layoutForWorld(
  world: Pick<SandboxInstallation, 'layout'>,
  timing: WorldTiming = {},
  config?: ShepherdConfig,
): PipelineLayout {
  return layoutsForWorld(world, timing, config)[0]!;
}

/**
 * One pipeline layout per app of the sandbox world, with the values a pipeline file declaring that installation
 * gives in external mode (its environments in order, directories, version files, image declarations, branch
 * templates and promote-job parameters); the seed's world gives the seed's layout.
 */
export function layoutsForWorld(
  world: Pick<SandboxInstallation, 'layout'>,
  timing: WorldTiming = {},
  config?: ShepherdConfig,
): PipelineLayout[] {
  const w = world.layout;
  const order = w.environmentOrder ?? ['dev', 'stage', 'prod'];
  const apps: readonly SandboxApp[] = w.apps ?? [
    {
      app: w.app,
      cueName: cueIdentifier(w.app),
      group: w.group,
      appProject: w.appProject,
      appRepoUrl: w.appRepoUrl ?? '',
      ciJob: w.ciJob,
      versionFormat: 'maven',
      versionFile: 'pom.xml',
      declarations: seedImageDeclarations(cueIdentifier(w.app)),
      registryExternal: w.registryExternal,
      environments: w.environments,
    },
  ];
  return apps.map((a): PipelineLayout => {
    const place = (e: string) => {
      const p = a.environments[e]!;
      // What the sandbox does not simulate but Shepherd enforces comes from the pipeline file: freeze windows.
      const declared =
        config?.pipelineFile !== undefined ? config.pipeline.environments.find((d) => d.name === e) : undefined;
      return {
        namespace: p.namespace,
        branch: p.branch,
        ...(p.directory ? { directory: p.directory } : {}),
        argoApp: p.argoApp,
        ...(declared?.cluster ? { cluster: declared.cluster } : {}),
        ...(declared?.freeze ? { freeze: declared.freeze } : {}),
      };
    };
    return {
      app: { name: a.app, cueName: a.cueName },
      environmentOrder: order,
      gitlab: {
        appProject: a.appProject,
        deploymentsProject: w.deploymentsProject,
        versionFile: a.versionFile ?? '',
        imageFiles: a.declarations.map((d) => d.file),
        versionFormat: a.versionFormat,
        imageDeclarations: a.declarations,
        ...(w.branches ? { branches: w.branches } : {}),
        ...(config ? { bump: config.bump } : {}),
        ...(config ? { autoMerge: config.gitlabMerge.autoMerge } : {}),
      },
      jenkins: {
        appJob: a.ciJob,
        promoteJob: w.promoteJob,
        ...(w.promoteParameters ? { promoteParameters: w.promoteParameters } : {}),
        appRepoUrls: a.appRepoUrl ? [a.appRepoUrl] : [],
      },
      argocdNamespace: w.argoNamespace,
      argocdManualSync: config?.kubernetes.argocdManualSync ?? [],
      environments: Object.fromEntries(order.map((e) => [e, place(e)])),
      registry: { external: a.registryExternal, group: a.group },
      degradedGraceSeconds: timing.degradedGraceSeconds ?? 2,
      stabilitySeconds: timing.stabilitySeconds ?? 0.5,
      workload: {
        deployment: (apps.length === 1 ? config?.kubernetes.deployment : undefined) ?? a.app,
        container: apps.length === 1 ? config?.kubernetes.container : undefined,
      },
    };
  });
}

/**
 * The sandbox's pace: it runs at a fraction of real time, so its waits poll every 200 ms unless SHEPHERD_POLL_*
 * say otherwise; with webhooks, a lost delivery is found within 5 s (SHEPHERD_POLL_FALLBACK overrides it).
 */
const SANDBOX_POLL_MS = 200;
const SANDBOX_FALLBACK_MS = 5_000;

/**
 * Activities against the sandbox world (embedded default), with the credentials the world issued. `config` should
 * come from `configForWorld` (absent: the world's settings over an empty environment). `webhooks`: the systems of
 * the world that deliver their events to a receiver of this installation (the sandbox-mode worker and the demo
 * register one, unless SHEPHERD_WEBHOOKS=false).
 */
export function activitiesForWorld(
  world: SandboxInstallation,
  given?: ShepherdConfig,
  opts: { webhooks?: WebhookSystems | undefined } = {},
): ShepherdActivities {
  const config = given ?? configForWorld(world, { env: {} });
  const info = world.info;
  const clients: ActivityClients = {
    // A world behind its own CA names it in its settings (SHEPHERD_CA_FILE), so `config.companyCa` trusts it.
    gitlab: new GitLabClient({
      url: info.gitlab.url,
      token: new Secret(info.gitlab.token),
      companyCa: config.companyCa,
    }),
    jenkins: new JenkinsClient({
      url: info.jenkins.url,
      user: info.jenkins.user,
      token: new Secret(info.jenkins.token),
      companyCa: config.companyCa,
    }),
    kubernetes: createKubernetesClient({ kubeconfigPath: info.kubernetes.kubeconfig, companyCa: config.companyCa }),
    // A pipeline whose environments sit on several clusters: the world's kubeconfig has a context per cluster.
    workloads: workloadClientsFrom(config, info.kubernetes.kubeconfig, info.kubernetes.clusters),
    notifications: notificationsFrom(config),
  };
  const configured = pollIntervalsFrom(config);
  return buildActivities(clients, layoutsForWorld(world, {}, config), {
    gitlabMs: configured.gitlabMs ?? SANDBOX_POLL_MS,
    jenkinsMs: configured.jenkinsMs ?? SANDBOX_POLL_MS,
    kubernetesMs: configured.kubernetesMs ?? SANDBOX_POLL_MS,
    webhooks: config.webhooks.enabled === false ? undefined : opts.webhooks,
    fallbackMs: configured.fallbackMs ?? SANDBOX_FALLBACK_MS,
  });
}
