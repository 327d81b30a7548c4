/** Turning errors into the failures a workflow may end with. */
import { ApplicationFailure } from '@temporalio/workflow';
import { ShepherdError, type FailureSummary } from '../../src/domain/errors.js';
import { toApplicationFailure } from '../../src/temporal/common/failures.js';

/** Runs `parse`; a ValidationError becomes a non-retryable ApplicationFailure of type ValidationError. */
export function validated<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ShepherdError) throw toApplicationFailure(err);
    throw err;
  }
}

/** Ends a run with the original failure's type and message, and the given details (steps, rollback). */
export function endWith(failure: FailureSummary, suffix: string, details: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: failure.type,
    message: `${failure.message}${suffix}`,
    nonRetryable: true,
    details: [details],
  });
}
