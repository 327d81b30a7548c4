import { describe, expect, it } from 'vitest';
import {
  DEPLOYMENTS,
  DEPLOYMENTS_ID,
  MANIFEST,
  manifest,
  gitLabWorldPerTest,
  requestError,
  TOKEN,
} from './gitlab-fixture.js';

const start = gitLabWorldPerTest();

describe('sandbox GitLab: authentication and projects', () => {
  it('returns the token owner from GET /user for PRIVATE-TOKEN and Authorization: Bearer', async () => {
    const w = await start();
    const user = await w.gitlab.Users.showCurrentUser();
    expect(user.username).toBe('shepherd');
    const bearer = await fetch(`${w.server.url}/api/v4/user`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { username: string }).username).toBe('shepherd');
  });

  it('answers 401 {"message":"401 Unauthorized"} to a wrong or missing token', async () => {
    const w = await start();
    const wrong = await w.api('GET', '/user', undefined, { 'private-token': 'nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ message: '401 Unauthorized' });
    const none = await fetch(`${w.server.url}/api/v4/projects/1`);
    expect(none.status).toBe(401);
  });

  it('finds a project by numeric id and by URL-encoded path with GitLab project fields', async () => {
    const w = await start();
    const byPath = await w.gitlab.Projects.show(DEPLOYMENTS);
    expect(byPath).toMatchObject({
      path_with_namespace: DEPLOYMENTS,
      default_branch: 'main',
      merge_method: 'merge',
      web_url: `${w.server.url}/${DEPLOYMENTS}`,
      http_url_to_repo: `${w.server.url}/${DEPLOYMENTS}.git`,
      namespace: { full_path: 'p2c', kind: 'group' },
    });
    const byId = await w.gitlab.Projects.show(byPath.id);
    expect(byId.path_with_namespace).toBe(DEPLOYMENTS);
  });

  it('answers 404 Project Not Found for an unknown project and {"error":"404 Not Found"} for an unknown route', async () => {
    const w = await start();
    const missing = await w.api('GET', '/projects/p2c%2Fnope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: '404 Project Not Found' });
    const route = await w.api('GET', '/no/such/route');
    expect(route.status).toBe(404);
    expect(await route.json()).toEqual({ error: '404 Not Found' });
  });
});

describe('sandbox GitLab: repository files', () => {
  it('serves a file as base64 with its last_commit_id, raw as text/plain, and headers on HEAD', async () => {
    const w = await start();
    const file = await w.gitlab.RepositoryFiles.show(DEPLOYMENTS, MANIFEST, 'dev');
    expect(Buffer.from(file.content, 'base64').toString('utf8')).toBe(
      manifest('registry/p2c/example-app:IMAGE_TAG_NOT_SET'),
    );
    expect(file.last_commit_id).toBe(w.model.branchHead(DEPLOYMENTS, 'main'));
    expect(file).toMatchObject({ file_path: MANIFEST, file_name: 'exampleApp.yaml', encoding: 'base64', ref: 'dev' });

    const raw = await w.gitlab.RepositoryFiles.showRaw(DEPLOYMENTS, MANIFEST, 'dev');
    expect(raw).toContain('image: registry/p2c/example-app:IMAGE_TAG_NOT_SET');

    const head = await w.api(
      'HEAD',
      `/projects/${DEPLOYMENTS_ID}/repository/files/${encodeURIComponent(MANIFEST)}?ref=dev`,
    );
    expect(head.status).toBe(200);
    expect(head.headers.get('x-gitlab-last-commit-id')).toBe(file.last_commit_id);
    expect(head.headers.get('x-gitlab-file-path')).toBe(MANIFEST);
  });

  it('answers 404 File Not Found, 404 Commit Not Found for an unknown ref, and 400 when ref is missing', async () => {
    const w = await start();
    const noFile = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/files/nope.txt?ref=dev`);
    expect([noFile.status, await noFile.json()]).toEqual([404, { message: '404 File Not Found' }]);
    const noRef = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/files/env.cue?ref=nope`);
    expect([noRef.status, await noRef.json()]).toEqual([404, { message: '404 Commit Not Found' }]);
    const missingRef = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/files/env.cue`);
    expect([missingRef.status, await missingRef.json()]).toEqual([400, { error: 'ref is missing' }]);
  });

  it('updates a file with a fresh last_commit_id and refuses a stale one with 400', async () => {
    const w = await start();
    const before = await w.gitlab.RepositoryFiles.show(DEPLOYMENTS, 'env.cue', 'dev');
    await w.gitlab.RepositoryFiles.edit(DEPLOYMENTS, 'env.cue', 'dev', 'package envs\n// one\n', 'edit one', {
      lastCommitId: String(before.last_commit_id),
    });
    const err = await requestError(
      w.gitlab.RepositoryFiles.edit(DEPLOYMENTS, 'env.cue', 'dev', 'package envs\n// two\n', 'edit two', {
        lastCommitId: String(before.last_commit_id),
      }),
    );
    expect(err.status).toBe(400);
    expect(err.message).toBe('You are attempting to update a file that has changed since you started editing it.');
    expect(w.model.readFile(DEPLOYMENTS, 'dev', 'env.cue')).toBe('package envs\n// one\n');
  });

  it('creates (201), refuses to create an existing file (400) and deletes a file (204, JSON body accepted)', async () => {
    const w = await start();
    const created = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/repository/files/notes%2Fa.txt`, {
      branch: 'dev',
      content: 'aGk=',
      encoding: 'base64',
      commit_message: 'add',
    });
    expect([created.status, await created.json()]).toEqual([201, { file_path: 'notes/a.txt', branch: 'dev' }]);
    expect(w.model.readFile(DEPLOYMENTS, 'dev', 'notes/a.txt')).toBe('hi');
    const again = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/repository/files/notes%2Fa.txt`, {
      branch: 'dev',
      content: 'x',
      commit_message: 'add',
    });
    expect([again.status, await again.json()]).toEqual([400, { message: 'A file with this name already exists' }]);
    const missing = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/repository/files/b.txt`, { content: 'x' });
    expect([missing.status, await missing.json()]).toEqual([
      400,
      { error: 'branch is missing, commit_message is missing' },
    ]);
    await w.gitlab.RepositoryFiles.remove(DEPLOYMENTS, 'notes/a.txt', 'dev', 'remove');
    expect(w.model.readFile(DEPLOYMENTS, 'dev', 'notes/a.txt')).toBeUndefined();
  });
});

