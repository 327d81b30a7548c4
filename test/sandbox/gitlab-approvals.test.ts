/**
 * The simulated GitLab's merge request approvals (EE shape), driven through Shepherd's GitLab client and raw HTTP:
 * the status codes real GitLab gives (201/304/401/403/409/404), `not_approved` and `approvals_syncing` in
 * `detailed_merge_status`, the merge refused while approvals are missing, and the MR hook's approval actions.
 */
import { describe, expect, it } from 'vitest';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { Secret } from '../../src/config/secret.js';
import { approvalsOf } from '../../src/sandbox/gitlab/approvals.js';
import { until } from '../support/eventually.js';
import {
  DEPLOYMENTS,
  DEPLOYMENTS_ID,
  gitLabWorldPerTest,
  pushImageChange,
  settledStatus,
  type GitLabWorld,
} from './gitlab-fixture.js';
import { receiversPerTest } from './webhook-receiver.js';

const startWorld = gitLabWorldPerTest();
const startReceiver = receiversPerTest();

const ALICE = 'glpat-alice';
const BOB = 'glpat-bob';
const GUS = 'glpat-gus';
const EVE = 'glpat-eve';

/** prod needs one approval from alice; bob is a developer who may approve but does not count; gus is a Guest. */
async function approvalsWorld(timeScale?: number): Promise<{
  w: GitLabWorld;
  iid: number;
  head: string;
  as: (token: string) => GitLabClient;
}> {
  const w = await startWorld(timeScale !== undefined ? { timeScale } : {});
  w.model.addUser({ username: 'alice', name: 'Alice Liddell', tokens: [ALICE] });
  w.model.addUser({ username: 'bob', tokens: [BOB] });
  w.model.addUser({ username: 'gus', tokens: [GUS] });
  w.model.addUser({ username: 'eve', tokens: [EVE] });
  const approvals = approvalsOf(w.model);
  approvals.addMember(DEPLOYMENTS, 'shepherd', 'maintainer');
  approvals.addMember(DEPLOYMENTS, 'alice', 'developer');
  approvals.addMember(DEPLOYMENTS, 'bob', 'developer');
  approvals.addMember(DEPLOYMENTS, 'gus', 'guest');
  approvals.addRule(DEPLOYMENTS, { name: 'prod', targetBranches: ['prod'], eligible: ['alice'], required: 1 });
  const head = pushImageChange(w, 'promote-prod-1.0.1', 'prod', 'registry/p2c/example-app:1.0.1');
  const mr = w.model.createMergeRequest(DEPLOYMENTS, {
    sourceBranch: 'promote-prod-1.0.1',
    targetBranch: 'prod',
    title: 'Promote example-app to prod: 1.0.1',
    as: 'shepherd',
  });
  const as = (token: string): GitLabClient => new GitLabClient({ url: w.server.url, token: new Secret(token) });
  return { w, iid: mr.iid, head, as };
}

