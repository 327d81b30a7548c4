/**
 * One measured run of each system on a fresh sandbox world: the seed's flow (reference implementation), Shepherd
 * polling at its production intervals (webhooks off), and Shepherd with webhooks on. Each returns its wall time,
 * its waits, and what the world recorded (calls, changes) when the world can tell.
 */
import type { Client } from '@temporalio/client';
import { awaitRunEnd, startValidation, waitForPosition } from '../chaos/run-watch.js';
import { fetchRunHistories, envOfWorkflowId, waitsFromHistory } from './latency.js';
import { adminReset, readCallCounts, readTimeline, type CallCounts, type WorldChange } from './sandbox-probe.js';
import { runSeedFlow, type FlowWait } from './seed-flow.js';
import { durationText, knowsVariable, type BenchStack } from './stack.js';
import { freePort } from '../temporal/dev-server.js';
import { validationWorkflowId } from '../domain/promotion-policy.js';

export const SYSTEM_IDS = ['seed', 'shepherd-polling', 'shepherd-webhooks'] as const;
export type SystemId = (typeof SYSTEM_IDS)[number];

export const SYSTEM_LABELS: Record<SystemId, string> = {
  seed: 'seed flow',
  'shepherd-polling': 'Shepherd, webhooks off',
  'shepherd-webhooks': 'Shepherd, webhooks on',
};

/** The shortest poll interval SHEPHERD_POLL_* accepts. */
const MIN_POLL_MS = 100;

/** Shepherd's production poll intervals (SHEPHERD_POLL_* defaults), in milliseconds at real speed. */
export const SHEPHERD_POLL_MS = { gitlab: 3_000, jenkins: 3_000, kubernetes: 5_000, fallback: 60_000 } as const;

export interface RunMeasure {
  readonly system: SystemId;
  readonly worldTimeScale: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly wallMs?: number;
  readonly waits: readonly FlowWait[];
  readonly calls?: CallCounts;
  readonly callsUnavailable?: string;
  readonly timeline?: readonly WorldChange[];
  readonly timelineUnavailable?: string;
  /** Shepherd only: history events of the validation and every child. */
  readonly historyEvents?: number;
  readonly histories?: number;
}

export interface RunSettings {
  readonly worldTimeScale: number;
  /** The time scale the poll intervals are multiplied by (the growth run keeps the base one). */
  readonly pollTimeScale: number;
  readonly say: (line: string) => void;
}

/** Why Shepherd-with-webhooks cannot be measured in this build, or undefined when it can. */
export function webhooksUnavailable(): string | undefined {
  if (!knowsVariable('SHEPHERD_WEBHOOKS'))
    return 'this build has no SHEPHERD_WEBHOOKS (issue 14 points 1-2 not merged)';
  return undefined;
}

/** The worker variables of a Shepherd system, and notes on what this build ignores. */
export function workerSettings(system: Exclude<SystemId, 'seed'>, pollScale: number, webhookPort?: number) {
  const vars: Record<string, string> = {};
  const notes: string[] = [];
  const set = (name: string, value: string): void => {
    if (knowsVariable(name)) vars[name] = value;
    else notes.push(`${name} unknown to this build; not set`);
  };
  // Shepherd accepts poll intervals from 100 ms: a smaller scaled one is raised to it, and the report says so.
  const poll = (name: string, realMs: number): void => {
    const scaled = realMs * pollScale;
    if (scaled < MIN_POLL_MS)
      notes.push(`${name} ${durationText(scaled)} raised to ${MIN_POLL_MS}ms, the least Shepherd takes`);
    set(name, durationText(Math.max(MIN_POLL_MS, scaled)));
  };
  poll('SHEPHERD_POLL_GITLAB', SHEPHERD_POLL_MS.gitlab);
  poll('SHEPHERD_POLL_JENKINS', SHEPHERD_POLL_MS.jenkins);
  poll('SHEPHERD_POLL_KUBERNETES', SHEPHERD_POLL_MS.kubernetes);
  poll('SHEPHERD_POLL_FALLBACK', SHEPHERD_POLL_MS.fallback);
  set('SHEPHERD_WEBHOOKS', system === 'shepherd-webhooks' ? 'true' : 'false');
  if (system === 'shepherd-webhooks' && webhookPort !== undefined)
    set('SHEPHERD_WEBHOOK_ADDRESS', `127.0.0.1:${webhookPort}`);
  return { vars, notes };
}

async function worldRecords(adminUrl: string) {
  const [calls, timeline] = await Promise.all([readCallCounts(adminUrl), readTimeline(adminUrl)]);
  return {
    ...(calls.ok ? { calls: calls.value } : { callsUnavailable: calls.reason }),
    ...(timeline.ok ? { timeline: timeline.value } : { timelineUnavailable: timeline.reason }),
  };
}

