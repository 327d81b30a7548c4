import type { Client } from '@temporalio/client';
import type { Logger, MetricMeter } from '@temporalio/common';
import type { ShepherdConfig } from '../../config/load.js';
import type { PipelineLayout } from '../../domain/pipeline.js';
import { defaultLayout } from '../../sandbox/world/layout.js';
import { connectClient, targetFrom } from '../../temporal/connection.js';
import { runningDevServer } from '../../temporal/dev-server.js';
import { layoutForWorld, layoutsForWorld, type SandboxInstallation } from '../../worker/activities.js';
import { workerLogger } from '../../worker/logger.js';
import { registrationText } from '../../webhooks/print-config.js';
import { startWebhookReceiver } from '../../webhooks/receiver.js';
import { startSandboxWebhooks, type SandboxEndpoints } from '../../webhooks/sandbox-registration.js';
import { WebhookMetrics } from '../../observability/metrics.js';
import { EXIT, UsageError, untilSignal, type Command } from '../command.js';
import { fetchTrusting } from '../../clients/trust.js';

/** Where `shepherd webhooks` listens when SHEPHERD_WEBHOOK_ADDRESS is unset. */
export const DEFAULT_WEBHOOK_ADDRESS = '127.0.0.1:8787';

/** The layouts events are routed by (one per app): the configured pipeline's, or the sandbox world's. */
export function webhookLayouts(config: ShepherdConfig): readonly PipelineLayout[] {
  return config.mode === 'external' ? config.pipeline.apps : [layoutForWorld({ layout: defaultLayout() })];
}

/** A receiver a worker or the demo runs beside itself. */
export interface EmbeddedWebhooks {
  readonly url: string;
  /** Whether GitLab and Jenkins events reach it (in sandbox mode: whether the world took the registration). */
  readonly registered: { readonly gitlab: boolean; readonly jenkins: boolean };
  close(): Promise<void>;
}

/**
 * The receiver a worker runs itself, or undefined for none: with a sandbox world, unless SHEPHERD_WEBHOOKS=false,
 * one on a free port (or SHEPHERD_WEBHOOK_ADDRESS) registered with the world; with configured systems, one on
 * SHEPHERD_WEBHOOK_ADDRESS when it is set. Its counters go to `meter` too (the worker's metrics endpoint).
 */
export async function startEmbeddedWebhooks(opts: {
  readonly config: ShepherdConfig;
  readonly client: Client;
  readonly taskQueue: string;
  readonly logger: Logger;
  readonly world?: SandboxEndpoints & { readonly layout?: SandboxInstallation['layout'] };
  readonly meter?: MetricMeter;
}): Promise<EmbeddedWebhooks | undefined> {
  const { config, client, taskQueue, logger } = opts;
  const metrics = new WebhookMetrics(opts.meter);
  if (opts.world && config.webhooks.enabled !== false) {
    const started = await startSandboxWebhooks({
      world: opts.world,
      // A world built from a pipeline names its apps; the seed's world is the default layout.
      layouts: opts.world.layout
        ? layoutsForWorld({ layout: opts.world.layout })
        : [layoutForWorld({ layout: defaultLayout() })],
      client,
      taskQueue,
      logger,
      metrics,
      ...(config.webhooks.address ? { address: config.webhooks.address } : {}),
      // A world behind its own CA (--tls) names it in SHEPHERD_CA_FILE.
      ...(config.companyCa ? { fetch: fetchTrusting(config.companyCa) } : {}),
    });
    return { url: started.receiver.url, registered: started.registered, close: () => started.receiver.close() };
  }
  if (!config.webhooks.address) return undefined;
  const receiver = await startWebhookReceiver({
    address: config.webhooks.address,
    client,
    taskQueue,
    layouts: webhookLayouts(config),
    gitlabToken: config.webhooks.gitlabToken,
    jenkinsToken: config.webhooks.jenkinsToken,
    maxBodyBytes: config.webhooks.maxBodyBytes,
    logger,
    metrics,
  });
  const registered = {
    gitlab: config.webhooks.gitlabToken !== undefined,
    jenkins: config.webhooks.jenkinsToken !== undefined,
  };
  return { url: receiver.url, registered, close: () => receiver.close() };
}

