/**
 * The Temporal edge of Shepherd's failure vocabulary (`src/domain/errors.ts`): our errors become the
 * ApplicationFailures Temporal records, and Temporal's failures become the summaries reports show. Imported by
 * workflows and activities, so only `@temporalio/common` and the domain here.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TemporalFailure } from '@temporalio/common';
import { ERROR_RETRYABLE, ShepherdError, TransientError, type FailureSummary } from '../../domain/errors.js';

/**
 * Turns one of our errors into the ApplicationFailure Temporal records: type = class name, facts as the first
 * detail, retryability from `ERROR_RETRYABLE`, and a TransientError's Retry-After as the next retry delay.
 * Activities throw the result; workflows use it to fail a run with a typed, non-retryable failure.
 */
export function toApplicationFailure(err: ShepherdError): ApplicationFailure {
  const retryAfter = err instanceof TransientError ? err.facts.retryAfterSeconds : undefined;
  return ApplicationFailure.create({
    message: err.message,
    type: err.type,
    nonRetryable: !ERROR_RETRYABLE[err.type],
    details: [err.facts],
    ...(retryAfter !== undefined ? { nextRetryDelay: retryAfter * 1000 } : {}),
  });
}

/**
 * The innermost application failure of an activity or child-workflow failure: that is where the type and facts
 * are. A timeout or cancellation keeps its own kind (`TimeoutFailure`, `CancelledFailure`).
 */
export function summarizeFailure(err: unknown): FailureSummary {
  if (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) {
    if (err.cause) return summarizeFailure(err.cause);
  }
  if (err instanceof ApplicationFailure) {
    const cause = err.cause ? summarizeFailure(err.cause) : undefined;
    return {
      type: err.type ?? 'Error',
      message: err.message,
      ...(err.details?.[0] !== undefined ? { facts: err.details[0] } : {}),
      ...(cause ? { cause } : {}),
    };
  }
  if (err instanceof TemporalFailure)
    return {
      type: err.constructor.name,
      message: err.message,
      ...(err.cause ? { cause: summarizeFailure(err.cause) } : {}),
    };
  if (err instanceof ShepherdError) return { type: err.type, message: err.message, facts: err.facts };
  if (err instanceof Error) return { type: err.name, message: err.message };
  return { type: 'Error', message: String(err) };
}
