/**
 * `npm run bench` (scripts/bench.mjs): issue 14's benchmark. Runs the parts asked for, prints progress on stderr and
 * a table on stdout, and writes the JSON report (commit, machine, settings, every run, every figure). Exit code 0
 * when the bench ran to its end, whatever the figures; 1 when it crashed; 2 on usage errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../config/paths.js';
import { killHosts, measureP4, type P4Measure } from './p4.js';
import { renderTable, type Figure } from './report.js';
import {
  measureKill,
  measureSeed,
  measureShepherd,
  SHEPHERD_POLL_MS,
  SYSTEM_IDS,
  webhooksUnavailable,
  workerSettings,
  type KillMeasure,
  type RunMeasure,
  type SystemId,
} from './runs.js';
import { SEED_POLL_MS } from './seed-flow.js';
import { BenchStack } from './stack.js';
import { benchFigures, type BenchMeasures } from './summary.js';

export const PARTS = ['side-by-side', 'p3', 'p4', 'p5', 'growth'] as const;
export type Part = (typeof PARTS)[number];

export const HELP = `Usage: npm run bench -- [options]

Issue 14's benchmark, against sandbox worlds and a Temporal dev server it starts itself (and stops):
  side-by-side  the seed's validate-script flow (a reference implementation with its poll intervals), Shepherd with
                webhooks off (its production poll intervals) and Shepherd with webhooks on, each on a fresh world:
                wall time, API calls, detection latency p50/p99 per wait kind, ratios seed/Shepherd
  p3            history events of a full validation (parent plus children)
  p4            concurrent promotions (apps × 2 hops) on ONE worker process: failures, wall time against one
                promotion, worker RSS peak, event-loop delay p99
  p5            a worker SIGKILLed mid-wait: seconds until the wait runs again, beside the heartbeat timeout
  growth        side-by-side again with every world duration 4× longer and the same poll intervals
Every figure is printed beside its target and marked met, missed or unavailable (a piece of issue 14 not in this
build); missed targets do not change the exit code.

Options:
  --quick               one repetition, time scale 0.01, P4 with 10 apps, no growth (a smoke run, < 3 minutes)
  --repetitions N       side-by-side repetitions (default 3)
  --time-scale X        the worlds' time scale, and the factor of every poll interval (default 0.1)
  --only LIST           parts to run, comma-separated: ${PARTS.join(',')} (default: all)
  --p4-apps N           P4's apps (default 100; --quick 10)
  --heartbeat-timeout S P5's heartbeat timeout in seconds (default 5)
  --out FILE            the JSON report (default reports/bench-<timestamp>.json)
  --verbose             copy every line of the processes the bench starts to stderr
  --help                this text
`;

export interface BenchOptions {
  readonly quick: boolean;
  readonly repetitions: number;
  readonly timeScale: number;
  readonly parts: readonly Part[];
  readonly p4Apps: number;
  readonly heartbeatTimeoutS: number;
  readonly out: string;
  readonly verbose: boolean;
}

export class BenchUsageError extends Error {}

/** The stack of the bench in progress, for the signal handler. */
let activeStack: BenchStack | undefined;

export function parseBenchArgs(argv: readonly string[], now = new Date()): BenchOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      quick: { type: 'boolean' },
      repetitions: { type: 'string' },
      'time-scale': { type: 'string' },
      only: { type: 'string' },
      'p4-apps': { type: 'string' },
      'heartbeat-timeout': { type: 'string' },
      out: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new BenchUsageError(`unexpected argument ${positionals[0]}`);
  const quick = values.quick === true;
  const num = (name: string, raw: string | undefined, fallback: number, ok: (n: number) => boolean): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!ok(n)) throw new BenchUsageError(`--${name} got ${raw}`);
    return n;
  };
  const parts = (values.only ?? (quick ? 'side-by-side,p3,p4,p5' : PARTS.join(',')))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of parts)
    if (!(PARTS as readonly string[]).includes(p))
      throw new BenchUsageError(`--only: unknown part ${p} (${PARTS.join(', ')})`);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    quick,
    repetitions: num('repetitions', values.repetitions, quick ? 1 : 3, (n) => Number.isInteger(n) && n >= 1),
    timeScale: num('time-scale', values['time-scale'], quick ? 0.01 : 0.1, (n) => n > 0 && n <= 2.5),
    parts: parts as Part[],
    p4Apps: num('p4-apps', values['p4-apps'], quick ? 10 : 100, (n) => Number.isInteger(n) && n >= 1),
    heartbeatTimeoutS: num('heartbeat-timeout', values['heartbeat-timeout'], 5, (n) => Number.isInteger(n) && n >= 1),
    out: resolve(values.out ?? join(PROJECT_ROOT, 'reports', `bench-${stamp}.json`)),
    verbose: values.verbose === true,
  };
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Restarts the dev server when it has gone away between runs, saying so: the figures of that moment are suspect. */
async function keepDevServer(stack: BenchStack, say: (l: string) => void): Promise<void> {
  const ended = await stack.ensureDevServer();
  if (ended !== undefined) say(`  the dev server had ended; restarted it. Its last lines:\n${ended}`);
}

