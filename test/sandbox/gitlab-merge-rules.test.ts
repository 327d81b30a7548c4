/**
 * The sandbox GitLab's merge rules (part A of issue 13), through HTTP with gitbeaker and raw requests: MR pipelines
 * and `only_allow_merge_if_pipeline_succeeds`, the merge methods (`ff` makes no merge commit), `need_rebase` and the
 * asynchronous rebase, auto-merge, removing the source branch, and the 404 body of an unknown MR.
 */
import { describe, expect, it } from 'vitest';
import { eventually, until } from '../support/eventually.js';
import {
  DEPLOYMENTS,
  DEPLOYMENTS_ID,
  MANIFEST,
  gitLabWorldPerTest,
  pushImageChange,
  requestError,
  settledStatus,
  type GitLabWorld,
} from './gitlab-fixture.js';

const start = gitLabWorldPerTest();

interface PipelineJson {
  id: number;
  sha: string;
  ref: string;
  status: string;
  source: string;
  web_url: string;
}

/**
 * The deployments project with the given merge rules; `ci` makes every MR head run a pipeline ending so. Tests that
 * look at something while it runs (a pipeline, a rebase) use a slower clock, so that it runs for seconds.
 */
async function withRules(
  opts: { ci?: 'success' | 'failed'; method?: 'merge' | 'rebase_merge' | 'ff'; timeScale?: number } = {},
): Promise<GitLabWorld> {
  const w = await start(opts.timeScale !== undefined ? { timeScale: opts.timeScale } : {});
  const project = w.model.project(DEPLOYMENTS);
  if (opts.method) project.mergeMethod = opts.method;
  if (opts.ci) {
    const outcome = opts.ci;
    project.onlyAllowMergeIfPipelineSucceeds = true;
    project.mergeRequestPipelines = () => outcome;
  }
  return w;
}

async function openMr(w: GitLabWorld, branch: string, target = 'stage', extra: Record<string, unknown> = {}) {
  pushImageChange(w, branch, target, `docker.local/p2c/example-app:${branch}`);
  return w.gitlab.MergeRequests.create(DEPLOYMENTS, branch, target, `Promote example-app to ${target}: ${branch}`, {
    description: 'promotion',
    ...extra,
  });
}

/** Someone else commits an unrelated file to `branch`. */
function moveTarget(w: GitLabWorld, branch: string, path = 'docs/notes.md'): string {
  return w.model.commit(DEPLOYMENTS, {
    branch,
    message: 'docs: unrelated note',
    actions: [{ action: 'create', filePath: path, content: Buffer.from('note\n') }],
  }).id;
}

async function status(w: GitLabWorld, iid: number): Promise<string> {
  return String((await w.gitlab.MergeRequests.show(DEPLOYMENTS, iid)).detailed_merge_status);
}

