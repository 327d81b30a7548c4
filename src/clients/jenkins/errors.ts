/**
 * How Jenkins' answers and transport failures become Shepherd's typed errors. Messages name the operation, the job
 * and the configuration variable to check, never a credential's value, and never copy a vendor error object (its
 * request headers carry the Authorization header).
 */
import {
  AuthenticationError,
  NotFoundError,
  TransientError,
  ValidationError,
  type ErrorFacts,
  type ShepherdError,
} from '../../domain/errors.js';

/** The configuration variables a message points at; the defaults are Shepherd's variable names. */
export interface JenkinsVariableNames {
  readonly url: string;
  readonly user: string;
  readonly token: string;
}

export const DEFAULT_VARIABLE_NAMES: JenkinsVariableNames = {
  url: 'JENKINS_URL_EXTERNAL',
  user: 'JENKINS_USER',
  token: 'JENKINS_TOKEN',
};

/** What a request was about, for a 404. */
export type RequestTarget = { readonly kind: 'job' | 'build'; readonly name: string } | undefined;

/** A non-2xx answer, independent of the library that received it. */
export interface FailedAnswer {
  readonly status: number;
  header(name: string): string | undefined;
  /** A short text from the body or `X-Error`, when there is one. */
  readonly detail?: string;
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Maps a non-2xx answer of operation `op` (e.g. `GET build`) to our error. */
export function errorForAnswer(
  answer: FailedAnswer,
  op: string,
  target: RequestTarget,
  vars: JenkinsVariableNames,
): ShepherdError {
  const { status } = answer;
  if (status === 401)
    return new AuthenticationError({ system: 'jenkins', status: 401, credentialVariable: vars.token });
  if (status === 403) {
    // Jenkins names the missing permission when the user is known but not allowed; otherwise the credential is bad
    // (or, with password auth, the crumb was refused).
    const permission = answer.header('x-required-permission');
    return new AuthenticationError({
      system: 'jenkins',
      status: 403,
      credentialVariable: permission ? vars.user : vars.token,
    });
  }
  if (status === 404 && target) return new NotFoundError({ system: 'jenkins', kind: target.kind, name: target.name });
  if (status === 429 || status >= 500) {
    const retryAfter = retryAfterSeconds(answer.header('retry-after'));
    const facts: ErrorFacts['TransientError'] = {
      system: 'jenkins',
      status,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    };
    return new TransientError(
      `Jenkins answered ${op} with HTTP ${status}${answer.detail ? `: ${answer.detail}` : ''}`,
      facts,
    );
  }
  return new ValidationError(
    `jenkins ${op}`,
    `was refused by Jenkins with HTTP ${status}${answer.detail ? `: ${answer.detail}` : ''}`,
  );
}

/** Transport failures (refused, reset, DNS, timeout): Jenkins may be back soon, so they are retryable. */
export function errorForTransport(
  op: string,
  reason: { readonly code?: string; readonly timedOutAfterMs?: number },
): TransientError {
  const why =
    reason.timedOutAfterMs !== undefined
      ? `did not answer within ${reason.timedOutAfterMs} ms`
      : `could not be reached (${reason.code ?? 'network error'})`;
  return new TransientError(`Jenkins ${why} on ${op}`, { system: 'jenkins' });
}

/**
 * A 2xx answer that is not the JSON we expect: typically an HTML login page of a proxy in front of Jenkins, or a base
 * URL that is not the Jenkins root. A configuration problem a retry cannot fix.
 */
export function unexpectedAnswer(op: string, what: string, vars: JenkinsVariableNames): ValidationError {
  return new ValidationError(
    vars.url,
    `must be the Jenkins root URL: ${op} answered ${what} where Jenkins JSON was expected`,
  );
}

/** A short, secret-free text out of an error page: Jetty's `<title>Error 404 Not Found</title>` or a plain-text body. */
export function detailOf(body: unknown, contentType: string | undefined): string | undefined {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : undefined;
  if (text === undefined) return undefined;
  if ((contentType ?? '').includes('html')) {
    const title = /<title>([^<]{1,200})<\/title>/i.exec(text)?.[1]?.trim();
    return title?.replace(/^Error \d+\s*/, '') || undefined;
  }
  const line = text.trim().split('\n')[0]?.trim();
  return line && line.length <= 200 ? line : undefined;
}
