/**
 * A local HTTP server that records the webhook deliveries it receives, for the sandbox's webhook tests. It answers
 * `status` (200 by default; change it between events) and is closed after each test.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface Delivery {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body as JSON. */
  json<T = Record<string, unknown>>(): T;
}

export interface Receiver {
  readonly url: string;
  readonly deliveries: Delivery[];
  status: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const receiver = { status: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      deliveries.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json: <T>() => JSON.parse(body) as T,
      });
      res.writeHead(receiver.status, { 'content-type': 'text/plain' });
      res.end(receiver.status < 400 ? 'ok' : 'receiver failed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Receivers started through the returned function are closed after each test. */
export function receiversPerTest(): () => Promise<Receiver> {
  const open: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  return async () => {
    const r = await startReceiver();
    open.push(r);
    return r;
  };
}

/** A port nothing listens on (a server was bound to it and closed). */
export async function closedPort(): Promise<number> {
  const r = await startReceiver();
  const port = Number(new URL(r.url).port);
  await r.close();
  return port;
}
