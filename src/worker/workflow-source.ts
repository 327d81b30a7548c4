/**
 * Where the worker gets its workflow code. In production (`NODE_ENV=production`, as in the Docker image) it loads
 * the bundle built once at image build time by `npm run build:bundle`; otherwise it bundles `workflows/` at start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { PROJECT_ROOT } from '../config/paths.js';

export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows', 'index.ts');
export const BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

export type WorkflowSource = Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;

export function workflowSource(env: Record<string, string | undefined> = process.env): WorkflowSource {
  if (env.NODE_ENV === 'production') {
    if (!existsSync(BUNDLE_PATH))
      throw new Error(
        `NODE_ENV=production but ${BUNDLE_PATH} is missing. Run \`npm run build:bundle\` when building the image.`,
      );
    return { workflowBundle: { codePath: BUNDLE_PATH } };
  }
  return { workflowsPath: WORKFLOWS_PATH };
}

/** Bundles `workflows/` once; used by the build script and by tests. */
export async function bundleWorkflows(workflowsPath: string = WORKFLOWS_PATH): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  return code;
}

const noop = (): void => {};
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
