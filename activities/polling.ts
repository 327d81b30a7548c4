/**
 * How a wait treats a look that fails for a transient reason (the system down, a 5xx, a 429): as a look that saw
 * nothing. The wait notes the failure in its heartbeat and carries on at its usual pace, so that an outage longer
 * than the wait's budget ends the wait at its `deadline` with WaitTimeoutError naming the system and its last error,
 * instead of failing the attempt and leaving the retry policy to give up long after the deadline. Any other error
 * (authentication, not found, validation, a conflict, a degraded app) still ends the wait at once.
 */
import { TransientError, type SystemName } from '../src/domain/errors.js';

/** The systems as a message names them. */
const SYSTEM_LABELS: Record<SystemName, string> = {
  gitlab: 'GitLab',
  jenkins: 'Jenkins',
  kubernetes: 'the Kubernetes API',
  argocd: 'Argo CD',
  notifications: 'the notification webhook',
  shepherd: 'Shepherd',
};

/** One look of a wait: what it saw, or why the system could not tell (`lastSeen` material) and when to ask again. */
export type Look<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly unreachable: string; readonly retryAfterMs?: number };

/** Runs one look; a TransientError becomes a failed look, anything else is thrown on. */
export async function look<T>(body: () => Promise<T>): Promise<Look<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (err) {
    if (!(err instanceof TransientError)) throw err;
    const after = err.facts.retryAfterSeconds;
    return {
      ok: false,
      unreachable: `${SYSTEM_LABELS[err.facts.system]} unreachable: ${err.message}`,
      ...(after !== undefined ? { retryAfterMs: after * 1000 } : {}),
    };
  }
}

/** The pause before the next look: the wait's interval, or longer when the system asked for it (Retry-After). */
export function pauseAfter(look: Look<unknown>, intervalMs: number): number {
  return look.ok ? intervalMs : Math.max(intervalMs, look.retryAfterMs ?? 0);
}
