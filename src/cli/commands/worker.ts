import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Connection } from '@temporalio/client';
import { Runtime, type Worker } from '@temporalio/worker';
import { runningDevServer } from '../../temporal/dev-server.js';
import { connectClient, connectWorker, targetFrom } from '../../temporal/connection.js';
import { registerSearchAttributes, SearchAttributesMissingError } from '../../temporal/search-attributes.js';
import { openTemporal } from '../../temporal/runtime.js';
import { createWorker } from '../../worker/create-worker.js';
import { tracingFromConfig } from '../../tracing/tracing.js';
import { prometheusTelemetry, startHealthServer } from '../../worker/health.js';
import { workerLogger } from '../../worker/logger.js';
import { prebuiltBundle } from '../../worker/workflow-source.js';
import { activitiesForWorld, activitiesFromConfig } from '../../worker/activities.js';
import { defaultLayout } from '../../sandbox/world/layout.js';
import { readWorldFile, worldFilePath } from '../../sandbox/world/world-file.js';
import { renderLine, runDoctor } from '../../doctor/index.js';
import { EXIT, UsageError, type Command } from '../command.js';
import { installationFor } from './doctor.js';
import { startEmbeddedWebhooks, type EmbeddedWebhooks } from './webhooks.js';

export const workerCommand: Command = {
  usage: '[--task-queue NAME] [--identity NAME] [--workflow-bundle FILE]',
  help: `
Connects to TEMPORAL_ADDRESS, or, when it is unset, to the embedded dev server running on the state folder
(starting one if none runs), and polls TEMPORAL_TASK_QUEUE (default "shepherd"). Its activities drive the
configured GitLab, Jenkins and cluster, or, with none configured, the sandbox world that \`npx shepherd sandbox\`
runs. Start more workers on the same
task queue to scale out. On SIGINT/SIGTERM the worker stops polling and gives running activities 10 s to finish.

Options:
  --task-queue NAME   override TEMPORAL_TASK_QUEUE
  --identity NAME     worker identity shown in the Web UI (default: pid@host)
  --workflow-bundle FILE
                      load the workflows from a bundle built by \`npm run build:bundle\` instead of bundling
                      workflows/ at start (which takes seconds); the bundle must be of the same source
`,
  options: { 'task-queue': { type: 'string' }, identity: { type: 'string' }, 'workflow-bundle': { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const checked = ctx.checkConfig();
    const { warnings } = checked;
    let config = checked.config;
    for (const w of warnings) ctx.err(`warning: ${w.message}`);
    const bundlePath = ctx.values['workflow-bundle'] as string | undefined;
    if (bundlePath !== undefined && !existsSync(bundlePath))
      throw new UsageError(`--workflow-bundle ${bundlePath}: no such file (build one with \`npm run build:bundle\`)`);
    const workflows = bundlePath === undefined ? undefined : prebuiltBundle(resolve(bundlePath));
    let activities;
    let world: ReturnType<typeof readWorldFile>;
    if (config.mode === 'external') activities = activitiesFromConfig(config);
    else {
      const info = readWorldFile(config.temporal.stateDir);
      world = info;
      if (!info) {
        throw new UsageError(
          `no external systems are configured (GITLAB_URL_EXTERNAL, JENKINS_URL_EXTERNAL, …) and no sandbox world runs (${worldFilePath(config.temporal.stateDir)}). ` +
            'Start `npx shepherd sandbox` in another terminal, or configure the real systems (see the README).',
        );
      }
      // The world's installation settings (WorldInfo.settings) over the environment: Shepherd set up for it.
      config = ctx.config(info.settings ?? {});
      activities = activitiesForWorld({ layout: info.layout ?? defaultLayout(), info }, config);
      ctx.err(
        `Using the sandbox world: GitLab ${info.gitlab.url}, Jenkins ${info.jenkins.url}, Kubernetes ${info.kubernetes.url}`,
      );
    }
    const { logLevel, logFormat } = config.observability;
    Runtime.install({
      logger: workerLogger({
        level: logLevel,
        format: logFormat,
        isTerminal: process.stderr.isTTY === true,
        config,
        write: (line) => ctx.err(line),
      }),
      ...(config.observability.metricsAddress ? prometheusTelemetry(config.observability.metricsAddress) : {}),
    });
    let worker: Worker | undefined;
    const { healthAddress } = config.observability;
    const health = healthAddress
      ? await startHealthServer({ address: healthAddress, workerState: () => worker?.getState() })
      : undefined;
    let stopServer = async (): Promise<void> => {};
    let target;
    if (config.temporal.address) target = targetFrom(config.temporal, config.temporal.address);
    else {
      const running = runningDevServer(config.temporal.stateDir);
      if (running) target = targetFrom(config.temporal, running.address);
      else {
        const runtime = await openTemporal(config);
        ctx.err(`Started the embedded Temporal dev server on ${runtime.target.address}; Web UI: ${runtime.uiUrl}`);
        target = runtime.target;
        stopServer = runtime.stop;
      }
    }
    // Every run upserts Shepherd's search attributes: register them where this worker may (a no-op when present),
    // and refuse to start where they are missing and it may not, naming the commands an admin must run.
    try {
      const client = await connectClient(target);
      try {
        await registerSearchAttributes(client.connection as Connection, target.namespace);
      } finally {
        await client.connection.close();
      }
    } catch (err) {
      if (err instanceof SearchAttributesMissingError) {
        ctx.err(`${err.message}\nThe worker does not start until they exist.`);
        await stopServer();
        await health?.close();
        return EXIT.failed;
      }
      // Temporal unreachable, or the search attributes not even listable: the start-up check below names it.
    }
    // The quick part of `shepherd doctor`: a worker that cannot reach Temporal, GitLab, Jenkins or the cluster with its
    // credentials would fail every run it picks up, so it refuses to start and says what to fix.
    const startup = await runDoctor(installationFor(config, target), { quick: true });
    if (!startup.ok) {
      for (const check of startup.checks) if (check.status === 'fail') ctx.err(renderLine(check));
      ctx.err(
        'The worker does not start while these checks fail. Fix them, or run `npx shepherd doctor` for all checks.',
      );
      await stopServer();
      await health?.close();
      return EXIT.failed;
    }
    const connection = await connectWorker(target);
    const tracing = tracingFromConfig(config.observability, ctx.err);
    if (config.observability.otlpEndpoint)
      ctx.err(`Tracing: spans go to ${config.observability.otlpEndpoint}/v1/traces (OTLP/HTTP).`);
    const taskQueue = (ctx.values['task-queue'] as string | undefined) ?? config.temporal.taskQueue;
    let webhooks: EmbeddedWebhooks | undefined;
    let webhookClient: Awaited<ReturnType<typeof connectClient>> | undefined;
    try {
      // The receiver signals runs through a client of its own; SHEPHERD_WEBHOOK_ADDRESS (or the sandbox) turns it on.
      if (config.webhooks.address || (world && config.webhooks.enabled !== false)) {
        webhookClient = await connectClient(target);
        webhooks = await startEmbeddedWebhooks({
          config,
          client: webhookClient,
          taskQueue,
          logger: Runtime.instance().logger,
          meter: Runtime.instance().metricMeter,
          ...(world ? { world } : {}),
        });
        // The waits of the systems that took the registration rely on it (slow fallback polling).
        if (webhooks && world)
          activities = activitiesForWorld({ layout: world.layout ?? defaultLayout(), info: world }, config, {
            webhooks: webhooks.registered,
          });
        if (webhooks)
          ctx.err(
            `Webhook receiver on ${webhooks.url}${world ? ` (sandbox: GitLab hooks ${webhooks.registered.gitlab ? 'registered' : 'not taken, polling'}, Jenkins notifications ${webhooks.registered.jenkins ? 'registered' : 'not taken, polling'})` : ''}`,
          );
      }
      worker = await createWorker({
        connection,
        namespace: target.namespace,
        taskQueue,
        activities,
        tracing,
        ...(workflows ? { workflows } : {}),
        ...(ctx.values.identity ? { identity: ctx.values.identity as string } : {}),
      });
      ctx.err(
        `Worker polling task queue "${taskQueue}" on ${target.address} (namespace ${target.namespace}). Ctrl-C to stop.`,
      );
      await worker.run();
      ctx.err('Worker stopped.');
    } finally {
      await webhooks?.close();
      await webhookClient?.connection.close();
      await tracing.shutdown();
      await connection.close();
      await stopServer();
      await health?.close();
    }
    return EXIT.ok;
  },
};
