/**
 * The simulated cluster: object store, Deployment controller, pod simulator and the Argo CD application
 * controller, seeded with the real installation's namespaces, Deployments and Applications. Environments may live
 * on further clusters (`ClusterEnv.cluster`): each has its own store, Deployment controller and pods, and Argo CD,
 * which stays in the first cluster, deploys to it once `connectCluster` gives it the cluster's API server.
 */
import type { Clock } from '../core/clock.js';
import type { FaultEngine } from '../core/faults.js';
import { buildApplication, type Application } from '../argocd/application.js';
import { ApplicationController } from '../argocd/application-controller.js';
import type { GitSource } from '../argocd/git-source.js';
import { DeploymentController } from './deployment-controller.js';
import type { Deployment, Pod, ReplicaSet } from './objects.js';
import { PodSimulator, isPodReady } from './pod-simulator.js';
import { RESOURCES } from './resources.js';
import { buildDeployment, buildNamespace, buildSiblingDeployment } from './seed-objects.js';
import { ObjectStore } from './store.js';

/** One environment of the installation. */
export interface ClusterEnv {
  env: string;
  namespace: string;
  /** The deployments-repo branch its Application tracks. */
  branch: string;
  /** Name of its Argo CD Application (`example-app-dev`). */
  argoApp: string;
  replicas: number;
  /** The source path its Application renders (directory layouts: the environment's folder); default `manifestPath`. */
  path?: string;
  /** The cluster its workload runs on (a name); absent or `ClusterOptions.argoCluster`: the first cluster. */
  cluster?: string;
}

export interface ClusterOptions {
  clock: Clock;
  faults: FaultEngine;
  git: GitSource;
  envs: readonly ClusterEnv[];
  /** The app's name (`example-app`): Deployment, container and label value. */
  app: string;
  /** The deployments repo URL the Applications point at. */
  repoURL: string;
  /** The image every environment runs at the start. */
  initialImage: string;
  /** Path of the rendered manifests in the repo; default `manifests/exampleApp`. */
  manifestPath?: string;
  /** The name of the first cluster, where Argo CD runs; default: the first environment's cluster. */
  argoCluster?: string;
  /** Namespace of the Applications; default `argocd`. */
  argoNamespace?: string;
  /** Watch history length before resource versions expire; default 1000. */
  watchHistoryLimit?: number;
  /** Part C: environments whose Application has no automated sync (installation trait `manualSync`). */
  manualSync?: readonly string[];
  /** Part C: Applications are multi-source, with this `ref: values` source first (installation trait `multiSource`). */
  valuesSource?: { repoURL: string; targetRevision: string };
}

/** What the inspection endpoint shows for one environment. */
export interface EnvSnapshot {
  env: string;
  namespace: string;
  deployment?: {
    image: string | undefined;
    replicas: number;
    ready: number;
    updated: number;
    available: number;
    progressing?: string;
  };
  pods: {
    name: string;
    image: string | undefined;
    phase: string | undefined;
    ready: boolean;
    restarts: number;
    waiting?: string;
  }[];
  application?: {
    name: string;
    sync?: string;
    revision?: string;
    health?: string;
    operationPhase?: string;
    operationMessage?: string;
  };
}

/**
 * One cluster's workloads: its object store (what its API server serves), the Deployment controller and the pods,
 * with the namespaces of the environments it runs.
 */
export class WorkloadCluster {
  readonly store: ObjectStore;
  readonly deployments: DeploymentController;
  private readonly pods: PodSimulator;

  constructor(opts: Pick<ClusterOptions, 'clock' | 'faults' | 'envs' | 'watchHistoryLimit'>, namespaces: string[]) {
    this.store = new ObjectStore(opts.watchHistoryLimit !== undefined ? { historyLimit: opts.watchHistoryLimit } : {});
    this.pods = new PodSimulator(this.store, opts.clock);
    const envOf = new Map(opts.envs.map((e) => [e.namespace, e.env]));
    this.deployments = new DeploymentController({
      store: this.store,
      clock: opts.clock,
      faults: opts.faults,
      pods: this.pods,
      envOfNamespace: (ns) => envOf.get(ns) ?? ns,
    });
    for (const ns of [...opts.envs.map((e) => e.namespace), ...namespaces, 'default', 'kube-system']) {
      if (!this.store.get(RESOURCES.namespaces, undefined, ns))
        this.store.create(RESOURCES.namespaces, buildNamespace(ns));
    }
  }

  stop(): void {
    this.deployments.stop();
  }
}

