/**
 * Traces: a worker with tracing on runs a validation through stage (a bump in dev, a promotion to stage) against the sandbox world and exports its spans
 * over OTLP/HTTP to a small receiver in this test. The exported requests are decoded with OpenTelemetry's own
 * protobuf definitions and read as a collector would: one trace for the run, a span per activity, the app,
 * environment and image tag on the spans, and none of the sandbox's tokens nor the collector's API key anywhere
 * in the bytes sent.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secret.js';
import type { ValidationReport } from '../../src/domain/report.js';
import { SPAN_ATTRIBUTES, startTracing, TRACING_OFF, tracingFromConfig } from '../../src/tracing/tracing.js';
import { activitiesForWorld } from '../../src/worker/activities.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.js';

interface OtlpRequest {
  readonly body: Buffer;
  readonly headers: IncomingHttpHeaders;
}

/** A collector's OTLP/HTTP trace endpoint: keeps every request to /v1/traces and answers as a collector does. */
async function startOtlpReceiver(): Promise<{ url: string; requests: OtlpRequest[]; close(): Promise<void> }> {
  const requests: OtlpRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      requests.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface DecodedSpan {
  readonly traceId: string;
  readonly name: string;
  readonly attributes: Record<string, unknown>;
}

interface ProtoKeyValue {
  key: string;
  value?: { stringValue?: string; intValue?: unknown; boolValue?: boolean };
}
interface ProtoRequest {
  resourceSpans?: {
    scopeSpans?: { spans?: { traceId: Uint8Array; name: string; attributes?: ProtoKeyValue[] }[] }[];
  }[];
}

/** Decodes ExportTraceServiceRequest bodies with the protobuf definitions the exporter itself encodes with. */
function decodeSpans(requests: readonly OtlpRequest[]): DecodedSpan[] {
  const require = createRequire(import.meta.url);
  const { opentelemetry } = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
    opentelemetry: {
      proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { decode(b: Uint8Array): ProtoRequest } } } } };
    };
  };
  const { ExportTraceServiceRequest } = opentelemetry.proto.collector.trace.v1;
  return requests.flatMap(({ body }) =>
    (ExportTraceServiceRequest.decode(body).resourceSpans ?? []).flatMap((rs) =>
      (rs.scopeSpans ?? []).flatMap((ss) =>
        (ss.spans ?? []).map((span) => ({
          traceId: Buffer.from(span.traceId).toString('hex'),
          name: span.name,
          attributes: Object.fromEntries(
            (span.attributes ?? []).map((kv) => [kv.key, kv.value?.stringValue ?? kv.value?.intValue]),
          ),
        })),
      ),
    ),
  );
}

