/**
 * The HTTP kernel every simulated system is served through.
 *
 * Real GitLab, Jenkins and Kubernetes route on the raw request path: an encoded `/` (`%2F`) inside a project id,
 * file path or branch name stays part of one segment. The router therefore splits the raw path on `/` first and
 * decodes each segment afterwards. Query strings accept `+` as a space (Kubernetes label selectors).
 *
 * Every request first passes the fault engine of the system it belongs to, so latency, error statuses and outages
 * can be injected per system and endpoint without the models knowing.
 *
 * With `tls` the server speaks HTTPS only (an installation behind a company CA): its URL and every link it renders
 * start with `https://`.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { FaultEngine, SystemName } from './faults.js';
import type { RequestCounter } from './measure.js';

/** A parsed request as handlers see it. */
export interface SandboxRequest {
  readonly method: string;
  /** The path exactly as sent, still percent-encoded. */
  readonly rawPath: string;
  /** The path split on `/` and then decoded, segment by segment. */
  readonly segments: readonly string[];
  /** Route parameters, decoded. A `*` pattern puts the remaining decoded segments in `rest`. */
  params: Record<string, string>;
  rest: readonly string[];
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** `http://127.0.0.1:<port>` (`https://` when the server serves TLS) of the server that received the request. */
  readonly baseUrl: string;
  /** The body parsed as JSON, or undefined when it is empty; throws `BadRequest` when it is not JSON. */
  json<T = unknown>(): T | undefined;
  /** The body parsed as `application/x-www-form-urlencoded`. */
  form(): URLSearchParams;
  /** Query parameters merged with a form or JSON body, as Rails/Grape and Stapler do. */
  input(): Record<string, unknown>;
}

/** What a handler answers. `stream` takes over the raw response (chunked watch streams). */
export interface SandboxResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  stream?: (res: ServerResponse, onClose: (fn: () => void) => void) => void;
}

export type Handler = (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

/** Thrown by `req.json()` on a malformed body; servers turn it into their own 400 shape. */
export class BadRequest extends Error {}

export function json(status: number, body: unknown, headers: Record<string, string | string[]> = {}): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

export function text(
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Record<string, string | string[]> = {},
): SandboxResponse {
  return { status, headers: { 'content-type': contentType, ...headers }, body };
}

export function empty(status: number, headers: Record<string, string | string[]> = {}): SandboxResponse {
  return { status, headers };
}

interface Route {
  method: string;
  pattern: string;
  parts: string[];
  handler: Handler;
}

/**
 * A small router over raw path segments. Patterns look like `/api/v4/projects/:id/merge_requests/:iid`;
 * a trailing `*` matches any remaining segments (Jenkins' nested `job/a/job/b` paths).
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), pattern, parts: splitRaw(pattern), handler });
    return this;
  }

  /** Finds the handler for a request; `undefined` when no route matches the path, `'method'` when only the method differs. */
  match(
    method: string,
    rawSegments: string[],
  ): { handler: Handler; pattern: string; params: Record<string, string>; rest: string[] } | 'method' | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = matchParts(route.parts, rawSegments);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
      return { handler: route.handler, pattern: route.pattern, ...m };
    }
    return pathMatched ? 'method' : undefined;
  }
}

function splitRaw(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function matchParts(pattern: string[], raw: string[]): { params: Record<string, string>; rest: string[] } | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*') return { params, rest: raw.slice(i).map(decodeSegment) };
    const seg = raw[i];
    if (seg === undefined) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = decodeSegment(seg);
    else if (p !== seg) return undefined;
  }
  return raw.length === pattern.length ? { params, rest: [] } : undefined;
}

export interface SandboxServerOptions {
  system: SystemName;
  faults: FaultEngine;
  /** Called for requests no route matches; each system answers 404 in its own shape. */
  notFound: Handler;
  router: Router;
  /** Authentication check run before routing; return a response to refuse the request. */
  authenticate?: (req: SandboxRequest) => SandboxResponse | undefined;
  /** Fixed port (used to come back on the same port after an outage); default: a free port. */
  port?: number;
  /** Runs the matched handler; a system wraps it to give the work it causes the request's context. */
  aroundHandler?: (req: SandboxRequest, run: () => Promise<SandboxResponse>) => Promise<SandboxResponse>;
  /** Counts every request received, faulted and refused ones included, per endpoint. */
  requests?: RequestCounter;
  /**
   * Names the endpoint of a request for the counts; default `METHOD <matched route pattern>` (the raw path when no
   * route matches). Systems whose routes are catch-alls (Jenkins' `/job/*`) or whose reads include watches
   * (Kubernetes) refine it.
   */
  endpointOf?: (
    req: SandboxRequest,
    route: { pattern: string; params: Record<string, string>; rest: string[] } | undefined,
  ) => string;
  /** Serve HTTPS with this certificate chain and key (PEM) instead of HTTP. */
  tls?: ServerTls;
}

