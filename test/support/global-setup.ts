/**
 * Runs once per `vitest run`: starts one Temporal dev server (the real CLI binary from set-up, in memory, headless,
 * with Shepherd's search attributes) and builds the workflow bundle of workflows/index.ts, what the worker loads,
 * once. Test files connect to that server with their own task queues (see temporal.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { bundleWorkflows } from '../../src/worker/workflow-source.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-test-'));
  const server = await startDevServer({ stateDir: undefined, port: 0, uiPort: false, namespace: 'default' });
  try {
    const code = await bundleWorkflows();
    const bundlePath = join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);
    project.provide('temporalAddress', server.address);
    project.provide('temporalNamespace', server.namespace);
    project.provide('workflowBundlePath', bundlePath);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
