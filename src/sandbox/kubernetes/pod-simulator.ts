/**
 * What the kubelet does for the simulation: creates pods for a ReplicaSet and moves each through its life on the
 * Clock — pulling, starting, passing (or failing) readiness — in one of a few behaviours chosen per ReplicaSet:
 * healthy, crash-looping, failing to pull its image, or running but never ready.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { ObjectStore } from './store.js';
import type { Condition, ContainerStatus, Pod, ReplicaSet } from './objects.js';
import { RESOURCES } from './resources.js';

/** How the pods of one ReplicaSet behave. */
export const POD_BEHAVIOURS = ['healthy', 'crashloop', 'imagepull', 'degraded'] as const;
export type PodBehaviour = (typeof POD_BEHAVIOURS)[number];

/** Characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A random `n`-character suffix from the Kubernetes alphabet. */
export function randomSuffix(n: number): string {
  return [...randomBytes(n)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** A stable suffix derived from `input` (pod-template-hash). */
export function hashSuffix(input: string, n = 10): string {
  return [...createHash('sha256').update(input).digest()]
    .slice(0, n)
    .map((b) => ALPHABET[b % ALPHABET.length])
    .join('');
}

const NODE = { nodeName: 'sandbox-node-1', hostIP: '10.0.0.11' } as const;

export class PodSimulator {
  private readonly timers = new Map<string, (() => void)[]>();
  private ipCounter = 10;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates one pod for `rs`. With `instant` the pod is born Running and Ready (the state the world starts in);
   * otherwise it starts Pending and follows `behaviour`.
   */
  createPod(rs: ReplicaSet, behaviour: PodBehaviour, instant = false): Pod {
    const ns = rs.metadata.namespace!;
    const name = `${rs.metadata.name}-${randomSuffix(5)}`;
    const template = rs.spec.template;
    const now = this.store.timestamp();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        generateName: `${rs.metadata.name}-`,
        labels: { ...(template.metadata?.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: rs.metadata.name,
            uid: rs.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...structuredClone(template.spec), nodeName: NODE.nodeName },
      status: {
        phase: 'Pending',
        hostIP: NODE.hostIP,
        podIP: `10.244.0.${this.ipCounter++ % 250}`,
        startTime: now,
        qosClass: 'Burstable',
        conditions: [
          { type: 'PodReadyToStartContainers', status: 'False', lastProbeTime: null, lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
          {
            type: 'Ready',
            status: 'False',
            reason: 'ContainersNotReady',
            message: this.unreadyMessage(template.spec.containers.map((c) => c.name)),
            lastProbeTime: null,
            lastTransitionTime: now,
          },
          {
            type: 'ContainersReady',
            status: 'False',
            reason: 'ContainersNotReady',
            message: this.unreadyMessage(template.spec.containers.map((c) => c.name)),
            lastProbeTime: null,
            lastTransitionTime: now,
          },
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
        ],
        containerStatuses: template.spec.containers.map((c) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        })),
      },
    };
    const created = this.store.create(RESOURCES.pods, pod);
    if (instant) {
      this.update(ns, name, (p, t) => {
        this.startContainers(p, t);
        this.setReady(p, true, t);
      });
    } else this.schedule(ns, name, behaviour);
    return created;
  }

  /** Deletes a pod at once and cancels its pending transitions (the garbage collector of a deleted owner). */
  deletePod(namespace: string, name: string): void {
    for (const cancel of this.timers.get(`${namespace}/${name}`) ?? []) cancel();
    this.timers.delete(`${namespace}/${name}`);
    this.store.delete(RESOURCES.pods, namespace, name);
  }

  /**
   * A graceful deletion, as a ReplicaSet scaling down asks for one: the pod gets `deletionTimestamp` (now + its
   * `terminationGracePeriodSeconds`, default 30 s, scaled) and `deletionGracePeriodSeconds`, stays Terminating —
   * still labelled like its ReplicaSet's pods, no longer counted by the controllers — and is removed when the
   * period ends. A pod already terminating is left as it is.
   */
  terminatePod(namespace: string, name: string): void {
    const k = `${namespace}/${name}`;
    const pod = this.store.get<Pod>(RESOURCES.pods, namespace, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const grace =
      typeof pod.spec['terminationGracePeriodSeconds'] === 'number' ? pod.spec['terminationGracePeriodSeconds'] : 30;
    if (grace <= 0) return this.deletePod(namespace, name);
    const waitMs = this.clock.scale(grace * 1000);
    for (const cancel of this.timers.get(k) ?? []) cancel();
    this.store.mutate<Pod>(RESOURCES.pods, namespace, name, (p) => {
      p.metadata.deletionTimestamp = new Date(Date.parse(this.store.timestamp()) + grace * 1000)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      p.metadata['deletionGracePeriodSeconds'] = grace;
    });
    this.timers.set(k, [this.clock.after(waitMs, () => this.deletePod(namespace, name))]);
  }

  private schedule(ns: string, name: string, behaviour: PodBehaviour): void {
    const start = this.clock.duration('podStart');
    const half = Math.max(1, Math.floor(start / 2));
    const at = (ms: number, fn: (p: Pod, now: string) => void) => {
      const cancel = this.clock.after(ms, () => this.update(ns, name, fn));
      const k = `${ns}/${name}`;
      this.timers.set(k, [...(this.timers.get(k) ?? []), cancel]);
    };
    switch (behaviour) {
      case 'healthy':
        at(half, (p, t) => this.startContainers(p, t));
        at(start, (p, t) => this.setReady(p, true, t));
        break;
      case 'degraded':
        at(half, (p, t) => this.startContainers(p, t));
        break;
      case 'crashloop':
        at(half, (p, t) => this.startContainers(p, t));
        at(start, (p, t) => this.crash(p, t));
        this.scheduleCrashes(ns, name, start);
        break;
      case 'imagepull':
        at(half, (p) => this.pullFails(p, 'ErrImagePull'));
        at(start, (p) => this.pullFails(p, 'ImagePullBackOff'));
        break;
    }
  }

  private scheduleCrashes(ns: string, name: string, after: number): void {
    const k = `${ns}/${name}`;
    const cancel = this.clock.after(after + this.clock.duration('crashLoop'), () => {
      if (!this.timers.has(k)) return;
      this.update(ns, name, (p, t) => this.crash(p, t));
      this.scheduleCrashes(ns, name, 0);
    });
    this.timers.set(k, [...(this.timers.get(k) ?? []), cancel]);
  }

  private update(ns: string, name: string, fn: (p: Pod, now: string) => void): void {
    this.store.mutate<Pod>(RESOURCES.pods, ns, name, (p) => fn(p, this.store.timestamp()));
  }

  private unreadyMessage(names: string[]): string {
    return `containers with unready status: [${names.join(' ')}]`;
  }

  private statuses(p: Pod): ContainerStatus[] {
    return p.status?.containerStatuses ?? [];
  }

  private startContainers(p: Pod, now: string): void {
    p.status!.phase = 'Running';
    setCondition(p, { type: 'PodReadyToStartContainers', status: 'True' }, now);
    for (const cs of this.statuses(p)) {
      cs.imageID = imageIdOf(cs.image);
      cs.containerID = `containerd://${randomBytes(32).toString('hex')}`;
      cs.started = true;
      cs.state = { running: { startedAt: now } };
    }
  }

  private setReady(p: Pod, ready: boolean, now: string): void {
    const status = ready ? 'True' : 'False';
    for (const cs of this.statuses(p)) cs.ready = ready;
    const unready = ready
      ? {}
      : { reason: 'ContainersNotReady', message: this.unreadyMessage(this.statuses(p).map((c) => c.name)) };
    setCondition(p, { type: 'ContainersReady', status, ...unready }, now);
    setCondition(p, { type: 'Ready', status, ...unready }, now);
  }

  private crash(p: Pod, now: string): void {
    p.status!.phase = 'Running';
    for (const cs of this.statuses(p)) {
      const startedAt = 'running' in cs.state ? cs.state.running.startedAt : now;
      cs.restartCount += 1;
      cs.lastState = {
        terminated: {
          exitCode: 1,
          reason: 'Error',
          startedAt,
          finishedAt: now,
          ...(cs.containerID ? { containerID: cs.containerID } : {}),
        },
      };
      const backoff = Math.min(10 * 2 ** (cs.restartCount - 1), 300);
      const text = backoff >= 60 ? `${Math.floor(backoff / 60)}m${backoff % 60}s` : `${backoff}s`;
      cs.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${text} restarting failed container=${cs.name} pod=${p.metadata.name}_${p.metadata.namespace}(${p.metadata.uid})`,
        },
      };
      cs.ready = false;
      cs.started = false;
    }
    this.setReady(p, false, now);
  }

  private pullFails(p: Pod, reason: 'ErrImagePull' | 'ImagePullBackOff'): void {
    for (const cs of this.statuses(p)) {
      cs.imageID = '';
      cs.state = {
        waiting: {
          reason,
          message:
            reason === 'ErrImagePull'
              ? `failed to pull and unpack image "${cs.image}": failed to resolve reference "${cs.image}": ${cs.image}: not found`
              : `Back-off pulling image "${cs.image}"`,
        },
      };
    }
  }
}

/** Sets a pod condition, moving `lastTransitionTime` only when the status flips. */
function setCondition(p: Pod, next: Omit<Condition, 'lastTransitionTime'>, now: string): void {
  const conditions = (p.status!.conditions ??= []);
  const i = conditions.findIndex((c) => c.type === next.type);
  const prev = conditions[i];
  const merged: Condition = {
    ...next,
    lastProbeTime: null,
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime! : now,
  };
  if (i >= 0) conditions[i] = merged;
  else conditions.push(merged);
}

/**
 * The digest-pinned reference a runtime reports once the image is pulled: the pinned digest of a reference
 * pinned by one (`name@sha256:…`, `name:tag@sha256:…`), else the digest the tag resolved to.
 */
export function imageIdOf(image: string): string {
  const at = image.indexOf('@');
  const repo = image.replace(/@.*$/, '').replace(/:[^:/]+$/, '');
  if (at >= 0) return `${repo}${image.slice(at)}`;
  return `${repo}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** Whether a pod counts as ready (its `Ready` condition is True) and is not being deleted. */
export function isPodReady(p: Pod): boolean {
  return (
    !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}
