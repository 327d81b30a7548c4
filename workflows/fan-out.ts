/**
 * fanOutApps — one validation or one promotion for each of many apps, at most `concurrency` at a time, each app on
 * its own. Started by `shepherd validate --all`, `shepherd promote --all --from A --to B` and the demo of a pipeline
 * with several apps (workflow id `fan-out-validate`, `fan-out-promote-<target>`), or from the Temporal UI with a
 * list of apps (src/domain/fan-out.ts describes the input).
 *
 * Steps:
 *   validate the input: kind, apps, concurrency, and the run fields with the single-app run's own rules
 *                                  (ValidationError, non-retryable, before any app starts) — no undo
 *   per app, in the order named, as soon as fewer than `concurrency` run: a child workflow under the id the
 *   single-app run has, so that `shepherd status --app X` and `shepherd report` find it —
 *     validate: validatePipeline `validate-<app>` (it holds the app's validation lock, as any validation does);
 *     promote:  promoteEnvironment `promote-<app>-<target>`.
 *   Each child undoes its own work when it fails (a validation rolls back its app, a promotion its hop), so one
 *   app's failure rolls back that app only: the fan-out itself changes nothing and has nothing to undo. It waits
 *   for every child, whatever the others did. A child that cannot start (its id runs already: another validation
 *   or promotion of that app) is that app's `failed` report, saying which run holds it.
 *   Parent close policy REQUEST_CANCEL: a cancelled or terminated fan-out asks its running children to unwind.
 *
 * How a run ends: the combined report (FanOutReport, one report per app in the order named) with the status of
 * `fanOutStatus`: `succeeded` completes with the report as its result; `rolled_back` and `failed` FAIL
 * (non-retryable, type AppRunsFailed, a message naming the apps that did not succeed) with the report as the
 * failure's first detail, as validatePipeline does, so that Temporal shows the run Failed. A cancelled fan-out
 * starts no more apps, waits for the running ones to unwind, and ends cancelled.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { FailureSummary } from '../src/domain/errors.js';
import {
  APP_RUN_SUCCEEDED,
  fanOutOptions,
  fanOutStatus,
  type FanOutInput,
  type FanOutOptions,
  type FanOutRun,
} from '../src/domain/fan-out.js';
import { promotionWorkflowId, validationWorkflowId } from '../src/domain/promotion-policy.js';
import {
  isPromotionFailureDetails,
  isValidationReport,
  promotionReportOfFailure,
  promotionReportOfResult,
  type FanOutReport,
  type PromotionFailureDetails,
  type PromotionReport,
  type StepRecord,
  type ValidationReport,
} from '../src/domain/report.js';
import { summarizeFailure } from '../src/temporal/common/failures.js';
import { ShepherdApp, ShepherdEnvironment, ShepherdStatus } from '../src/temporal/common/search-attributes.js';
import { progressQuery } from './messages.js';
import { promoteEnvironment } from './promote-environment.js';
import { validated } from './support/failures.js';
import { validatePipeline } from './validate-pipeline.js';

export type { FanOutInput } from '../src/domain/fan-out.js';

type AppReport = ValidationReport | PromotionReport;
type MutableStep = { -readonly [K in keyof StepRecord]: StepRecord[K] };

export async function fanOutApps(input: FanOutInput): Promise<FanOutReport> {
  // One step per app, named after its child run: what `shepherd status` and the CLI's live view show.
  const steps: MutableStep[] = [];
  setHandler(progressQuery, () => ({ steps: steps.map((step) => ({ ...step })), current: undefined, rollback: [] }));
  const options = validated(() => fanOutOptions(input));
  const startedMs = Date.now();
  upsertSearchAttributes([{ key: ShepherdStatus, value: 'running' }]);

  const reports: AppReport[] = new Array<AppReport>(options.runs.length);
  let next = 0;
  // Each lane takes the next app once its previous one ended: at most `concurrency` children at a time, started
  // in the order the apps were named.
  const lane = async (): Promise<void> => {
    while (next < options.runs.length && !CancellationScope.current().consideredCancelled) {
      const index = next++;
      reports[index] = await runApp(options.runs[index]!, steps);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.runs.length) }, lane));
  if (CancellationScope.current().consideredCancelled)
    throw new CancelledFailure('the fan-out was cancelled; its running apps unwound, the others did not start');

  const report = combined(options, reports.filter(Boolean), startedMs);
  upsertSearchAttributes([{ key: ShepherdStatus, value: report.status }]);
  upsertMemo({ status: report.status, summary: summaryLine(report) });
  if (report.status === 'succeeded') return report;
  throw ApplicationFailure.create({
    type: 'AppRunsFailed',
    message: `fan-out ${summaryLine(report)}; each app's report says where it broke (\`npx shepherd report\` of the fan-out, or of the app's run)`,
    nonRetryable: true,
    details: [report],
  });
}

/** The id an app's run has when it is started on its own: the one its child gets here. */
function childIdOf(run: FanOutRun): string {
  return run.kind === 'validate'
    ? validationWorkflowId(run.options.appName)
    : promotionWorkflowId(run.options.appName, run.options.targetEnv);
}

