import { runningValidation, validationMetadata } from '../../temporal/run-start.js';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import type { ShepherdConfig } from '../../config/load.js';
import { formatDuration, parseDuration } from '../../domain/duration.js';
import { validationWorkflowId } from '../../domain/promotion-policy.js';
import { ShepherdApp, ShepherdStatus } from '../../temporal/common/search-attributes.js';
import { validatePipeline } from '../../../workflows/validate-pipeline.js';
import { EXIT, UsageError, type Command, type CommandContext } from '../command.js';
import { withClient } from '../connect.js';
import { cronProblem } from '../cron.js';
import { configuredApp, pipelineOrder, validationInput } from '../operator.js';

const ACTIONS = ['create', 'describe', 'pause', 'unpause', 'trigger', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * How late a missed nightly run may still start after the server or the workers were down: an hour. Later than
 * that it would land in working hours and race people's own merges, so it is skipped (the next night runs as
 * usual; `trigger` runs one now). Set explicitly because the SDK's default is unclear (one minute or one year).
 */
const DEFAULT_CATCHUP_WINDOW = '1h';
/** The server's own lower bound for a catch-up window. */
const MIN_CATCHUP_MS = 10_000;

const CREATE_ONLY = ['cron', 'through', 'mode', 'rollback', 'catchup-window', 'paused', 'timezone'] as const;

/** What Shepherd keeps in the schedule's memo: the server keeps the cron only as a compiled calendar. */
interface ScheduleMemo {
  readonly cron?: string;
  readonly app?: string;
  readonly through?: string;
}

function describeJson(d: ScheduleDescription): Record<string, unknown> {
  const memo = (d.memo ?? {}) as ScheduleMemo;
  return {
    scheduleId: d.scheduleId,
    cron: memo.cron ?? null,
    timezone: d.spec.timezone || 'UTC',
    app: memo.app ?? null,
    through: memo.through ?? null,
    workflowType: d.action.workflowType,
    workflowId: d.action.workflowId,
    taskQueue: d.action.taskQueue,
    overlap: d.policies.overlap,
    catchupWindow: formatDuration(d.policies.catchupWindow),
    catchupWindowMs: d.policies.catchupWindow,
    paused: d.state.paused,
    note: d.state.note ?? null,
    nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentActions: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
    runningActions: d.info.runningActions.map((a) => ({
      workflowId: a.workflow.workflowId,
      runId: a.workflow.firstExecutionRunId,
    })),
    numActionsTaken: d.info.numActionsTaken,
    numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
    numActionsMissedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    createdAt: d.info.createdAt.toISOString(),
  };
}

function describeText(ctx: CommandContext, d: ScheduleDescription): void {
  const j = describeJson(d);
  ctx.out(`${d.scheduleId}: ${j.paused ? `PAUSED${j.note ? ` (${String(j.note)})` : ''}` : 'active'}`);
  ctx.out(
    `  cron "${String(j.cron ?? '?')}" ${String(j.timezone)}; starts ${String(j.workflowType)} ${String(j.workflowId)}-<time> on task queue ${String(j.taskQueue)}${j.through ? `, through ${String(j.through)}` : ''}`,
  );
  ctx.out(
    `  overlap ${String(j.overlap)}, catch-up window ${String(j.catchupWindow)}; ${runs(d.info.numActionsTaken)} started, ${d.info.numActionsSkippedOverlap} skipped (overlap), ${d.info.numActionsMissedCatchupWindow} missed (catch-up window)`,
  );
  const next = d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString());
  if (next.length > 0) ctx.out(`  next: ${next.join(', ')}`);
  for (const a of d.info.recentActions.slice(-5))
    ctx.out(`  ran: ${a.takenAt.toISOString()} ${a.action.workflow.workflowId}`);
  for (const a of d.info.runningActions)
    ctx.out(`  running: ${a.workflow.workflowId} (\`npx shepherd status ${a.workflow.workflowId}\`)`);
}

