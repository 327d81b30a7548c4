/**
 * Shepherd's own Prometheus metrics: their names, labels and meaning, and the functions the journal calls to
 * record them. They go out through the Temporal SDK's metric meter, so the worker's one Prometheus exporter
 * (SHEPHERD_METRICS_ADDRESS) serves them beside the SDK's `temporal_*` series.
 *
 * Deterministic and free of I/O, so that workflow code may import it. The workflow meter records nothing while a
 * workflow replays and adds no command to the history (it goes through the SDK's internal sink), so a run counts
 * once, on the worker that executes it live. The SDK adds `namespace`, `task_queue` and `workflow_type` to every
 * series recorded from workflow code.
 *
 * Labels hold only bounded values: app names, environments, step and system names, outcome words from the status
 * vocabulary. Never an image tag, a workflow id, a URL or anything from a credential.
 */
import type { MetricMeter } from '@temporalio/common';

export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface MetricDefinition {
  readonly name: string;
  readonly kind: MetricKind;
  readonly labels: readonly string[];
  readonly help: string;
  /** Histogram bucket bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** Step and wait durations: a look at the API takes under a second, a rollout minutes, a build up to an hour. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];
/** Approvals take minutes to days (the default timeout is 72 h). */
const APPROVAL_BUCKETS = [60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600];

export const METRICS = {
  promotions: {
    name: 'shepherd_promotions_total',
    kind: 'counter',
    labels: ['app', 'environment', 'outcome'],
    help: 'Promotion runs that ended, by app, target environment and outcome (succeeded, rolled_back, failed, …).',
  },
  validations: {
    name: 'shepherd_validations_total',
    kind: 'counter',
    labels: ['app', 'environment', 'outcome'],
    help: 'Validation runs that ended, by app, the last environment they reached, and outcome.',
  },
  stepDuration: {
    name: 'shepherd_step_duration_seconds',
    kind: 'histogram',
    labels: ['step', 'app', 'environment', 'outcome'],
    help: 'How long each step of a run took, by step name, app, environment and outcome (succeeded, failed, cancelled).',
    buckets: DURATION_BUCKETS,
  },
  waitDuration: {
    name: 'shepherd_wait_duration_seconds',
    kind: 'histogram',
    labels: ['system', 'app', 'environment', 'outcome'],
    help: 'Time spent waiting on an external system (gitlab, jenkins, argocd, kubernetes), every attempt included.',
    buckets: DURATION_BUCKETS,
  },
  rollbacks: {
    name: 'shepherd_rollbacks_total',
    kind: 'counter',
    labels: ['app', 'environment', 'action'],
    help: 'Undo actions a run carried out during a rollback (succeeded or failed; skipped ones are not counted).',
  },
  rollbacksFailed: {
    name: 'shepherd_rollbacks_failed_total',
    kind: 'counter',
    labels: ['app', 'environment', 'action'],
    help: 'Undo actions that failed: the environment may be left half-promoted and needs a person.',
  },
  approvalsPending: {
    name: 'shepherd_approvals_pending',
    kind: 'gauge',
    labels: ['app', 'environment'],
    help: 'Promotions waiting for approve/reject: 1 while the (one) promotion of the app into the environment waits, 0 once decided.',
  },
  approvalWait: {
    name: 'shepherd_approval_wait_seconds',
    kind: 'histogram',
    labels: ['app', 'environment', 'outcome'],
    help: 'How long approvals waited, recorded at the decision: approved, rejected (timeouts included) or cancelled.',
    buckets: APPROVAL_BUCKETS,
  },
  webhookDeliveries: {
    name: 'shepherd_webhook_deliveries_total',
    kind: 'counter',
    labels: ['source', 'event', 'outcome'],
    help: 'Webhook deliveries the receiver decided on, by source (gitlab, jenkins), event and outcome: accepted, ignored, replayed, or rejected as unauthenticated, too_large, malformed.',
  },
  webhookSignals: {
    name: 'shepherd_webhook_signals_total',
    kind: 'counter',
    labels: ['source', 'event', 'outcome'],
    help: 'Wake-ups the receiver sent to runs, by source, event and outcome: signalled, not_running (no such run, or it ended), failed.',
  },
} as const satisfies Record<string, MetricDefinition>;

/** The systems a step's wait names, by what it waits on; approvals and child runs are not system waits. */
const SYSTEM_OF_WAIT: Record<string, string> = {
  'merge-request': 'gitlab',
  build: 'jenkins',
  'argo-app': 'argocd',
  workload: 'kubernetes',
};

/** The `system` label of a wait on `kind`, or undefined when it waits on people or on another run. */
export function systemOfWait(kind: string): string | undefined {
  return SYSTEM_OF_WAIT[kind];
}

/** The workflow types whose ends count as promotions and validations. */
const RUN_COUNTERS: Record<string, MetricDefinition> = {
  promoteEnvironment: METRICS.promotions,
  validatePipeline: METRICS.validations,
};

/** What `environment` says when a step or run has none (a validation that failed before its first environment). */
export const NO_ENVIRONMENT = 'none';

/** Records Shepherd's metrics on one SDK meter; the journal holds one per run. */
export class ShepherdMetrics {
  constructor(private readonly meter: MetricMeter) {}

  /** A step ended after `seconds`; a step that waited on a system also counts as time spent waiting on it. */
  stepEnded(step: {
    name: string;
    app: string;
    environment: string;
    outcome: string;
    seconds: number;
    waitingOn?: string;
  }): void {
    const { name, app, environment, outcome, seconds } = step;
    this.histogram(METRICS.stepDuration).record(seconds, { step: name, app, environment, outcome });
    const system = step.waitingOn ? systemOfWait(step.waitingOn) : undefined;
    if (system) this.histogram(METRICS.waitDuration).record(seconds, { system, app, environment, outcome });
  }

  /** A run ended with `outcome`; workflow types other than promotions and validations are not counted. */
  runEnded(workflowType: string, tags: { app: string; environment: string; outcome: string }): void {
    const counter = RUN_COUNTERS[workflowType];
    if (counter) this.counter(counter).add(1, tags);
  }

  /** One undo action of a rollback ended; `skipped` ones (nothing to undo) are not rollbacks. */
  undoEnded(tags: { app: string; environment: string; action: string }, status: string): void {
    if (status === 'skipped') return;
    this.counter(METRICS.rollbacks).add(1, tags);
    if (status === 'failed') this.counter(METRICS.rollbacksFailed).add(1, tags);
  }

  approvalStarted(tags: { app: string; environment: string }): void {
    this.meter.createGauge(METRICS.approvalsPending.name, 'int', '', METRICS.approvalsPending.help).set(1, tags);
  }

  approvalEnded(tags: { app: string; environment: string }, outcome: string, seconds: number): void {
    this.meter.createGauge(METRICS.approvalsPending.name, 'int', '', METRICS.approvalsPending.help).set(0, tags);
    this.histogram(METRICS.approvalWait).record(seconds, { ...tags, outcome });
  }

  private counter(def: MetricDefinition) {
    return this.meter.createCounter(def.name, '', def.help);
  }

  private histogram(def: MetricDefinition) {
    return this.meter.createHistogram(def.name, 'float', '', def.help);
  }
}

/** The `histogramBucketOverrides` of the SDK's Prometheus exporter for Shepherd's histograms. */
export function histogramBuckets(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const def of Object.values(METRICS) as MetricDefinition[]) if (def.buckets) out[def.name] = [...def.buckets];
  return out;
}