/**
 * Runs one app's child to its end and returns its report. Never throws: a child that failed, could not start or
 * was cancelled (also by the fan-out's own cancellation, which the caller then ends with) is that app's report.
 */
async function runApp(run: FanOutRun, steps: MutableStep[]): Promise<AppReport> {
  const appName = run.options.appName;
  const workflowId = childIdOf(run);
  const startedMs = Date.now();
  const step: MutableStep = {
    name: workflowId,
    status: 'running',
    startedAt: new Date(startedMs).toISOString(),
    ...(run.kind === 'promote' ? { env: run.options.targetEnv } : {}),
    waitingOn: { kind: 'child-workflow', ref: workflowId },
  };
  steps.push(step);
  let runId = '';
  let report: AppReport;
  try {
    const common = {
      workflowId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: ShepherdApp, value: appName },
        { key: ShepherdStatus, value: 'running' },
        ...(run.kind === 'promote' ? [{ key: ShepherdEnvironment, value: run.options.targetEnv }] : []),
      ],
    };
    if (run.kind === 'validate') {
      const child = await startChild(validatePipeline, {
        ...common,
        args: [run.input],
        staticSummary: `validate ${appName} (fan-out of ${workflowInfo().workflowId})`,
      });
      runId = child.firstExecutionRunId;
      report = await child.result();
    } else {
      const child = await startChild(promoteEnvironment, {
        ...common,
        args: [run.input],
        staticSummary: `promote ${appName} ${run.options.sourceEnv} → ${run.options.targetEnv} (fan-out of ${workflowInfo().workflowId})`,
      });
      runId = child.firstExecutionRunId;
      const result = await child.result();
      report = promotionReportOfResult(times(workflowId, runId, startedMs), result);
    }
  } catch (err) {
    report = failedReport(run, err, times(workflowId, runId, startedMs));
  }
  Object.assign(step, {
    status: APP_RUN_SUCCEEDED.includes(report.status) ? 'succeeded' : 'failed',
    durationMs: Date.now() - startedMs,
    ...(report.failure ? { failure: report.failure } : {}),
  });
  delete step.waitingOn;
  return report;
}

function times(workflowId: string, runId: string, startedMs: number) {
  const finishedMs = Date.now();
  return {
    workflowId,
    runId,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    durationMs: finishedMs - startedMs,
  };
}

/**
 * The report of an app whose run failed: the report the run failed with (ValidationReport, PromotionFailureDetails)
 * when it left one, else a `failed` report whose failure says why (it could not start, was cancelled, terminated).
 */
function failedReport(run: FanOutRun, err: unknown, at: ReturnType<typeof times>): AppReport {
  const appName = run.options.appName;
  const detail =
    err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined;
  let failure: FailureSummary;
  if (err instanceof WorkflowExecutionAlreadyStartedError)
    failure = {
      type: run.kind === 'validate' ? 'ValidationAlreadyRunningError' : 'PromotionAlreadyRunningError',
      message: `${at.workflowId} is already running (started outside this fan-out); ${appName} was left alone: see it with \`npx shepherd status ${at.workflowId}\` and run ${appName} again after it finished`,
    };
  else failure = summarizeFailure(err);
  if (run.kind === 'validate') {
    if (isValidationReport(detail)) return detail;
    return {
      appName,
      status: 'failed',
      through: run.options.through,
      startedAt: at.startedAt,
      finishedAt: at.finishedAt,
      durationMs: at.durationMs,
      iterations: [],
      failure: { ...failure, step: at.runId ? 'validate-pipeline' : 'start-validation', iteration: 1 },
      rollback: [],
    };
  }
  const where = { appName, sourceEnv: run.options.sourceEnv, targetEnv: run.options.targetEnv };
  const details: PromotionFailureDetails = isPromotionFailureDetails(detail)
    ? detail
    : { failure, imageTag: run.options.imageTag, previousImageTag: undefined, steps: [], rollback: [] };
  return promotionReportOfFailure(at, where, details);
}

function combined(options: FanOutOptions, apps: AppReport[], startedMs: number): FanOutReport {
  const finishedMs = Date.now();
  const base = {
    status: fanOutStatus(apps),
    concurrency: options.concurrency,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    durationMs: finishedMs - startedMs,
  };
  const first = options.runs[0]!;
  if (first.kind === 'validate') return { kind: 'validate', ...base, apps: apps as ValidationReport[] };
  return {
    kind: 'promote',
    ...base,
    sourceEnv: first.options.sourceEnv,
    targetEnv: first.options.targetEnv,
    apps: apps as PromotionReport[],
  };
}

/** `rolled_back: 2 of 3 apps succeeded; b rolled_back`. */
function summaryLine(report: FanOutReport): string {
  const apps: readonly AppReport[] = report.apps;
  const ok = apps.filter((app) => APP_RUN_SUCCEEDED.includes(app.status));
  const others = apps.filter((app) => !ok.includes(app)).map((app) => `${app.appName} ${app.status}`);
  return `${report.status}: ${ok.length} of ${apps.length} apps succeeded${others.length > 0 ? `; ${others.join(', ')}` : ''}`;
}