describe('sandbox GitLab: MR pipelines', () => {
  it('runs a merge_request_event pipeline for the MR head: ci_still_running while it runs, mergeable once it succeeded', async () => {
    const w = await withRules({ ci: 'success', timeScale: 0.05 });
    const mr = await openMr(w, 'promote-stage-1');
    expect(await settledStatus(w, mr.iid)).toBe('ci_still_running');
    const project = await w.gitlab.Projects.show(DEPLOYMENTS);
    expect(project).toMatchObject({ merge_method: 'merge', only_allow_merge_if_pipeline_succeeds: true });
    const merge = await requestError(w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha: mr.sha }));
    expect([merge.status, merge.body]).toEqual([405, '405 Method Not Allowed']);

    await until(async () => (await status(w, mr.iid)) === 'mergeable', 'the pipeline to succeed');
    const shown = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid);
    const head = shown.head_pipeline as unknown as PipelineJson;
    expect(head).toMatchObject({ sha: mr.sha, status: 'success', source: 'merge_request_event' });
    expect(head.ref).toBe(`refs/merge-requests/${mr.iid}/head`);
    expect(head.web_url).toBe(`${w.server.url}/${DEPLOYMENTS}/-/pipelines/${head.id}`);
    const listed = (await w.gitlab.MergeRequests.allPipelines(DEPLOYMENTS, mr.iid)) as unknown as PipelineJson[];
    expect(listed.map((p) => [p.id, p.sha, p.status])).toEqual([[head.id, mr.sha, 'success']]);
    const one = (await w.gitlab.Pipelines.show(DEPLOYMENTS, head.id)) as unknown as PipelineJson;
    expect(one).toMatchObject({ id: head.id, status: 'success', sha: mr.sha });
    const bySha = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/pipelines?sha=${mr.sha}`);
    expect(((await bySha.json()) as PipelineJson[]).map((p) => p.id)).toEqual([head.id]);

    const merged = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha: mr.sha });
    expect(merged.state).toBe('merged');
  });

  it('answers ci_must_pass and 405 when the head pipeline failed, and a new push runs a new pipeline', async () => {
    const w = await withRules({ ci: 'failed' });
    const mr = await openMr(w, 'promote-stage-2');
    await until(async () => (await status(w, mr.iid)) === 'ci_must_pass', 'the pipeline to fail');
    const shown = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid);
    expect(shown.head_pipeline).toMatchObject({ status: 'failed', sha: mr.sha });
    const merge = await requestError(w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha: mr.sha }));
    expect(merge.status).toBe(405);

    const next = pushImageChange(w, 'promote-stage-2', 'promote-stage-2', 'docker.local/p2c/example-app:again');
    const pipelines = await eventually(async () => {
      const list = (await w.gitlab.MergeRequests.allPipelines(DEPLOYMENTS, mr.iid)) as unknown as PipelineJson[];
      return list.length === 2 ? list : undefined;
    }, 'a second pipeline');
    expect(pipelines.map((p) => p.sha)).toEqual([next, mr.sha]);
  });

  it('answers mergeable without pipelines when the project does not require them', async () => {
    const w = await withRules();
    const mr = await openMr(w, 'promote-stage-3');
    expect(await settledStatus(w, mr.iid)).toBe('mergeable');
    expect(await w.gitlab.MergeRequests.allPipelines(DEPLOYMENTS, mr.iid)).toEqual([]);
    expect((await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid)).head_pipeline).toBeNull();
  });
});

describe('sandbox GitLab: merge methods and rebase', () => {
  it('with ff: need_rebase once the target moved, 405 to a merge, then a 202 rebase puts the MR on the target head', async () => {
    const w = await withRules({ method: 'ff', timeScale: 0.3 });
    const mr = await openMr(w, 'promote-stage-4');
    expect(await settledStatus(w, mr.iid)).toBe('mergeable');
    const moved = moveTarget(w, 'stage');
    await until(async () => (await status(w, mr.iid)) === 'need_rebase', 'need_rebase');
    expect((await requestError(w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha: mr.sha }))).status).toBe(405);

    const rebase = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/${mr.iid}/rebase`);
    expect([rebase.status, await rebase.json()]).toEqual([202, { rebase_in_progress: true }]);
    const during = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid, { includeRebaseInProgress: true });
    expect(during).toMatchObject({ rebase_in_progress: true, merge_error: null });
    const withoutFlag = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid);
    expect(withoutFlag).not.toHaveProperty('rebase_in_progress');

    const done = await eventually(async () => {
      const m = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid, { includeRebaseInProgress: true });
      return m.rebase_in_progress === false ? m : undefined;
    }, 'the rebase to finish');
    expect(done.sha).not.toBe(mr.sha);
    expect(done.merge_error).toBeNull();
    const rebased = await w.gitlab.Commits.show(DEPLOYMENTS, String(done.sha));
    expect(rebased.parent_ids).toEqual([moved]);
    expect(w.model.readFile(DEPLOYMENTS, String(done.sha), MANIFEST)).toContain('example-app:promote-stage-4');
    expect(w.model.readFile(DEPLOYMENTS, String(done.sha), 'docs/notes.md')).toBe('note\n');

    expect(await settledStatus(w, mr.iid)).toBe('mergeable');
    const merged = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha: String(done.sha) });
    expect(merged).toMatchObject({ state: 'merged', merge_commit_sha: null, sha: done.sha });
    expect(w.model.branchHead(DEPLOYMENTS, 'stage')).toBe(done.sha);
  });

  it('with rebase_merge: need_rebase too, then a merge commit on the rebased head', async () => {
    const w = await withRules({ method: 'rebase_merge' });
    const mr = await openMr(w, 'promote-stage-5');
    moveTarget(w, 'stage');
    await until(async () => (await status(w, mr.iid)) === 'need_rebase', 'need_rebase');
    await w.gitlab.MergeRequests.rebase(DEPLOYMENTS, mr.iid);
    const sha = await eventually(async () => {
      const m = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid, { includeRebaseInProgress: true });
      return m.rebase_in_progress === false && m.sha !== mr.sha ? String(m.sha) : undefined;
    }, 'the rebase to finish');
    expect(await settledStatus(w, mr.iid)).toBe('mergeable');
    const merged = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha });
    const mergeCommit = await w.gitlab.Commits.show(DEPLOYMENTS, String(merged.merge_commit_sha));
    expect(mergeCommit.parent_ids).toEqual([expect.any(String), sha]);
  });

  it('reports a rebase that conflicts in merge_error and leaves the head where it was', async () => {
    const w = await withRules({ method: 'ff' });
    const mr = await openMr(w, 'promote-stage-6');
    pushImageChange(w, 'stage', 'stage', 'docker.local/p2c/example-app:someone-else');
    await until(async () => (await status(w, mr.iid)) !== 'checking', 'the check');
    await w.gitlab.MergeRequests.rebase(DEPLOYMENTS, mr.iid);
    const after = await eventually(async () => {
      const m = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid, { includeRebaseInProgress: true });
      return m.rebase_in_progress === false ? m : undefined;
    }, 'the rebase to end');
    expect(after.sha).toBe(mr.sha);
    expect(String(after.merge_error)).toMatch(/^Rebase failed/);
  });

  it('refuses to rebase an MR whose source branch is gone (403) and answers 409 while one is queued', async () => {
    const w = await withRules({ method: 'ff', timeScale: 0.3 });
    const mr = await openMr(w, 'promote-stage-7');
    moveTarget(w, 'stage');
    await w.gitlab.MergeRequests.rebase(DEPLOYMENTS, mr.iid);
    const twice = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/${mr.iid}/rebase`);
    expect(twice.status).toBe(409);
    const other = await openMr(w, 'promote-stage-8');
    w.model.deleteBranch(DEPLOYMENTS, 'promote-stage-8');
    const gone = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/${other.iid}/rebase`);
    expect([gone.status, await gone.json()]).toEqual([
      403,
      { message: '403 Forbidden - Source branch does not exist' },
    ]);
  });
});

