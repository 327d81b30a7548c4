/**
 * The Temporal SDK metrics (TypeScript SDK 1.24, its Rust core's Prometheus exporter) that the Grafana dashboard
 * and the alert rules in deploy/ use. test/e2e/observability.test.ts checks that a real worker's scrape has each of
 * them, so a renamed SDK metric fails a test instead of silently emptying a panel or an alert.
 */
export const SDK_METRICS_USED = [
  'temporal_num_pollers',
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_workflow_failed',
  'temporal_workflow_completed',
] as const;
