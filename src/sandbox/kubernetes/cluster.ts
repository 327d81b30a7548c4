/**
 * The simulated cluster: object store, Deployment controller, pod simulator and the Argo CD application
 * controller, seeded with the real installation's namespaces, Deployments and Applications.
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

export class SimulatedCluster {
  readonly store: ObjectStore;
  readonly deployments: DeploymentController;
  readonly argo: ApplicationController;
  readonly argoNamespace: string;
  private readonly pods: PodSimulator;

  constructor(private readonly opts: ClusterOptions) {
    this.argoNamespace = opts.argoNamespace ?? 'argocd';
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
    this.argo = new ApplicationController({
      store: this.store,
      clock: opts.clock,
      faults: opts.faults,
      git: opts.git,
      namespace: this.argoNamespace,
      isProvenImage: (env, image) => this.deployments.isProven(env, image),
    });
    this.seed();
    this.argo.start();
  }

  private seed(): void {
    this.addApp(this.opts.app, this.opts.envs, this.opts.initialImage);
  }

  /**
   * Seeds one app of the installation, already deployed: the namespaces of its environments, its Deployment in each
   * and its Application per environment. The world calls it for each app after the first.
   */
  addApp(app: string, envs: readonly ClusterEnv[], initialImage: string): void {
    for (const ns of [...envs.map((e) => e.namespace), this.argoNamespace, 'default', 'kube-system']) {
      if (!this.store.get(RESOURCES.namespaces, undefined, ns))
        this.store.create(RESOURCES.namespaces, buildNamespace(ns));
    }
    for (const e of envs) {
      this.store.create(
        RESOURCES.deployments,
        buildDeployment({ app, env: e.env, namespace: e.namespace, image: initialImage, replicas: e.replicas }),
      );
      this.store.create(
        RESOURCES.applications,
        buildApplication({
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
        }),
      );
      this.argo.seedSync(e.argoApp);
      this.deployments.seedRunning(e.namespace, app);
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
      this.store.create(RESOURCES.deployments, dep);
      this.deployments.seedRunning(e.namespace, dep.metadata.name);
    }
  }

  /** Per environment: the Deployment of the app (default: the first), its pods and the Application. */
  snapshot(appName = this.opts.app, envs: readonly ClusterEnv[] = this.opts.envs): EnvSnapshot[] {
    return envs.map((e) => {
      const dep = this.store.get<Deployment>(RESOURCES.deployments, e.namespace, appName);
      const app = this.store.get<Application>(RESOURCES.applications, this.argoNamespace, e.argoApp);
      // The app's pods: those of its Deployment's ReplicaSets, not another workload's sharing its labels.
      const sets = new Set(
        this.store
          .list<ReplicaSet>(RESOURCES.replicasets, { namespace: e.namespace })
          .items.filter((rs) => dep && rs.metadata.ownerReferences?.some((o) => o.uid === dep.metadata.uid))
          .map((rs) => rs.metadata.uid),
      );
      const pods = this.store
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
    this.deployments.stop();
  }
}

/** Creates the simulated cluster with its namespaces, Deployments and Applications. */
export function createCluster(opts: ClusterOptions): SimulatedCluster {
  return new SimulatedCluster(opts);
}
