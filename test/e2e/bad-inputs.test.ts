/**
 * Runs the bad-input catalogue (bad-inputs-catalogue.ts) through every entry point: workflows started with the
 * Temporal CLI binary on the shared dev server against one sandbox world and one worker, `approve`/`reject` updates
 * to a promotion waiting at its gate, and the `shepherd` CLI with bad flags, variables and env files. Each refusal
 * must name the field and the rule, fail at once without retrying, and leave the sandbox as it was.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { PromotionFailureDetails, ValidationReport } from '../../src/domain/report.js';
import { temporalCliPath } from '../../src/temporal/binaries.js';
import { activitiesForWorld } from '../../src/worker/activities.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { progressQuery } from '../../workflows/messages.js';
import { runCli, runInProcess } from '../support/cli.js';
import { untilStep } from '../support/until-step.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.js';
import {
  APPROVER,
  CLI_CASES,
  CONFIGURED_APP,
  UPDATE_CASES,
  WORKFLOW_INPUT_CASES,
  type CliCase,
} from './bad-inputs-catalogue.js';

type SandboxState = Awaited<ReturnType<TestSandbox['state']>>;

/** Everything a run could change: commits, branches, MRs, merges, builds, queued items, deployed images. */
function sideEffects(state: SandboxState) {
  return {
    gitlab: state.gitlab.projects.map((p) => ({
      path: p.path,
      heads: p.heads,
      branches: p.branches,
      mergeRequests: p.mergeRequests,
      counts: p.counts,
    })),
    jenkins: state.jenkins.jobs.map((j) => ({
      path: j.path,
      counts: j.counts,
      builds: j.builds.length,
      queue: j.queue.length,
    })),
    environments: Object.fromEntries(
      Object.entries(state.environments).map(([env, e]) => [env, { image: e.image, revision: e.revision }]),
    ),
  };
}

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function execTemporal(args: readonly string[]): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(temporalCliPath(), [...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The failure a workflow ended with: the ApplicationFailure inside WorkflowFailedError. */
function failureOf(err: unknown): ApplicationFailure {
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

describe('the bad-input catalogue', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: TestSandbox;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue(import.meta.url);
  const started: WorkflowHandle[] = [];

  /** `temporal <args>` against the shared dev server. */
  const temporal = (args: readonly string[]): Promise<Exit> =>
    execTemporal([...args, '--address', env.address, '--namespace', env.namespace ?? 'default']);

  beforeAll(async () => {
    env = await devServerEnv();
    sandbox = await startSandbox();
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: activitiesForWorld(sandbox.world),
      workflows: { workflowBundle: workflowBundle() },
    });
    running = worker.run();
  });

  afterAll(async () => {
    for (const handle of started) await handle.terminate('bad-input catalogue finished').catch(() => undefined);
    worker?.shutdown();
    await running;
    await sandbox?.stop();
    await env?.teardown();
  });

  it('holds at least 25 bad inputs for each of workflows, updates and the CLI', () => {
    expect(WORKFLOW_INPUT_CASES.length).toBeGreaterThanOrEqual(25);
    expect(UPDATE_CASES.length + CLI_CASES.length).toBeGreaterThanOrEqual(25);
  });

  describe('workflow inputs given to `temporal workflow start`', () => {
    WORKFLOW_INPUT_CASES.forEach((c, i) => {
      it(`${c.workflow} refuses ${c.title}: "${c.field}" ${c.refusedBy === 'activity' ? 'in its first activity' : 'before any activity'}`, async () => {
        const before = sideEffects(await sandbox.state());
        const workflowId = `bad-input-${i}-${randomUUID().slice(0, 8)}`;
        const start = await temporal([
          'workflow',
          'start',
          '--type',
          c.workflow,
          '--task-queue',
          taskQueue,
          '--workflow-id',
          workflowId,
          '--input',
          c.input,
        ]);
        expect(start.code, start.stderr).toBe(0);
        const handle = env.client.workflow.getHandle(workflowId);
        started.push(handle);
        const outcome = await handle.result().then(
          (result: unknown) => ({ result }),
          (error: unknown) => ({ error }),
        );

        if (c.workflow === 'validatePipeline' && c.refusedBy === 'activity') {
          // validatePipeline fails with its report as the failure's first detail; the refusal is the report's failure.
          const failed = failureOf((outcome as { error?: unknown }).error);
          expect(failed.type).toBe('ValidationError');
          const report = failed.details?.[0] as ValidationReport;
          expect(report.status).toBe('failed');
          expect(report.failure).toMatchObject({
            type: 'ValidationError',
            facts: { field: c.field, rule: c.rule },
            // A validation first reads what dev runs and declares, before it changes anything.
            step: 'read-dev',
          });
          expect(report.rollback).toEqual([]);
        } else {
          const failure = failureOf((outcome as { error?: unknown }).error);
          expect(failure.type).toBe('ValidationError');
          expect(failure.nonRetryable).toBe(true);
          expect(failure.message).toContain(`${c.field} ${c.rule}`);
          if (c.refusedBy === 'activity')
            expect((failure.details?.[0] as PromotionFailureDetails).failure.facts).toEqual({
              field: c.field,
              rule: c.rule,
            });
          else expect(failure.details?.[0]).toEqual({ field: c.field, rule: c.rule });
        }

        const described = await temporal(['workflow', 'describe', '--workflow-id', workflowId, '--output', 'json']);
        const info = (JSON.parse(described.stdout) as { workflowExecutionInfo: { status: string } })
          .workflowExecutionInfo;
        // Every refusal ends the run Failed in Temporal, a validation's with its report as the failure's detail.
        expect(info.status).toBe('WORKFLOW_EXECUTION_STATUS_FAILED');

        const events: HistoryEvent[] = (await handle.fetchHistory()).events ?? [];
        expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
        const scheduled = events
          .filter((e) => e.activityTaskScheduledEventAttributes)
          .map((e) => e.activityTaskScheduledEventAttributes!.activityType?.name);
        if (c.refusedBy === 'activity') {
          expect(
            events
              .filter((e) => e.activityTaskStartedEventAttributes)
              .every((e) => e.activityTaskStartedEventAttributes!.attempt === 1),
          ).toBe(true);
          const failed = events
            .filter((e) => e.activityTaskFailedEventAttributes)
            .map((e) => e.activityTaskFailedEventAttributes!.failure?.applicationFailureInfo);
          expect(failed).toEqual([expect.objectContaining({ type: 'ValidationError', nonRetryable: true })]);
          expect(scheduled.filter((name) => name !== 'notifyEvent')).toHaveLength(1);
        } else {
          expect(scheduled).toEqual([]);
          const ended = events.at(-1)?.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo;
          expect(ended).toMatchObject({ type: 'ValidationError', nonRetryable: true });
        }

        expect(sideEffects(await sandbox.state())).toEqual(before);
      });
    });
  });

  describe('`approve` and `reject` payloads sent to a promotion waiting at its gate', () => {
    let gate: WorkflowHandle;
    let branchesBeforeGate: string[];
    const deploymentsOf = (state: SandboxState) =>
      state.gitlab.projects.find((p) => p.path === sandbox.world.info.gitlab.deploymentsProject)!;

    beforeAll(async () => {
      // Put a new image in dev, so that the dev→stage promotion has something to promote and waits for approval.
      const toDev = await env.client.workflow.start('validatePipeline', {
        taskQueue,
        workflowId: `bad-input-dev-${randomUUID().slice(0, 8)}`,
        args: [{ appName: CONFIGURED_APP, through: 'dev', mode: 'gitlab' }],
      });
      started.push(toDev);
      expect(((await toDev.result()) as ValidationReport).status).toBe('succeeded');
      branchesBeforeGate = [...deploymentsOf(await sandbox.state()).branches].sort();
      gate = await env.client.workflow.start('promoteEnvironment', {
        taskQueue,
        workflowId: `bad-input-gate-${randomUUID().slice(0, 8)}`,
        args: [
          {
            appName: CONFIGURED_APP,
            sourceEnv: 'dev',
            targetEnv: 'stage',
            mode: 'gitlab',
            approvalEnvironments: ['stage'],
            approvers: [APPROVER],
          },
        ],
      });
      started.push(gate);
      await untilStep(gate, 'approval');
    });

    for (const c of UPDATE_CASES) {
      it(`refuses ${c.title} through ${c.via === 'sdk' ? 'a Temporal client' : '`temporal workflow update execute`'}: "${c.field}" ${c.rule}`, async () => {
        const before = sideEffects(await sandbox.state());
        if (c.via === 'temporal-cli') {
          const sent = await temporal([
            'workflow',
            'update',
            'execute',
            '--workflow-id',
            gate.workflowId,
            '--name',
            c.update,
            ...(c.payload === undefined ? [] : ['--input', c.payload]),
          ]);
          expect(sent.code).not.toBe(0);
          expect(`${sent.stdout}${sent.stderr}`).toContain(
            c.field === 'by' && c.rule.startsWith('must be one of the approvers')
              ? 'is not on the approvers list for stage'
              : `${c.field} ${c.rule}`,
          );
        } else {
          const sent =
            c.payload === undefined
              ? gate.executeUpdate(c.update)
              : gate.executeUpdate(c.update, { args: [JSON.parse(c.payload) as unknown] });
          const refusal = await sent.then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
          const cause = (refusal as WorkflowUpdateFailedError).cause as ApplicationFailure;
          expect(cause).toBeInstanceOf(ApplicationFailure);
          expect(cause.type).toBe('ValidationError');
          expect(cause.details?.[0]).toEqual({ field: c.field, rule: c.rule });
        }
        // Refused by the validator: not in the history, the gate still waits, nothing changed.
        const events: HistoryEvent[] = (await gate.fetchHistory()).events ?? [];
        expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
        expect((await gate.query(progressQuery)).current?.name).toBe('approval');
        expect(sideEffects(await sandbox.state())).toEqual(before);
      });
    }

    it('still takes a valid decision afterwards: a rejection by the approver closes the MR and deletes its branch', async () => {
      await gate.executeUpdate('reject', { args: [{ by: APPROVER, reason: 'bad-input catalogue done' }] });
      const failure = failureOf(
        await gate.result().then(
          () => undefined,
          (err: unknown) => err,
        ),
      );
      expect(failure.type).toBe('ApprovalRejectedError');
      const deployments = deploymentsOf(await sandbox.state());
      expect([...deployments.branches].sort()).toEqual(branchesBeforeGate);
      expect(deployments.mergeRequests.opened).toEqual([]);
    });
  });

  describe('`shepherd` flags, environment variables and env files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-bad-inputs-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const argsOf = (c: CliCase, i: number): string[] => {
      if (c.envFile === undefined) return [...c.args];
      const file = join(dir, `case-${i}.env`);
      writeFileSync(file, c.envFile);
      return [...c.args, '--vars-file', file];
    };
    // No ambient configuration, and the embedded dev server's state in a scratch folder should a case start one.
    const baseEnv = { SHEPHERD_STATE_DIR: join(dir, 'state') };

    const check = (c: CliCase, result: Exit): void => {
      expect(result.code, `${result.stdout}${result.stderr}`).toBe(2);
      for (const m of c.mentions) {
        if (typeof m === 'string') expect(result.stderr).toContain(m);
        else expect(result.stderr).toMatch(m);
      }
      for (const secret of c.hidden ?? []) expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
    };

    CLI_CASES.forEach((c, i) => {
      it(`\`shepherd ${c.args.join(' ')}\` exits 2 on ${c.title}`, async () => {
        const before = sideEffects(await sandbox.state());
        check(c, await runInProcess(argsOf(c, i), { ...baseEnv, ...c.env }));
        if (c.binary) check(c, await runCli(argsOf(c, i), { ...baseEnv, ...c.env }));
        expect(sideEffects(await sandbox.state())).toEqual(before);
      });
    });
  });
});
