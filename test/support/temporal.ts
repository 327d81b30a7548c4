/**
 * Helpers every Temporal test tier uses: a client on the run's shared dev server, a unique task queue per test file,
 * the prebuilt workflow bundle, and the time-skipping environment from the test-server binary.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import type { Connection } from '@temporalio/client';
import { temporalTestServerPath } from '../../src/temporal/binaries.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';

/** A connection to the dev server that global setup started. Call `teardown()` in afterAll. */
export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
  });
}

/**
 * A time-skipping environment on the native test server from set-up, with Shepherd's search attributes
 * registered (the test server starts without them). Call `teardown()` in afterAll.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  await registerSearchAttributes(env.connection as Connection, 'default');
  return env;
}

let bundle: { code: string } | undefined;

/** The workflow bundle of Shepherd's workflows, built once by global setup. */
export function workflowBundle(): { code: string } {
  bundle ??= { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
  return bundle;
}

/** A task queue no other test file uses. */
export function uniqueTaskQueue(file: string): string {
  return `test-${basename(file).replace(/\.test\.ts$/, '')}-${randomUUID().slice(0, 8)}`;
}
