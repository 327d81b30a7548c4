/**
 * Test-only workflows that prove the harness: they exercise an activity, a query, a timer and a search attribute,
 * which is everything the tiers need to show they run on a real server.
 */
import {
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type * as activities from './fixture-activities.js';
import { ShepherdStatus } from '../../src/temporal/common/search-attributes.js';

const { greetActivity } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

export const stepQuery = defineQuery<string>('stepQuery');
export const releaseSignal = defineSignal('releaseSignal');

export interface HarnessInput {
  readonly name: string;
  /** Sleep this long before greeting (time-skipping tests pass days). */
  readonly sleep?: string;
  /** Wait for `releaseSignal` before finishing. */
  readonly hold?: boolean;
}

export async function harnessWorkflow(
  input: HarnessInput,
): Promise<{ greeting: string; startedAt: number; finishedAt: number }> {
  let step = 'started';
  let released = false;
  setHandler(stepQuery, () => step);
  setHandler(releaseSignal, () => {
    released = true;
  });
  const startedAt = Date.now();
  if (input.sleep) {
    step = 'sleeping';
    await sleep(input.sleep);
  }
  step = 'greeting';
  const greeting = await greetActivity(input.name);
  if (input.hold) {
    step = 'holding';
    await condition(() => released);
  }
  upsertSearchAttributes([{ key: ShepherdStatus, value: 'done' }]);
  step = 'done';
  return { greeting, startedAt, finishedAt: Date.now() };
}
