/**
 * The activities about Shepherd's own promotions rather than a system: settling a validation hop's conflict with a
 * promotion someone else started (through the worker's Temporal client), and whether an environment is frozen (by
 * the app's layout). Contracts: `src/domain/activities.ts`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { createCheckFreezeWindow, type CheckFreezeWindowDeps } from './promotions/check-freeze-window.js';
import { createSettlePromotionConflict } from './promotions/settle-promotion-conflict.js';

export type PromotionActivities = Pick<ShepherdActivities, 'settlePromotionConflict' | 'checkFreezeWindow'>;

export type PromotionActivityDeps = CheckFreezeWindowDeps;

export function createPromotionActivities(deps: PromotionActivityDeps): PromotionActivities {
  return {
    settlePromotionConflict: createSettlePromotionConflict(),
    checkFreezeWindow: createCheckFreezeWindow(deps),
  };
}
