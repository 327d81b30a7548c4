/**
 * Part B: awaitMergeRequestApproval against the sandbox world of the `gitlab-approvals` scenario (prod needs an
 * approval in GitLab from alice). The wait ends only when GitLab says the MR is approved and returns who approved;
 * an approval that no rule counts, a closed MR, a moved head and the deadline each end it as the contract says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { Secret } from '../../src/config/secret.js';
import { approvalsOf } from '../../src/sandbox/gitlab/approvals.js';
import { until } from '../support/eventually.js';
import { credentialsSeen, inMs, startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

describe('awaitMergeRequestApproval against the sandbox (scenario gitlab-approvals)', () => {
  let h: GitLabHarness;
  let project: string;
  let alice: GitLabClient;
  let tag = 40;

  /** A fresh promotion MR into prod, opened by Shepherd; returns its iid and head. */
  const openProdMr = async (): Promise<{ iid: number; headSha: string }> => {
    const { result } = await h.run(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: 'stage',
      targetEnv: 'prod',
      imageTag: `1.0.${tag++}-aaaaaaa`,
      runMarker: 'promote/run-approvals',
    });
    return { iid: result.mergeRequest.iid, headSha: result.mergeRequest.headSha };
  };
  const wait = (mr: { iid: number; headSha: string }, deadlineMs = 20_000) =>
    h.run(h.acts.awaitMergeRequestApproval, {
      appName: 'example-app',
      targetEnv: 'prod',
      iid: mr.iid,
      headSha: mr.headSha,
      deadline: inMs(deadlineMs),
    });
  const waitFailing = (mr: { iid: number; headSha: string }, deadlineMs = 20_000) =>
    h.fail(h.acts.awaitMergeRequestApproval, {
      appName: 'example-app',
      targetEnv: 'prod',
      iid: mr.iid,
      headSha: mr.headSha,
      deadline: inMs(deadlineMs),
    });

  /** How many times the sandbox GitLab was asked for an MR's approvals. */
  const approvalLooks = (): number =>
    h.sandbox.world.requests.snapshot().systems.gitlab.endpoints[
      'GET /api/v4/projects/:id/merge_requests/:iid/approvals'
    ] ?? 0;

  beforeAll(async () => {
    h = await startGitLabHarness({ scenario: 'gitlab-approvals' });
    project = h.sandbox.layout.gitlab.deploymentsProject;
    const approver = h.sandbox.world.info.gitlab.approvers?.[0];
    expect(approver?.username).toBe('alice');
    alice = new GitLabClient({ url: h.sandbox.world.info.gitlab.url, token: new Secret(approver!.token) });
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('waits while the MR is not approved and returns the GitLab user who approved it', async () => {
    const mr = await openProdMr();
    const before = approvalLooks();
    let ended = false;
    const waiting = wait(mr).finally(() => (ended = true));
    // Two looks at the approvals, and the wait goes on: it does not end while GitLab says "not approved".
    await until(() => approvalLooks() >= before + 2, 'two looks at the approvals');
    expect(ended).toBe(false);
    expect((await alice.approveMergeRequest(project, mr.iid, mr.headSha)).kind).toBe('approved');
    const { result, heartbeats } = await waiting;
    expect(result).toMatchObject({ approvedBy: [{ username: 'alice', name: 'Alice' }], approvalsRequired: 1 });
    expect(heartbeats).toContainEqual(expect.objectContaining({ iid: mr.iid, lastSeen: '1 of 1 approvals left' }));
    expect(credentialsSeen(h)).toEqual([]);
    expect(JSON.stringify(h.seen)).not.toContain(h.sandbox.world.info.gitlab.approvers![0]!.token);
  });

  it('keeps waiting through an approval that no rule counts, until the deadline ends it as a timed-out rejection', async () => {
    const mr = await openProdMr();
    const world = h.sandbox.world;
    world.gitlab.addUser({ username: 'bob', tokens: ['glpat-bob-approvals'] });
    approvalsOf(world.gitlab).addMember(project, 'bob', 'developer');
    const bob = new GitLabClient({ url: world.info.gitlab.url, token: new Secret('glpat-bob-approvals') });
    expect((await bob.approveMergeRequest(project, mr.iid, mr.headSha)).kind).toBe('approved');
    const failure = await waitFailing(mr, 600);
    expect(failure.type).toBe('ApprovalRejectedError');
    expect(failure.details?.[0]).toMatchObject({ env: 'prod', timedOut: true });
  });

  it('ends with ApprovalRejectedError when the MR is closed in GitLab', async () => {
    const mr = await openProdMr();
    const before = approvalLooks();
    const waiting = waitFailing(mr);
    await until(() => approvalLooks() > before, 'a look at the approvals');
    await alice.closeMergeRequest(project, mr.iid);
    const failure = await waiting;
    expect(failure.type).toBe('ApprovalRejectedError');
    expect(failure.message).toContain(`merge request !${mr.iid} was closed in GitLab`);
    expect(failure.nonRetryable).toBe(true);
  });

  it('ends with ApprovalRejectedError when the MR head is not the one the run opened', async () => {
    const mr = await openProdMr();
    const failure = await waitFailing({ iid: mr.iid, headSha: 'f'.repeat(40) });
    expect(failure.type).toBe('ApprovalRejectedError');
    expect(failure.message).toContain('moved from ffffffff');
  });
});