describe('sandbox GitLab: auto-merge and removing the source branch', () => {
  it('arms auto-merge while the pipeline runs (200, still opened) and merges when it succeeds, removing the branch', async () => {
    const w = await withRules({ ci: 'success', timeScale: 0.05 });
    const mr = await openMr(w, 'promote-stage-9');
    expect(await settledStatus(w, mr.iid)).toBe('ci_still_running');
    const armed = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, {
      sha: mr.sha,
      autoMerge: true,
      shouldRemoveSourceBranch: true,
    });
    expect(armed).toMatchObject({ state: 'opened', merge_when_pipeline_succeeds: true });
    const merged = await eventually(async () => {
      const m = await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid);
      return m.state === 'merged' ? m : undefined;
    }, 'the automatic merge');
    expect(merged).toMatchObject({ merge_when_pipeline_succeeds: false, merged_by: { username: 'shepherd' } });
    expect(w.model.branchHead(DEPLOYMENTS, 'promote-stage-9')).toBeUndefined();
  });

  it('answers 405 to auto-merge when the pipeline failed, and takes the deprecated merge_when_pipeline_succeeds too', async () => {
    const w = await withRules({ ci: 'failed' });
    const mr = await openMr(w, 'promote-stage-10');
    await until(async () => (await status(w, mr.iid)) === 'ci_must_pass', 'the pipeline to fail');
    const refused = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/${mr.iid}/merge`, {
      merge_when_pipeline_succeeds: true,
    });
    expect([refused.status, await refused.json()]).toEqual([405, { message: '405 Method Not Allowed' }]);
  });

  it('stores remove_source_branch as force_remove_source_branch and deletes the branch after the merge', async () => {
    const w = await withRules();
    const mr = await openMr(w, 'promote-stage-11', 'stage', { removeSourceBranch: true });
    expect(mr.force_remove_source_branch).toBe(true);
    expect(await settledStatus(w, mr.iid)).toBe('mergeable');
    await w.gitlab.MergeRequests.merge(DEPLOYMENTS, mr.iid, { sha: mr.sha });
    expect(w.model.branchHead(DEPLOYMENTS, 'promote-stage-11')).toBeUndefined();

    const kept = await openMr(w, 'promote-stage-12', 'stage');
    w.model.protectBranch(DEPLOYMENTS, 'promote-stage-12');
    expect(await settledStatus(w, kept.iid)).toBe('mergeable');
    const merged = await w.gitlab.MergeRequests.merge(DEPLOYMENTS, kept.iid, {
      sha: kept.sha,
      shouldRemoveSourceBranch: true,
    });
    expect(merged.should_remove_source_branch).toBe(true);
    expect(w.model.branchHead(DEPLOYMENTS, 'promote-stage-12')).toBe(kept.sha);
  });
});

describe('sandbox GitLab: draft MRs', () => {
  it('answers draft_status for a title starting with Draft:, and mergeable once the prefix is gone', async () => {
    const w = await withRules();
    const mr = await openMr(w, 'promote-stage-13');
    await w.gitlab.MergeRequests.edit(DEPLOYMENTS, mr.iid, { title: `Draft: ${mr.title}` });
    expect(await settledStatus(w, mr.iid)).toBe('draft_status');
    expect(await w.gitlab.MergeRequests.show(DEPLOYMENTS, mr.iid)).toMatchObject({ draft: true });
    await w.gitlab.MergeRequests.edit(DEPLOYMENTS, mr.iid, { title: mr.title });
    expect(await status(w, mr.iid)).toBe('mergeable');
  });
});

describe('sandbox GitLab: an unknown MR', () => {
  it('answers 404 {"message":"404 Not found"} wherever an MR is looked up', async () => {
    const w = await withRules();
    const calls: [string, string][] = [
      ['GET', '/merge_requests/99'],
      ['PUT', '/merge_requests/99/merge'],
      ['PUT', '/merge_requests/99/rebase'],
      ['GET', '/merge_requests/99/pipelines'],
      ['GET', '/merge_requests/99/notes'],
      ['GET', '/pipelines/99'],
    ];
    for (const [method, path] of calls) {
      const res = await w.api(method, `/projects/${DEPLOYMENTS_ID}${path}`);
      expect([method, path, res.status, await res.json()]).toEqual([method, path, 404, { message: '404 Not found' }]);
    }
  });
});
