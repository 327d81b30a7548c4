/**
 * holdValidationLock — the lock that keeps validations of one app from running at the same time. Workflow id:
 * `lock-validate-<app>@<task queue>` (src/domain/promotion-policy.ts). A validation starts it as its first child and it does
 * nothing but exist until the validation signals `releaseValidationLock` at its very end (after unwinding), or the
 * validation closes some other way (terminated, timed out: parent close policy TERMINATE ends it too).
 *
 * No steps, no undo: it never touches an external system.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { releaseValidationLockSignal } from './messages.js';

export async function holdValidationLock(): Promise<void> {
  let released = false;
  setHandler(releaseValidationLockSignal, () => {
    released = true;
  });
  await condition(() => released);
}