/** The server Applications name for a cluster before its API server listens (`connectCluster` replaces it). */
const unconnectedServer = (cluster: string): string => `https://${cluster}.unconnected.sandbox.invalid`;

export class SimulatedCluster {
  readonly store: ObjectStore;
  readonly deployments: DeploymentController;
  readonly argo: ApplicationController;
  readonly argoNamespace: string;
  /** The name of the first cluster, where Argo CD runs (`ClusterOptions.argoCluster`). */
  readonly argoCluster: string | undefined;
  /** The other clusters environments run on, by name. */
  readonly others: ReadonlyMap<string, WorkloadCluster>;
  private readonly main: WorkloadCluster;
  /** The destination server of each other cluster's Applications. */
  private readonly servers = new Map<string, string>();

  constructor(private readonly opts: ClusterOptions) {
    this.argoNamespace = opts.argoNamespace ?? 'argocd';
    this.argoCluster = opts.argoCluster ?? opts.envs[0]?.cluster;
    const mainEnvs = opts.envs.filter((e) => !this.isOther(e));
    this.main = new WorkloadCluster({ ...opts, envs: mainEnvs }, [this.argoNamespace]);
    this.store = this.main.store;
    this.deployments = this.main.deployments;
    const others = new Map<string, WorkloadCluster>();
    for (const name of new Set(opts.envs.filter((e) => this.isOther(e)).map((e) => e.cluster!)))
      others.set(name, new WorkloadCluster({ ...opts, envs: opts.envs.filter((e) => e.cluster === name) }, []));
    this.others = others;
    this.argo = new ApplicationController({
      store: this.store,
      clock: opts.clock,
      faults: opts.faults,
      git: opts.git,
      namespace: this.argoNamespace,
      isProvenImage: (env, image) => this.workloadsOf(env).deployments.isProven(env, image),
    });
    // Argo CD knows every cluster from the start; the URL it knows one by becomes its API server's on connect.
    for (const [name, cluster] of others) {
      this.servers.set(name, unconnectedServer(name));
      this.argo.addCluster(unconnectedServer(name), cluster.store);
    }
    this.seed();
    this.argo.start();
  }

  private isOther(e: ClusterEnv): boolean {
    return e.cluster !== undefined && e.cluster !== this.argoCluster;
  }

  /** The cluster that runs environment `env`'s workload. */
  workloadsOf(env: string): WorkloadCluster {
    const e = this.opts.envs.find((x) => x.env === env);
    return (e && this.isOther(e) ? this.others.get(e.cluster!) : undefined) ?? this.main;
  }

  /**
   * Connects another cluster's API server (`argocd cluster add`): Argo CD knows the cluster by `server` from now
   * on, and the Applications of its environments name it as their `destination.server`.
   */
  connectCluster(name: string, server: string): void {
    const cluster = this.others.get(name);
    if (!cluster) throw new Error(`no environment runs on a cluster named "${name}"`);
    this.argo.addCluster(server, cluster.store);
    this.servers.set(name, server);
    for (const e of this.opts.envs.filter((x) => x.cluster === name))
      this.store.mutate<Application>(RESOURCES.applications, this.argoNamespace, e.argoApp, (a) => {
        a.spec.destination.server = server;
      });
  }

  private seed(): void {
    this.addApp(this.opts.app, this.opts.envs, this.opts.initialImage);
  }

  /**
   * Seeds one app of the installation, already deployed: the namespaces of its environments (in the cluster each
   * runs on), its Deployment in each and its Application per environment. The world calls it for each app after
   * the first.
   */
  addApp(app: string, envs: readonly ClusterEnv[], initialImage: string): void {
    for (const ns of [this.argoNamespace, 'default', 'kube-system'])
      if (!this.store.get(RESOURCES.namespaces, undefined, ns))
        this.store.create(RESOURCES.namespaces, buildNamespace(ns));
    for (const e of envs) {
      const store = this.workloadsOf(e.env).store;
      if (!store.get(RESOURCES.namespaces, undefined, e.namespace))
        store.create(RESOURCES.namespaces, buildNamespace(e.namespace));
    }
    for (const e of envs) {
      const workloads = this.workloadsOf(e.env);
      workloads.store.create(
        RESOURCES.deployments,
        buildDeployment({ app, env: e.env, namespace: e.namespace, image: initialImage, replicas: e.replicas }),
      );
      const application = buildApplication({
        name: e.argoApp,
        namespace: this.argoNamespace,
        app,
        env: e.env,
        repoURL: this.opts.repoURL,
        branch: e.branch,
        path: e.path ?? this.opts.manifestPath ?? 'manifests/exampleApp',
        destinationNamespace: e.namespace,
        ...(this.opts.manualSync?.includes(e.env) ? { manualSync: true } : {}),
        ...(this.opts.valuesSource ? { valuesSource: this.opts.valuesSource } : {}),
      });
      // An environment on another cluster: its Application deploys there (Argo CD's `destination.server`).
      if (this.isOther(e)) application.spec.destination.server = this.servers.get(e.cluster!)!;
      this.store.create(RESOURCES.applications, application);
      this.argo.seedSync(e.argoApp);
      workloads.deployments.seedRunning(e.namespace, app);
      this.argo.reconcileNow(e.argoApp, true);
    }
  }

