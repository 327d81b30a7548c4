/** The start options of Shepherd's runs, shared by the CLI and the chaos runner. */
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { ValidatePipelineInput } from '../domain/inputs.js';
import { validationWorkflowId } from '../domain/promotion-policy.js';
import { ShepherdApp, ShepherdStatus } from './common/search-attributes.js';

/**
 * How every validatePipeline run is started (the CLI, the demo, the chaos runner): as `validate-<app>`, one at a
 * time but a finished one's id reused, with the app and "running" search attributes that `status` filters on.
 */
export function validationStart(input: ValidatePipelineInput, taskQueue: string) {
  return {
    workflowId: validationWorkflowId(input.appName),
    taskQueue,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [input] as [ValidatePipelineInput],
    typedSearchAttributes: [
      { key: ShepherdApp, value: input.appName },
      { key: ShepherdStatus, value: 'running' },
    ],
  };
}
