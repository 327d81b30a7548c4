/** The activity proxies, one per preset (see src/domain/presets.ts). */
import { proxyActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { ShepherdActivities } from '../../src/domain/activities.js';
import { LONG_WAIT, NOTIFY, QUICK_CALL, UNDO_CALL } from '../../src/temporal/common/presets.js';

/** One proxy: each activity also has `executeWithOptions`, through which a call adds its Timeline summary. */
export type ActivityProxy = ActivityInterfaceFor<ShepherdActivities>;

/** The proxies a run uses; waits carry the run's heartbeat timeout (how soon a dead worker's wait moves on). */
export interface ActivityProxies {
  readonly quick: ActivityProxy;
  readonly waits: ActivityProxy;
  readonly undoCalls: ActivityProxy;
  readonly undoWaits: ActivityProxy;
}

export function activityProxies(heartbeatTimeout: string): ActivityProxies {
  return {
    quick: proxyActivities<ShepherdActivities>(QUICK_CALL),
    waits: proxyActivities<ShepherdActivities>({ ...LONG_WAIT, heartbeatTimeout }),
    undoCalls: proxyActivities<ShepherdActivities>(UNDO_CALL),
    undoWaits: proxyActivities<ShepherdActivities>({ ...LONG_WAIT, heartbeatTimeout, retry: UNDO_CALL.retry }),
  };
}

export const notifications = proxyActivities<ShepherdActivities>(NOTIFY);
