/**
 * How a run of Shepherd ended and its report, read the one way every consumer uses (`status`, `report`,
 * `--follow`, the demo, the chaos runner): whether the run completed (the report is its result) or failed (the
 * report is its failure's first detail), and also for validations started before the `validation-ends-failed`
 * patch, which completed with a `failed`/`rolled_back` report.
 */
import {
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PROMOTIONS, type Environment } from '../domain/environments.js';
import type { FailureSummary } from '../domain/errors.js';
import {
  isPromotionFailureDetails,
  isValidationReport,
  promotionReportOfFailure,
  promotionReportOfResult,
  type FanOutReport,
  type PromotionFailureDetails,
  type PromotionReport,
  type PromotionResult,
  type ValidationReport,
} from '../domain/report.js';
import { summarizeFailure } from './common/failures.js';
import { ShepherdApp, ShepherdEnvironment, ShepherdImageTag, ShepherdStatus } from './common/search-attributes.js';

interface RunFacts {
  readonly workflowId: string;
  readonly runId: string;
  /** The workflow type, e.g. `validatePipeline`. */
  readonly type: string;
  /** Temporal's status of the execution: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, … */
  readonly status: WorkflowExecutionStatusName;
}

/**
 * A run and what it left: a validation's or a promotion's report, or (still running, cancelled, terminated,
 * timed out, refused its input) no report and, when it failed, the failure.
 */
export type RunOutcome =
  | (RunFacts & { readonly kind: 'validation'; readonly report: ValidationReport })
  | (RunFacts & { readonly kind: 'promotion'; readonly report: PromotionReport })
  | (RunFacts & { readonly kind: 'fan-out'; readonly report: FanOutReport })
  | (RunFacts & { readonly kind: 'none'; readonly failure?: FailureSummary });

/** The outcome of `workflowId` (its latest run, or `runId`). Throws WorkflowNotFoundError for an unknown id. */
export async function runOutcome(client: Client, workflowId: string, runId?: string): Promise<RunOutcome> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  const facts: RunFacts = {
    workflowId,
    runId: description.runId,
    type: description.type,
    status: description.status.name,
  };
  if (description.status.name === 'RUNNING' || description.status.name === 'CONTINUED_AS_NEW')
    return { ...facts, kind: 'none' };
  // The described run, not the chain after it: a closed run's result is final.
  const closed = client.workflow.getHandle(workflowId, description.runId);
  let settled: { value: unknown } | { error: unknown };
  try {
    settled = { value: await closed.result() };
  } catch (err) {
    settled = { error: err };
  }
  return outcomeOf(facts, description, settled);
}

/** The outcome from what `describe()` said and how `result()` settled. */
export function outcomeOf(
  facts: RunFacts,
  description: WorkflowExecutionDescription,
  settled: { value: unknown } | { error: unknown },
): RunOutcome {
  if ('value' in settled) {
    if (facts.type === 'validatePipeline' && isValidationReport(settled.value))
      return { ...facts, kind: 'validation', report: settled.value };
    if (facts.type === 'promoteEnvironment' && isPromotionResult(settled.value))
      return { ...facts, kind: 'promotion', report: promotionReport(facts, description, settled.value) };
    if (facts.type === 'fanOutApps' && isFanOutReport(settled.value))
      return { ...facts, kind: 'fan-out', report: settled.value };
    return { ...facts, kind: 'none' };
  }
  const err = settled.error;
  if (!(err instanceof WorkflowFailedError)) throw err;
  const cause = err.cause;
  const detail = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  if (facts.type === 'validatePipeline' && isValidationReport(detail))
    return { ...facts, kind: 'validation', report: detail };
  if (facts.type === 'promoteEnvironment' && isPromotionFailureDetails(detail))
    return { ...facts, kind: 'promotion', report: promotionFailureReport(facts, description, detail) };
  if (facts.type === 'fanOutApps' && isFanOutReport(detail)) return { ...facts, kind: 'fan-out', report: detail };
  return { ...facts, kind: 'none', failure: summarizeFailure(cause ?? err) };
}

function isFanOutReport(value: unknown): value is FanOutReport {
  const report = value as Partial<FanOutReport> | undefined;
  return typeof report?.status === 'string' && typeof report.kind === 'string' && Array.isArray(report.apps);
}

function isPromotionResult(value: unknown): value is PromotionResult {
  const result = value as Partial<PromotionResult> | undefined;
  return typeof result?.status === 'string' && typeof result.targetEnv === 'string' && Array.isArray(result.steps);
}

function times(description: WorkflowExecutionDescription) {
  const finished = description.closeTime;
  return {
    startedAt: description.startTime.toISOString(),
    finishedAt: finished?.toISOString(),
    durationMs: finished ? finished.getTime() - description.startTime.getTime() : undefined,
  };
}

function promotionReport(
  facts: RunFacts,
  description: WorkflowExecutionDescription,
  result: PromotionResult,
): PromotionReport {
  return promotionReportOfResult({ workflowId: facts.workflowId, runId: facts.runId, ...times(description) }, result);
}

/**
 * A failed promotion: the details carry steps and rollback; the app and target come from the run's search
 * attributes, the status from `ShepherdStatus` (what the run itself decided), else from the rollback records.
 */
function promotionFailureReport(
  facts: RunFacts,
  description: WorkflowExecutionDescription,
  details: PromotionFailureDetails,
): PromotionReport {
  const attributes = description.typedSearchAttributes;
  const target = attributes.get(ShepherdEnvironment);
  const targetEnv: Environment | undefined = typeof target === 'string' && target !== '' ? target : undefined;
  const report = promotionReportOfFailure(
    { workflowId: facts.workflowId, runId: facts.runId, ...times(description) },
    {
      appName: attributes.get(ShepherdApp) ?? 'unknown',
      sourceEnv: PROMOTIONS.find((promotion) => promotion.target === targetEnv)?.source,
      targetEnv,
    },
    details,
    attributes.get(ShepherdStatus),
  );
  return report.imageTag === undefined ? { ...report, imageTag: attributes.get(ShepherdImageTag) } : report;
}

/** Why a run left no report, as a sentence that says what to do. */
export function noReportReason(outcome: RunOutcome): string {
  if (outcome.status === 'RUNNING')
    return `${outcome.workflowId} is still running; \`npx shepherd status ${outcome.workflowId}\` shows where it is`;
  const failure =
    outcome.kind === 'none' && outcome.failure ? `: ${outcome.failure.type}: ${outcome.failure.message}` : '';
  return `${outcome.workflowId} (${outcome.type}) ended ${outcome.status.toLowerCase().replace(/_/g, ' ')} without a report${failure}; its history is in \`temporal workflow show --workflow-id ${outcome.workflowId}\``;
}
