/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/ use only metrics that exist: Shepherd's own (as
 * src/observability/metrics.ts registers them) and the Temporal SDK's that a real scrape showed (sdk-metrics.ts,
 * checked against a scrape by test/e2e/observability.test.ts). The rules file has Prometheus's rule-group shape.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { METRICS, type MetricDefinition } from '../../../src/observability/metrics.js';
import { SDK_METRICS_USED } from './sdk-metrics.js';

const read = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

/** Every series name a PromQL expression reads (identifiers followed by `{`, `[` or a space-free end, not functions). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:shepherd|temporal)_[a-z_]+)\b/g)].map((m) => m[1]!);
}

/** The names a Shepherd metric is exported under: histograms as _bucket, _sum and _count. */
const shepherdNames = new Set(
  (Object.values(METRICS) as MetricDefinition[]).flatMap((def) =>
    def.kind === 'histogram' ? [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`] : [def.name],
  ),
);
const sdkNames = new Set(SDK_METRICS_USED.flatMap((name) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]));
const unknown = (names: string[]): string[] => names.filter((n) => !shepherdNames.has(n) && !sdkNames.has(n));

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { name: string; query?: unknown; definition?: string }[] };
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(read('deploy/grafana/shepherd-dashboard.json')) as Dashboard;
  const exprs = [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : [])),
  ];

  it('reads only metrics Shepherd or the Temporal SDK export', () => {
    expect(exprs.length).toBeGreaterThan(10);
    expect(unknown(exprs.flatMap(metricNames))).toEqual([]);
  });

  it('shows every Shepherd metric and the SDK pollers and slots', () => {
    const used = new Set(exprs.flatMap(metricNames).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    for (const def of Object.values(METRICS) as MetricDefinition[]) expect(used, def.name).toContain(def.name);
    for (const name of ['temporal_num_pollers', 'temporal_worker_task_slots_available']) expect(used).toContain(name);
  });
});

describe('the Prometheus alert rules', () => {
  const file = parse(read('deploy/prometheus/shepherd-alerts.yaml')) as { groups: { name: string; rules: Rule[] }[] };

  it('have the rule-group shape: named groups of rules, each an alert with an expression, labels and a summary', () => {
    expect(Object.keys(file)).toEqual(['groups']);
    expect(file.groups.length).toBeGreaterThan(0);
    for (const group of file.groups) {
      expect(group.name).toMatch(/^\S+$/);
      expect(Object.keys(group).every((k) => ['name', 'interval', 'limit', 'rules'].includes(k))).toBe(true);
      for (const rule of group.rules) {
        expect(rule.alert, JSON.stringify(rule)).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
        expect(typeof rule.expr).toBe('string');
        if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smhdwy]$/);
        expect(rule.labels?.severity).toMatch(/^(critical|warning|info)$/);
        expect(rule.annotations?.summary).toBeTruthy();
        expect(
          Object.keys(rule).every((k) =>
            ['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'].includes(k),
          ),
        ).toBe(true);
      }
    }
  });

  it('cover promotion failed, rollback failed, approval pending too long and no worker polling', () => {
    const byName = new Map(file.groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]));
    expect(byName.get('ShepherdPromotionFailed')).toContain('shepherd_promotions_total');
    expect(byName.get('ShepherdRollbackFailed')).toContain('shepherd_rollbacks_failed_total');
    expect(byName.get('ShepherdApprovalPendingTooLong')).toContain('shepherd_approvals_pending');
    expect(byName.get('ShepherdNoWorkerPolling')).toContain('temporal_num_pollers');
  });

  it('read only metrics Shepherd or the Temporal SDK export', () => {
    const exprs = file.groups.flatMap((g) => g.rules.map((r) => r.expr));
    expect(unknown(exprs.flatMap(metricNames))).toEqual([]);
  });

  it('label nothing with the identifiers of a known metric that does not carry them', () => {
    // A typo in a label would silently match nothing: every label an expression groups or filters Shepherd's
    // metrics by is one the metric has (or one the SDK adds).
    const added = ['namespace', 'taskQueue', 'workflowType', 'le'];
    for (const group of file.groups)
      for (const rule of group.rules)
        for (const def of Object.values(METRICS) as MetricDefinition[]) {
          if (!rule.expr.includes(def.name)) continue;
          const labels = [...rule.expr.matchAll(/(?:by \(([^)]*)\))|(?:\{([^}]*)\})/g)].flatMap((m) =>
            (m[1] ?? m[2] ?? '').split(',').map((s) => s.trim().split(/[=!~]/)[0]!.trim()),
          );
          expect(
            labels.filter((l) => l && ![...def.labels, ...added].includes(l)),
            rule.alert,
          ).toEqual([]);
        }
  });
});
