/**
 * The composition root: configuration → clients → activities → Worker. Nothing else in Shepherd constructs
 * clients or activities; tests hand their own activities to `createWorker` instead.
 */
import { Worker, type NativeConnection } from '@temporalio/worker';
import { TRACING_OFF, type Tracing } from '../tracing/tracing.js';
import { WORKFLOW_INTERCEPTOR_MODULES, workflowSource, type WorkflowSource } from './workflow-source.js';

/** The activity implementations a worker registers, keyed by activity name (see activities.ts). */
export type ActivityImplementations = object;

/**
 * How long in-flight activities get to finish after SIGTERM before they are cancelled. Pod manifests size
 * `terminationGracePeriodSeconds` from it (deploy/kubernetes/base/deployment.yaml).
 */
export const SHUTDOWN_GRACE_TIME = '10s';

export interface CreateWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: ActivityImplementations;
  /** Defaults to the production bundle or `workflows/` (see workflow-source.ts). */
  readonly workflows?: WorkflowSource;
  /** How long in-flight activities get to finish when the worker is asked to stop. */
  readonly shutdownGraceTime?: string;
  readonly identity?: string;
  /** Traces (see src/observability/tracing.ts); defaults to off. The caller shuts it down after the worker stops. */
  readonly tracing?: Tracing;
}

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const tracing = opts.tracing ?? TRACING_OFF;
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.workflows ?? workflowSource()),
    // workflowModules serve when the worker bundles workflows/ itself; a prebuilt bundle already holds them.
    interceptors: { activity: tracing.activityInterceptors, workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
    sinks: tracing.sinks,
    shutdownGraceTime: opts.shutdownGraceTime ?? SHUTDOWN_GRACE_TIME,
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
}
