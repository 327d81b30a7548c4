/**
 * `shepherd override-freeze`: an approver lets a promotion merge into its frozen target now. Its own command rather
 * than a flag of `approve`: it is another decision at another gate (an environment may freeze without requiring
 * approvals, and approving a merge request is not saying "merge during the freeze"), it always needs a reason, and
 * an operator reading the shell history or the run's history should see the word "override" (the `overrideFreeze`
 * update), not an approval.
 */
import { overrideFreezeUpdate } from '../../../workflows/messages.js';
import { EXIT, UsageError, type Command } from '../command.js';
import { withClient } from '../connect.js';
import { GATE_OPTIONS, gateOf, targetId, updateAtGate } from '../decision.js';

export const overrideFreezeCommand: Command = {
  usage: 'WORKFLOW_ID --by NAME --reason TEXT  |  --app APP --env ENV --by NAME --reason TEXT',
  help: `
Sends the \`overrideFreeze\` update to a promotion whose target environment is frozen (its freeze windows in the
pipeline file), the same update as
\`temporal workflow update execute --name overrideFreeze --workflow-id promote-example-app-prod --input '{"by":"alice","reason":"hotfix"}'\`.
The promotion merges at once instead of waiting for the window to close (policy wait) or failing with
FreezeWindowError (policy refuse). The override is recorded in the run's report (who, when, why, which window) and
sent as the freeze-overridden notification.

The run accepts it while it waits at its freeze gate (\`npx shepherd status\` says "frozen until …") or has not
reached it yet, e.g. while it waits for its approval: it then applies when the run gets there. It refuses a name
that is not on the target environment's approvers list (when it has one), a missing reason, a run past its gate,
and environments whose approvals come from GitLab (the update carries no identity GitLab vouches for), each with
the reason; the exit code is 1 then.

WORKFLOW_ID is the promotion (promote-<app>-<env>), or a validation run (validate-<app>) waiting on one.

Options:
  --by NAME       who overrides: one of the target environment's approvers (required)
  --reason TEXT   why the change cannot wait (required; in the report and the notification)
  --app APP       with --env instead of WORKFLOW_ID (default APP_REPO_NAME, "example-app")
  --env ENV       the promotion's target environment
  --json          print the outcome as one line of JSON

Examples:
  npx shepherd override-freeze promote-example-app-prod --by alice --reason "hotfix for the checkout outage"
  npx shepherd override-freeze --env prod --by alice --reason "security fix CVE-2026-1234"
`,
  options: GATE_OPTIONS,
  async run(ctx) {
    const requested = targetId(ctx, 'override-freeze');
    const by = (ctx.values.by as string | undefined)?.trim();
    if (!by) throw new UsageError('--by NAME is required: who overrides the freeze');
    const reason = (ctx.values.reason as string | undefined)?.trim();
    if (!reason) throw new UsageError('--reason TEXT is required: why the change cannot wait for the window to close');
    return withClient(ctx.config(), async (client) => {
      const workflowId = await gateOf(client, requested);
      const outcome = await updateAtGate(ctx, client, workflowId, { name: 'override', past: 'overridden' }, (handle) =>
        handle.executeUpdate(overrideFreezeUpdate, { args: [{ by, reason }] }),
      );
      if (outcome === undefined) return EXIT.failed;
      if (ctx.values.json) ctx.out(JSON.stringify({ workflowId, ...outcome }));
      else
        ctx.out(
          `${workflowId}: freeze overridden by ${outcome.by} at ${outcome.at} (${outcome.reason}); it merges when it reaches its gate.`,
        );
      return EXIT.ok;
    });
  },
};
