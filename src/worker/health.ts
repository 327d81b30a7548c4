/**
 * The worker's health endpoints, for the kubelet's probes (deploy/kubernetes) and anyone who curls them:
 *
 * - `GET /healthz` — liveness: 200 while the process's event loop answers and the worker has not failed. A blocked
 *   event loop cannot answer at all, and the probe's timeout turns that into a failure.
 * - `GET /readyz` — readiness: 200 only while the Temporal worker is `RUNNING` (polling its task queue); 503 before
 *   it starts, while it drains after SIGTERM (`STOPPING`, `DRAINING`, …) and after it stopped.
 *
 * Both answer a small JSON body `{ status, worker }` and never anything from the configuration.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { State } from '@temporalio/worker';
import { histogramBuckets } from '../observability/metrics.js';

export interface HealthServerOptions {
  /** `host:port`, as SHEPHERD_HEALTH_ADDRESS gives it (port 0: any free port). */
  readonly address: string;
  /** The worker's state now; undefined until the worker exists. */
  readonly workerState: () => State | undefined;
}

export interface HealthServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

const isAlive = (state: State | undefined): boolean => state !== 'FAILED';
const isReady = (state: State | undefined): boolean => state === 'RUNNING';

/** Starts the endpoints. The server does not keep the process alive: the worker does, and exit is its business. */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const colon = opts.address.lastIndexOf(':');
  const host = opts.address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(opts.address.slice(colon + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const healthy = path === '/healthz' ? isAlive : path === '/readyz' ? isReady : undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (!healthy) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /readyz\n');
    } else {
      const state = opts.workerState();
      const ok = healthy(state);
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(`${JSON.stringify({ status: ok ? 'ok' : 'unavailable', worker: state ?? 'STARTING' })}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The `Runtime.install` telemetry options that export, at `bindAddress`/metrics, the SDK's metrics and Shepherd's
 * own (src/observability/metrics.ts), whose histograms get buckets sized for seconds to days.
 */
export function prometheusTelemetry(bindAddress: string): {
  telemetryOptions: {
    metrics: { prometheus: { bindAddress: string; histogramBucketOverrides: Record<string, number[]> } };
  };
} {
  return {
    telemetryOptions: { metrics: { prometheus: { bindAddress, histogramBucketOverrides: histogramBuckets() } } },
  };
}
