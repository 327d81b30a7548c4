/**
 * Webhooks in sandbox mode (`shepherd demo`, the sandbox-mode worker): a receiver on a free port with secrets of
 * its own, registered with the sandbox world as one would with real systems — a project hook on both projects
 * through the sandbox GitLab's hooks API, the Jenkins notification endpoint through the sandbox admin's
 * `PUT /jenkins/notifications`. A world that cannot take a registration is logged and left to polling.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import type { PipelineLayout } from '../domain/pipeline.js';
import type { WebhookMetrics } from '../observability/metrics.js';
import { GITLAB_HOOK_EVENTS, hookUrls } from './print-config.js';
import { startWebhookReceiver, type WebhookReceiver } from './receiver.js';

/** What of the sandbox world the registration needs (its WorldInfo has these fields). */
export interface SandboxEndpoints {
  readonly gitlab: { readonly url: string; readonly token: string };
  readonly admin: { readonly url: string };
}

export interface SandboxWebhooks {
  readonly receiver: WebhookReceiver;
  /** Which registrations the world took; a system that took none is waited on by polling alone. */
  readonly registered: { readonly gitlab: boolean; readonly jenkins: boolean };
}

export interface SandboxWebhooksOptions {
  readonly world: SandboxEndpoints;
  /** Every app of the world (the receiver routes by them; each app's project and jobs are registered). */
  readonly layouts: readonly PipelineLayout[];
  readonly client: Client;
  readonly taskQueue: string;
  readonly logger: Logger;
  /** Where the receiver listens (default a free port on 127.0.0.1). */
  readonly address?: string;
  readonly metrics?: WebhookMetrics;
  /** The `fetch` of the registration calls; one that trusts the world's CA when it serves HTTPS (part F). */
  readonly fetch?: typeof fetch;
}

/** Starts the receiver and registers it with the world; the receiver is the caller's to close. */
export async function startSandboxWebhooks(opts: SandboxWebhooksOptions): Promise<SandboxWebhooks> {
  const gitlabToken = randomBytes(24).toString('hex');
  const jenkinsToken = randomBytes(24).toString('hex');
  const receiver = await startWebhookReceiver({
    address: opts.address ?? '127.0.0.1:0',
    client: opts.client,
    taskQueue: opts.taskQueue,
    layouts: opts.layouts,
    // Held like the config's Secret: revealed only to compare, rendered as [redacted] by the logger.
    gitlabToken: { reveal: () => gitlabToken },
    jenkinsToken: { reveal: () => jenkinsToken },
    logger: opts.logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  const urls = hookUrls(receiver.url);
  const gitlab = await registerGitLabHooks(opts, urls.gitlab, gitlabToken);
  const jenkins = await registerJenkinsNotifications(opts, urls.jenkins, jenkinsToken);
  return { receiver, registered: { gitlab, jenkins } };
}

async function registerGitLabHooks(opts: SandboxWebhooksOptions, url: string, token: string): Promise<boolean> {
  const projects = new Set(opts.layouts.flatMap((l) => [l.gitlab.appProject, l.gitlab.deploymentsProject]));
  for (const project of projects) {
    const endpoint = `${opts.world.gitlab.url}/api/v4/projects/${encodeURIComponent(project)}/hooks`;
    const ok = await call(opts, 'gitlab', endpoint, {
      method: 'POST',
      headers: { 'private-token': opts.world.gitlab.token, 'content-type': 'application/json' },
      body: JSON.stringify({ url, token, enable_ssl_verification: false, ...GITLAB_HOOK_EVENTS }),
    });
    if (!ok) return false;
  }
  opts.logger.info('webhooks: registered the project hooks with the sandbox GitLab', { url });
  return true;
}

async function registerJenkinsNotifications(
  opts: SandboxWebhooksOptions,
  url: string,
  token: string,
): Promise<boolean> {
  const withUserinfo = new URL(url);
  withUserinfo.username = 'shepherd';
  withUserinfo.password = token;
  const jobs = new Set(opts.layouts.flatMap((l) => [l.jenkins.appJob.join('/'), l.jenkins.promoteJob.join('/')]));
  const ok = await call(opts, 'jenkins', `${opts.world.admin.url}/jenkins/notifications`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoints: [{ url: withUserinfo.href, event: 'all', jobs: [...jobs] }] }),
  });
  if (ok) opts.logger.info('webhooks: registered the notification endpoint with the sandbox Jenkins', { url });
  return ok;
}

/** One registration call; false (logged) when the world does not offer it or refuses it. */
async function call(
  opts: Pick<SandboxWebhooksOptions, 'logger' | 'fetch'>,
  system: string,
  endpoint: string,
  init: RequestInit,
): Promise<boolean> {
  const logger: Logger = opts.logger;
  try {
    const res = await (opts.fetch ?? fetch)(endpoint, { ...init, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    if (res.ok) return true;
    logger.warn(`webhooks: the sandbox ${system} did not take the registration; its waits poll`, {
      status: res.status,
      endpoint: new URL(endpoint).pathname,
    });
  } catch (error) {
    logger.warn(`webhooks: could not register with the sandbox ${system}; its waits poll`, { error });
  }
  return false;
}
