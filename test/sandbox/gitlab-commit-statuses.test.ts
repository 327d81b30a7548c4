/**
 * The simulated GitLab's commit statuses API (`POST /projects/:id/statuses/:sha`,
 * `GET …/repository/commits/:sha/statuses`) through HTTP, with the codes real GitLab answers
 * (real-installations.md §4.2): parameters as form, JSON or query; 201 with the CommitStatus entity; 400 for a
 * state outside the value set, a blocked target URL or a transition the job cannot make; 404 for an unknown
 * project, commit, ref or pipeline. One world for the file.
 */
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitLabWorld, TOKEN, type GitLabWorld } from './gitlab-fixture.js';

const APP = 'p2c/example-app';
const APP_ID = encodeURIComponent(APP);

describe('sandbox GitLab commit statuses', () => {
  let world: GitLabWorld;
  let sha: string;

  beforeAll(async () => {
    world = await startGitLabWorld();
    world.model.createProject({ path: APP, files: { 'pom.xml': '<version>1.0.0</version>\n' } });
    sha = world.model.branchHead(APP, 'main')!;
  });
  afterAll(async () => {
    await world.stop();
  });

  /** A new commit on main, so that each test has its own statuses. */
  const newCommit = (): string =>
    world.model.commit(APP, {
      branch: 'main',
      message: 'change',
      as: 'shepherd',
      actions: [
        { action: 'update', filePath: 'pom.xml', content: Buffer.from(`<version>${Math.random()}</version>\n`) },
      ],
    }).id;

  const postForm = (commit: string, fields: Record<string, string>): Promise<Response> =>
    fetch(`${world.server.url}/api/v4/projects/${APP_ID}/statuses/${commit}`, {
      method: 'POST',
      headers: { 'private-token': TOKEN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });

  const list = async (commit: string, query = ''): Promise<Record<string, unknown>[]> => {
    const res = await world.api('GET', `/projects/${APP_ID}/repository/commits/${commit}/statuses${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>[];
  };

  it('answers 201 with the CommitStatus entity to a form-encoded post naming the status by `context`, as the gitlab-plugin sends it', async () => {
    const commit = newCommit();
    const res = await postForm(commit, {
      state: 'running',
      ref: 'main',
      context: 'jenkins',
      target_url: 'https://jenkins.example/job/example-app/job/main/7/',
      description: 'running',
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: expect.any(Number),
      sha: commit,
      ref: 'main',
      status: 'running',
      name: 'jenkins',
      target_url: 'https://jenkins.example/job/example-app/job/main/7/',
      description: 'running',
      started_at: expect.any(String),
      finished_at: null,
      allow_failure: false,
      coverage: null,
      pipeline_id: expect.any(Number),
      author: { username: 'shepherd' },
    });
  });

  it('accepts the parameters as JSON or in the query, defaults the name to `default` and the ref to a branch containing the commit', async () => {
    const commit = newCommit();
    const json = await world.api('POST', `/projects/${APP_ID}/statuses/${commit}`, { state: 'pending', name: 'lint' });
    expect(json.status).toBe(201);
    expect(await json.json()).toMatchObject({ status: 'pending', name: 'lint', ref: 'main' });
    const query = await world.api('POST', `/projects/${APP_ID}/statuses/${commit}?state=success`);
    expect(query.status).toBe(201);
    expect(await query.json()).toMatchObject({ status: 'success', name: 'default', ref: 'main' });
  });

  it('updates the running job of the same name and refuses to enter the state it is in with 400 Cannot transition status', async () => {
    const commit = newCommit();
    const first = (await (await postForm(commit, { state: 'running', context: 'jenkins', ref: 'main' })).json()) as {
      id: number;
    };
    const again = await postForm(commit, { state: 'running', context: 'jenkins', ref: 'main' });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { message: string }).message).toMatch(
      /^Cannot transition status via :run from :running/,
    );
    const done = await postForm(commit, { state: 'success', context: 'jenkins', ref: 'main' });
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ id: first.id, status: 'success', finished_at: expect.any(String) });
  });

  it('makes a new job after a finished one; the list shows only the latest per name unless all=true', async () => {
    const commit = newCommit();
    await postForm(commit, { state: 'failed', context: 'jenkins', ref: 'main' });
    const rerun = (await (await postForm(commit, { state: 'running', context: 'jenkins', ref: 'main' })).json()) as {
      id: number;
    };
    await postForm(commit, { state: 'success', context: 'other', ref: 'main' });
    const latest = await list(commit);
    expect(latest.map((s) => [s.name, s.status])).toEqual([
      ['jenkins', 'running'],
      ['other', 'success'],
    ]);
    expect(latest[0]).toMatchObject({ id: rerun.id });
    expect((await list(commit, '?all=true')).map((s) => s.status)).toEqual(['failed', 'running', 'success']);
    expect((await list(commit, '?name=other')).map((s) => s.name)).toEqual(['other']);
    expect(await list(commit, '?ref=feature')).toEqual([]);
  });

  it('refuses a state outside the value set and a missing state with Grape 400s', async () => {
    const bad = await postForm(sha, { state: 'done', context: 'jenkins' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'state does not have a valid value' });
    const missing = await postForm(sha, { context: 'jenkins' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'state is missing' });
  });

  it('refuses a target URL that is not http(s) with 400 naming the field', async () => {
    const res = await postForm(sha, { state: 'pending', context: 'blocked', target_url: 'javascript:alert(1)' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: { target_url: ['is blocked: Only allowed schemes are http, https'] } });
  });

  it('answers 404 for an unknown commit, project, pipeline, or a commit no branch contains', async () => {
    const unknownCommit = await postForm('0'.repeat(40), { state: 'pending' });
    expect(unknownCommit.status).toBe(404);
    expect(await unknownCommit.json()).toEqual({ message: '404 Commit Not Found' });

    const unknownProject = await world.api('POST', `/projects/${encodeURIComponent('p2c/nope')}/statuses/${sha}`, {
      state: 'pending',
    });
    expect(unknownProject.status).toBe(404);
    expect(await unknownProject.json()).toEqual({ message: '404 Project Not Found' });

    const pipeline = await postForm(sha, { state: 'pending', ref: 'main', pipeline_id: '9999' });
    expect(pipeline.status).toBe(404);
    expect(await pipeline.json()).toEqual({ message: '404 Pipeline for pipeline_id, sha and ref Not Found' });

    const orphan = world.model.commit(APP, {
      branch: 'doomed',
      startBranch: 'main',
      message: 'on a branch about to go',
      as: 'shepherd',
      actions: [{ action: 'create', filePath: 'doomed.txt', content: Buffer.from('x') }],
    }).id;
    world.model.deleteBranch(APP, 'doomed', 'shepherd');
    const noRef = await postForm(orphan, { state: 'pending' });
    expect(noRef.status).toBe(404);
    expect(await noRef.json()).toEqual({ message: '404 References for commit Not Found' });

    const listUnknown = await world.api('GET', `/projects/${APP_ID}/repository/commits/${'0'.repeat(40)}/statuses`);
    expect(listUnknown.status).toBe(404);
    expect(await listUnknown.json()).toEqual({ message: '404 Commit Not Found' });
  });

  it('lists through the gitbeaker client Shepherd uses, filtered by name', async () => {
    const commit = newCommit();
    await postForm(commit, { state: 'running', context: 'jenkins', ref: 'main', target_url: 'https://ci/job/a/1/' });
    const statuses = await world.gitlab.Commits.allStatuses(APP, commit, { name: 'jenkins' });
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({ name: 'jenkins', status: 'running', target_url: 'https://ci/job/a/1/' });
  });
});
