/**
 * The worker's health and metrics endpoints (src/worker/health.ts), against a real worker on the run's dev server:
 * /healthz answers while the process runs, /readyz only while the worker polls (not before it starts, not while it
 * drains, not after), and the Prometheus endpoint of the SDK's runtime serves Temporal's own metrics.
 *
 * `Runtime.install` can happen once per process, before any worker: this file installs the metrics exporter first.
 */
import { createServer, type AddressInfo } from 'node:net';
import { DefaultLogger, NativeConnection, Runtime, type State } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createWorker } from '../../src/worker/create-worker.js';
import { prometheusTelemetry, startHealthServer, type HealthServer } from '../../src/worker/health.js';
import { uniqueTaskQueue, workflowBundle } from '../support/temporal.js';

/** A port nothing listens on now (the SDK's exporter cannot bind port 0 and tell us which port it got). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function probe(url: string): Promise<{ status: number; body: { status: string; worker: string } }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as { status: string; worker: string } };
}

async function eventually<T>(look: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await look();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the worker endpoints', () => {
  let metricsUrl: string;
  let health: HealthServer | undefined;
  let connection: NativeConnection | undefined;
  let state: () => State | undefined = () => undefined;

  beforeAll(async () => {
    const port = await freePort();
    Runtime.install({ logger: new DefaultLogger('ERROR'), ...prometheusTelemetry(`127.0.0.1:${port}`) });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    health = await startHealthServer({ address: '127.0.0.1:0', workerState: () => state() });
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  });

  afterAll(async () => {
    await health?.close();
    await connection?.close();
  });

  it('bind to 127.0.0.1 and answer 404 elsewhere', async () => {
    expect(health!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${health!.url}/`)).status).toBe(404);
    expect((await fetch(`${health!.url}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  it('are live throughout, and ready only while the worker runs: not before, not while draining, not after', async () => {
    expect(await probe(`${health!.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok', worker: 'STARTING' } });
    expect((await probe(`${health!.url}/readyz`)).status).toBe(503);

    const worker = await createWorker({
      connection: connection!,
      namespace: inject('temporalNamespace'),
      taskQueue: uniqueTaskQueue(import.meta.filename),
      activities: {},
      workflows: { workflowBundle: workflowBundle() },
      shutdownGraceTime: '1s',
    });
    state = () => worker.getState();
    expect((await probe(`${health!.url}/readyz`)).body).toEqual({ status: 'unavailable', worker: 'INITIALIZED' });

    const running = worker.run();
    try {
      const ready = await eventually(
        () => probe(`${health!.url}/readyz`),
        (r) => r.status === 200,
      );
      expect(ready).toEqual({ status: 200, body: { status: 'ok', worker: 'RUNNING' } });
      expect((await probe(`${health!.url}/healthz`)).status).toBe(200);

      // The SDK's own series, e.g. its poll counters and the worker gauge, labelled with our task queue.
      const metrics = await eventually(
        async () => (await fetch(metricsUrl)).text(),
        (text) => /^temporal_\w+\{[^}]*task_queue=/m.test(text),
      );
      expect(metrics).toMatch(/^temporal_\w+\{[^}]*task_queue="test-worker-endpoints-/m);

      worker.shutdown();
      const draining = await probe(`${health!.url}/readyz`);
      expect(draining.status).toBe(503);
      expect(draining.body.worker).not.toBe('RUNNING');
      expect((await probe(`${health!.url}/healthz`)).status).toBe(200);
    } finally {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    }
    expect(await probe(`${health!.url}/readyz`)).toEqual({
      status: 503,
      body: { status: 'unavailable', worker: 'STOPPED' },
    });
  });
});
