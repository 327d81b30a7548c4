/**
 * One time-skipping environment and one worker per test file; each test installs a fresh FakePipeline.
 * Tests of a file run one after another, so the global test-server clock is never shared by two of them at once.
 */
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { expect } from 'vitest';
import { timeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../../support/temporal.js';
import { delegatingActivities, FakePipeline } from './fake-pipeline.js';
import { TRACING_OFF } from '../../../src/tracing/tracing.js';

export interface Harness {
  readonly env: TestWorkflowEnvironment;
  readonly taskQueue: string;
  /** Installs a fresh fake for the next test and returns it. */
  install(fake?: FakePipeline): FakePipeline;
  teardown(): Promise<void>;
}

export async function startHarness(file: string): Promise<Harness> {
  const env = await timeSkippingEnv();
  const taskQueue = uniqueTaskQueue(file);
  let fake = new FakePipeline();
  const worker = await Worker.create({
    // The bundle's tracing interceptors export through this sink; tracing is off here.
    sinks: TRACING_OFF.sinks,
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: workflowBundle(),
    activities: delegatingActivities(() => fake),
    // Cancellation reaches an activity only through a heartbeat response: do not let the SDK hold heartbeats back.
    maxHeartbeatThrottleInterval: '100ms',
    defaultHeartbeatThrottleInterval: '100ms',
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    install(next = new FakePipeline()) {
      fake = next;
      return fake;
    },
    async teardown() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

let seq = 0;
/** A workflow id suffix unique in this process. */
export function unique(prefix: string): string {
  seq += 1;
  return `${prefix}-${Date.now().toString(36)}-${seq}`;
}

/** Why an update was refused: the validator's message travels as the cause. */
export async function refusal(update: Promise<unknown>): Promise<string> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause?.message ?? '';
}
