import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { promoteEnvironment } from '../../workflows/index.js';
import {
  approveUpdate,
  currentImageQuery,
  progressQuery,
  rejectUpdate,
  supersedeUpdate,
} from '../../workflows/messages.js';
import { AppDegradedError, MergeConflictError } from '../../src/domain/errors.js';
import type { PromotionResult } from '../../src/domain/report.js';
import type { PromoteEnvironmentInput } from '../../src/domain/inputs.js';
import type { PromotionFailureDetails } from '../../src/domain/report.js';
import { ShepherdImageTag, ShepherdStatus } from '../../src/temporal/common/search-attributes.js';
import { FakePipeline } from './support/fake-pipeline.js';
import { untilStep } from '../support/until-step.js';
import { until } from '../support/eventually.js';
import { refusal, startHarness, unique, type Harness } from './support/harness.js';

const DEV_IMAGE = '1.0.37-SNAPSHOT-a1b2c3d';
const STAGE_IMAGE = '1.0.36-SNAPSHOT-0a0a0a0';

describe('promoteEnvironment', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(import.meta.url);
  });
  afterAll(async () => {
    await h?.teardown();
  });

  const fakeWithDevAhead = () =>
    new FakePipeline({ images: { dev: DEV_IMAGE, stage: STAGE_IMAGE, prod: STAGE_IMAGE } });

  function start(
    input: Partial<PromoteEnvironmentInput> & { targetEnv?: string },
  ): Promise<WorkflowHandle<typeof promoteEnvironment>> {
    const appName = input.appName ?? unique('app');
    const full = { appName, sourceEnv: 'dev', targetEnv: 'stage', ...input } as PromoteEnvironmentInput;
    return h.env.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
      taskQueue: h.taskQueue,
      workflowId: unique(`promote-${appName}-${full.targetEnv}`),
      args: [full],
    });
  }

  async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return cause as ApplicationFailure;
  }

  const mutating = [
    'triggerPromoteJob',
    'queuePromoteJob',
    'cancelPromoteJob',
    'openPromotionMergeRequest',
    'mergeMergeRequest',
    'revertMergeRequest',
    'closeMergeRequest',
    'deleteBranch',
    'abandonDeployBranch',
  ];

  it('promotes the image running healthy in dev to stage through the Jenkins promote job, merges, and verifies', async () => {
    const fake = h.install(fakeWithDevAhead());
    const handle = await start({});
    const result = await handle.result();

    expect(result).toMatchObject({
      status: 'succeeded',
      imageTag: DEV_IMAGE,
      previousImageTag: STAGE_IMAGE,
      mergeCommitSha: 'm1',
      mergeRequest: { iid: 1, sourceBranch: `promote-stage-${DEV_IMAGE}` },
    });
    expect(fake.names().filter((n) => n !== 'notifyEvent')).toEqual([
      'readEnvironmentState',
      'readEnvironmentState',
      'readDeclaredImage',
      'queuePromoteJob',
      'awaitJenkinsQueueItem',
      'awaitJenkinsBuild',
      'awaitMergeRequest',
      'checkFreezeWindow',
      'mergeMergeRequest',
      'awaitArgoSyncedAndHealthy',
      'verifyWorkload',
    ]);
    expect(fake.callsOf('queuePromoteJob')[0]).toMatchObject({
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag: DEV_IMAGE,
    });
    expect(fake.callsOf('awaitArgoSyncedAndHealthy')[0]).toMatchObject({ env: 'stage', revision: 'm1' });
    expect(fake.envs.stage.imageTag).toBe(DEV_IMAGE);
    expect(result.steps.map((s) => [s.name, s.status])).toContainEqual(['verify-workload', 'succeeded']);
    expect(result.steps.find((s) => s.name === 'await-promote-build')).toMatchObject({
      attempts: 1,
      links: { build: expect.stringContaining('promote-environment') },
    });
    expect(result.rollback).toEqual([]);

    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(ShepherdStatus)).toBe('succeeded');
    expect(described.typedSearchAttributes.get(ShepherdImageTag)).toBe(DEV_IMAGE);
    expect(described.memo).toMatchObject({ status: 'succeeded' });
  });

  it('opens the promotion MR through GitLab in gitlab mode instead of running the Jenkins job', async () => {
    const fake = h.install(fakeWithDevAhead());
    const result = await (await start({ mode: 'gitlab' })).result();
    expect(result.status).toBe('succeeded');
    expect(fake.callsOf('openPromotionMergeRequest')).toHaveLength(1);
    expect(fake.callsOf('queuePromoteJob')).toHaveLength(0);
  });

  it('tells await-jenkins-build what an UNSTABLE build means: failure unless the run says success', async () => {
    const fake = h.install(fakeWithDevAhead());
    await (await start({})).result();
    expect(fake.callsOf('awaitJenkinsBuild')[0]).toMatchObject({ job: 'promote', unstableBuilds: 'failure' });
    const lenient = h.install(fakeWithDevAhead());
    await (await start({ unstableBuilds: 'success' })).result();
    expect(lenient.callsOf('awaitJenkinsBuild')[0]).toMatchObject({ job: 'promote', unstableBuilds: 'success' });
  });

  it('gives every wait a StartToClose derived from its budget: a 7-day build budget runs 7 days', async () => {
    h.install(fakeWithDevAhead());
    const week = 7 * 24 * 3600;
    const handle = await start({ waitBudgets: { build: week, mergeRequest: 60 } });
    await handle.result();
    const scheduled = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a !== null && a !== undefined)
      .map((a) => ({ type: a.activityType?.name, seconds: Number(a.startToCloseTimeout?.seconds ?? 0) }));
    const build = scheduled.find((a) => a.type === 'awaitJenkinsBuild');
    expect(build?.seconds).toBeGreaterThanOrEqual(week);
    // A short budget gets a short StartToClose: its budget plus a few minutes' slack, not the longest preset.
    const mr = scheduled.find((a) => a.type === 'awaitMergeRequest');
    expect(mr?.seconds).toBeGreaterThanOrEqual(60);
    expect(mr?.seconds).toBeLessThanOrEqual(60 + 5 * 60);
  });

  it('merges as a heartbeating wait within the mergeability budget, not as a 1-minute quick call', async () => {
    h.install(fakeWithDevAhead());
    const handle = await start({ waitBudgets: { mergeability: 3600 } });
    await handle.result();
    const merge = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .find((a) => a?.activityType?.name === 'mergeMergeRequest');
    expect(Number(merge?.heartbeatTimeout?.seconds ?? 0)).toBeGreaterThan(0);
    expect(Number(merge?.startToCloseTimeout?.seconds ?? 0)).toBeGreaterThanOrEqual(3600);
    expect(merge?.input?.payloads?.length).toBe(1);
  });

  it('stops with the MR open when merge is false', async () => {
    const fake = h.install(fakeWithDevAhead());
    const result = await (await start({ merge: false })).result();
    expect(result.status).toBe('merge-request-opened');
    expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
    expect(fake.mergeRequests.get(1)?.state).toBe('opened');
  });

  it('refuses a source environment that is not synced and healthy, changing nothing', async () => {
    const fake = h.install(fakeWithDevAhead());
    fake.envs.dev.healthy = false;
    const failure = await failureOf(await start({}));
    expect(failure.type).toBe('SourceNotHealthyError');
    expect(failure.nonRetryable).toBe(true);
    expect((failure.details?.[0] as PromotionFailureDetails).failure.facts).toMatchObject({
      env: 'dev',
      health: 'Degraded',
    });
    expect(fake.names().filter((n) => mutating.includes(n))).toEqual([]);
  });

  it('refuses an imageTag that is not the one running in the source environment', async () => {
    const fake = h.install(fakeWithDevAhead());
    const failure = await failureOf(await start({ imageTag: '9.9.9-deadbee' }));
    expect(failure.type).toBe('SourceNotHealthyError');
    expect(failure.message).toContain(`runs ${DEV_IMAGE}`);
    expect(fake.names().filter((n) => mutating.includes(n))).toEqual([]);
  });

  it('ends as unchanged when the target already runs the image, synced and healthy', async () => {
    const fake = h.install(new FakePipeline({ images: { dev: DEV_IMAGE, stage: DEV_IMAGE } }));
    const result = await (await start({})).result();
    expect(result.status).toBe('unchanged');
    expect(fake.names().filter((n) => mutating.includes(n))).toEqual([]);
  });

  it("reverts stage and closes the run's MR and branch when stage never becomes healthy, then fails with the cause", async () => {
    const fake = h.install(fakeWithDevAhead());
    const degraded = new AppDegradedError({
      env: 'stage',
      argoApp: 'example-app-stage',
      reason: 'CrashLoopBackOff',
      pods: [{ name: 'example-app-7d9-x', reason: 'CrashLoopBackOff', restarts: 4 }],
    });
    fake.fail('awaitArgoSyncedAndHealthy', degraded, (i) => String(i.revision).startsWith('m'));
    const handle = await start({});
    const failure = await failureOf(handle);

    expect(failure.type).toBe('AppDegradedError');
    // The revert waits for its MR's mergeability as a heartbeating wait with a deadline, like the merge.
    const revert = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .find((att) => att?.activityType?.name === 'revertMergeRequest');
    expect(Number(revert?.heartbeatTimeout?.seconds ?? 0)).toBeGreaterThan(0);
    expect(Number(revert?.startToCloseTimeout?.seconds ?? 0)).toBeGreaterThanOrEqual(600);
    expect(fake.callsOf('revertMergeRequest')[0]).toMatchObject({ deadline: expect.any(String) });
    expect(failure.message).toContain(`rolled back stage: ${DEV_IMAGE} → ${STAGE_IMAGE}`);
    const details = failure.details?.[0] as PromotionFailureDetails;
    expect(details.failure.facts).toMatchObject({ reason: 'CrashLoopBackOff', pods: [{ name: 'example-app-7d9-x' }] });
    expect(details.rollback.map((r) => [r.action, r.status])).toEqual([
      ['revert-merge-request', 'succeeded'],
      ['await-previous-image', 'succeeded'],
      ['abandon-deploy-branch', 'succeeded'],
    ]);
    expect(details.rollback[0]).toMatchObject({
      env: 'stage',
      fromImageTag: DEV_IMAGE,
      toImageTag: STAGE_IMAGE,
      target: '!1',
    });
    const undoCalls = fake
      .names()
      .slice(fake.names().indexOf('revertMergeRequest'))
      .filter((n) => n !== 'notifyEvent');
    expect(undoCalls).toEqual([
      'revertMergeRequest',
      'readDeclaredImage',
      'awaitArgoSyncedAndHealthy',
      'verifyWorkload',
      'abandonDeployBranch',
    ]);
    expect(fake.callsOf('verifyWorkload').at(-1)).toMatchObject({ env: 'stage', imageTag: STAGE_IMAGE });
    expect(fake.envs.stage.imageTag).toBe(STAGE_IMAGE);
    expect(fake.branches.has(`promote-stage-${DEV_IMAGE}`)).toBe(false);
  });

  it('reports an undo that fails with its reason and still surfaces the original failure', async () => {
    const fake = h.install(fakeWithDevAhead());
    fake.fail(
      'verifyWorkload',
      new AppDegradedError({ env: 'stage', argoApp: 'example-app-stage', reason: 'ImagePullBackOff', pods: [] }),
    );
    fake.fail('revertMergeRequest', new MergeConflictError({ mergeRequestIid: 2, detailedMergeStatus: 'conflict' }));
    const failure = await failureOf(await start({}));

    expect(failure.type).toBe('AppDegradedError');
    expect(failure.message).toContain('rollback incomplete: revert-merge-request !1');
    const details = failure.details?.[0] as PromotionFailureDetails;
    expect(details.rollback.map((r) => [r.action, r.status])).toEqual([
      ['revert-merge-request', 'failed'],
      ['await-previous-image', 'skipped'],
      ['abandon-deploy-branch', 'succeeded'],
    ]);
    expect(details.rollback[0]?.failure?.type).toBe('MergeConflictError');
  });

  describe('rollback returns to what git declared', () => {
    const DRIFTED = '1.0.35-SNAPSHOT-d1f7ed0';
    const HOTFIX = '1.0.36-SNAPSHOT-h0tf1x0';
    const crashing = () =>
      new AppDegradedError({ env: 'stage', argoApp: 'example-app-stage', reason: 'CrashLoopBackOff', pods: [] });

    it('rolls back to the image the target branch declared before the merge, not the one the cluster ran', async () => {
      const fake = h.install(fakeWithDevAhead());
      // Someone changed the Deployment by hand: stage runs DRIFTED while its branch still declares STAGE_IMAGE.
      fake.envs.stage.imageTag = DRIFTED;
      fake.fail('awaitArgoSyncedAndHealthy', crashing(), (i) => String(i.revision).startsWith('m'));
      const failure = await failureOf(await start({ allowUnsettledTarget: true }));

      const details = failure.details?.[0] as PromotionFailureDetails;
      expect(details.previousImageTag).toBe(STAGE_IMAGE);
      expect(details.unsettledTarget).toBe(`it runs ${DRIFTED} but its branch declares ${STAGE_IMAGE}`);
      expect(details.rollback[0]).toMatchObject({
        action: 'revert-merge-request',
        status: 'succeeded',
        toImageTag: STAGE_IMAGE,
      });
      expect(failure.message).toContain(`rolled back stage: ${DEV_IMAGE} → ${STAGE_IMAGE}`);
      expect(fake.callsOf('verifyWorkload').at(-1)).toMatchObject({ env: 'stage', imageTag: STAGE_IMAGE });
      expect(fake.envs.stage.imageTag).toBe(STAGE_IMAGE);
    });

    it.each([
      ['is OutOfSync', (fake: FakePipeline) => (fake.envs.stage.synced = false), 'sync is OutOfSync'],
      ['is Degraded', (fake: FakePipeline) => (fake.envs.stage.healthy = false), 'health is Degraded'],
      [
        'runs another image than its branch declares',
        (fake: FakePipeline) => (fake.envs.stage.imageTag = DRIFTED),
        `it runs ${DRIFTED} but its branch declares ${STAGE_IMAGE}`,
      ],
    ])(
      'refuses a target that %s, saying what is wrong and what to do, and changes nothing',
      async (_what, spoil, reason) => {
        const fake = h.install(fakeWithDevAhead());
        spoil(fake);
        const handle = await start({});
        const failure = await failureOf(handle);

        expect(failure.type).toBe('TargetNotSettledError');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toContain(`refusing to promote to stage: ${reason}`);
        expect(failure.message).toContain('wait until Argo CD shows stage Synced and Healthy');
        expect(failure.message).toContain('--allow-unsettled-target');
        const details = failure.details?.[0] as PromotionFailureDetails;
        expect(details.failure.facts).toMatchObject({ env: 'stage', reason, declaredImageTag: STAGE_IMAGE });
        expect(details.steps.at(-1)).toMatchObject({ name: 'read-target-declared', status: 'failed' });
        expect(fake.names().filter((n) => mutating.includes(n))).toEqual([]);
        expect((await handle.describe()).typedSearchAttributes.get(ShepherdStatus)).toBe('failed');
      },
    );

    it('goes on with an unsettled target when allowUnsettledTarget says so, and records it in the result', async () => {
      const fake = h.install(fakeWithDevAhead());
      fake.envs.stage.healthy = false;
      const result: PromotionResult = await (await start({ allowUnsettledTarget: true })).result();
      expect(result).toMatchObject({
        status: 'succeeded',
        previousImageTag: STAGE_IMAGE,
        unsettledTarget: 'health is Degraded',
      });
      expect(fake.envs.stage.imageTag).toBe(DEV_IMAGE);
    });

    it('ends unchanged only when the branch declares the image and the target runs it, synced and healthy', async () => {
      const fake = h.install(new FakePipeline({ images: { dev: DEV_IMAGE, stage: DEV_IMAGE } }));
      fake.envs.stage.healthy = false;
      const failure = await failureOf(await start({ allowUnsettledTarget: true }));
      expect(failure.type).toBe('TargetNotSettledError');
      expect(failure.message).toContain(`its branch already declares ${DEV_IMAGE}, so there is nothing to merge`);
      expect(fake.names().filter((n) => mutating.includes(n))).toEqual([]);
    });

    it('verifies a revert against the image the revert declares, not the one the run remembered', async () => {
      const fake = h.install(fakeWithDevAhead());
      fake.fail('awaitArgoSyncedAndHealthy', crashing(), (i) => String(i.revision).startsWith('m'));
      const handle = await start({ approvalEnvironments: ['stage'] });
      await untilStep(handle, 'approval');
      // While the run waits at its gate, a hotfix is merged into stage: the run's merge replaces it, the revert restores it.
      Object.assign(fake.envs.stage, { imageTag: HOTFIX, declaredImageTag: HOTFIX, revision: 'hotfix-merge' });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
      const failure = await failureOf(handle);

      const details = failure.details?.[0] as PromotionFailureDetails;
      expect(fake.callsOf('readDeclaredImage').at(-1)).toMatchObject({ env: 'stage', ref: 'r2' });
      expect(fake.callsOf('verifyWorkload').at(-1)).toMatchObject({ env: 'stage', imageTag: HOTFIX });
      expect(details.rollback.find((r) => r.action === 'await-previous-image')).toMatchObject({
        status: 'succeeded',
        detail: `running ${HOTFIX}, healthy (declared by the revert; ${STAGE_IMAGE} was expected)`,
      });
      expect(fake.envs.stage.imageTag).toBe(HOTFIX);
    });
  });

  describe('a merge the run did not see', () => {
    it('reverts an MR that GitLab merged although the merge activity failed, then fails with the cause', async () => {
      const fake = h.install(fakeWithDevAhead());
      // GitLab merged, then someone's push made the activity see it merged with another head.
      fake.failAfter(
        'mergeMergeRequest',
        new MergeConflictError({ mergeRequestIid: 1, detailedMergeStatus: 'merged_with_other_head' }),
      );
      const handle = await start({});
      const failure = await failureOf(handle);

      expect(failure.type).toBe('MergeConflictError');
      expect(failure.message).toContain(`rolled back stage: ${DEV_IMAGE} → ${STAGE_IMAGE}`);
      const details = failure.details?.[0] as PromotionFailureDetails;
      expect(details.steps.map((s) => [s.name, s.status])).toContainEqual(['read-merge-request', 'succeeded']);
      expect(details.rollback.map((r) => [r.action, r.status])).toEqual([
        ['revert-merge-request', 'succeeded'],
        ['await-previous-image', 'succeeded'],
        ['abandon-deploy-branch', 'succeeded'],
      ]);
      expect(fake.callsOf('revertMergeRequest')).toEqual([expect.objectContaining({ iid: 1, targetEnv: 'stage' })]);
      expect(fake.envs.stage.imageTag).toBe(STAGE_IMAGE);
      expect((await handle.describe()).typedSearchAttributes.get(ShepherdStatus)).toBe('rolled_back');
    });

    it('does not revert an MR that a failed merge left unmerged: it closes it', async () => {
      const fake = h.install(fakeWithDevAhead());
      fake.fail('mergeMergeRequest', new MergeConflictError({ mergeRequestIid: 1, detailedMergeStatus: 'conflict' }));
      const failure = await failureOf(await start({}));

      expect(failure.type).toBe('MergeConflictError');
      expect(fake.callsOf('readMergeRequest')).toEqual([{ iid: 1 }]);
      expect(fake.callsOf('revertMergeRequest')).toEqual([]);
      expect(fake.mergeRequests.get(1)?.state).toBe('closed');
      expect(fake.envs.stage.imageTag).toBe(STAGE_IMAGE);
    });
  });

  describe('approval gate', () => {
    const prodInput = { sourceEnv: 'stage' as const, targetEnv: 'prod' as const, approvers: ['alice', 'bob'] };
    const prodFake = () => new FakePipeline({ images: { stage: DEV_IMAGE, prod: STAGE_IMAGE } });

    it('waits for approval before merging into prod and merges once an approver approves', async () => {
      const fake = h.install(prodFake());
      const handle = await start(prodInput);
      await untilStep(handle, 'approval');
      expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
      const progress = await handle.query(progressQuery);
      expect(progress.current).toMatchObject({
        name: 'approval',
        waitingOn: { kind: 'approval', ref: 'alice, bob' },
        timeoutAt: expect.any(String),
      });
      expect((await handle.describe()).typedSearchAttributes.get(ShepherdStatus)).toBe('waiting-approval');
      expect(fake.callsOf('notifyEvent').map((n) => n.event)).toContain('approval-requested');

      const outcome = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', reason: 'change window' }] });
      expect(outcome).toMatchObject({ decision: 'approved', by: 'alice' });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'succeeded', approval: { by: 'alice', reason: 'change window' } });
      expect(fake.envs.prod.imageTag).toBe(DEV_IMAGE);
    });

    it('refuses an approval from someone not on the approvers list and keeps waiting', async () => {
      const fake = h.install(prodFake());
      const handle = await start(prodInput);
      await untilStep(handle, 'approval');
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'mallory' }] }))).toBe(
        'mallory is not on the approvers list for prod',
      );
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: '' }] }))).toBe(
        'by must name who decides',
      );
      expect((await handle.query(progressQuery)).current?.name).toBe('approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      expect((await handle.result()).approval?.by).toBe('bob');
      expect(fake.callsOf('mergeMergeRequest')).toHaveLength(1);
    });

    it('lets anyone with a name approve when no approvers are configured', async () => {
      h.install(prodFake());
      const handle = await start({ sourceEnv: 'stage', targetEnv: 'prod' });
      await untilStep(handle, 'approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'carol' }] });
      expect((await handle.result()).status).toBe('succeeded');
    });

    it('closes the MR and deletes its branch when the promotion is rejected, and fails with ApprovalRejectedError', async () => {
      const fake = h.install(prodFake());
      const handle = await start(prodInput);
      await untilStep(handle, 'approval');
      // What `shepherd status` lists for a run at its gate: the memo names image, target and approvers.
      expect((await handle.describe()).memo).toMatchObject({
        status: 'waiting-approval',
        summary: expect.stringMatching(/^waiting for approval of \S+ into prod by (\w+, )*bob/),
      });
      await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'freeze' }] });
      const failure = await failureOf(handle);
      expect(failure.type).toBe('ApprovalRejectedError');
      // Nothing was merged, so nothing was rolled back: the run failed (its type says it was rejected).
      const ended = await handle.describe();
      expect(ended.typedSearchAttributes.get(ShepherdStatus)).toBe('failed');
      expect(ended.memo).toMatchObject({ status: 'failed' });
      expect((failure.details?.[0] as PromotionFailureDetails).failure.facts).toMatchObject({
        by: 'bob',
        reason: 'freeze',
        timedOut: false,
      });
      expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
      expect(fake.mergeRequests.get(1)?.state).toBe('closed');
      expect(fake.branches.size).toBe(0);
      expect(fake.envs.prod.imageTag).toBe(STAGE_IMAGE);
    });

    it('ends the gate as rejected after the approval timeout, notifies, and closes the MR', async () => {
      const fake = h.install(prodFake());
      const handle = await start({ ...prodInput, approvalTimeout: '2h' });
      const failure = await failureOf(handle);
      expect(failure.type).toBe('ApprovalRejectedError');
      expect((failure.details?.[0] as PromotionFailureDetails).failure.facts).toMatchObject({ timedOut: true });
      expect(fake.callsOf('notifyEvent').map((n) => n.event)).toContain('approval-timed-out');
      expect(fake.mergeRequests.get(1)?.state).toBe('closed');
    });

    it('refuses an approve that arrives after the timeout fired, while the run still tells people; it ends failed with the timeout', async () => {
      const fake = h.install(prodFake());
      // The run noticed the timeout but is still busy with it (the notification): the window an approve used to win.
      const release = fake.hold('notifyEvent', (n) => n.event === 'approval-timed-out');
      const handle = await start({ ...prodInput, approvalTimeout: '2h' });
      const ended = failureOf(handle);
      await until(
        () => fake.callsOf('notifyEvent').some((n) => n.event === 'approval-timed-out'),
        'the run to notify the approval timeout',
      );
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }))).toMatch(
        /^the approval timed out at \S+ \(not approved within 2h\); the promotion is being unwound/,
      );
      release();
      const failure = await ended;
      expect(failure.type).toBe('ApprovalRejectedError');
      expect((failure.details?.[0] as PromotionFailureDetails).failure.facts).toMatchObject({ timedOut: true });
      expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
      expect(fake.mergeRequests.get(1)?.state).toBe('closed');
    });

    it('tells people about a rejection: the `rejected` notification names who rejected and why', async () => {
      const fake = h.install(prodFake());
      const handle = await start(prodInput);
      await untilStep(handle, 'approval');
      await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'freeze' }] });
      expect((await failureOf(handle)).type).toBe('ApprovalRejectedError');
      const rejected = fake.callsOf('notifyEvent').filter((n) => n.event === 'rejected');
      expect(rejected).toEqual([
        expect.objectContaining({
          env: 'prod',
          imageTag: DEV_IMAGE,
          text: expect.stringContaining('rejected by bob: freeze'),
        }),
      ]);
    });

    it('requires approval for stage only when the input says so', async () => {
      const fake = h.install(fakeWithDevAhead());
      const handle = await start({ approvalEnvironments: ['stage'] });
      await untilStep(handle, 'approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] });
      await handle.result();
      expect(fake.callsOf('mergeMergeRequest')).toHaveLength(1);
    });

    it('refuses approve when no approval is pending', async () => {
      const fake = h.install(fakeWithDevAhead());
      fake.block('awaitArgoSyncedAndHealthy');
      const handle = await start({});
      await untilStep(handle, 'await-argo-synced-and-healthy');
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }))).toBe(
        'no approval is pending for this promotion',
      );
      await handle.terminate();
    });
  });

  it('compensates when cancelled while waiting for approval: closes its MR, deletes its branch, ends cancelled', async () => {
    const fake = h.install(new FakePipeline({ images: { stage: DEV_IMAGE, prod: STAGE_IMAGE } }));
    const handle = await start({ sourceEnv: 'stage', targetEnv: 'prod' });
    await untilStep(handle, 'approval');
    await handle.cancel();
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(fake.mergeRequests.get(1)?.state).toBe('closed');
    expect(fake.branches.size).toBe(0);
    const progress = await handle.query(progressQuery);
    expect(progress.rollback.map((r) => [r.action, r.status])).toEqual([['abandon-deploy-branch', 'succeeded']]);
  });

  it('compensates when cancelled during a long activity wait (the promote build): stops the job, closes what it opened', async () => {
    const fake = h.install(fakeWithDevAhead());
    fake.block('awaitJenkinsBuild');
    const handle = await start({ mode: 'jenkins' });
    await untilStep(handle, 'await-promote-build');
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
    // The MR is not known yet, but the job may have opened it: the undo stops the job, then closes its branch's MR.
    expect(fake.names().filter((n) => n === 'cancelPromoteJob' || n === 'abandonDeployBranch')).toEqual([
      'cancelPromoteJob',
      'abandonDeployBranch',
    ]);
    expect(fake.callsOf('abandonDeployBranch')[0]).toMatchObject({ targetEnv: 'stage', imageTag: DEV_IMAGE });
  });

  describe('one promotion per app and environment', () => {
    it('supersedes a run whose promote job waits for an executor: the wait ends, the job is cancelled, the run ends superseded', async () => {
      const fake = h.install(fakeWithDevAhead());
      fake.block('awaitJenkinsQueueItem');
      const handle = await start({});
      await untilStep(handle, 'await-promote-queue');
      await handle.executeUpdate(supersedeUpdate, { args: [{ imageTag: '1.0.38-SNAPSHOT-b2c3d4e', by: 'ci' }] });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'superseded', supersededBy: '1.0.38-SNAPSHOT-b2c3d4e' });
      expect(result.steps.find((s) => s.name === 'await-promote-queue')).toMatchObject({ status: 'cancelled' });
      expect(fake.callsOf('cancelPromoteJob')[0]).toMatchObject({ queueItemId: expect.any(Number) });
      expect(fake.callsOf('cancelPromoteJob')[0]).not.toHaveProperty('buildNumber');
      expect(fake.callsOf('abandonDeployBranch')[0]).toMatchObject({ reason: 'superseded by 1.0.38-SNAPSHOT-b2c3d4e' });
      expect(fake.callsOf('awaitJenkinsBuild')).toHaveLength(0);
    });

    it('supersedes a run waiting for approval with a newer image: the older run closes its MR and ends superseded', async () => {
      const fake = h.install(new FakePipeline({ images: { stage: DEV_IMAGE, prod: STAGE_IMAGE } }));
      const handle = await start({ sourceEnv: 'stage', targetEnv: 'prod' });
      await untilStep(handle, 'approval');
      expect(await handle.query(currentImageQuery)).toEqual({ imageTag: DEV_IMAGE, phase: 'awaiting-approval' });

      const outcome = await handle.executeUpdate(supersedeUpdate, {
        args: [{ imageTag: '1.0.38-SNAPSHOT-b2c3d4e', by: 'ci' }],
      });
      expect(outcome).toEqual({ supersededImageTag: DEV_IMAGE });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'superseded', supersededBy: '1.0.38-SNAPSHOT-b2c3d4e' });
      expect(fake.mergeRequests.get(1)?.state).toBe('closed');
      expect(fake.callsOf('abandonDeployBranch')[0]).toMatchObject({ reason: 'superseded by 1.0.38-SNAPSHOT-b2c3d4e' });
      expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
    });

    it('stops a run superseded while it resolves the image before it opens anything (gitlab mode, no approval)', async () => {
      const fake = h.install(fakeWithDevAhead());
      const release = fake.hold('readEnvironmentState', (input) => input.env === 'stage');
      const handle = await start({ mode: 'gitlab' });
      await until(() => fake.callsOf('readEnvironmentState').length === 2, 'the run to read the target');
      expect(await handle.query(currentImageQuery)).toEqual({ imageTag: DEV_IMAGE, phase: 'resolving' });
      await handle.executeUpdate(supersedeUpdate, { args: [{ imageTag: '1.0.38-SNAPSHOT-b2c3d4e' }] });
      release();
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'superseded', supersededBy: '1.0.38-SNAPSHOT-b2c3d4e', rollback: [] });
      expect(fake.names().filter((n) => mutating.includes(n))).toEqual([]);
      expect(fake.envs.stage.imageTag).toBe(STAGE_IMAGE);
    });

    it('refuses to supersede with the same image (the request joins the running promotion instead)', async () => {
      h.install(new FakePipeline({ images: { stage: DEV_IMAGE, prod: STAGE_IMAGE } }));
      const handle = await start({ sourceEnv: 'stage', targetEnv: 'prod' });
      await untilStep(handle, 'approval');
      expect(await refusal(handle.executeUpdate(supersedeUpdate, { args: [{ imageTag: DEV_IMAGE }] }))).toMatch(
        /joins/,
      );
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
      expect((await handle.result()).status).toBe('succeeded');
    });

    it('refuses to supersede a run once it is merging', async () => {
      const fake = h.install(fakeWithDevAhead());
      fake.block('awaitArgoSyncedAndHealthy');
      const handle = await start({});
      await untilStep(handle, 'await-argo-synced-and-healthy');
      expect(await refusal(handle.executeUpdate(supersedeUpdate, { args: [{ imageTag: '2.0.0-abcdef0' }] }))).toBe(
        'too late to supersede: the promotion is syncing',
      );
      await handle.terminate();
    });
  });

  describe('input validation', () => {
    const valid = { appName: 'example-app', sourceEnv: 'dev', targetEnv: 'stage' };
    const cases: [string, Record<string, unknown>, string][] = [
      ['an upper-case app name', { ...valid, appName: 'Example-App' }, 'appName'],
      ['an app name with a trailing dash', { ...valid, appName: 'example-' }, 'appName'],
      ['an app name longer than 53 characters', { ...valid, appName: 'a'.repeat(54) }, 'appName'],
      ['dev to prod', { ...valid, targetEnv: 'prod' }, 'targetEnv'],
      ['stage to dev', { ...valid, sourceEnv: 'stage', targetEnv: 'dev' }, 'targetEnv'],
      ['an unknown environment', { ...valid, targetEnv: 'qa' }, 'targetEnv'],
      ['an image tag with a slash', { ...valid, imageTag: 'feature/x' }, 'imageTag'],
      ['an image tag with a shell metacharacter', { ...valid, imageTag: '1.0;rm' }, 'imageTag'],
      ['an image tag with ".."', { ...valid, imageTag: '1..0' }, 'imageTag'],
      ['an image tag ending in .lock', { ...valid, imageTag: '1.0.lock' }, 'imageTag'],
      ['an empty image tag', { ...valid, imageTag: '' }, 'imageTag'],
      ['an unknown mode', { ...valid, mode: 'argo' }, 'mode'],
      ['a misspelt field', { ...valid, imagetag: '1.0' }, 'imagetag'],
      ['a bad approval timeout', { ...valid, approvalTimeout: 'tomorrow' }, 'approvalTimeout'],
      ['an empty approver name', { ...valid, approvers: [''] }, 'approvers.0'],
    ];
    it.each(cases)('rejects %s before any activity runs, naming the field', async (_what, input, field) => {
      const fake = h.install(fakeWithDevAhead());
      const handle = await h.env.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
        taskQueue: h.taskQueue,
        workflowId: unique('bad-input'),
        args: [input as unknown as PromoteEnvironmentInput],
      });
      const failure = await failureOf(handle);
      expect(failure.type).toBe('ValidationError');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.details?.[0]).toMatchObject({ field });
      expect(failure.message).toContain(field);
      expect(fake.calls).toEqual([]);
    });
  });
});
