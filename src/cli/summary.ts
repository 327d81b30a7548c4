/**
 * The end-of-run summary: one row per iteration, the failure and the rollback, as plain text lines.
 */
import type { FanOutReport, RollbackRecord, ValidationReport } from '../domain/report.js';
import { fanOutHeadline, fanOutTable } from '../reports/fan-out.js';

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
  const out = [
    '',
    `validatePipeline ${report.appName}: ${report.status.toUpperCase()} in ${(report.durationMs / 1000).toFixed(1)}s`,
    ...columns(['#', 'env', 'status', 'image tag', 'time', 'merge request'], rows),
  ];
  const failedEnv = report.iterations.find((it) => it.iteration === report.failure?.iteration)?.env;
  if (report.failure)
    out.push(
      `Iteration ${report.failure.iteration}${failedEnv ? ` (${failedEnv})` : ''} failed at its ${report.failure.step} step: ${report.failure.message} (${report.failure.type})`,
    );
  for (const r of report.rollback) out.push(rollbackLine(r));
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

function rollbackLine(r: RollbackRecord): string {
  return `rolled back: ${r.action} ${r.env ?? ''} ${r.target}${r.fromImageTag || r.toImageTag ? ` ${r.fromImageTag ?? '?'} → ${r.toImageTag ?? '?'}` : ''}: ${r.status}${r.failure ? ` (${r.failure.message})` : ''}`;
}

/** A header, a rule and the rows, each column as wide as its widest cell. */
function columns(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * The end-of-run summary of a fan-out: one row per app (status, each environment's result, image, duration),
 * then, for each app that did not succeed, where it failed and what it undid.
 */
export function fanOutSummaryTable(report: FanOutReport): string[] {
  const table = fanOutTable(report);
  const out = [
    '',
    `fanOutApps ${report.kind}: ${report.status.toUpperCase()} in ${(report.durationMs / 1000).toFixed(1)}s; ${fanOutHeadline(report)}`,
    ...columns(table.head, table.rows),
  ];
  for (const app of report.apps) {
    if (!app.failure) continue;
    const where = 'step' in app.failure ? ` at its ${app.failure.step} step` : '';
    out.push(`${app.appName} ${app.status}${where}: ${app.failure.message} (${app.failure.type})`);
    for (const r of app.rollback) out.push(`  ${rollbackLine(r)}`);
  }
  out.push('');
  return out;
}

/** The combined report as `--json` prints it: each validation app as `reportJson` prints a single run. */
export function fanOutReportJson(report: FanOutReport): string {
  if (report.kind === 'promote') return JSON.stringify(report);
  return JSON.stringify({ ...report, apps: report.apps.map((app) => JSON.parse(reportJson(app)) as unknown) });
}
