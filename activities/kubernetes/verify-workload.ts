/**
 * verifyWorkload: the workload itself, not Argo CD's summary of it. Changes nothing. Waits (reading the Deployment and
 * the pods from watched caches, which also wake it; polling is the fallback; heartbeating the stability window, which
 * a retry resumes) until the Deployment rolled out by `kubectl rollout status`'s rule and every pod of the app runs
 * `imageTag`, Ready, with restart counts that stay unchanged for `layout.stabilitySeconds`. AppDegradedError on crashes or image pull failures lasting past the
 * grace period, or ProgressDeadlineExceeded. A look the Kubernetes API cannot answer saw nothing (heartbeated as
 * `the Kubernetes API unreachable: …`). WaitTimeoutError at the deadline, carrying the last state or error seen.
 * Safe to repeat: it only reads.
 */
import { z } from 'zod';
import type { DeploymentView, PodView } from '../../src/clients/kubernetes/index.js';
import { ACTIVITY_FIELDS, type ShepherdActivities, type VerifyWorkloadResult } from '../../src/domain/activities.js';
import { AppDegradedError } from '../../src/domain/errors.js';
import { imageTagOf } from '../../src/domain/image-reference.js';
import { defineActivity } from '../define.js';
import { pollUntil } from '../poll-until.js';
import {
  appContainer,
  appEnvironmentFields,
  kubernetesFailure,
  resolveTarget,
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

/** The rollout rule of `kubectl rollout status` (api-contracts.md §6.1), then the pods. */
export function assessWorkload(
  deployment: DeploymentView,
  pods: readonly PodView[],
  appName: string,
  imageTag: string,
): Assessment {
  const st = deployment.status;
  if (deployment.generation > st.observedGeneration)
    return { ok: false, why: 'waiting for the deployment spec update to be observed' };
  const templateTag = imageTagOf(appContainer(deployment.containers, appName)?.image ?? '');
  if (templateTag !== imageTag)
    return { ok: false, why: `the deployment's pod template runs ${templateTag ?? 'no tag'}, not ${imageTag}` };
  if (st.updatedReplicas < deployment.desiredReplicas)
    return { ok: false, why: `${st.updatedReplicas} of ${deployment.desiredReplicas} new replicas updated` };
  if (st.replicas > st.updatedReplicas)
    return { ok: false, why: `${st.replicas - st.updatedReplicas} old replicas pending termination` };
  if (st.availableReplicas < st.updatedReplicas)
    return { ok: false, why: `${st.availableReplicas} of ${st.updatedReplicas} updated replicas available` };

  const live = pods.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed');
  const summaries = live.map((p): PodSummary => {
    const c = appContainer(p.containers, appName);
    return {
      name: p.name,
      imageTag: imageTagOf(c?.image ?? '') ?? '',
      ready: p.ready && !p.terminating,
      restarts: c?.restartCount ?? 0,
    };
  });
  const foreign = summaries.filter((p) => p.imageTag !== imageTag);
  if (foreign.length > 0)
    return {
      ok: false,
      why: `pods still on another image: ${foreign.map((p) => `${p.name} (${p.imageTag || 'no tag'})`).join(', ')}`,
    };
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
          const deployment = await reads.deployment();
          const pods = await reads.pods();
          const at = now();

          if (progressDeadlineExceeded(deployment)) {
            const stuck = podsRunning(pods, target.appName, imageTag).filter((p) => !p.ready);
            throw new AppDegradedError({
              env: target.env,
              argoApp: target.argoApp,
              reason: 'ProgressDeadlineExceeded',
              pods: stuck.map((p) => {
                const c = appContainer(p.containers, target.appName);
                return { name: p.name, reason: c?.waitingReason ?? 'NotReady', restarts: c?.restartCount ?? 0 };
              }),
            });
          }
          const trouble = troubledPods(podsRunning(pods, target.appName, imageTag), target.appName);
          progress = trackUnhealthy(progress, trouble, at, target, layout.degradedGraceSeconds);

          const assessment = assessWorkload(deployment, pods, target.appName, imageTag);
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
