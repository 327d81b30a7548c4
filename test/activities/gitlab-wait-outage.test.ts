import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabActivities } from '../../activities/gitlab.js';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { Secret } from '../../src/config/secret.js';
import { TransientError } from '../../src/domain/errors.js';
import { credentialsSeen, inMs, startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

/**
 * The GitLab waits while GitLab is down: a look GitLab cannot answer saw nothing, so a short outage is ridden out
 * within the attempt and a long one ends the wait at its deadline with WaitTimeoutError naming GitLab, instead of a
 * TransientError that the retry policy would repeat long past the deadline.
 */
describe('GitLab waits through a GitLab outage', () => {
  let h: GitLabHarness;
  let project: string;

  beforeAll(async () => {
    h = await startGitLabHarness({ mergeabilityTimeoutMs: 2_000 });
    project = h.sandbox.layout.gitlab.deploymentsProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  /** Takes GitLab off the network for `forMs` and returns once connections are really refused. */
  async function gitlabDown(forMs: number): Promise<void> {
    await h.sandbox.setScenario({
      name: 'gitlab-down',
      description: `GitLab down for ${forMs} ms`,
      http: [{ system: 'gitlab', down: true, afterMs: 0, forMs }],
    });
    for (let i = 0; i < 200; i++) {
      try {
        await h.client.getBranch(project, 'main');
      } catch (err) {
        if (err instanceof TransientError) return;
        throw err;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('GitLab never went down');
  }

  const openPromotion = async (imageTag: string) =>
    (
      await h.run(h.acts.openPromotionMergeRequest, {
        appName: 'example-app',
        sourceEnv: 'dev',
        targetEnv: 'stage',
        imageTag,
        runMarker: 'outage/run-1',
      })
    ).result.mergeRequest;

  it('awaitMergeRequest rides out an outage shorter than its deadline, noting it in its heartbeats, and finds the MR in one attempt', async () => {
    const mr = await openPromotion('1.0.50-aaaaaaa');
    await gitlabDown(1_500);
    try {
      const input = {
        appName: 'example-app',
        targetEnv: 'stage' as const,
        imageTag: '1.0.50-aaaaaaa',
        createdAfter: '2000-01-01T00:00:00.000Z',
        deadline: inMs(30_000),
      };
      const { result, heartbeats } = await h.run(h.acts.awaitMergeRequest, input);
      expect(result).toMatchObject({ iid: mr.iid, attempt: 1 });
      expect(heartbeats).toContainEqual(
        expect.objectContaining({
          lastSeen: expect.stringMatching(/^GitLab unreachable: GitLab could not be reached/),
        }),
      );
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('awaitMergeRequest ends at its deadline with a non-retryable WaitTimeoutError naming GitLab and its last error when the outage outlasts it', async () => {
    await gitlabDown(120_000);
    try {
      const input = {
        appName: 'example-app',
        targetEnv: 'stage' as const,
        imageTag: '1.0.51-bbbbbbb',
        createdAfter: '2000-01-01T00:00:00.000Z',
        deadline: inMs(2_000),
      };
      const failure = await h.fail(h.acts.awaitMergeRequest, input);
      expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
      expect(failure.message).toMatch(
        /^gave up waiting for merge request promote-stage-1\.0\.51-bbbbbbb into stage after \d+s \(last seen: GitLab unreachable: GitLab could not be reached/,
      );
      expect(failure.details?.[0]).toMatchObject({
        waitingFor: 'merge request promote-stage-1.0.51-bbbbbbb into stage',
        lastSeen: expect.stringMatching(/^GitLab unreachable: /),
      });
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('mergeMergeRequest rides out a short outage during the mergeability wait and merges in one attempt', async () => {
    const mr = await openPromotion('1.0.52-ccccccc');
    await gitlabDown(1_000);
    try {
      const { result, heartbeats } = await h.run(h.acts.mergeMergeRequest, {
        iid: mr.iid,
        headSha: mr.headSha,
        runMarker: 'outage/run-1',
      });
      expect(result).toMatchObject({ alreadyMerged: false, attempt: 1 });
      expect(heartbeats).toContainEqual(
        expect.objectContaining({ iid: mr.iid, lastSeen: expect.stringMatching(/^GitLab unreachable: /) }),
      );
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('mergeMergeRequest ends with a WaitTimeoutError naming GitLab when the outage outlasts the mergeability budget', async () => {
    const mr = await openPromotion('1.0.53-ddddddd');
    await gitlabDown(120_000);
    try {
      const failure = await h.fail(h.acts.mergeMergeRequest, {
        iid: mr.iid,
        headSha: mr.headSha,
        runMarker: 'outage/run-1',
      });
      expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
      expect(failure.message).toMatch(
        new RegExp(
          `^gave up waiting for merge request !${mr.iid} to become mergeable after 2s \\(last seen: GitLab unreachable: `,
        ),
      );
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('still fails at once, not at the deadline, when GitLab refuses the token', async () => {
    const client = new GitLabClient({
      url: h.sandbox.world.info.gitlab.url,
      token: new Secret('not-the-token'),
      timeoutMs: 10_000,
    });
    const acts = createGitLabActivities({ client, layout: h.sandbox.layout, pollIntervalMs: 20 });
    const input = {
      appName: 'example-app',
      targetEnv: 'stage' as const,
      imageTag: '1.0.54-eeeeeee',
      createdAfter: '2000-01-01T00:00:00.000Z',
      deadline: inMs(3_600_000),
    };
    const failure = await h.fail(acts.awaitMergeRequest, input);
    expect(failure).toMatchObject({ type: 'AuthenticationError', nonRetryable: true });
  });

  it('never lets a credential into an activity input, result, heartbeat or error', () => {
    expect(credentialsSeen(h)).toEqual([]);
  });
});