  /**
   * The `siblingWorkload` installation trait (part D): in every environment a second Deployment of the team,
   * `<app>-worker`, running `image` and already rolled out, whose pods share the app's label `app=<app>`.
   */
  addSiblingWorkload(image: string): void {
    for (const e of this.opts.envs) {
      const dep = buildSiblingDeployment({
        app: this.opts.app,
        env: e.env,
        namespace: e.namespace,
        image,
        replicas: e.replicas,
      });
      const workloads = this.workloadsOf(e.env);
      workloads.store.create(RESOURCES.deployments, dep);
      workloads.deployments.seedRunning(e.namespace, dep.metadata.name);
    }
  }

  /** Per environment: the Deployment of the app (default: the first), its pods and the Application. */
  snapshot(appName = this.opts.app, envs: readonly ClusterEnv[] = this.opts.envs): EnvSnapshot[] {
    return envs.map((e) => {
      const live = this.workloadsOf(e.env).store;
      const dep = live.get<Deployment>(RESOURCES.deployments, e.namespace, appName);
      const app = this.store.get<Application>(RESOURCES.applications, this.argoNamespace, e.argoApp);
      // The app's pods: those of its Deployment's ReplicaSets, not another workload's sharing its labels.
      const sets = new Set(
        live
          .list<ReplicaSet>(RESOURCES.replicasets, { namespace: e.namespace })
          .items.filter((rs) => dep && rs.metadata.ownerReferences?.some((o) => o.uid === dep.metadata.uid))
          .map((rs) => rs.metadata.uid),
      );
      const pods = live
        .list<Pod>(RESOURCES.pods, { namespace: e.namespace })
        .items.filter((p) => p.metadata.ownerReferences?.some((o) => sets.has(o.uid)));
      const snap: EnvSnapshot = {
        env: e.env,
        namespace: e.namespace,
        pods: pods.map((p) => {
          const cs = p.status?.containerStatuses?.[0];
          const waiting = cs && 'waiting' in cs.state ? cs.state.waiting.reason : undefined;
          return {
            name: p.metadata.name,
            image: p.spec.containers[0]?.image,
            phase: p.status?.phase,
            ready: isPodReady(p),
            restarts: cs?.restartCount ?? 0,
            ...(waiting ? { waiting } : {}),
          };
        }),
      };
      if (dep) {
        const progressing = dep.status?.conditions?.find((c) => c.type === 'Progressing')?.reason;
        snap.deployment = {
          image: dep.spec.template.spec.containers[0]?.image,
          replicas: dep.spec.replicas ?? 1,
          ready: dep.status?.readyReplicas ?? 0,
          updated: dep.status?.updatedReplicas ?? 0,
          available: dep.status?.availableReplicas ?? 0,
          ...(progressing ? { progressing } : {}),
        };
      }
      if (app) {
        const st = app.status;
        snap.application = {
          name: e.argoApp,
          ...(st?.sync?.status ? { sync: st.sync.status } : {}),
          ...(st?.sync?.revision ? { revision: st.sync.revision } : {}),
          ...(st?.sync?.revisions ? { revision: st.sync.revisions.join(',') } : {}),
          ...(st?.health?.status ? { health: st.health.status } : {}),
          ...(st?.operationState
            ? { operationPhase: st.operationState.phase, operationMessage: st.operationState.message }
            : {}),
        };
      }
      return snap;
    });
  }

  /** Stops the controllers. Timers are owned by the Clock, which the world stops. */
  stop(): void {
    this.argo.stop();
    this.main.stop();
    for (const cluster of this.others.values()) cluster.stop();
  }
}

/** Creates the simulated cluster with its namespaces, Deployments and Applications. */
export function createCluster(opts: ClusterOptions): SimulatedCluster {
  return new SimulatedCluster(opts);
}
