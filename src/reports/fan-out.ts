/**
 * A fan-out's report as a table (one row per app: status, each environment's result, duration), shared by the
 * terminal summary and the Markdown, and as Markdown: the table, then each app's own report.
 */
import { APP_RUN_SUCCEEDED } from '../domain/fan-out.js';
import type { FanOutReport, ValidationReport } from '../domain/report.js';
import { cell, toMarkdown } from './markdown.js';
import { promotionToMarkdown } from './promotion-markdown.js';

export interface FanOutTable {
  readonly head: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** The environments a validation fan-out's apps reached or meant to reach, in the order they first appear. */
function environmentsOf(apps: readonly ValidationReport[]): string[] {
  const seen: string[] = [];
  for (const app of apps) for (const { env } of app.iterations) if (!seen.includes(env)) seen.push(env);
  return seen;
}

function took(ms: number | undefined): string {
  return ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * One row per app, in the order the fan-out named them. A validation has a column per environment with that
 * iteration's status (`-`: the app's run never got there); a promotion has one column for its target with the
 * status and the image `from → to`.
 */
export function fanOutTable(report: FanOutReport): FanOutTable {
  if (report.kind === 'validate') {
    const envs = environmentsOf(report.apps);
    return {
      head: ['app', 'status', ...envs, 'image tag', 'time'],
      rows: report.apps.map((app) => [
        app.appName,
        app.status,
        ...envs.map((env) => app.iterations.find((it) => it.env === env)?.status ?? '-'),
        app.imageTag ?? '',
        took(app.durationMs),
      ]),
    };
  }
  return {
    head: ['app', 'status', report.targetEnv, 'image tag', 'time'],
    rows: report.apps.map((app) => [
      app.appName,
      app.status,
      app.previousImageTag || app.imageTag ? `${app.previousImageTag ?? '?'} → ${app.imageTag ?? '?'}` : '-',
      app.imageTag ?? '',
      took(app.durationMs),
    ]),
  };
}

/** `rolled_back: 2 of 3 apps succeeded (validate, at most 2 at a time)`. */
export function fanOutHeadline(report: FanOutReport): string {
  const succeeded = (report.apps as readonly { status: string }[]).filter((app) =>
    APP_RUN_SUCCEEDED.includes(app.status),
  ).length;
  return `${report.status}: ${succeeded} of ${report.apps.length} apps succeeded (${report.kind}, at most ${report.concurrency} at a time)`;
}

const ICON: Record<FanOutReport['status'], string> = { succeeded: '✅', failed: '❌', rolled_back: '↩️' };

export function fanOutToMarkdown(report: FanOutReport): string {
  const table = fanOutTable(report);
  const what =
    report.kind === 'validate' ? 'Pipeline validation' : `Promotion ${report.sourceEnv} → ${report.targetEnv}`;
  const lines = [
    `## ${ICON[report.status]} ${what} of ${report.apps.length} apps: ${report.status.replace('_', ' ')}`,
    '',
    `${fanOutHeadline(report)}, ${(report.durationMs / 1000).toFixed(1)} s (${report.startedAt} → ${report.finishedAt}).`,
    '',
    `| ${table.head.map(cell).join(' | ')} |`,
    `|${table.head.map(() => '---').join('|')}|`,
    ...table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
  const apps =
    report.kind === 'validate' ? report.apps.map(toMarkdown) : report.apps.map((app) => promotionToMarkdown(app));
  return `${lines.join('\n')}\n\n${apps.join('\n')}`;
}