async function create(
  ctx: CommandContext,
  client: Client,
  config: ShepherdConfig,
  scheduleId: string,
  appName: string,
): Promise<number> {
  const v = ctx.values;
  const input = validationInput(config, appName, v);
  const cron = (v.cron as string).trim();
  const catchup = (v['catchup-window'] as string | undefined) ?? DEFAULT_CATCHUP_WINDOW;
  const timezone = v.timezone as string | undefined;
  try {
    await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [cron], ...(timezone ? { timezone } : {}) },
      action: {
        type: 'startWorkflow',
        workflowType: validatePipeline,
        workflowId: validationWorkflowId(appName),
        taskQueue: config.temporal.taskQueue,
        args: [input],
        memo: { startedBy: `schedule ${scheduleId}` },
        ...validationMetadata(input, `schedule ${scheduleId}`),
        typedSearchAttributes: [
          { key: ShepherdApp, value: appName },
          { key: ShepherdStatus, value: 'running' },
        ],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: parseDuration(catchup)! },
      state: v.paused ? { paused: true, note: 'created paused with shepherd schedule create --paused' } : {},
      memo: { cron, app: appName, through: input.through ?? pipelineOrder(config).at(-1) } satisfies ScheduleMemo,
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      ctx.err(
        `Schedule ${scheduleId} already exists. See it with \`npx shepherd schedule describe --id ${scheduleId}\`, or delete it first.`,
      );
      return EXIT.failed;
    }
    // The server has the last word on the cron and the time zone.
    if ((err as { code?: number }).code === 3)
      throw new UsageError(`the server refused the schedule: ${(err as Error).message}`);
    throw err;
  }
  if (v.json)
    ctx.out(
      JSON.stringify({
        scheduleId,
        cron,
        timezone: timezone ?? 'UTC',
        overlap: 'SKIP',
        catchupWindow: catchup,
        paused: v.paused === true,
      }),
    );
  else {
    ctx.out(
      `Created schedule ${scheduleId}: validatePipeline of ${appName} through ${input.through ?? pipelineOrder(config).at(-1)} at "${cron}" ${timezone ?? 'UTC'}, overlap SKIP, catch-up window ${catchup}${v.paused ? ', paused' : ''}.`,
    );
    ctx.out(`Run it now with \`npx shepherd schedule trigger --id ${scheduleId}\`.`);
  }
  return EXIT.ok;
}

