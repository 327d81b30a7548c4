/**
 * Shepherd's versioning strategy (README § Upgrades): `patched()` discipline, enforced by the replay tier.
 * - An incompatible change without a patch fails the replay of the stored histories; the same change behind
 *   `patched()` replays them all.
 * - A run started on the code the histories were recorded with (its stored bundle) and waiting at the approval gate
 *   when a worker with the current code takes over finishes on the current code.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { promotionWorkflowId, validationWorkflowId } from '../../src/domain/promotion-policy.js';
import type { ValidationReport } from '../../src/domain/report.js';
import { TRACING_OFF } from '../../src/tracing/tracing.js';
import { activitiesForWorld } from '../../src/worker/activities.js';
import { bundleWorkflows } from '../../src/worker/workflow-source.js';
import type { validatePipeline } from '../../workflows/index.js';
import { approveUpdate } from '../../workflows/messages.js';
import { startSandbox } from '../support/sandbox.js';
import { workflowBundle } from '../support/temporal.js';
import { untilStep } from '../support/until-step.js';
import {
  APP,
  APPROVER,
  environment,
  sandboxTemporal,
  tagOf,
  type SandboxTemporal,
} from '../workflows/sandbox-support.js';
import { storedHistories } from './history-files.js';
import { oldWorkflowBundle } from './old-bundle.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));

async function replayAll(code: string): Promise<{ file: string; error: string | undefined }[]> {
  const stored = storedHistories();
  const results = Worker.runReplayHistories(
    { workflowBundle: { code }, sinks: TRACING_OFF.sinks },
    stored.map((s) => ({ workflowId: s.workflowId, history: s.history })),
  );
  const outcomes: { file: string; error: string | undefined }[] = [];
  let index = 0;
  for await (const r of results)
    outcomes.push({ file: stored[index++]!.file, error: r.error ? `${r.error.name}: ${r.error.message}` : undefined });
  return outcomes;
}

describe('patched() discipline', () => {
  it('the replay tier refuses a change to validatePipeline that is not behind patched(): every stored validation fails to replay', async () => {
    const outcomes = await replayAll(await bundleWorkflows(fixture('unpatched-change')));
    const validations = outcomes.filter((o) => o.file.startsWith('validate-'));
    expect(validations.length).toBeGreaterThanOrEqual(10);
    for (const o of validations) expect(o.error, o.file).toMatch(/[Nn]ondetermin/);
    // promoteEnvironment did not change: its histories still replay.
    expect(outcomes.filter((o) => o.file.startsWith('promote-') && o.error !== undefined)).toEqual([]);
  });

  it('the same change behind patched() replays every stored history', async () => {
    const outcomes = await replayAll(await bundleWorkflows(fixture('patched-change')));
    expect(outcomes.length).toBeGreaterThanOrEqual(10);
    expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
  });
});

describe('a deploy while a run waits at the approval gate', () => {
  let t: SandboxTemporal;
  beforeAll(async () => {
    t = await sandboxTemporal(import.meta.url);
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('a validation started on the recorded (old) code, waiting at the prod gate, finishes on the current code', async () => {
    const sandbox = await startSandbox();
    try {
      const worker = (identity: string, code: { code: string }) =>
        Worker.create({
          sinks: TRACING_OFF.sinks,
          connection: t.env.nativeConnection,
          namespace: t.namespace,
          taskQueue: t.taskQueue,
          identity,
          workflowBundle: code,
          activities: activitiesForWorld(sandbox.world),
        });
      const validation = await t.client.workflow.start<typeof validatePipeline>('validatePipeline', {
        taskQueue: t.taskQueue,
        workflowId: validationWorkflowId(APP),
        args: [{ appName: APP, through: 'prod', approvers: [APPROVER] }],
      });
      const prod = t.client.workflow.getHandle(promotionWorkflowId(APP, 'prod'));

      const oldWorker = await worker('old-code', oldWorkflowBundle());
      await oldWorker.runUntil(untilStep(prod, 'approval', { timeoutMs: 90_000 }));

      const newWorker = await worker('new-code', workflowBundle());
      const report: ValidationReport = await newWorker.runUntil(async () => {
        await prod.executeUpdate(approveUpdate, { args: [{ by: APPROVER, reason: 'approved after the deploy' }] });
        return await validation.result();
      });

      expect(report.status).toBe('succeeded');
      expect(tagOf(environment(await sandbox.state(), 'prod').image)).toBe(report.imageTag);
      // Both runs were driven by the old code up to the gate and by the new code after it.
      for (const handle of [validation, prod]) {
        const tasks = ((await handle.fetchHistory()).events ?? [])
          .map((e) => e.workflowTaskCompletedEventAttributes?.identity)
          .filter((identity): identity is string => identity !== undefined && identity !== null);
        expect(tasks[0], handle.workflowId).toBe('old-code');
        expect(tasks.at(-1), handle.workflowId).toBe('new-code');
      }
    } finally {
      await sandbox.stop();
    }
  });
});
