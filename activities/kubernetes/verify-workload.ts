/**
 * verifyWorkload: the workload itself, not Argo CD's summary of it. Changes nothing. Waits (reading the Deployment,
 * its ReplicaSets and pods from watched caches, which also wake it; polling is the fallback; heartbeating the
 * stability window, which a retry resumes) until the Deployment rolled out by `kubectl rollout status`'s rule and
 * every pod of its current ReplicaSet (never every pod labelled `app=<name>`) runs `imageTag` in the verified
 * container (SHEPHERD_CONTAINER), Ready, with restart counts that stay unchanged for `layout.stabilitySeconds`.
 *
 * Images pinned by digest: the template's reference `name:tag@sha256:…` must carry `imageTag`, and every pod must
 * run that very reference, its runtime-reported `imageID` (once pulled) showing the pinned digest. A template
 * pinned by digest alone (`name@sha256:…`, as Kustomize and Bitnami charts render a digest) carries no tag to
 * compare: Argo CD applied it from the env branch at the promotion's revision, so the pods are verified against
 * its digest.
 *
 * AppDegradedError on crashes or image pull failures lasting past the grace period, or ProgressDeadlineExceeded;
 * ValidationError (not retryable) when the container to verify does not exist, naming the ones that do. A look
 * the Kubernetes API cannot answer saw nothing (heartbeated as `the Kubernetes API unreachable: …`).
 * WaitTimeoutError at the deadline, carrying the last state or error seen. Safe to repeat: it only reads.
 */
import { z } from 'zod';
import type { DeploymentView, PodView, ReplicaSetView } from '../../src/clients/kubernetes/index.js';
import { ACTIVITY_FIELDS, type ShepherdActivities, type VerifyWorkloadResult } from '../../src/domain/activities.js';
import { AppDegradedError } from '../../src/domain/errors.js';
import { imageDigestOf, imageTagOf, shortDigest } from '../../src/domain/image-reference.js';
import { defineActivity } from '../define.js';
import { pollUntil } from '../poll-until.js';
import {
  appContainer,
  appEnvironmentFields,
  kubernetesFailure,
  resolveTarget,
  verifiedContainer,
  type EnvironmentTarget,
  type KubernetesActivityDeps,
} from './common.js';
import { podsRunning, progressDeadlineExceeded, trackUnhealthy, troubledPods } from './observations.js';
import { watchedReads } from './watched-reads.js';

/** The heartbeat details: the stability window survives a worker's death. */
const WorkloadProgress = z.object({
  wait: z.literal('workload'),
  imageTag: z.string(),
  startedAt: z.string(),
  /** Since when every check has held, with the restart count of each pod at that moment. */
  stableSince: z.string().optional(),
  restarts: z.record(z.string(), z.number()).optional(),
  unhealthySince: z.string().optional(),
  lastSeen: z.string().optional(),
});
type WorkloadProgress = z.infer<typeof WorkloadProgress>;

type PodSummary = VerifyWorkloadResult['pods'][number];

/** Either every check holds (with the pods as seen), or the first one that does not. */
type Assessment = { ok: true; pods: PodSummary[] } | { ok: false; why: string };

const iso = (ms: number): string => new Date(ms).toISOString();

/** The container choice of a target: which container of the template and of the pods is verified. */
export type ContainerTarget = Pick<EnvironmentTarget, 'container' | 'containerConfigured' | 'namespace' | 'deployment'>;

/** How a pod's verified container is shown: its tag, else its digest (an image pinned by digest alone). */
function shownImage(image: string): string {
  return imageTagOf(image) ?? imageDigestOf(image) ?? '';
}

/**
 * The rollout rule of `kubectl rollout status` (real-installations.md §7.2), then the pods of the current
 * ReplicaSet (`pods`, as `watchedReads().workload()` selects them). Throws ValidationError when the verified
 * container does not exist.
 */
export function assessWorkload(
  deployment: DeploymentView,
  pods: readonly PodView[],
  target: ContainerTarget,
  imageTag: string,
  replicaSet?: Pick<ReplicaSetView, 'name' | 'containers'>,
): Assessment {
  const st = deployment.status;
  if (deployment.generation > st.observedGeneration)
    return { ok: false, why: 'waiting for the deployment spec update to be observed' };
  const template = verifiedContainer(deployment.containers, target).image;
  const templateTag = imageTagOf(template);
  const pinned = imageDigestOf(template);
  // A reference pinned by digest alone carries no tag: its digest is the version (see the doc comment).
  if (templateTag !== imageTag && !(templateTag === undefined && pinned !== undefined))
    return { ok: false, why: `the deployment's pod template runs ${templateTag ?? 'no tag'}, not ${imageTag}` };
  if (st.updatedReplicas < deployment.desiredReplicas)
    return { ok: false, why: `${st.updatedReplicas} of ${deployment.desiredReplicas} new replicas updated` };
  if (st.replicas > st.updatedReplicas)
    return { ok: false, why: `${st.replicas - st.updatedReplicas} old replicas pending termination` };
  if (st.availableReplicas < st.updatedReplicas)
    return { ok: false, why: `${st.availableReplicas} of ${st.updatedReplicas} updated replicas available` };
  if (replicaSet) {
    const rsImage = replicaSet.containers.find((c) => c.name === verifiedContainer(deployment.containers, target).name);
    if (rsImage?.image !== template)
      return { ok: false, why: `the current ReplicaSet ${replicaSet.name} is not the deployment's template yet` };
  }

  const live = pods.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed');
  const foreign: string[] = [];
  const summaries = live.map((p): PodSummary => {
    const c = verifiedContainer(p.containers, target, `pod ${target.namespace}/${p.name}`);
    const pulled = c.imageID !== undefined ? imageDigestOf(c.imageID) : undefined;
    if (c.image !== template) foreign.push(`${p.name} (${shownImage(c.image) || 'no tag'})`);
    else if (pinned !== undefined && pulled !== undefined && pulled !== pinned)
      foreign.push(`${p.name} (pulled ${shortDigest(pulled)}, pinned ${shortDigest(pinned)})`);
    return {
      name: p.name,
      imageTag: shownImage(c.image),
      ready: p.ready && !p.terminating,
      restarts: c.restartCount,
    };
  });
  if (foreign.length > 0) return { ok: false, why: `pods still on another image: ${foreign.join(', ')}` };
  if (summaries.length !== deployment.desiredReplicas)
    return { ok: false, why: `${summaries.length} pods of the app, ${deployment.desiredReplicas} expected` };
  const unready = summaries.filter((p) => !p.ready);
  if (unready.length > 0) return { ok: false, why: `pods not ready: ${unready.map((p) => p.name).join(', ')}` };
  return { ok: true, pods: summaries };
}

