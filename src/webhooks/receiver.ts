/**
 * The webhook receiver: an HTTP server that turns GitLab and Jenkins deliveries into `wake` signals for the runs
 * they concern (src/webhooks/routing.ts), and answers
 *
 * - `POST /webhooks/gitlab` — project hooks; the token in `X-Gitlab-Token`. Push, Merge Request and Pipeline Hooks
 *   are acted on; every other `X-Gitlab-Event` is answered 204 without its body being read.
 * - `POST /webhooks/jenkins` — Notification plugin JSON; the secret as Basic password or `X-Shepherd-Token`.
 * - `GET /metrics` — the receiver's counters (Prometheus text); `GET /healthz` — 200 while it listens.
 *
 * Each delivery is decided in this order, and each decision is counted and logged: not authenticated → 401 (nothing
 * read, nothing else done); body over the limit → 413 (reading stops at the limit and the connection is closed);
 * not JSON, or without the fields routing needs → 400; a replay within the window → 200, not signalled again;
 * concerning no run of the pipeline → 200 ignored; otherwise the runs are signalled → 200, or 502 when Temporal
 * could not be told (the delivery may then be resent). Receivers keep no state that others need, so any number
 * of them may run behind one URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import type { PipelineLayout } from '../domain/pipeline.js';
import type { WakeHint } from '../domain/wake.js';
import { WebhookMetrics, type WebhookDeliveryOutcome } from '../observability/metrics.js';
import { gitlabAuthenticated, jenkinsAuthenticated, type WebhookSecret } from './authenticate.js';
import { gitlabEventName, parseGitLabEvent, parseJenkinsEvent, type WebhookEvent } from './events.js';
import { ReplayWindow } from './replay-window.js';
import { routeEvent } from './routing.js';
import { RunWaker, type WakeResult } from './wake-runs.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookReceiverOptions {
  /** `host:port` to bind (port 0: a free port). */
  readonly address: string;
  /** The Temporal client the signals go through. */
  readonly client: Client;
  /** The installation's task queue: it names the validation lock that finds an app's running validation. */
  readonly taskQueue: string;
  /** The pipelines whose runs events are routed to (one layout per app). */
  readonly layouts: readonly PipelineLayout[];
  readonly gitlabToken: WebhookSecret | undefined;
  readonly jenkinsToken: WebhookSecret | undefined;
  readonly maxBodyBytes?: number;
  readonly logger: Logger;
  /** Where the counters go; a new set by default. Give the worker's to have them on its metrics endpoint too. */
  readonly metrics?: WebhookMetrics;
  /** How long a delivery's key is remembered against replays (default 10 minutes). */
  readonly replayWindowMs?: number;
}

export interface WebhookReceiver {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly metrics: WebhookMetrics;
  /** Stops accepting connections and waits for the deliveries in progress. */
  close(): Promise<void>;
}

type Source = 'gitlab' | 'jenkins';

interface Answer {
  readonly status: number;
  readonly outcome: WebhookDeliveryOutcome | 'failed';
  readonly body?: Record<string, unknown>;
  readonly close?: boolean;
}

class BodyTooLargeError extends Error {}

