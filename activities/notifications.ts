/**
 * The notification activity, built from an optional webhook client; in `./notifications/`.
 * Contract: `src/domain/activities.ts`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { createNotifyEvent, type NotificationActivityDeps } from './notifications/notify-event.js';

export type { NotificationActivityDeps } from './notifications/notify-event.js';

export type NotificationActivities = Pick<ShepherdActivities, 'notifyEvent'>;

export function createNotificationActivities(deps: NotificationActivityDeps): NotificationActivities {
  return { notifyEvent: createNotifyEvent(deps) };
}
