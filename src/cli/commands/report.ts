import { WorkflowNotFoundError } from '@temporalio/common';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../config/paths.js';
import type { PromotionReport } from '../../domain/report.js';
import { writeFanOutReports, writePromotionReports, writeReports } from '../../reports/write.js';
import { noReportReason, runOutcome, type RunOutcome } from '../../temporal/run-outcome.js';
import { EXIT, UsageError, type Command } from '../command.js';
import { withClient } from '../connect.js';
import { fanOutReportJson, fanOutSummaryTable, reportJson, summaryTable } from '../summary.js';

/** The lines a terminal shows of a promotion report. */
function promotionLines(report: PromotionReport): string[] {
  const lines = [
    `promoteEnvironment ${report.appName} ${report.sourceEnv ?? '?'}→${report.targetEnv ?? '?'} ${report.imageTag ?? '?'}: ${report.status.toUpperCase()}${report.durationMs !== undefined ? ` in ${(report.durationMs / 1000).toFixed(1)}s` : ''}`,
  ];
  if (report.mergeRequest) lines.push(`merge request: ${report.mergeRequest.webUrl}`);
  if (report.failure) lines.push(`failed: ${report.failure.type}: ${report.failure.message}`);
  for (const r of report.rollback)
    lines.push(
      `undone: ${r.action} ${r.env ?? ''} ${r.target}${r.fromImageTag || r.toImageTag ? ` ${r.fromImageTag ?? '?'} → ${r.toImageTag ?? '?'}` : ''}: ${r.status}`,
    );
  return lines;
}

export const reportCommand: Command = {
  usage: 'WORKFLOW_ID [--run-id ID] [--out DIR] [--json]',
  help: `
Writes the report of a finished run into --out (default: reports/ in the project), so that a CI job (Jenkins,
GitLab CI) can publish a nightly run that the schedule started. A validatePipeline run's report (its result when
it succeeded, its failure's details when it failed or rolled back) is written as JSON, Markdown and JUnit XML; a
promoteEnvironment run's (from its result or its failure's details) as JSON and Markdown; a fanOutApps run's
(\`validate --all\`, \`promote --all\`: one report per app) as JSON, Markdown and JUnit XML. Exit code 0 when the
run succeeded (a promotion also when unchanged or left with its MR open), 1 when it failed, rolled back, was
superseded or left no report (still running, cancelled, terminated), 2 on usage errors.

Options:
  --run-id ID   a specific run of the workflow id (default: the latest)
  --out DIR     where to write the reports
  --json        print the report object as the last line of stdout

Example:
  npx shepherd report validate-example-app-2026-11-26T02:00:00Z --out build/shepherd
  npx shepherd report promote-example-app-prod --json
`,
  options: { 'run-id': { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx) {
    const [workflowId, extra] = ctx.positionals;
    if (!workflowId) throw new UsageError('name the run: shepherd report WORKFLOW_ID (see `shepherd status --all`)');
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    const config = ctx.config();
    return withClient(config, async (client) => {
      let outcome: RunOutcome;
      try {
        outcome = await runOutcome(client, workflowId, ctx.values['run-id'] as string | undefined);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          ctx.err(`shepherd report: no workflow ${workflowId}; \`shepherd status\` lists the runs.`);
          return EXIT.failed;
        }
        throw err;
      }
      if (outcome.kind === 'none') {
        ctx.err(`shepherd report: ${noReportReason(outcome)}.`);
        return EXIT.failed;
      }
      const dir = (ctx.values.out as string | undefined) ?? join(PROJECT_ROOT, 'reports');
      const name = `${workflowId}-${outcome.report.startedAt.replace(/[:.]/g, '-')}`;
      const say = ctx.values.json ? ctx.err : ctx.out;
      if (outcome.kind === 'promotion') {
        const paths = writePromotionReports(outcome.report, dir, name);
        for (const line of promotionLines(outcome.report)) say(line);
        say(`Reports: ${paths.json}\n         ${paths.markdown}`);
        if (ctx.values.json) ctx.out(JSON.stringify(outcome.report));
        return ['succeeded', 'unchanged', 'merge-request-opened'].includes(outcome.report.status)
          ? EXIT.ok
          : EXIT.failed;
      }
      if (outcome.kind === 'fan-out') {
        const paths = writeFanOutReports(outcome.report, dir, name);
        for (const line of fanOutSummaryTable(outcome.report)) say(line);
        say(`Reports: ${paths.json}\n         ${paths.markdown}\n         ${paths.junit}`);
        if (ctx.values.json) ctx.out(fanOutReportJson(outcome.report));
        return outcome.report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
      }
      const report = outcome.report;
      const paths = writeReports(report, dir, name);
      for (const line of summaryTable(report)) say(line);
      say(`Reports: ${paths.json}\n         ${paths.markdown}\n         ${paths.junit}`);
      if (ctx.values.json) ctx.out(reportJson(report));
      return report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    });
  },
};
