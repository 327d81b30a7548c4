/**
 * The end-of-run summary: one row per iteration, the failure and the rollback, as plain text lines.
 */
import type { ValidationReport } from '../domain/report.js';

export function summaryTable(report: ValidationReport): string[] {
  const rows = report.iterations.map((it) => {
    const mr =
      it.steps
        .map((s) => s.links?.mergeRequest)
        .filter(Boolean)
        .at(-1) ?? '';
    const ms = it.steps.reduce((s, x) => s + (x.durationMs ?? 0), 0);
    return [String(it.iteration), it.env, it.status, it.imageTag ?? '', `${(ms / 1000).toFixed(1)}s`, mr];
  });
  const head = ['#', 'env', 'status', 'image tag', 'time', 'merge request'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    '',
    `validatePipeline ${report.appName}: ${report.status.toUpperCase()} in ${(report.durationMs / 1000).toFixed(1)}s`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  const failedEnv = report.iterations.find((it) => it.iteration === report.failure?.iteration)?.env;
  if (report.failure)
    out.push(
      `Iteration ${report.failure.iteration}${failedEnv ? ` (${failedEnv})` : ''} failed at its ${report.failure.step} step: ${report.failure.message} (${report.failure.type})`,
    );
  for (const r of report.rollback) {
    out.push(
      `rolled back: ${r.action} ${r.env ?? ''} ${r.target}${r.fromImageTag || r.toImageTag ? ` ${r.fromImageTag ?? '?'} → ${r.toImageTag ?? '?'}` : ''}: ${r.status}${r.failure ? ` (${r.failure.message})` : ''}`,
    );
  }
  out.push('');
  return out;
}

/** The report as `--json` prints it: the report, with each iteration's image named `image` as well. */
export function reportJson(report: ValidationReport): string {
  return JSON.stringify({
    ...report,
    iterations: report.iterations.map((it) => ({ ...it, image: it.imageTag ?? null })),
  });
}
