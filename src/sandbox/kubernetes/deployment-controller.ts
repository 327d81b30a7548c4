/**
 * The Deployment and ReplicaSet controllers of the simulation.
 *
 * A template change bumps `generation`; the controller then finds or creates the ReplicaSet for the template's
 * hash, rolls pods over with the Deployment's RollingUpdate limits (default maxSurge 1, maxUnavailable 0, so old
 * pods stay until new ones are ready), and writes `status` with the counts and the `Available` / `Progressing`
 * conditions the real controller writes — including `ProgressDeadlineExceeded` once no progress was made for the
 * (scaled) `progressDeadlineSeconds`.
 *
 * As the real controllers do (real-installations.md §7.1): one ReplicaSet per distinct pod template, named
 * `<deployment>-<pod-template-hash>`, controlled by the Deployment (owner reference with its uid); the revision
 * annotation on the Deployment and on each ReplicaSet (`revision-history` keeps the revisions a template had when
 * a rollback reuses its ReplicaSet), `desired-replicas` and `max-replicas`; old ReplicaSets kept at 0 replicas up
 * to `revisionHistoryLimit` (default 10), the oldest deleted beyond it. A ReplicaSet scaling down deletes pods
 * gracefully: they stay Terminating for their grace period, no longer counted in any status.
 *
 * How the pods of a new ReplicaSet behave is decided when it becomes the Deployment's current one, from the
 * domain faults `pods-crashloop`, `pods-imagepull` and `app-degraded`. An image counts as new to an environment
 * until a rollout of it completed there, so a rollback to a proven image is not hit by `newImageOnly` rules.
 */
import type { Clock } from '../core/clock.js';
import type { DomainFaultKind, FaultEngine } from '../core/faults.js';
import { WorkQueue } from '../core/work-queue.js';
import {
  canonicalJson,
  count,
  type Condition,
  type Deployment,
  type DeploymentStatus,
  type Pod,
  type ReplicaSet,
} from './objects.js';
import { hashSuffix, isPodReady, type PodBehaviour, type PodSimulator } from './pod-simulator.js';
import { RESOURCES } from './resources.js';
import type { ObjectStore, StoreEvent } from './store.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';

export interface DeploymentControllerOptions {
  store: ObjectStore;
  clock: Clock;
  faults: FaultEngine;
  pods: PodSimulator;
  /** The environment a namespace belongs to (for fault rules and image history); default: the namespace. */
  envOfNamespace?: (namespace: string) => string;
}

/** Faults that decide pod behaviour, in the order they are consulted. */
const BEHAVIOUR_FAULTS: readonly (readonly [DomainFaultKind, PodBehaviour])[] = [
  ['pods-imagepull', 'imagepull'],
  ['pods-crashloop', 'crashloop'],
  ['app-degraded', 'degraded'],
];

function intOrPercent(v: number | string | undefined, total: number, fallback: number, roundUp: boolean): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return v;
  const pct = Number(v.replace('%', '')) / 100;
  return roundUp ? Math.ceil(pct * total) : Math.floor(pct * total);
}

function imagesOf(obj: { spec: { template: { spec: { containers: { image: string }[] } } } }): string[] {
  return obj.spec.template.spec.containers.map((c) => c.image);
}

export class DeploymentController {
  private readonly store: ObjectStore;
  private readonly clock: Clock;
  private readonly faults: FaultEngine;
  private readonly pods: PodSimulator;
  private readonly envOf: (namespace: string) => string;
  /** Deployments (by `namespace/name`) to reconcile on the next tick. */
  private readonly queue: WorkQueue<string, { namespace: string; name: string }>;
  /** Pod behaviour per ReplicaSet uid, decided when it becomes a Deployment's current ReplicaSet. */
  private readonly behaviours = new Map<string, PodBehaviour>();
  /** The current ReplicaSet uid per Deployment uid. */
  private readonly currentRs = new Map<string, string>();
  /** Wall time (ms) of the last progress per Deployment uid, for the progress deadline. */
  private readonly lastProgress = new Map<string, number>();
  private readonly deadlineTimers = new Map<string, () => void>();
  /** Images that completed a rollout, per environment. */
  private readonly provenImages = new Map<string, Set<string>>();
  private readonly unsubscribe: () => void;

  constructor(opts: DeploymentControllerOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.faults = opts.faults;
    this.pods = opts.pods;
    this.envOf = opts.envOfNamespace ?? ((ns) => ns);
    this.queue = new WorkQueue(
      opts.clock,
      (queued) => queued,
      (_, { namespace, name }) => this.reconcile(namespace, name, false),
    );
    this.unsubscribe = this.store.subscribe((ev) => this.onEvent(ev));
  }

