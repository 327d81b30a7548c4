/**
 * The live view of a running validation or promotion: each step as it starts and ends (with image, MR and build
 * links), the child promotion's steps under their iteration, and, on a TTY, a status line for the current wait.
 * Reads only the `progress` query, so it can follow a run started anywhere (CLI, UI, schedule) and stop at will.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Progress, StepRecord } from '../domain/report.js';
import { runOutcome, type RunOutcome } from '../temporal/run-outcome.js';
import { approveUpdate, overrideFreezeUpdate, progressQuery } from '../../workflows/messages.js';
import { waitingOnText } from './operator.js';
import { approveInGitLab, pendingApprovalOf, type GitLabApprover } from './gitlab-approval.js';

/**
 * How often the live view asks the run (and the child it waits on) for progress: each look is one to three queries
 * that a worker answers, replaying the run when it is not cached, so every terminal following a run costs the
 * workers. A step's start or end shows within a second; the run's end shows at once (it does not wait for a look).
 */
export const FOLLOW_POLL_MS = 1_000;

export interface FollowOptions {
  readonly out: (line: string) => void;
  /** A TTY gets a self-updating status line; other outputs get plain lines only. */
  readonly tty: boolean;
  /** Default FOLLOW_POLL_MS. */
  readonly pollMs?: number;
  /**
   * Approve every approval gate the run reaches, as this person, through the `approve` update; a gate whose
   * approval comes from GitLab is approved there with `gitlab`'s token (part B), as `shepherd approve` would.
   */
  readonly autoApprove?: { readonly by: string; readonly reason: string; readonly gitlab?: GitLabApprover };
}

function stepKey(s: StepRecord): string {
  return `${s.name}|${s.env ?? ''}|${s.startedAt}`;
}

function describeStep(s: StepRecord): string {
  const parts = [s.env ? `[${s.env}]` : '', s.name];
  if (s.imageTag) parts.push(`image ${s.imageTag}`);
  if (s.links?.mergeRequest) parts.push(s.links.mergeRequest);
  if (s.links?.build) parts.push(s.links.build);
  return parts.filter(Boolean).join(' ');
}

function waitText(s: StepRecord, now: number): string {
  const since = Math.max(0, Math.round((now - Date.parse(s.startedAt)) / 1000));
  const on = s.waitingOn ? ` ${waitingOnText(s.waitingOn)}` : '';
  const until = s.timeoutAt ? `, gives up at ${s.timeoutAt.slice(11, 19)}Z` : '';
  return `… ${describeStep(s)}${on} for ${since}s${until}`;
}

/**
 * Follows `handle` until the run closes; returns its outcome (run-outcome.ts): the report whether the run
 * completed or failed with it, else the failure. Prints step lines as they change. With `autoApprove`, approves
 * pending gates on child promotions through the real update.
 */
