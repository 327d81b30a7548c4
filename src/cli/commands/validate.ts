import { join } from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { PROJECT_ROOT } from '../../config/paths.js';
import { validationWorkflowId } from '../../domain/promotion-policy.js';
import type { ValidationReport } from '../../domain/report.js';
import { writeReports } from '../../reports/write.js';
import { validatePipeline } from '../../../workflows/validate-pipeline.js';
import type { ShepherdConfig } from '../../config/load.js';
import { EXIT, UsageError, type Command, type CommandContext } from '../command.js';
import { checkFanOutInput, concurrencyFlag, runFanOut } from '../fan-out.js';
import { withClient } from '../connect.js';
import { followRun } from '../follow.js';
import { dryRunValidation } from '../dry-run/index.js';
import { noReportReason } from '../../temporal/run-outcome.js';
import { configuredApp, hintApprovals, pipelineOrder, validationInput } from '../operator.js';
import { runningValidation, validationStart } from '../../temporal/run-start.js';
import { reportJson, summaryTable } from '../summary.js';

export const validateCommand: Command = {
  usage:
    '[--app APP | --all [--concurrency N]] [--through ENV] [--mode jenkins|gitlab] [--rollback failed|all] [--allow-unsettled-target] [--dry-run] [--follow] [--reports DIR] [--json]',
  help: `
Starts validatePipeline as workflow validate-<app> on TEMPORAL_TASK_QUEUE: iteration 1 bumps the app version and
delivers it to dev; iterations 2 and 3 promote it to stage and prod (prod waits for an approval; who may give it
comes from SHEPHERD_APPROVERS, where from SHEPHERD_APPROVAL_ENVIRONMENTS). A worker must poll the task queue
(\`npx shepherd worker\`). Connects to TEMPORAL_ADDRESS, or to the dev server \`npx shepherd dev-server\` runs.
Prints the workflow id and run id. One validation per app runs at a time: while one runs (also one the nightly
schedule started), this command refuses with exit 1 and names it.

With --all, every app of the pipeline is validated: one validatePipeline run per app (validate-<app>, each
holding its app's lock as always), at most --concurrency at a time, each app on its own (one app's failure rolls
back that app only), inside one fanOutApps run (fan-out-validate) that goes on if this command stops. With
--follow it ends with one summary table and one report covering all apps: {"status", "apps": [...]}, succeeded
only when every app succeeded, rolled_back when each app that did not rolled back cleanly, else failed.

Options:
  --app APP          the application; required when the pipeline has several (default: its only app)
  --all              every app of the pipeline (instead of --app)
  --concurrency N    with --all: how many apps run at a time (default 4)
  --through ENV      the last environment to reach: one of the pipeline's (default its last; seed: prod)
  --mode MODE        how promotion MRs are opened: jenkins (the promote job, default) or gitlab (API)
  --rollback SCOPE   failed (default): undo the failed hop only; all: also revert the environments it verified
  --allow-unsettled-target
                     go on when an environment does not run what its branch declares, synced and healthy
                     (refused by default: a rollback would have no known-good state); the report records it
  --dry-run          start nothing: show the version bump, then per environment the image from → to, the files
                     and diff of its MR, and the gates
  --follow           show each step live until the end, write the reports, exit 0 when it succeeded, else 1
  --reports DIR      where --follow writes the JSON, Markdown and JUnit reports (default: reports/)
  --json             without --follow: one line {"workflowId","runId"}; with it: the report as the last line

Examples:
  npx shepherd validate --through stage --follow
  npx shepherd validate --json
  npx shepherd validate --all --concurrency 2 --follow
`,
  options: {
    app: { type: 'string' },
    all: { type: 'boolean' },
    concurrency: { type: 'string' },
    through: { type: 'string' },
    mode: { type: 'string' },
    rollback: { type: 'string' },
    'allow-unsettled-target': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    follow: { type: 'boolean' },
    reports: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const v = ctx.values;
    if (v.reports !== undefined && !v.follow)
      throw new UsageError('--reports needs --follow (reports are written when the run ends)');
    if (v.all && v.app !== undefined) throw new UsageError('--app and --all exclude each other: name one app, or all');
    if (v.concurrency !== undefined && !v.all) throw new UsageError('--concurrency goes with --all');
    const config = ctx.config();
    if (v.all) return validateAll(ctx, config);
    const appName = configuredApp(config, v.app as string | undefined);
    const input = validationInput(config, appName, v);
    if (v['dry-run']) return dryRunValidation(ctx, config, input);
    const json = v.json === true;
    const say = json ? ctx.err : ctx.out;
    const workflowId = validationWorkflowId(appName);

    return withClient(config, async (client) => {
      const refuse = (running: string): number => {
        ctx.err(`A validation of ${appName} is already running as ${running}; one validation per app runs at a time.`);
        ctx.err(`See where it is with \`npx shepherd status ${running}\`, or start again after it finished.`);
        return EXIT.failed;
      };
      // Also finds a scheduled run (validate-<app>-<time>); the run's own lock refuses what slips past this look.
      const running = await runningValidation(client, appName, config.temporal.taskQueue);
      if (running) return refuse(running.workflowId);
      let handle;
      try {
        handle = await client.workflow.start(validatePipeline, validationStart(input, config.temporal.taskQueue));
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return refuse(workflowId);
      }
      const runId = handle.firstExecutionRunId;
      if (!v.follow) {
        if (json) ctx.out(JSON.stringify({ workflowId, runId }));
        else {
          ctx.out(
            `Started validatePipeline ${workflowId} (run ${runId}) on task queue ${config.temporal.taskQueue}, through ${input.through ?? pipelineOrder(config).at(-1)}.`,
          );
          ctx.out(`Follow it with \`npx shepherd status ${workflowId}\`.`);
        }
        return EXIT.ok;
      }
      say(
        `Started validatePipeline ${workflowId} (run ${runId}) on task queue ${config.temporal.taskQueue}, through ${input.through ?? pipelineOrder(config).at(-1)}.`,
      );
      const stopHints = hintApprovals(client, handle, say);
      let report: ValidationReport;
      try {
        const outcome = await followRun(client, handle, {
          out: say,
          tty: !json && process.stdout.isTTY === true,
        });
        if (outcome.kind !== 'validation') {
          ctx.err(noReportReason(outcome));
          return EXIT.failed;
        }
        report = outcome.report;
      } catch (err) {
        ctx.err(
          `${workflowId} ended without a report: ${(err as Error).message}${(err as Error).cause ? `: ${((err as Error).cause as Error).message}` : ''}`,
        );
        return EXIT.failed;
      } finally {
        stopHints();
      }
      for (const line of summaryTable(report)) say(line);
      const paths = writeReports(
        report,
        (v.reports as string | undefined) ?? join(PROJECT_ROOT, 'reports'),
        `${workflowId}-${report.startedAt.replace(/[:.]/g, '-')}`,
      );
      say(`Reports: ${paths.json}\n         ${paths.markdown}\n         ${paths.junit}`);
      if (json) ctx.out(reportJson(report));
      return report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    });
  },
};

/** `validate --all`: one fanOutApps run over every app of the pipeline. */
async function validateAll(ctx: CommandContext, config: ShepherdConfig): Promise<number> {
  const v = ctx.values;
  const apps = config.pipeline.apps.map((a) => a.app.name);
  const { appName: _appName, ...fields } = validationInput(config, apps[0]!, v);
  const concurrency = concurrencyFlag(v.concurrency);
  const input = checkFanOutInput(
    { kind: 'validate', apps, ...(concurrency !== undefined ? { concurrency } : {}), ...fields },
    { concurrency: '--concurrency', through: '--through', mode: '--mode', rollback: '--rollback' },
  );
  if (v['dry-run']) return dryRunValidation(ctx, config, input, input.apps);
  return withClient(config, (client) =>
    runFanOut(client, input, {
      taskQueue: config.temporal.taskQueue,
      startedBy: 'the shepherd CLI (validate --all)',
      follow: v.follow === true,
      json: v.json === true,
      reportsDir: (v.reports as string | undefined) ?? join(PROJECT_ROOT, 'reports'),
      out: ctx.out,
      err: ctx.err,
    }),
  );
}