  /** Whether `image` completed a rollout in `env` (or was there from the start). */
  isProven(env: string, image: string): boolean {
    return this.provenImages.get(env)?.has(image) ?? false;
  }

  /** Records `image` as having run healthy in `env`. */
  markProven(env: string, image: string): void {
    const set = this.provenImages.get(env) ?? new Set<string>();
    set.add(image);
    this.provenImages.set(env, set);
  }

  /**
   * Brings a freshly created Deployment to its rolled-out state at once (ReplicaSet and Ready pods), the way the
   * world starts. Its images count as proven.
   */
  seedRunning(namespace: string, name: string): void {
    this.reconcile(namespace, name, true);
    const dep = this.store.get<Deployment>(RESOURCES.deployments, namespace, name);
    if (dep) for (const image of imagesOf(dep)) this.markProven(this.envOf(namespace), image);
  }

  /** Stops reacting to changes and cancels the deadline timers. */
  stop(): void {
    this.unsubscribe();
    for (const cancel of this.deadlineTimers.values()) cancel();
    this.deadlineTimers.clear();
  }

  private onEvent(ev: StoreEvent): void {
    const ns = ev.object.metadata.namespace;
    if (ns === undefined) return;
    if (ev.resource === RESOURCES.deployments && ev.type === 'DELETED')
      this.collectGarbage(ev.object.metadata.uid!, ns);
    else if (ev.resource === RESOURCES.deployments) this.enqueue(ns, ev.object.metadata.name);
    else if (ev.resource === RESOURCES.pods || ev.resource === RESOURCES.replicasets) {
      for (const dep of this.store.list<Deployment>(RESOURCES.deployments, { namespace: ns }).items)
        this.enqueue(ns, dep.metadata.name);
    }
  }

  /** The garbage collector's part: ReplicaSets and pods of a deleted Deployment go with it. */
  private collectGarbage(depUid: string, namespace: string): void {
    this.deadlineTimers.get(depUid)?.();
    this.deadlineTimers.delete(depUid);
    this.currentRs.delete(depUid);
    this.lastProgress.delete(depUid);
    this.clock.after(0, () => {
      for (const rs of this.store.list<ReplicaSet>(RESOURCES.replicasets, { namespace }).items) {
        if (!rs.metadata.ownerReferences?.some((o) => o.uid === depUid)) continue;
        for (const pod of this.podsOf(rs)) this.pods.deletePod(namespace, pod.metadata.name);
        this.store.delete(RESOURCES.replicasets, namespace, rs.metadata.name);
        this.behaviours.delete(rs.metadata.uid!);
      }
    });
  }

  private enqueue(namespace: string, name: string): void {
    this.queue.add(`${namespace}/${name}`, { namespace, name });
  }

