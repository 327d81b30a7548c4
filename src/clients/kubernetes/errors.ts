/**
 * Maps what @kubernetes/client-node throws to Shepherd's typed errors. The library raises `ApiException` for a
 * non-2xx answer (its `body` is the raw text of a Status object, undefined for 401) and node-fetch's `FetchError`
 * for a connection that failed; a watch reports a non-200 first answer as an Error with `statusCode`.
 */
import { ApiException } from '@kubernetes/client-node';
import { z } from 'zod';
import { AuthenticationError, NotFoundError, TransientError, type ShepherdError } from '../../domain/errors.js';
import { certificateError, certificateFailureOf } from '../trust.js';

/** The object a call was about, so that a 404 can name it. */
export interface KubernetesTarget {
  readonly kind: 'deployment' | 'application';
  readonly namespace: string;
  readonly name: string;
}

/** Anything else the API refused (400, 409, 415, 422, …): a bug or a misconfiguration, not worth a retry. */
export class KubernetesApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'KubernetesApiError';
  }
}

const StatusBody = z.object({
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z.object({ retryAfterSeconds: z.number().optional() }).optional(),
});

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

function parseStatus(body: unknown): z.infer<typeof StatusBody> {
  if (typeof body !== 'string' || body === '') return {};
  try {
    const parsed = StatusBody.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function retryAfter(
  headers: Record<string, string> | undefined,
  status: z.infer<typeof StatusBody>,
): number | undefined {
  const header = headers?.['retry-after'] ?? headers?.['Retry-After'];
  const seconds = header !== undefined ? Number(header) : Number.NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  return status.details?.retryAfterSeconds;
}

/** Whether `err` is a connection-level failure (refused, reset, timed out, DNS). */
export function isNetworkError(err: unknown): err is Error & { code?: string } {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return err.name === 'FetchError' && (err as { type?: unknown }).type === 'system';
}

/**
 * The typed error for a failed call. `what` describes the call for messages (`read deployment dev/example-app`);
 * `credentialVariable` is named on 401/403, never the credential itself.
 */
export function kubernetesError(
  err: unknown,
  what: string,
  credentialVariable: string,
  target?: KubernetesTarget,
): ShepherdError | KubernetesApiError | Error {
  if (err instanceof ApiException) {
    const code = Number(err.code);
    const status = parseStatus(err.body);
    const headers = err.headers as Record<string, string> | undefined;
    const detail = status.message ? `: ${status.message}` : '';
    if (code === 401 || code === 403)
      return new AuthenticationError({ system: 'kubernetes', status: code, credentialVariable });
    if (code === 404 && target) {
      return new NotFoundError({
        system: target.kind === 'application' ? 'argocd' : 'kubernetes',
        kind: target.kind,
        name: `${target.namespace}/${target.name}`,
      });
    }
    if (code === 429) {
      const after = retryAfter(headers, status);
      return new TransientError(`Kubernetes API throttled ${what} (HTTP 429)${detail}`, {
        system: 'kubernetes',
        status: code,
        ...(after !== undefined ? { retryAfterSeconds: after } : {}),
      });
    }
    if (code >= 500)
      return new TransientError(`Kubernetes API failed to ${what} (HTTP ${code})${detail}`, {
        system: 'kubernetes',
        status: code,
      });
    return new KubernetesApiError(
      `Kubernetes API refused to ${what} (HTTP ${code}${status.reason ? ` ${status.reason}` : ''})${detail}`,
      code,
    );
  }
  // Before the network check: node-fetch reports a refused certificate as a `system` FetchError too.
  const certificate = certificateFailureOf(err);
  if (certificate) return certificateError('kubernetes', certificate, what, credentialVariable);
  if (isNetworkError(err)) {
    return new TransientError(`Kubernetes API unreachable while trying to ${what} (${err.code ?? 'network error'})`, {
      system: 'kubernetes',
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}
