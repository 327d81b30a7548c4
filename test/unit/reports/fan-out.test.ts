/**
 * A fan-out's combined report as the terminal shows it (summary table), as Markdown and as JSON: one row per app
 * with each environment's result, then each app's own report.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fanOutReportJson, fanOutSummaryTable } from '../../../src/cli/summary.js';
import { fanOutTable, fanOutToMarkdown } from '../../../src/reports/fan-out.js';
import { toMarkdown } from '../../../src/reports/markdown.js';
import { writeFanOutReports } from '../../../src/reports/write.js';
import type { ValidationReport } from '../../../src/domain/report.js';
import { promotionFanOutReport, validationFanOutReport } from './sample-reports.js';

describe('fan-out summary table', () => {
  it('has one row per app: status, each environment, image and time (- where the app never got)', () => {
    const table = fanOutTable(validationFanOutReport());
    expect(table.head).toEqual(['app', 'status', 'dev', 'stage', 'prod', 'image tag', 'time']);
    expect(table.rows).toEqual([
      ['orders', 'succeeded', 'succeeded', 'succeeded', 'succeeded', '1.0.37-abc1234', '400.0s'],
      ['billing', 'rolled_back', 'succeeded', 'rolled_back', 'not_run', '1.0.37-abc1234', '700.0s'],
      ['search', 'failed', 'failed', 'not_run', 'not_run', '', '60.0s'],
    ]);
  });

  it("shows a promotion fan-out's target with each app's image from → to", () => {
    const table = fanOutTable(promotionFanOutReport());
    expect(table.head).toEqual(['app', 'status', 'stage', 'image tag', 'time']);
    expect(table.rows.map((row) => row.slice(0, 3))).toEqual([
      ['orders', 'succeeded', '1.0.36-0ffee00 → 1.0.37-abc1234'],
      ['billing', 'rolled_back', '1.0.36-0ffee00 → 1.0.37-abc1234'],
    ]);
  });

  it('prints the headline, aligned columns, and where each app that did not succeed broke and what it undid', () => {
    const lines = fanOutSummaryTable(validationFanOutReport());
    expect(lines[1]).toBe(
      'fanOutApps validate: FAILED in 900.0s; failed: 1 of 3 apps succeeded (validate, at most 2 at a time)',
    );
    expect(lines[2]!.split(/ +/)).toEqual(['app', 'status', 'dev', 'stage', 'prod', 'image', 'tag', 'time']);
    expect(lines[4]!.indexOf('succeeded')).toBe(lines[2]!.indexOf('status'));
    expect(lines[5]!.indexOf('rolled_back')).toBe(lines[2]!.indexOf('status'));
    expect(lines).toContain(
      'billing rolled_back at its await-healthy step: stage: Deployment example-app has 0/2 ready replicas after 300 s (EnvironmentUnhealthy)',
    );
    expect(lines).toContain(
      '  rolled back: await-previous-image stage example-app-stage 1.0.37-abc1234 → 1.0.36-0ffee00: succeeded',
    );
    expect(lines.some((line) => line.startsWith('search failed at its await-ci-build step'))).toBe(true);
    expect(lines.filter((line) => line.startsWith('orders succeeded at'))).toEqual([]);
  });
});

describe('fan-out report', () => {
  it("is Markdown with the table first, then every app's own report", () => {
    const report = validationFanOutReport();
    const md = fanOutToMarkdown(report);
    expect(md.split('\n')[0]).toBe('## ❌ Pipeline validation of 3 apps: failed');
    expect(md).toContain('| app | status | dev | stage | prod | image tag | time |');
    expect(md).toContain('| billing | rolled_back | succeeded | rolled_back | not_run | 1.0.37-abc1234 | 700.0s |');
    for (const app of report.apps as ValidationReport[]) expect(md).toContain(toMarkdown(app));
  });

  it('is JSON {"status", "apps": [one report per app]}, each app as a single run prints it', () => {
    const json = JSON.parse(fanOutReportJson(validationFanOutReport())) as {
      status: string;
      apps: { appName: string; status: string; iterations: { image: string | null }[] }[];
    };
    expect(json.status).toBe('failed');
    expect(json.apps.map((app) => [app.appName, app.status])).toEqual([
      ['orders', 'succeeded'],
      ['billing', 'rolled_back'],
      ['search', 'failed'],
    ]);
    expect(json.apps[2]!.iterations.map((it) => it.image)).toEqual([null, null, null]);
  });

  it('is written as JSON, Markdown and JUnit XML named after the run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fan-out-reports-'));
    try {
      const report = promotionFanOutReport();
      const paths = writeFanOutReports(report, dir, 'fan-out-promote-stage-2025:03');
      expect(paths.json).toBe(join(dir, 'fan-out-promote-stage-2025_03.json'));
      expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toEqual(report);
      expect(readFileSync(paths.markdown, 'utf8')).toContain('Promotion dev → stage of 2 apps: rolled back');
      expect(readFileSync(paths.junit, 'utf8')).toContain('<testsuite name="billing: dev → stage"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
