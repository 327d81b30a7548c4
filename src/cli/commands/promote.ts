import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { promoteEnvironmentInputSchema, type PromoteEnvironmentInput } from '../../domain/inputs.js';
import { decidePromotionRequest, promotionWorkflowId, type CurrentImage } from '../../domain/promotion-policy.js';
import type { PromotionReport } from '../../domain/report.js';
import { noReportReason } from '../../temporal/run-outcome.js';
import { promotionMetadata } from '../../temporal/run-start.js';
import {
  ShepherdApp,
  ShepherdEnvironment,
  ShepherdImageTag,
  ShepherdStatus,
} from '../../temporal/common/search-attributes.js';
import { currentImageQuery, supersedeUpdate } from '../../../workflows/messages.js';
import { promoteEnvironment } from '../../../workflows/promote-environment.js';
import { join } from 'node:path';
import type { ShepherdConfig } from '../../config/load.js';
import { PROJECT_ROOT } from '../../config/paths.js';
import { EXIT, UsageError, type Command, type CommandContext } from '../command.js';
import { checkFanOutInput, concurrencyFlag, runFanOut } from '../fan-out.js';
import { withClient } from '../connect.js';
import { followRun } from '../follow.js';
import { dryRunPromotion } from '../dry-run/index.js';
import { runFields, checkInput, configuredApp, hintApprovals, operatorName, pipelineOrder } from '../operator.js';

const FLAGS = {
  appName: '--app',
  sourceEnv: '--from',
  targetEnv: '--to',
  imageTag: '--image-tag',
  mode: '--mode',
  merge: '--no-merge',
  allowUnsettledTarget: '--allow-unsettled-target',
} as const;

/** A query needs a worker; without one the server would hold it. */
const QUERY_DEADLINE_MS = 10_000;

/** The promotion running under `workflowId`, if any, as the policy sees it. */
async function runningPromotion(
  client: Client,
  workflowId: string,
): Promise<{ handle: WorkflowHandle; runId: string; current: CurrentImage } | undefined> {
  let runId: string;
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    if (d.status.name !== 'RUNNING') return undefined;
    runId = d.runId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const handle = client.workflow.getHandle(workflowId, runId);
  try {
    return {
      handle,
      runId,
      current: await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(currentImageQuery)),
    };
  } catch (err) {
    throw new Error(
      `${workflowId} runs, but did not say which image it promotes (${(err as Error).message}); is a worker polling its task queue (\`npx shepherd worker\`)?`,
      { cause: err },
    );
  }
}

/** Follows a promotion to its end; prints its outcome (the report, also of a failed run); returns the exit code. */
async function follow(ctx: CommandContext, client: Client, handle: WorkflowHandle, json: boolean): Promise<number> {
  const say = json ? ctx.err : ctx.out;
  const stopHints = hintApprovals(client, handle, say);
  try {
    const outcome = await followRun(client, handle, {
      out: say,
      tty: !json && process.stdout.isTTY === true,
    });
    if (outcome.kind !== 'promotion') {
      say(noReportReason(outcome));
      if (json)
        ctx.out(
          JSON.stringify({
            status: outcome.status.toLowerCase(),
            workflowId: handle.workflowId,
            ...(outcome.kind === 'none' && outcome.failure ? { failure: outcome.failure } : {}),
          }),
        );
      return EXIT.failed;
    }
    const report = outcome.report;
    const move = `${report.appName} ${report.imageTag ?? '?'} ${report.sourceEnv ?? '?'}→${report.targetEnv ?? '?'}`;
    if (report.failure) say(`${handle.workflowId} ${report.status}: ${report.failure.type}: ${report.failure.message}`);
    else
      say(
        `${handle.workflowId}: ${report.status}, ${move}${report.mergeRequest ? ` (${report.mergeRequest.webUrl})` : ''}`,
      );
    if (json) ctx.out(JSON.stringify(report));
    return PROMOTION_SUCCEEDED.includes(report.status) ? EXIT.ok : EXIT.failed;
  } finally {
    stopHints();
  }
}

/** The ends of a promotion that `--follow` exits 0 on: the image is (or stays) where it was asked to go, or the MR is open. */
const PROMOTION_SUCCEEDED: readonly PromotionReport['status'][] = ['succeeded', 'unchanged', 'merge-request-opened'];

