/** The Markdown report: status line, one table row per iteration, the failure with its causes, the rollback. */
import { describe, expect, it } from 'vitest';
import { toMarkdown } from '../../../src/reports/markdown.js';
import { failedEarlyReport, nastyReport, rolledBackReport, succeededReport } from './sample-reports.js';

/** The rows of the table whose header line starts with `header`, split into cells. */
function table(md: string, header: string): string[][] {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.startsWith(header));
  expect(start, `table "${header}"`).toBeGreaterThanOrEqual(0);
  expect(lines[start + 1]).toMatch(/^\|(---\|)+$/);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(
      lines[i]!.slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('Markdown report', () => {
  it('summarises a succeeded run with one row per iteration, links and no failure section', () => {
    const md = toMarkdown(succeededReport());
    expect(md.split('\n')[0]).toBe('### ✅ Pipeline validation of example-app: succeeded');
    expect(md).toContain(
      'Through **prod**, image `1.0.37-abc1234`, 400.0 s (2025-03-04T02:00:00.000Z → 2025-03-04T02:06:40.000Z).',
    );
    const rows = table(md, '| # | env |');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual([
      '1',
      'dev',
      '✅ succeeded',
      '`1.0.37-abc1234`',
      '4',
      '[MR](https://gitlab.example/p2c/k8s-deployments/-/merge_requests/12)',
      '[build](https://jenkins.example/job/example-app/job/main/41/)',
    ]);
    expect(rows.map((r) => r[1])).toEqual(['dev', 'stage', 'prod']);
    expect(md).not.toContain('Failed at');
    expect(md).not.toContain('Rollback');
    expect(md.endsWith('|\n')).toBe(true);
  });

  it('shows a rolled-back run: the failed step, every cause in order, and each rollback line', () => {
    const md = toMarkdown(rolledBackReport());
    expect(md.split('\n')[0]).toBe('### ↩️ Pipeline validation of example-app: rolled back');
    expect(table(md, '| # | env |').map((r) => r[2])).toEqual(['✅ succeeded', '↩️ rolled_back', '⏭️ not_run']);
    expect(md).toContain(
      [
        '**Failed at** iteration 2, step `await-healthy`:',
        '',
        '- `EnvironmentUnhealthy`: stage: Deployment example-app has 0/2 ready replicas after 300 s',
        '- `TimeoutFailure`: activity StartToClose timeout',
        '- `Error`: pod example-app-7d9 CrashLoopBackOff',
      ].join('\n'),
    );
    expect(table(md, '| action | env | target |')).toEqual([
      ['revert-merge-request', 'stage', '!13', '', 'succeeded (revert MR !14 merged)'],
      ['await-previous-image', 'stage', 'example-app-stage', '`1.0.37-abc1234` → `1.0.36-0ffee00`', 'succeeded'],
      ['delete-branch', 'stage', 'promote-stage-1.0.37-abc1234', '', 'skipped (already deleted)'],
    ]);
  });

  it('shows a failed undo with its reason', () => {
    const md = toMarkdown(failedEarlyReport());
    expect(md.split('\n')[0]).toBe('### ❌ Pipeline validation of example-app: failed');
    expect(md).toContain('- `BuildFailed`: Jenkins build #42 FAILURE');
    expect(table(md, '| action | env | target |')).toEqual([
      ['close-merge-request', 'dev', '!11', '', 'failed: HTTP 503'],
    ]);
  });

  it('keeps hostile text inside its cell: no line breaks, no control characters, pipes escaped, no HTML tags', () => {
    const md = toMarkdown(nastyReport());
    // eslint-disable-next-line no-control-regex
    expect(md).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const rollback = table(md, '| action | env | target |');
    expect(rollback).toHaveLength(1);
    expect(rollback[0]).toHaveLength(5);
    expect(rollback[0]![2]).toBe('!1 a &lt;b> & "c" \'d\' \\| e tab next ]]> \ud800 \uffff end ✓ 🚀');
    expect(md).toContain('- `Weird<&">Type`: a &lt;b> & "c" \'d\' \\| e tab next ]]>');
    expect(md).not.toContain('<b>');
  });
});
