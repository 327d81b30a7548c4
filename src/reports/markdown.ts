/**
 * A validation report as Markdown, for a chat message or an MR comment: status line, one table row per
 * iteration, the failure with its causes, and what was rolled back.
 */
import type { FailureSummary } from '../domain/errors.js';
import type { IterationStatus, ValidationReport, ValidationStatus } from '../domain/report.js';

const ICON: Record<IterationStatus | ValidationStatus, string> = {
  succeeded: '✅',
  failed: '❌',
  rolled_back: '↩️',
  not_run: '⏭️',
};

/**
 * Text inside a table cell or list item: on one line (CR alone ends a line too), without control characters,
 * pipes escaped so the table keeps its columns, `<` as an entity so that a message cannot open an HTML tag.
 */
export function cell(text: string | undefined): string {
  return (
    (text ?? '')
      .replace(/\r\n|[\r\n\t]/g, ' ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .replace(/\|/g, '\\|')
      .replace(/</g, '&lt;')
  );
}

function causes(failure: FailureSummary): string[] {
  const out: string[] = [];
  for (let cause: FailureSummary | undefined = failure; cause; cause = cause.cause)
    out.push(`\`${cause.type}\`: ${cell(cause.message)}`);
  return out;
}

export function toMarkdown(report: ValidationReport): string {
  const lines = [
    `### ${ICON[report.status]} Pipeline validation of ${report.appName}: ${report.status.replace('_', ' ')}`,
    '',
    `Through **${report.through}**${report.imageTag ? `, image \`${report.imageTag}\`` : ''}, ${(report.durationMs / 1000).toFixed(1)} s (${report.startedAt} → ${report.finishedAt}).`,
    '',
    '| # | env | status | image | steps | merge request | build |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const iteration of report.iterations) {
    const { steps, status, imageTag } = iteration;
    const mergeRequest = steps
      .map((step) => step.links?.mergeRequest)
      .filter(Boolean)
      .at(-1);
    const build = steps
      .map((step) => step.links?.build)
      .filter(Boolean)
      .at(-1);
    lines.push(
      `| ${iteration.iteration} | ${iteration.env} | ${ICON[status]} ${status} | ${cell(imageTag ? `\`${imageTag}\`` : '')} | ${steps.length} | ${mergeRequest ? `[MR](${mergeRequest})` : ''} | ${build ? `[build](${build})` : ''} |`,
    );
  }
  const approved = report.iterations.filter((iteration) => iteration.approval !== undefined);
  if (approved.length > 0) lines.push('');
  for (const { env, approval } of approved)
    lines.push(`- ${env} approved by ${cell(approval!.by)}${approval!.reason ? `: ${cell(approval!.reason)}` : ''}`);
  if (report.failure) {
    lines.push('', `**Failed at** iteration ${report.failure.iteration}, step \`${report.failure.step}\`:`, '');
    for (const cause of causes(report.failure)) lines.push(`- ${cause}`);
  }
  if (report.rollback.length > 0) {
    lines.push('', '**Rollback**', '', '| action | env | target | from → to | status |', '|---|---|---|---|---|');
    for (const record of report.rollback) {
      const { fromImageTag, toImageTag, failure, detail } = record;
      const move = fromImageTag || toImageTag ? `\`${fromImageTag ?? '?'}\` → \`${toImageTag ?? '?'}\`` : '';
      lines.push(
        `| ${record.action} | ${record.env ?? ''} | ${cell(record.target)} | ${move} | ${record.status}${failure ? `: ${cell(failure.message)}` : ''}${detail ? ` (${cell(detail)})` : ''} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
