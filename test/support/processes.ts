/**
 * The crash tests' harness: Shepherd's dev server, sandbox and workers as real child processes on a temporary
 * state folder with free ports (src/chaos/stack.ts), plus the run helpers those tests share. Always `stop()` the
 * stack in afterAll: it ends every process it started, SIGKILL as a last resort, and removes the folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { projectPathsOf, sideEffectsBetween, type SideEffects } from '../../src/chaos/side-effects.js';
import { Stack } from '../../src/chaos/stack.js';
import {
  awaitRunEnd,
  startValidation,
  waitForPosition,
  type RunEnd,
  type RunPosition,
  type StartOptions,
} from '../../src/chaos/run-watch.js';
import type { ValidationReport } from '../../src/domain/report.js';
import type { ScenarioInput, SystemName } from '../../src/sandbox/core/faults.js';
import type { WorldState } from '../../src/sandbox/world/state.js';

/** Short enough that a killed worker's wait moves to the next worker within seconds; production uses 1m. */
const CRASH_TEST_HEARTBEAT_TIMEOUT = '5s';

export const APPROVER = 'crash-test';

export interface TestStack {
  readonly stack: Stack;
  client(): Promise<Client>;
  /**
   * A fresh sandbox world (optionally with a scenario) and one worker; then starts validatePipeline through
   * `opts.through` (default prod: a test whose fault lands in the dev iteration proves the resume through dev).
   */
  begin(scenario?: string, opts?: Pick<StartOptions, 'waitBudgets' | 'through'>): Promise<StartedRun>;
  /** Ends the run's worker(s) and sandbox, and terminates the run if it still runs; the dev server stays. */
  end(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartedRun {
  readonly workflowId: string;
  readonly before: WorldState;
  /** Follows the run to its end, approving prod; `stuck` after `boundMs`. */
  finish(boundMs?: number): Promise<RunEnd>;
  /** What the run did to the world since it started. */
  effects(): Promise<SideEffects>;
}

/**
 * Starts the dev server (headless, SQLite on a temporary state folder) at the given sandbox time scale. Its workers
 * load the workflow bundle global setup built, instead of bundling `workflows/` at every start.
 */
export async function startTestStack(opts: { timeScale: number; taskQueue: string }): Promise<TestStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-crash-'));
  const stack = await Stack.create({
    stateDir,
    timeScale: opts.timeScale,
    taskQueue: opts.taskQueue,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  let current: string | undefined;
  try {
    await stack.startDevServer();
  } catch (err) {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  return {
    stack,
    client: () => stack.client(),
    async begin(scenario, runOpts = {}) {
      const world = await stack.startSandbox(scenario);
      await stack.startWorker();
      const before = await stack.state();
      const client = await stack.client();
      const workflowId = await startValidation(client, {
        appName: world.app,
        taskQueue: opts.taskQueue,
        heartbeatTimeout: CRASH_TEST_HEARTBEAT_TIMEOUT,
        ...(runOpts.waitBudgets ? { waitBudgets: runOpts.waitBudgets } : {}),
        ...(runOpts.through ? { through: runOpts.through } : {}),
      });
      current = workflowId;
      return {
        workflowId,
        before,
        finish: (boundMs = 240_000) => awaitRunEnd(client, workflowId, { boundMs, approveAs: APPROVER }),
        effects: async () => sideEffectsBetween(before, await stack.state(), projectPathsOf(world)),
      };
    },
    async end() {
      if (current) {
        const client = await stack.client();
        await client.workflow
          .getHandle(current)
          .terminate('the crash test ended')
          .catch(() => undefined);
        current = undefined;
      }
      await stack.stopWorkers('SIGKILL');
      await stack.stopSandbox();
    },
    async stop() {
      try {
        await stack.stop();
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}

/** Sandbox time runs 20 times faster than the durations it models, so a run through dev takes seconds. */
const TIME_SCALE = 0.05;

/**
 * A stack for the tests of one file: started in beforeAll on the file's own task queue, its run and world ended
 * after each test, stopped in afterAll. Test files run in parallel, each with its own dev server.
 */
export function useTestStack(taskQueue: string): () => TestStack {
  let t: TestStack | undefined;
  beforeAll(async () => {
    t = await startTestStack({ timeScale: TIME_SCALE, taskQueue });
  });
  afterEach(async () => {
    await t?.end();
  });
  afterAll(async () => {
    await t?.stop();
  });
  return () => {
    if (!t) throw new Error('the test stack did not start');
    return t;
  };
}

/** Waits until the run is where `pred` says (approving prod on the way); fails naming `what` after 2 min. */
export async function reach(
  t: TestStack,
  run: StartedRun,
  what: string,
  pred: (p: RunPosition) => boolean,
): Promise<RunPosition> {
  const position = await waitForPosition(await t.client(), run.workflowId, pred, 120_000, APPROVER);
  if (!position) throw new Error(`the run never reached ${what}`);
  return position;
}

/** Kills the only worker with SIGKILL and starts a new one. */
export async function replaceWorker(t: TestStack): Promise<void> {
  const [worker] = t.stack.liveWorkers;
  const exit = await worker!.stop('SIGKILL');
  if (exit.signal !== 'SIGKILL') throw new Error(`the worker ended by ${JSON.stringify(exit)}, not by SIGKILL`);
  await t.stack.startWorker();
}

/** The run's report, once it finished (not stuck, not ended otherwise). */
export async function finishedReport(run: StartedRun): Promise<ValidationReport> {
  const end = await run.finish();
  if (end.kind !== 'finished') throw new Error(`the run did not finish: ${JSON.stringify(end)}`);
  return end.report;
}

/** The report's step `name` of the iteration in `env`. */
export function stepOf(report: ValidationReport, env: string, name: string) {
  const found = report.iterations.find((i) => i.env === env)?.steps.find((s) => s.name === name);
  if (!found) throw new Error(`the report has no step ${name} in ${env}`);
  return found;
}

/** A scenario that takes `system` off the network at once, for `forMs`. */
export function outage(system: SystemName, forMs: number): ScenarioInput {
  return {
    name: `${system}-down`,
    description: `${system} refuses connections for ${forMs} ms`,
    http: [{ system, down: true, forMs }],
  };
}

/** The side effects of a run through dev that did everything once: one bump, build, MR and merge, nothing open. */
export const ONCE_THROUGH_DEV: SideEffects = {
  bumps: 1,
  ciBuilds: 1,
  mergeRequestsPerEnv: { dev: 1 },
  revertMergeRequestsPerEnv: {},
  merges: 1,
  mergedMergeRequests: 1,
  promoteBuildsPerEnv: {},
  openMergeRequests: [],
  leftoverBranches: [],
};

/** The side effects of a run through stage that did everything once. */
export const ONCE_THROUGH_STAGE: SideEffects = {
  ...ONCE_THROUGH_DEV,
  mergeRequestsPerEnv: { dev: 1, stage: 1 },
  merges: 2,
  mergedMergeRequests: 2,
  promoteBuildsPerEnv: { stage: 1 },
};

/** The side effects of a run that reached prod exactly once: one of everything, nothing left open. */
export const ONCE_THROUGH_PROD: SideEffects = {
  bumps: 1,
  ciBuilds: 1,
  mergeRequestsPerEnv: { dev: 1, stage: 1, prod: 1 },
  revertMergeRequestsPerEnv: {},
  merges: 3,
  mergedMergeRequests: 3,
  promoteBuildsPerEnv: { stage: 1, prod: 1 },
  openMergeRequests: [],
  leftoverBranches: [],
};