/** The outcomes of a webhook delivery (`shepherd_webhook_deliveries_total`). */
export type WebhookDeliveryOutcome =
  'accepted' | 'ignored' | 'replayed' | 'unauthenticated' | 'too_large' | 'malformed';
/** The outcomes of one wake-up sent to one run (`shepherd_webhook_signals_total`). */
export type WebhookSignalOutcome = 'signalled' | 'not_running' | 'failed';

interface WebhookLabels {
  readonly source: string;
  readonly event: string;
}

/**
 * The webhook receiver's counters. Kept in the receiver's memory, so that its own `GET /metrics` serves them
 * whether or not a Temporal runtime with a Prometheus exporter runs in the process; also recorded on `meter` when
 * one is given (the worker's, which then serves them on SHEPHERD_METRICS_ADDRESS beside the rest).
 */
export class WebhookMetrics {
  private readonly values = new Map<string, { def: MetricDefinition; labels: Record<string, string>; n: number }>();

  constructor(private readonly meter?: MetricMeter) {}

  delivery(labels: WebhookLabels, outcome: WebhookDeliveryOutcome): void {
    this.add(METRICS.webhookDeliveries, { ...labels, outcome });
  }

  signal(labels: WebhookLabels, outcome: WebhookSignalOutcome): void {
    this.add(METRICS.webhookSignals, { ...labels, outcome });
  }

  /** The count of one series (0 when never recorded). */
  count(def: MetricDefinition, labels: Record<string, string>): number {
    return this.values.get(seriesKey(def, labels))?.n ?? 0;
  }

  /** The counters in the Prometheus text exposition format. */
  render(): string {
    const lines: string[] = [];
    for (const def of [METRICS.webhookDeliveries, METRICS.webhookSignals] as MetricDefinition[]) {
      lines.push(`# HELP ${def.name} ${def.help}`, `# TYPE ${def.name} counter`);
      const series = [...this.values.values()].filter((v) => v.def.name === def.name);
      for (const s of series) lines.push(`${def.name}{${labelText(def, s.labels)}} ${s.n}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private add(def: MetricDefinition, labels: Record<string, string>): void {
    const key = seriesKey(def, labels);
    const entry = this.values.get(key) ?? { def, labels, n: 0 };
    entry.n += 1;
    this.values.set(key, entry);
    this.meter?.createCounter(def.name, '', def.help).add(1, labels);
  }
}

function labelText(def: MetricDefinition, labels: Record<string, string>): string {
  const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return def.labels.map((l) => `${l}="${escape(labels[l] ?? '')}"`).join(',');
}

function seriesKey(def: MetricDefinition, labels: Record<string, string>): string {
  return `${def.name}{${labelText(def, labels)}}`;
}
