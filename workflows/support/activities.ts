/** The activity proxies, one per preset (see src/domain/presets.ts). */
import { proxyActivities } from '@temporalio/workflow';
import type { ShepherdActivities } from '../../src/domain/activities.js';
import { LONG_WAIT, NOTIFY, QUICK_CALL, UNDO_CALL } from '../../src/domain/presets.js';

export const quick = proxyActivities<ShepherdActivities>(QUICK_CALL);
export const waits = proxyActivities<ShepherdActivities>(LONG_WAIT);
export const undoCalls = proxyActivities<ShepherdActivities>(UNDO_CALL);
export const undoWaits = proxyActivities<ShepherdActivities>({ ...LONG_WAIT, retry: UNDO_CALL.retry });
export const notifications = proxyActivities<ShepherdActivities>(NOTIFY);