export const scheduleCommand: Command = {
  usage:
    'create --cron "0 2 * * *" [--id ID] [--through ENV] [--catchup-window 1h] [--timezone TZ] [--paused]  |  describe|pause|unpause|trigger|delete [--id ID]',
  help: `
A Temporal Schedule (id nightly-validate-<app> by default) that starts validatePipeline (workflow id
validate-<app>-<time>, on TEMPORAL_TASK_QUEUE, approvals from SHEPHERD_APPROVAL_* and SHEPHERD_APPROVERS).
Overlap policy SKIP: while one validation still runs, the next one is skipped rather than queued, since two
would bump the version and merge to the same branches at once. A validation started by \`shepherd validate\`
counts too: every validation holds the app's lock (lock-validate-<app>@<task queue>), and one started next to it ends at once.

Actions:
  create      create the schedule (needs --cron)
  describe    its cron, policies, state, next and recent runs (--json for one line of JSON)
  pause       stop starting runs (--note says why); unpause resumes
  trigger     start one run now; refused (exit 1) while a validation of the app runs, however it was started
  delete      remove the schedule; runs it started carry on

Options:
  --id ID                the schedule id (default nightly-validate-<app>)
  --app APP              the application; required when the pipeline has several (each app has its own
                         schedule, nightly-validate-<app>, and its own lock), unless --id names the schedule
  --cron EXPR            five fields, minute hour day-of-month month day-of-week, e.g. "0 2 * * *" (02:00 every
                         night), or @daily/@hourly/@weekly/@monthly/@yearly; day-of-month and day-of-week both
                         have to match when both are set
  --timezone TZ          an IANA time zone for the cron, e.g. Europe/Berlin (default UTC)
  --catchup-window DUR   how late a run missed while Temporal was down may still start (default ${DEFAULT_CATCHUP_WINDOW}:
                         later it would land in working hours and race people's merges; the next night runs anyway)
  --through ENV, --mode MODE, --rollback SCOPE   as for \`shepherd validate\`
  --paused               create it paused
  --note TEXT            with pause/unpause: why
  --json                 data as one line of JSON (describe, create)

Examples:
  npx shepherd schedule create --cron "0 2 * * *" --through prod
  npx shepherd schedule trigger
  npx shepherd schedule describe --json
`,
  options: {
    id: { type: 'string' },
    app: { type: 'string' },
    cron: { type: 'string' },
    timezone: { type: 'string' },
    'catchup-window': { type: 'string' },
    through: { type: 'string' },
    mode: { type: 'string' },
    rollback: { type: 'string' },
    paused: { type: 'boolean' },
    note: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(ctx) {
    const [action, extra] = ctx.positionals;
    if (action === undefined) throw new UsageError(`name an action: ${ACTIONS.join(', ')}`);
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`unknown action "${action}"; one of ${ACTIONS.join(', ')}`);
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    const v = ctx.values;
    if (action === 'create') {
      if (v.cron === undefined) throw new UsageError('--cron is required, e.g. --cron "0 2 * * *" (02:00 every night)');
      const problem = cronProblem(v.cron as string);
      if (problem) throw new UsageError(`--cron: ${problem}`);
      const catchup = v['catchup-window'] as string | undefined;
      if (catchup !== undefined && (parseDuration(catchup) ?? 0) < MIN_CATCHUP_MS)
        throw new UsageError(
          `--catchup-window must be a duration of at least 10s such as 30m, 1h or 1d, got ${catchup}`,
        );
      if (v.timezone !== undefined) {
        try {
          new Intl.DateTimeFormat('en', { timeZone: v.timezone as string });
        } catch {
          throw new UsageError(
            `--timezone must be an IANA time zone such as UTC or Europe/Berlin, got ${String(v.timezone)}`,
          );
        }
      }
    } else {
      const misplaced = CREATE_ONLY.find((o) => v[o] !== undefined);
      if (misplaced) throw new UsageError(`--${misplaced} belongs to \`schedule create\``);
    }
    if (v.note !== undefined && action !== 'pause' && action !== 'unpause')
      throw new UsageError('--note goes with pause or unpause');
    const config = ctx.config();
    // One schedule per app: the app names the default id, and is required when the pipeline has several, except
    // to act on a schedule named by --id (it knows its app).
    const byId = action !== 'create' && v.id !== undefined && v.app === undefined;
    const appName = byId ? undefined : configuredApp(config, v.app as string | undefined);
    const scheduleId = (v.id as string | undefined) ?? `nightly-validate-${appName!}`;

    return withClient(config, async (client) => {
      if (action === 'create') return create(ctx, client, config, scheduleId, appName!);
      const handle = client.schedule.getHandle(scheduleId);
      try {
        switch (action as Exclude<Action, 'create'>) {
          case 'describe': {
            const d = await handle.describe();
            if (v.json) ctx.out(JSON.stringify(describeJson(d)));
            else describeText(ctx, d);
            break;
          }
          case 'pause':
            await handle.pause((v.note as string | undefined) ?? 'paused with shepherd schedule pause');
            ctx.out(`Paused ${scheduleId}; \`npx shepherd schedule unpause --id ${scheduleId}\` resumes it.`);
            break;
          case 'unpause':
            await handle.unpause((v.note as string | undefined) ?? 'unpaused with shepherd schedule unpause');
            ctx.out(`Unpaused ${scheduleId}.`);
            break;
          case 'trigger': {
            const described = await handle.describe();
            const app = (described.memo as ScheduleMemo | undefined)?.app ?? appName ?? config.app.name;
            // The schedule's own task queue: the lock, and this look, are per installation (task queue).
            const taskQueue =
              described.action.type === 'startWorkflow' ? described.action.taskQueue : config.temporal.taskQueue;
            const running = await runningValidation(client, app, taskQueue);
            if (running) {
              ctx.err(
                `Not triggered: a validation of ${app} is already running as ${running.workflowId}; one validation per app runs at a time.`,
              );
              ctx.err(
                `See where it is with \`npx shepherd status ${running.workflowId}\`, or trigger again after it finished.`,
              );
              return EXIT.failed;
            }
            // The SDK's trigger would start a run whatever runs (ALLOW_ALL) unless told to skip.
            await handle.trigger(ScheduleOverlapPolicy.SKIP);
            ctx.out(
              `Triggered ${scheduleId}: a validation starts now unless one is still running (overlap SKIP). See it with \`npx shepherd status\`.`,
            );
            break;
          }
          case 'delete':
            await handle.delete();
            ctx.out(`Deleted ${scheduleId}; runs it started carry on.`);
            break;
        }
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
        ctx.err(
          `No schedule ${scheduleId}. Create it with \`npx shepherd schedule create --cron "0 2 * * *"${v.id ? ` --id ${scheduleId}` : ''}\`.`,
        );
        return EXIT.failed;
      }
      return EXIT.ok;
    });
  },
};

/** `1 run`, `3 runs`. */
function runs(n: number): string {
  return `${n} run${n === 1 ? '' : 's'}`;
}
