export {
  WebhookRejectedError,
  createWebhookClient,
  type NotificationClient,
  type WebhookClientOptions,
  type WebhookMessage,
} from './webhook-client.js';
