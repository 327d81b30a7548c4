/**
 * P4: many concurrent promotions on one worker process and the dev server. Today one Shepherd worker serves one app
 * (multi-app workers are another issue), so P4 runs as: N+1 sandbox worlds hosted by one separate process
 * (world-host.ts), each prepared by the seed's flow so that dev, stage and prod run three different images; ONE
 * worker process (worker-host.ts) with one Temporal Worker per app on its own task queue, sharing one
 * NativeConnection. World N+1 measures one promotion alone; then every other app promotes dev→stage and stage→prod
 * at once (2N promotions; the two of an app share its Jenkins promote job, which builds one at a time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { PromoteEnvironmentInput } from '../domain/inputs.js';
import type { PromotionResult } from '../domain/report.js';
import { PROJECT_ROOT } from '../config/paths.js';
import type { WorldInfo } from '../sandbox/world/world.js';
import { promoteEnvironment } from '../../workflows/promote-environment.js';
import { runSeedFlow } from './seed-flow.js';
import type { BenchStack } from './stack.js';
import type { WorkerHostFigures, WorkerHostSpec } from './worker-host.js';

export interface P4Measure {
  readonly apps: number;
  readonly promotions: number;
  readonly failures: number;
  readonly failureSamples: readonly string[];
  readonly wallMs?: number;
  readonly onePromotionMs?: number;
  readonly worker?: WorkerHostFigures;
  readonly error?: string;
  readonly how: string;
}

const TSX_ARGS = ['--import', 'tsx'];

const liveHosts = new Set<ChildProcess>();

/** Kills the host processes still running (the bench is being stopped by a signal). */
export function killHosts(): void {
  for (const child of liveHosts) child.kill('SIGKILL');
}

/** A child node process running one of the bench's host scripts from the sources. */
function hostProcess(script: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [...TSX_ARGS, join(PROJECT_ROOT, 'src', 'bench', script), ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveHosts.add(child);
  child.once('exit', () => liveHosts.delete(child));
  return child;
}

function firstLine(
  child: ChildProcess,
  pattern: RegExp,
  stream: 'stdout' | 'stderr',
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let errText = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${errText.slice(-500)}`)),
      timeoutMs,
    );
    const onData = (which: 'stdout' | 'stderr') => (buf: Buffer) => {
      if (which === 'stderr') errText += buf.toString('utf8');
      if (which !== stream) return;
      text += buf.toString('utf8');
      // Whole lines only: a long line (the worlds' JSON) arrives in several chunks.
      const line = text
        .split('\n')
        .slice(0, -1)
        .find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    };
    child.stdout?.on('data', onData('stdout'));
    child.stderr?.on('data', onData('stderr'));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${signal ?? code}) before ${pattern}: ${errText.slice(-500)}`));
    });
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export interface P4Options {
  readonly apps: number;
  readonly timeScale: number;
  readonly say: (line: string) => void;
}

export async function measureP4(stack: BenchStack, opts: P4Options): Promise<P4Measure> {
  const n = opts.apps;
  const how =
    `${n} apps × 2 hops = ${2 * n} concurrent promotions: ${n + 1} sandbox worlds in one separate process, ` +
    `ONE worker process with ${n + 1} Temporal Workers (a task queue per app) sharing one NativeConnection, ` +
    `one dev server; one more app's single promotion alone is the baseline`;
  const base = { apps: n, promotions: 2 * n, failures: 0, failureSamples: [], how };
  const worldHost = hostProcess('world-host.ts', [String(n + 1), String(opts.timeScale)], stack.env());
  let workerHost: ChildProcess | undefined;
  try {
    const worlds = JSON.parse(await firstLine(worldHost, /^\[/, 'stdout', 120_000 + n * 2_000)) as WorldInfo[];
    opts.say(
      `P4: ${worlds.length} worlds up; preparing them (dev, stage and prod on three images) while the worker host starts`,
    );
    const specPath = join(stack.stateDir, 'p4-worker-host.json');
    const stamp = Date.now().toString(36);
    const spec: WorkerHostSpec = {
      address: stack.address,
      namespace: 'default',
      bundlePath: stack.bundlePath!,
      apps: worlds.map((world, i) => ({ taskQueue: `bench-p4-${stamp}-${i}`, world })),
      // Half the machine's memory: past it the host stops, and the bench tries half as many apps.
      rssLimitMb: Math.round(totalmem() / 1024 / 1024 / 2),
    };
    writeFileSync(specPath, JSON.stringify(spec));
    const host = hostProcess('worker-host.ts', [specPath], stack.env());
    workerHost = host;
    const hostReady = firstLine(host, /Worker host polling/, 'stderr', 120_000 + n * 2_000);
    hostReady.catch(() => undefined);
    // v1 through stage, then v2 in dev: dev→stage promotes v2, stage→prod promotes v1.
    const tags = await Promise.all(
      worlds.map(async (world) => {
        const v1 = await runSeedFlow({ world, timeScale: opts.timeScale, through: 'stage' });
        const v2 = await runSeedFlow({ world, timeScale: opts.timeScale, through: 'dev' });
        return { stage: v1.imageTag, dev: v2.imageTag };
      }),
    );
    await hostReady;
    const client = await stack.client();
    const promote = async (
      i: number,
      sourceEnv: 'dev' | 'stage',
      targetEnv: 'stage' | 'prod',
    ): Promise<PromotionResult> => {
      const input: PromoteEnvironmentInput = {
        appName: worlds[i]!.app,
        sourceEnv,
        targetEnv,
        imageTag: sourceEnv === 'dev' ? tags[i]!.dev : tags[i]!.stage,
        approvalEnvironments: [],
        heartbeatTimeout: '1m',
      };
      const handle = await client.workflow.start(promoteEnvironment, {
        workflowId: `bench-p4-${stamp}-${i}-${targetEnv}`,
        taskQueue: spec.apps[i]!.taskQueue,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        args: [input],
      });
      return handle.result();
    };
    opts.say('P4: one promotion alone (the baseline)');
    const oneStart = Date.now();
    const one = await promote(n, 'dev', 'stage');
    const onePromotionMs = Date.now() - oneStart;
    if (one.status !== 'succeeded') throw new Error(`the baseline promotion ended ${one.status}`);
    opts.say(`P4: ${2 * n} promotions at once`);
    host.kill('SIGUSR2');
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => [promote(i, 'dev', 'stage'), promote(i, 'stage', 'prod')]).flat(),
    );
    const wallMs = Date.now() - started;
    const failed = outcomes.flatMap((o) =>
      o.status === 'rejected'
        ? [(o.reason as Error).message]
        : o.value.status === 'succeeded'
          ? []
          : [`${o.value.appName} ${o.value.targetEnv}: ${o.value.status}`],
    );
    const figuresLine = firstLine(host, /^\{/, 'stdout', 30_000);
    host.kill('SIGTERM');
    const worker = JSON.parse(await figuresLine) as WorkerHostFigures;
    return { ...base, failures: failed.length, failureSamples: failed.slice(0, 5), wallMs, onePromotionMs, worker };
  } catch (err) {
    return { ...base, error: (err as Error).message };
  } finally {
    if (workerHost) await stopChild(workerHost, 'SIGKILL');
    await stopChild(worldHost, 'SIGTERM');
  }
}
