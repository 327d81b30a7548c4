/**
 * Part B: `shepherd approve` where the promotion's approval comes from GitLab. The CLI approves the run's MR in
 * GitLab with the person's own token (SHEPHERD_APPROVER_TOKEN, else their GITLAB_TOKEN), naming the head the run
 * opened as `sha`, so that GitLab authenticates the person, applies its approval rules, and refuses an approval of
 * anything else. The token stays in this process: the workflow learns of the approval from GitLab itself.
 */
import type { Client } from '@temporalio/client';
import { GitLabClient, type MergeRequestApprovals } from '../clients/gitlab/index.js';
import type { Secret } from '../config/secret.js';
import { AuthenticationError } from '../domain/errors.js';
import { pendingApprovalQuery, type PendingApproval } from '../../workflows/messages.js';

/** Where and as whom the CLI approves. */
export interface GitLabApprover {
  readonly url: string;
  /** The deployments project (`group/k8s-deployments`). */
  readonly project: string;
  readonly token: Secret;
  /** The variable the token came from, named when GitLab refuses it. */
  readonly tokenVariable: string;
}

/** The approval a run waits for; undefined when it does not answer the query (a worker of older code). */
export async function pendingApprovalOf(
  client: Client,
  workflowId: string,
): Promise<PendingApproval | null | undefined> {
  try {
    return await client.withDeadline(Date.now() + 10_000, () =>
      client.workflow.getHandle(workflowId).query(pendingApprovalQuery),
    );
  } catch {
    return undefined;
  }
}

export interface GitLabApproveResult {
  readonly ok: boolean;
  /** What happened, one line each, for people. */
  readonly lines: readonly string[];
  /** GitLab's approvers after the call, when GitLab answered. */
  readonly approvedBy?: readonly string[];
}

/** Approves the MR `pending` names as the token's user and explains GitLab's answer (201, 304, 401, 403, 409). */
export async function approveInGitLab(
  workflowId: string,
  pending: PendingApproval & { mergeRequest: NonNullable<PendingApproval['mergeRequest']> },
  approver: GitLabApprover,
): Promise<GitLabApproveResult> {
  const { iid, headSha, webUrl } = pending.mergeRequest;
  const gitlab = new GitLabClient({ url: approver.url, token: approver.token });
  let username: string;
  try {
    username = (await gitlab.currentUser()).username;
  } catch (err) {
    if (err instanceof AuthenticationError)
      return {
        ok: false,
        lines: [
          `GitLab did not accept the token in ${approver.tokenVariable} (HTTP ${err.facts.status}): it is wrong, expired or revoked. Set ${approver.tokenVariable} to your own personal access token (scope api). Nothing was approved.`,
        ],
      };
    throw err;
  }
  const me = `@${username}`;
  const mr = `!${iid} (${webUrl})`;
  const outcome = await gitlab.approveMergeRequest(approver.project, iid, headSha);
  switch (outcome.kind) {
    case 'approved':
      return {
        ok: true,
        lines: [
          `${workflowId}: ${me} approved ${mr} in GitLab at ${headSha.slice(0, 8)}. ${standing(outcome.approvals, me)}`,
        ],
        approvedBy: outcome.approvals.approvedBy.map((u) => u.username),
      };
    case 'already-approved':
      return {
        ok: true,
        lines: [
          `${workflowId}: ${me} had already approved ${mr} (GitLab answered 304). ${standing(outcome.approvals, me)}`,
        ],
        approvedBy: outcome.approvals.approvedBy.map((u) => u.username),
      };
    case 'not-eligible':
      return {
        ok: false,
        lines: [
          `GitLab refused (401): ${me} may not approve ${mr}. GitLab's rules exclude the MR's author and, where the project says so, its committers (or the project requires a password to approve).`,
          `Nothing was approved. Ask an eligible approver, or approve with your own token (${approver.tokenVariable}) if this one is not yours.`,
        ],
      };
    case 'forbidden':
      return {
        ok: false,
        lines: [
          `GitLab refused (403): ${me} has no permission to approve merge requests in ${approver.project} (not a member, or Guest).`,
          `Nothing was approved. Ask a maintainer of ${approver.project} for Developer access, or ask an eligible approver.`,
        ],
      };
    case 'head-moved':
      return {
        ok: false,
        lines: [
          `GitLab refused (409): the head of ${mr} is no longer ${headSha.slice(0, 8)}, the commit this run opened and will merge (${outcome.message}).`,
          `Nothing was approved. Someone pushed to the MR's branch, which also reset its approvals: reject the promotion (\`npx shepherd reject ${workflowId} --by NAME\`) and promote again.`,
        ],
      };
  }
}

/** Where the MR stands after the approval: approved, or how many approvals its rules still need. */
function standing(approvals: MergeRequestApprovals, me: string): string {
  const by = approvals.approvedBy.map((u) => `@${u.username}`).join(', ') || 'nobody';
  if (approvals.approvalsLeft !== undefined && approvals.approvalsLeft > 0)
    return `Its approval rules still need ${approvals.approvalsLeft} more (approved by ${by}; if ${me} is not among the rule's approvers, the approval does not count): the promotion keeps waiting.`;
  if (!approvals.approved)
    return `GitLab does not count it as approved yet (approved by ${by}): the promotion keeps waiting.`;
  return `GitLab counts the MR approved (approved by ${by}): the promotion merges it.`;
}
