import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { ValidationReport } from '../../domain/report.js';
import { fanOutWorkflowId, validationWorkflowId, promotionWorkflowId } from '../../domain/promotion-policy.js';
import { PROJECT_ROOT } from '../../config/paths.js';
import { Secret } from '../../config/secret.js';
import { writeReports } from '../../reports/write.js';
import { findScenario, SCENARIOS } from '../../sandbox/world/scenarios.js';
import { startWorld, UnknownScenarioAppError, UnknownScenarioError } from '../../sandbox/world/world.js';
import { WorldPipelineError } from '../../sandbox/world/layout.js';
import type { ShepherdConfig } from '../../config/load.js';
import { connectClient, connectWorker } from '../../temporal/connection.js';
import { freePort, runningDevServer } from '../../temporal/dev-server.js';
import { openTemporal, type TemporalRuntime } from '../../temporal/runtime.js';
import { targetFrom } from '../../temporal/connection.js';
import { activitiesForWorld } from '../../worker/activities.js';
import { createWorker } from '../../worker/create-worker.js';
import { prometheusTelemetry } from '../../worker/health.js';
import { validatePipeline } from '../../../workflows/validate-pipeline.js';
import { EXIT, untilSignal, UsageError, type Command } from '../command.js';
import { followRun } from '../follow.js';
import { startEmbeddedWebhooks } from './webhooks.js';
import { pipelineOrder, runFields, validationInput } from '../operator.js';
import { runFanOut } from '../fan-out.js';
import type { Client } from '@temporalio/client';
import { validationStart } from '../../temporal/run-start.js';
import { noReportReason } from '../../temporal/run-outcome.js';
import { reportJson, summaryTable } from '../summary.js';

const DEMO_TASK_QUEUE = 'shepherd-demo';

/**
 * Who may approve the demo's gates: the demo itself, which approves each one to show the whole run, besides the
 * approvers the pipeline names per environment.
 */
function demoApprovers(config: ShepherdConfig): {
  approvers: string[];
  environmentApprovers?: Record<string, string[]>;
} {
  const named = runFields(config).environmentApprovers;
  return {
    approvers: [DEMO_APPROVER],
    ...(named
      ? {
          environmentApprovers: Object.fromEntries(
            Object.entries(named).map(([env, who]) => [env, [...who, DEMO_APPROVER]]),
          ),
        }
      : {}),
  };
}
const DEMO_APPROVER = 'shepherd-demo';

/** Ends runs a previous demo left behind on the demo's task queue: a fresh world has nothing to do with them. */
async function endLeftovers(client: Client, workflowIds: readonly string[]): Promise<void> {
  for (const id of workflowIds) {
    try {
      const d = await client.workflow.getHandle(id).describe();
      if (d.status.name === 'RUNNING' && d.taskQueue === DEMO_TASK_QUEUE)
        await client.workflow.getHandle(id).terminate('a new demo started with a fresh sandbox world');
    } catch {
      // not found: nothing to end
    }
  }
}