/** Side-by-side at one world time scale: every system, `repetitions` times, interleaved so drift hits all alike. */
async function sideBySide(
  stack: BenchStack,
  opts: BenchOptions,
  worldTimeScale: number,
  skipped: Partial<Record<SystemId, string>>,
  say: (l: string) => void,
  tag: string,
): Promise<RunMeasure[]> {
  const runs: RunMeasure[] = [];
  const boundMs = Math.max(120_000, 1_500_000 * worldTimeScale);
  for (let rep = 1; rep <= opts.repetitions; rep++) {
    for (const system of SYSTEM_IDS) {
      if (skipped[system]) continue;
      await keepDevServer(stack, say);
      say(`${tag} ${rep}/${opts.repetitions}: ${system} at time scale ${worldTimeScale}…`);
      const settings = { worldTimeScale, pollTimeScale: opts.timeScale, say };
      const r =
        system === 'seed'
          ? await measureSeed(stack, settings)
          : await measureShepherd(stack, system, { ...settings, taskQueue: `bench-${system}`, boundMs });
      say(
        `  ${r.ok ? 'done' : 'FAILED'} in ${r.wallMs === undefined ? '?' : (r.wallMs / 1000).toFixed(1)} s` +
          `${r.calls ? `, ${r.calls.total} calls` : ''}${r.error ? `: ${r.error}` : ''}`,
      );
      runs.push(r);
    }
  }
  return runs;
}

