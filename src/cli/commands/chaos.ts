import { chaosPassed, runChaos, summaryTable } from '../../chaos/runner.js';
import { describeEvent, planRuns } from '../../chaos/schedule.js';
import { EXIT, UsageError, type Command } from '../command.js';

function wholeNumber(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${raw}`);
  return n;
}

export const chaosCommand: Command = {
  usage: '--runs N --seed S [--time-scale X] [--bound-seconds B] [--plan] [--verbose]',
  help: `
Proves that runs survive infrastructure failures. Starts its own dev server, sandbox world and worker as
separate processes on a temporary state folder (nothing of yours is touched), measures one fault-free
baseline run, then runs validatePipeline N times one after another on that world, approving prod through the
\`approve\` update. A schedule drawn from --seed strikes at random moments of each run: the worker is killed
with SIGKILL and a new one started, the dev server is stopped and restarted on the same database, GitLab,
Jenkins or the Kubernetes API answers errors, slows down or goes off the network for a few seconds; some runs
start under stage-degraded and must end rolled back. The same seed replays the same schedule.

Each run is checked through the sandbox's inspection endpoint: one version bump, one MR per environment, one
merge per MR, one promote-job build per hop, no open MR and no branch of an unmerged MR left behind. At the end
a table counts runs started, succeeded, rolled back, failed and stuck, duplicates, leaks, and the wall time the
faults cost compared with the baseline.

A killed worker's wait moves to the next worker after the runs' heartbeat timeout (--heartbeat-timeout, default
5s here: production runs use SHEPHERD_HEARTBEAT_TIMEOUT, 1m), so each kill costs seconds, not a minute.

Options:
  --runs N            how many runs (1-1000)
  --seed S            the schedule's seed (0-4294967295); printed so a failure can be replayed
  --time-scale X      the sandbox's time scale (default 0.01: a fault-free run takes about 10 s)
  --bound-seconds B   a run not finished within B seconds is stuck (default 420)
  --heartbeat-timeout D  the runs' heartbeat timeout, e.g. 5s or 1m (default 5s)
  --plan              print the schedule and exit without running anything
  --verbose           print every line of every process (stderr)

Exit code 0 when no run is stuck and no duplicate or leak was found, 1 otherwise, 2 on usage errors.
`,
  options: {
    runs: { type: 'string' },
    seed: { type: 'string' },
    'time-scale': { type: 'string' },
    'bound-seconds': { type: 'string' },
    'heartbeat-timeout': { type: 'string' },
    plan: { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    if (ctx.values.runs === undefined || ctx.values.seed === undefined)
      throw new UsageError('--runs and --seed are required');
    const runs = wholeNumber('runs', ctx.values.runs as string, 0, 1, 1000);
    const seed = wholeNumber('seed', ctx.values.seed as string, 0, 0, 4294967295);
    const boundSeconds = wholeNumber(
      'bound-seconds',
      ctx.values['bound-seconds'] as string | undefined,
      420,
      10,
      86400,
    );
    const rawScale = ctx.values['time-scale'] as string | undefined;
    const timeScale = rawScale === undefined ? 0.01 : Number(rawScale);
    if (!(timeScale > 0 && timeScale <= 1))
      throw new UsageError(`--time-scale must be a number above 0 and at most 1, got ${rawScale}`);
    const heartbeatTimeout = (ctx.values['heartbeat-timeout'] as string | undefined) ?? '5s';
    if (!/^[1-9][0-9]*(ms|s|m|h)$/.test(heartbeatTimeout))
      throw new UsageError(`--heartbeat-timeout must be a duration like 5s or 1m, got ${heartbeatTimeout}`);
    const replay = `npx shepherd chaos --runs ${runs} --seed ${seed} --time-scale ${timeScale} --bound-seconds ${boundSeconds} --heartbeat-timeout ${heartbeatTimeout}`;

    if (ctx.values.plan) {
      for (const p of planRuns({ runs, seed })) {
        ctx.out(
          `run ${String(p.run).padStart(2)}  ${[p.scenario ? `[${p.scenario}]` : '', ...p.events.map(describeEvent)].filter(Boolean).join('; ') || 'no faults'}`,
        );
      }
      return EXIT.ok;
    }
    ctx.config();
    ctx.out(`Chaos: ${runs} runs, seed ${seed}, time scale ${timeScale}, bound ${boundSeconds} s`);
    const summary = await runChaos({
      runs,
      seed,
      timeScale,
      boundSeconds,
      heartbeatTimeout,
      say: ctx.out,
      ...(ctx.values.verbose ? { onProcessLine: (name: string, line: string) => ctx.err(`[${name}] ${line}`) } : {}),
    });
    ctx.out('');
    for (const line of summaryTable(summary)) ctx.out(line);
    for (const exit of summary.unplannedExits) ctx.out(`unplanned exit: ${exit}`);
    const passed = chaosPassed(summary);
    ctx.out(`${passed ? 'PASSED' : 'FAILED'} — seed ${seed}; replay with: ${replay}`);
    return passed ? EXIT.ok : EXIT.failed;
  },
};
