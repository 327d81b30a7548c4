/**
 * Posts messages to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, …): `POST` of a JSON
 * object whose `text` is the message; other fields are ignored by receivers that do not know them.
 *
 * The webhook URL is itself the credential, so it is held as a Secret and never appears in a message or error.
 */
import type { CompanyCa } from '../../config/company-ca.js';
import type { Secret } from '../../config/secret.js';
import { AuthenticationError, TransientError } from '../../domain/errors.js';
import { certificateError, certificateFailureOf, fetchDispatcher } from '../trust.js';

export interface WebhookMessage {
  /** The message as people read it. */
  readonly text: string;
  /** Machine-readable facts for receivers that want them (e.g. `eventId` to drop duplicates). */
  readonly [field: string]: unknown;
}

/** What the notification activities need. A hand-written fake can implement it too. */
export interface NotificationClient {
  /** Posts one message. TransientError on 5xx, 429 and network failures; WebhookRejectedError on other refusals. */
  post(message: WebhookMessage, signal?: AbortSignal): Promise<void>;
}

export interface WebhookClientOptions {
  readonly webhookUrl: Secret;
  /** Named in errors instead of the URL; default `SHEPHERD_NOTIFY_WEBHOOK_URL`. */
  readonly credentialVariable?: string;
  /** Per request; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** A company CA (SHEPHERD_CA_FILE) to trust besides the default roots, for a receiver inside the company. */
  readonly companyCa?: CompanyCa | undefined;
}

/** The receiver refused the message for good (400 invalid payload, 404 unknown hook, …). */
export class WebhookRejectedError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'WebhookRejectedError';
  }
}

export function createWebhookClient(opts: WebhookClientOptions): NotificationClient {
  const variable = opts.credentialVariable ?? 'SHEPHERD_NOTIFY_WEBHOOK_URL';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const dispatcher = fetchDispatcher(opts.companyCa);
  const url = opts.webhookUrl.reveal();
  // Receivers sometimes echo the request line; make sure the URL never travels on in a message.
  const parsed = new URL(url);
  const secretParts = [url, `${parsed.pathname}${parsed.search}`].filter((part) => part.length > 1);
  const scrub = (text: string): string =>
    secretParts.reduce((t, part) => t.split(part).join('[webhook]'), text).slice(0, 200);

  return {
    async post(message, signal) {
      const timeout = AbortSignal.timeout(timeoutMs);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(message),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          ...(dispatcher ? { dispatcher } : {}),
        } as RequestInit);
      } catch (err) {
        if (signal?.aborted) throw err;
        const certificate = certificateFailureOf(err);
        if (certificate) throw certificateError('notifications', certificate, 'POST message', variable);
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : 'connection failed';
        throw new TransientError(`notification webhook (${variable}) unreachable: ${why}`, { system: 'notifications' });
      }
      if (res.ok) {
        await res.body?.cancel();
        return;
      }
      const body = scrub(await res.text().catch(() => ''));
      const detail = body.trim() ? `: ${body.trim()}` : '';
      if (res.status === 429 || res.status >= 500) {
        const after = Number(res.headers.get('retry-after'));
        throw new TransientError(`notification webhook (${variable}) answered HTTP ${res.status}${detail}`, {
          system: 'notifications',
          status: res.status,
          ...(Number.isFinite(after) && after >= 0 && res.headers.has('retry-after')
            ? { retryAfterSeconds: after }
            : {}),
        });
      }
      if (res.status === 401 || res.status === 403)
        throw new AuthenticationError({ system: 'notifications', status: res.status, credentialVariable: variable });
      throw new WebhookRejectedError(
        `notification webhook (${variable}) refused the message with HTTP ${res.status}${detail}`,
        res.status,
      );
    },
  };
}