  private ownedReplicaSets(dep: Deployment): ReplicaSet[] {
    return this.store
      .list<ReplicaSet>(RESOURCES.replicasets, { namespace: dep.metadata.namespace })
      .items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === dep.metadata.uid));
  }

  /** Every pod the ReplicaSet controls, Terminating ones included. */
  private podsOf(rs: ReplicaSet): Pod[] {
    return this.store
      .list<Pod>(RESOURCES.pods, { namespace: rs.metadata.namespace })
      .items.filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === rs.metadata.uid));
  }

  /** The pods the ReplicaSet counts (`controller.FilterActivePods`): not Terminating, not Succeeded or Failed. */
  private activePodsOf(rs: ReplicaSet): Pod[] {
    return this.podsOf(rs).filter(
      (p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
    );
  }

  private revisionOf(rs: ReplicaSet): number {
    return Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '0');
  }

  /** Finds the ReplicaSet for the Deployment's current template, creating it (or re-adopting an old one). */
  private currentReplicaSet(dep: Deployment, all: ReplicaSet[]): { rs: ReplicaSet; created: boolean } {
    const ns = dep.metadata.namespace!;
    const hash = hashSuffix(canonicalJson(dep.spec.template));
    const maxRevision = Math.max(0, ...all.map((rs) => this.revisionOf(rs)));
    const existing = all.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    if (existing) {
      if (this.revisionOf(existing) < maxRevision) {
        // A rollback: the old template's ReplicaSet becomes the newest revision, remembering the ones it had.
        const updated = this.store.mutate<ReplicaSet>(RESOURCES.replicasets, ns, existing.metadata.name, (rs) => {
          const history = [rs.metadata.annotations?.[REVISION_HISTORY_ANNOTATION], String(this.revisionOf(rs))]
            .filter((h) => h !== undefined && h !== '')
            .join(',');
          rs.metadata.annotations = {
            ...rs.metadata.annotations,
            [REVISION_ANNOTATION]: String(maxRevision + 1),
            [REVISION_HISTORY_ANNOTATION]: history,
          };
        });
        return { rs: updated!, created: false };
      }
      return { rs: existing, created: false };
    }
    const labels = { ...(dep.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
    const template = structuredClone(dep.spec.template);
    template.metadata = { ...template.metadata, labels };
    const rs = this.store.create<ReplicaSet>(RESOURCES.replicasets, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${dep.metadata.name}-${hash}`,
        namespace: ns,
        labels,
        annotations: {
          [REVISION_ANNOTATION]: String(maxRevision + 1),
          [DESIRED_REPLICAS_ANNOTATION]: String(dep.spec.replicas ?? 1),
          [MAX_REPLICAS_ANNOTATION]: String(
            (dep.spec.replicas ?? 1) +
              intOrPercent(dep.spec.strategy?.rollingUpdate?.maxSurge, dep.spec.replicas ?? 1, 1, true),
          ),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: dep.metadata.name,
            uid: dep.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: 0,
        selector: {
          matchLabels: { ...(dep.spec.selector.matchLabels ?? {}), 'pod-template-hash': hash },
          ...(dep.spec.selector.matchExpressions
            ? { matchExpressions: structuredClone(dep.spec.selector.matchExpressions) }
            : {}),
        },
        template,
      },
    });
    return { rs, created: true };
  }

  private decideBehaviour(dep: Deployment, rs: ReplicaSet): PodBehaviour {
    const env = this.envOf(dep.metadata.namespace!);
    const app = dep.metadata.labels?.['app'] ?? dep.metadata.name;
    const newImage = imagesOf(rs).some((image) => !this.isProven(env, image));
    for (const [kind, behaviour] of BEHAVIOUR_FAULTS) {
      if (this.faults.domainFault(kind, { env, app, newImage })) return behaviour;
    }
    return 'healthy';
  }

  private setReplicas(rs: ReplicaSet, replicas: number): ReplicaSet {
    if (rs.spec.replicas === replicas) return rs;
    return this.store.mutate<ReplicaSet>(RESOURCES.replicasets, rs.metadata.namespace, rs.metadata.name, (r) => {
      r.spec.replicas = replicas;
    })!;
  }

  /** One pass of the Deployment controller, the ReplicaSet controller and the status writer. */
  private reconcile(namespace: string, name: string, instant: boolean): void {
    const dep = this.store.get<Deployment>(RESOURCES.deployments, namespace, name);
    if (!dep) return;
    const depUid = dep.metadata.uid!;
    const desired = dep.spec.replicas ?? 1;
    let all = this.ownedReplicaSets(dep);
    const { rs: found, created } = this.currentReplicaSet(dep, all);
    let newRs = found;
    all = this.ownedReplicaSets(dep);
    if (this.currentRs.get(depUid) !== newRs.metadata.uid) {
      this.currentRs.set(depUid, newRs.metadata.uid!);
      this.behaviours.set(newRs.metadata.uid!, instant ? 'healthy' : this.decideBehaviour(dep, newRs));
      this.lastProgress.set(depUid, this.clock.now());
    }
    const oldRss = all.filter((rs) => rs.metadata.uid !== newRs.metadata.uid);

    if (!dep.spec.paused) {
      const strategy = dep.spec.strategy?.rollingUpdate;
      const maxSurge = intOrPercent(strategy?.maxSurge, desired, 1, true);
      let maxUnavailable = intOrPercent(strategy?.maxUnavailable, desired, 0, false);
      if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
      const readyOf = (rs: ReplicaSet) => this.activePodsOf(rs).filter(isPodReady).length;
      const activeOld = oldRss.filter((rs) => rs.spec.replicas > 0);

      if (activeOld.length === 0 || instant) {
        newRs = this.setReplicas(newRs, desired);
        for (const rs of oldRss) this.setReplicas(rs, 0);
      } else {
        // Scale up the new ReplicaSet within maxSurge.
        const total = all.reduce((n, rs) => n + rs.spec.replicas, 0);
        if (newRs.spec.replicas > desired) newRs = this.setReplicas(newRs, desired);
        else {
          const up = Math.min(desired + maxSurge - total, desired - newRs.spec.replicas);
          if (up > 0) newRs = this.setReplicas(newRs, newRs.spec.replicas + up);
        }
        // Scale down old ReplicaSets while keeping desired - maxUnavailable pods available: unhealthy ones first.
        const minAvailable = desired - maxUnavailable;
        const allPods = all.reduce(
          (n, rs) => n + (rs.metadata.uid === newRs.metadata.uid ? newRs.spec.replicas : rs.spec.replicas),
          0,
        );
        const newUnavailable = newRs.spec.replicas - readyOf(newRs);
        let budget = allPods - minAvailable - newUnavailable;
        for (const rs of activeOld) {
          if (budget <= 0) break;
          const unhealthy = rs.spec.replicas - readyOf(rs);
          const cut = Math.min(budget, Math.max(unhealthy, 0));
          if (cut > 0) {
            this.setReplicas(rs, rs.spec.replicas - cut);
            rs.spec.replicas -= cut;
            budget -= cut;
          }
        }
        const available = readyOf(newRs) + activeOld.reduce((n, rs) => n + Math.min(readyOf(rs), rs.spec.replicas), 0);
        let down = Math.min(budget, available - minAvailable);
        for (const rs of [...activeOld].sort((a, b) => this.revisionOf(a) - this.revisionOf(b))) {
          if (down <= 0) break;
          const cut = Math.min(down, rs.spec.replicas);
          if (cut > 0) {
            this.setReplicas(rs, rs.spec.replicas - cut);
            down -= cut;
          }
        }
      }
    }

    for (const rs of this.ownedReplicaSets(dep)) this.syncPods(rs, instant);
    this.cleanupHistory(dep);
    this.writeStatus(dep, created);
  }

  /**
   * `revisionHistoryLimit` (default 10): old ReplicaSets scaled to 0 and without pods left are kept up to the limit;
   * beyond it the oldest revisions are deleted, as the Deployment controller's cleanupDeployment does.
   */
  private cleanupHistory(dep: Deployment): void {
    const limit = dep.spec.revisionHistoryLimit ?? 10;
    const current = this.currentRs.get(dep.metadata.uid!);
    const old = this.ownedReplicaSets(dep)
      .filter((rs) => rs.metadata.uid !== current)
      .sort((a, b) => this.revisionOf(a) - this.revisionOf(b));
    let excess = old.length - limit;
    for (const rs of old) {
      if (excess <= 0) break;
      if (rs.spec.replicas !== 0 || (rs.status?.replicas ?? 0) !== 0 || this.podsOf(rs).length > 0) continue;
      this.store.delete(RESOURCES.replicasets, rs.metadata.namespace, rs.metadata.name);
      this.behaviours.delete(rs.metadata.uid!);
      excess--;
    }
  }

  /** The ReplicaSet controller: as many pods as `spec.replicas`, removing unready and newest pods first. */
  private syncPods(rs: ReplicaSet, instant: boolean): void {
    const ns = rs.metadata.namespace!;
    let pods = this.activePodsOf(rs);
    const behaviour = this.behaviours.get(rs.metadata.uid!) ?? 'healthy';
    for (let i = pods.length; i < rs.spec.replicas; i++) this.pods.createPod(rs, behaviour, instant);
    if (pods.length > rs.spec.replicas) {
      const victims = [...pods]
        .sort(
          (a, b) =>
            Number(isPodReady(a)) - Number(isPodReady(b)) ||
            (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
        )
        .slice(0, pods.length - rs.spec.replicas);
      for (const p of victims) this.pods.terminatePod(ns, p.metadata.name);
    }
    pods = this.activePodsOf(rs);
    const ready = pods.filter(isPodReady).length;
    this.store.mutate<ReplicaSet>(RESOURCES.replicasets, ns, rs.metadata.name, (r) => {
      r.status = omitZeros(
        {
          replicas: pods.length,
          fullyLabeledReplicas: pods.length,
          readyReplicas: ready,
          availableReplicas: ready,
          observedGeneration: r.metadata.generation ?? 1,
        },
        ['replicas'],
      );
    });
  }

  private writeStatus(dep: Deployment, createdRs: boolean): void {
    const ns = dep.metadata.namespace!;
    const depUid = dep.metadata.uid!;
    const all = this.ownedReplicaSets(dep);
    const newRs = all.find((rs) => rs.metadata.uid === this.currentRs.get(depUid))!;
    const desired = dep.spec.replicas ?? 1;
    const podsOfAll = all.map((rs) => this.activePodsOf(rs));
    const actual = podsOfAll.reduce((n, pods) => n + pods.length, 0);
    const updated = this.activePodsOf(newRs).length;
    const ready = podsOfAll.reduce((n, pods) => n + pods.filter(isPodReady).length, 0);
    const specTotal = all.reduce((n, rs) => n + rs.spec.replicas, 0);
    const maxUnavailable = intOrPercent(dep.spec.strategy?.rollingUpdate?.maxUnavailable, desired, 0, false);
    const prev = dep.status ?? {};
    const next: DeploymentStatus = {
      observedGeneration: dep.metadata.generation ?? 1,
      replicas: actual,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(specTotal - ready, 0),
    };
    const now = this.store.timestamp();
    const conditions = [...(prev.conditions ?? [])];
    const availableOk = ready >= desired - maxUnavailable;
    upsertCondition(
      conditions,
      availableOk
        ? {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
      now,
      false,
    );

    const rsName = newRs.metadata.name;
    const complete = updated === desired && actual === desired && ready === desired && newRs.spec.replicas === desired;
    const progressing = conditions.find((c) => c.type === 'Progressing');
    const madeProgress =
      count(next.updatedReplicas) > count(prev.updatedReplicas) ||
      count(next.replicas) < count(prev.replicas) ||
      count(next.readyReplicas) > count(prev.readyReplicas) ||
      count(next.availableReplicas) > count(prev.availableReplicas);
    const deadlineMs = this.clock.scale((dep.spec.progressDeadlineSeconds ?? 600) * 1000);
    const sinceProgress = this.clock.now() - (this.lastProgress.get(depUid) ?? this.clock.now());
    if (complete) {
      upsertCondition(
        conditions,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${rsName}" has successfully progressed.`,
        },
        now,
        false,
      );
      for (const image of imagesOf(newRs)) this.markProven(this.envOf(ns), image);
    } else if (createdRs || !progressing) {
      this.lastProgress.set(depUid, this.clock.now());
      upsertCondition(
        conditions,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetCreated',
          message: `Created new replica set "${rsName}"`,
        },
        now,
        true,
      );
    } else if (madeProgress || !(progressing.message ?? '').includes(`"${rsName}"`)) {
      this.lastProgress.set(depUid, this.clock.now());
      upsertCondition(
        conditions,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "${rsName}" is progressing.`,
        },
        now,
        true,
      );
    } else if (progressing.reason !== 'ProgressDeadlineExceeded' && sinceProgress >= deadlineMs) {
      upsertCondition(
        conditions,
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${rsName}" has timed out progressing.`,
        },
        now,
        false,
      );
    }
    next.conditions = conditions;
    this.store.mutate<Deployment>(RESOURCES.deployments, ns, dep.metadata.name, (d) => {
      d.status = omitZeros(next, []);
      d.metadata.annotations = { ...d.metadata.annotations, [REVISION_ANNOTATION]: String(this.revisionOf(newRs)) };
    });
    this.armDeadline(dep, complete, deadlineMs);
  }

  private armDeadline(dep: Deployment, complete: boolean, deadlineMs: number): void {
    const depUid = dep.metadata.uid!;
    this.deadlineTimers.get(depUid)?.();
    this.deadlineTimers.delete(depUid);
    if (complete) return;
    const wait = Math.max(0, (this.lastProgress.get(depUid) ?? this.clock.now()) + deadlineMs - this.clock.now()) + 1;
    this.deadlineTimers.set(
      depUid,
      this.clock.after(wait, () => {
        this.deadlineTimers.delete(depUid);
        this.enqueue(dep.metadata.namespace!, dep.metadata.name);
      }),
    );
  }
}

/** Replaces or adds a condition; `lastTransitionTime` moves only when the status flips. */
function upsertCondition(
  conditions: Condition[],
  next: Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'>,
  now: string,
  touch: boolean,
): void {
  const i = conditions.findIndex((c) => c.type === next.type);
  const prev = conditions[i];
  if (prev && prev.status === next.status && prev.reason === next.reason && prev.message === next.message && !touch)
    return;
  const merged: Condition = {
    ...next,
    lastUpdateTime: now,
    lastTransitionTime: prev && prev.status === next.status ? (prev.lastTransitionTime ?? now) : now,
  };
  if (i >= 0) conditions[i] = merged;
  else conditions.push(merged);
}

/** The API omits zero counts; `keep` lists the fields written even at zero. */
function omitZeros<T extends object>(status: T, keep: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(status)) if (!(v === 0 && !keep.includes(k))) out[k] = v;
  return out as T;
}
