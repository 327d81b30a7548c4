import { WorkflowNotFoundError } from '@temporalio/common';
import type { ValidationReport } from '../../domain/report.js';
import { PROJECT_ROOT } from '../../config/paths.js';
import { writeReports } from '../../reports/write.js';
import { join } from 'node:path';
import { EXIT, UsageError, type Command } from '../command.js';
import { withClient } from '../connect.js';
import { reportJson, summaryTable } from '../summary.js';

export const reportCommand: Command = {
  usage: 'WORKFLOW_ID [--run-id ID] [--out DIR] [--json]',
  help: `
Fetches the result of a finished validatePipeline run — its report, returned also when the run failed or rolled
back — and writes it as JSON, Markdown and JUnit XML into --out (default: reports/ in the project), so that a CI
job (Jenkins, GitLab CI) can publish a nightly run that the schedule started. Exit code 0 when the run
succeeded, 1 when it failed, rolled back or is not a finished validation, 2 on usage errors.

Options:
  --run-id ID   a specific run of the workflow id (default: the latest)
  --out DIR     where to write the reports
  --json        print the report object as the last line of stdout

Example:
  npx shepherd report validate-example-app-2026-11-26T02:00:00Z --out build/shepherd
`,
  options: { 'run-id': { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx) {
    const [workflowId, extra] = ctx.positionals;
    if (!workflowId)
      throw new UsageError('name the validation run: shepherd report WORKFLOW_ID (see `shepherd status`)');
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    const config = ctx.config();
    return withClient(config, async (client) => {
      const handle = client.workflow.getHandle(workflowId, ctx.values['run-id'] as string | undefined);
      let type: string;
      let status: string;
      try {
        const d = await handle.describe();
        type = d.type;
        status = d.status.name;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          ctx.err(`shepherd report: no workflow ${workflowId}; \`shepherd status\` lists the runs.`);
          return EXIT.failed;
        }
        throw err;
      }
      if (type !== 'validatePipeline') {
        ctx.err(`shepherd report: ${workflowId} is a ${type} run; reports are written for validatePipeline runs.`);
        return EXIT.failed;
      }
      if (status !== 'COMPLETED') {
        ctx.err(
          `shepherd report: ${workflowId} is ${status.toLowerCase()}${status === 'RUNNING' ? '; `shepherd status` shows where it is' : ' and left no report'}.`,
        );
        return EXIT.failed;
      }
      const report = (await handle.result()) as ValidationReport;
      const paths = writeReports(
        report,
        (ctx.values.out as string | undefined) ?? join(PROJECT_ROOT, 'reports'),
        `${workflowId}-${report.startedAt.replace(/[:.]/g, '-')}`,
      );
      const say = ctx.values.json ? ctx.err : ctx.out;
      for (const line of summaryTable(report)) say(line);
      say(`Reports: ${paths.json}\n         ${paths.markdown}\n         ${paths.junit}`);
      if (ctx.values.json) ctx.out(reportJson(report));
      return report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    });
  },
};
