/**
 * Where the worker gets its workflow code. In production (`NODE_ENV=production`, as in the Docker image) it loads
 * the bundle built once at image build time by `npm run build:bundle`; otherwise it bundles `workflows/` at start.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { PROJECT_ROOT } from '../config/paths.js';

export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows', 'index.ts');
export const BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

export type WorkflowSource = Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;

/**
 * Workflow interceptor modules bundled with every build of `workflows/` (the production bundle, the test bundle and
 * a worker's own bundling alike), so that one bundle serves with tracing on or off: OpenTelemetry's, which open the
 * run's spans, and Shepherd's, which label activities with the run's app, environment and image tag.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [
  createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
  join(PROJECT_ROOT, 'workflows', 'tracing-interceptors.ts'),
];

export function workflowSource(env: Record<string, string | undefined> = process.env): WorkflowSource {
  if (env.NODE_ENV === 'production') {
    if (!existsSync(BUNDLE_PATH))
      throw new Error(
        `NODE_ENV=production but ${BUNDLE_PATH} is missing. Run \`npm run build:bundle\` when building the image.`,
      );
    return prebuiltBundle(BUNDLE_PATH);
  }
  return { workflowsPath: WORKFLOWS_PATH };
}

/**
 * A bundle built beforehand (`npm run build:bundle`, or once per test run): a worker started with it skips the
 * seconds of CPU that bundling `workflows/` costs at every start.
 */
export function prebuiltBundle(codePath: string): WorkflowSource {
  if (!existsSync(codePath)) throw new Error(`the workflow bundle ${codePath} does not exist`);
  return { workflowBundle: { codePath } };
}

/** Bundles `workflows/` once; used by the build script and by tests. */
export async function bundleWorkflows(workflowsPath: string = WORKFLOWS_PATH): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quietLogger,
  });
  return code;
}

const noop = (): void => {};
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
