/**
 * Dev-server tests of the workflows against the sandbox world: the run's shared Temporal dev server, a real Worker
 * with the real activities built against the world (`activitiesForWorld`), the bundle global setup built, and a
 * fresh world per test.
 *
 * Each test file gets a namespace of its own on the shared server. The sandbox world's app is always
 * `example-app`, and Shepherd's workflow ids are business keys (`validate-example-app`,
 * `promote-example-app-<env>`): two files running at once in one namespace would meet each other's runs (a
 * promotion id can have only one open run), so isolation by task queue is not enough here.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { Connection, type Client, type WorkflowHandle } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { Environment } from '../../src/domain/environments.js';
import { validationWorkflowId } from '../../src/domain/promotion-policy.js';
import type { ScenarioInput } from '../../src/sandbox/core/faults.js';
import type { WorldState } from '../../src/sandbox/world/state.js';
import { registerSearchAttributes } from '../../src/temporal/search-attributes.js';
import { loadConfig, type ShepherdConfig } from '../../src/config/load.js';
import { activitiesForWorld, configForWorld } from '../../src/worker/activities.js';
import type { validatePipeline } from '../../workflows/index.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';
import { uniqueTaskQueue, workflowBundle } from '../support/temporal.js';
import { until } from '../support/eventually.js';
import { TRACING_OFF } from '../../src/tracing/tracing.js';

export const APP = 'example-app';
export const APPROVER = 'release-manager';

export interface SandboxTemporal {
  readonly env: TestWorkflowEnvironment;
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueue: string;
  /**
   * Starts a sandbox world (optionally with a fault scenario), runs `fn` while a worker with the world's
   * activities polls the task queue, then stops the worker and the world.
   */
  inWorld<T>(
    opts: { scenario?: string | ScenarioInput; pipelineFile?: string },
    fn: (sandbox: TestSandbox, config: ShepherdConfig) => Promise<T>,
  ): Promise<T>;
  teardown(): Promise<void>;
}

/** `label` tells apart several suites of one file (each gets its own namespace). */
export async function sandboxTemporal(file: string, label?: string): Promise<SandboxTemporal> {
  const address = inject('temporalAddress');
  const namespace = await ownNamespace(address, file, label);
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
  const taskQueue = uniqueTaskQueue(file);
  return {
    env,
    client: env.client,
    namespace,
    taskQueue,
    async inWorld(opts, fn) {
      // A pipeline file builds the world it declares, and configures Shepherd as `--pipeline FILE` does.
      const overrides: Record<string, string> = opts.pipelineFile ? { SHEPHERD_PIPELINE: opts.pipelineFile } : {};
      const declared = opts.pipelineFile ? loadConfig({ env: {}, overrides }).pipeline : undefined;
      const sandbox = await startSandbox({
        ...(opts.scenario ? { scenario: opts.scenario } : {}),
        ...(declared ? { pipeline: declared } : {}),
      });
      const config = configForWorld(sandbox.world, { env: {}, overrides });
      try {
        const worker = await Worker.create({
          // The bundle's tracing interceptors export through this sink; tracing is off here.
          sinks: TRACING_OFF.sinks,
          connection: env.nativeConnection,
          namespace,
          taskQueue,
          workflowBundle: workflowBundle(),
          activities: activitiesForWorld(sandbox.world, config),
        });
        return await worker.runUntil(fn(sandbox, config));
      } finally {
        await sandbox.stop();
      }
    },
    teardown: () => env.teardown(),
  };
}

async function ownNamespace(address: string, file: string, label: string | undefined): Promise<string> {
  const namespace = `${basename(file).replace(/\.test\.ts$/, '')}${label ? `-${label}` : ''}-${randomUUID().slice(0, 8)}`;
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await until(async () => {
      await connection.workflowService.describeNamespace({ namespace });
      await registerSearchAttributes(connection, namespace);
      return true;
    }, `namespace ${namespace} to be usable`);
  } finally {
    await connection.close();
  }
  return namespace;
}

/** The number of events in a run's history. */
export async function historyLength(handle: WorkflowHandle): Promise<number> {
  return (await handle.fetchHistory()).events?.length ?? 0;
}

type ProjectState = WorldState['gitlab']['projects'][number];

export function project(state: WorldState, path: string): ProjectState {
  const found = state.gitlab.projects.find((p) => p.path === path);
  if (!found) throw new Error(`no project ${path} in the world's state`);
  return found;
}

/** Builds of a Jenkins job (by its path in the state, e.g. `promote-environment`). */
export function builds(state: WorldState, jobPath: string): WorldState['jenkins']['jobs'][number]['builds'] {
  return state.jenkins.jobs.find((j) => j.path === jobPath)?.builds ?? [];
}

/**
 * Branches a run leaves behind: the source branch of an MR that is still open, or that was closed without being
 * merged, is a leftover. A merged MR's source branch may stay (GitLab keeps it unless asked to remove it; the
 * merged MR and its history point at it), and the env branches and `main` are not the run's.
 */
export function leftoverBranches(
  p: ProjectState,
  runPrefixes: readonly string[] = ['update-', 'promote-', 'revert-'],
): string[] {
  const mergedSources = new Set(p.mergeRequests.merged.map((m) => m.source));
  return p.branches.filter((b) => runPrefixes.some((prefix) => b.startsWith(prefix)) && !mergedSources.has(b));
}

/** What an environment runs, as the cluster and Argo CD say (not the report). */
export function environment(
  state: WorldState,
  env: Environment,
): { image: string | null; health: string | null; sync: string | null; readyReplicas: number; replicas: number } {
  const e = state.environments[env];
  if (!e) throw new Error(`no environment ${env} in the world's state`);
  return { image: e.image, health: e.health, sync: e.sync, readyReplicas: e.readyReplicas, replicas: e.replicas };
}

/** `docker.jmann.local/p2c/example-app:<tag>` → `<tag>` */
export function tagOf(image: string | null | undefined): string | undefined {
  return image?.slice(image.lastIndexOf(':') + 1);
}

/**
 * Puts a new image on dev the way the nightly run does (validatePipeline through dev: bump, CI, dev MR, merge,
 * sync, verify) and returns its tag, once dev runs it synced and healthy.
 */
export async function deployNewImageToDev(t: Pick<SandboxTemporal, 'client' | 'taskQueue'>): Promise<string> {
  const report = await t.client.workflow.execute<typeof validatePipeline>('validatePipeline', {
    taskQueue: t.taskQueue,
    workflowId: validationWorkflowId(APP),
    args: [{ appName: APP, through: 'dev' }],
  });
  if (report.status !== 'succeeded' || !report.imageTag)
    throw new Error(`could not deploy a new image to dev: ${report.status} ${report.failure?.message ?? ''}`);
  return report.imageTag;
}
