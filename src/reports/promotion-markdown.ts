/**
 * A promotion report as Markdown: status line, where from and to, the merge request, build and approval, one row
 * per step, the failure with its causes, and what was undone.
 */
import type { FailureSummary } from '../domain/errors.js';
import type { FreezeRecord, PromotionReport, PromotionReportStatus } from '../domain/report.js';
import { cell } from './markdown.js';

const ICON: Record<PromotionReportStatus, string> = {
  succeeded: '✅',
  unchanged: '✅',
  'merge-request-opened': '📝',
  superseded: '⏭️',
  failed: '❌',
  rolled_back: '↩️',
  cancelled: '⏹️',
};

function causes(failure: FailureSummary): string[] {
  const out: string[] = [];
  for (let cause: FailureSummary | undefined = failure; cause; cause = cause.cause)
    out.push(`- \`${cause.type}\`: ${cell(cause.message)}`);
  return out;
}

export function promotionToMarkdown(report: PromotionReport): string {
  const move = `${report.sourceEnv ?? '?'} → ${report.targetEnv ?? '?'}`;
  const took = report.durationMs !== undefined ? `, ${(report.durationMs / 1000).toFixed(1)} s` : '';
  const lines = [
    `### ${ICON[report.status]} Promotion of ${cell(report.appName)} ${move}: ${report.status.replace(/[_-]/g, ' ')}`,
    '',
    `Image ${report.imageTag ? `\`${cell(report.imageTag)}\`` : 'unknown'} (${report.targetEnv ?? 'the target'} ran ${report.previousImageTag ? `\`${cell(report.previousImageTag)}\`` : 'nothing'} before)${took} (${report.startedAt} → ${report.finishedAt ?? 'running'}). Run \`${report.workflowId}\` / \`${report.runId}\`.`,
    '',
  ];
  if (report.mergeRequest) lines.push(`- Merge request: [!${report.mergeRequest.iid}](${report.mergeRequest.webUrl})`);
  if (report.build) lines.push(`- Promote build: [#${report.build.buildNumber}](${report.build.url})`);
  if (report.approval)
    lines.push(
      `- Approved by ${cell(report.approval.by)}${report.approval.reason ? `: ${cell(report.approval.reason)}` : ''}`,
    );
  if (report.supersededBy) lines.push(`- Superseded by \`${cell(report.supersededBy)}\``);
  if (report.unsettledTarget)
    lines.push(`- Went on with an unsettled target (allowUnsettledTarget): ${cell(report.unsettledTarget)}`);
  if (report.freeze) lines.push(`- ${freezeLine(report.freeze)}`);
  lines.push('', '| step | env | status | time | attempts | link |', '|---|---|---|---|---|---|');
  for (const step of report.steps) {
    const link = step.links?.mergeRequest ?? step.links?.build;
    lines.push(
      `| ${cell(step.name)} | ${step.env ?? ''} | ${step.status}${step.failure ? `: ${cell(step.failure.type)}` : ''} | ${step.durationMs !== undefined ? `${(step.durationMs / 1000).toFixed(1)} s` : ''} | ${step.attempts ?? ''} | ${link ? `[link](${link})` : ''} |`,
    );
  }
  if (report.failure) lines.push('', '**Failed:**', '', ...causes(report.failure));
  if (report.rollback.length > 0) {
    lines.push('', '**Undone**', '', '| action | env | target | from → to | status |', '|---|---|---|---|---|');
    for (const record of report.rollback) {
      const { fromImageTag, toImageTag, failure, detail } = record;
      const change = fromImageTag || toImageTag ? `\`${fromImageTag ?? '?'}\` → \`${toImageTag ?? '?'}\`` : '';
      lines.push(
        `| ${record.action} | ${record.env ?? ''} | ${cell(record.target)} | ${change} | ${record.status}${failure ? `: ${cell(failure.message)}` : ''}${detail ? ` (${cell(detail)})` : ''} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The freeze window the run met, and how it got past it: `Frozen … until …: overridden by alice at …: hotfix`. */
export function freezeLine(freeze: FreezeRecord): string {
  const met = `${freeze.env} frozen until ${freeze.until} (${cell(freeze.window)}${freeze.reason ? `: ${cell(freeze.reason)}` : ''})`;
  if (freeze.outcome === 'overridden' && freeze.override)
    return `Freeze overridden: ${met}; overridden by ${cell(freeze.override.by)} at ${freeze.override.at}: ${cell(freeze.override.reason)}`;
  if (freeze.outcome === 'refused') return `Freeze refused the merge: ${met}, policy refuse`;
  return `Freeze waited: ${met}; merged after the window closed`;
}
