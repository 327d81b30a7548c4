/**
 * Detection latency: from the world change a wait was waiting for (the sandbox's timeline) to the moment the flow's
 * next step began. Shepherd's waits come from its runs' histories (a wait activity's scheduling, and the next
 * command after its completion); the reference flow records its own. A wait whose change happened before it began
 * measures nothing and is left out.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { FlowWait, WaitKind } from './seed-flow.js';
import type { WorldChange } from './sandbox-probe.js';

/** The timeline changes each kind of wait waits for. */
export const CHANGES_FOR_WAIT: Record<WaitKind, readonly string[]> = {
  'jenkins-build-start': ['build-started'],
  'jenkins-queue': ['queue-left'],
  'jenkins-build': ['build-finished'],
  'merge-request': ['mr-opened'],
  'argocd-sync': ['sync-finished'],
  // Synced and healthy: whichever of the two came last made the condition true.
  'argocd-synced-healthy': ['sync-finished', 'health-changed'],
  pods: ['rollout-complete'],
};

/** Shepherd's wait activities and the wait kind of each. */
export const SHEPHERD_WAIT_ACTIVITIES: Readonly<Record<string, WaitKind>> = {
  findCiBuildForCommit: 'jenkins-build-start',
  awaitJenkinsQueueItem: 'jenkins-queue',
  awaitJenkinsBuild: 'jenkins-build',
  awaitMergeRequest: 'merge-request',
  awaitArgoSyncedAndHealthy: 'argocd-synced-healthy',
  verifyWorkload: 'pods',
};

const ENVS = ['dev', 'stage', 'prod'] as const;

/**
 * Whether a change may be what a wait of `env` waited for: one that names another environment (an Argo CD
 * Application `argocd/example-app-stage`, a Deployment `stage/example-app`, an MR whose target is `stage`) is not.
 */
export function concernsEnv(change: WorldChange, env: FlowWait['env']): boolean {
  const target =
    change.detail.detail && typeof change.detail.detail === 'object'
      ? (change.detail.detail as Record<string, unknown>).target
      : undefined;
  const subject = typeof change.detail.subject === 'string' ? change.detail.subject : '';
  const named = new Set(
    [...subject.split(/[^a-z]+/), typeof target === 'string' ? target : ''].filter((t) =>
      (ENVS as readonly string[]).includes(t),
    ),
  );
  return named.size === 0 || named.has(env);
}

/** Latencies in milliseconds per wait kind. */
export function detectionLatencies(
  waits: readonly FlowWait[],
  timeline: readonly WorldChange[],
): Partial<Record<WaitKind, number[]>> {
  const out: Partial<Record<WaitKind, number[]>> = {};
  for (const w of waits) {
    const kinds = CHANGES_FOR_WAIT[w.kind];
    const inWindow = timeline.filter(
      (c) => kinds.includes(c.kind) && c.at >= w.startedAt && c.at <= w.movedOnAt && concernsEnv(c, w.env),
    );
    const change = inWindow.at(-1);
    if (!change) continue;
    (out[w.kind] ??= []).push(w.movedOnAt - change.at);
  }
  return out;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const msOf = (t: HistoryEvent['eventTime']): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

/** One workflow's history, with the child workflows it started. */
export interface RunHistory {
  readonly workflowId: string;
  readonly events: readonly HistoryEvent[];
}

/** The run and every child it started, recursively (parent first). */
export async function fetchRunHistories(client: Client, workflowId: string, runId?: string): Promise<RunHistory[]> {
  const out: RunHistory[] = [];
  const queue: { workflowId: string; runId?: string }[] = [{ workflowId, ...(runId ? { runId } : {}) }];
  while (queue.length > 0) {
    const next = queue.shift()!;
    const history = await client.workflow.getHandle(next.workflowId, next.runId).fetchHistory();
    const events = history.events ?? [];
    out.push({ workflowId: next.workflowId, events });
    for (const e of events) {
      const started = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (started?.workflowId)
        queue.push({ workflowId: started.workflowId, ...(started.runId ? { runId: started.runId } : {}) });
    }
  }
  return out;
}

/** The waits of a history: each wait activity from its scheduling to the next command after its completion. */
export function waitsFromHistory(events: readonly HistoryEvent[], env: FlowWait['env'] = 'dev'): FlowWait[] {
  const scheduled = new Map<string, { kind: WaitKind; at: number }>();
  const waits: FlowWait[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const kind = SHEPHERD_WAIT_ACTIVITIES[s.activityType?.name ?? ''];
      if (kind) scheduled.set(String(e.eventId), { kind, at: msOf(e.eventTime) });
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (!done) continue;
    const wait = scheduled.get(String(done.scheduledEventId));
    if (!wait) continue;
    let movedOnAt = msOf(e.eventTime);
    for (let j = i + 1; j < events.length; j++) {
      const n = events[j]!;
      if (
        n.activityTaskScheduledEventAttributes ||
        n.startChildWorkflowExecutionInitiatedEventAttributes ||
        n.workflowExecutionCompletedEventAttributes ||
        n.timerStartedEventAttributes
      ) {
        movedOnAt = msOf(n.eventTime);
        break;
      }
    }
    waits.push({ kind: wait.kind, env, startedAt: wait.at, movedOnAt, looks: 0 });
  }
  return waits;
}

/** The environment a Shepherd run id is about: `promote-<app>-<env>`, else dev (the validation's own waits). */
export function envOfWorkflowId(workflowId: string): FlowWait['env'] {
  const m = /^promote-.+-(dev|stage|prod)$/.exec(workflowId);
  return (m?.[1] as FlowWait['env'] | undefined) ?? 'dev';
}
