/**
 * The chaos runner behind `shepherd chaos`: one dev server, one sandbox world and a worker, all real processes on
 * a temporary state folder; a fault-free baseline run; then N validatePipeline runs one after another on the same
 * world (each run bumps the next version, as a nightly validation does), while the seeded schedule kills and
 * restarts the worker, restarts the dev server and switches fault scenarios on and off. Each run is checked for
 * its outcome, for side effects made twice and for what it left behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioInput } from '../sandbox/core/faults.js';
import { findScenario } from '../sandbox/world/scenarios.js';
import { awaitRunEnd, startValidation, type RunEnd } from './run-watch.js';
import { describeEvent, planRuns, type ChaosEvent, type RunPlan } from './schedule.js';
import { projectPathsOf, sideEffectProblems, sideEffectsBetween } from './side-effects.js';
import { Stack } from './stack.js';

export const CHAOS_TASK_QUEUE = 'shepherd-chaos';
const APPROVER = 'shepherd-chaos';

export interface ChaosOptions {
  readonly runs: number;
  readonly seed: number;
  readonly timeScale: number;
  /** A run not finished within this many seconds counts as stuck. */
  readonly boundSeconds: number;
  /** The runs' heartbeat timeout: how soon a killed worker's wait moves to the next worker. */
  readonly heartbeatTimeout: string;
  /** Progress lines (one per run). */
  readonly say: (line: string) => void;
  /** Every line every process prints, when wanted. */
  readonly onProcessLine?: (name: string, line: string) => void;
}

export type Outcome = 'succeeded' | 'rolled_back' | 'failed' | 'stuck';

export interface RunResult {
  readonly plan: RunPlan;
  readonly outcome: Outcome;
  readonly durationMs: number;
  readonly duplicates: readonly string[];
  readonly leaks: readonly string[];
  /** The failure of a run that did not reach its expected outcome, or where a stuck run was. */
  readonly detail: string | undefined;
}

export interface ChaosSummary {
  readonly seed: number;
  readonly timeScale: number;
  readonly boundSeconds: number;
  readonly baselineMs: number;
  readonly results: readonly RunResult[];
  /** Processes that died without the schedule killing them (each restarted). */
  readonly unplannedExits: readonly string[];
}

