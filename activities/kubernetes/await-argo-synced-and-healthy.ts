/**
 * awaitArgoSyncedAndHealthy. Changes: at most one refresh annotation per sync operation, when Argo CD has not
 * reconciled since the sync finished (repeating it is harmless). Waits (reading the Application, the Deployment and
 * the pods from watched caches, which also wake it; polling is the fallback; heartbeating its progress and resuming
 * from it) until Argo CD's word about the environment can be trusted for one revision (`unsettledReason` in
 * environment-state.ts finds nothing). Ends early with SyncFailedError when the sync failed, and AppDegradedError
 * when the app stays unhealthy past the grace period. A look the Kubernetes API cannot answer saw nothing (heartbeated as `the Kubernetes API unreachable: …`).
 * WaitTimeoutError at the deadline, carrying the last state or error seen. Safe to repeat: a retry of the same
 * revision resumes from the heartbeat (its start, refreshes and unhealthy-since).
 */
import { z } from 'zod';
import type { ApplicationView, DeploymentView, PodView } from '../../src/clients/kubernetes/index.js';
import {
  ACTIVITY_FIELDS,
  type AwaitArgoSyncedAndHealthyResult,
  type ShepherdActivities,
} from '../../src/domain/activities.js';
import { unsettledReason } from '../../src/domain/environment-state.js';
import { NotFoundError, SyncFailedError, type ErrorFacts } from '../../src/domain/errors.js';
import { imageTagOf } from '../../src/domain/image-reference.js';
import { defineActivity } from '../define.js';
import { pollUntil } from '../poll-until.js';
import {
  appContainer,
  appEnvironmentFields,
  kubernetesFailure,
  resolveTarget,
  type EnvironmentTarget,
  type KubernetesActivityDeps,
} from './common.js';
import {
  podsRunning,
  progressDeadlineExceeded,
  trackUnhealthy,
  toEnvironmentState,
  troubledPods,
} from './observations.js';
import { watchedReads, type WatchedReads } from './watched-reads.js';

/** The heartbeat details: enough to carry on after a worker died, without starting the wait over. */
const ArgoWaitProgress = z.object({
  wait: z.literal('argo-synced-and-healthy'),
  revision: z.string(),
  /** When the first attempt started waiting: the timeout is reported from here. */
  startedAt: z.string(),
  refreshes: z.number().int().nonnegative(),
  /** The operation (its `finishedAt`) a refresh was already requested for: one refresh per sync. */
  refreshedFor: z.string().optional(),
  /** Since when the app has looked unhealthy (pods in trouble or health Degraded), by the activity clock. */
  unhealthySince: z.string().optional(),
  lastSeen: z.string().optional(),
});
export type ArgoWaitProgress = z.infer<typeof ArgoWaitProgress>;

type Trouble = Pick<ErrorFacts['AppDegradedError'], 'reason' | 'pods'>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Whether the sync operation for `revision` has applied the manifests: only then do pods and health speak for it. */
function appliedRevision(app: ApplicationView, revision: string): boolean {
  return app.sync.revision === revision && app.operation?.phase === 'Succeeded' && app.operation.revision === revision;
}

/** A refresh helps when Argo CD has not reconciled since the sync of `revision` finished; once per operation. */
function needsRefresh(app: ApplicationView, revision: string, progress: ArgoWaitProgress): string | undefined {
  const op = app.operation;
  if (!appliedRevision(app, revision) || op?.finishedAt === undefined || app.refreshPending) return undefined;
  const stale = app.reconciledAt === undefined || Date.parse(app.reconciledAt) < Date.parse(op.finishedAt);
  return stale && progress.refreshedFor !== op.finishedAt ? op.finishedAt : undefined;
}

