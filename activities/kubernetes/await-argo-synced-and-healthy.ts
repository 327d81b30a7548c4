/**
 * awaitArgoSyncedAndHealthy.
 *
 * Changes: at most one refresh annotation per sync operation, when Argo CD has not reconciled since the sync
 * finished (repeating it is harmless). On an environment Shepherd syncs itself (`layout.argocdManualSync`), the sync
 * `operation`, written only when none is requested or running and the last one was not for our revision or one
 * containing it: a retry or a second look never starts a second sync, and never overwrites one that runs (Argo CD
 * would drop it, real-installations.md §8.2). The write is guarded by the Application's resourceVersion.
 *
 * Our revision is the merge commit, or a revision Argo CD reports that contains it (others committed on top of it on
 * a shared env branch; GitLab's merge base decides, cached); a revision that does not contain it is never taken. For
 * a multi-source Application it reads the revision of the source that is the deployments repo.
 *
 * Waits (reading the Application, the Deployment and the pods from watched caches, which also wake it; polling is
 * the fallback; heartbeating its progress and resuming from it) until Argo CD's word about the environment can be
 * trusted for one revision (`unsettledReason` in environment-state.ts finds nothing). Ends early with
 * SyncFailedError when the sync failed; AppDegradedError when the app stays unhealthy past the grace period; and
 * AppHealthBlockedError when the health is one waiting cannot change (§8.3): Suspended once our revision is applied;
 * Missing past the grace period after our sync Succeeded; Unknown past the grace period. Missing before our sync is
 * what Argo CD (3.4+) reports for an app none of whose resources exist yet, such as one never synced: that is
 * waited for, up to the deadline. A look the Kubernetes API cannot answer saw nothing (heartbeated as
 * `the Kubernetes API unreachable: …`). WaitTimeoutError at the deadline, carrying the last state or error seen.
 * Safe to repeat: a retry of the same revision resumes from the heartbeat (its start, refreshes, unhealthy-since).
 */
import { z } from 'zod';
import {
  forSource,
  sourceIndexOf,
  type ApplicationView,
  type DeploymentView,
  type PodView,
} from '../../src/clients/kubernetes/index.js';
import {
  ACTIVITY_FIELDS,
  type AwaitArgoSyncedAndHealthyResult,
  type ShepherdActivities,
} from '../../src/domain/activities.js';
import { unsettledReason } from '../../src/domain/environment-state.js';
import { AppHealthBlockedError, NotFoundError, SyncFailedError, type ErrorFacts } from '../../src/domain/errors.js';
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
import { withOperationFollowingSync } from './ancestry.js';

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
  /** Part C: our revision was applied once (a sync for it Succeeded and Argo CD reconciled after it). */
  applied: z.boolean().optional(),
  /** Part C: since when the health has been Missing or Unknown (activity clock), and which. */
  blockedSince: z.string().optional(),
  blockedHealth: z.enum(['Missing', 'Unknown']).optional(),
  /** Part C: sync operations this wait wrote (manual-sync environments). */
  syncsRequested: z.number().int().nonnegative().optional(),
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

/** Whether the sync that applied `revision` has been reconciled since it finished (health speaks for it). */
function reconciledSinceSync(app: ApplicationView): boolean {
  const finishedAt = app.operation?.finishedAt;
  return (
    finishedAt === undefined ||
    (app.reconciledAt !== undefined && Date.parse(app.reconciledAt) >= Date.parse(finishedAt))
  );
}

/** What a blocked health says: Argo CD's message, else its error conditions (a failed comparison has no message). */
function healthDetail(app: ApplicationView): string | undefined {
  if (app.health.message) return app.health.message;
  const errors = app.conditions.filter((c) => /Error$/.test(c.type)).map((c) => `${c.type}: ${c.message}`);
  return errors.length > 0 ? errors.join('; ') : undefined;
}