function mergeScenarios(name: string, parts: readonly (ScenarioInput | undefined)[]): ScenarioInput | undefined {
  const present = parts.filter((p): p is ScenarioInput => p !== undefined);
  if (present.length === 0) return undefined;
  return {
    name,
    description: present.map((p) => p.description).join(' + '),
    http: present.flatMap((p) => p.http ?? []),
    domain: present.flatMap((p) => p.domain ?? []),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runChaos(opts: ChaosOptions): Promise<ChaosSummary> {
  const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-chaos-'));
  const stack = await Stack.create({
    stateDir,
    timeScale: opts.timeScale,
    taskQueue: CHAOS_TASK_QUEUE,
    ...(opts.onProcessLine ? { onLine: opts.onProcessLine } : {}),
  });
  const unplannedExits: string[] = [];
  let disturbing = false;

  /** Brings back a dev server or worker that ended without the schedule asking for it. */
  const keepAlive = async (): Promise<void> => {
    if (disturbing) return;
    if (!stack.devServer?.running) {
      unplannedExits.push(`dev server: ${stack.devServer?.tail(5) ?? 'never started'}`);
      await stack.startDevServer();
    }
    if (stack.liveWorkers.length === 0) {
      const last = stack.workers.at(-1);
      unplannedExits.push(`worker: ${last?.tail(5) ?? 'never started'}`);
      await stack.startWorker();
    }
  };

  let baselineMs = 0;
  const oneRun = async (plan: RunPlan): Promise<RunResult> => {
    await keepAlive();
    const client = await stack.client();
    const world = stack.world!;
    const base = plan.scenario ? findScenario(plan.scenario) : undefined;
    await stack.setScenario(base);
    const before = await stack.state();
    const startedMs = Date.now();
    const workflowId = await startValidation(client, {
      appName: world.app,
      taskQueue: CHAOS_TASK_QUEUE,
      heartbeatTimeout: opts.heartbeatTimeout,
    });

    let ended = false;
    let generation = 0;
    const apply = async (e: ChaosEvent): Promise<void> => {
      switch (e.kind) {
        case 'kill-worker': {
          disturbing = true;
          try {
            await stack.stopWorkers('SIGKILL');
            await sleep(e.restartAfterMs);
            await stack.startWorker();
          } finally {
            disturbing = false;
          }
          return;
        }
        case 'restart-dev-server': {
          disturbing = true;
          try {
            await stack.stopDevServer();
            await sleep(e.downMs);
            await stack.startDevServer();
          } finally {
            disturbing = false;
          }
          return;
        }
        case 'scenario':
        case 'outage': {
          const fault: ScenarioInput =
            e.kind === 'scenario'
              ? findScenario(e.name)!
              : {
                  name: `${e.system}-down`,
                  description: `${e.system} down for ${e.forMs} ms`,
                  http: [{ system: e.system, down: true, forMs: e.forMs }],
                };
          const mine = ++generation;
          await stack.setScenario(mergeScenarios(`chaos-${plan.run}-${mine}`, [base, fault]));
          setTimeout(() => {
            if (mine === generation && !ended) void stack.setScenario(base).catch(() => undefined);
          }, e.forMs);
          return;
        }
      }
    };
    const timeline = (async () => {
      for (const e of plan.events) {
        const wait = startedMs + Math.round(e.at * baselineMs) - Date.now();
        if (wait > 0) await sleep(wait);
        if (ended) return;
        await apply(e).catch((err: unknown) =>
          opts.say(
            `  run ${plan.run}: ${describeEvent(e)} did not go as planned: ${(err as Error).message.split('\n')[0]}`,
          ),
        );
      }
    })();

    let end: RunEnd;
    try {
      end = await awaitRunEnd(client, workflowId, {
        boundMs: opts.boundSeconds * 1000,
        approveAs: APPROVER,
        onPosition: keepAlive,
      });
    } finally {
      ended = true;
      await timeline;
    }
    const durationMs = Date.now() - startedMs;
    await stack.setScenario(undefined);
    if (end.kind === 'stuck')
      await client.workflow
        .getHandle(workflowId)
        .terminate(`stuck: not finished within ${opts.boundSeconds} s`)
        .catch(() => undefined);
    const problems = sideEffectProblems(sideEffectsBetween(before, await stack.state(), projectPathsOf(world)));
    let outcome: Outcome;
    let detail: string | undefined;
    if (end.kind === 'finished') {
      outcome = end.report.status;
      if (end.report.status !== plan.expected)
        detail = end.report.failure
          ? `${end.report.failure.step}: ${end.report.failure.type}: ${end.report.failure.message}`
          : `ended ${end.report.status}`;
    } else if (end.kind === 'closed') {
      outcome = 'failed';
      detail = `the workflow ended ${end.status}`;
    } else {
      outcome = 'stuck';
      detail = end.position
        ? `at ${end.position.workflowId} ${end.position.step ?? '(between steps)'}`
        : 'position unknown';
    }
    return { plan, outcome, durationMs, duplicates: problems.duplicates, leaks: problems.leaks, detail };
  };

  try {
    await stack.startDevServer();
    await stack.startSandbox();
    await stack.startWorker();
    opts.say(
      `Stack up on ${stateDir}: dev server ${stack.address}, sandbox at time scale ${opts.timeScale}, task queue ${CHAOS_TASK_QUEUE}`,
    );
    const baseline = await oneRun({ run: 0, scenario: undefined, expected: 'succeeded', events: [] });
    baselineMs = baseline.durationMs;
    opts.say(`baseline (no faults): ${baseline.outcome} in ${(baseline.durationMs / 1000).toFixed(1)} s`);
    if (baseline.outcome !== 'succeeded' || baseline.duplicates.length > 0 || baseline.leaks.length > 0) {
      throw new Error(
        `the fault-free baseline run did not succeed cleanly: ${baseline.outcome} ${baseline.detail ?? ''} ${[...baseline.duplicates, ...baseline.leaks].join('; ')}`,
      );
    }
    const plans = planRuns({ runs: opts.runs, seed: opts.seed });
    const results: RunResult[] = [];
    for (const plan of plans) {
      const result = await oneRun(plan);
      results.push(result);
      opts.say(runLine(result));
    }
    return {
      seed: opts.seed,
      timeScale: opts.timeScale,
      boundSeconds: opts.boundSeconds,
      baselineMs: baseline.durationMs,
      results,
      unplannedExits,
    };
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export function runLine(r: RunResult): string {
  const faults =
    [r.plan.scenario ? `[${r.plan.scenario}]` : '', ...r.plan.events.map(describeEvent)].filter(Boolean).join('; ') ||
    'no faults';
  const problems = [...r.duplicates.map((d) => `DUPLICATE ${d}`), ...r.leaks.map((l) => `LEAK ${l}`)];
  const tail = [r.outcome !== r.plan.expected && r.detail ? r.detail : '', ...problems].filter(Boolean).join('; ');
  return `run ${String(r.plan.run).padStart(2)}  ${r.outcome.padEnd(11)} ${(r.durationMs / 1000).toFixed(1).padStart(6)} s  ${faults}${tail ? `  → ${tail}` : ''}`;
}

/** The closing table: what the issue asks the runner to count. */
export function summaryTable(s: ChaosSummary): string[] {
  const count = (o: Outcome): number => s.results.filter((r) => r.outcome === o).length;
  const duplicates = s.results.reduce((n, r) => n + r.duplicates.length, 0);
  const leaks = s.results.reduce((n, r) => n + r.leaks.length, 0);
  const unexpected = s.results.filter((r) => r.outcome !== 'stuck' && r.outcome !== r.plan.expected).length;
  const extraMs = s.results.reduce((n, r) => n + r.durationMs - s.baselineMs, 0);
  const events = s.results.flatMap((r) => r.plan.events);
  const kinds = (k: ChaosEvent['kind']): number => events.filter((e) => e.kind === k).length;
  const rows: [string, string][] = [
    ['seed', String(s.seed)],
    ['runs started', String(s.results.length)],
    ['succeeded', String(count('succeeded'))],
    [
      'rolled back',
      `${count('rolled_back')} (stage-degraded runs: ${s.results.filter((r) => r.plan.scenario === 'stage-degraded').length})`,
    ],
    ['failed', String(count('failed'))],
    ['outcome other than expected', String(unexpected)],
    [`stuck (not finished within ${s.boundSeconds} s)`, String(count('stuck'))],
    ['duplicate side effects', String(duplicates)],
    ['leaked branches or open MRs', String(leaks)],
    [
      'faults injected',
      `${kinds('kill-worker')} worker SIGKILLs, ${kinds('restart-dev-server')} dev-server restarts, ${kinds('scenario')} flaky/slow scenarios, ${kinds('outage')} outages`,
    ],
    ['processes that died unplanned', String(s.unplannedExits.length)],
    ['baseline run (no faults)', `${(s.baselineMs / 1000).toFixed(1)} s`],
    [
      'extra wall time from faults',
      `${(extraMs / 1000).toFixed(1)} s in total, ${(extraMs / 1000 / Math.max(1, s.results.length)).toFixed(1)} s a run`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(...rows.map(([, v]) => v.length));
  return [
    `| ${'metric'.padEnd(width)} | ${'value'.padEnd(valueWidth)} |`,
    `|${'-'.repeat(width + 2)}|${'-'.repeat(valueWidth + 2)}|`,
    ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v.padEnd(valueWidth)} |`),
  ];
}

/** Exit status: failing when any run is stuck or any duplicate or leak exists. */
export function chaosPassed(s: ChaosSummary): boolean {
  return s.results.every((r) => r.outcome !== 'stuck' && r.duplicates.length === 0 && r.leaks.length === 0);
}
