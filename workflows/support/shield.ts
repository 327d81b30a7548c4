/** The one way Shepherd's workflows shield a call from cancellation. */
import { CancellationScope } from '@temporalio/workflow';

/**
 * Runs `call` to its end even when the run is cancelled meanwhile: a mutating call, so that the undo knows what
 * it changed; the undos, so that a cancelled run still cleans up; the closing notifications and status.
 */
export function shielded<T>(call: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(call);
}