/** Starts the receiver; resolves once it listens. */
export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const metrics = opts.metrics ?? new WebhookMetrics();
  const replays = new ReplayWindow(opts.replayWindowMs);
  const waker = new RunWaker(opts.client, opts.taskQueue);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.logger;

  async function deliver(source: Source, req: IncomingMessage): Promise<Answer & { event: string }> {
    const gitlabEvent = source === 'gitlab' ? gitlabEventName(single(req.headers['x-gitlab-event'])) : 'build';
    const event: string = gitlabEvent;
    const authenticated =
      source === 'gitlab'
        ? gitlabAuthenticated(req.headers, opts.gitlabToken)
        : jenkinsAuthenticated(req.headers, opts.jenkinsToken);
    if (!authenticated) return { event, status: 401, outcome: 'unauthenticated', close: true };
    if (gitlabEvent === 'other') return { event, status: 204, outcome: 'ignored', close: true };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) return { event, status: 413, outcome: 'too_large', close: true };

    // GitLab names a delivery in its headers: a replay is known before the body is read.
    const headerKey = source === 'gitlab' ? gitlabDeliveryKey(req, event) : undefined;
    if (headerKey && replays.claim(headerKey)) return { event, status: 200, outcome: 'replayed', close: true };

    let parsed: WebhookEvent | undefined;
    try {
      const text = await readBody(req, maxBody);
      const json: unknown = JSON.parse(text);
      parsed = gitlabEvent === 'build' ? parseJenkinsEvent(json) : parseGitLabEvent(gitlabEvent, json);
    } catch (err) {
      if (headerKey) replays.release(headerKey);
      if (err instanceof BodyTooLargeError) return { event, status: 413, outcome: 'too_large', close: true };
      return { event, status: 400, outcome: 'malformed' };
    }
    if (!parsed) {
      if (headerKey) replays.release(headerKey);
      return { event, status: 400, outcome: 'malformed' };
    }
    // Jenkins keeps no delivery id: a build's phase is what it announces once. QUEUED comes just before STARTED.
    if (parsed.source === 'jenkins' && parsed.phase === 'QUEUED')
      return { event, status: 200, outcome: 'ignored', body: { reason: 'queued: started follows' } };
    const bodyKey =
      parsed.source === 'jenkins' ? `jenkins:${parsed.job.join('/')}#${parsed.number}:${parsed.phase}` : undefined;
    if (bodyKey && replays.claim(bodyKey)) return { event, status: 200, outcome: 'replayed' };
    const targets = routeEvent(parsed, opts.layouts);
    if (targets.length === 0)
      return { event, status: 200, outcome: 'ignored', body: { reason: 'concerns no run of the pipeline' } };

    const hint: WakeHint = { system: source, event, subject: parsed.subject, receivedAt: new Date().toISOString() };
    const results = await Promise.all(targets.map((t) => waker.wake(t, hint)));
    for (const r of results) report(source, event, parsed.subject, r);
    const failed = results.filter((r) => r.outcome === 'failed').length;
    // Temporal could not be told: a resend of this delivery must be acted on, not taken for a replay.
    if (failed > 0) for (const key of [headerKey, bodyKey]) if (key) replays.release(key);
    const count = (o: string): number => results.filter((r) => r.outcome === o).length;
    return {
      event,
      status: failed > 0 ? 502 : 200,
      outcome: failed > 0 ? 'failed' : 'accepted',
      body: { signalled: count('signalled'), notRunning: count('not_running'), failed },
    };
  }

  function report(source: Source, event: string, subject: string, r: WakeResult): void {
    metrics.signal({ source, event }, r.outcome);
    const fields = { source, event, subject, workflowId: r.workflowId, outcome: r.outcome };
    if (r.outcome === 'failed') log.warn('webhook: could not signal the run', { ...fields, error: r.error });
    else if (r.outcome === 'signalled') log.info('webhook: woke a run', fields);
    else log.info('webhook: the run it concerns is not running', fields);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { allow: 'GET, HEAD' });
      if (path === '/healthz') return send(res, 200, {}, '{"status":"ok"}\n', 'application/json');
      return send(res, 200, {}, metrics.render(), 'text/plain; version=0.0.4');
    }
    const source: Source | undefined =
      path === '/webhooks/gitlab' ? 'gitlab' : path === '/webhooks/jenkins' ? 'jenkins' : undefined;
    if (!source) return send(res, 404, { connection: 'close' }, 'not found\n', 'text/plain', req);
    if (req.method !== 'POST') return send(res, 405, { allow: 'POST', connection: 'close' }, '', 'text/plain', req);
    const answer = await deliver(source, req);
    // `failed` is a signal outcome; the delivery itself was accepted and counted as such.
    metrics.delivery({ source, event: answer.event }, answer.outcome === 'failed' ? 'accepted' : answer.outcome);
    const fields = { source, event: answer.event, outcome: answer.outcome, status: answer.status, ...answer.body };
    if (answer.outcome === 'failed') log.warn('webhook: delivery accepted, but a run could not be signalled', fields);
    else if (answer.status >= 400) log.warn('webhook: delivery rejected', fields);
    else log.info(`webhook: delivery ${answer.outcome}`, fields);
    const body = `${JSON.stringify({ outcome: answer.outcome, ...answer.body })}\n`;
    send(
      res,
      answer.status,
      answer.close ? { connection: 'close' } : {},
      body,
      'application/json',
      answer.close ? req : undefined,
    );
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('webhook: the receiver failed on a request', { error: err });
      if (!res.headersSent) send(res, 500, { connection: 'close' }, '', 'text/plain', req);
    });
  });
  const colon = opts.address.lastIndexOf(':');
  const host = opts.address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(opts.address.slice(colon + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const url = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  log.info('webhook receiver listening', { url });
  return {
    url,
    metrics,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/**
 * Writes the answer. With `unread` (a request whose body was not read, or not to the end), the connection is
 * closed once the answer is out, so that the rest of the body is never read.
 */
function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body = '',
  type = 'text/plain',
  unread?: IncomingMessage,
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
  if (unread && !unread.complete) res.once('finish', () => hangUp(unread.socket));
}

/**
 * Closes a connection whose request body is left unread: no more of it is read (the socket is paused, so the
 * sender's window fills and it stops), our side is shut with a FIN first so that the sender reads the answer
 * before it sees the connection go, and the socket is destroyed a second later if the sender has not hung up.
 */
function hangUp(socket: Socket): void {
  socket.pause();
  socket.end();
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** The body as text, up to `limit` bytes; rejects with BodyTooLargeError (and stops reading) past it. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/** `Idempotency-Key` (kept by GitLab's resend), else `X-Gitlab-Event-UUID` with the event; undefined without both. */
function gitlabDeliveryKey(req: IncomingMessage, event: string): string | undefined {
  const idempotency = single(req.headers['idempotency-key']);
  if (idempotency) return `gitlab:idempotency:${idempotency}`;
  const uuid = single(req.headers['x-gitlab-event-uuid']);
  return uuid ? `gitlab:event:${uuid}:${event}` : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
