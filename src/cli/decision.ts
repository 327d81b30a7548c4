/**
 * The approval decision commands, `shepherd approve` and `shepherd reject`: one definition, two updates.
 */
import { isGrpcServiceError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { isEnvironment } from '../domain/environments.js';
import { promotionWorkflowId } from '../domain/promotion-policy.js';
import { approveUpdate, progressQuery, rejectUpdate } from '../../workflows/messages.js';
import { EXIT, UsageError, type Command, type CommandContext } from './command.js';
import { withClient } from './connect.js';
import { approveInGitLab, pendingApprovalOf, type GitLabApprover } from './gitlab-approval.js';
import type { ShepherdConfig } from '../config/load.js';
import { readWorldFile } from '../sandbox/world/world-file.js';

/**
 * The promotion an id names. A validation run that waits on a child promotion stands for that child, so that
 * `approve validate-example-app` works as well as `approve promote-example-app-prod`.
 */
export async function gateOf(client: Client, workflowId: string): Promise<string> {
  if (!workflowId.startsWith('validate-')) return workflowId;
  try {
    const p = await client.withDeadline(Date.now() + 5_000, () =>
      client.workflow.getHandle(workflowId).query(progressQuery),
    );
    if (p.current?.waitingOn?.kind === 'child-workflow') return p.current.waitingOn.ref;
  } catch {
    // Not running or not queryable: let the update say so.
  }
  return workflowId;
}

/** An update waits for a worker to run the workflow's validator; without one it would wait forever. */
const UPDATE_DEADLINE_MS = 30_000;

/** gRPC status 4, DEADLINE_EXCEEDED, as the client reports it (directly or as the cause of a ServiceError). */
function deadlineExceeded(err: unknown): boolean {
  const grpc = isGrpcServiceError(err)
    ? err
    : isGrpcServiceError((err as Error | undefined)?.cause)
      ? ((err as Error).cause as { code: number })
      : undefined;
  return grpc?.code === 4;
}

/** The promotion a gate command names: WORKFLOW_ID, or --env ENV [--app APP]. */
export function targetId(ctx: CommandContext, name: string): string {
  const [id, extra] = ctx.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  const app = ctx.values.app as string | undefined;
  const env = ctx.values.env as string | undefined;
  if (id !== undefined) {
    if (app !== undefined || env !== undefined)
      throw new UsageError('give either WORKFLOW_ID or --app/--env, not both');
    return id;
  }
  if (env === undefined)
    throw new UsageError(`name the promotion: shepherd ${name} promote-<app>-<env>, or --env ENV [--app APP]`);
  if (!isEnvironment(env)) throw new UsageError(`--env must be one of dev, stage, prod, got ${env}`);
  return promotionWorkflowId(app ?? ctx.config().app.name, env);
}

/** The options of the commands that decide at a promotion's gate (approve, reject, override-freeze). */
export const GATE_OPTIONS = {
  by: { type: 'string' },
  reason: { type: 'string' },
  app: { type: 'string' },
  env: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** `approve` and `reject`: the same command around the two updates. */
export function decisionCommand(verdict: 'approve' | 'reject'): Command {
  const update = verdict === 'approve' ? approveUpdate : rejectUpdate;
  const past = verdict === 'approve' ? 'approved' : 'rejected';
  return {
    usage:
      verdict === 'approve'
        ? `WORKFLOW_ID [--by NAME] [--reason TEXT]  |  --app APP --env ENV [--by NAME] [--reason TEXT]`
        : `WORKFLOW_ID --by NAME [--reason TEXT]  |  --app APP --env ENV --by NAME [--reason TEXT]`,
    help: `
Sends the \`${verdict}\` update to a waiting promotion, the same update as
\`temporal workflow update execute --name ${verdict} --workflow-id promote-example-app-prod --input '{"by":"alice"}'\`.
The workflow checks it before accepting it: a name that is not on the approvers list (SHEPHERD_APPROVERS when the
run started), or a run with no approval pending, is refused with the reason, and the exit code is 1.
${verdict === 'reject' ? 'A rejected promotion closes its MR, deletes its branch and fails with ApprovalRejectedError.\n' : ''}
WORKFLOW_ID is the promotion (promote-<app>-<env>), or a validation run (validate-<app>) waiting on one.
${
  verdict === 'approve'
    ? `
Where approvals come from GitLab (SHEPHERD_APPROVALS_SOURCE=gitlab when the run started), \`approve\` approves the
promotion's merge request in GitLab as you, with your own personal access token (SHEPHERD_APPROVER_TOKEN, else
GITLAB_TOKEN), naming the commit the run opened; GitLab decides whether you may (its approval rules, no approval by
the MR's author) and the run records the GitLab user. --by is not needed then. GitLab's refusals are explained:
401 not eligible, 403 no permission, 409 the MR's head moved; 304 means you had approved already.
`
    : `
Where approvals come from GitLab, \`reject\` still goes through the update (anyone who can write to the Temporal
namespace may stop a promotion); closing the MR in GitLab ends the run the same way.
`
}
Options:
  --by NAME       who decides (required, except where GitLab approves: GitLab names who approved)
  --reason TEXT   why; kept in the run's history and result
  --app APP       with --env instead of WORKFLOW_ID (default APP_REPO_NAME, "example-app")
  --env ENV       the promotion's target environment
  --json          print the outcome as one line of JSON

Examples:
  npx shepherd ${verdict} promote-example-app-prod --by alice --reason "${verdict === 'approve' ? 'release window open' : 'freeze until Monday'}"
  npx shepherd ${verdict} --env prod --by alice
`,
    options: GATE_OPTIONS,
    async run(ctx) {
      const requested = targetId(ctx, verdict);
      const by = ctx.values.by as string | undefined;
      const needBy = (): string => {
        if (by === undefined || by.trim() === '') throw new UsageError('--by NAME is required: who decides');
        return by;
      };
      // --by is checked before connecting, unless this installation's approvals come from GitLab (GitLab names who).
      if (verdict === 'reject' || !approvalsFromGitLab(ctx.config())) needBy();
      const reason = ctx.values.reason as string | undefined;
      return withClient(ctx.config(), async (client) => {
        const workflowId = await gateOf(client, requested);
        if (verdict === 'approve') {
          // Part B: a run whose approval comes from GitLab is approved there, as the person whose token this is.
          const pending = await pendingApprovalOf(client, workflowId);
          if (pending?.source === 'gitlab' && pending.mergeRequest) {
            const approver = gitLabApprover(ctx.config());
            const result = await approveInGitLab(
              workflowId,
              { ...pending, mergeRequest: pending.mergeRequest },
              approver,
            );
            if (ctx.values.json)
              ctx.out(JSON.stringify({ workflowId, approvedInGitLab: result.ok, approvedBy: result.approvedBy ?? [] }));
            for (const line of result.lines) (result.ok ? ctx.out : ctx.err)(line);
            return result.ok ? EXIT.ok : EXIT.failed;
          }
        }
        const by = needBy();
        const outcome = await updateAtGate(ctx, client, workflowId, { name: verdict, past }, (handle) =>
          handle.executeUpdate(update, { args: [{ by, ...(reason !== undefined ? { reason } : {}) }] }),
        );
        if (outcome === undefined) return EXIT.failed;
        if (ctx.values.json) ctx.out(JSON.stringify({ workflowId, ...outcome }));
        else ctx.out(`${workflowId}: ${outcome.decision} by ${outcome.by} at ${outcome.at}.`);
        return EXIT.ok;
      });
    },
  };
}

/**
 * Sends a gate's update (`approve`, `reject`, `overrideFreeze`) within UPDATE_DEADLINE_MS and explains what went
 * wrong: the run's refusal and its reason, no such running run, no worker to take it. Undefined when it failed (said
 * on stderr); the caller exits 1 then.
 */
export async function updateAtGate<T>(
  ctx: CommandContext,
  client: Client,
  workflowId: string,
  what: { readonly name: string; readonly past: string },
  send: (handle: WorkflowHandle) => Promise<T>,
): Promise<T | undefined> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    return await client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () => send(handle));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      ctx.err(`${workflowId} refused: ${(err.cause as Error | undefined)?.message ?? err.message}.`);
      ctx.err(`Nothing was ${what.past}. See where the run is with \`npx shepherd status ${workflowId}\`.`);
      return undefined;
    }
    if (err instanceof WorkflowNotFoundError) {
      ctx.err(`No running workflow ${workflowId}. List the running ones with \`npx shepherd status\`.`);
      return undefined;
    }
    if (deadlineExceeded(err)) {
      ctx.err(
        `${workflowId} did not take the ${what.name} within ${UPDATE_DEADLINE_MS / 1000}s: is a worker polling its task queue (\`npx shepherd worker\`)?`,
      );
      ctx.err(`Nothing was ${what.past}; run the command again once a worker runs.`);
      return undefined;
    }
    throw err;
  }
}

