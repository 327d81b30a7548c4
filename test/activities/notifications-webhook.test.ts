import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotificationActivities } from '../../activities/notifications.js';
import { createWebhookClient } from '../../src/clients/notifications/index.js';
import { Secret } from '../../src/config/secret.js';
import type { NotifyEventInput } from '../../src/domain/activities.js';

interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

/** A Slack-style incoming webhook on 127.0.0.1: answers each POST with the next scripted status (200 when none left). */
async function startReceiver(
  script: {
    status: number;
    body?: string | ((req: IncomingMessage) => string);
    headers?: Record<string, string>;
  }[] = [],
) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'),
      });
      const next = script.shift() ?? { status: 200, body: 'ok' };
      res.writeHead(next.status, { 'content-type': 'text/plain', ...next.headers });
      res.end(typeof next.body === 'function' ? next.body(req) : (next.body ?? ''));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const path = `/services/T0SHEPHERD/B0NOTIFY/${randomBytes(12).toString('hex')}`;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    path,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const EVENT: NotifyEventInput = {
  eventId: 'promote-example-app/run-1/3',
  event: 'promotion-failed',
  appName: 'example-app',
  env: 'stage',
  imageTag: '1.0.37-SNAPSHOT-a1b2c3d',
  text: 'Promotion of example-app 1.0.37-SNAPSHOT-a1b2c3d to stage failed: CrashLoopBackOff',
  links: ['https://gitlab.example/p2c/k8s-deployments/-/merge_requests/7'],
};

function run(acts: ReturnType<typeof createNotificationActivities>, input: NotifyEventInput = EVENT) {
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(acts.notifyEvent, input);
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function expectNoUrl(url: string, path: string, ...values: unknown[]): void {
  for (const v of values) {
    const text =
      v instanceof Error
        ? JSON.stringify({ message: v.message, stack: v.stack, details: (v as ApplicationFailure).details })
        : JSON.stringify(v);
    expect(text).not.toContain(url);
    expect(text).not.toContain(path);
  }
}

describe('notifyEvent through a Slack-compatible incoming webhook', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('posts the event as JSON with its text, links and eventId, and never returns the webhook URL', async () => {
    receiver = await startReceiver();
    const acts = createNotificationActivities({
      client: createWebhookClient({ webhookUrl: new Secret(receiver.url) }),
    });
    const result = await run(acts);
    expect(result).toEqual({ attempt: 1, delivered: true });
    expect(receiver.received).toEqual([
      {
        method: 'POST',
        path: receiver.path,
        contentType: 'application/json',
        body: {
          text: `${EVENT.text}\n${EVENT.links![0]}`,
          shepherd: {
            eventId: EVENT.eventId,
            event: 'promotion-failed',
            appName: 'example-app',
            env: 'stage',
            imageTag: EVENT.imageTag,
            links: EVENT.links,
          },
        },
      },
    ]);
    expectNoUrl(receiver.url, receiver.path, result);
  });

  it('reports delivered: false and posts nothing when no webhook is configured', async () => {
    const result = await run(createNotificationActivities({ client: undefined }));
    expect(result).toEqual({ attempt: 1, delivered: false });
  });

  it('a 5xx or 429 answer is a retryable TransientError that honours Retry-After and does not name the URL', async () => {
    receiver = await startReceiver([
      { status: 503, body: 'upstream down' },
      { status: 429, body: 'rate_limited', headers: { 'retry-after': '7' } },
    ]);
    const acts = createNotificationActivities({
      client: createWebhookClient({ webhookUrl: new Secret(receiver.url) }),
    });
    const unavailable = await failureOf(run(acts));
    expect(unavailable.type).toBe('TransientError');
    expect(unavailable.nonRetryable).toBe(false);
    expect(unavailable.details?.[0]).toEqual({ system: 'notifications', status: 503 });
    expect(unavailable.message).toContain('SHEPHERD_NOTIFY_WEBHOOK_URL');
    const throttled = await failureOf(run(acts));
    expect(throttled.details?.[0]).toEqual({ system: 'notifications', status: 429, retryAfterSeconds: 7 });
    expect(throttled.nextRetryDelay).toBeDefined();
    expect(await run(acts)).toMatchObject({ delivered: true });
    expectNoUrl(receiver.url, receiver.path, unavailable, throttled);
  });

  it('an unreachable webhook is a TransientError that does not name the URL', async () => {
    receiver = await startReceiver();
    const { url, path } = receiver;
    await receiver.close();
    receiver = undefined;
    const acts = createNotificationActivities({ client: createWebhookClient({ webhookUrl: new Secret(url) }) });
    const failure = await failureOf(run(acts));
    expect(failure.type).toBe('TransientError');
    expect(failure.details?.[0]).toEqual({ system: 'notifications' });
    expectNoUrl(url, path, failure);
  });

  it('a refusal (400) fails for good, without echoing the URL even when the receiver does', async () => {
    receiver = await startReceiver([
      { status: 400, body: (req) => `invalid_payload for ${req.url} (http://${req.headers.host}${req.url})` },
    ]);
    const acts = createNotificationActivities({
      client: createWebhookClient({ webhookUrl: new Secret(receiver.url) }),
    });
    const failure = await failureOf(run(acts));
    expect(failure.type).toBe('WebhookRejectedError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('invalid_payload');
    expectNoUrl(receiver.url, receiver.path, failure);
  });

  it('refuses an event without text before posting anything', async () => {
    receiver = await startReceiver();
    const acts = createNotificationActivities({
      client: createWebhookClient({ webhookUrl: new Secret(receiver.url) }),
    });
    const failure = await failureOf(run(acts, { ...EVENT, text: ' ' }));
    expect(failure.type).toBe('ValidationError');
    expect(failure.details?.[0]).toEqual({ field: 'text', rule: 'must not be empty' });
    expect(receiver.received).toEqual([]);
  });
});
