/**
 * The notification activity, built from an optional webhook client: without one, notifications are off and
 * `notifyEvent` reports `delivered: false`. Contract: `src/domain/activities.ts`.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WebhookRejectedError, type NotificationClient } from '../src/clients/notifications/index.js';
import type { NotifyEventInput, ShepherdActivities } from '../src/domain/activities.js';
import { ShepherdError, ValidationError } from '../src/domain/errors.js';
import { toApplicationFailure } from '../src/temporal/common/failures.js';

export interface NotificationActivityDeps {
  /** Undefined when no webhook is configured. */
  readonly client: NotificationClient | undefined;
}

export type NotificationActivities = Pick<ShepherdActivities, 'notifyEvent'>;

/** The message text: the event's own text, then one link a line. */
function messageText(input: NotifyEventInput): string {
  return [input.text, ...(input.links ?? [])].join('\n');
}

export function createNotificationActivities(deps: NotificationActivityDeps): NotificationActivities {
  return {
    /**
     * Changes: one message posted to the webhook, if configured. At least once: a retry may post again; the
     * message carries `eventId` so that a receiver can drop the duplicate. Waits for nothing.
     */
    async notifyEvent(input) {
      const ctx = Context.current();
      try {
        if (typeof input.text !== 'string' || input.text.trim() === '')
          throw new ValidationError('text', 'must not be empty');
        if (typeof input.eventId !== 'string' || input.eventId === '')
          throw new ValidationError('eventId', 'must not be empty');
        if (!deps.client) return { attempt: ctx.info.attempt, delivered: false };
        await deps.client.post(
          {
            text: messageText(input),
            shepherd: {
              eventId: input.eventId,
              event: input.event,
              appName: input.appName,
              ...(input.env !== undefined ? { env: input.env } : {}),
              ...(input.imageTag !== undefined ? { imageTag: input.imageTag } : {}),
              ...(input.links !== undefined ? { links: input.links } : {}),
            },
          },
          ctx.cancellationSignal,
        );
        return { attempt: ctx.info.attempt, delivered: true };
      } catch (err) {
        if (err instanceof ShepherdError) throw toApplicationFailure(err);
        if (err instanceof WebhookRejectedError) {
          throw ApplicationFailure.create({
            message: err.message,
            type: 'WebhookRejectedError',
            nonRetryable: true,
            details: [{ system: 'notifications', status: err.status }],
          });
        }
        throw err;
      }
    },
  };
}
