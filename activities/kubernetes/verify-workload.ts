/**
 * verifyWorkload: the workload itself, not Argo CD's summary of it. Waits until the Deployment rolled out by
 * `kubectl rollout status`'s rule and every pod of the app runs the expected tag, Ready, with restart counts that
 * stay unchanged for the stability window. A look the Kubernetes API cannot answer (TransientError) saw nothing:
 * heartbeated as `the Kubernetes API unreachable: …`, the wait goes on, and the deadline's WaitTimeoutError carries
 * that error when it was the last.
 */
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { DeploymentView, PodView } from '../../src/clients/kubernetes/index.js';
import type { VerifyWorkloadInput, VerifyWorkloadResult } from '../../src/domain/activities.js';
import { AppDegradedError, WaitTimeoutError } from '../../src/domain/errors.js';
import {
  appContainer,
  asActivity,
  imageTagOf,
  parseDeadline,
  requireText,
  resolveTarget,
  type KubernetesActivityDeps,
} from './common.js';
import { podsRunning, progressDeadlineExceeded, troubledPods } from './observations.js';
import { look, pauseAfter } from '../polling.js';
import { Wakeup } from './wakeup.js';

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

export function createVerifyWorkload(
  deps: KubernetesActivityDeps,
): (input: VerifyWorkloadInput) => Promise<VerifyWorkloadResult> {
  const { client, layout } = deps;
  const now = (): number => (deps.clock ?? Date).now();
  const pollIntervalMs = deps.pollIntervalMs ?? 5_000;

  return (input) =>
    asActivity(async () => {
      const target = resolveTarget(layout, input);
      const imageTag = requireText('imageTag', input.imageTag);
      const deadline = parseDeadline(input.deadline);
      const ctx = Context.current();
      const resumed = WorkloadProgress.safeParse(ctx.info.heartbeatDetails);
      let progress: WorkloadProgress =
        resumed.success && resumed.data.imageTag === imageTag
          ? resumed.data
          : { wait: 'workload', imageTag, startedAt: iso(now()) };

      const wake = new Wakeup();
      const watch = client.watchPods(target.namespace, target.podSelector, wake.notify);
      try {
        /** One look: the result once rolled out and stable for the window, else what it saw. */
        const observe = async (): Promise<{ verified: VerifyWorkloadResult } | { lastSeen: string }> => {
          const deployment = await client.readDeployment(target.namespace, target.appName);
          const pods = await client.listPods(target.namespace, target.podSelector);
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
          if (trouble) {
            const since = progress.unhealthySince ?? iso(at);
            progress = { ...progress, unhealthySince: since };
            if (at - Date.parse(since) >= layout.degradedGraceSeconds * 1000)
              throw new AppDegradedError({ env: target.env, argoApp: target.argoApp, ...trouble });
          } else if (progress.unhealthySince !== undefined) {
            const { unhealthySince: _cleared, ...rest } = progress;
            progress = rest;
          }

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
            at - Date.parse(progress.stableSince) >= layout.stabilitySeconds * 1000
          ) {
            ctx.heartbeat({ ...progress, lastSeen });
            return {
              verified: { attempt: ctx.info.attempt, replicas: deployment.desiredReplicas, pods: assessment.pods },
            };
          }
          return { lastSeen: trouble ? `${lastSeen}; ${trouble.reason} since ${progress.unhealthySince}` : lastSeen };
        };

        for (;;) {
          // The API server not answering is a look that saw nothing: noted, and the wait goes on to its deadline.
          const seen = await look(observe);
          let lastSeen: string;
          if (seen.ok) {
            if ('verified' in seen.value) return seen.value.verified;
            lastSeen = seen.value.lastSeen;
          } else {
            lastSeen = seen.unreachable;
          }
          progress = { ...progress, lastSeen };
          ctx.heartbeat(progress);
          const at = now();
          if (at >= deadline) {
            throw new WaitTimeoutError({
              waitingFor: `${target.appName} in ${target.env} running ${imageTag} and stable`,
              timeoutSeconds: Math.max(0, Math.round((deadline - Date.parse(progress.startedAt)) / 1000)),
              lastSeen,
            });
          }
          const windowLeft =
            progress.stableSince !== undefined
              ? Date.parse(progress.stableSince) + layout.stabilitySeconds * 1000 - at
              : pollIntervalMs;
          await wake.pause(
            Math.max(0, Math.min(pauseAfter(seen, pollIntervalMs), deadline - at, windowLeft)),
            Math.min(100, pollIntervalMs),
          );
        }
      } finally {
        watch.stop();
      }
    });
}