export const demoCommand: Command = {
  usage:
    '[--pipeline FILE] [--scenario NAME[@APP]|list] [--keep] [--json] [--reports DIR] [--mode jenkins|gitlab] [--through ENV]',
  help: `
Starts the embedded Temporal dev server (or uses the one already running on the state folder, or
TEMPORAL_ADDRESS), the sandbox world and a worker, then runs validatePipeline through prod: iteration 1 bumps
the app version, waits for CI and the dev MR, merges it and verifies dev; iterations 2 and 3 promote to stage and
prod through the promote-environment job. The prod approval is given through the \`approve\` update, the same one
\`npx shepherd approve\` sends; with --scenario gitlab-approvals it is given in GitLab, as the world's approver
(alice) with her own token, and the report names her. Reports (JSON, Markdown, JUnit XML) are written to --reports (default: reports/).

Options:
  --pipeline FILE   build the world from a pipeline file and validate every app of it (examples/pipelines/)
  --scenario NAME   run with a sandbox fault scenario; "list" prints them (e.g. stage-degraded); NAME@APP
                    limits its faults to one app of the pipeline (e.g. stage-degraded@web-app)
  --keep            leave the dev server, Web UI and sandbox running until Ctrl-C, to look around
  --json            print the report object as the last line of stdout
  --reports DIR     where to write the reports (default: reports/ in the project)
  --mode MODE       how promotion MRs are opened: jenkins (the promote job, default) or gitlab (API)
  --through ENV     stop after this environment (default the pipeline's last, prod)

The demo's worker serves its Prometheus metrics (Shepherd's shepherd_* series and the SDK's temporal_*) at
http://SHEPHERD_METRICS_ADDRESS/metrics, by default on a free port of 127.0.0.1 that the demo prints; with --keep
they stay up, so \`curl\` shows the figures of the run that just ended.

With a pipeline of several apps (--pipeline FILE, SHEPHERD_PIPELINE), every app is validated through the fan-out
(fanOutApps, as \`validate --all\` does), each approval given the same way, and the combined report
{"status", "apps": [one report per app]} is written and, with --json, printed as the last line.

Exit code 0 when the validation succeeded (every app's, with several), 1 when it failed or rolled back, 2 on usage
errors.
`,
  options: {
    scenario: { type: 'string' },
    keep: { type: 'boolean' },
    json: { type: 'boolean' },
    reports: { type: 'string' },
    mode: { type: 'string' },
    through: { type: 'string' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const scenario = ctx.values.scenario as string | undefined;
    if (scenario === 'list') {
      for (const s of SCENARIOS) ctx.out(`${s.name.padEnd(24)} ${s.description}`);
      return EXIT.ok;
    }
    // `NAME@APP`: the scenario's faults for one app of the pipeline (the world checks the app).
    const scenarioName = scenario?.split('@')[0];
    if (scenarioName !== undefined && !findScenario(scenarioName))
      throw new UsageError(new UnknownScenarioError(scenarioName).message);
    const mode = (ctx.values.mode as string | undefined) ?? 'jenkins';
    if (mode !== 'jenkins' && mode !== 'gitlab') throw new UsageError(`--mode must be jenkins or gitlab, got ${mode}`);
    let config = ctx.config();
    const order = pipelineOrder(config);
    const through = (ctx.values.through as string | undefined) ?? order[order.length - 1]!;
    if (!order.includes(through))
      throw new UsageError(
        `--through must be one of the pipeline's environments (${order.join(', ')}), got ${through}`,
      );
    const json = ctx.values.json === true;
    // From here on SIGINT/SIGTERM (Ctrl-C, `kill`, a stopping `npm run demo`) ends the demo the same way as its end:
    // worker, sandbox world and the dev server it started are stopped and the temporary folder is removed.
    const stopRequested = untilSignal();
    // With --json, stdout carries only the report; progress goes to stderr.
    const say = json ? ctx.err : ctx.out;

    const metricsAddress = config.observability.metricsAddress ?? `127.0.0.1:${await freePort()}`;
    Runtime.install({
      logger: new DefaultLogger('ERROR', (entry) => ctx.err(`[worker] ${entry.level} ${entry.message}`)),
      ...prometheusTelemetry(metricsAddress),
    });
    say(`Metrics: http://${metricsAddress}/metrics`);

    let runtime: TemporalRuntime | undefined;
    let target;
    const running = config.temporal.address ? undefined : runningDevServer(config.temporal.stateDir);
    if (config.temporal.address) target = targetFrom(config.temporal, config.temporal.address);
    else if (running) {
      target = targetFrom(config.temporal, running.address);
      say(
        `Using the Temporal dev server already running on ${running.address}${running.uiUrl ? `; Web UI: ${running.uiUrl}` : ''}`,
      );
    } else {
      runtime = await openTemporal(config, { warn: ctx.err });
      target = runtime.target;
      say(`Temporal dev server on ${target.address}; Web UI: ${runtime.uiUrl}`);
    }

    // Holds the sandbox's kubeconfig, whose token opens the simulated cluster: removed when the demo ends.
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-demo-'));
    let world;
    try {
      world = await startWorld({
        dir,
        // A pipeline file builds the world it declares: its apps, environments, layouts and formats.
        ...(config.pipelineFile !== undefined ? { pipeline: config.pipeline } : {}),
        ...(scenario ? { scenario } : {}),
      });
    } catch (err) {
      await runtime?.stop();
      rmSync(dir, { recursive: true, force: true });
      if (
        err instanceof UnknownScenarioError ||
        err instanceof UnknownScenarioAppError ||
        err instanceof WorldPipelineError
      )
        throw new UsageError(err.message);
      throw err;
    }
    say(
      `Sandbox world: GitLab ${world.info.gitlab.url}, Jenkins ${world.info.jenkins.url}, Kubernetes ${world.info.kubernetes.url}, admin ${world.info.admin.url}/state${scenario ? `; scenario ${scenario}` : ''}`,
    );

    // Shepherd set up for the installation the world simulates (its settings over the environment).
    config = ctx.config(world.info.settings);
    const client = await connectClient(target);
    // Webhooks by default (SHEPHERD_WEBHOOKS=false: polling only): a receiver registered with the sandbox world.
    const webhooks = await startEmbeddedWebhooks({
      config,
      client,
      taskQueue: DEMO_TASK_QUEUE,
      logger: Runtime.instance().logger,
      meter: Runtime.instance().metricMeter,
      world: world.info,
    });
    if (webhooks)
      say(
        `Webhooks: receiver on ${webhooks.url}; GitLab hooks ${webhooks.registered.gitlab ? 'registered' : 'not taken by the sandbox (polling)'}, Jenkins notifications ${webhooks.registered.jenkins ? 'registered' : 'not taken by the sandbox (polling)'}`,
      );
    const connection = await connectWorker(target);
    const worker = await createWorker({
      connection,
      namespace: target.namespace,
      taskQueue: DEMO_TASK_QUEUE,
      activities: activitiesForWorld(world, config, { webhooks: webhooks?.registered }),
    });
    const workerRun = worker.run();

    const app = world.info.app;
    const workflowId = validationWorkflowId(app);
    let report: ValidationReport | undefined;
    let failure: unknown;
    let stoppedBy: NodeJS.Signals | undefined;
    const apps = config.pipeline.apps.map((a) => a.app.name);
    // Several apps: validatePipeline for every app through the fan-out, the combined report as the last line.
    let allAppsCode: number | undefined;
    if (apps.length > 1)
      try {
        await endLeftovers(client, [
          fanOutWorkflowId('validate'),
          ...apps.flatMap((a) => [
            validationWorkflowId(a),
            ...pipelineOrder(config).map((e) => promotionWorkflowId(a, e)),
          ]),
        ]);
        const { appName: _first, ...fields } = validationInput(
          config,
          apps[0]!,
          { through, mode },
          demoApprovers(config),
        );
        allAppsCode = await Promise.race([
          runFanOut(
            client,
            { kind: 'validate', apps, ...fields },
            {
              taskQueue: DEMO_TASK_QUEUE,
              startedBy: 'shepherd demo',
              follow: true,
              json,
              reportsDir: (ctx.values.reports as string | undefined) ?? join(PROJECT_ROOT, 'reports'),
              out: ctx.out,
              err: ctx.err,
              autoApprove: { by: DEMO_APPROVER, reason: 'approved by the demo to show the full run' },
            },
          ),
          stopRequested.then((sig): never => {
            stoppedBy = sig;
            throw new Error(
              `stopped by ${sig} before the fan-out ended; it stays in Temporal as ${fanOutWorkflowId('validate')}`,
            );
          }),
        ]);
      } catch (err) {
        failure = err;
      }
    else
      try {
        await endLeftovers(client, [workflowId, ...order.slice(1).map((e) => promotionWorkflowId(app, e))]);
        const input = validationInput(config, app, { through, mode }, demoApprovers(config));
        const handle = await client.workflow.start(
          validatePipeline,
          validationStart(input, DEMO_TASK_QUEUE, 'shepherd demo'),
        );
        say(
          `Started validatePipeline ${workflowId} (run ${handle.firstExecutionRunId}) through ${through}, mode ${mode}`,
        );
        if (runtime?.uiUrl) say(`Watch it at ${runtime.uiUrl}/namespaces/${target.namespace}/workflows/${workflowId}`);
        const following = followRun(client, handle, {
          out: say,
          tty: !json && process.stdout.isTTY === true,
          autoApprove: {
            by: DEMO_APPROVER,
            reason: 'approved by the demo to show the full run',
            // Part B: where GitLab approves (scenario gitlab-approvals), the demo approves as the world's first approver.
            ...(world.info.gitlab.approvers?.[0]
              ? {
                  gitlab: {
                    url: world.info.gitlab.url,
                    project: world.info.gitlab.deploymentsProject,
                    token: new Secret(world.info.gitlab.approvers[0].token),
                    tokenVariable: 'SHEPHERD_APPROVER_TOKEN',
                  },
                }
              : {}),
          },
        });
        // Following ends with the connection when a signal stops the demo first; that end is expected.
        following.catch(() => undefined);
        let followed = false;
        const outcome = await Promise.race([
          following.finally(() => (followed = true)),
          stopRequested.then((sig) => {
            // A signal after the run ended (Ctrl-C under --keep) is the normal end, not a stop mid-run.
            if (followed) return new Promise<never>(() => undefined);
            stoppedBy = sig;
            throw new Error(`stopped by ${sig} before the validation ended; it stays in Temporal as ${workflowId}`);
          }),
        ]);
        if (outcome.kind === 'validation') report = outcome.report;
        else failure = new Error(noReportReason(outcome));
      } catch (err) {
        failure = err;
      }

    let code: number = allAppsCode ?? EXIT.failed;
    if (apps.length > 1) {
      if (allAppsCode === undefined)
        ctx.err(`The fan-out did not produce a report: ${(failure as Error)?.message ?? 'unknown failure'}`);
    } else if (report) {
      for (const line of summaryTable(report)) say(line);
      const paths = writeReports(
        report,
        (ctx.values.reports as string | undefined) ?? join(PROJECT_ROOT, 'reports'),
        `${workflowId}-${report.startedAt.replace(/[:.]/g, '-')}`,
      );
      say(`Reports: ${paths.json}\n         ${paths.markdown}\n         ${paths.junit}`);
      code = report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    } else {
      ctx.err(`The validation did not produce a report: ${(failure as Error)?.message ?? 'unknown failure'}`);
    }

    if (ctx.values.keep) {
      say(
        `Keeping everything running${runtime?.uiUrl ? `: Web UI ${runtime.uiUrl}` : ''}; metrics http://${metricsAddress}/metrics; sandbox admin ${world.info.admin.url}/state. Ctrl-C to stop.`,
      );
      await stopRequested;
    }
    // The SDK's own SIGINT/SIGTERM handler may have begun the worker's shutdown already.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await connection.close();
    await webhooks?.close();
    await world.stop();
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (stoppedBy !== undefined) {
      // The live view's calls are still in flight on the client connection, and grpc-js throws from a timer when
      // they meet a closed channel: everything this demo started is stopped, so end the process here instead.
      process.exit(EXIT.failed);
    }
    await client.connection.close();
    if (json && report) ctx.out(reportJson(report));
    return code;
  },
};