/** The seed's flow on a fresh world. */
export async function measureSeed(stack: BenchStack, s: RunSettings): Promise<RunMeasure> {
  const sandbox = await stack.startSandbox(s.worldTimeScale);
  try {
    await Promise.all([
      adminReset(sandbox.world.admin.url, '/requests'),
      adminReset(sandbox.world.admin.url, '/timeline'),
    ]);
    try {
      const r = await runSeedFlow({ world: sandbox.world, timeScale: s.pollTimeScale });
      return {
        system: 'seed',
        worldTimeScale: s.worldTimeScale,
        ok: true,
        wallMs: r.endedAt - r.startedAt,
        waits: r.waits,
        ...(await worldRecords(sandbox.world.admin.url)),
      };
    } catch (err) {
      return { system: 'seed', worldTimeScale: s.worldTimeScale, ok: false, error: (err as Error).message, waits: [] };
    }
  } finally {
    await sandbox.process.stop('SIGINT', 5_000);
  }
}

const BENCH_APPROVER = 'shepherd-bench';

/** Ends a validation a measured run left running (its world is about to go), with its children. */
async function endValidation(stack: BenchStack, app: string): Promise<void> {
  try {
    const client = await stack.client();
    const handle = client.workflow.getHandle(validationWorkflowId(app));
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('the bench run ended');
  } catch {
    // not found, or already closed
  }
}

/** Milliseconds between the first and last event of a history. */
function historySpanMs(
  events: readonly { eventTime?: { seconds?: unknown; nanos?: number | null } | null }[],
): number | undefined {
  const ms = (e: (typeof events)[number] | undefined): number | undefined =>
    e?.eventTime ? Number(e.eventTime.seconds ?? 0) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : undefined;
  const a = ms(events[0]);
  const b = ms(events.at(-1));
  return a === undefined || b === undefined ? undefined : b - a;
}

/** `shepherd validate` through prod on a fresh world with a fresh worker of the system's settings. */
export async function measureShepherd(
  stack: BenchStack,
  system: Exclude<SystemId, 'seed'>,
  s: RunSettings & { readonly taskQueue: string; readonly boundMs: number },
): Promise<RunMeasure> {
  const sandbox = await stack.startSandbox(s.worldTimeScale);
  const { vars } = workerSettings(
    system,
    s.pollTimeScale,
    system === 'shepherd-webhooks' ? await freePort() : undefined,
  );
  let worker;
  try {
    worker = await stack.startWorker(s.taskQueue, vars);
    const client: Client = await stack.client();
    await Promise.all([
      adminReset(sandbox.world.admin.url, '/requests'),
      adminReset(sandbox.world.admin.url, '/timeline'),
    ]);
    const workflowId = await startValidation(client, {
      appName: sandbox.world.app,
      taskQueue: s.taskQueue,
      heartbeatTimeout: '1m',
      approvalEnvironments: [],
    });
    const end = await awaitRunEnd(client, workflowId, { boundMs: s.boundMs, approveAs: BENCH_APPROVER, pollMs: 250 });
    const records = await worldRecords(sandbox.world.admin.url);
    const histories = await fetchRunHistories(client, workflowId);
    const waits = histories.flatMap((h) => waitsFromHistory(h.events, envOfWorkflowId(h.workflowId)));
    const historyEvents = histories.reduce((n, h) => n + h.events.length, 0);
    const wallMs = historySpanMs(histories[0]?.events ?? []);
    const ok = end.kind === 'finished' && end.report.status === 'succeeded';
    return {
      system,
      worldTimeScale: s.worldTimeScale,
      ok,
      ...(ok
        ? {}
        : {
            error:
              end.kind === 'finished'
                ? `the validation ended ${end.report.status}`
                : end.kind === 'closed'
                  ? `the validation closed ${end.status}`
                  : `no end within ${Math.round(s.boundMs / 1000)} s (at ${end.position?.step ?? 'unknown step'})`,
          }),
      ...(wallMs !== undefined ? { wallMs } : {}),
      waits,
      historyEvents,
      histories: histories.length,
      ...records,
    };
  } catch (err) {
    return { system, worldTimeScale: s.worldTimeScale, ok: false, error: (err as Error).message, waits: [] };
  } finally {
    await endValidation(stack, sandbox.world.app);
    // The run has ended (or been ended): nothing of the worker's is left to protect, so no graceful drain.
    await worker?.stop('SIGKILL');
    await sandbox.process.stop('SIGINT', 5_000);
  }
}

export interface KillMeasure {
  readonly ok: boolean;
  readonly error?: string;
  readonly heartbeatTimeoutS: number;
  /** Seconds from the SIGKILL to the wait activity starting again on the new worker (or completing). */
  readonly movedOnS?: number;
  readonly how?: string;
  /** Where the seconds went, after the kill: when the retry was scheduled (the heartbeat timed out), when the new worker polled. */
  readonly timing?: {
    readonly lastHeartbeatBeforeKillS: number | undefined;
    readonly retryScheduledS: number | undefined;
    readonly newWorkerReadyS: number | undefined;
  };
}

