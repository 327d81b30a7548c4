/**
 * The report a validatePipeline run left: its result when it succeeded, its failure's first detail when it failed
 * or rolled back (the run then ends Failed in Temporal). Fails the test when the run left neither.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ValidationReport } from '../../src/domain/report.js';

export async function reportOf(handle: WorkflowHandle): Promise<ValidationReport> {
  try {
    return (await handle.result()) as ValidationReport;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure)) throw err;
    const report = err.cause.details?.[0] as ValidationReport | undefined;
    if (!report || !Array.isArray(report.iterations)) throw err;
    if (report.status === 'succeeded') throw new Error('a run that failed reported succeeded', { cause: err });
    return report;
  }
}
