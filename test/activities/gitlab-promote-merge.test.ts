import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInEnvCue } from '../../activities/gitlab/declarations/cue.js';
import { credentialsSeen, startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

/**
 * Native promotion MRs and their merge. A slower clock (timeScale 0.2) keeps GitLab's mergeability check running
 * for a visible while (600 ms), so the wait through `checking` is really exercised.
 */
describe('openPromotionMergeRequest and mergeMergeRequest against the sandbox', () => {
  let h: GitLabHarness;
  let project: string;
  const promote = (imageTag: string, targetEnv: 'stage' | 'prod' = 'stage', runMarker = 'promote/run-1') =>
    h.run(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: targetEnv === 'stage' ? 'dev' : 'stage',
      targetEnv,
      imageTag,
      runMarker,
    });

  beforeAll(async () => {
    h = await startGitLabHarness({ timeScale: 0.2, mergeabilityTimeoutMs: 60_000 });
    project = h.sandbox.layout.gitlab.deploymentsProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('opens a promotion MR on promote-{env}-{tag} that changes the image in env.cue and the manifest', async () => {
    const { result } = await promote('1.0.40-aaaaaaa');
    expect(result).toMatchObject({ branchCreated: true, mergeRequestCreated: true, attempt: 1 });
    expect(result.mergeRequest).toMatchObject({
      sourceBranch: 'promote-stage-1.0.40-aaaaaaa',
      targetEnv: 'stage',
      imageTag: '1.0.40-aaaaaaa',
    });
    const image = 'docker.jmann.local/p2c/example-app:1.0.40-aaaaaaa';
    const cue = await h.client.readFile(project, 'env.cue', 'promote-stage-1.0.40-aaaaaaa');
    expect(imageInEnvCue(cue.content, 'stage', 'exampleApp')).toBe(image);
    const manifest = await h.client.readFile(
      project,
      'manifests/exampleApp/exampleApp.yaml',
      'promote-stage-1.0.40-aaaaaaa',
    );
    expect(manifest.content).toContain(`image: ${image}`);
    const mr = await h.client.getMergeRequest(project, result.mergeRequest.iid);
    expect(mr.title).toBe('Promote example-app to stage: 1.0.40-aaaaaaa');
    expect(mr.description).toContain('Shepherd-Run: promote/run-1');
    expect(mr.sha).toBe(result.mergeRequest.headSha);
  });

  it('reuses the branch and the open MR instead of opening a second one when retried', async () => {
    const before = await h.projectState(project);
    const { result } = await promote('1.0.40-aaaaaaa');
    expect(result).toMatchObject({ branchCreated: false, mergeRequestCreated: false });
    const after = await h.projectState(project);
    expect(after.counts.opened).toBe(before.counts.opened);
    expect(after.commitsPerBranch['promote-stage-1.0.40-aaaaaaa']).toBe(
      before.commitsPerBranch['promote-stage-1.0.40-aaaaaaa'],
    );
  });

  it("merges with the sha guard after waiting through GitLab's mergeability check, and a second call merges nothing", async () => {
    const { result: opened } = await promote('1.0.41-bbbbbbb', 'prod');
    const mergesBefore = (await h.projectState(project)).counts.merges;
    const { result, heartbeats } = await h.run(h.acts.mergeMergeRequest, {
      iid: opened.mergeRequest.iid,
      headSha: opened.mergeRequest.headSha,
      runMarker: 'promote/run-1',
    });
    expect(result).toMatchObject({ alreadyMerged: false, attempt: 1 });
    expect(heartbeats.some((b) => (b as { lastSeen?: string }).lastSeen === 'checking')).toBe(true);
    const after = await h.projectState(project);
    expect(after.counts.merges).toBe(mergesBefore + 1);
    expect(after.heads.prod).toBe(result.mergeCommitSha);

    const again = await h.run(
      h.acts.mergeMergeRequest,
      { iid: opened.mergeRequest.iid, headSha: opened.mergeRequest.headSha, runMarker: 'promote/run-1' },
      { attempt: 2 },
    );
    expect(again.result).toEqual({
      mergeCommitSha: result.mergeCommitSha,
      mergedHeadSha: opened.mergeRequest.headSha,
      alreadyMerged: true,
      attempt: 2,
    });
    expect((await h.projectState(project)).counts.merges).toBe(mergesBefore + 1);
  });

  it("continues the earlier attempt's wait when retried mid-wait, and gives up once the shared budget is spent", async () => {
    const { result: opened } = await promote('1.0.42-ccccccc', 'prod');
    const iid = opened.mergeRequest.iid;
    // The attempt that died had waited 10 minutes already: the retry must not start a fresh 60 s budget.
    const startedAt = Date.now() - 600_000;
    const failure = await h.fail(
      h.acts.mergeMergeRequest,
      { iid, headSha: opened.mergeRequest.headSha, runMarker: 'r' },
      { attempt: 3, heartbeatDetails: { startedAt, polls: 12, lastSeen: 'checking', iid } },
    );
    expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ lastSeen: 'checking' });
    expect(h.seen.at(-1)).toEqual([{ startedAt, polls: 13, lastSeen: 'checking', iid }]);

    const { result, heartbeats } = await h.run(
      h.acts.mergeMergeRequest,
      { iid, headSha: opened.mergeRequest.headSha, runMarker: 'r' },
      { attempt: 4, heartbeatDetails: { startedAt: Date.now(), polls: 2, lastSeen: 'checking', iid } },
    );
    expect(result.alreadyMerged).toBe(false);
    expect(heartbeats[0]).toMatchObject({ polls: 3, iid });
  });

  it('waits for mergeability up to the deadline the workflow gives, not the worker-wide timeout', async () => {
    const { result: opened } = await promote('1.0.43-ddddddd', 'prod');
    const iid = opened.mergeRequest.iid;
    // GitLab is still checking (600 ms); a deadline already past ends the wait at once with what it saw last.
    const failure = await h.fail(h.acts.mergeMergeRequest, {
      iid,
      headSha: opened.mergeRequest.headSha,
      runMarker: 'r',
      deadline: new Date(Date.now() - 1_000).toISOString(),
    });
    expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ waitingFor: `merge request !${iid} to become mergeable` });

    // A deadline longer than the worker's 60 s mergeability timeout is honoured: the retry of an attempt that began
    // two minutes ago still merges.
    const { result } = await h.run(
      h.acts.mergeMergeRequest,
      {
        iid,
        headSha: opened.mergeRequest.headSha,
        runMarker: 'r',
        deadline: new Date(Date.now() + 600_000).toISOString(),
      },
      { attempt: 2, heartbeatDetails: { startedAt: Date.now() - 120_000, polls: 40, lastSeen: 'checking', iid } },
    );
    expect(result.alreadyMerged).toBe(false);
  });

  it('fails fast with MergeConflictError and the detailed status when the MR conflicts', async () => {
    await h.sandbox.setScenario('stage-mr-conflict');
    try {
      const { result: opened } = await promote('1.0.43-ddddddd');
      const mergesBefore = (await h.projectState(project)).counts.merges;
      const failure = await h.fail(h.acts.mergeMergeRequest, {
        iid: opened.mergeRequest.iid,
        headSha: opened.mergeRequest.headSha,
        runMarker: 'r',
      });
      expect(failure).toMatchObject({ type: 'MergeConflictError', nonRetryable: true });
      expect(failure.details?.[0]).toEqual({
        mergeRequestIid: opened.mergeRequest.iid,
        detailedMergeStatus: 'conflict',
        webUrl: opened.mergeRequest.webUrl,
      });
      expect(failure.message).toContain('it has conflicts with its target branch');
      expect((await h.projectState(project)).counts.merges).toBe(mergesBefore);
      await h.run(h.acts.closeMergeRequest, { iid: opened.mergeRequest.iid, reason: 'conflict', runMarker: 'r' });
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('fails fast with MergeConflictError when someone pushes to the source branch just before the merge', async () => {
    const { result: opened } = await promote('1.0.44-eeeeeee');
    await h.sandbox.setScenario('mr-head-moves');
    try {
      const mergesBefore = (await h.projectState(project)).counts.merges;
      const failure = await h.fail(h.acts.mergeMergeRequest, {
        iid: opened.mergeRequest.iid,
        headSha: opened.mergeRequest.headSha,
        runMarker: 'r',
      });
      expect(failure).toMatchObject({ type: 'MergeConflictError', nonRetryable: true });
      expect(failure.details?.[0]).toMatchObject({
        mergeRequestIid: opened.mergeRequest.iid,
        detailedMergeStatus: 'head_moved',
      });
      expect((await h.projectState(project)).counts.merges).toBe(mergesBefore);
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('refuses an illegal promotion or a malformed tag with a ValidationError and creates nothing', async () => {
    const before = await h.projectState(project);
    const illegal = await h.fail(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: 'dev',
      targetEnv: 'prod',
      imageTag: '1.0.0-x',
      runMarker: 'r',
    });
    expect(illegal).toMatchObject({ type: 'ValidationError', nonRetryable: true });
    expect(illegal.details?.[0]).toMatchObject({ field: 'targetEnv' });
    const badTag = await h.fail(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag: '../evil',
      runMarker: 'r',
    });
    expect(badTag.details?.[0]).toMatchObject({ field: 'imageTag' });
    const after = await h.projectState(project);
    expect(after.branches).toEqual(before.branches);
    expect(after.counts).toEqual(before.counts);
  });

  it('reports GitLab being unreachable to a quick call as a retryable TransientError', async () => {
    await h.sandbox.setScenario('gitlab-outage');
    try {
      let failure;
      for (let i = 0; i < 200 && failure?.type !== 'TransientError'; i++) {
        failure = await h.fail(h.acts.closeMergeRequest, { iid: 999, reason: 'r', runMarker: 'r' });
        if (failure.type !== 'TransientError') await new Promise((r) => setTimeout(r, 50));
      }
      expect(failure).toMatchObject({ type: 'TransientError', nonRetryable: false });
      expect(failure?.message).toMatch(/could not be reached/);
    } finally {
      await h.sandbox.setScenario(undefined);
    }
  });

  it('never lets a credential into an activity input, result, heartbeat or error, transient failures included', () => {
    expect(credentialsSeen(h)).toEqual([]);
  });
});