describe('traces over OTLP', () => {
  const receiverPromise = startOtlpReceiver();
  let receiver: Awaited<typeof receiverPromise>;
  let env: TestWorkflowEnvironment;
  let sandbox: TestSandbox;
  let worker: Worker;
  const collectorKey = `otlp-key-${randomBytes(12).toString('hex')}`;
  const workflowId = `traces-validate-${randomBytes(4).toString('hex')}`;
  let report: ValidationReport;
  let runIds: string[];
  let activityTypes: string[];
  let all: DecodedSpan[];
  let spans: DecodedSpan[];
  let secrets: string[];
  const warnings: string[] = [];

  beforeAll(async () => {
    receiver = await receiverPromise;
    env = await devServerEnv();
    sandbox = await startSandbox();
    const info = sandbox.world.info;
    secrets = [info.gitlab.token, info.jenkins.token, info.kubernetes.token, collectorKey];
    const tracing = startTracing({
      endpoint: receiver.url,
      headers: new Secret(`authorization=Bearer%20${collectorKey}`),
      serviceName: 'shepherd-traces-test',
      warn: (message) => warnings.push(message),
    });
    const taskQueue = uniqueTaskQueue(import.meta.url);
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: activitiesForWorld(sandbox.world, loadConfig({ env: {} })),
      workflows: { workflowBundle: workflowBundle() },
      tracing,
    });
    const running = worker.run();
    try {
      // One run: validation through stage bumps the app in dev and promotes it to stage in a child workflow.
      report = (await env.client.workflow.execute('validatePipeline', {
        taskQueue,
        workflowId,
        args: [{ appName: info.app, through: 'stage' }],
      })) as ValidationReport;
      const ids = [workflowId];
      const types = new Set<string>();
      for (let i = 0; i < ids.length; i++) {
        const history = await env.client.workflow.getHandle(ids[i]!).fetchHistory();
        for (const e of history.events ?? []) {
          const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
          if (activity) types.add(activity);
          const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
          if (child) ids.push(child);
        }
      }
      runIds = ids;
      activityTypes = [...types];
    } finally {
      worker.shutdown();
      await running;
      // Exports what the batch processor still holds.
      await tracing.shutdown();
    }
    all = decodeSpans(receiver.requests);
    spans = all.filter((s) => runIds.includes(String(s.attributes.temporalWorkflowId)));
  });

  afterAll(async () => {
    await sandbox?.stop();
    await env?.teardown();
    await receiver?.close();
  });

  it('runs the validation through dev and stage, so that there is a trace to read', () => {
    expect(report.status).toBe('succeeded');
    expect(runIds.length).toBeGreaterThan(1);
    expect(activityTypes.length).toBeGreaterThan(3);
    expect(warnings).toEqual([]);
  });

  it('exports one trace for the run: its workflow spans, its children and every activity span share a trace id', () => {
    const root = spans.find((s) => s.name === 'RunWorkflow:validatePipeline');
    expect(root).toBeDefined();
    // Besides the validation: its promotions and the app's validation lock (holdValidationLock), each a child run.
    expect(spans.filter((s) => s.name === 'RunWorkflow:promoteEnvironment').length).toBe(runIds.length - 2);
    expect(spans.filter((s) => s.name === 'RunWorkflow:holdValidationLock')).toHaveLength(1);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root!.traceId]));
    // Nothing else in that trace: the run is the whole trace.
    expect(all.filter((s) => s.traceId === root!.traceId).length).toBe(spans.length);
  });

  it('exports a span for each activity the run scheduled', () => {
    const names = new Set(spans.map((s) => s.name));
    for (const type of activityTypes) expect(names, type).toContain(`RunActivity:${type}`);
  });

  it('labels the spans with app, environment and image tag from the run', () => {
    const app = sandbox.world.info.app;
    const activitySpans = spans.filter((s) => s.name.startsWith('RunActivity:'));
    for (const span of activitySpans) expect(span.attributes[SPAN_ATTRIBUTES.app], span.name).toBe(app);
    for (const env of ['dev', 'stage'])
      expect(activitySpans.some((s) => s.attributes[SPAN_ATTRIBUTES.environment] === env)).toBe(true);
    expect(activitySpans.some((s) => s.attributes[SPAN_ATTRIBUTES.imageTag] === report.imageTag)).toBe(true);
    // The lock carries no search attributes (it is no run of the app's that `status` should list), so no labels.
    for (const run of spans.filter((s) => s.name.startsWith('RunWorkflow:') && !s.name.endsWith(':holdValidationLock')))
      expect(run.attributes[SPAN_ATTRIBUTES.app], run.name).toBe(app);
  });

  it("keeps the run's WorkflowInfo to named fields on workflow spans (no memo, no search-attribute dump)", () => {
    for (const span of spans) {
      expect(Object.keys(span.attributes)).not.toContain('memo');
      expect(Object.keys(span.attributes)).not.toContain('searchAttributes');
      expect(Object.keys(span.attributes)).not.toContain('lastFailure');
    }
  });

  it("sends the collector's API key only as a header, and no secret in any exported byte", () => {
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${collectorKey}`);
      const bytes = request.body.toString('latin1');
      for (const secret of secrets) {
        expect(bytes.includes(secret), `a secret (${secret.slice(0, 6)}…) in an export`).toBe(false);
        expect(bytes.includes(Buffer.from(secret).toString('base64'))).toBe(false);
      }
    }
  });
});

describe('tracing off (the default)', () => {
  it('creates no exporter and no interceptors when no OTLP endpoint is configured', () => {
    const tracing = tracingFromConfig(loadConfig({ env: {} }).observability, () => {});
    expect(tracing).toBe(TRACING_OFF);
    expect(tracing.activityInterceptors).toEqual([]);
  });
});