export async function followRun(client: Client, handle: WorkflowHandle, opts: FollowOptions): Promise<RunOutcome> {
  const seen = new Map<string, StepRecord['status']>();
  const approved = new Set<string>();
  // Child runs whose last steps may not be printed yet: a child's final step ends after the parent stops waiting
  // on it, so each child is asked once more when the parent has moved on, until it has no running step.
  const unfinishedChildren = new Set<string>();
  const reportChildren = async (waitedOn: string | undefined): Promise<void> => {
    for (const childId of unfinishedChildren) {
      if (childId === waitedOn) continue;
      try {
        const cp = await client.workflow.getHandle(childId).query(progressQuery);
        report(cp.steps, '    ');
        if (!cp.current) unfinishedChildren.delete(childId);
      } catch {
        // Not answering (no worker to replay it, or gone): its end line is not shown.
        unfinishedChildren.delete(childId);
      }
    }
  };
  let statusLineShown = false;
  let done = false;
  const clearStatus = (): void => {
    if (opts.tty && statusLineShown) {
      process.stdout.write('\x1b[2K\r');
      statusLineShown = false;
    }
  };
  const print = (line: string): void => {
    clearStatus();
    opts.out(line);
  };

  const report = (steps: readonly StepRecord[], indent: string): void => {
    for (const s of steps) {
      const key = stepKey(s);
      const before = seen.get(key);
      if (before === s.status) continue;
      seen.set(key, s.status);
      if (before === undefined && s.status === 'running') print(`${indent}→ ${describeStep(s)}`);
      else if (s.status === 'succeeded')
        print(
          `${indent}✓ ${describeStep(s)} (${((s.durationMs ?? 0) / 1000).toFixed(1)}s${s.attempts && s.attempts > 1 ? `, ${s.attempts} attempts` : ''})`,
        );
      else if (s.status === 'failed')
        print(`${indent}✗ ${describeStep(s)}: ${s.failure?.type ?? 'failed'}: ${s.failure?.message ?? ''}`);
      else if (s.status === 'cancelled') print(`${indent}- ${describeStep(s)} cancelled`);
    }
  };

  const poll = async (): Promise<void> => {
    let progress: Progress;
    try {
      progress = await handle.query(progressQuery);
    } catch {
      return;
    }
    const waitedOn =
      progress.current?.waitingOn?.kind === 'child-workflow' ? progress.current.waitingOn.ref : undefined;
    await reportChildren(waitedOn);
    report(progress.steps, '');
    let current = progress.current;
    if (current?.waitingOn?.kind === 'child-workflow') {
      const childId = current.waitingOn.ref;
      unfinishedChildren.add(childId);
      try {
        const child = client.workflow.getHandle(childId);
        const cp = await child.query(progressQuery);
        report(cp.steps, '    ');
        if (cp.current) current = cp.current;
        if (cp.current?.waitingOn?.kind === 'freeze' && opts.autoApprove && !approved.has(`${childId}|freeze`)) {
          // The demo shows the whole run: a freeze window it meets is overridden, with the reason in the report.
          approved.add(`${childId}|freeze`);
          print(
            `    ! ${childId} waits for a freeze window; overriding it as ${opts.autoApprove.by} (as \`npx shepherd override-freeze ${childId} --by ${opts.autoApprove.by} --reason …\` would)`,
          );
          await child.executeUpdate(overrideFreezeUpdate, {
            args: [{ by: opts.autoApprove.by, reason: `${opts.autoApprove.reason} (the freeze window overridden)` }],
          });
          return;
        }
        if (cp.current?.waitingOn?.kind === 'approval' && opts.autoApprove && !approved.has(childId)) {
          approved.add(childId);
          const pending = opts.autoApprove.gitlab ? await pendingApprovalOf(client, childId) : undefined;
          if (pending?.source === 'gitlab' && pending.mergeRequest && opts.autoApprove.gitlab) {
            print(
              `    ! ${childId} waits for an approval in GitLab; approving !${pending.mergeRequest.iid} with the token of an eligible approver (as \`SHEPHERD_APPROVER_TOKEN=… npx shepherd approve ${childId}\` would)`,
            );
            const result = await approveInGitLab(
              childId,
              { ...pending, mergeRequest: pending.mergeRequest },
              opts.autoApprove.gitlab,
            );
            for (const line of result.lines) print(`    ${line}`);
            return;
          }
          print(
            `    ! ${childId} waits for approval; approving as ${opts.autoApprove.by} through the \`approve\` update (as \`npx shepherd approve ${childId} --by ${opts.autoApprove.by}\` would)`,
          );
          await child.executeUpdate(approveUpdate, {
            args: [{ by: opts.autoApprove.by, reason: opts.autoApprove.reason }],
          });
        }
      } catch {
        // The child may not have started yet or already finished; the next poll looks again.
      }
    }
    for (const r of progress.rollback) {
      const key = `rollback|${r.action}|${r.target}|${r.status}`;
      if (seen.has(key)) continue;
      seen.set(key, 'succeeded');
      print(
        `↩ ${r.action} ${r.env ?? ''} ${r.target}${r.fromImageTag || r.toImageTag ? ` (${r.fromImageTag ?? '?'} → ${r.toImageTag ?? '?'})` : ''}: ${r.status}${r.failure ? ` — ${r.failure.message}` : ''}`,
      );
    }
    if (opts.tty && current?.status === 'running' && !done) {
      process.stdout.write(`\x1b[2K\r${waitText(current, Date.now()).slice(0, (process.stdout.columns ?? 120) - 1)}`);
      statusLineShown = true;
    }
  };

  const settled = handle.result().then(
    () => undefined,
    () => undefined,
  );
  while (!done) {
    await poll();
    done = await Promise.race([
      settled.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), opts.pollMs ?? FOLLOW_POLL_MS)),
    ]);
  }
  await poll();
  clearStatus();
  return await runOutcome(client, handle.workflowId, (handle as { firstExecutionRunId?: string }).firstExecutionRunId);
}