describe('sandbox GitLab: commits', () => {
  it('commits several actions atomically and returns the commit with its parent and stats', async () => {
    const w = await start();
    const parent = w.model.branchHead(DEPLOYMENTS, 'dev');
    await w.model.commit(DEPLOYMENTS, {
      branch: 'dev',
      message: 'tool',
      actions: [{ action: 'create', filePath: 'run.sh', content: Buffer.from('echo\n') }],
    });
    const commit = await w.gitlab.Commits.create(DEPLOYMENTS, 'dev', 'chore: reshuffle\n\nbody', [
      { action: 'create', filePath: 'a.txt', content: 'one\n' },
      { action: 'update', filePath: 'env.cue', content: 'package envs\nx: 1\n' },
      { action: 'move', filePath: 'docs/README.md', previousPath: 'README.md' },
      { action: 'chmod', filePath: 'run.sh', execute_filemode: true },
      { action: 'delete', filePath: 'a.txt' },
    ]);
    expect(commit.title).toBe('chore: reshuffle');
    expect(commit.message).toBe('chore: reshuffle\n\nbody');
    expect(commit.parent_ids).toEqual([
      w.model.project(DEPLOYMENTS).repo.getCommit(w.model.branchHead(DEPLOYMENTS, 'dev')!)!.parentIds[0],
    ]);
    expect(commit.parent_ids).not.toEqual([parent]);
    expect(commit.id).toMatch(/^[0-9a-f]{40}$/);
    expect(commit.stats).toEqual({ additions: 2, deletions: 1, total: 3 });
    expect(commit.author_name).toBe('Shepherd Bot');
    const files = w.model.listFiles(DEPLOYMENTS, 'dev', '');
    expect([...files.keys()].sort()).toEqual(['docs/README.md', 'env.cue', MANIFEST, 'run.sh']);
    expect(w.model.project(DEPLOYMENTS).repo.resolve('dev')!.tree.get('run.sh')!.executable).toBe(true);
  });

  it('refuses a stale action last_commit_id, an unknown action and a missing file with the commits API messages', async () => {
    const w = await start();
    const first = w.model.branchHead(DEPLOYMENTS, 'dev')!;
    await w.gitlab.Commits.create(DEPLOYMENTS, 'dev', 'one', [
      { action: 'update', filePath: 'env.cue', content: 'a\n' },
    ]);
    const stale = await requestError(
      w.gitlab.Commits.create(DEPLOYMENTS, 'dev', 'two', [
        { action: 'update', filePath: 'env.cue', content: 'b\n', lastCommitId: first },
      ]),
    );
    expect([stale.status, stale.message]).toEqual([400, 'The file has changed since you started editing it: env.cue']);
    const bad = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/repository/commits`, {
      branch: 'dev',
      commit_message: 'x',
      actions: [{ action: 'rename', file_path: 'a' }],
    });
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'actions[0][action] does not have a valid value' }]);
    const gone = await requestError(
      w.gitlab.Commits.create(DEPLOYMENTS, 'dev', 'three', [{ action: 'update', filePath: 'nope', content: 'b' }]),
    );
    expect(gone.message).toBe("A file with this name doesn't exist");
    const noBranch = await requestError(
      w.gitlab.Commits.create(DEPLOYMENTS, 'feature', 'four', [{ action: 'create', filePath: 'n', content: 'b' }]),
    );
    expect(noBranch.message).toBe('You can only create or edit files when you are on a branch');
  });

  it('creates a branch from start_branch, refuses an existing branch without force, and overwrites it with force', async () => {
    const w = await start();
    const c = await w.gitlab.Commits.create(
      DEPLOYMENTS,
      'update-dev-1',
      'bump',
      [{ action: 'update', filePath: 'env.cue', content: 'one\n' }],
      { startBranch: 'dev' },
    );
    expect(c.parent_ids).toEqual([w.model.branchHead(DEPLOYMENTS, 'dev')]);
    const exists = await requestError(
      w.gitlab.Commits.create(
        DEPLOYMENTS,
        'update-dev-1',
        'again',
        [{ action: 'update', filePath: 'env.cue', content: 'two\n' }],
        { startBranch: 'dev' },
      ),
    );
    expect([exists.status, exists.message]).toEqual([400, 'Branch already exists']);
    const forced = await w.gitlab.Commits.create(
      DEPLOYMENTS,
      'update-dev-1',
      'again',
      [{ action: 'update', filePath: 'env.cue', content: 'two\n' }],
      { startBranch: 'dev', force: true },
    );
    expect(forced.parent_ids).toEqual([w.model.branchHead(DEPLOYMENTS, 'dev')]);
    expect(w.model.readFile(DEPLOYMENTS, 'update-dev-1', 'env.cue')).toBe('two\n');
  });

  it('lists commits newest first, filtered by path, across pages following the link header', async () => {
    const w = await start();
    for (let i = 0; i < 5; i++)
      await w.gitlab.Commits.create(DEPLOYMENTS, 'dev', `c${i}`, [
        { action: 'update', filePath: i % 2 ? 'env.cue' : 'README.md', content: `${i}\n` },
      ]);
    const all = await w.gitlab.Commits.all(DEPLOYMENTS, { refName: 'dev', perPage: 2 });
    expect(all.map((c) => c.title)).toEqual(['c4', 'c3', 'c2', 'c1', 'c0', 'Initial commit']);
    const envOnly = await w.gitlab.Commits.all(DEPLOYMENTS, { refName: 'dev', path: 'env.cue' });
    expect(envOnly.map((c) => c.title)).toEqual(['c3', 'c1', 'Initial commit']);
    const page = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/commits?ref_name=dev&per_page=4`);
    expect(page.headers.get('x-total')).toBe('6');
    expect(page.headers.get('x-next-page')).toBe('2');
    expect(page.headers.get('x-prev-page')).toBe('');
    expect(page.headers.get('link')).toContain(
      `<${w.server.url}/api/v4/projects/${DEPLOYMENTS_ID}/repository/commits?ref_name=dev&per_page=4&page=2>; rel="next"`,
    );
  });

  it('compares from the merge base with commits oldest first and a unified diff', async () => {
    const w = await start();
    await w.gitlab.Commits.create(
      DEPLOYMENTS,
      'feat',
      'f1',
      [{ action: 'update', filePath: 'env.cue', content: 'package envs\nx: 1\n' }],
      { startBranch: 'dev' },
    );
    await w.gitlab.Commits.create(DEPLOYMENTS, 'feat', 'f2', [
      { action: 'create', filePath: 'new.txt', content: 'n\n' },
    ]);
    const cmp = await w.gitlab.Repositories.compare(DEPLOYMENTS, 'dev', 'feat');
    expect((cmp.commits as { title: string }[]).map((c) => c.title)).toEqual(['f1', 'f2']);
    expect((cmp.commit as { title: string }).title).toBe('f2');
    expect(cmp.diffs).toEqual([
      expect.objectContaining({
        new_path: 'env.cue',
        new_file: false,
        diff: '@@ -1,1 +1,2 @@\n package envs\n+x: 1\n',
      }),
      expect.objectContaining({ new_path: 'new.txt', new_file: true }),
    ]);
  });
});