export function createAwaitArgoSyncedAndHealthy(
  deps: KubernetesActivityDeps,
): ShepherdActivities['awaitArgoSyncedAndHealthy'] {
  const { client, layout } = deps;
  const manualSync = new Set(layout.argocdManualSync ?? []);

  /** Whether `revision` (reported by Argo CD) is our merge commit or contains it. */
  async function contains(revision: string | undefined, ours: string): Promise<boolean> {
    if (revision === undefined || !/^[0-9a-f]{7,64}$/.test(revision)) return false;
    if (revision === ours) return true;
    return deps.ancestry ? deps.ancestry.contains(revision, ours) : false;
  }

  /**
   * The revision the wait holds Argo CD to: the synced one if it contains ours, else the last operation's if that
   * does (a sync of it is on its way), else ours.
   */
  async function acceptedRevision(app: ApplicationView, ours: string): Promise<string> {
    if (app.sync.revision === ours) return ours;
    for (const candidate of [app.sync.revision, app.operation?.revision]) {
      if (candidate !== undefined && (await contains(candidate, ours))) return candidate;
    }
    return ours;
  }

  /**
   * On a manual-sync environment, starts the sync of the env branch unless one is requested or running (it would be
   * lost) or the last one was for our revision or a later one. True when it wrote the operation.
   */
  async function startSyncIfNeeded(target: EnvironmentTarget, app: ApplicationView, ours: string): Promise<boolean> {
    if (!manualSync.has(target.env)) return false;
    if (app.requestedOperation !== undefined || app.operation?.phase === 'Running') return false;
    if (app.operation && (await contains(app.operation.revision, ours))) return false;
    if (app.resourceVersion === undefined) return false;
    const index = app.multiSource ? sourceIndexOf(app, layout.gitlab.deploymentsProject) : 0;
    const reason = `Shepherd: deploy ${ours.slice(0, 8)} (${target.branch})`;
    const request = app.multiSource
      ? {
          // One revision per source, in order: the env branch for the deployments repo, the others as declared.
          revisions: app.sources.map((src, i) => (i === index ? target.branch : (src.targetRevision ?? 'HEAD'))),
        }
      : { revision: target.branch };
    return client.requestApplicationSync(layout.argocdNamespace, target.argoApp, {
      ...request,
      username: 'shepherd',
      reason,
      resourceVersion: app.resourceVersion,
    });
  }

  /**
   * Health that waiting will not change (§8.3): Suspended once our revision is applied at once; Missing after our
   * sync Succeeded and Unknown at any time, once they have lasted the grace period (a deletion being replaced, a
   * repo server hiccup). Returns the progress with the blocked-since bookkeeping.
   */
  function checkBlocked(
    target: EnvironmentTarget,
    app: ApplicationView,
    accepted: string,
    progress: ArgoWaitProgress,
    at: number,
  ): ArgoWaitProgress {
    const applied = appliedRevision(app, accepted) && reconciledSinceSync(app);
    const next = applied && !progress.applied ? { ...progress, applied: true } : progress;
    const facts = { env: target.env, argoApp: target.argoApp, namespace: target.namespace, revision: accepted };
    const detail = healthDetail(app);
    if (app.health.status === 'Suspended' && applied)
      throw new AppHealthBlockedError({ ...facts, health: 'Suspended', ...(detail ? { detail } : {}) });
    const blocked =
      app.health.status === 'Unknown' || (app.health.status === 'Missing' && next.applied === true)
        ? app.health.status
        : undefined;
    if (blocked === undefined) {
      if (next.blockedSince === undefined) return next;
      const { blockedSince: _since, blockedHealth: _health, ...rest } = next;
      return rest;
    }
    const since = next.blockedHealth === blocked && next.blockedSince ? next.blockedSince : iso(at);
    if (at - Date.parse(since) >= layout.degradedGraceSeconds * 1000)
      throw new AppHealthBlockedError({ ...facts, health: blocked, ...(detail ? { detail } : {}) });
    return { ...next, blockedSince: since, blockedHealth: blocked };
  }
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
    // No Deployment (deleted, or not applied yet): it has no pods to be in trouble; Argo CD's health says the rest.
    const pods: PodView[] = deployment
      ? podsRunning(await reads.pods(), target.container, templateImage ? imageTagOf(templateImage) : undefined)
      : [];
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
          const read = forSource(await reads.application(), layout.gitlab.deploymentsProject);
          const accepted = await acceptedRevision(read, revision);
          // Synced at a later commit of others with no new operation: the last one speaks for it if it contains ours.
          const app =
            accepted === read.sync.revision ? await withOperationFollowingSync(read, deps.ancestry, revision) : read;
          const state = toEnvironmentState(target, undefined, app, attempt);
          const unsettled = unsettledReason(state, accepted);
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
            (op.revision ?? app.sync.revision) === accepted
          ) {
            throw new SyncFailedError({
              argoApp: target.argoApp,
              revision: accepted,
              phase: op.phase,
              ...(op.message !== undefined ? { detail: op.message } : {}),
            });
          }

          if (await startSyncIfNeeded(target, app, revision)) {
            progress = { ...progress, syncsRequested: (progress.syncsRequested ?? 0) + 1 };
          }

          const refreshFor = needsRefresh(app, accepted, progress);
          if (refreshFor !== undefined) {
            await client.requestApplicationRefresh(layout.argocdNamespace, target.argoApp);
            progress = { ...progress, refreshes: progress.refreshes + 1, refreshedFor: refreshFor };
          }

          const trouble = appliedRevision(app, accepted) ? await troubleOf(target, reads, app) : undefined;
          const at = now();
          progress = trackUnhealthy(progress, trouble, at, target, layout.degradedGraceSeconds);
          progress = checkBlocked(target, app, accepted, progress, at);

          const opNote =
            op && !unsettled.includes(op.phase)
              ? `; sync operation ${op.phase} for ${(op.revision ?? '?').slice(0, 8)}`
              : '';
          const troubleNote = trouble ? `; ${trouble.reason} since ${progress.unhealthySince}` : '';
          const containsNote = accepted !== revision ? ` (${accepted.slice(0, 8)} contains it)` : '';
          return { progress: { ...progress, lastSeen: `${unsettled}${containsNote}${opNote}${troubleNote}` } };
        },
      });
    },
  });
}