export async function runBench(
  opts: BenchOptions,
  say: (line: string) => void,
): Promise<{ figures: Figure[]; report: unknown; p4How: string | undefined }> {
  const startedAt = new Date();
  const has = (p: Part): boolean => opts.parts.includes(p);
  const skipped: Partial<Record<SystemId, string>> = {};
  const noWebhooks = webhooksUnavailable();
  if (noWebhooks) skipped['shepherd-webhooks'] = noWebhooks;
  const growthFactor = 4;
  const p5TimeScale = opts.timeScale;
  const stack = await BenchStack.create(opts.verbose ? (name, line) => say(`[${name}] ${line}`) : undefined);
  activeStack = stack;
  let sideRuns: RunMeasure[] | undefined;
  let growthRuns: RunMeasure[] | undefined;
  let p3Runs: RunMeasure[] | undefined;
  let p4: P4Measure | undefined;
  let p5: KillMeasure | undefined;
  try {
    say(`Starting the dev server and bundling the workflows (state ${stack.stateDir})…`);
    await stack.start();
    if (has('side-by-side')) sideRuns = await sideBySide(stack, opts, opts.timeScale, skipped, say, 'side by side');
    if (has('p3')) {
      p3Runs = sideRuns?.filter((r) => r.system !== 'seed');
      if (!p3Runs || p3Runs.length === 0) {
        await keepDevServer(stack, say);
        say('P3: one validation…');
        p3Runs = [
          await measureShepherd(stack, 'shepherd-polling', {
            worldTimeScale: opts.timeScale,
            pollTimeScale: opts.timeScale,
            say,
            taskQueue: 'bench-p3',
            boundMs: Math.max(120_000, 1_500_000 * opts.timeScale),
          }),
        ];
      }
    }
    if (has('p5')) {
      await keepDevServer(stack, say);
      say(`P5: killing a worker mid-wait (heartbeat timeout ${opts.heartbeatTimeoutS} s, time scale ${p5TimeScale})…`);
      p5 = await measureKill(stack, {
        worldTimeScale: p5TimeScale,
        pollTimeScale: opts.timeScale,
        say,
        taskQueue: 'bench-p5',
        heartbeatTimeoutS: opts.heartbeatTimeoutS,
        boundMs: 120_000,
      });
      say(`  ${p5.ok ? `moved on after ${p5.movedOnS?.toFixed(1)} s (${p5.how})` : `FAILED: ${p5.error}`}`);
    }
    if (has('p4')) {
      // The largest N that works: halve on a failure to start or prepare the worlds.
      for (let apps = opts.p4Apps; apps >= 1; apps = Math.floor(apps / 2)) {
        await keepDevServer(stack, say);
        say(`P4: ${apps} apps × 2 hops on one worker process…`);
        p4 = await measureP4(stack, { apps, timeScale: opts.timeScale, say });
        if (!p4.error) break;
        say(`  P4 with ${apps} apps did not complete: ${p4.error}`);
        if (apps === 1) break;
      }
      if (p4 && !p4.error)
        say(
          `  ${p4.failures} failed, ${((p4.wallMs ?? 0) / 1000).toFixed(1)} s, RSS peak ${p4.worker?.rssPeakMb.toFixed(0)} MB`,
        );
    }
    if (has('growth'))
      growthRuns = await sideBySide(stack, opts, opts.timeScale * growthFactor, skipped, say, 'growth');
  } finally {
    say('Stopping the processes the bench started…');
    await stack.stop();
  }
  const measures: BenchMeasures = {
    ...(sideRuns ? { sideBySide: sideRuns } : {}),
    ...(growthRuns ? { growth: growthRuns, growthFactor } : {}),
    ...(p3Runs ? { p3: p3Runs } : {}),
    ...(p4 ? { p4, p4TargetApps: 100 } : {}),
    ...(p5 ? { p5 } : {}),
    skipped,
  };
  const figures = benchFigures(measures);
  const report = {
    bench: 'shepherd issue 14',
    commit: gitCommit() ?? null,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      memoryMb: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    settings: {
      quick: opts.quick,
      parts: opts.parts,
      repetitions: opts.repetitions,
      timeScale: opts.timeScale,
      growthTimeScale: has('growth') ? opts.timeScale * growthFactor : null,
      p5TimeScale: has('p5') ? p5TimeScale : null,
      p4Apps: opts.p4Apps,
      heartbeatTimeoutS: opts.heartbeatTimeoutS,
      seedPollMs: Object.fromEntries(Object.entries(SEED_POLL_MS).map(([k, v]) => [k, v * opts.timeScale])),
      shepherdPollMs: Object.fromEntries(Object.entries(SHEPHERD_POLL_MS).map(([k, v]) => [k, v * opts.timeScale])),
      workerVariables: {
        'shepherd-polling': workerSettings('shepherd-polling', opts.timeScale),
        'shepherd-webhooks': workerSettings('shepherd-webhooks', opts.timeScale, 0),
      },
      skippedSystems: skipped,
      p4How: p4?.how ?? null,
    },
    figures,
    runs: {
      sideBySide: sideRuns ?? null,
      growth: growthRuns ?? null,
      p3: p3Runs ?? null,
      p4: p4 ?? null,
      p5: p5 ?? null,
    },
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  return { figures, report, p4How: p4?.how };
}

/** The command line: returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts;
  try {
    opts = parseBenchArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const began = Date.now();
  const say = (line: string): void =>
    void process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  // A SIGINT/SIGTERM (Ctrl-C, a stopping `npm run bench`) stops what the bench started before the process ends.
  let stopping: Promise<void> | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    say(`${sig}: stopping the processes the bench started…`);
    killHosts();
    stopping ??= activeStack?.stop().catch(() => undefined) ?? Promise.resolve();
    void stopping.then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { figures, p4How } = await runBench(opts, say);
  process.stdout.write(`${renderTable(figures).join('\n')}\n`);
  if (p4How) process.stdout.write(`\nP4 ran as: ${p4How}.\n`);
  process.stdout.write(`\nReport: ${opts.out}\n`);
  return 0;
}
