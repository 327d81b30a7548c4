import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { createGitLabActivities } from '../../activities/gitlab.js';
import { imageInEnvCue } from '../../activities/gitlab/declarations/cue.js';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { Secret } from '../../src/config/secret.js';
import { credentialsSeen, startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

describe('revertMergeRequest, closeMergeRequest and deleteBranch against the sandbox', () => {
  let h: GitLabHarness;
  let project: string;
  const openAndMerge = async (imageTag: string) => {
    const { result: opened } = await h.run(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag,
      runMarker: 'undo/run',
    });
    const { result: merged } = await h.run(h.acts.mergeMergeRequest, {
      iid: opened.mergeRequest.iid,
      headSha: opened.mergeRequest.headSha,
      runMarker: 'undo/run',
    });
    return { iid: opened.mergeRequest.iid, mergeCommitSha: merged.mergeCommitSha };
  };
  const stageImage = async (ref = 'stage') =>
    imageInEnvCue((await h.client.readFile(project, 'env.cue', ref)).content, 'stage', 'exampleApp');

  beforeAll(async () => {
    h = await startGitLabHarness();
    project = h.sandbox.layout.gitlab.deploymentsProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('reverts a merged MR through a revert branch and MR, and a second call reverts nothing', async () => {
    const previous = await stageImage();
    const { iid } = await openAndMerge('1.0.50-aaaaaaa');
    const before = await h.projectState(project);

    const { result } = await h.run(h.acts.revertMergeRequest, { iid, targetEnv: 'stage', runMarker: 'undo/run' });
    expect(result).toMatchObject({ alreadyReverted: false, attempt: 1 });
    expect(result.revertMergeRequest).toMatchObject({
      sourceBranch: `revert-stage-${iid}`,
      targetEnv: 'stage',
      imageTag: previous.split(':').at(-1),
    });
    const after = await h.projectState(project);
    expect(after.counts).toMatchObject({ reverts: before.counts.reverts + 1, merges: before.counts.merges + 1 });
    expect(after.heads.stage).toBe(result.mergeCommitSha);
    expect(await stageImage()).toBe(previous);
    const revertMr = await h.client.getMergeRequest(project, result.revertMergeRequest.iid);
    expect(revertMr.title).toBe('Revert "Promote example-app to stage: 1.0.50-aaaaaaa"');
    expect(revertMr.description).toContain('Shepherd-Run: undo/run');

    const again = await h.run(
      h.acts.revertMergeRequest,
      { iid, targetEnv: 'stage', runMarker: 'undo/run' },
      { attempt: 2 },
    );
    expect(again.result).toEqual({ ...result, alreadyReverted: true, attempt: 2 });
    expect((await h.projectState(project)).counts).toEqual(after.counts);
  });

  it('finishes the revert an earlier attempt started (branch and revert commit made, no MR yet) without reverting twice', async () => {
    const previous = await stageImage();
    const { iid, mergeCommitSha } = await openAndMerge('1.0.51-bbbbbbb');
    await h.client.createBranch(project, `revert-stage-${iid}`, 'stage');
    expect((await h.client.revertCommit(project, mergeCommitSha, `revert-stage-${iid}`)).kind).toBe('reverted');
    const before = await h.projectState(project);

    const { result } = await h.run(
      h.acts.revertMergeRequest,
      { iid, targetEnv: 'stage', runMarker: 'undo/run' },
      { attempt: 2 },
    );
    expect(result.alreadyReverted).toBe(false);
    const after = await h.projectState(project);
    expect(after.counts).toMatchObject({ reverts: before.counts.reverts, merges: before.counts.merges + 1 });
    expect(await stageImage()).toBe(previous);
  });

  it('tells an already-applied revert from a conflict although the client library drops error_code', async () => {
    const { iid, mergeCommitSha } = await openAndMerge('1.0.52-ccccccc');
    await h.client.createBranch(project, `scratch-${iid}`, 'stage');
    expect((await h.client.revertCommit(project, mergeCommitSha, `scratch-${iid}`)).kind).toBe('reverted');
    expect(await h.client.revertCommit(project, mergeCommitSha, `scratch-${iid}`)).toEqual({ kind: 'empty' });
    await h.client.deleteBranch(project, `scratch-${iid}`);
  });

  it('refuses to revert an MR that is not merged', async () => {
    const { result: opened } = await h.run(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag: '1.0.53-ddddddd',
      runMarker: 'undo/run',
    });
    const failure = await h.fail(h.acts.revertMergeRequest, {
      iid: opened.mergeRequest.iid,
      targetEnv: 'stage',
      runMarker: 'undo/run',
    });
    expect(failure).toMatchObject({ type: 'ValidationError', nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ field: 'iid' });
  });

  it('closes an open MR with a note giving the reason, once, however often it is called', async () => {
    const [open] = await h.client.listMergeRequests(project, {
      state: 'opened',
      sourceBranch: 'promote-stage-1.0.53-ddddddd',
    });
    const iid = open!.iid;
    const { result } = await h.run(h.acts.closeMergeRequest, {
      iid,
      reason: 'Stage verification failed.',
      runMarker: 'undo/run',
    });
    expect(result).toEqual({ stateBefore: 'opened', attempt: 1 });
    const again = await h.run(
      h.acts.closeMergeRequest,
      { iid, reason: 'Stage verification failed.', runMarker: 'undo/run' },
      { attempt: 2 },
    );
    expect(again.result).toEqual({ stateBefore: 'closed', attempt: 2 });
    const notes = await h.client.listNotes(project, iid);
    expect(notes.filter((n) => n.body.startsWith('Stage verification failed.'))).toHaveLength(1);
    expect((await h.client.getMergeRequest(project, iid)).state).toBe('closed');
  });

  it('leaves a merged MR untouched when asked to close it', async () => {
    const [merged] = await h.client.listMergeRequests(project, { state: 'merged', targetBranch: 'stage' });
    const notesBefore = await h.client.listNotes(project, merged!.iid);
    const { result } = await h.run(h.acts.closeMergeRequest, {
      iid: merged!.iid,
      reason: 'undo',
      runMarker: 'undo/run',
    });
    expect(result.stateBefore).toBe('merged');
    expect(await h.client.listNotes(project, merged!.iid)).toEqual(notesBefore);
  });

  it('deletes a run branch, reports a missing one as not deleted, and refuses env, default and foreign branches', async () => {
    const { result } = await h.run(h.acts.deleteBranch, { branch: 'promote-stage-1.0.53-ddddddd' });
    expect(result).toEqual({ deleted: true, attempt: 1 });
    expect((await h.projectState(project)).branches).not.toContain('promote-stage-1.0.53-ddddddd');
    const again = await h.run(h.acts.deleteBranch, { branch: 'promote-stage-1.0.53-ddddddd' });
    expect(again.result.deleted).toBe(false);
    for (const branch of ['stage', 'main', 'feature/x', 'promote-', 'revert']) {
      const failure = await h.fail(h.acts.deleteBranch, { branch });
      expect(failure).toMatchObject({ type: 'ValidationError', nonRetryable: true });
      expect(failure.details?.[0]).toMatchObject({ field: 'branch' });
    }
    expect((await h.projectState(project)).branches).toEqual(expect.arrayContaining(['dev', 'stage', 'prod']));
  });

  it('names GITLAB_TOKEN, never its value, when GitLab refuses the token', async () => {
    const wrong = 'glpat-this-is-not-the-token';
    const client = new GitLabClient({ url: h.sandbox.world.info.gitlab.url, token: new Secret(wrong) });
    const acts = createGitLabActivities({ client, layout: h.sandbox.layout, pollIntervalMs: 20 });
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const failure = await env.run(acts.deleteBranch, { branch: 'promote-x' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'AuthenticationError', nonRetryable: true });
    expect((failure as ApplicationFailure).details?.[0]).toMatchObject({
      system: 'gitlab',
      credentialVariable: 'GITLAB_TOKEN',
    });
    expect(JSON.stringify({ m: (failure as Error).message, d: (failure as ApplicationFailure).details })).not.toContain(
      wrong,
    );
  });

  it('never lets a credential into an activity input, result, heartbeat or error', () => {
    expect(h.seen.length).toBeGreaterThan(20);
    expect(credentialsSeen(h)).toEqual([]);
  });
});
