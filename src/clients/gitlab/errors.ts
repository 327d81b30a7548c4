/**
 * GitLab failures in Shepherd's vocabulary. gitbeaker throws `GitbeakerRequestError` (status and headers on
 * `cause.response`, the body's message on `cause.description`), `GitbeakerRetryError` after its own ten 429/502
 * attempts, `GitbeakerTimeoutError`, and lets network failures through as the raw `TypeError: fetch failed`.
 */
import { GitbeakerRequestError, GitbeakerRetryError, GitbeakerTimeoutError } from '@gitbeaker/rest';
import {
  AuthenticationError,
  BranchProtectedError,
  NotFoundError,
  ShepherdError,
  TransientError,
  ValidationError,
  type ErrorFacts,
} from '../../domain/errors.js';
import { certificateError, certificateFailureOf } from '../trust.js';

/** The variable that holds the token, named in authentication failures instead of its value. */
export const GITLAB_CREDENTIAL_VARIABLE = 'GITLAB_TOKEN';

/** What a request addressed: named by a 404. */
export type GitLabTarget = Pick<ErrorFacts['NotFoundError'], 'kind' | 'name'> & {
  /** The branch a push went to, for a refusal by its protection. */
  readonly branch?: string;
};

/** A failed request as our code sees it; `undefined` when the error is not an HTTP answer from GitLab. */
export interface GitLabHttpFailure {
  readonly status: number;
  readonly message: string;
  readonly retryAfterSeconds: number | undefined;
}

/** Status, message and Retry-After of a gitbeaker request error. */
export function httpFailureOf(err: unknown): GitLabHttpFailure | undefined {
  if (!(err instanceof GitbeakerRequestError)) return undefined;
  const cause = err.cause as
    | { description?: unknown; response?: { status?: unknown; headers?: { get(name: string): string | null } } }
    | undefined;
  const status = typeof cause?.response?.status === 'number' ? cause.response.status : undefined;
  if (status === undefined) return undefined;
  const description = typeof cause?.description === 'string' ? cause.description : err.message;
  return {
    status,
    message: description,
    retryAfterSeconds: retryAfterOf(cause?.response?.headers?.get('retry-after') ?? null),
  };
}

/** `Retry-After` in seconds: either a number of seconds or an HTTP date. */
function retryAfterOf(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** What GitLab names in a 404 body (`404 Project Not Found`, `404 Branch Not Found`, …), mapped to our kinds. */
function notFoundKind(message: string): ErrorFacts['NotFoundError']['kind'] | undefined {
  if (/project/i.test(message)) return 'project';
  if (/branch/i.test(message)) return 'branch';
  if (/merge request/i.test(message)) return 'merge-request';
  return undefined;
}

/**
 * Maps any error thrown by a gitbeaker call to one of ours. `what` describes the call for messages
 * (`GET merge request !5`); `target` is the configured object a 404 refers to.
 */
export function toGitLabError(err: unknown, what: string, target?: GitLabTarget): ShepherdError {
  if (err instanceof ShepherdError) return err;
  if (err instanceof GitbeakerTimeoutError)
    return new TransientError(`GitLab did not answer ${what} in time`, { system: 'gitlab' });
  if (err instanceof GitbeakerRetryError)
    return new TransientError(`GitLab kept refusing ${what} (rate limited or bad gateway): ${err.message}`, {
      system: 'gitlab',
    });
  const http = httpFailureOf(err);
  const certificate = http === undefined ? certificateFailureOf(err) : undefined;
  if (certificate) return certificateError('gitlab', certificate, what, 'GITLAB_URL_EXTERNAL');
  if (http === undefined) {
    // fetch's TypeError ("fetch failed", connection refused or reset) and anything else below HTTP.
    const reason = err instanceof Error ? `${err.message}${causeCode(err)}` : String(err);
    return new TransientError(`GitLab could not be reached for ${what}: ${reason}`, { system: 'gitlab' });
  }
  const { status, message, retryAfterSeconds } = http;
  // A valid token refused by a branch's protection (the commit and file services' `validate_permissions!`): say so.
  if (status === 403 && /not allowed to push|protected branch|protected from/i.test(message))
    return new BranchProtectedError({
      system: 'gitlab',
      project: target?.name ?? what,
      branch: target?.branch ?? 'the branch',
      detail: message,
    });
  if (status === 401 || status === 403)
    return new AuthenticationError({ system: 'gitlab', status, credentialVariable: GITLAB_CREDENTIAL_VARIABLE });
  if (status === 404) {
    const kind = notFoundKind(message) ?? target?.kind;
    if (target && kind === target.kind) return new NotFoundError({ system: 'gitlab', kind, name: target.name });
    if (target)
      return new NotFoundError({ system: 'gitlab', kind: kind ?? target.kind, name: `${target.name} (${message})` });
    return new NotFoundError({ system: 'gitlab', kind: kind ?? 'project', name: `${what} (${message})` });
  }
  if (status === 408 || status === 429 || status >= 500) {
    return new TransientError(`GitLab answered ${status} to ${what}: ${message}`, {
      system: 'gitlab',
      status,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }
  return new ValidationError(
    `gitlab: ${what}`,
    `was refused with HTTP ${status}: ${message}`,
    `GitLab refused ${what} (HTTP ${status}): ${message}`,
  );
}

function causeCode(err: Error): string {
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

/** A response that does not have the shape we read: GitLab (or a proxy in front of it) answered something else. */
export function unexpectedResponse(what: string, detail: string): ValidationError {
  return new ValidationError(
    `gitlab: ${what}`,
    `returned an unexpected response: ${detail}`,
    `GitLab returned an unexpected response to ${what}: ${detail}`,
  );
}