/**
 * Part B: where `approve` approves in GitLab and with whose token: the configured GitLab (or the running sandbox
 * world's), the person's SHEPHERD_APPROVER_TOKEN, else GITLAB_TOKEN. The token never leaves this process.
 */
function gitLabApprover(config: ShepherdConfig): GitLabApprover {
  const world = config.gitlab ? undefined : readWorldFile(config.temporal.stateDir);
  const target = config.gitlab ?? world?.gitlab;
  if (!target)
    throw new UsageError(
      'this promotion waits for an approval in GitLab, but no GitLab is configured (GITLAB_URL_EXTERNAL) and no sandbox world runs: approve its merge request in GitLab itself',
    );
  const token = config.approvals.approverToken ?? config.gitlab?.token;
  if (!token)
    throw new UsageError(
      'this promotion waits for an approval in GitLab: set SHEPHERD_APPROVER_TOKEN to your own GitLab personal access token (scope api), so that GitLab knows who approves',
    );
  return {
    url: target.url,
    project: target.deploymentsProject,
    token,
    tokenVariable: config.approvals.approverToken ? 'SHEPHERD_APPROVER_TOKEN' : 'GITLAB_TOKEN',
  };
}

/** Part B: the installation's approvals come from GitLab (the configuration, or the running sandbox world's settings). */
function approvalsFromGitLab(config: ShepherdConfig): boolean {
  if (config.approvals.source === 'gitlab') return true;
  if (config.gitlab) return false;
  return readWorldFile(config.temporal.stateDir)?.settings?.SHEPHERD_APPROVALS_SOURCE === 'gitlab';
}
