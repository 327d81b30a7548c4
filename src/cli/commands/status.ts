import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { FailureSummary } from '../../domain/errors.js';
import type { Progress, StepRecord } from '../../domain/report.js';
import {
  ShepherdApp,
  ShepherdEnvironment,
  ShepherdImageTag,
  ShepherdStatus,
} from '../../temporal/common/search-attributes.js';
import { runOutcome, type RunOutcome } from '../../temporal/run-outcome.js';
import { progressQuery } from '../../../workflows/messages.js';
import { EXIT, UsageError, type Command, type CommandContext } from '../command.js';
import { withClient } from '../connect.js';
import { currentLine, stepLines, configuredApp } from '../operator.js';

/** A query needs a worker; without one the server holds it. Say so instead of hanging. */
const QUERY_TIMEOUT_MS = 5_000;

async function progressOf(client: Client, workflowId: string, runId?: string): Promise<Progress | undefined> {
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      client.workflow.getHandle(workflowId, runId).query(progressQuery),
    );
  } catch {
    return undefined;
  }
}

function attributes(info: Pick<WorkflowExecutionInfo, 'typedSearchAttributes'>): {
  app?: string;
  env?: string;
  imageTag?: string;
  status?: string;
} {
  const sa = info.typedSearchAttributes;
  const out = {
    app: sa.get(ShepherdApp),
    env: sa.get(ShepherdEnvironment),
    imageTag: sa.get(ShepherdImageTag),
    status: sa.get(ShepherdStatus),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

function waitSummary(step: StepRecord | undefined): {
  waitingOn: StepRecord['waitingOn'] | undefined;
  since: string | undefined;
  timeoutAt: string | undefined;
} {
  return { waitingOn: step?.waitingOn, since: step?.startedAt, timeoutAt: step?.timeoutAt };
}

/**
 * The steps and undos of a closed run, from its report (its result, or its failure's details): a closed run
 * answers queries only when a worker replays it, and its report already holds them. Iterations 2 and 3 of a
 * validation are its child promotions' steps, in order.
 */
function progressFromReport(outcome: RunOutcome): Progress | undefined {
  if (outcome.kind === 'validation')
    return {
      steps: outcome.report.iterations.flatMap((iteration) => iteration.steps),
      current: undefined,
      rollback: outcome.report.rollback,
    };
  if (outcome.kind === 'promotion')
    return { steps: outcome.report.steps, current: undefined, rollback: outcome.report.rollback };
  return undefined;
}

/** How a closed run ended, in Shepherd's words (`rolled_back`, `failed`, …) and its failure, when it left a report. */
function endOf(outcome: RunOutcome | undefined): { status?: string; failure?: FailureSummary } | undefined {
  if (!outcome || outcome.kind === 'none')
    return outcome?.kind === 'none' && outcome.failure ? { failure: outcome.failure } : undefined;
  const report = outcome.report;
  return { status: report.status, ...('failure' in report && report.failure ? { failure: report.failure } : {}) };
}

async function describeRun(ctx: CommandContext, client: Client, workflowId: string): Promise<number> {
  let d;
  try {
    d = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    ctx.err(`No workflow ${workflowId}. List the running ones with \`npx shepherd status\`.`);
    return EXIT.failed;
  }
  const running = d.status.name === 'RUNNING';
  const outcome = running ? undefined : await runOutcome(client, workflowId, d.runId);
  const ended = endOf(outcome);
  // Running: the progress query. Closed: the report; a closed run without one (cancelled, terminated) still
  // answers the query when a worker is there to replay it.
  const progress =
    (outcome && progressFromReport(outcome)) ??
    (running || outcome?.kind === 'none' ? await progressOf(client, workflowId, d.runId) : undefined);
  // A validation waiting on its child promotion: the child's step is where the run really is.
  const childId = progress?.current?.waitingOn?.kind === 'child-workflow' ? progress.current.waitingOn.ref : undefined;
  const child = childId ? await progressOf(client, childId) : undefined;
  const where = child?.current ?? progress?.current;
  const gateKind = where?.waitingOn?.kind;
  const gate = gateKind === 'approval' || gateKind === 'freeze' ? (child?.current ? childId : workflowId) : undefined;
  const sa = attributes(d);

  if (ctx.values.json) {
    ctx.out(
      JSON.stringify({
        workflowId,
        runId: d.runId,
        type: d.type,
        status: d.status.name,
        taskQueue: d.taskQueue,
        startTime: d.startTime.toISOString(),
        closeTime: d.closeTime?.toISOString() ?? null,
        historyLength: d.historyLength,
        searchAttributes: sa,
        memo: d.memo ?? {},
        ...(ended ? { ended } : {}),
        currentStep: where?.name ?? null,
        ...waitSummary(where),
        current: progress?.current ?? null,
        stepsDone: progress?.steps.filter((s) => s.status !== 'running') ?? [],
        rollback: progress?.rollback ?? [],
        ...(childId
          ? {
              child: {
                workflowId: childId,
                current: child?.current ?? null,
                stepsDone: child?.steps.filter((s) => s.status !== 'running') ?? [],
              },
            }
          : {}),
        ...(running && !progress
          ? { progressUnavailable: `no answer to the progress query within ${QUERY_TIMEOUT_MS / 1000}s` }
          : {}),
      }),
    );
    return EXIT.ok;
  }

  ctx.out(`${workflowId}  ${d.type}  ${d.status.name}  run ${d.runId}`);
  ctx.out(
    `  started ${d.startTime.toISOString()}${d.closeTime ? `, closed ${d.closeTime.toISOString()}` : ''}, task queue ${d.taskQueue}, ${d.historyLength} history events`,
  );
  const facts = [
    sa.app ? `app ${sa.app}` : '',
    sa.env ? `env ${sa.env}` : '',
    sa.imageTag ? `image ${sa.imageTag}` : '',
    sa.status ? `status ${sa.status}` : '',
  ].filter(Boolean);
  if (facts.length > 0) ctx.out(`  ${facts.join(', ')}`);
  const summary = (d.memo as { summary?: unknown } | undefined)?.summary;
  if (typeof summary === 'string') ctx.out(`  ${summary}`);
  if (ended)
    ctx.out(
      `  ended ${ended.status ?? d.status.name.toLowerCase()}${ended.failure ? `: ${ended.failure.type}: ${ended.failure.message}` : ''}`,
    );
  if (running && !progress)
    ctx.out(
      `  The progress query did not answer within ${QUERY_TIMEOUT_MS / 1000}s: is a worker polling task queue ${d.taskQueue}? (\`npx shepherd worker\`)`,
    );
  if (progress) {
    if (progress.current) ctx.out(`  now:  ${currentLine(progress.current)}`);
    if (childId && child?.current) ctx.out(`  in ${childId}:  ${currentLine(child.current)}`);
    if (gate && gateKind === 'freeze')
      ctx.out(
        `  frozen until ${where?.timeoutAt ?? '?'} (${where?.waitingOn?.ref ?? ''}): it merges then, or now with \`npx shepherd override-freeze ${gate} --by NAME --reason TEXT\``,
      );
    else if (gate)
      ctx.out(
        `  waits for an approval: \`npx shepherd approve ${gate} --by NAME\` or \`npx shepherd reject ${gate} --by NAME\``,
      );
    const done = stepLines(progress);
    if (done.length > 0) ctx.out('  steps done:');
    for (const line of done) ctx.out(`  ${line}`);
    if (child) for (const line of stepLines(child)) ctx.out(`    ${line}`);
    for (const r of progress.rollback) ctx.out(`  ↩ ${r.action} ${r.env ?? ''} ${r.target}: ${r.status}`);
  }
  return EXIT.ok;
}

/** The statuses of a promotion waiting at a gate: its approval, or its target's freeze window. */
const GATE_STATUSES: readonly string[] = ['waiting-approval', 'waiting-freeze'];

/**
 * A run's status in the list and, for one waiting at a gate, the gate: a promotion at its approval or its freeze
 * gate says so itself (`ShepherdStatus` waiting-approval or waiting-freeze; the memo's summary names image, target
 * and approvers, or "frozen until … (window)"); a validation whose child promotion waits is waiting too, on that
 * child. No query: the list needs no worker.
 */
function whereNow(run: WorkflowExecutionInfo, runs: readonly WorkflowExecutionInfo[]): { status: string; now: string } {
  const own = attributes(run).status;
  if (run.status.name !== 'RUNNING')
    return { status: `${run.status.name}${own && own !== 'running' ? ` (${own})` : ''}`, now: '' };
  const summary = (run.memo as { summary?: unknown } | undefined)?.summary;
  if (own === 'waiting-approval' || own === 'waiting-freeze')
    return { status: own, now: typeof summary === 'string' ? summary : '' };
  const waitingChild = runs.find(
    (other) =>
      other.parentExecution?.workflowId === run.workflowId &&
      other.status.name === 'RUNNING' &&
      GATE_STATUSES.includes(attributes(other).status ?? ''),
  );
  if (waitingChild) {
    const childStatus = attributes(waitingChild).status!;
    const childSummary = (waitingChild.memo as { summary?: unknown } | undefined)?.summary;
    return {
      status: childStatus,
      now: `in ${waitingChild.workflowId}: ${typeof childSummary === 'string' ? childSummary : childStatus}`,
    };
  }
  return { status: own ?? 'running', now: '' };
}

async function listRuns(ctx: CommandContext, client: Client, app: string, all: boolean): Promise<number> {
  const query = `ShepherdApp = '${app}'${all ? '' : " AND ExecutionStatus = 'Running'"}`;
  const runs: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query, pageSize: 50 })) {
    runs.push(info);
    if (runs.length >= 50) break;
  }
  runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  if (ctx.values.json) {
    ctx.out(
      JSON.stringify(
        runs.map((r) => ({
          workflowId: r.workflowId,
          runId: r.runId,
          type: r.type,
          status: r.status.name,
          startTime: r.startTime.toISOString(),
          searchAttributes: attributes(r),
          shownStatus: whereNow(r, runs).status,
          now: whereNow(r, runs).now,
        })),
      ),
    );
    return EXIT.ok;
  }
  if (runs.length === 0) {
    ctx.out(`No ${all ? '' : 'running '}runs of ${app} (query: ${query}).`);
    return EXIT.ok;
  }
  const rows = runs.map((r) => {
    const sa = attributes(r);
    const { status, now } = whereNow(r, runs);
    return [r.workflowId, r.type, status, sa.env ?? '', sa.imageTag ?? '', r.startTime.toISOString(), now];
  });
  const head = ['workflow id', 'type', 'status', 'env', 'image', 'started', 'now'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [head, ...rows])
    ctx.out(
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  ctx.out(`Details: \`npx shepherd status WORKFLOW_ID\`.`);
  return EXIT.ok;
}

