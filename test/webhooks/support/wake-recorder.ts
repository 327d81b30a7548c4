/**
 * A workflow that stands in for Shepherd's runs in the receiver tests: started under a business-key id
 * (`promote-<app>-<env>`, `validate-<app>…`), it records every `wake` signal it receives and answers them on the
 * `wakes` query. Started with `lockId`, it also holds that child, as a validation holds its lock, so that the
 * receiver finds it through the lock's parent.
 */
import { condition, defineQuery, defineSignal, ParentClosePolicy, setHandler, startChild } from '@temporalio/workflow';
import { WAKE_SIGNAL, type WakeHint } from '../../../src/domain/wake.js';

export const wakesQuery = defineQuery<WakeHint[]>('wakes');
export const finishSignal = defineSignal('finish');
const wakeSignal = defineSignal<[WakeHint]>(WAKE_SIGNAL);

export async function recordWakes(opts: { lockId?: string } = {}): Promise<WakeHint[]> {
  const wakes: WakeHint[] = [];
  let finished = false;
  setHandler(wakeSignal, (hint) => void wakes.push(hint));
  setHandler(wakesQuery, () => wakes);
  setHandler(finishSignal, () => void (finished = true));
  if (opts.lockId)
    await startChild(recordWakes, {
      workflowId: opts.lockId,
      args: [{}],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
  await condition(() => finished);
  return wakes;
}
