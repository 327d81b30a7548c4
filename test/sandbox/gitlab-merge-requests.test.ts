import { describe, expect, it } from 'vitest';
import {
  DEPLOYMENTS,
  DEPLOYMENTS_ID,
  MANIFEST,
  pushImageChange,
  settledStatus,
  gitLabWorldPerTest,
  requestError,
  TOKEN,
  type GitLabWorld,
} from './gitlab-fixture.js';

const start = gitLabWorldPerTest();

const IMAGE = 'docker.local/p2c/example-app:1.0.37-SNAPSHOT-a1b2c3d';

/** The dev MR the CI job opens: branch update-dev-<tag> from dev, one commit, MR to dev. */
async function openDevMr(w: GitLabWorld, tag = '1.0.37-SNAPSHOT-a1b2c3d') {
  pushImageChange(w, `update-dev-${tag}`, 'dev', `docker.local/p2c/example-app:${tag}`);
  return w.gitlab.MergeRequests.create(DEPLOYMENTS, `update-dev-${tag}`, 'dev', `Deploy example-app to dev: ${tag}`, {
    description: 'Automatic Deployment to Dev',
    removeSourceBranch: false,
    squash: false,
  });
}

describe('sandbox GitLab: creating and listing merge requests', () => {
  it('creates an MR (201) that is checking at first and becomes mergeable after the merge check', async () => {
    const w = await start();
    const mr = await openDevMr(w);
    expect(mr).toMatchObject({
      iid: 1,
      state: 'opened',
      detailed_merge_status: 'checking',
      merge_status: 'checking',
      has_conflicts: false,
      source_branch: 'update-dev-1.0.37-SNAPSHOT-a1b2c3d',
      target_branch: 'dev',
      sha: w.model.branchHead(DEPLOYMENTS, 'update-dev-1.0.37-SNAPSHOT-a1b2c3d'),
      merge_commit_sha: null,
      force_remove_source_branch: false,
      references: { full: `${DEPLOYMENTS}!1` },
      web_url: `${w.server.url}/${DEPLOYMENTS}/-/merge_requests/1`,
      author: { username: 'shepherd' },
    });
    expect(mr.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await settledStatus(w, 1)).toBe('mergeable');
    const shown = await w.gitlab.MergeRequests.show(DEPLOYMENTS, 1);
    expect(shown).toMatchObject({
      detailed_merge_status: 'mergeable',
      merge_status: 'can_be_merged',
      diff_refs: { head_sha: mr.sha },
    });
    expect(shown.prepared_at).not.toBeNull();
    expect(w.mrEvents.map((e) => e.action)).toEqual(['opened']);
  });

  it('answers 409 with the existing MR iid when the same source branch already has an open MR', async () => {
    const w = await start();
    await openDevMr(w);
    const err = await requestError(
      w.gitlab.MergeRequests.create(DEPLOYMENTS, 'update-dev-1.0.37-SNAPSHOT-a1b2c3d', 'dev', 'again'),
    );
    expect(err.status).toBe(409);
    expect(err.message).toBe('["Another open merge request already exists for this source branch: !1"]');
    const raw = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/merge_requests`, {
      source_branch: 'update-dev-1.0.37-SNAPSHOT-a1b2c3d',
      target_branch: 'dev',
      title: 'again',
    });
    expect(await raw.json()).toEqual({
      message: ['Another open merge request already exists for this source branch: !1'],
    });
  });

  it('answers 422 for the same source and target and for a missing source branch, 400 for missing fields', async () => {
    const w = await start();
    const same = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/merge_requests`, {
      source_branch: 'dev',
      target_branch: 'dev',
      title: 't',
    });
    expect([same.status, await same.json()]).toEqual([
      422,
      { message: ["You can't use same project/branch for source and target"] },
    ]);
    const missing = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/merge_requests`, {
      source_branch: 'nope',
      target_branch: 'dev',
      title: 't',
    });
    expect(missing.status).toBe(422);
    const fields = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/merge_requests`, { source_branch: 'dev' });
    expect([fields.status, await fields.json()]).toEqual([
      400,
      { error: 'target_branch is missing, title is missing' },
    ]);
  });

  it('accepts a form-encoded body, as curl --data sends it', async () => {
    const w = await start();
    pushImageChange(w, 'promote-stage-1.0.37', 'stage', IMAGE);
    const res = await fetch(`${w.server.url}/api/v4/projects/${DEPLOYMENTS_ID}/merge_requests`, {
      method: 'POST',
      headers: { 'private-token': 'glpat-shepherd-test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        source_branch: 'promote-stage-1.0.37',
        target_branch: 'stage',
        title: 'Promote example-app to stage: 1.0.37',
        remove_source_branch: 'false',
      }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ iid: 1, target_branch: 'stage', force_remove_source_branch: false });
  });

  it('lists every state by default and only open MRs with state=opened, filtered by branches', async () => {
    const w = await start();
    await openDevMr(w, 'a');
    await openDevMr(w, 'b');
    await w.gitlab.MergeRequests.edit(DEPLOYMENTS, 1, { stateEvent: 'close' });
    const all = await w.gitlab.MergeRequests.all({ projectId: DEPLOYMENTS });
    expect(all.map((m) => [m.iid, m.state])).toEqual([
      [2, 'opened'],
      [1, 'closed'],
    ]);
    const opened = await w.gitlab.MergeRequests.all({ projectId: DEPLOYMENTS, state: 'opened' });
    expect(opened.map((m) => m.iid)).toEqual([2]);
    const bySource = await w.gitlab.MergeRequests.all({
      projectId: DEPLOYMENTS,
      sourceBranch: 'update-dev-a',
      targetBranch: 'dev',
    });
    expect(bySource.map((m) => m.iid)).toEqual([1]);
    const asc = await w.gitlab.MergeRequests.all({ projectId: DEPLOYMENTS, orderBy: 'created_at', sort: 'asc' });
    expect(asc.map((m) => m.iid)).toEqual([1, 2]);
  });

  it('lists MRs with view=simple as the identifying head of the full entity', async () => {
    const w = await start();
    await openDevMr(w);
    const list = async (query: string): Promise<Record<string, unknown>[]> => {
      const res = await fetch(`${w.server.url}/api/v4/projects/${DEPLOYMENTS_ID}/merge_requests${query}`, {
        headers: { 'private-token': TOKEN },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>[];
    };
    const [simple] = await list('?view=simple');
    const [full] = await list('');
    const head = ['id', 'iid', 'project_id', 'title', 'description', 'state', 'created_at', 'updated_at', 'web_url'];
    expect(Object.keys(simple!).sort()).toEqual([...head].sort());
    expect(simple).toEqual(Object.fromEntries(head.map((k) => [k, full![k]])));
    expect(simple!.web_url).toBe(`${w.server.url}/${DEPLOYMENTS}/-/merge_requests/1`);
    expect(Object.keys(full!).length).toBeGreaterThan(head.length);
  });

  it('pages MR lists with x-* headers and a link header that gitbeaker .all() follows to the end', async () => {
    const w = await start();
    for (let i = 0; i < 23; i++) {
      w.model.createBranch(DEPLOYMENTS, `feat-${i}`, 'dev');
      w.model.commit(DEPLOYMENTS, {
        branch: `feat-${i}`,
        message: `f${i}`,
        actions: [{ action: 'create', filePath: `f${i}.txt`, content: Buffer.from('x') }],
      });
      w.model.createMergeRequest(DEPLOYMENTS, { sourceBranch: `feat-${i}`, targetBranch: 'dev', title: `MR ${i}` });
    }
    const first = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/merge_requests?state=opened`);
    expect((await first.json()) as unknown[]).toHaveLength(20);
    expect(
      Object.fromEntries(
        ['x-page', 'x-per-page', 'x-total', 'x-total-pages', 'x-next-page', 'x-prev-page'].map((h) => [
          h,
          first.headers.get(h),
        ]),
      ),
    ).toEqual({
      'x-page': '1',
      'x-per-page': '20',
      'x-total': '23',
      'x-total-pages': '2',
      'x-next-page': '2',
      'x-prev-page': '',
    });
    const all = await w.gitlab.MergeRequests.all({ projectId: DEPLOYMENTS, state: 'opened' });
    expect(all).toHaveLength(23);
    expect(new Set(all.map((m) => m.iid)).size).toBe(23);
    const small = await w.gitlab.MergeRequests.all({ projectId: DEPLOYMENTS, perPage: 5, maxPages: 2 });
    expect(small).toHaveLength(10);
  });
});

describe('sandbox GitLab: merging', () => {
  it('merges with a two-parent merge commit on the target whose tree has the change, and reports events', async () => {
    const w = await start();
    const mr = await openDevMr(w);
    await settledStatus(w, 1);
    const devBefore = w.model.branchHead(DEPLOYMENTS, 'dev')!;
    const merged = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1, { sha: mr.sha, shouldRemoveSourceBranch: true });
    expect(merged).toMatchObject({
      state: 'merged',
      detailed_merge_status: 'not_open',
      should_remove_source_branch: true,
      merge_user: { username: 'shepherd' },
    });
    expect(merged.merged_at).not.toBeNull();
    const devHead = w.model.branchHead(DEPLOYMENTS, 'dev');
    expect(merged.merge_commit_sha).toBe(devHead);
    const commit = await w.gitlab.Commits.show(DEPLOYMENTS, devHead!);
    expect(commit.parent_ids).toEqual([devBefore, mr.sha]);
    expect(commit.message).toBe(
      `Merge branch 'update-dev-1.0.37-SNAPSHOT-a1b2c3d' into 'dev'\n\nDeploy example-app to dev: 1.0.37-SNAPSHOT-a1b2c3d\n\nSee merge request ${DEPLOYMENTS}!1`,
    );
    expect(w.model.readFile(DEPLOYMENTS, 'dev', MANIFEST)).toContain(`image: ${IMAGE}`);
    expect(w.model.branchHead(DEPLOYMENTS, 'update-dev-1.0.37-SNAPSHOT-a1b2c3d')).toBeUndefined();
    await Promise.resolve();
    const devPush = w.pushes.filter((p) => p.branch === 'dev').pop()!;
    expect(devPush).toMatchObject({ before: devBefore, after: devHead });
    expect(devPush.commits.map((c) => c.id)).toEqual([mr.sha, devHead]);
    expect(w.mrEvents.map((e) => e.action)).toEqual(['opened', 'merged']);
    expect(w.model.snapshot()[0]).toMatchObject({
      merges: 1,
      mergeRequests: { merged: [{ iid: 1, mergeCommitSha: devHead }] },
    });
  });

  it('answers 409 with the actual head when the merge sha is stale', async () => {
    const w = await start();
    await openDevMr(w);
    await settledStatus(w, 1);
    const actual = w.model.branchHead(DEPLOYMENTS, 'update-dev-1.0.37-SNAPSHOT-a1b2c3d');
    const err = await requestError(
      w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1, { sha: '0123456789012345678901234567890123456789' }),
    );
    expect([err.status, err.message]).toEqual([409, `SHA does not match HEAD of source branch: ${actual}`]);
  });

  it('answers 405 while the mergeability check is still running and for a closed MR', async () => {
    const w = await start({ timeScale: 100 });
    const mr = await openDevMr(w);
    const checking = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/1/merge`, { sha: mr.sha });
    expect([checking.status, await checking.json()]).toEqual([405, { message: '405 Method Not Allowed' }]);
    await w.gitlab.MergeRequests.edit(DEPLOYMENTS, 1, { stateEvent: 'close' });
    const closed = await requestError(w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1));
    expect(closed.status).toBe(405);
  });

  it('detects a real content conflict: conflict status, has_conflicts, cannot_be_merged and 405 on merge', async () => {
    const w = await start();
    pushImageChange(w, 'update-dev-x', 'dev', 'docker.local/p2c/example-app:x');
    pushImageChange(w, 'dev', 'dev', 'docker.local/p2c/example-app:y');
    await w.gitlab.MergeRequests.create(DEPLOYMENTS, 'update-dev-x', 'dev', 'Deploy example-app to dev: x');
    expect(await settledStatus(w, 1)).toBe('conflict');
    const mr = await w.gitlab.MergeRequests.show(DEPLOYMENTS, 1);
    expect(mr).toMatchObject({ has_conflicts: true, merge_status: 'cannot_be_merged' });
    expect((await requestError(w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1, { sha: mr.sha }))).status).toBe(405);
  });

  it('ends the check in conflict when an mr-conflict fault targets the environment', async () => {
    const w = await start();
    await w.faults.activate({
      name: 'conflict',
      description: 'dev MR conflicts',
      domain: [{ kind: 'mr-conflict', env: 'dev', app: 'example-app', count: 1 }],
    });
    await openDevMr(w);
    expect(await settledStatus(w, 1)).toBe('conflict');
  });

  it('moves the source head before the merge under mr-head-moves: 409, checking again, then mergeable on the new sha', async () => {
    // A mergeability check long enough (0.3 s) that "checking again" is observable on a loaded machine.
    const w = await start({ timeScale: 0.1 });
    await w.faults.activate({
      name: 'head-moves',
      description: 'concurrent push',
      domain: [{ kind: 'mr-head-moves', env: 'dev', count: 1 }],
    });
    const mr = await openDevMr(w);
    await settledStatus(w, 1);
    const err = await requestError(w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1, { sha: mr.sha }));
    const moved = w.model.branchHead(DEPLOYMENTS, 'update-dev-1.0.37-SNAPSHOT-a1b2c3d')!;
    expect(moved).not.toBe(mr.sha);
    expect([err.status, err.message]).toEqual([409, `SHA does not match HEAD of source branch: ${moved}`]);
    expect((await w.gitlab.MergeRequests.show(DEPLOYMENTS, 1)).detailed_merge_status).toBe('checking');
    expect(await settledStatus(w, 1)).toBe('mergeable');
    const merged = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1, { sha: moved });
    expect(merged.state).toBe('merged');
  });

  it('lets someone else merge the MR with another head under mr-merged-by-other: the caller gets 405 and finds it merged', async () => {
    const w = await start();
    await w.faults.activate({
      name: 'merged-by-other',
      description: 'a person merges first',
      domain: [{ kind: 'mr-merged-by-other', env: 'dev', count: 1 }],
    });
    const mr = await openDevMr(w);
    await settledStatus(w, 1);
    const err = await requestError(w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1, { sha: mr.sha }));
    expect([err.status, err.message]).toEqual([405, '405 Method Not Allowed']);
    const after = await w.gitlab.MergeRequests.show(DEPLOYMENTS, 1);
    expect(after).toMatchObject({ state: 'merged', detailed_merge_status: 'not_open' });
    expect(after.sha).not.toBe(mr.sha);
    expect(w.model.branchHead(DEPLOYMENTS, 'dev')).toBe(after.merge_commit_sha);
    expect((after.merged_by as { username?: string } | null)?.username).toBe('concurrent-pusher');
  });
});

