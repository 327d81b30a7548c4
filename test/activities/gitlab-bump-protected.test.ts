import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabActivities } from '../../activities/gitlab.js';
import { BranchProtectedError } from '../../src/domain/errors.js';
import { credentialsSeen, inMs, startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

/** The `protected-main` installation: nobody may push to the app project's main branch, merges only. */
describe('the version bump on a protected default branch (scenario protected-main)', () => {
  let h: GitLabHarness;
  let appProject: string;
  beforeAll(async () => {
    h = await startGitLabHarness({ scenario: 'protected-main' });
    appProject = h.sandbox.layout.gitlab.appProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('GitLab refuses a direct push with 403, which the client reports as branch protection, not as the token', async () => {
    const file = await h.client.readFile(appProject, 'pom.xml', 'main');
    const err = await h.client
      .commitFiles(appProject, {
        branch: 'main',
        message: 'a direct push',
        updates: [{ filePath: 'pom.xml', content: `${file.content}\n`, lastCommitId: file.lastCommitId }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(BranchProtectedError);
    expect((err as BranchProtectedError).facts).toMatchObject({
      project: appProject,
      branch: 'main',
      detail: expect.stringContaining('You are not allowed to push into this branch'),
    });
    expect((err as Error).message).toContain('protected');
    expect((err as Error).message).not.toContain('GITLAB_TOKEN');
    const [protection] = (await (
      await fetch(
        `${h.sandbox.world.info.gitlab.url}/api/v4/projects/${encodeURIComponent(appProject)}/protected_branches`,
        {
          headers: { 'PRIVATE-TOKEN': h.sandbox.world.info.gitlab.token },
        },
      )
    ).json()) as { name: string; push_access_levels: { access_level: number; access_level_description: string }[] }[];
    expect(protection).toMatchObject({
      name: 'main',
      push_access_levels: [{ access_level: 0, access_level_description: 'No one' }],
    });
  });

  it('bumps through a merge request that merges itself, and returns the commit the merge put on main', async () => {
    const runMarker = 'validate-example-app/protected-1';
    const { result: bump } = await h.run(h.acts.bumpAppVersion, {
      appName: 'example-app',
      runMarker,
      deadline: inMs(30_000),
    });
    expect(bump).toMatchObject({ previousVersion: '1.0.36-SNAPSHOT', version: '1.0.37-SNAPSHOT', alreadyDone: false });
    const main = await h.client.getBranch(appProject, 'main');
    expect(main?.headSha).toBe(bump.commitSha);
    expect((await h.client.readFile(appProject, 'pom.xml', 'main')).content).toContain(
      '<version>1.0.37-SNAPSHOT</version>',
    );
    const [mr] = await h.client.listMergeRequests(appProject, { state: 'merged', targetBranch: 'main' });
    expect(mr).toMatchObject({ title: 'chore: bump version to 1.0.37-SNAPSHOT [pipeline-validation]' });
    expect(mr!.sourceBranch).toMatch(/^shepherd\/bump-1\.0\.37-SNAPSHOT-[0-9a-f]{10}$/);
    expect(mr!.description).toContain(`Shepherd-Run: ${runMarker}`);

    // A retry (the worker died after the merge) finds the run's MR and names the same commit, bumping nothing.
    const { result: again } = await h.run(
      h.acts.bumpAppVersion,
      { appName: 'example-app', runMarker, deadline: inMs(30_000) },
      { attempt: 2 },
    );
    expect(again).toMatchObject({ commitSha: bump.commitSha, version: '1.0.37-SNAPSHOT', alreadyDone: true });
    expect((await h.client.getBranch(appProject, 'main'))?.headSha).toBe(bump.commitSha);
    expect(credentialsSeen(h)).toEqual([]);
  });

  it('with SHEPHERD_BUMP_VIA=push the run fails at once, naming the protection and what to change', async () => {
    const pushOnly = createGitLabActivities({
      client: h.client,
      layout: { ...h.sandbox.layout, gitlab: { ...h.sandbox.layout.gitlab, bump: { via: 'push' } } },
      pollIntervalMs: 20,
    });
    const failure = await h.fail(pushOnly.bumpAppVersion, {
      appName: 'example-app',
      runMarker: 'validate-example-app/protected-2',
    });
    expect(failure.type).toBe('BranchProtectedError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('SHEPHERD_BUMP_VIA');
  });
});