export const promoteCommand: Command = {
  usage:
    '[--app APP | --all [--concurrency N]] --from ENV --to ENV [--image-tag TAG] [--mode jenkins|gitlab] [--no-merge] [--allow-unsettled-target] [--dry-run] [--follow] [--json]',
  help: `
Starts promoteEnvironment as workflow promote-<app>-<to>: it takes the image running synced and healthy in --from
(or checks that it is --image-tag), opens the promotion MR, waits for an approval where SHEPHERD_APPROVAL_ENVIRONMENTS
says so (default prod; approvers from SHEPHERD_APPROVERS), merges, waits for Argo CD and verifies the pods.
The flags are checked first with the workflow's own rules; a bad one exits 2 and starts nothing.

When a promotion to the same target already runs:
  same image, or no --image-tag   joins it (prints its run; --follow follows it)
  another image, not merging yet  supersedes it: it closes its MR and branch, then this one starts
  another image, merging or later exits 1: an environment is never switched mid-rollout; retry afterwards

With --all, every app of the pipeline is promoted from --from to --to, each with what runs synced and healthy in
--from: one promoteEnvironment run per app (promote-<app>-<to>), at most --concurrency at a time, each app on its
own (a failed hop reverts that app only), inside one fanOutApps run (fan-out-promote-<to>) that goes on if this
command stops. A promotion of an app already running is not joined: that app is reported failed, naming it.
With --follow it ends with one summary table and one report covering all apps: {"status", "apps": [...]},
succeeded only when every app succeeded, rolled_back when each app that did not rolled back cleanly, else failed.

Options:
  --app APP          the application; required when the pipeline has several (default: its only app)
  --all              every app of the pipeline (instead of --app; not with --image-tag)
  --concurrency N    with --all: how many apps run at a time (default 4)
  --from ENV         the source environment: one of the pipeline's but its last (seed: dev or stage)
  --to ENV           the target: the environment after --from (seed: dev→stage, stage→prod)
  --image-tag TAG    promote this image; it must be the one running in --from (default: whatever runs there)
  --mode MODE        jenkins (run the promote-environment job, default) or gitlab (open the MR through the API)
  --no-merge         stop once the MR is open
  --allow-unsettled-target
                     go on when --to does not run what its branch declares, synced and healthy (refused by
                     default: a rollback would have no known-good state to return to); the report records it
  --dry-run          start nothing: show the image from → to, the files and diff of the MR, and the gates
  --follow           show each step live until the end; exit 0 when promoted, 1 otherwise
  --json             one line of JSON: {"workflowId","runId","decision"}, or with --follow the result

Examples:
  npx shepherd promote --from dev --to stage --follow
  npx shepherd promote --app example-app --from stage --to prod --image-tag 1.0.37-SNAPSHOT-abc1234
  npx shepherd promote --all --from dev --to stage --concurrency 2 --follow
`,
  options: {
    app: { type: 'string' },
    all: { type: 'boolean' },
    concurrency: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'image-tag': { type: 'string' },
    mode: { type: 'string' },
    'no-merge': { type: 'boolean' },
    'allow-unsettled-target': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    follow: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const v = ctx.values;
    if (v.from === undefined || v.to === undefined)
      throw new UsageError(`${v.from === undefined ? '--from' : '--to'} is required (e.g. --from dev --to stage)`);
    if (v.all && v.app !== undefined) throw new UsageError('--app and --all exclude each other: name one app, or all');
    if (v.all && v['image-tag'] !== undefined)
      throw new UsageError('--image-tag goes with one --app: with --all each app promotes what runs in --from');
    if (v.concurrency !== undefined && !v.all) throw new UsageError('--concurrency goes with --all');
    const config = ctx.config();
    if (v.all) return promoteAll(ctx, config);
    const raw: PromoteEnvironmentInput = {
      appName: configuredApp(config, v.app as string | undefined),
      sourceEnv: v.from as PromoteEnvironmentInput['sourceEnv'],
      targetEnv: v.to as PromoteEnvironmentInput['targetEnv'],
      ...(v['image-tag'] !== undefined ? { imageTag: v['image-tag'] as string } : {}),
      ...(v.mode !== undefined ? { mode: v.mode as PromoteEnvironmentInput['mode'] } : {}),
      ...(v['no-merge'] ? { merge: false } : {}),
      ...(v['allow-unsettled-target'] ? { allowUnsettledTarget: true } : {}),
      ...runFields(config),
    };
    const input = checkInput(promoteEnvironmentInputSchema(pipelineOrder(config)), raw, FLAGS);
    if (v['dry-run']) return dryRunPromotion(ctx, config, input);
    const json = v.json === true;
    const say = json ? ctx.err : ctx.out;
    const workflowId = promotionWorkflowId(input.appName, input.targetEnv);
    const what = `${input.appName} ${input.sourceEnv}→${input.targetEnv}${input.imageTag ? ` (${input.imageTag})` : ''}`;

    return withClient(config, async (client) => {
      const running = await runningPromotion(client, workflowId);
      const decision = decidePromotionRequest(running?.current, input.imageTag);
      const announce = (runId: string): void => {
        if (json && !v.follow) ctx.out(JSON.stringify({ workflowId, runId, decision }));
      };

      if (running && decision === 'join') {
        say(
          `A promotion to ${input.targetEnv} already runs as ${workflowId} (run ${running.runId}, image ${running.current.imageTag ?? 'being resolved'}, ${running.current.phase}); joining it instead of starting another.`,
        );
        announce(running.runId);
        return v.follow ? follow(ctx, client, running.handle, json) : EXIT.ok;
      }
      if (running && decision === 'wait') {
        ctx.err(
          `${workflowId} is rolling out ${running.current.imageTag ?? '?'} (${running.current.phase}); an environment is never switched mid-rollout.`,
        );
        ctx.err(`Retry when it has finished: \`npx shepherd status ${workflowId}\`.`);
        return EXIT.failed;
      }
      if (running && decision === 'supersede') {
        say(
          `Superseding ${workflowId} (run ${running.runId}, image ${running.current.imageTag ?? '?'}, ${running.current.phase}) with ${input.imageTag}; it closes its MR and branch first.`,
        );
        try {
          await running.handle.executeUpdate(supersedeUpdate, {
            args: [{ imageTag: input.imageTag!, by: operatorName() }],
          });
        } catch (err) {
          ctx.err(
            `${workflowId} refused to be superseded: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}. Retry when it has finished.`,
          );
          return EXIT.failed;
        }
        await running.handle.result().catch(() => undefined);
      }

      let handle;
      try {
        handle = await client.workflow.start(promoteEnvironment, {
          workflowId,
          taskQueue: config.temporal.taskQueue,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          args: [input],
          typedSearchAttributes: [
            { key: ShepherdApp, value: input.appName },
            { key: ShepherdEnvironment, value: input.targetEnv },
            { key: ShepherdStatus, value: 'running' },
            ...(input.imageTag ? [{ key: ShepherdImageTag, value: input.imageTag }] : []),
          ],
          ...promotionMetadata(input, `${operatorName()} with the shepherd CLI`),
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        ctx.err(
          `Another promotion to ${input.targetEnv} started meanwhile as ${workflowId}; run the command again to join or supersede it.`,
        );
        return EXIT.failed;
      }
      say(
        `Started promoteEnvironment ${workflowId} (run ${handle.firstExecutionRunId}): ${what}, on task queue ${config.temporal.taskQueue}.`,
      );
      announce(handle.firstExecutionRunId);
      if (v.follow) return follow(ctx, client, handle, json);
      if (!json) ctx.out(`Follow it with \`npx shepherd status ${workflowId}\`.`);
      return EXIT.ok;
    });
  },
};

/** `promote --all`: one fanOutApps run promoting every app of the pipeline from --from to --to. */
async function promoteAll(ctx: CommandContext, config: ShepherdConfig): Promise<number> {
  const v = ctx.values;
  const concurrency = concurrencyFlag(v.concurrency);
  const input = checkFanOutInput(
    {
      kind: 'promote',
      apps: config.pipeline.apps.map((a) => a.app.name),
      ...(concurrency !== undefined ? { concurrency } : {}),
      sourceEnv: v.from as string,
      targetEnv: v.to as string,
      ...(v.mode !== undefined ? { mode: v.mode as PromoteEnvironmentInput['mode'] } : {}),
      ...(v['no-merge'] ? { merge: false } : {}),
      ...(v['allow-unsettled-target'] ? { allowUnsettledTarget: true } : {}),
      ...runFields(config),
    },
    { ...FLAGS, concurrency: '--concurrency' },
  );
  if (v['dry-run'] && input.kind === 'promote') return dryRunPromotion(ctx, config, input, input.apps);
  return withClient(config, (client) =>
    runFanOut(client, input, {
      taskQueue: config.temporal.taskQueue,
      startedBy: `${operatorName()} with the shepherd CLI (promote --all)`,
      follow: v.follow === true,
      json: v.json === true,
      reportsDir: join(PROJECT_ROOT, 'reports'),
      out: ctx.out,
      err: ctx.err,
    }),
  );
}
