/**
 * OpenTelemetry traces through Temporal's interceptors, exported over OTLP/HTTP (protobuf) when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; off by default.
 *
 * One run is one trace: the workflow interceptors (bundled with the workflows, see src/worker/workflow-source.ts)
 * open the run's span inside the workflow sandbox and pass its context to each activity in a header; the activity
 * interceptors here open one span per activity attempt under it. Workflow spans leave the sandbox through the
 * `exporter` sink, which the worker always registers (a sink that drops spans when tracing is off), because the
 * bundle calls it either way.
 *
 * What reaches a span, and why no secret does: span names are the Temporal operation and type
 * (`RunActivity:mergeMergeRequest`); the interceptors add workflow id, run id and activity id, and an error's
 * message and stack on failure (our error messages carry no credentials); app, environment and image tag come from
 * the run's search attributes (see workflows/tracing-interceptors.ts). The SDK's workflow sink would copy the whole
 * WorkflowInfo (memo, search attributes, last failure) onto every workflow span; `safeWorkflowAttributes` keeps only
 * named fields. Activity inputs and results are never recorded. The OTLP headers (a collector's API key) are a
 * Secret, revealed only to the exporter.
 */
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Secret } from '../config/secret.js';
import { RUN_ATTRIBUTES_HEADER, type RunAttributes } from '../temporal/common/run-attributes.js';

/** Span attribute names for Shepherd's own facts (OpenTelemetry's lower-case, dot-separated style). */
export const SPAN_ATTRIBUTES = {
  app: 'shepherd.app',
  environment: 'shepherd.environment',
  imageTag: 'shepherd.image_tag',
} as const;

type ExporterSinks = { exporter: { export(spans: unknown[]): void } };

/** What a worker needs from tracing: activity interceptors, the workflow span sink, and a flush at shutdown. */
export interface Tracing {
  readonly activityInterceptors: ActivityInterceptorsFactory[];
  readonly sinks: InjectedSinks<ExporterSinks>;
  /** Exports the spans still buffered and unregisters the global tracer; call once the worker has stopped. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces`. */
  readonly endpoint: string;
  readonly headers?: Secret | undefined;
  readonly serviceName: string;
  /** Told when an export fails, with what to check; the exporter otherwise drops spans silently. */
  readonly warn: (message: string) => void;
}

/** The worker's tracing when it is off: no exporter, no interceptors, a sink that drops the workflow spans. */
export const TRACING_OFF: Tracing = {
  activityInterceptors: [],
  sinks: { exporter: { export: { fn: () => {} } } },
  shutdown: async () => {},
};

/** Tracing from the loaded configuration: on only when an OTLP endpoint is configured. */
export function tracingFromConfig(
  observability: { otlpEndpoint: string | undefined; otlpHeaders: Secret | undefined; serviceName: string },
  warn: (message: string) => void,
): Tracing {
  if (!observability.otlpEndpoint) return TRACING_OFF;
  return startTracing({
    endpoint: observability.otlpEndpoint,
    headers: observability.otlpHeaders,
    serviceName: observability.serviceName,
    warn,
  });
}

/** Creates the exporter and registers the process-wide context manager and W3C propagator the interceptors use. */
export function startTracing(opts: TracingOptions): Tracing {
  const url = `${opts.endpoint}/v1/traces`;
  const exporter = new OTLPTraceExporter({
    url,
    ...(opts.headers ? { headers: parseOtlpHeaders(opts.headers.reveal()) } : {}),
  });
  const resource = new Resource({ 'service.name': opts.serviceName });
  const processor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  otel.diag.setLogger(
    {
      error: (message) =>
        opts.warn(`tracing: could not export spans to ${url} (${message}); check OTEL_EXPORTER_OTLP_ENDPOINT.`),
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    otel.DiagLogLevel.ERROR,
  );
  provider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new W3CTraceContextPropagator(),
  });
  const tracer = provider.getTracer('shepherd');
  const workflowSink = makeWorkflowExporter(processor, resource);
  return {
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
      () => ({ inbound: new RunAttributesInboundInterceptor() }),
    ],
    sinks: {
      exporter: {
        export: {
          fn: (info, spans) =>
            workflowSink.export.fn(safeWorkflowAttributes(info) as unknown as WorkflowInfo, spans as never),
        },
      },
    },
    async shutdown() {
      await provider.shutdown();
      otel.trace.disable();
      otel.context.disable();
      otel.propagation.disable();
      otel.diag.disable();
    },
  };
}

/**
 * Runs inside the span the OpenTelemetry interceptor opened (it comes after it in the list), and labels that span
 * with the run's app, environment and image tag from the header the workflow interceptors set.
 */
class RunAttributesInboundInterceptor implements ActivityInboundCallsInterceptor {
  execute: ActivityInboundCallsInterceptor['execute'] = (input, next) => {
    const span = otel.trace.getActiveSpan();
    const header = input.headers[RUN_ATTRIBUTES_HEADER];
    if (span && header) {
      const run = defaultPayloadConverter.fromPayload<RunAttributes>(header);
      setRunAttributes(span, run);
    }
    return next(input);
  };
}

function setRunAttributes(span: otel.Span, run: RunAttributes): void {
  if (typeof run.app === 'string') span.setAttribute(SPAN_ATTRIBUTES.app, run.app);
  if (typeof run.environment === 'string') span.setAttribute(SPAN_ATTRIBUTES.environment, run.environment);
  if (typeof run.imageTag === 'string') span.setAttribute(SPAN_ATTRIBUTES.imageTag, run.imageTag);
}

/** The fields of a run's WorkflowInfo that may go on its spans; the SDK's sink would otherwise copy all of it. */
export function safeWorkflowAttributes(info: WorkflowInfo): Record<string, string | number> {
  // The info crossed the workflow sandbox's boundary, where class instances arrive without their prototype (the
  // SDK serialises the trace state for that reason), so the typed attributes have no getAll here; the plain
  // `searchAttributes` record (deprecated, still kept current by the SDK, upserts included) crosses intact.
  const plain = (info as { searchAttributes?: Record<string, unknown> }).searchAttributes ?? {};
  const pick = (key: string): string | undefined => {
    const values = plain[key];
    const value = Array.isArray(values) ? (values as unknown[])[0] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
  const run: Record<string, string | number> = {
    temporalWorkflowId: info.workflowId,
    run_id: info.runId,
    temporalWorkflowType: info.workflowType,
    temporalTaskQueue: info.taskQueue,
    temporalNamespace: info.namespace,
  };
  for (const [field, key] of [
    ['app', 'ShepherdApp'],
    ['environment', 'ShepherdEnvironment'],
    ['imageTag', 'ShepherdImageTag'],
  ] as const) {
    const value = pick(key);
    if (value !== undefined) run[SPAN_ATTRIBUTES[field]] = value;
  }
  return run;
}

/** OpenTelemetry's OTEL_EXPORTER_OTLP_HEADERS format: `key=value` pairs separated by commas, values URL-encoded. */
export function parseOtlpHeaders(list: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of list.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}
