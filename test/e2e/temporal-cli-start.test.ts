/**
 * The README's way to start a promotion without Shepherd's CLI: the Temporal CLI's `temporal workflow start` with
 * the workflow type, the task queue, the business id and one JSON object as input, completed by a running worker.
 * Runs the real `temporal` binary from set-up against the run's dev server (in this file's own namespace, see
 * sandbox-support.ts), a worker with the real activities, and a sandbox world.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { RULES } from '../../src/domain/inputs.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import type { PromotionResult } from '../../src/domain/report.js';
import type { WorldState } from '../../src/sandbox/world/state.js';
import { temporalCliPath } from '../../src/temporal/binaries.js';
import {
  APP,
  deployNewImageToDev,
  environment,
  project,
  sandboxTemporal,
  tagOf,
  type SandboxTemporal,
} from '../workflows/sandbox-support.js';

const run = promisify(execFile);
const WORKFLOW_ID = promotionWorkflowId(APP, 'stage');

describe('temporal workflow start --type promoteEnvironment (the README command)', () => {
  let t: SandboxTemporal;
  beforeAll(async () => {
    t = await sandboxTemporal(import.meta.url);
  });
  afterAll(async () => {
    await t?.teardown();
  });

  /** `temporal <args> --address <dev server> --namespace <this file's>`, as a user types it. */
  async function temporal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const argv = [...args, '--address', t.env.connection.options.address, '--namespace', t.namespace];
    try {
      const { stdout, stderr } = await run(temporalCliPath(), argv, { timeout: 120_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  /** The README command, with this test's task queue instead of `shepherd`. */
  const startPromotion = (input: string) =>
    temporal([
      'workflow',
      'start',
      '--type',
      'promoteEnvironment',
      '--task-queue',
      t.taskQueue,
      '--workflow-id',
      WORKFLOW_ID,
      '--input',
      input,
    ]);

  it('starts a promotion of what dev runs to stage that the running worker completes', async () => {
    await t.inWorld({}, async (sandbox) => {
      const devTag = await deployNewImageToDev(t);

      const started = await startPromotion('{"appName":"example-app","sourceEnv":"dev","targetEnv":"stage"}');
      expect(started.code).toBe(0);
      expect(started.stdout).toContain(WORKFLOW_ID);

      const shown = await temporal(['workflow', 'result', '--workflow-id', WORKFLOW_ID, '--output', 'json']);
      expect(shown.code, shown.stderr).toBe(0);
      const result = await t.client.workflow.getHandle<() => Promise<PromotionResult>>(WORKFLOW_ID).result();
      expect(result).toMatchObject({ status: 'succeeded', sourceEnv: 'dev', targetEnv: 'stage', imageTag: devTag });
      expect(shown.stdout).toContain(devTag);

      const state = await sandbox.state();
      expect(tagOf(environment(state, 'stage').image)).toBe(devTag);
      expect(environment(state, 'stage')).toMatchObject({ health: 'Healthy', sync: 'Synced' });
    });
  });

  it('fails a promotion with a bad input at once, non-retryable ValidationError naming the field, and changes nothing', async () => {
    await t.inWorld({}, async (sandbox) => {
      await deployNewImageToDev(t);
      const before = observable(await sandbox.state());

      const started = await startPromotion('{"appName":"example-app","sourceEnv":"stage","targetEnv":"dev"}');
      expect(started.code, started.stderr).toBe(0);

      const handle = t.client.workflow.getHandle(WORKFLOW_ID);
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({
        type: 'ValidationError',
        nonRetryable: true,
        details: [{ field: 'targetEnv', rule: RULES.promotion }],
      });
      expect(cause!.message).toContain(`targetEnv ${RULES.promotion}`);

      // Failed before any activity was scheduled, and the world is as it was.
      const events = (await handle.fetchHistory()).events ?? [];
      expect(
        events.filter((e) => e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      ).toEqual([]);
      expect(observable(await sandbox.state())).toEqual(before);
    });
  });
});

/** What a promotion could change: the deployments repo's branches, MRs and merges, the builds, the images. */
function observable(state: WorldState) {
  return {
    deployments: project(state, 'p2c/k8s-deployments'),
    builds: state.jenkins.jobs.map((j) => ({ path: j.path, counts: j.counts })),
    images: (['dev', 'stage', 'prod'] as const).map((env) => environment(state, env).image),
  };
}
