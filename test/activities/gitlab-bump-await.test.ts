import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { inMs, credentialsSeen, startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

describe('bumpAppVersion and awaitMergeRequest against the sandbox', () => {
  let h: GitLabHarness;
  let appProject: string;
  beforeAll(async () => {
    h = await startGitLabHarness();
    appProject = h.sandbox.layout.gitlab.appProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('bumps the patch version with a commit carrying the run marker, and CI opens the dev MR for it', async () => {
    const createdAfter = new Date().toISOString();
    const before = await h.projectState(appProject);
    const { result: bump } = await h.run(h.acts.bumpAppVersion, {
      appName: 'example-app',
      runMarker: 'validate-example-app/run-1',
    });
    expect(bump).toMatchObject({
      previousVersion: '1.0.36-SNAPSHOT',
      version: '1.0.37-SNAPSHOT',
      alreadyDone: false,
      attempt: 1,
    });
    expect((await h.projectState(appProject)).commitsPerBranch.main).toBe((before.commitsPerBranch.main ?? 0) + 1);
    const pom = await h.client.readFile(appProject, 'pom.xml', 'main');
    expect(pom.content).toContain('<version>1.0.37-SNAPSHOT</version>');

    const { result: mr, heartbeats } = await h.run(h.acts.awaitMergeRequest, {
      appName: 'example-app',
      targetEnv: 'dev',
      version: bump.version,
      createdAfter,
      deadline: inMs(30_000),
    });
    const tag = `${bump.version}-${bump.commitSha.slice(0, 7)}`;
    expect(mr).toMatchObject({ sourceBranch: `update-dev-${tag}`, targetEnv: 'dev', imageTag: tag, attempt: 1 });
    expect(mr.headSha).toMatch(/^[0-9a-f]{40}$/);
    expect(mr.webUrl).toContain(`/merge_requests/${mr.iid}`);
    expect(heartbeats.length).toBeGreaterThan(0);

    const byTag = await h.run(h.acts.awaitMergeRequest, {
      appName: 'example-app',
      targetEnv: 'dev',
      imageTag: tag,
      createdAfter,
      deadline: inMs(5_000),
    });
    expect(byTag.result.iid).toBe(mr.iid);
  });

  it('returns the earlier bump instead of bumping twice when retried after a crash', async () => {
    const first = await h.run(h.acts.bumpAppVersion, {
      appName: 'example-app',
      runMarker: 'validate-example-app/run-2',
    });
    const commits = (await h.projectState(appProject)).commitsPerBranch.main;
    const retry = await h.run(
      h.acts.bumpAppVersion,
      { appName: 'example-app', runMarker: 'validate-example-app/run-2' },
      { attempt: 2 },
    );
    expect(retry.result).toEqual({ ...first.result, alreadyDone: true, attempt: 2 });
    expect((await h.projectState(appProject)).commitsPerBranch.main).toBe(commits);
  });

  it('does not mistake another run whose marker starts the same for its own bump', async () => {
    const { result: a } = await h.run(h.acts.bumpAppVersion, {
      appName: 'example-app',
      runMarker: 'validate-example-app/run-3',
    });
    const { result: b } = await h.run(h.acts.bumpAppVersion, {
      appName: 'example-app',
      runMarker: 'validate-example-app/run-3x',
    });
    expect(b.alreadyDone).toBe(false);
    expect(b.previousVersion).toBe(a.version);
  });

  it('refuses another app with a non-retryable ValidationError and commits nothing', async () => {
    const commits = (await h.projectState(appProject)).commitsPerBranch.main;
    const failure = await h.fail(h.acts.bumpAppVersion, { appName: 'other-app', runMarker: 'r/1' });
    expect(failure).toMatchObject({ type: 'ValidationError', nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ field: 'appName' });
    expect((await h.projectState(appProject)).commitsPerBranch.main).toBe(commits);
  });

  it('ends the wait at the deadline with MergeRequestNotFoundError naming the branch it waited for', async () => {
    const failure = await h.fail(h.acts.awaitMergeRequest, {
      appName: 'example-app',
      targetEnv: 'stage',
      imageTag: '9.9.9-nothing',
      createdAfter: new Date().toISOString(),
      deadline: inMs(200),
    });
    expect(failure).toMatchObject({ type: 'MergeRequestNotFoundError', nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ targetEnv: 'stage', branchPrefix: 'promote-stage-9.9.9-nothing' });
  });

  it('resumes the wait from the heartbeat details of the attempt that died, keeping its start and poll count', async () => {
    const startedAt = Date.now() - 120_000;
    const failure = await h.fail(
      h.acts.awaitMergeRequest,
      {
        appName: 'example-app',
        targetEnv: 'stage',
        imageTag: '9.9.9-nothing',
        createdAfter: new Date().toISOString(),
        deadline: inMs(100),
      },
      { attempt: 2, heartbeatDetails: { startedAt, polls: 40, lastSeen: 'no open merge request' } },
    );
    expect((failure.details?.[0] as { waitedSeconds: number }).waitedSeconds).toBeGreaterThanOrEqual(120);
    const beats = h.seen.at(-1) as { startedAt: number; polls: number }[];
    expect(beats[0]).toMatchObject({ startedAt, polls: 41 });
  });

  it('stops waiting as soon as the activity is cancelled', async () => {
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    env.on('heartbeat', () => env.cancel());
    const outcome = await env
      .run(h.acts.awaitMergeRequest, {
        appName: 'example-app',
        targetEnv: 'prod' as const,
        imageTag: '9.9.9-never',
        createdAfter: new Date().toISOString(),
        deadline: inMs(600_000),
      })
      .catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(CancelledFailure);
  });

  it('without createdAfter, adopts an open MR of the branch whatever its age, once its head is the head of its branch', async () => {
    // The dev MR of 1.0.37 was opened by the first test, well before this wait starts.
    const real = h.client.getBranch.bind(h.client);
    let behind = 2;
    // GitLab updates an MR's head shortly after a push: for two looks the branch is ahead of the MR.
    const spy = vi.spyOn(h.client, 'getBranch').mockImplementation(async (project, name) => {
      const branch = await real(project, name);
      if (!branch || behind <= 0) return branch;
      behind -= 1;
      return { ...branch, headSha: 'f'.repeat(40) };
    });
    try {
      const { result: mr, heartbeats } = await h.run(h.acts.awaitMergeRequest, {
        appName: 'example-app',
        targetEnv: 'dev',
        version: '1.0.37-SNAPSHOT',
        deadline: inMs(30_000),
      });
      expect(mr.sourceBranch).toMatch(/^update-dev-1\.0\.37-SNAPSHOT-[0-9a-f]{7}$/);
      expect(behind).toBe(0);
      expect(heartbeats).toContainEqual(
        expect.objectContaining({ iid: mr.iid, lastSeen: expect.stringContaining('its branch at ffffffff') }),
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('ignores MRs created before createdAfter', async () => {
    const failure = await h.fail(h.acts.awaitMergeRequest, {
      appName: 'example-app',
      targetEnv: 'dev',
      version: '1.0.37-SNAPSHOT',
      createdAfter: inMs(60_000),
      deadline: inMs(100),
    });
    expect(failure.type).toBe('MergeRequestNotFoundError');
  });

  it('rides out GitLab 503s on merge-request calls within one attempt, noting them in its heartbeats, and finds the MR once GitLab recovers', async () => {
    const open = await h.client.listMergeRequests(h.sandbox.layout.gitlab.deploymentsProject, {
      state: 'opened',
      targetBranch: 'dev',
    });
    const tag = open[0]!.sourceBranch.slice('update-dev-'.length);
    await h.sandbox.setScenario('gitlab-flaky');
    try {
      const input = {
        appName: 'example-app',
        targetEnv: 'dev' as const,
        imageTag: tag,
        createdAfter: '2000-01-01T00:00:00.000Z',
        deadline: inMs(30_000),
      };
      // The 429s that follow the 503s (with Retry-After) are absorbed by the client library's own retries.
      const { result, heartbeats } = await h.run(h.acts.awaitMergeRequest, input);
      expect(result).toMatchObject({ iid: open[0]!.iid, attempt: 1 });
      const outages = heartbeats.filter((d) =>
        /^GitLab unreachable: GitLab answered 503/.test((d as { lastSeen?: string }).lastSeen ?? ''),
      );
      expect(outages).toHaveLength(3);
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('never lets a credential into an activity input, result, heartbeat or error, transient failures included', () => {
    expect(credentialsSeen(h)).toEqual([]);
  });
});