function sameRestarts(a: Record<string, number> | undefined, pods: readonly PodSummary[]): boolean {
  if (a === undefined || Object.keys(a).length !== pods.length) return false;
  return pods.every((p) => a[p.name] === p.restarts);
}

export function createVerifyWorkload(deps: KubernetesActivityDeps): ShepherdActivities['verifyWorkload'] {
  const { layout } = deps;
  const now = (): number => (deps.clock ?? Date).now();
  const pollIntervalMs = deps.pollIntervalMs ?? 5_000;
  const windowMs = layout.stabilitySeconds * 1000;

  return defineActivity({
    input: z.object({
      ...appEnvironmentFields(layout),
      imageTag: ACTIVITY_FIELDS.imageTag(),
      deadline: ACTIVITY_FIELDS.instant(),
    }),
    progress: WorkloadProgress,
    failure: kubernetesFailure,
    async run(input, { attempt, resumed, heartbeat }) {
      const target = resolveTarget(layout, input);
      const reads = watchedReads(deps, target, { application: false });
      const { imageTag } = input;
      const start: WorkloadProgress =
        resumed?.imageTag === imageTag ? resumed : { wait: 'workload', imageTag, startedAt: iso(now()) };

      return pollUntil<WorkloadProgress, VerifyWorkloadResult>({
        waitingFor: `${target.appName} in ${target.env} running ${imageTag} and stable`,
        startedAt: Date.parse(start.startedAt),
        deadline: Date.parse(input.deadline),
        progress: start,
        intervalMs: pollIntervalMs,
        heartbeat,
        now,
        watch: (wake) => reads.follow(wake),
        // Look again when the stability window is due to close, not a poll interval later.
        pauseMs: (progress, at) =>
          progress.stableSince !== undefined
            ? Math.max(0, Date.parse(progress.stableSince) + windowMs - at)
            : Number.POSITIVE_INFINITY,
        /** One look: the result once rolled out and stable for the window, else what it saw. */
        async look(before) {
          let progress = before;
          reads.looking();
          const { deployment, replicaSet, pods } = await reads.workload();
          const at = now();

          if (progressDeadlineExceeded(deployment)) {
            const stuck = podsRunning(pods, target.container, imageTag).filter((p) => !p.ready);
            throw new AppDegradedError({
              env: target.env,
              argoApp: target.argoApp,
              reason: 'ProgressDeadlineExceeded',
              pods: stuck.map((p) => {
                const c = appContainer(p.containers, target.container);
                return { name: p.name, reason: c?.waitingReason ?? 'NotReady', restarts: c?.restartCount ?? 0 };
              }),
            });
          }
          const trouble = troubledPods(podsRunning(pods, target.container, imageTag), target.container);
          progress = trackUnhealthy(progress, trouble, at, target, layout.degradedGraceSeconds);

          const assessment = assessWorkload(deployment, pods, target, imageTag, replicaSet);
          let lastSeen: string;
          if (!assessment.ok) {
            const { stableSince: _s, restarts: _r, ...rest } = progress;
            progress = rest;
            lastSeen = assessment.why;
          } else if (progress.stableSince === undefined || !sameRestarts(progress.restarts, assessment.pods)) {
            // The window (re)starts: first time everything holds, or a pod restarted or was replaced meanwhile.
            progress = {
              ...progress,
              stableSince: iso(at),
              restarts: Object.fromEntries(assessment.pods.map((p) => [p.name, p.restarts])),
            };
            lastSeen = 'rolled out; stability window started';
          } else {
            lastSeen = `rolled out and stable since ${progress.stableSince}`;
          }
          if (
            assessment.ok &&
            progress.stableSince !== undefined &&
            at - Date.parse(progress.stableSince) >= windowMs
          ) {
            return {
              done: { attempt, replicas: deployment.desiredReplicas, pods: assessment.pods },
              progress: { ...progress, lastSeen },
            };
          }
          const troubleNote = trouble ? `; ${trouble.reason} since ${progress.unhealthySince}` : '';
          return { progress: { ...progress, lastSeen: `${lastSeen}${troubleNote}` } };
        },
      });
    },
  });
}
