/**
 * The `--all` path of `validate` and `promote`, and the demo of a pipeline with several apps: starts the fanOutApps
 * workflow (so that the fan-out goes on when the CLI stops) and, when asked, follows it to its combined report.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ValidationError } from '../domain/errors.js';
import { fanOutOptions, MAX_FAN_OUT_CONCURRENCY, type FanOutInput } from '../domain/fan-out.js';
import { fanOutWorkflowId } from '../domain/promotion-policy.js';
import type { FanOutReport, Progress, StepRecord } from '../domain/report.js';
import { writeFanOutReports } from '../reports/write.js';
import { ShepherdStatus } from '../temporal/common/search-attributes.js';
import { approveUpdate, overrideFreezeUpdate, progressQuery } from '../../workflows/messages.js';
import { fanOutApps } from '../../workflows/fan-out.js';
import { EXIT, UsageError } from './command.js';
import { fanOutReportJson, fanOutSummaryTable } from './summary.js';

/** `--concurrency N` as a number, or a UsageError naming the rule. */
export function concurrencyFlag(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_FAN_OUT_CONCURRENCY)
    throw new UsageError(
      `--concurrency must be a whole number from 1 to ${MAX_FAN_OUT_CONCURRENCY}, got ${String(value)}; nothing was started`,
    );
  return n;
}

/**
 * The fan-out input for every app of the pipeline, checked the way fanOutApps will check it, so that a bad flag
 * exits 2 naming it (`--to (targetEnv) must be …`) before anything starts.
 */
export function checkFanOutInput(input: FanOutInput, flags: Readonly<Record<string, string>>): FanOutInput {
  try {
    fanOutOptions(input);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const { field, rule } = err.facts;
    const flag = flags[field];
    throw new UsageError(`${flag ? `${flag} (${field})` : field} ${rule}; nothing was started`);
  }
  return input;
}

export interface FanOutRunOptions {
  readonly taskQueue: string;
  /** Who started it, for the Web UI's summary. */
  readonly startedBy: string;
  readonly follow: boolean;
  readonly json: boolean;
  /** Where the reports go once it ended (with `follow`). */
  readonly reportsDir: string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** The demo approves each gate an app's run reaches, as this person, through the `approve` update. */
  readonly autoApprove?: { readonly by: string; readonly reason: string };
  readonly pollMs?: number;
}

/** Starts fanOutApps for `input`; with `follow`, follows it to its combined report. Returns the exit code. */
export async function runFanOut(client: Client, input: FanOutInput, opts: FanOutRunOptions): Promise<number> {
  const workflowId = fanOutWorkflowId(input.kind, input.kind === 'promote' ? input.targetEnv : undefined);
  const say = opts.json ? opts.err : opts.out;
  const what =
    input.kind === 'validate'
      ? `validatePipeline of ${input.apps.join(', ')}`
      : `promoteEnvironment ${input.sourceEnv} → ${input.targetEnv} of ${input.apps.join(', ')}`;
  let handle;
  try {
    handle = await client.workflow.start(fanOutApps, {
      workflowId,
      taskQueue: opts.taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: ShepherdStatus, value: 'running' }],
      staticSummary: `${input.kind} ${input.apps.length} apps, at most ${input.concurrency ?? 'the default'} at a time`,
      staticDetails: `**Fan-out**: ${what}. Started by ${opts.startedBy}.`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    opts.err(`A fan-out is already running as ${workflowId}; one runs at a time.`);
    opts.err(`See where it is with \`npx shepherd status ${workflowId}\`, or start again after it finished.`);
    return EXIT.failed;
  }
  const runId = handle.firstExecutionRunId;
  if (!opts.follow) {
    if (opts.json) opts.out(JSON.stringify({ workflowId, runId }));
    else {
      opts.out(`Started fanOutApps ${workflowId} (run ${runId}) on task queue ${opts.taskQueue}: ${what}.`);
      opts.out(`Follow it with \`npx shepherd status ${workflowId}\`; each app's run is its own (\`--app\`).`);
    }
    return EXIT.ok;
  }
  say(`Started fanOutApps ${workflowId} (run ${runId}) on task queue ${opts.taskQueue}: ${what}.`);
  const report = await followFanOut(client, workflowId, runId, say, opts);
  if (!report) return EXIT.failed;
  for (const line of fanOutSummaryTable(report)) say(line);
  const paths = writeFanOutReports(report, opts.reportsDir, `${workflowId}-${report.startedAt.replace(/[:.]/g, '-')}`);
  say(`Reports: ${paths.json}\n         ${paths.markdown}\n         ${paths.junit}`);
  if (opts.json) opts.out(fanOutReportJson(report));
  return report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}

