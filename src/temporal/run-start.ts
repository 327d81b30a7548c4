/** The start options of Shepherd's runs, shared by the CLI, the schedule and the chaos runner. */
import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { PromoteEnvironmentInput, ValidatePipelineInput } from '../domain/inputs.js';
import { validationWorkflowId } from '../domain/promotion-policy.js';
import { ShepherdApp, ShepherdStatus } from './common/search-attributes.js';

/** Temporal's user metadata of a run: the Web UI shows the summary in the run list and both on the run's page. */
export interface RunMetadata {
  /** One line, e.g. `validate example-app: dev → stage → prod (jenkins)`. */
  readonly staticSummary: string;
  /** Markdown: the run's input in words (never a secret: inputs hold none) and who started it. */
  readonly staticDetails: string;
}

/** What a validation sets out to do, in words; `startedBy` says who or what started it (e.g. `schedule nightly`). */
export function validationMetadata(input: ValidatePipelineInput, startedBy: string): RunMetadata {
  const order = input.environments ?? ['dev', 'stage', 'prod'];
  const through = input.through ?? order[order.length - 1]!;
  const path = order.slice(0, order.indexOf(through) + 1).join(' → ');
  return {
    staticSummary: `validate ${input.appName}: ${path} (${input.mode ?? 'jenkins'})`,
    staticDetails: [
      `**Pipeline validation** of ${input.appName} through ${through}, promotion MRs opened by ${input.mode === 'gitlab' ? 'the GitLab API' : 'the Jenkins promote job'}.`,
      `Rollback scope: ${input.rollback ?? 'failed'}. Approval before: ${(input.approvalEnvironments ?? ['prod']).join(', ') || 'none'}; approvers: ${input.approvers?.length ? input.approvers.join(', ') : 'anyone'}.`,
      `Started by ${startedBy}.`,
    ].join('\n\n'),
  };
}

/** What a promotion sets out to do, in words. */
export function promotionMetadata(input: PromoteEnvironmentInput, startedBy: string): RunMetadata {
  const image = input.imageTag ?? `what runs in ${input.sourceEnv}`;
  return {
    staticSummary: `promote ${input.appName} ${image} ${input.sourceEnv} → ${input.targetEnv}`,
    staticDetails: [
      `**Promotion** of ${input.appName} ${image} from ${input.sourceEnv} to ${input.targetEnv}, MR opened by ${input.mode === 'gitlab' ? 'the GitLab API' : 'the Jenkins promote job'}${input.merge === false ? ', left open (no merge)' : ''}.`,
      `Started by ${startedBy}.`,
    ].join('\n\n'),
  };
}

/**
 * How every validatePipeline run is started (the CLI, the demo, the chaos runner): as `validate-<app>`, one at a
 * time but a finished one's id reused, with the app and "running" search attributes that `status` filters on, and
 * the summary and details the Web UI shows.
 */
export function validationStart(input: ValidatePipelineInput, taskQueue: string, startedBy = 'the shepherd CLI') {
  return {
    workflowId: validationWorkflowId(input.appName),
    taskQueue,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [input] as [ValidatePipelineInput],
    typedSearchAttributes: [
      { key: ShepherdApp, value: input.appName },
      { key: ShepherdStatus, value: 'running' },
    ],
    ...validationMetadata(input, startedBy),
  };
}

/** A validation that is running, as visibility lists it. */
export interface RunningValidation {
  readonly workflowId: string;
  readonly runId: string;
}

/**
 * The validation of `appName` that runs now, whichever way it was started (`validate-<app>` by the CLI,
 * `validate-<app>-<time>` by the schedule), or undefined. Visibility lags a second or so behind a start: this is
 * the early, friendly answer; the lock every validation holds (`lock-validate-<app>@<task queue>`, see validatePipeline) is what
 * keeps two from running even when both start within that second.
 */
export async function runningValidation(
  client: Client,
  appName: string,
  taskQueue: string,
): Promise<RunningValidation | undefined> {
  const query = `WorkflowType = 'validatePipeline' AND ExecutionStatus = 'Running' AND ${ShepherdApp.name} = '${appName}' AND TaskQueue = '${taskQueue}'`;
  for await (const run of client.workflow.list({ query, pageSize: 10 })) {
    // Visibility may still list a run that has just ended; its own description is current.
    const { status } = await client.workflow.getHandle(run.workflowId, run.runId).describe();
    if (status.name === 'RUNNING') return { workflowId: run.workflowId, runId: run.runId };
  }
  return undefined;
}