/**
 * P5: a worker SIGKILLed while the run waits for the CI build; a new worker starts at once. Measures the seconds
 * from the kill to the wait activity starting again (describe(): a higher attempt or a later lastStartedTime) or
 * completing.
 */
export async function measureKill(
  stack: BenchStack,
  s: RunSettings & { readonly taskQueue: string; readonly heartbeatTimeoutS: number; readonly boundMs: number },
): Promise<KillMeasure> {
  const hb = s.heartbeatTimeoutS;
  const sandbox = await stack.startSandbox(s.worldTimeScale);
  const { vars } = workerSettings('shepherd-polling', s.pollTimeScale);
  const workers = [];
  try {
    // Two workers, as a deployment runs them: the one holding the wait is killed, the other takes the retry.
    workers.push(...(await Promise.all([stack.startWorker(s.taskQueue, vars), stack.startWorker(s.taskQueue, vars)])));
    const client = await stack.client();
    const workflowId = await startValidation(client, {
      appName: sandbox.world.app,
      taskQueue: s.taskQueue,
      heartbeatTimeout: `${hb}s`,
      approvalEnvironments: [],
    });
    const at = await waitForPosition(client, workflowId, (p) => p.waitingOn === 'build', s.boundMs);
    if (!at) return { ok: false, heartbeatTimeoutS: hb, error: 'the run never waited on a Jenkins build' };
    const handle = client.workflow.getHandle(at.workflowId);
    const pendingWait = async () =>
      (await handle.describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'awaitJenkinsBuild');
    // Let the wait be well under way (started and heartbeating) before the kill.
    let before = await pendingWait();
    for (let i = 0; i < 50 && !before?.lastStartedTime; i++) {
      await new Promise((r) => setTimeout(r, 100));
      before = await pendingWait();
    }
    if (!before) return { ok: false, heartbeatTimeoutS: hb, error: 'the build wait was not pending' };
    const attemptBefore = before.attempt ?? 1;
    const msOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined =>
      t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : undefined;
    const holder = workers.find((w) => before.lastWorkerIdentity === `bench-${w.name}`);
    if (!holder)
      return {
        ok: false,
        heartbeatTimeoutS: hb,
        error: `no worker of ours runs the wait (${before.lastWorkerIdentity})`,
      };
    await holder.stop('SIGKILL');
    const killedAt = Date.now();
    const sinceKill = (ms: number | undefined): number | undefined =>
      ms === undefined ? undefined : (ms - killedAt) / 1000;
    const lastHeartbeat = msOf(before.lastHeartbeatTime);
    // A replacement for the killed one, as an orchestrator would start: its start-up is reported, not waited for (the
    // stack ends it with everything else if it is still starting when P5 ends).
    let newWorkerReadyAt: number | undefined;
    const starting = stack.startWorker(s.taskQueue, vars).then((w) => {
      newWorkerReadyAt = Date.now();
      workers.push(w);
      return w;
    });
    starting.catch(() => undefined);
    let retryScheduledAt: number | undefined;
    const timing = (): Pick<KillMeasure, 'timing'> => ({
      timing: {
        lastHeartbeatBeforeKillS: lastHeartbeat === undefined ? undefined : (killedAt - lastHeartbeat) / 1000,
        retryScheduledS: sinceKill(retryScheduledAt),
        newWorkerReadyS: sinceKill(newWorkerReadyAt),
      },
    });
    const until = killedAt + s.boundMs;
    while (Date.now() < until) {
      const now = await pendingWait();
      if (!now)
        return {
          ok: true,
          heartbeatTimeoutS: hb,
          movedOnS: (Date.now() - killedAt) / 1000,
          how: 'the wait completed',
          ...timing(),
        };
      if ((now.attempt ?? 1) > attemptBefore) retryScheduledAt ??= Date.now();
      const started = msOf(now.lastStartedTime) ?? 0;
      if ((now.attempt ?? 1) > attemptBefore && started >= killedAt) {
        return {
          ok: true,
          heartbeatTimeoutS: hb,
          movedOnS: (started - killedAt) / 1000,
          how: `attempt ${now.attempt} started on ${now.lastWorkerIdentity ?? 'another worker'} (the other worker running)`,
          ...timing(),
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { ok: false, heartbeatTimeoutS: hb, error: `the wait did not start again within ${s.boundMs / 1000} s` };
  } catch (err) {
    return { ok: false, heartbeatTimeoutS: hb, error: (err as Error).message };
  } finally {
    await endValidation(stack, sandbox.world.app);
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await sandbox.process.stop('SIGINT', 5_000);
  }
}