describe('sandbox GitLab: revert, state changes and notes', () => {
  it('reverts a merge commit against its first parent and answers error_code empty the second time', async () => {
    const w = await start();
    const original = w.model.readFile(DEPLOYMENTS, 'dev', MANIFEST);
    const mr = await openDevMr(w);
    await settledStatus(w, 1);
    const merged = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, 1, { sha: mr.sha });
    const dry = await w.api(
      'POST',
      `/projects/${DEPLOYMENTS_ID}/repository/commits/${merged.merge_commit_sha}/revert`,
      { branch: 'dev', dry_run: true },
    );
    expect([dry.status, await dry.json()]).toEqual([200, { dry_run: 'success' }]);
    const revert = await w.gitlab.Commits.revert(DEPLOYMENTS, String(merged.merge_commit_sha), 'dev');
    expect(revert.title).toBe(`Revert "Merge branch 'update-dev-1.0.37-SNAPSHOT-a1b2c3d' into 'dev'"`);
    expect(revert.message).toContain('This reverts merge request !1');
    expect(revert.parent_ids).toEqual([merged.merge_commit_sha]);
    expect(w.model.readFile(DEPLOYMENTS, 'dev', MANIFEST)).toBe(original);
    const again = await w.api(
      'POST',
      `/projects/${DEPLOYMENTS_ID}/repository/commits/${merged.merge_commit_sha}/revert`,
      { branch: 'dev' },
    );
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({
      error_code: 'empty',
      message: expect.stringContaining('Sorry, we cannot revert this commit automatically.'),
    });
    const unknown = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/repository/commits/${'f'.repeat(40)}/revert`, {
      branch: 'dev',
    });
    expect([unknown.status, await unknown.json()]).toEqual([404, { message: '404 Commit Not Found' }]);
    expect(w.model.snapshot()[0]).toMatchObject({ reverts: 1 });
  });

  it('answers error_code conflict when a later change touched the reverted lines', async () => {
    const w = await start();
    const c = pushImageChange(w, 'dev', 'dev', 'docker.local/p2c/example-app:one');
    pushImageChange(w, 'dev', 'dev', 'docker.local/p2c/example-app:two');
    const res = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/repository/commits/${c}/revert`, { branch: 'dev' });
    expect([res.status, ((await res.json()) as { error_code: string }).error_code]).toEqual([400, 'conflict']);
  });

  it('closes and reopens through state_event, and keeps user notes apart from system notes', async () => {
    const w = await start();
    await openDevMr(w);
    const closed = await w.gitlab.MergeRequests.edit(DEPLOYMENTS, 1, { stateEvent: 'close' });
    expect(closed).toMatchObject({ state: 'closed', detailed_merge_status: 'not_open' });
    expect(closed.closed_at).not.toBeNull();
    const reopened = await w.gitlab.MergeRequests.edit(DEPLOYMENTS, 1, {
      stateEvent: 'reopen',
      labels: 'shepherd,dev',
    });
    expect(reopened).toMatchObject({ state: 'opened', closed_at: null, labels: ['dev', 'shepherd'] });
    const note = await w.gitlab.MergeRequestNotes.create(DEPLOYMENTS, 1, 'Superseded by a newer build');
    expect(note).toMatchObject({
      body: 'Superseded by a newer build',
      system: false,
      noteable_type: 'MergeRequest',
      noteable_iid: 1,
    });
    const notes = await w.gitlab.MergeRequestNotes.all(DEPLOYMENTS, 1, { sort: 'asc', orderBy: 'created_at' });
    expect(notes.map((n) => [n.body, n.system])).toEqual([
      ['closed', true],
      ['reopened', true],
      ['Superseded by a newer build', false],
    ]);
    const none = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/1`, {});
    expect(none.status).toBe(400);
    expect(((await none.json()) as { error: string }).error).toContain('at least one parameter must be provided');
    expect(await w.gitlab.MergeRequests.allPipelines(DEPLOYMENTS, 1)).toEqual([]);
    const missing = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/merge_requests/99`);
    expect([missing.status, await missing.json()]).toEqual([404, { message: '404 Not found' }]);
  });
});