export const webhooksCommand: Command = {
  usage: '[--print-config] [--address HOST:PORT] [--task-queue NAME]',
  help: `
Runs the webhook receiver alone: GitLab project hooks (POST /webhooks/gitlab, token in X-Gitlab-Token) and
Jenkins build notifications (POST /webhooks/jenkins, the Notification plugin's JSON, the secret as Basic password
or X-Shepherd-Token) wake the runs they concern through Temporal, whatever worker runs them. Also serves
GET /metrics (its counters) and GET /healthz. Any number of receivers may run behind one URL; they share nothing
but Temporal. A worker runs the same receiver itself when SHEPHERD_WEBHOOK_ADDRESS is set.

Connects to TEMPORAL_ADDRESS, or to the embedded dev server running on the state folder. Listens on
SHEPHERD_WEBHOOK_ADDRESS (default ${DEFAULT_WEBHOOK_ADDRESS}); the secrets are SHEPHERD_WEBHOOK_GITLAB_TOKEN and
SHEPHERD_WEBHOOK_JENKINS_TOKEN (a source without its secret is refused). Stops on SIGINT/SIGTERM after the
deliveries in progress.

Options:
  --print-config      print what to register in GitLab (project hooks, UI and API) and Jenkins (notification
                      endpoints of the CI and promote jobs, UI and Jenkinsfile) for the configured pipeline, at
                      SHEPHERD_WEBHOOK_URL; never prints a secret
  --address HOST:PORT override SHEPHERD_WEBHOOK_ADDRESS
  --task-queue NAME   override TEMPORAL_TASK_QUEUE (it names the validation lock the receiver finds runs by)
`,
  options: {
    'print-config': { type: 'boolean' },
    address: { type: 'string' },
    'task-queue': { type: 'string' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const { config, warnings } = ctx.checkConfig();
    for (const w of warnings) ctx.err(`warning: ${w.message}`);
    const given = ctx.values.address as string | undefined;
    if (given !== undefined && !/^(?:(?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):)?\d{1,5}$/.test(given))
      throw new UsageError(`--address ${given}: give a port or host:port`);
    const address = given
      ? /^\d+$/.test(given)
        ? `127.0.0.1:${given}`
        : given
      : (config.webhooks.address ?? DEFAULT_WEBHOOK_ADDRESS);
    const layouts = webhookLayouts(config);
    const { gitlabToken, jenkinsToken } = config.webhooks;

    if (ctx.values['print-config']) {
      for (const layout of layouts)
        ctx.out(
          registrationText({
            baseUrl: config.webhooks.url ?? `http://${address}`,
            gitlabUrl: config.gitlab?.url,
            layout,
            gitlabTokenSet: gitlabToken !== undefined,
            jenkinsTokenSet: jenkinsToken !== undefined,
          }),
        );
      return EXIT.ok;
    }

    const logger = workerLogger({
      level: config.observability.logLevel,
      format: config.observability.logFormat,
      isTerminal: process.stderr.isTTY === true,
      config,
      write: (line) => ctx.err(line),
    });
    for (const [name, secret] of [
      ['SHEPHERD_WEBHOOK_GITLAB_TOKEN', gitlabToken],
      ['SHEPHERD_WEBHOOK_JENKINS_TOKEN', jenkinsToken],
    ] as const)
      if (!secret) ctx.err(`warning: ${name} is not set: every delivery of that source is refused (401).`);
    let target;
    if (config.temporal.address) target = targetFrom(config.temporal, config.temporal.address);
    else {
      const running = runningDevServer(config.temporal.stateDir);
      if (!running)
        throw new UsageError(
          'TEMPORAL_ADDRESS is unset and no embedded dev server runs on the state folder: start `npx shepherd dev-server` or a worker first, or set TEMPORAL_ADDRESS.',
        );
      target = targetFrom(config.temporal, running.address);
    }
    const client = await connectClient(target);
    const stop = untilSignal();
    try {
      const receiver = await startWebhookReceiver({
        address,
        client,
        taskQueue: (ctx.values['task-queue'] as string | undefined) ?? config.temporal.taskQueue,
        layouts,
        gitlabToken,
        jenkinsToken,
        maxBodyBytes: config.webhooks.maxBodyBytes,
        logger,
      });
      ctx.err(
        `Webhook receiver on ${receiver.url} (POST /webhooks/gitlab, /webhooks/jenkins; GET /metrics, /healthz) for ${layouts.map((l) => l.app.name).join(', ')}, Temporal ${target.address}. Ctrl-C to stop.`,
      );
      const sig = await stop;
      ctx.err(`${sig}: stopping the receiver after the deliveries in progress.`);
      await receiver.close();
    } finally {
      await client.connection.close();
    }
    return EXIT.ok;
  },
};