describe('sandbox GitLab merge request approvals', () => {
  it('keeps a gated MR not_approved and refuses its merge (405) until an eligible user approves it', async () => {
    const { w, iid, head, as } = await approvalsWorld();
    expect(await settledStatus(w, iid)).toBe('not_approved');
    const before = await as(ALICE).getMergeRequestApprovals(DEPLOYMENTS, iid);
    expect(before).toMatchObject({ approved: false, approvalsRequired: 1, approvalsLeft: 1, approvedBy: [] });
    expect(before.userCanApprove).toBe(true);
    expect(await as('glpat-shepherd-test').mergeMergeRequest(DEPLOYMENTS, iid, head)).toMatchObject({
      kind: 'not-mergeable',
      status: 405,
    });

    const approved = await as(ALICE).approveMergeRequest(DEPLOYMENTS, iid, head);
    expect(approved).toMatchObject({
      kind: 'approved',
      approvals: { approved: true, approvalsLeft: 0, approvedBy: [{ username: 'alice', name: 'Alice Liddell' }] },
    });
    expect(await settledStatus(w, iid)).toBe('mergeable');
    expect(await as('glpat-shepherd-test').mergeMergeRequest(DEPLOYMENTS, iid, head)).toMatchObject({ kind: 'merged' });
  });

  it('lists an approval that no rule counts in approved_by without making the MR approved', async () => {
    const { w, iid, head, as } = await approvalsWorld();
    expect(await as(BOB).approveMergeRequest(DEPLOYMENTS, iid, head)).toMatchObject({
      kind: 'approved',
      approvals: { approved: false, approvalsLeft: 1, approvedBy: [{ username: 'bob' }] },
    });
    expect(await settledStatus(w, iid)).toBe('not_approved');
  });

  it('answers 409 to a sha that is not the head, 403 to a Guest or non-member, 401 to the author', async () => {
    const { w, iid, head, as } = await approvalsWorld();
    const stale = '0123456789abcdef0123456789abcdef01234567';
    const moved = await as(ALICE).approveMergeRequest(DEPLOYMENTS, iid, stale);
    expect(moved).toEqual({ kind: 'head-moved', message: `SHA does not match HEAD of source branch: ${head}` });
    expect(await as(GUS).approveMergeRequest(DEPLOYMENTS, iid, head)).toMatchObject({ kind: 'forbidden' });
    expect(await as(EVE).approveMergeRequest(DEPLOYMENTS, iid, head)).toMatchObject({ kind: 'forbidden' });
    expect(await as('glpat-shepherd-test').approveMergeRequest(DEPLOYMENTS, iid, head)).toMatchObject({
      kind: 'not-eligible',
    });
    const raw = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/merge_requests/${iid}/approve`, { sha: head });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toEqual({ message: '401 Unauthorized' });
    expect((await as(ALICE).getMergeRequestApprovals(DEPLOYMENTS, iid)).approvedBy).toEqual([]);
  });

  it('answers a repeated approve and an unapprove without approval with 304 and no body', async () => {
    const { w, iid, head, as } = await approvalsWorld();
    const path = `/projects/${DEPLOYMENTS_ID}/merge_requests/${iid}`;
    const headers = { 'private-token': ALICE };
    const noApproval = await w.api('POST', `${path}/unapprove`, undefined, headers);
    expect(noApproval.status).toBe(304);
    expect(await noApproval.text()).toBe('');
    expect((await w.api('POST', `${path}/approve`, { sha: head }, headers)).status).toBe(201);
    const again = await w.api('POST', `${path}/approve`, { sha: head }, headers);
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(await as(ALICE).approveMergeRequest(DEPLOYMENTS, iid, head)).toMatchObject({
      kind: 'already-approved',
      approvals: { approved: true, userHasApproved: true },
    });
    const withdrawn = await w.api('POST', `${path}/unapprove`, undefined, headers);
    expect(withdrawn.status).toBe(201);
    expect(await as(ALICE).unapproveMergeRequest(DEPLOYMENTS, iid)).toBe(false);
    expect(await settledStatus(w, iid)).toBe('not_approved');
  });

  it('answers an unknown iid with 404 {"message":"404 Not found"}', async () => {
    const { w } = await approvalsWorld();
    for (const [method, suffix] of [
      ['GET', 'approvals'],
      ['POST', 'approve'],
      ['POST', 'unapprove'],
    ] as const) {
      const res = await w.api(method, `/projects/${DEPLOYMENTS_ID}/merge_requests/999/${suffix}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ message: '404 Not found' });
    }
  });

  it('resets approvals when new commits reach the MR: approvals_syncing, then not_approved', async () => {
    // A mergeability check of 150 ms: the re-sync (twice as long) is long enough to be seen.
    const { w, iid, head, as } = await approvalsWorld(0.05);
    expect((await as(ALICE).approveMergeRequest(DEPLOYMENTS, iid, head)).kind).toBe('approved');
    expect(await settledStatus(w, iid)).toBe('mergeable');
    pushImageChange(w, 'promote-prod-1.0.1', 'promote-prod-1.0.1', 'registry/p2c/example-app:1.0.2');
    const mr = () => w.model.mergeRequests.get(w.model.project(DEPLOYMENTS), iid);
    await until(() => w.model.mergeRequests.detailedStatus(mr()) === 'approvals_syncing', 'approvals to re-sync');
    expect(await as(ALICE).getMergeRequestApprovals(DEPLOYMENTS, iid)).toMatchObject({
      approved: false,
      approvedBy: [],
    });
    await until(() => w.model.mergeRequests.detailedStatus(mr()) === 'not_approved', 'the sync to end unapproved');
  });

  it('delivers MR hooks with the approval actions: approval, approved, unapproval, unapproved', async () => {
    const { w, iid, head } = await approvalsWorld();
    approvalsOf(w.model).addRule(DEPLOYMENTS, {
      name: 'two',
      targetBranches: ['prod'],
      eligible: ['bob'],
      required: 1,
    });
    const receiver = await startReceiver();
    const hook = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks`, {
      url: `${receiver.url}/hooks/gitlab`,
      push_events: false,
      merge_requests_events: true,
    });
    expect(hook.status).toBe(201);
    const path = `/projects/${DEPLOYMENTS_ID}/merge_requests/${iid}`;
    const call = async (token: string, what: string): Promise<void> => {
      const res = await w.api('POST', `${path}/${what}`, what === 'approve' ? { sha: head } : undefined, {
        'private-token': token,
      });
      expect(res.status).toBe(201);
    };
    await call(ALICE, 'approve');
    await call(BOB, 'approve');
    await call(BOB, 'unapprove');
    await call(BOB, 'approve');
    await call(BOB, 'unapprove');
    await call(ALICE, 'unapprove');
    await until(() => receiver.deliveries.length >= 6, 'six MR hooks');
    const seen = receiver.deliveries.map((d) => {
      const body = d.json<{ object_attributes: { action: string; iid: number }; user: { username: string } }>();
      return `${body.user.username} ${body.object_attributes.action} !${body.object_attributes.iid}`;
    });
    expect(seen).toEqual([
      `alice approval !${iid}`,
      `bob approved !${iid}`,
      `bob unapproved !${iid}`,
      `bob approved !${iid}`,
      `bob unapproved !${iid}`,
      `alice unapproval !${iid}`,
    ]);
    expect(receiver.deliveries.every((d) => d.headers['x-gitlab-event'] === 'Merge Request Hook')).toBe(true);
  });
});