export function createAwaitArgoSyncedAndHealthy(
  deps: KubernetesActivityDeps,
): ShepherdActivities['awaitArgoSyncedAndHealthy'] {
  const { client, layout } = deps;
  const now = (): number => (deps.clock ?? Date).now();
  const pollIntervalMs = deps.pollIntervalMs ?? 5_000;

  /** What the workload says about the applied revision: pods of the Deployment's current image in trouble, or Degraded. */
  async function troubleOf(
    target: EnvironmentTarget,
    reads: WatchedReads,
    app: ApplicationView,
  ): Promise<Trouble | undefined> {
    let deployment: DeploymentView | undefined;
    try {
      deployment = await reads.deployment();
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const templateImage = deployment ? appContainer(deployment.containers, target.container)?.image : undefined;
    const pods: PodView[] = podsRunning(
      await reads.pods(),
      target.container,
      templateImage ? imageTagOf(templateImage) : undefined,
    );
    const troubled = troubledPods(pods, target.container);
    if (troubled) return troubled;
    const finishedAt = app.operation?.finishedAt;
    const reconciled =
      finishedAt === undefined ||
      (app.reconciledAt !== undefined && Date.parse(app.reconciledAt) >= Date.parse(finishedAt));
    if (app.health.status === 'Degraded' && reconciled) {
      const unready = pods.filter((p) => !p.ready && !p.terminating);
      return {
        reason: progressDeadlineExceeded(deployment) ? 'ProgressDeadlineExceeded' : 'Degraded',
        pods: unready.map((p) => {
          const c = appContainer(p.containers, target.container);
          return { name: p.name, reason: c?.waitingReason ?? 'NotReady', restarts: c?.restartCount ?? 0 };
        }),
      };
    }
    return undefined;
  }

  return defineActivity({
    input: z.object({
      ...appEnvironmentFields(layout),
      revision: ACTIVITY_FIELDS.text(),
      deadline: ACTIVITY_FIELDS.instant(),
    }),
    progress: ArgoWaitProgress,
    failure: kubernetesFailure,
    async run(input, { attempt, resumed, heartbeat }) {
      const target = resolveTarget(layout, input);
      const { revision } = input;
      const reads = watchedReads(deps, target, { application: true });
      const start: ArgoWaitProgress =
        resumed?.revision === revision
          ? resumed
          : { wait: 'argo-synced-and-healthy', revision, startedAt: iso(now()), refreshes: 0 };

      return pollUntil<ArgoWaitProgress, AwaitArgoSyncedAndHealthyResult>({
        waitingFor: `Argo CD ${target.argoApp} synced and healthy at ${revision.slice(0, 8)}`,
        startedAt: Date.parse(start.startedAt),
        deadline: Date.parse(input.deadline),
        progress: start,
        intervalMs: pollIntervalMs,
        heartbeat,
        now,
        watch: (wake) => reads.follow(wake),
        /** One look (and the refresh it calls for): the result once settled, else what it saw. */
        async look(before) {
          let progress = before;
          reads.looking();
          const app = await reads.application();
          const state = toEnvironmentState(target, undefined, app, attempt);
          const unsettled = unsettledReason(state, revision);
          if (unsettled === undefined) {
            return {
              done: {
                attempt,
                argoApp: target.argoApp,
                revision,
                settledAt: iso(now()),
                refreshes: progress.refreshes,
              },
              progress: { ...progress, lastSeen: 'synced and healthy' },
            };
          }

          const op = app.operation;
          if (
            op &&
            (op.phase === 'Failed' || op.phase === 'Error') &&
            (op.revision ?? app.sync.revision) === revision
          ) {
            throw new SyncFailedError({
              argoApp: target.argoApp,
              revision,
              phase: op.phase,
              ...(op.message !== undefined ? { detail: op.message } : {}),
            });
          }

          const refreshFor = needsRefresh(app, revision, progress);
          if (refreshFor !== undefined) {
            await client.requestApplicationRefresh(layout.argocdNamespace, target.argoApp);
            progress = { ...progress, refreshes: progress.refreshes + 1, refreshedFor: refreshFor };
          }

          const trouble = appliedRevision(app, revision) ? await troubleOf(target, reads, app) : undefined;
          const at = now();
          progress = trackUnhealthy(progress, trouble, at, target, layout.degradedGraceSeconds);

          const opNote =
            op && !unsettled.includes(op.phase)
              ? `; sync operation ${op.phase} for ${(op.revision ?? '?').slice(0, 8)}`
              : '';
          const troubleNote = trouble ? `; ${trouble.reason} since ${progress.unhealthySince}` : '';
          return { progress: { ...progress, lastSeen: `${unsettled}${opNote}${troubleNote}` } };
        },
      });
    },
  });
}