describe('sandbox GitLab: branches', () => {
  it('creates a branch (201), refuses a duplicate and an invalid ref with 400, and deletes it (204)', async () => {
    const w = await start();
    const b = await w.gitlab.Branches.create(DEPLOYMENTS, 'feat/x', 'dev');
    expect(b).toMatchObject({
      name: 'feat/x',
      protected: false,
      default: false,
      commit: { id: w.model.branchHead(DEPLOYMENTS, 'dev') },
    });
    const shown = await w.gitlab.Branches.show(DEPLOYMENTS, 'feat/x');
    expect(shown.name).toBe('feat/x');
    const dup = await requestError(w.gitlab.Branches.create(DEPLOYMENTS, 'feat/x', 'dev'));
    expect([dup.status, dup.message]).toEqual([400, 'Branch already exists']);
    const badRef = await requestError(w.gitlab.Branches.create(DEPLOYMENTS, 'feat/y', 'nope'));
    expect([badRef.status, badRef.message]).toEqual([400, 'Invalid reference name: nope']);
    const del = await w.api('DELETE', `/projects/${DEPLOYMENTS_ID}/repository/branches/feat%2Fx`, {});
    expect(del.status).toBe(204);
    const gone = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/branches/feat%2Fx`);
    expect([gone.status, await gone.json()]).toEqual([404, { message: '404 Branch Not Found' }]);
  });

  it('refuses to delete the default branch with 405 and lists branches matching search', async () => {
    const w = await start();
    const del = await w.api('DELETE', `/projects/${DEPLOYMENTS_ID}/repository/branches/main`);
    expect([del.status, await del.json()]).toEqual([405, { message: 'Cannot remove HEAD branch' }]);
    const found = await w.gitlab.Branches.all(DEPLOYMENTS, { search: 'st' });
    expect(found.map((b) => b.name)).toEqual(['stage']);
  });
});

describe('sandbox GitLab: injected HTTP faults', () => {
  it('lets an injected 503 reach the client as a GitbeakerRequestError with status 503', async () => {
    const w = await start();
    await w.faults.activate({
      name: 'gitlab-503',
      description: 'GitLab fails',
      http: [{ system: 'gitlab', status: 503, count: 1 }],
    });
    const err = await requestError(w.gitlab.Projects.show(DEPLOYMENTS));
    expect(err.status).toBe(503);
    expect((await w.gitlab.Projects.show(DEPLOYMENTS)).path_with_namespace).toBe(DEPLOYMENTS);
  });

  it('answers an injected 429 with "Retry later" text, which gitbeaker retries through', async () => {
    const w = await start();
    await w.faults.activate({
      name: 'gitlab-429',
      description: 'rate limited',
      http: [{ system: 'gitlab', status: 429, retryAfterSeconds: 1, count: 3, path: '/projects/' }],
    });
    const raw = await w.api('GET', `/projects/${DEPLOYMENTS_ID}`);
    expect([raw.status, raw.headers.get('retry-after'), await raw.text()]).toEqual([429, '1', 'Retry later\n']);
    const project = await w.gitlab.Projects.show(DEPLOYMENTS);
    expect(project.path_with_namespace).toBe(DEPLOYMENTS);
    expect(w.faults.fired.filter((f) => f.kind === 'http')).toHaveLength(3);
  });
});
