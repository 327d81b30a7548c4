/**
 * validatePipeline end to end on the real dev server against the sandbox world, through the real activities and
 * clients: what the run did is checked in the world itself (the inspection endpoint), not only in the report.
 * Both ways of opening the promotion MRs: the Jenkins promote-environment job (as the seed does) and GitLab's API.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { validatePipeline } from '../../workflows/index.js';
import { approveUpdate, progressQuery } from '../../workflows/messages.js';
import type { PromotionMode } from '../../src/domain/inputs.js';
import { promotionWorkflowId, validationWorkflowId } from '../../src/domain/promotion-policy.js';
import {
  ShepherdApp,
  ShepherdEnvironment,
  ShepherdImageTag,
  ShepherdStatus,
} from '../../src/temporal/common/search-attributes.js';
import type { WorldState } from '../../src/sandbox/world/state.js';
import {
  APP,
  APPROVER,
  builds,
  environment,
  historyLength,
  leftoverBranches,
  project,
  sandboxTemporal,
  tagOf,
  type SandboxTemporal,
} from './sandbox-support.js';
import { eventually, until } from '../support/eventually.js';
import { runCli } from '../support/cli.js';
import { reportOf } from '../support/run-report.js';

const APP_PROJECT = 'p2c/example-app';
const DEPLOYMENTS = 'p2c/k8s-deployments';
const PROMOTE_JOB = 'promote-environment';

describe.each<PromotionMode>(['jenkins', 'gitlab'])(
  'validatePipeline against the sandbox world, promotion MRs opened by %s',
  (mode) => {
    let t: SandboxTemporal;
    beforeAll(async () => {
      t = await sandboxTemporal(import.meta.url, mode);
    });
    afterAll(async () => {
      await t?.teardown();
    });

    function start(): Promise<WorkflowHandle<typeof validatePipeline>> {
      return t.client.workflow.start<typeof validatePipeline>('validatePipeline', {
        taskQueue: t.taskQueue,
        workflowId: validationWorkflowId(APP),
        args: [{ appName: APP, mode, approvers: [APPROVER] }],
      });
    }

    /** Runs of this namespace that a visibility query finds, once it has caught up (it is eventually consistent). */
    async function listed(query: string, expected: readonly string[]): Promise<string[]> {
      return eventually(async () => {
        const found: string[] = [];
        for await (const run of t.client.workflow.list({ query })) found.push(run.runId);
        return expected.every((id) => found.includes(id)) ? found : undefined;
      }, `visibility to list ${expected.length} runs for ${query}`);
    }

    const runIdOf = async (workflowId: string) => (await t.client.workflow.getHandle(workflowId).describe()).runId;

    it('runs the three iterations on one new image: one bump, one MR and one merge per environment, prod approved through the update', async () => {
      await t.inWorld({}, async (sandbox) => {
        const before = await sandbox.state();
        const handle = await start();

        // Prod waits at its gate: the child's progress query and the search attributes say so, and so does the parent.
        const prod = t.client.workflow.getHandle(promotionWorkflowId(APP, 'prod'));
        await until(
          async () => (await prod.query(progressQuery)).current?.waitingOn?.kind === 'approval',
          'prod to wait for approval',
          { timeoutMs: 90_000 },
        );
        const parentProgress = await handle.query(progressQuery);
        expect(parentProgress.current).toMatchObject({
          name: 'promote-prod',
          status: 'running',
          waitingOn: { kind: 'child-workflow', ref: 'promote-example-app-prod' },
        });
        await listed(`ShepherdApp = '${APP}' AND ShepherdStatus = 'waiting-approval'`, [
          await runIdOf(prod.workflowId),
        ]);
        await prod.executeUpdate(approveUpdate, {
          args: [{ by: APPROVER, reason: 'dev-server test of the full pipeline' }],
        });

        const report = await handle.result();
        const after = await sandbox.state();

        expect(report).toMatchObject({
          appName: APP,
          status: 'succeeded',
          through: 'prod',
          version: '1.0.37-SNAPSHOT',
          rollback: [],
        });
        const tag = report.imageTag!;
        expect(tag).toMatch(/^1\.0\.37-SNAPSHOT-[0-9a-f]{7}$/);
        expect(report.iterations.map((i) => [i.env, i.status, i.imageTag])).toEqual([
          ['dev', 'succeeded', tag],
          ['stage', 'succeeded', tag],
          ['prod', 'succeeded', tag],
        ]);

        // The world: the same image everywhere, every environment synced, healthy and fully rolled out.
        for (const env of ['dev', 'stage', 'prod'] as const) {
          const e = environment(after, env);
          expect(tagOf(e.image), env).toBe(tag);
          expect(e, env).toMatchObject({ health: 'Healthy', sync: 'Synced' });
          expect(e.readyReplicas, env).toBe(e.replicas);
        }
        expectOneBumpAndOneMergePerEnvironment(before, after, tag);
        expect(after.published.filter((image) => image.endsWith(`:${tag}`))).toHaveLength(1);
        expectPromoteJobBuilds(after, tag);

        // Small history: parent and children together stay well under the 1,000-event budget.
        const children = ['stage', 'prod'].map((env) =>
          t.client.workflow.getHandle(promotionWorkflowId(APP, env as 'stage' | 'prod')),
        );
        const events = (await Promise.all([handle, ...children].map(historyLength))).reduce((a, b) => a + b, 0);
        expect(events).toBeLessThan(500);

        // Visibility: typed search attributes and the memo of the parent and of each hop.
        const described = await handle.describe();
        expect(described.typedSearchAttributes.get(ShepherdApp)).toBe(APP);
        expect(described.typedSearchAttributes.get(ShepherdStatus)).toBe('succeeded');
        expect(described.typedSearchAttributes.get(ShepherdImageTag)).toBe(tag);
        expect(described.typedSearchAttributes.get(ShepherdEnvironment)).toBe('prod');
        expect(described.memo).toMatchObject({
          status: 'succeeded',
          summary: expect.stringContaining(`reached dev, stage, prod`),
        });
        for (const child of children) {
          const d = await child.describe();
          const env = child.workflowId.replace(`promote-${APP}-`, '');
          expect(d.typedSearchAttributes.get(ShepherdEnvironment)).toBe(env);
          expect(d.typedSearchAttributes.get(ShepherdImageTag)).toBe(tag);
          expect(d.typedSearchAttributes.get(ShepherdStatus)).toBe('succeeded');
          expect(d.memo).toMatchObject({ status: 'succeeded', summary: expect.stringContaining(tag) });
        }
        await listed(`ShepherdApp = '${APP}' AND ShepherdStatus = 'succeeded'`, [
          described.runId,
          ...(await Promise.all(children.map((c) => runIdOf(c.workflowId)))),
        ]);
      });
    });

    it('rolls stage back to its previous image when the new one degrades there, keeps dev on it, and says so', async () => {
      await t.inWorld({ scenario: 'stage-degraded' }, async (sandbox) => {
        const before = await sandbox.state();
        const stageBefore = tagOf(environment(before, 'stage').image)!;
        const prodBefore = tagOf(environment(before, 'prod').image)!;
        const handle = await start();
        const report = await reportOf(handle);
        const after = await sandbox.state();
        const tag = report.imageTag!;

        // The world: stage is back on its previous image, healthy; dev keeps the new image; prod was never touched.
        expect(tagOf(environment(after, 'stage').image)).toBe(stageBefore);
        expect(environment(after, 'stage')).toMatchObject({ health: 'Healthy', sync: 'Synced' });
        expect(environment(after, 'stage').readyReplicas).toBe(environment(after, 'stage').replicas);
        expect(after.environments.stage!.pods.every((p) => tagOf(p.image) === stageBefore)).toBe(true);
        expect(tagOf(environment(after, 'dev').image)).toBe(tag);
        expect(environment(after, 'dev')).toMatchObject({ health: 'Healthy', sync: 'Synced' });
        expect(tagOf(environment(after, 'prod').image)).toBe(prodBefore);
        const deployments = project(after, DEPLOYMENTS);
        expect(deployments.counts.reverts).toBe(1);
        expect(deployments.mergeRequests.opened).toEqual([]);
        expect(leftoverBranches(deployments)).toEqual([]);
        expect(deployments.mergeRequests.merged.filter((m) => m.target === 'prod')).toEqual([]);

        // The report says the same.
        expect(report.status).toBe('rolled_back');
        expect(report.iterations.map((i) => [i.env, i.status])).toEqual([
          ['dev', 'succeeded'],
          ['stage', 'rolled_back'],
        ]);
        expect(report.iterations[1]).toMatchObject({
          imageTag: tag,
          previousImageTag: stageBefore,
          workflowId: promotionWorkflowId(APP, 'stage'),
        });
        expect(report.failure).toMatchObject({ type: 'AppDegradedError', iteration: 2 });
        expect(
          report.rollback.filter((r) => r.action === 'revert-merge-request' || r.action === 'await-previous-image'),
        ).toEqual([
          expect.objectContaining({
            action: 'revert-merge-request',
            env: 'stage',
            status: 'succeeded',
            fromImageTag: tag,
            toImageTag: stageBefore,
          }),
          expect.objectContaining({
            action: 'await-previous-image',
            env: 'stage',
            status: 'succeeded',
            fromImageTag: tag,
            toImageTag: stageBefore,
          }),
        ]);
        expect(report.rollback.filter((r) => r.env === 'dev')).toEqual([]);
        const described = await handle.describe();
        expect(described.typedSearchAttributes.get(ShepherdStatus)).toBe('rolled_back');
        expect(described.memo).toMatchObject({
          status: 'rolled_back',
          summary: expect.stringContaining(
            'await-argo-synced-and-healthy failed: example-app-stage in stage is unhealthy',
          ),
        });
        await listed(`ShepherdApp = '${APP}' AND ShepherdStatus = 'rolled_back'`, [described.runId]);

        // Temporal shows it Failed, with the report as the failure's detail; `status` and `report` still read it.
        expect(described.status.name).toBe('FAILED');
        const cli = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: t.namespace };
        const status = await runCli(['status', handle.workflowId, '--json'], cli);
        expect(status.code).toBe(0);
        const shown = JSON.parse(status.stdout.trim()) as {
          status: string;
          ended: { status: string; failure: { type: string } };
          stepsDone: { name: string; env?: string }[];
          rollback: { action: string; env?: string; status: string }[];
        };
        expect(shown).toMatchObject({ status: 'FAILED', ended: { status: 'rolled_back' } });
        expect(shown.ended.failure.type).toBe('AppDegradedError');
        expect(shown.stepsDone.map((step) => step.name)).toEqual(
          expect.arrayContaining(['bump-version', 'verify-workload', 'await-argo-synced-and-healthy']),
        );
        expect(shown.stepsDone.some((step) => step.env === 'stage')).toBe(true);
        expect(shown.rollback).toContainEqual(
          expect.objectContaining({ action: 'revert-merge-request', env: 'stage', status: 'succeeded' }),
        );
        const written = await runCli(
          ['report', handle.workflowId, '--json', '--out', mkdtempSync(join(tmpdir(), 'r-'))],
          cli,
        );
        expect(written.code).toBe(1);
        expect(JSON.parse(written.stdout.trim().split('\n').at(-1)!)).toMatchObject({ status: 'rolled_back' });
        const stagePromotion = await runCli(
          ['report', promotionWorkflowId(APP, 'stage'), '--json', '--out', mkdtempSync(join(tmpdir(), 'r-'))],
          cli,
        );
        expect(stagePromotion.code).toBe(1);
        expect(JSON.parse(stagePromotion.stdout.trim().split('\n').at(-1)!)).toMatchObject({
          status: 'rolled_back',
          appName: APP,
          sourceEnv: 'dev',
          targetEnv: 'stage',
          failure: { type: 'AppDegradedError' },
          rollback: expect.arrayContaining([expect.objectContaining({ action: 'revert-merge-request' })]),
        });
        expect(stagePromotion.stderr).toMatch(/\.md/);
      });
    });

    /**
     * One bump commit on the app repo's main, and on the deployments repo one MR per environment, each merged once,
     * nothing left open, no leftover branches.
     */
    function expectOneBumpAndOneMergePerEnvironment(before: WorldState, after: WorldState, tag: string): void {
      const app = project(after, APP_PROJECT);
      expect(app.commitsPerBranch.main! - project(before, APP_PROJECT).commitsPerBranch.main!).toBe(1);
      const deployments = project(after, DEPLOYMENTS);
      const mergedBefore = project(before, DEPLOYMENTS).counts.merges;
      expect(deployments.counts.merges - mergedBefore).toBe(3);
      expect(deployments.counts.reverts).toBe(0);
      expect(deployments.mergeRequests.opened).toEqual([]);
      expect(deployments.mergeRequests.closed).toEqual([]);
      expect(deployments.mergeRequests.merged.map((m) => m.target).sort()).toEqual(['dev', 'prod', 'stage']);
      for (const mr of deployments.mergeRequests.merged) expect(mr.title, mr.source).toContain(tag);
      expect(leftoverBranches(deployments)).toEqual([]);
      expect(leftoverBranches(app)).toEqual([]);
    }

    /** Jenkins mode: one promote-environment build per hop, with the hop's parameters; GitLab mode: none at all. */
    function expectPromoteJobBuilds(state: WorldState, tag: string): void {
      const promoteBuilds = builds(state, PROMOTE_JOB).map((b) => [
        b.params.SOURCE_ENV,
        b.params.TARGET_ENV,
        b.params.IMAGE_TAG,
        b.result,
      ]);
      if (mode === 'jenkins')
        expect(promoteBuilds.sort()).toEqual([
          ['dev', 'stage', tag, 'SUCCESS'],
          ['stage', 'prod', tag, 'SUCCESS'],
        ]);
      else expect(promoteBuilds).toEqual([]);
    }
  },
);

