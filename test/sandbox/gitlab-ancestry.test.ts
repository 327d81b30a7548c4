/**
 * Part C: the sandbox GitLab's merge base and compare endpoints with GitLab's codes and bodies
 * (real-installations.md §4.1, §5), and Shepherd's GitLab client asking ancestry through them.
 */
import { describe, expect, it } from 'vitest';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { Secret } from '../../src/config/secret.js';
import {
  DEPLOYMENTS,
  DEPLOYMENTS_ID,
  gitLabWorldPerTest,
  pushImageChange,
  TOKEN,
  type GitLabWorld,
} from './gitlab-fixture.js';

const start = gitLabWorldPerTest();

/** Our merge on `dev`, then another team's commit on top: the shared env branch. */
function sharedBranch(w: GitLabWorld): { ours: string; theirs: string; before: string } {
  const before = w.model.branchHead(DEPLOYMENTS, 'dev')!;
  const ours = pushImageChange(w, 'dev', 'dev', 'registry/p2c/example-app:1.0.37');
  const theirs = w.model.commit(DEPLOYMENTS, {
    branch: 'dev',
    message: 'other-app: bump',
    actions: [{ action: 'create', filePath: 'apps/other-app/values.yaml', content: Buffer.from('replicas: 2\n') }],
  }).id;
  return { ours, theirs, before };
}

/** A commit with no history in common with the branches (as after an unrelated force push). */
function orphan(w: GitLabWorld): string {
  const { repo } = w.model.project(DEPLOYMENTS);
  const commit = repo.createCommit({
    parentIds: [],
    tree: new Map(),
    message: 'unrelated root',
    author: { name: 'x', email: 'x@example.com' },
  });
  repo.setBranch('unrelated', commit.id);
  return commit.id;
}

const mergeBase = (w: GitLabWorld, query: string) =>
  w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/merge_base?${query}`);

describe('sandbox GitLab: merge base', () => {
  it('answers 200 with the common ancestor commit for refs[]=A&refs[]=B, by SHA or branch name', async () => {
    const w = await start();
    const { ours, theirs } = sharedBranch(w);
    const res = await mergeBase(w, `refs[]=${ours}&refs[]=${theirs}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: ours, short_id: ours.slice(0, 8), parent_ids: [expect.any(String)] });
    expect(body.title).toContain('Deploy example-app');
    expect(body).toHaveProperty('committed_date');
    expect(body).toHaveProperty('web_url');

    const byName = await mergeBase(w, `refs=${ours},dev`);
    expect(((await byName.json()) as { id: string }).id).toBe(ours);
  });

  it('answers the older commit when asked about an older and a newer revision in either order', async () => {
    const w = await start();
    const { ours, theirs, before } = sharedBranch(w);
    for (const q of [`refs[]=${before}&refs[]=${theirs}`, `refs[]=${theirs}&refs[]=${before}`]) {
      expect(((await (await mergeBase(w, q)).json()) as { id: string }).id).toBe(before);
    }
    // A side branch from before our merge: the base is where they parted, which is not ours.
    const side = pushImageChange(w, 'side', 'main', 'registry/p2c/example-app:0.9');
    const res = await mergeBase(w, `refs[]=${ours}&refs[]=${side}`);
    expect(((await res.json()) as { id: string }).id).not.toBe(ours);
  });

  it('answers 400 "Provide at least 2 refs" and 400 "Could not find ref(s)" as GitLab does', async () => {
    const w = await start();
    const one = await mergeBase(w, 'refs[]=dev');
    expect(one.status).toBe(400);
    expect(await one.json()).toEqual({ message: 'Provide at least 2 refs' });
    const unknown = await mergeBase(w, `refs[]=dev&refs[]=${'f'.repeat(40)}`);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ message: `Could not find ref: ${'f'.repeat(40)}` });
    const both = await mergeBase(w, 'refs[]=nope&refs[]=nada');
    expect(await both.json()).toEqual({ message: 'Could not find refs: nope, nada' });
  });

  it('answers 404 "Merge Base Not Found" for histories with nothing in common', async () => {
    const w = await start();
    const root = orphan(w);
    const res = await mergeBase(w, `refs[]=dev&refs[]=${root}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: '404 Merge Base Not Found' });
  });
});

describe('sandbox GitLab: compare', () => {
  it('lists the commits of from...to through the merge base, and none from a descendant back to its ancestor', async () => {
    const w = await start();
    const { ours, theirs } = sharedBranch(w);
    const forward = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/compare?from=${ours}&to=${theirs}`);
    const body = (await forward.json()) as { commits: { id: string }[]; compare_same_ref: boolean };
    expect(body.commits.map((c) => c.id)).toEqual([theirs]);
    expect(body.compare_same_ref).toBe(false);
    const back = await w.api(
      'GET',
      `/projects/${DEPLOYMENTS_ID}/repository/compare?from=${theirs}&to=${ours}&straight=true`,
    );
    expect(((await back.json()) as { commits: unknown[] }).commits).toEqual([]);
  });

  it('answers 404 "Ref Not Found" for an unknown ref', async () => {
    const w = await start();
    const res = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/repository/compare?from=dev&to=no-such-branch`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: '404 Ref Not Found' });
  });
});

describe("Shepherd's GitLab client: isAncestor", () => {
  it('says a revision others committed on top of contains ours, an older one does not, unrelated or unknown ones do not', async () => {
    const w = await start();
    const { ours, theirs, before } = sharedBranch(w);
    const root = orphan(w);
    const client = new GitLabClient({ url: w.server.url, token: new Secret(TOKEN) });
    expect(await client.isAncestor(DEPLOYMENTS, ours, theirs)).toBe(true);
    expect(await client.isAncestor(DEPLOYMENTS, ours, ours)).toBe(true);
    expect(await client.isAncestor(DEPLOYMENTS, ours, before)).toBe(false);
    expect(await client.isAncestor(DEPLOYMENTS, ours, root)).toBe(false);
    expect(await client.isAncestor(DEPLOYMENTS, ours, 'e'.repeat(40))).toBe(false);
  });
});
