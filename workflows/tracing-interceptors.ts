/**
 * Workflow interceptors that tell the worker which app, environment and image tag a scheduled activity works for,
 * so that its trace span carries them (src/observability/tracing.ts reads the header). Not a workflow: the worker
 * bundles this module beside workflows/index.ts through `workflowInterceptorModules`.
 *
 * The values come from the run's own search attributes (set at start, kept current by the workflows), never from
 * the activity's input, so nothing else of the input can reach a span. Headers are not part of the commands that
 * replay compares, so histories recorded before this module existed replay unchanged.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import {
  workflowInfo,
  type ActivityInput,
  type Next,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { ShepherdApp, ShepherdEnvironment, ShepherdImageTag } from '../src/temporal/common/search-attributes.js';
import { RUN_ATTRIBUTES_HEADER, type RunAttributes } from '../src/temporal/common/run-attributes.js';

class RunAttributesOutboundInterceptor implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    const attributes = workflowInfo().typedSearchAttributes;
    const run: RunAttributes = {
      app: attributes.get(ShepherdApp),
      environment: attributes.get(ShepherdEnvironment),
      imageTag: attributes.get(ShepherdImageTag),
    };
    return next({
      ...input,
      headers: { ...input.headers, [RUN_ATTRIBUTES_HEADER]: defaultPayloadConverter.toPayload(run) },
    });
  }
}

export const interceptors = (): WorkflowInterceptors => ({ outbound: [new RunAttributesOutboundInterceptor()] });