describe('validatePipeline cancelled against the sandbox world', () => {
  let t: SandboxTemporal;
  beforeAll(async () => {
    t = await sandboxTemporal(import.meta.url, 'cancel');
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('a validation cancelled while it waits for the dev MR closes the MR CI opened and deletes its branch', async () => {
    await t.inWorld({}, async (sandbox) => {
      // GitLab answers 503 to Shepherd's merge-request calls: the run waits for the dev MR that CI has opened.
      await sandbox.setScenario({
        name: 'mr-api-503',
        description: 'GitLab answers 503 to merge-request calls',
        http: [{ system: 'gitlab', path: '/merge_requests', status: 503 }],
      });
      const handle = await t.client.workflow.start<typeof validatePipeline>('validatePipeline', {
        taskQueue: t.taskQueue,
        workflowId: validationWorkflowId(APP),
        args: [{ appName: APP, through: 'dev' }],
      });
      await until(
        async () => (await handle.query(progressQuery)).current?.name === 'await-merge-request',
        'the validation to wait for the dev MR',
        { timeoutMs: 60_000 },
      );
      await until(
        async () =>
          project(await sandbox.state(), DEPLOYMENTS).mergeRequests.opened.some((m) =>
            m.source.startsWith('update-dev-'),
          ),
        'CI to open the dev MR',
        { timeoutMs: 60_000 },
      );
      await handle.cancel();
      // The undo retries through GitLab's outage and closes the MR once GitLab answers again.
      await sandbox.setScenario(undefined);
      await expect(handle.result()).rejects.toThrow();
      expect((await handle.describe()).status.name).toBe('CANCELLED');

      const deployments = project(await sandbox.state(), DEPLOYMENTS);
      expect(deployments.mergeRequests.opened).toEqual([]);
      expect(deployments.mergeRequests.closed.map((m) => m.source)).toEqual([
        expect.stringMatching(/^update-dev-1\.0\.37-SNAPSHOT-[0-9a-f]{7}$/),
      ]);
      expect(leftoverBranches(deployments)).toEqual([]);
    });
  });
});
