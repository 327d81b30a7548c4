/**
 * A proxy on 127.0.0.1 in front of an HTTP server that tells about every request it passes on; responses and
 * streams (Kubernetes watches) pass through as they come. Tests count requests with it at the HTTP level, whatever
 * the client. Always `stop()` it.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `opts.headers` are set on every request passed on: with `authorization`, the proxy authenticates its clients'
 * requests as `kubectl proxy` does (kubectl itself sends no credentials to a plain-http server).
 */
export async function startRecordingProxy(
  target: string,
  onRequest: (method: string, path: string) => void,
  opts: { headers?: Readonly<Record<string, string>> } = {},
): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    onRequest(req.method ?? 'GET', req.url ?? '/');
    const headers = { ...req.headers, ...opts.headers };
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
