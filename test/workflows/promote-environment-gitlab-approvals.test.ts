/**
 * Part B, workflow tier (the scriptable fake pipeline on the test server): the approval gate of a promotion whose
 * approval comes from GitLab. The gate waits for awaitMergeRequestApproval, merges only after it, and records the
 * GitLab user; the `reject` update still stops it (cancelling the GitLab wait); a rejection in GitLab (the MR
 * closed) and the timeout unwind it with their own notifications.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { promoteEnvironment } from '../../workflows/index.js';
import { approveUpdate, pendingApprovalQuery, progressQuery, rejectUpdate } from '../../workflows/messages.js';
import { ApprovalRejectedError } from '../../src/domain/errors.js';
import type { PromoteEnvironmentInput } from '../../src/domain/inputs.js';
import type { PromotionFailureDetails } from '../../src/domain/report.js';
import { FakePipeline } from './support/fake-pipeline.js';
import { untilStep } from '../support/until-step.js';
import { until } from '../support/eventually.js';
import { startHarness, unique, type Harness } from './support/harness.js';

const STAGE_IMAGE = '1.0.37-SNAPSHOT-a1b2c3d';
const PROD_IMAGE = '1.0.36-SNAPSHOT-0a0a0a0';

describe('promoteEnvironment with approvals from GitLab', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(import.meta.url);
  });
  afterAll(async () => {
    await h?.teardown();
  });

  const prodFake = () => new FakePipeline({ images: { stage: STAGE_IMAGE, prod: PROD_IMAGE } });

  function start(extra: Partial<PromoteEnvironmentInput> = {}): Promise<WorkflowHandle<typeof promoteEnvironment>> {
    const appName = unique('app');
    return h.env.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
      taskQueue: h.taskQueue,
      workflowId: unique(`promote-${appName}-prod`),
      args: [{ appName, sourceEnv: 'stage', targetEnv: 'prod', approvalSource: 'gitlab', ...extra }],
    });
  }

  async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    return (err as WorkflowFailedError).cause as ApplicationFailure;
  }

  it('waits for the GitLab approval of its MR, merges only after it, and records the GitLab user who approved', async () => {
    const fake = h.install(prodFake());
    const handle = await start();
    await untilStep(handle, 'approval');
    await until(() => fake.callsOf('awaitMergeRequestApproval').length === 1, 'the GitLab wait to start');
    expect(fake.callsOf('awaitMergeRequestApproval')[0]).toMatchObject({ iid: 1, headSha: 'h1', targetEnv: 'prod' });
    expect((await handle.query(progressQuery)).current).toMatchObject({
      name: 'approval',
      waitingOn: { kind: 'approval', ref: 'an eligible GitLab user' },
    });
    expect(await handle.query(pendingApprovalQuery)).toEqual({
      env: 'prod',
      source: 'gitlab',
      mergeRequest: { iid: 1, webUrl: expect.any(String), headSha: 'h1' },
    });
    const refused = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((refused as WorkflowUpdateFailedError).cause?.message).toContain('approvals for prod come from GitLab');
    expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);

    fake.gitlabApprovals.set(1, { username: 'alice', name: 'Alice Liddell' });
    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'succeeded',
      approval: { by: 'alice', reason: 'approved in GitLab by Alice Liddell (@alice) on !1 at h1' },
    });
    expect(fake.callsOf('mergeMergeRequest')).toHaveLength(1);
    expect(fake.callsOf('notifyEvent').map((n) => n.text)).toContainEqual(
      expect.stringContaining('approved in GitLab by alice'),
    );
    expect(await handle.query(pendingApprovalQuery)).toBeNull();
  });

  it('stops on the reject update: the GitLab wait is cancelled, the MR closed, ApprovalRejectedError', async () => {
    const fake = h.install(prodFake());
    const handle = await start();
    await untilStep(handle, 'approval');
    await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'freeze' }] });
    const failure = await failureOf(handle);
    expect(failure.type).toBe('ApprovalRejectedError');
    expect((failure.details?.[0] as PromotionFailureDetails).failure.facts).toMatchObject({
      by: 'bob',
      reason: 'freeze',
    });
    expect(fake.callsOf('mergeMergeRequest')).toHaveLength(0);
    expect(fake.mergeRequests.get(1)?.state).toBe('closed');
    expect(fake.callsOf('notifyEvent').map((n) => n.event)).toContain('rejected');
  });

  it('unwinds when the MR is closed in GitLab, and when the GitLab wait times out, with the approval-timed-out notification', async () => {
    const closed = h.install(prodFake());
    const first = await start();
    await until(() => closed.callsOf('awaitMergeRequestApproval').length === 1, 'the GitLab wait to start');
    closed.mergeRequests.get(1)!.state = 'closed';
    const rejection = await failureOf(first);
    expect(rejection.type).toBe('ApprovalRejectedError');
    expect(closed.callsOf('notifyEvent').map((n) => n.event)).toContain('rejected');

    // The wait's own deadline (the approval timeout) ends it as a timed-out rejection.
    const late = h.install(prodFake()).fail(
      'awaitMergeRequestApproval',
      new ApprovalRejectedError({
        env: 'prod',
        by: 'timeout',
        reason: 'not approved in GitLab in time',
        timedOut: true,
      }),
    );
    const failure = await failureOf(await start({ approvalTimeout: '1h' }));
    expect(failure.type).toBe('ApprovalRejectedError');
    expect((failure.details?.[0] as PromotionFailureDetails).failure.facts).toMatchObject({ timedOut: true });
    expect(late.callsOf('notifyEvent').map((n) => n.event)).toContain('approval-timed-out');
    expect(late.callsOf('mergeMergeRequest')).toHaveLength(0);
  });
});
