/**
 * The activities that act on Shepherd's own runs through the worker's Temporal client (no system client): settling
 * a validation hop's conflict with a promotion someone else started. Contracts: `src/domain/activities.ts`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { createSettlePromotionConflict } from './promotions/settle-promotion-conflict.js';

export type PromotionActivities = Pick<ShepherdActivities, 'settlePromotionConflict'>;

export function createPromotionActivities(): PromotionActivities {
  return { settlePromotionConflict: createSettlePromotionConflict() };
}
