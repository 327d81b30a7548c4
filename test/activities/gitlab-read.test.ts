/**
 * readDeclaredImage and readMergeRequest against the sandbox: what an env branch declares (at its head or at a
 * commit) and what state an MR is in, read through Shepherd's real GitLab client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInEnvCue } from '../../activities/gitlab/declarations/cue.js';
import { setImageInManifest } from '../../activities/gitlab/declarations/kubernetes.js';
import { startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

describe('readDeclaredImage and readMergeRequest against the sandbox', () => {
  let h: GitLabHarness;
  let project: string;
  const declaredInCue = async (ref: string) =>
    imageInEnvCue((await h.client.readFile(project, 'env.cue', ref)).content, 'stage', 'exampleApp');

  beforeAll(async () => {
    h = await startGitLabHarness();
    project = h.sandbox.layout.gitlab.deploymentsProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('reads the image the env branch declares at its head, and at an earlier commit what it declared then', async () => {
    const before = await h.run(h.acts.readDeclaredImage, { appName: 'example-app', env: 'stage' });
    const image = await declaredInCue('stage');
    expect(before.result).toMatchObject({
      env: 'stage',
      image,
      imageTag: image.split(':').at(-1),
      files: [
        { path: 'env.cue', image },
        { path: 'manifests/exampleApp/exampleApp.yaml', image },
      ],
      attempt: 1,
    });
    expect(before.result.commitSha).toBe((await h.client.getBranch(project, 'stage'))?.headSha);

    const { result: opened } = await h.run(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag: '1.0.60-bbbbbbb',
      runMarker: 'read/run',
    });
    const { result: merged } = await h.run(h.acts.mergeMergeRequest, {
      iid: opened.mergeRequest.iid,
      headSha: opened.mergeRequest.headSha,
      runMarker: 'read/run',
    });
    const { result: head } = await h.run(h.acts.readDeclaredImage, { appName: 'example-app', env: 'stage' });
    expect(head).toMatchObject({ commitSha: merged.mergeCommitSha, imageTag: '1.0.60-bbbbbbb' });
    const { result: then } = await h.run(h.acts.readDeclaredImage, {
      appName: 'example-app',
      env: 'stage',
      ref: before.result.commitSha,
    });
    expect(then).toMatchObject({ commitSha: before.result.commitSha, image });
  });

  it('refuses a branch whose manifest declares another image than env.cue, naming both and what to do', async () => {
    const cueImage = await declaredInCue('stage');
    const path = 'manifests/exampleApp/exampleApp.yaml';
    const manifest = await h.client.readFile(project, path, 'stage');
    const other = cueImage.replace(/:[^:]+$/, ':9.9.9-ccccccc');
    await h.client.commitFiles(project, {
      branch: 'hand-edit-stage',
      startBranch: 'stage',
      message: 'edit the stage manifest by hand',
      updates: [
        { filePath: path, content: setImageInManifest(manifest.content, path, undefined, 'example-app', other) },
      ],
    });
    const { mergeRequest } = await h.client.createMergeRequest(project, {
      sourceBranch: 'hand-edit-stage',
      targetBranch: 'stage',
      title: 'Hand edit',
      description: '',
    });
    await h.run(h.acts.mergeMergeRequest, { iid: mergeRequest.iid, headSha: mergeRequest.sha, runMarker: 'read/run' });

    const failure = await h.fail(h.acts.readDeclaredImage, { appName: 'example-app', env: 'stage' });
    expect(failure.type).toBe('ValidationError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      new RegExp(
        `^stage at [0-9a-f]{8} declares ${cueImage} in env.cue but ${other} in ${path}: regenerate the manifests`,
      ),
    );
  });

  it('refuses another app than the configured one before reading anything', async () => {
    const failure = await h.fail(h.acts.readDeclaredImage, { appName: 'other-app', env: 'stage' });
    expect(failure.type).toBe('ValidationError');
    expect(failure.details?.[0]).toMatchObject({ field: 'appName' });
  });

  it('reads an MR opened, then merged with its merge commit and the env it targets', async () => {
    const { result: opened } = await h.run(h.acts.openPromotionMergeRequest, {
      appName: 'example-app',
      sourceEnv: 'stage',
      targetEnv: 'prod',
      imageTag: '1.0.61-ddddddd',
      runMarker: 'read/run',
    });
    const iid = opened.mergeRequest.iid;
    const { result: open } = await h.run(h.acts.readMergeRequest, { iid });
    expect(open).toEqual({
      iid,
      state: 'opened',
      targetEnv: 'prod',
      headSha: opened.mergeRequest.headSha,
      mergeCommitSha: undefined,
      attempt: 1,
    });
    const { result: merged } = await h.run(h.acts.mergeMergeRequest, {
      iid,
      headSha: opened.mergeRequest.headSha,
      runMarker: 'read/run',
    });
    const { result: after } = await h.run(h.acts.readMergeRequest, { iid });
    expect(after).toMatchObject({ state: 'merged', mergeCommitSha: merged.mergeCommitSha, targetEnv: 'prod' });
  });
});
