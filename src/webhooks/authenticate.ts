/** The receiver's secrets, checked in constant time before anything of a delivery is read. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Secret } from '../config/secret.js';

/** A secret as the receiver holds it: the config's Secret, or anything else that reveals its value only on request. */
export type WebhookSecret = Pick<Secret, 'reveal'>;

/**
 * Whether `given` is the secret. Both sides are hashed first, so the comparison takes the same time whatever the
 * lengths and wherever they differ; no secret configured refuses everything.
 */
export function sameSecret(given: string | undefined, secret: WebhookSecret | undefined): boolean {
  if (given === undefined || secret === undefined) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret.reveal()));
}

/** GitLab sends the hook's token as `X-Gitlab-Token` (reference §1.2). */
export function gitlabAuthenticated(headers: IncomingHttpHeaders, secret: WebhookSecret | undefined): boolean {
  return sameSecret(single(headers['x-gitlab-token']), secret);
}

/**
 * Jenkins: the password of HTTP Basic auth (the Notification plugin turns the endpoint URL's userinfo into it), or
 * `X-Shepherd-Token` (a Jenkinsfile `post` step). Either one matching is enough.
 */
export function jenkinsAuthenticated(headers: IncomingHttpHeaders, secret: WebhookSecret | undefined): boolean {
  const header = sameSecret(single(headers['x-shepherd-token']), secret);
  const basic = sameSecret(basicPassword(headers.authorization), secret);
  return header || basic;
}

function basicPassword(authorization: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