/**
 * Prints each app's run as it starts and ends, and once per gate which command gives the approval an app's run
 * waits for (or gives it, with `autoApprove`); resolves to the combined report, or undefined (said why) when the
 * fan-out left none.
 */
async function followFanOut(
  client: Client,
  workflowId: string,
  runId: string,
  say: (line: string) => void,
  opts: FanOutRunOptions,
): Promise<FanOutReport | undefined> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const seen = new Map<string, StepRecord['status']>();
  const gates = new Set<string>();
  let done = false;
  const settled = handle.result().then(
    (report) => ({ report: report as FanOutReport }),
    (err: unknown) => ({ err }),
  );
  void settled.then(() => (done = true));
  const look = async (): Promise<void> => {
    const progress = await client.withDeadline(Date.now() + 10_000, () => handle.query(progressQuery));
    for (const step of progress.steps) {
      if (seen.get(step.name) === step.status) continue;
      seen.set(step.name, step.status);
      if (step.status === 'running') say(`→ ${step.name}`);
      else if (step.status === 'succeeded') say(`✓ ${step.name} (${((step.durationMs ?? 0) / 1000).toFixed(1)}s)`);
      else say(`✗ ${step.name}: ${step.failure?.type ?? step.status}: ${step.failure?.message ?? ''}`);
    }
    for (const step of progress.steps.filter((s) => s.status === 'running')) {
      const at = await gateOf(client, step.name);
      if (!at || gates.has(`${at.gate}|${at.kind}`)) continue;
      gates.add(`${at.gate}|${at.kind}`);
      const gate = at.gate;
      if (at.kind === 'freeze') {
        if (!opts.autoApprove) {
          say(`! ${gate} waits for a freeze window: \`npx shepherd override-freeze ${gate} --by NAME --reason TEXT\``);
          continue;
        }
        say(`! ${gate} waits for a freeze window; overriding it as ${opts.autoApprove.by} (overrideFreeze update)`);
        await client.workflow.getHandle(gate).executeUpdate(overrideFreezeUpdate, {
          args: [{ by: opts.autoApprove.by, reason: `${opts.autoApprove.reason} (the freeze window overridden)` }],
        });
        continue;
      }
      if (!opts.autoApprove) {
        say(`! ${gate} waits for an approval: \`npx shepherd approve ${gate} --by NAME\` (or \`reject\`)`);
        continue;
      }
      say(`! ${gate} waits for approval; approving as ${opts.autoApprove.by} through the \`approve\` update`);
      await client.workflow
        .getHandle(gate)
        .executeUpdate(approveUpdate, { args: [{ by: opts.autoApprove.by, reason: opts.autoApprove.reason }] });
    }
  };
  while (!done) {
    try {
      await look();
    } catch {
      // Not answering yet, or a gate that moved on: the next look asks again.
    }
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 1_000))]);
  }
  try {
    await look();
  } catch {
    // Closed runs answer only when a worker replays them: the report has the ends.
  }
  const end = await settled;
  if ('report' in end) return end.report;
  const cause = end.err instanceof WorkflowFailedError ? end.err.cause : undefined;
  const detail = cause instanceof ApplicationFailure ? (cause.details?.[0] as FanOutReport | undefined) : undefined;
  if (detail && Array.isArray(detail.apps)) return detail;
  opts.err(
    `${workflowId} ended without a report: ${(cause ?? (end.err as Error)).message}; its history is in \`temporal workflow show --workflow-id ${workflowId}\``,
  );
  return undefined;
}

/** The run that waits for an approval under an app's run: the run itself, or the promotion child it waits on. */
async function gateOf(
  client: Client,
  workflowId: string,
): Promise<{ gate: string; kind: 'approval' | 'freeze' } | undefined> {
  const progress = (id: string): Promise<Progress> =>
    client.withDeadline(Date.now() + 5_000, () => client.workflow.getHandle(id).query(progressQuery));
  const atGate = (p: Progress, id: string) => {
    const kind = p.current?.waitingOn?.kind;
    return kind === 'approval' || kind === 'freeze' ? { gate: id, kind } : undefined;
  };
  const p = await progress(workflowId);
  if (p.current?.waitingOn?.kind !== 'child-workflow') return atGate(p, workflowId);
  return atGate(await progress(p.current.waitingOn.ref), p.current.waitingOn.ref);
}
