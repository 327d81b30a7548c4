/**
 * notifyEvent. Changes: one message posted to the configured Slack-compatible webhook, if any (without one,
 * notifications are off and it reports `delivered: false`). At least once: a retry may post again; the message
 * carries `eventId` so that a receiver can drop the duplicate. Waits for nothing. A webhook that refuses the
 * message (WebhookRejectedError) fails without retrying: the payload would be refused again.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { WebhookRejectedError, type NotificationClient } from '../../src/clients/notifications/index.js';
import {
  ACTIVITY_FIELDS,
  NOTIFICATION_EVENTS,
  type NotifyEventInput,
  type ShepherdActivities,
} from '../../src/domain/activities.js';
import { defineActivity } from '../define.js';

export interface NotificationActivityDeps {
  /** Undefined when no webhook is configured. */
  readonly client: NotificationClient | undefined;
}

export function createNotifyEvent(deps: NotificationActivityDeps): ShepherdActivities['notifyEvent'] {
  return defineActivity({
    input: z.object({
      text: ACTIVITY_FIELDS.text(),
      eventId: ACTIVITY_FIELDS.text(),
      event: z.enum(NOTIFICATION_EVENTS, { error: `must be one of ${NOTIFICATION_EVENTS.join(', ')}` }),
      appName: z.string(),
      env: ACTIVITY_FIELDS.environmentName().optional(),
      imageTag: z.string().optional(),
      links: z.array(z.string()).optional(),
    }),
    failure: webhookFailure,
    async run(input, { attempt, signal }) {
      if (!deps.client) return { attempt, delivered: false };
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
        signal,
      );
      return { attempt, delivered: true };
    },
  });
}

/** The message text: the event's own text, then one link a line. */
function messageText(input: NotifyEventInput): string {
  return [input.text, ...(input.links ?? [])].join('\n');
}

function webhookFailure(err: unknown): ApplicationFailure | undefined {
  if (!(err instanceof WebhookRejectedError)) return undefined;
  return ApplicationFailure.create({
    message: err.message,
    type: 'WebhookRejectedError',
    nonRetryable: true,
    details: [{ system: 'notifications', status: err.status }],
  });
}
