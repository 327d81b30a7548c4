/**
 * A validation report as Markdown, for a chat message or an MR comment: status line, one table row per
 * iteration, the failure with its causes, and what was rolled back.
 */
import type { FailureSummary } from '../domain/errors.js';
import type { IterationStatus, ValidationReport, ValidationStatus } from '../domain/report.js';

const ICON: Record<IterationStatus | ValidationStatus, string> = { succeeded: '✅', failed: '❌', rolled_back: '↩️', not_run: '⏭️' };

/**
 * Text inside a table cell or list item: on one line (CR alone ends a line too), without control characters,
 * pipes escaped so the table keeps its columns, `<` as an entity so that a message cannot open an HTML tag.
 */
function cell(text: string | undefined): string {
  return (text ?? '')
    .replace(/\r\n|[\r\n\t]/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;');
}

function causes(f: FailureSummary): string[] {
  const out: string[] = [];
  for (let c: FailureSummary | undefined = f; c; c = c.cause) out.push(`\`${c.type}\`: ${cell(c.message)}`);
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
  for (const it of report.iterations) {
    const mr = it.steps.map((s) => s.links?.mergeRequest).filter(Boolean).at(-1);
    const build = it.steps.map((s) => s.links?.build).filter(Boolean).at(-1);
    lines.push(`| ${it.iteration} | ${it.env} | ${ICON[it.status]} ${it.status} | ${cell(it.imageTag ? `\`${it.imageTag}\`` : '')} | ${it.steps.length} | ${mr ? `[MR](${mr})` : ''} | ${build ? `[build](${build})` : ''} |`);
  }
  if (report.failure) {
    lines.push('', `**Failed at** iteration ${report.failure.iteration}, step \`${report.failure.step}\`:`, '');
    for (const c of causes(report.failure)) lines.push(`- ${c}`);
  }
  if (report.rollback.length > 0) {
    lines.push('', '**Rollback**', '', '| action | env | target | from → to | status |', '|---|---|---|---|---|');
    for (const r of report.rollback) {
      const move = r.fromImageTag || r.toImageTag ? `\`${r.fromImageTag ?? '?'}\` → \`${r.toImageTag ?? '?'}\`` : '';
      lines.push(`| ${r.action} | ${r.env ?? ''} | ${cell(r.target)} | ${move} | ${r.status}${r.failure ? `: ${cell(r.failure.message)}` : ''}${r.detail ? ` (${cell(r.detail)})` : ''} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
