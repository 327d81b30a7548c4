import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { validatePipeline } from '../../workflows/index.js';
import { approveUpdate, progressQuery, rejectUpdate } from '../../workflows/messages.js';
import { AppDegradedError, BuildFailedError } from '../../src/domain/errors.js';
import type { ValidatePipelineInput } from '../../src/domain/inputs.js';
import type { ValidationReport } from '../../src/domain/report.js';
import { ShepherdStatus } from '../../src/temporal/common/search-attributes.js';
import { FakePipeline } from './support/fake-pipeline.js';
import { untilStep } from '../support/until-step.js';
import { eventually } from '../support/eventually.js';
import { startHarness, unique, type Harness } from './support/harness.js';
import { reportOf } from '../support/run-report.js';

const OLD = '1.0.36-SNAPSHOT-0a0a0a0';
const NEW = '1.0.37-SNAPSHOT-abcdef1';

describe('validatePipeline', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(import.meta.url);
  });
  afterAll(async () => {
    await h?.teardown();
  });

  function start(input: Partial<ValidatePipelineInput>): Promise<WorkflowHandle<typeof validatePipeline>> {
    const full = { appName: unique('app'), ...input } as ValidatePipelineInput;
    return h.env.client.workflow.start<typeof validatePipeline>('validatePipeline', {
      taskQueue: h.taskQueue,
      workflowId: unique(`validate-${full.appName}`),
      args: [full],
    });
  }

  /** Approves the prod promotion child once it waits at the gate. */
  async function approveProd(appName: string, by = 'night-shift'): Promise<void> {
    const child = h.env.client.workflow.getHandle(`promote-${appName}-prod`);
    await untilStep(child, 'approval');
    await child.executeUpdate(approveUpdate, { args: [{ by, reason: 'nightly validation' }] });
  }

  const mutatingEnvs = (fake: FakePipeline, name: 'mergeMergeRequest' | 'revertMergeRequest') =>
    fake
      .callsOf(name)
      .map((c) =>
        name === 'revertMergeRequest'
          ? c.targetEnv
          : [...fake.mergeRequests.values()].find((m) => m.iid === c.iid)?.targetEnv,
      );

  it('runs the three iterations on the same image through prod and reports every step', async () => {
    const fake = h.install();
    const appName = unique('app');
    const handle = await start({ appName });
    await approveProd(appName);
    const report = await handle.result();

    expect(report).toMatchObject({
      appName,
      status: 'succeeded',
      through: 'prod',
      version: '1.0.37-SNAPSHOT',
      imageTag: NEW,
      rollback: [],
    });
    expect(report.iterations.map((i) => [i.iteration, i.env, i.status, i.imageTag, i.previousImageTag])).toEqual([
      [1, 'dev', 'succeeded', NEW, OLD],
      [2, 'stage', 'succeeded', NEW, OLD],
      [3, 'prod', 'succeeded', NEW, OLD],
    ]);
    expect(report.iterations[0]!.steps.map((s) => s.name)).toEqual([
      'read-dev',
      'read-dev-declared',
      'bump-version',
      'find-ci-build',
      'await-ci-build',
      'await-merge-request',
      'merge-merge-request',
      'await-argo-synced-and-healthy',
      'verify-workload',
    ]);
    for (const it of report.iterations)
      for (const step of it.steps)
        expect(step).toMatchObject({
          status: 'succeeded',
          startedAt: expect.any(String),
          durationMs: expect.any(Number),
        });
    expect(report.iterations[0]!.steps.find((s) => s.name === 'await-ci-build')).toMatchObject({
      attempts: 1,
      links: { build: expect.stringContaining('/example-app/job/main/') },
    });
    expect(report.iterations[0]!.steps.find((s) => s.name === 'merge-merge-request')?.links?.mergeRequest).toMatch(
      /merge_requests\/1$/,
    );
    expect(report.iterations[2]!.steps.find((s) => s.name === 'approval')).toMatchObject({ status: 'succeeded' });
    expect(report.iterations[2]!.workflowId).toBe(`promote-${appName}-prod`);

    expect(fake.callsOf('bumpAppVersion')).toHaveLength(1);
    expect(mutatingEnvs(fake, 'mergeMergeRequest')).toEqual(['dev', 'stage', 'prod']);
    expect(fake.callsOf('queuePromoteJob').map((c) => [c.sourceEnv, c.targetEnv, c.imageTag])).toEqual([
      ['dev', 'stage', NEW],
      ['stage', 'prod', NEW],
    ]);
    expect(Object.values(fake.envs).map((e) => e.imageTag)).toEqual([NEW, NEW, NEW]);

    const history = await handle.fetchHistory();
    expect(history.events?.length ?? 0).toBeLessThan(250);
    expect((await handle.describe()).typedSearchAttributes.get(ShepherdStatus)).toBe('succeeded');
  });

  it('stops after dev when through is dev', async () => {
    const fake = h.install();
    const report = await (await start({ through: 'dev' })).result();
    expect(report.status).toBe('succeeded');
    expect(report.iterations.map((i) => i.env)).toEqual(['dev']);
    expect(fake.callsOf('queuePromoteJob')).toHaveLength(0);
    expect(fake.envs.stage.imageTag).toBe(OLD);
  });

  it('fails without rolling anything back when the CI build fails before any environment changed', async () => {
    const fake = h.install();
    fake.fail(
      'awaitJenkinsBuild',
      new BuildFailedError({
        job: 'example-app/main',
        buildNumber: 100,
        result: 'FAILURE',
        url: 'https://jenkins.example.test/job/example-app/job/main/100/',
        consoleTail: '[ERROR] Tests run: 3, Failures: 1',
      }),
    );
    const report = await reportOf(await start({}));
    expect(report.status).toBe('failed');
    expect(report.failure).toMatchObject({
      iteration: 1,
      step: 'await-ci-build',
      type: 'BuildFailedError',
      facts: { consoleTail: expect.stringContaining('Failures: 1') },
    });
    expect(report.rollback).toEqual([]);
    expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
  });

  it('refuses to start when dev does not run what its branch declares, before bumping anything', async () => {
    const fake = h.install();
    fake.envs.dev.imageTag = '1.0.35-SNAPSHOT-d1f7ed0';
    const report = await reportOf(await start({}));
    expect(report.status).toBe('failed');
    expect(report.failure).toMatchObject({
      iteration: 1,
      step: 'read-dev-declared',
      type: 'TargetNotSettledError',
      message: expect.stringContaining(
        `refusing to validate through dev: it runs 1.0.35-SNAPSHOT-d1f7ed0 but its branch declares ${OLD}`,
      ),
    });
    expect(report.failure?.message).toContain('--allow-unsettled-target');
    expect(fake.names().filter((n) => n !== 'notifyEvent')).toEqual(['readEnvironmentState', 'readDeclaredImage']);
  });

  it('goes on with an unsettled dev when allowUnsettledTarget says so, rolls back to what dev declared, and reports it', async () => {
    const fake = h.install();
    fake.envs.dev.imageTag = '1.0.35-SNAPSHOT-d1f7ed0';
    fake.fail(
      'verifyWorkload',
      new AppDegradedError({ env: 'dev', argoApp: 'example-app-dev', reason: 'NotReady', pods: [] }),
      (i) => i.env === 'dev' && i.imageTag === NEW,
    );
    const report = await reportOf(await start({ allowUnsettledTarget: true }));
    expect(report.status).toBe('rolled_back');
    expect(report.iterations[0]).toMatchObject({
      env: 'dev',
      status: 'rolled_back',
      previousImageTag: OLD,
      unsettledTarget: `it runs 1.0.35-SNAPSHOT-d1f7ed0 but its branch declares ${OLD}`,
    });
    expect(fake.callsOf('verifyWorkload').at(-1)).toMatchObject({ env: 'dev', imageTag: OLD });
    expect(fake.envs.dev.imageTag).toBe(OLD);
  });

  it("reverts stage only, and closes the run's MRs, when stage never becomes healthy (default rollback scope)", async () => {
    const fake = h.install();
    fake.fail(
      'awaitArgoSyncedAndHealthy',
      new AppDegradedError({ env: 'stage', argoApp: 'example-app-stage', reason: 'Degraded', pods: [] }),
      (i) => i.env === 'stage' && String(i.revision).startsWith('m'),
    );
    const report = await reportOf(await start({ through: 'stage' }));

    expect(report.status).toBe('rolled_back');
    expect(report.failure).toMatchObject({
      iteration: 2,
      step: 'await-argo-synced-and-healthy',
      type: 'AppDegradedError',
      facts: { env: 'stage', reason: 'Degraded' },
    });
    expect(report.iterations.map((i) => [i.env, i.status])).toEqual([
      ['dev', 'succeeded'],
      ['stage', 'rolled_back'],
    ]);
    expect(report.rollback.map((r) => [r.action, r.env, r.status])).toEqual([
      ['revert-merge-request', 'stage', 'succeeded'],
      ['await-previous-image', 'stage', 'succeeded'],
      ['abandon-deploy-branch', 'stage', 'succeeded'],
    ]);
    expect(report.rollback[0]).toMatchObject({ fromImageTag: NEW, toImageTag: OLD });
    expect(mutatingEnvs(fake, 'revertMergeRequest')).toEqual(['stage']);
    expect(fake.envs.stage.imageTag).toBe(OLD);
    expect(fake.envs.dev.imageTag).toBe(NEW);
  });

  describe('a declared pipeline of four environments (qa → uat → preprod → live)', () => {
    const FOUR = ['qa', 'uat', 'preprod', 'live'];

    it('delivers to the first environment, promotes through each next one in order, and approves where the pipeline says', async () => {
      const fake = h.install(new FakePipeline({ environments: FOUR }));
      const appName = unique('app');
      const handle = await start({
        appName,
        environments: FOUR,
        approvalEnvironments: ['live'],
        environmentApprovers: { live: ['release-manager'] },
      });
      const live = h.env.client.workflow.getHandle(`promote-${appName}-live`);
      await untilStep(live, 'approval');
      const refused = await live
        .executeUpdate(approveUpdate, { args: [{ by: 'night-shift', reason: 'not an approver of live' }] })
        .then(
          () => undefined,
          (e: unknown) => (e as Error & { cause?: Error }).cause?.message,
        );
      expect(refused).toBe('night-shift is not on the approvers list for live');
      await live.executeUpdate(approveUpdate, { args: [{ by: 'release-manager', reason: 'go' }] });
      const report = await handle.result();

      expect(report).toMatchObject({ status: 'succeeded', through: 'live', imageTag: NEW });
      expect(report.iterations.map((i) => [i.iteration, i.env, i.status])).toEqual([
        [1, 'qa', 'succeeded'],
        [2, 'uat', 'succeeded'],
        [3, 'preprod', 'succeeded'],
        [4, 'live', 'succeeded'],
      ]);
      expect(report.iterations[0]!.steps.slice(0, 2).map((s) => s.name)).toEqual(['read-qa', 'read-qa-declared']);
      expect(report.iterations[3]!.approval).toMatchObject({ by: 'release-manager', reason: 'go' });
      expect(FOUR.map((env) => fake.envs[env]!.imageTag)).toEqual([NEW, NEW, NEW, NEW]);
      expect(mutatingEnvs(fake, 'mergeMergeRequest')).toEqual(FOUR);
    });

    it('stops after the environment named by through, and reverts only the hop that failed', async () => {
      const fake = h.install(new FakePipeline({ environments: FOUR }));
      fake.fail(
        'awaitArgoSyncedAndHealthy',
        new AppDegradedError({ env: 'preprod', argoApp: 'example-app-preprod', reason: 'Degraded', pods: [] }),
        (i) => i.env === 'preprod' && String(i.revision).startsWith('m'),
      );
      const report = await reportOf(await start({ environments: FOUR, through: 'preprod', approvalEnvironments: [] }));

      expect(report.status).toBe('rolled_back');
      expect(report.failure).toMatchObject({ iteration: 3, facts: { env: 'preprod' } });
      expect(report.iterations.map((i) => [i.env, i.status])).toEqual([
        ['qa', 'succeeded'],
        ['uat', 'succeeded'],
        ['preprod', 'rolled_back'],
      ]);
      expect(mutatingEnvs(fake, 'revertMergeRequest')).toEqual(['preprod']);
      expect([
        fake.envs.qa!.imageTag,
        fake.envs.uat!.imageTag,
        fake.envs.preprod!.imageTag,
        fake.envs.live!.imageTag,
      ]).toEqual([NEW, NEW, OLD, OLD]);
    });

    it('refuses an environment the pipeline does not have, naming the ones it has, before any activity runs', async () => {
      const fake = h.install(new FakePipeline({ environments: FOUR }));
      const failure = await start({ environments: FOUR, through: 'prod' })
        .then((handle) => handle.result())
        .catch((e: unknown) => e);
      expect(String((failure as Error & { cause?: Error }).cause?.message)).toMatch(
        /through must be one of qa, uat, preprod, live/,
      );
      expect(fake.calls).toEqual([]);
    });
  });

  it('reverts stage and then dev, newest first, when rollback is all', async () => {
    const fake = h.install();
    fake.fail(
      'verifyWorkload',
      new AppDegradedError({
        env: 'stage',
        argoApp: 'example-app-stage',
        reason: 'CrashLoopBackOff',
        pods: [{ name: 'p', restarts: 3 }],
      }),
      (i) => i.env === 'stage' && i.imageTag === NEW,
    );
    const report = await reportOf(await start({ through: 'stage', rollback: 'all' }));

    expect(report.status).toBe('rolled_back');
    expect(mutatingEnvs(fake, 'revertMergeRequest')).toEqual(['stage', 'dev']);
    expect(report.iterations.map((i) => [i.env, i.status])).toEqual([
      ['dev', 'rolled_back'],
      ['stage', 'rolled_back'],
    ]);
    expect(
      report.rollback
        .filter((r) => r.action === 'revert-merge-request')
        .map((r) => [r.env, r.fromImageTag, r.toImageTag]),
    ).toEqual([
      ['stage', NEW, OLD],
      ['dev', NEW, OLD],
    ]);
    expect(Object.values(fake.envs).map((e) => e.imageTag)).toEqual([OLD, OLD, OLD]);
  });

  it('closes only the prod MR when prod approval is rejected: verified environments keep the new image', async () => {
    const fake = h.install();
    const appName = unique('app');
    const handle = await start({ appName, approvers: ['alice'] });
    const child = h.env.client.workflow.getHandle(`promote-${appName}-prod`);
    await untilStep(child, 'approval');
    await child.executeUpdate(rejectUpdate, { args: [{ by: 'alice', reason: 'not tonight' }] });
    const report = await reportOf(handle);

    // Nothing merged was reverted: closing the prod MR is cleaning up, so the run failed rather than rolled back.
    expect(report.status).toBe('failed');
    expect(report.failure).toMatchObject({ iteration: 3, step: 'approval', type: 'ApprovalRejectedError' });
    expect(report.iterations.map((i) => [i.env, i.status])).toEqual([
      ['dev', 'succeeded'],
      ['stage', 'succeeded'],
      ['prod', 'failed'],
    ]);
    expect(report.rollback.map((r) => [r.action, r.env, r.status])).toEqual([
      ['abandon-deploy-branch', 'prod', 'succeeded'],
    ]);
    expect(fake.callsOf('revertMergeRequest')).toHaveLength(0);
  });

  it('compensates dev when cancelled while dev is syncing, then ends cancelled', async () => {
    const fake = h.install();
    fake.block('awaitArgoSyncedAndHealthy', (i) => i.env === 'dev' && String(i.revision).startsWith('m'));
    const handle = await start({});
    await untilStep(handle, 'await-argo-synced-and-healthy');
    await handle.cancel();
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(mutatingEnvs(fake, 'revertMergeRequest')).toEqual(['dev']);
    expect(fake.envs.dev.imageTag).toBe(OLD);
    const progress = await handle.query(progressQuery);
    expect(progress.rollback.map((r) => [r.action, r.status])).toEqual([
      ['revert-merge-request', 'succeeded'],
      ['await-previous-image', 'succeeded'],
      ['abandon-deploy-branch', 'succeeded'],
    ]);
  });

  describe('one validation per app, and children that cannot be orphaned', () => {
    async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      return (err as WorkflowFailedError).cause as ApplicationFailure;
    }

    it('refuses a second validation of the same app under another workflow id (as the schedule starts them) before it changes anything', async () => {
      const fake = h.install();
      fake.block('findCiBuildForCommit');
      const appName = unique('app');
      const first = await start({ appName });
      await untilStep(first, 'find-ci-build');

      const second = await start({ appName });
      const failure = await failureOf(second);
      expect(failure.type).toBe('ValidationAlreadyRunningError');
      expect(failure.message).toContain(`another validation of ${appName} is running`);
      expect((failure.details?.[0] as ValidationReport).failure).toMatchObject({ step: 'hold-validation-lock' });
      expect(fake.callsOf('bumpAppVersion')).toHaveLength(1);

      // Once the first one has ended (and unwound), the app is free again.
      await first.cancel();
      await first.result().catch(() => undefined);
      h.install();
      const third = await start({ appName, through: 'dev' });
      expect((await third.result()).status).toBe('succeeded');
    });

    it('supersedes a manual promotion of an older image that is before its merge, as `shepherd promote` would, then promotes its own', async () => {
      const fake = h.install(new FakePipeline({ images: { dev: '1.0.35-SNAPSHOT-1111111' } }));
      let holdManual = true;
      fake.block('awaitJenkinsBuild', (i) => i.job === 'promote' && holdManual);
      const appName = unique('app');
      const manual = await h.env.client.workflow.start('promoteEnvironment', {
        taskQueue: h.taskQueue,
        workflowId: `promote-${appName}-stage`,
        args: [{ appName, sourceEnv: 'dev', targetEnv: 'stage' }],
      });
      await untilStep(manual, 'await-promote-build');
      holdManual = false;

      const handle = await start({ appName, through: 'stage' });
      const report = await reportOf(handle);
      expect(report.status).toBe('succeeded');
      const newImage = report.iterations[0]!.imageTag!;
      expect(newImage).not.toBe('1.0.35-SNAPSHOT-1111111');
      // The manual run gave way before its merge: it unwound and ended superseded by the validation's image.
      expect(await manual.result()).toMatchObject({ status: 'superseded', supersededBy: newImage });
      expect(mutatingEnvs(fake, 'mergeMergeRequest')).toEqual(['dev', 'stage']);
      expect(report.iterations[1]).toMatchObject({ env: 'stage', status: 'succeeded', imageTag: newImage });
    });

    it('waits for a manual promotion that is already rolling out (never switching an environment mid-rollout), then promotes its own', async () => {
      const fake = h.install(new FakePipeline({ images: { dev: '1.0.35-SNAPSHOT-1111111' } }));
      const releaseManual = fake.hold('verifyWorkload', (i) => i.env === 'stage');
      const appName = unique('app');
      const manual = await h.env.client.workflow.start('promoteEnvironment', {
        taskQueue: h.taskQueue,
        workflowId: `promote-${appName}-stage`,
        args: [{ appName, sourceEnv: 'dev', targetEnv: 'stage' }],
      });
      await untilStep(manual, 'verify-workload');

      const handle = await start({ appName, through: 'stage' });
      await eventually(
        () => (fake.calls.some((c) => c.name === 'settlePromotionConflict') ? 'settling' : undefined),
        'the validation to meet the manual promotion',
      );
      expect((await manual.describe()).status.name).toBe('RUNNING');
      releaseManual();

      expect(await manual.result()).toMatchObject({ status: 'succeeded', imageTag: '1.0.35-SNAPSHOT-1111111' });
      const report = await reportOf(handle);
      expect(report.status).toBe('succeeded');
      expect(report.iterations[1]).toMatchObject({ env: 'stage', status: 'succeeded' });
      expect(report.iterations[1]!.imageTag).not.toBe('1.0.35-SNAPSHOT-1111111');
      expect(mutatingEnvs(fake, 'mergeMergeRequest')).toEqual(['stage', 'dev', 'stage']);
    });

    it("never supersedes another installation's promotion (another task queue): it waits for its end, then promotes", async () => {
      const fake = h.install(new FakePipeline({ images: { dev: '1.0.35-SNAPSHOT-1111111' } }));
      const appName = unique('app');
      // Started on a task queue no worker of this installation serves: it sits in its first step.
      const other = await h.env.client.workflow.start('promoteEnvironment', {
        taskQueue: `${h.taskQueue}-other-installation`,
        workflowId: `promote-${appName}-stage`,
        args: [{ appName, sourceEnv: 'dev', targetEnv: 'stage' }],
      });
      const handle = await start({ appName, through: 'stage' });
      await eventually(
        () => (fake.calls.some((c) => c.name === 'settlePromotionConflict') ? 'settling' : undefined),
        'the validation to meet the other promotion',
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await other.describe()).status.name).toBe('RUNNING');
      await other.terminate('the other installation stops it');

      const report = await reportOf(handle);
      expect(report.status).toBe('succeeded');
      expect(report.iterations[1]).toMatchObject({ env: 'stage', status: 'succeeded' });
    });

    it('joins a manual promotion of the same image instead of starting a second one, and reports its outcome', async () => {
      const fake = h.install(new FakePipeline({ images: { dev: '1.0.35-SNAPSHOT-1111111' } }));
      const releaseDev = fake.hold('verifyWorkload', (i) => i.env === 'dev');
      const appName = unique('app');
      const handle = await start({ appName, through: 'stage' });
      await untilStep(handle, 'verify-workload');
      // dev runs the validation's new image now: a person promotes it to stage by hand, before the validation does.
      const releaseManual = fake.hold('awaitJenkinsBuild', (i) => i.job === 'promote');
      const manual = await h.env.client.workflow.start('promoteEnvironment', {
        taskQueue: h.taskQueue,
        workflowId: `promote-${appName}-stage`,
        args: [{ appName, sourceEnv: 'dev', targetEnv: 'stage' }],
      });
      await untilStep(manual, 'await-promote-build');
      releaseDev();
      await eventually(
        () => (fake.calls.some((c) => c.name === 'settlePromotionConflict') ? 'settling' : undefined),
        'the validation to meet the manual promotion',
      );
      releaseManual();

      const report = await reportOf(handle);
      expect(report.status).toBe('succeeded');
      const manualResult = (await manual.result()) as { status: string; imageTag: string };
      expect(manualResult).toMatchObject({ status: 'succeeded', imageTag: report.iterations[0]!.imageTag });
      expect(report.iterations[1]).toMatchObject({ env: 'stage', status: 'succeeded' });
      // One promote job for stage (the manual run's), one merge into stage.
      expect(fake.calls.filter((c) => c.name === 'queuePromoteJob')).toHaveLength(1);
      expect(mutatingEnvs(fake, 'mergeMergeRequest')).toEqual(['dev', 'stage']);
    });
  });

  it('rejects bad input before any activity runs', async () => {
    for (const [input, field] of [
      [{ appName: 'Bad_App' }, 'appName'],
      [{ appName: 'example-app', through: 'qa' }, 'through'],
      [{ appName: 'example-app', rollback: 'everything' }, 'rollback'],
      [{ appName: 'example-app', thru: 'dev' }, 'thru'],
      [{}, 'appName'],
    ] as const) {
      const fake = h.install();
      const handle = await h.env.client.workflow.start<typeof validatePipeline>('validatePipeline', {
        taskQueue: h.taskQueue,
        workflowId: unique('bad'),
        args: [input as unknown as ValidatePipelineInput],
      });
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('ValidationError');
      expect(cause.details?.[0]).toMatchObject({ field });
      expect(fake.calls).toEqual([]);
    }
  });
});