export const statusCommand: Command = {
  usage: '[WORKFLOW_ID] [--app APP] [--all] [--json]',
  help: `
With WORKFLOW_ID (e.g. validate-example-app, promote-example-app-prod): the run's status as
\`temporal workflow describe\` shows it (type, run id, start and close time, task queue, search attributes, memo)
and, while it runs, the answer of its progress query: the current step, what it waits on (MR, build, Argo CD app,
workload, approval, child promotion), since when, when that wait gives up, and the steps done. A validation that
waits on a child promotion also shows the child's step. The progress query needs a running worker. A finished run
shows how it ended (e.g. rolled_back and its failure), its steps and what was undone, read from its report (no
worker needed).

Without WORKFLOW_ID: the running runs of the app (search attribute ShepherdApp), newest first; a run waiting at
an approval gate (or a validation whose child promotion waits) shows waiting-approval and the gate; one waiting
for its target's freeze window to close shows waiting-freeze and "frozen until <instant> (<window>)".

Options:
  --app APP   the application whose runs to list; required when the pipeline has several (default: its only app)
  --all       list closed runs too
  --json      one line of JSON (an object for one run, an array for the list)

Examples:
  npx shepherd status
  npx shepherd status promote-example-app-prod --json
`,
  options: { app: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx) {
    const [id, extra] = ctx.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    if (id !== undefined && (ctx.values.app !== undefined || ctx.values.all))
      throw new UsageError('--app and --all list runs; give them without WORKFLOW_ID');
    const config = ctx.config();
    // Any app's runs may be listed; without --app, the pipeline's only app (several: --app is required).
    const app = (ctx.values.app as string | undefined) ?? configuredApp(config, undefined);
    if (!/^[a-z0-9-]+$/.test(app)) throw new UsageError(`--app must be a Kubernetes name, got ${app}`);
    return withClient(config, (client) =>
      id !== undefined ? describeRun(ctx, client, id) : listRuns(ctx, client, app, ctx.values.all === true),
    );
  },
};