/** A TLS server's certificate chain (leaf first) and private key, PEM. */
export interface ServerTls {
  readonly cert: string;
  readonly key: string;
}

/** `http` or `https` by whether the server has a certificate. */
export function schemeOf(tls: ServerTls | undefined): 'http' | 'https' {
  return tls ? 'https' : 'http';
}

/** An HTTP server, or an HTTPS one with `tls`, that hands every request to `handler`. */
export function createPlainOrTlsServer(
  tls: ServerTls | undefined,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  return tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler);
}

/** A running simulated system on 127.0.0.1. */
export interface SandboxServer {
  readonly system: SystemName;
  readonly url: string;
  readonly port: number;
  /** Takes the system off the network (connections refused) or brings it back on the same port. */
  setDown(down: boolean): Promise<void>;
  readonly isDown: boolean;
  close(): Promise<void>;
}

export async function startSandboxServer(opts: SandboxServerOptions): Promise<SandboxServer> {
  const sockets = new Set<Socket>();
  const closers = new Set<() => void>();
  let server: Server | undefined;
  let port = opts.port ?? 0;
  let down = false;
  let closed = false;

  const listen = async (): Promise<void> => {
    const s = createPlainOrTlsServer(opts.tls, (req, res) => {
      void handle(req, res);
    });
    s.keepAliveTimeout = 5_000;
    // A TLS server's `connection` event gives the TCP socket too, so an outage destroys it the same way.
    s.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };

  const unlisten = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const close of closers) close();
    closers.clear();
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  const handle = async (req: import('node:http').IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q >= 0 ? url.slice(0, q) : url;
    const rawQuery = q >= 0 ? url.slice(q + 1) : '';
    const rawSegments = splitRaw(rawPath);
    const method = (req.method ?? 'GET').toUpperCase();
    const baseUrl = `${schemeOf(opts.tls)}://127.0.0.1:${port}`;
    const request: SandboxRequest = {
      method,
      rawPath,
      segments: rawSegments.map(decodeSegment),
      params: {},
      rest: [],
      query: new URLSearchParams(rawQuery),
      headers: req.headers,
      body,
      baseUrl,
      json<T>() {
        if (body.length === 0) return undefined;
        try {
          return JSON.parse(body.toString('utf8')) as T;
        } catch {
          throw new BadRequest('body is not valid JSON');
        }
      },
      form() {
        return new URLSearchParams(body.toString('utf8'));
      },
      input() {
        const out: Record<string, unknown> = Object.fromEntries(this.query.entries());
        const type = String(req.headers['content-type'] ?? '');
        if (body.length > 0 && type.includes('json')) Object.assign(out, this.json<Record<string, unknown>>() ?? {});
        else if (body.length > 0 && type.includes('x-www-form-urlencoded'))
          Object.assign(out, Object.fromEntries(this.form().entries()));
        return out;
      },
    };

    if (opts.requests) {
      const matched = opts.router.match(method, rawSegments);
      const route = typeof matched === 'object' ? matched : undefined;
      opts.requests.request(opts.system, opts.endpointOf?.(request, route) ?? `${method} ${route?.pattern ?? rawPath}`);
    }

    let response: SandboxResponse;
    try {
      const fault = opts.faults.httpAction(opts.system, method, rawPath);
      if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
      if (fault?.reset && !fault.afterHandling) {
        req.socket.destroy();
        return;
      }
      if (fault?.response && !fault.afterHandling) {
        response = fault.response;
      } else {
        const refused = opts.authenticate?.(request);
        if (refused) response = refused;
        else {
          const m = opts.router.match(method, rawSegments);
          if (m === undefined || m === 'method') response = await opts.notFound(request);
          else {
            request.params = m.params;
            request.rest = m.rest;
            const run = async (): Promise<SandboxResponse> => m.handler(request);
            response = await (opts.aroundHandler ? opts.aroundHandler(request, run) : run());
          }
        }
        if (fault?.afterHandling) {
          // The work is done; the answer never reaches the caller.
          if (fault.reset) {
            req.socket.destroy();
            return;
          }
          if (fault.response) response = fault.response;
        }
      }
    } catch (err) {
      if (err instanceof BadRequest) response = json(400, { error: err.message });
      else response = json(500, { message: `500 Internal Server Error: ${(err as Error).message}` });
    }
    if (res.destroyed) return;
    if (response.stream) {
      res.writeHead(response.status, response.headers);
      response.stream(res, (fn) => {
        closers.add(fn);
        res.on('close', () => {
          closers.delete(fn);
          fn();
        });
      });
      return;
    }
    res.writeHead(response.status, response.headers);
    res.end(method === 'HEAD' ? undefined : response.body);
  };

  await listen();

  return {
    system: opts.system,
    get url() {
      return `${schemeOf(opts.tls)}://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get isDown() {
      return down;
    },
    async setDown(value: boolean) {
      if (closed || value === down) return;
      down = value;
      if (value) await unlisten();
      else await listen();
    },
    async close() {
      if (closed) return;
      closed = true;
      await unlisten();
    },
  };
}
