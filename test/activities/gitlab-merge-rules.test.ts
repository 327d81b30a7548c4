/**
 * Shepherd's merge under the merge rules of real installations (part A of issue 13), against the sandbox worlds of
 * the scenarios `ci-must-pass`, `ci-must-pass-fails` and `ff-merge`: waiting for the MR pipeline, failing with the
 * pipeline named, auto-merge, rebasing on `need_rebase` and merging the new head, and the rules a person must settle.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInEnvCue } from '../../activities/gitlab/declarations/cue.js';
import { mergeWhenMergeable } from '../../activities/gitlab/merge-merge-request.js';
import { contextOf } from '../../activities/gitlab/support.js';
import type { GitLabClient, MergeRequestInfo } from '../../src/clients/gitlab/index.js';
import { MergeConflictError } from '../../src/domain/errors.js';
import { OTHER_TEAM_FILE } from '../../src/sandbox/world/merge-rules.js';
import { credentialsSeen, startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

type Env = 'stage' | 'prod';

function promoter(h: () => GitLabHarness) {
  return async (imageTag: string, targetEnv: Env = 'stage') =>
    (
      await h().run(h().acts.openPromotionMergeRequest, {
        appName: 'example-app',
        sourceEnv: targetEnv === 'stage' ? 'dev' : 'stage',
        targetEnv,
        imageTag,
        runMarker: 'promote/rules',
      })
    ).result.mergeRequest;
}

const seenValues = (heartbeats: unknown[]) => heartbeats.map((b) => (b as { lastSeen?: string }).lastSeen);

describe('mergeMergeRequest where the project merges only when the MR pipeline succeeds (ci-must-pass)', () => {
  let h: GitLabHarness;
  let project: string;
  const promote = promoter(() => h);
  beforeAll(async () => {
    h = await startGitLabHarness({ scenario: 'ci-must-pass', timeScale: 0.02, mergeabilityTimeoutMs: 60_000 });
    project = h.sandbox.layout.gitlab.deploymentsProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('waits through ci_still_running, merges once the pipeline succeeded, and GitLab removes the source branch', async () => {
    const mr = await promote('1.0.50-aaaaaaa');
    const { result, heartbeats } = await h.run(h.acts.mergeMergeRequest, {
      iid: mr.iid,
      headSha: mr.headSha,
      runMarker: 'r',
    });
    expect(seenValues(heartbeats)).toContain('ci_still_running');
    expect(result).toMatchObject({ alreadyMerged: false, mergedHeadSha: mr.headSha });
    const merged = await h.client.getMergeRequest(project, mr.iid);
    expect(merged).toMatchObject({ state: 'merged', headPipeline: { status: 'success', sha: mr.headSha } });
    expect(await h.client.getBranch(project, mr.sourceBranch)).toBeUndefined();
    expect((await h.projectState(project)).heads.stage).toBe(result.mergeCommitSha);
  });

  it('arms auto-merge while the pipeline runs when configured, and returns once GitLab merged', async () => {
    const auto = await startGitLabHarness({
      scenario: 'ci-must-pass',
      timeScale: 0.02,
      mergeabilityTimeoutMs: 60_000,
      autoMerge: true,
    });
    try {
      const mr = (
        await auto.run(auto.acts.openPromotionMergeRequest, {
          appName: 'example-app',
          sourceEnv: 'stage',
          targetEnv: 'prod',
          imageTag: '1.0.51-bbbbbbb',
          runMarker: 'r',
        })
      ).result.mergeRequest;
      const { result, heartbeats } = await auto.run(auto.acts.mergeMergeRequest, {
        iid: mr.iid,
        headSha: mr.headSha,
        runMarker: 'r',
      });
      expect(seenValues(heartbeats)).toContain('auto-merge armed: ci_still_running');
      expect(result).toMatchObject({ alreadyMerged: false, mergedHeadSha: mr.headSha });
      const deployments = auto.sandbox.layout.gitlab.deploymentsProject;
      const gitlab = auto.sandbox.world.gitlab;
      const model = gitlab.mergeRequests.get(gitlab.project(deployments), mr.iid);
      expect(gitlab.mergeRequests.notes(gitlab.project(deployments), mr.iid).map((n) => n.body)).toContain(
        `enabled an automatic merge when the pipeline for ${mr.headSha.slice(0, 8)} succeeds`,
      );
      expect(model.state).toBe('merged');
    } finally {
      await auto.sandbox.stop();
    }
  });
});

describe('mergeMergeRequest when the MR pipeline fails (ci-must-pass-fails)', () => {
  let h: GitLabHarness;
  let project: string;
  const promote = promoter(() => h);
  beforeAll(async () => {
    h = await startGitLabHarness({ scenario: 'ci-must-pass-fails', timeScale: 0.02, mergeabilityTimeoutMs: 60_000 });
    project = h.sandbox.layout.gitlab.deploymentsProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('fails with MergeRequestPipelineFailedError naming the pipeline, without merging', async () => {
    const mr = await promote('1.0.52-ccccccc');
    const mergesBefore = (await h.projectState(project)).counts.merges;
    const failure = await h.fail(h.acts.mergeMergeRequest, { iid: mr.iid, headSha: mr.headSha, runMarker: 'r' });
    const pipeline = (await h.client.getMergeRequest(project, mr.iid)).headPipeline!;
    expect(failure).toMatchObject({ type: 'MergeRequestPipelineFailedError', nonRetryable: true });
    expect(failure.details?.[0]).toEqual({
      mergeRequestIid: mr.iid,
      mergeRequestUrl: mr.webUrl,
      pipelineId: pipeline.id,
      status: 'failed',
      pipelineUrl: pipeline.webUrl,
    });
    expect(failure.message).toContain(`its pipeline ${pipeline.webUrl} failed`);
    expect((await h.projectState(project)).counts.merges).toBe(mergesBefore);
  });

  it('names a draft MR as a rule to settle, with the MR URL, without waiting for its pipeline', async () => {
    const mr = await promote('1.0.53-ddddddd');
    const gitlab = h.sandbox.world.gitlab;
    gitlab.mergeRequests.update(gitlab.project(project), mr.iid, gitlab.findUser('root')!, {
      title: 'Draft: not yet',
    });
    const failure = await h.fail(h.acts.mergeMergeRequest, { iid: mr.iid, headSha: mr.headSha, runMarker: 'r' });
    expect(failure).toMatchObject({ type: 'MergeConflictError', nonRetryable: true });
    expect(failure.details?.[0]).toEqual({
      mergeRequestIid: mr.iid,
      detailedMergeStatus: 'draft_status',
      webUrl: mr.webUrl,
    });
    expect(failure.message).toContain('it is marked as a draft');
    expect(failure.message).toContain(mr.webUrl);
  });

  it('never lets a credential into an activity input, result, heartbeat or error', () => {
    expect(credentialsSeen(h)).toEqual([]);
  });
});

describe('mergeMergeRequest with the fast-forward merge method while the env branch moves (ff-merge)', () => {
  let h: GitLabHarness;
  let project: string;
  const promote = promoter(() => h);
  beforeAll(async () => {
    h = await startGitLabHarness({ scenario: 'ff-merge', timeScale: 0.02, mergeabilityTimeoutMs: 60_000 });
    project = h.sandbox.layout.gitlab.deploymentsProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  it('rebases on need_rebase, merges the rebased head fast-forward, and a revert of it works the same way', async () => {
    const before = await h.client.readFile(project, 'env.cue', 'stage');
    const mr = await promote('1.0.54-eeeeeee');
    const { result, heartbeats } = await h.run(h.acts.mergeMergeRequest, {
      iid: mr.iid,
      headSha: mr.headSha,
      runMarker: 'r',
    });
    expect(seenValues(heartbeats)).toContain('need_rebase: rebase requested');
    expect(result.mergedHeadSha).not.toBe(mr.headSha);
    // Fast-forward: no merge commit; the env branch is the rebased head, which has the other team's note too.
    expect(result.mergeCommitSha).toBe(result.mergedHeadSha);
    const merged = await h.client.getMergeRequest(project, mr.iid);
    expect(merged).toMatchObject({ state: 'merged', mergeCommitSha: undefined, sha: result.mergedHeadSha });
    expect((await h.projectState(project)).heads.stage).toBe(result.mergeCommitSha);
    expect((await h.client.readFile(project, OTHER_TEAM_FILE, 'stage')).content).toContain(`!${mr.iid}`);

    const again = await h.run(
      h.acts.mergeMergeRequest,
      { iid: mr.iid, headSha: mr.headSha, runMarker: 'r' },
      { attempt: 2, heartbeatDetails: heartbeats.at(-1) },
    );
    expect(again.result).toMatchObject({ alreadyMerged: true, mergeCommitSha: result.mergeCommitSha });

    const { result: reverted } = await h.run(h.acts.revertMergeRequest, {
      iid: mr.iid,
      targetEnv: 'stage',
      runMarker: 'undo/r',
    });
    const cue = await h.client.readFile(project, 'env.cue', reverted.mergeCommitSha);
    expect(imageInEnvCue(cue.content, 'stage', 'exampleApp')).toBe(
      imageInEnvCue(before.content, 'stage', 'exampleApp'),
    );
    expect((await h.projectState(project)).heads.stage).toBe(reverted.mergeCommitSha);
  });

  it('refuses a rebased head that no longer carries the approved change', async () => {
    const mr = await promote('1.0.55-fffffff', 'prod');
    const gitlab = h.sandbox.world.gitlab;
    // Someone rewrites the MR's image while "our" rebase runs: the new head is not what was approved.
    const other = 'docker.jmann.local/p2c/example-app:9.9.9-0000000';
    const cue = gitlab.readFile(project, mr.sourceBranch, 'env.cue')!;
    gitlab.commit(project, {
      branch: mr.sourceBranch,
      message: 'tamper',
      actions: [
        {
          action: 'update',
          filePath: 'env.cue',
          content: Buffer.from(cue.replaceAll('example-app:1.0.55-fffffff', other.split('/').at(-1)!)),
        },
      ],
    });
    const failure = await h.fail(
      h.acts.mergeMergeRequest,
      { iid: mr.iid, headSha: mr.headSha, runMarker: 'r' },
      { attempt: 2, heartbeatDetails: { startedAt: Date.now(), polls: 3, iid: mr.iid, rebasing: true } },
    );
    expect(failure).toMatchObject({ type: 'MergeConflictError', nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ detailedMergeStatus: 'rebase_changed_content' });
    expect((await h.client.getMergeRequest(project, mr.iid)).state).toBe('opened');
  });
});

describe('mergeWhenMergeable: the rules only a person can settle', () => {
  let h: GitLabHarness;
  beforeAll(async () => {
    h = await startGitLabHarness();
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  /** A GitLab that reports `status` for an open MR whose head is the approved one. */
  function reporting(status: string): GitLabClient {
    const mr: MergeRequestInfo = {
      iid: 7,
      state: 'opened',
      title: 'Promote example-app to prod: 1.0.60-aaaaaaa',
      description: '',
      sourceBranch: 'promote-prod-1.0.60-aaaaaaa',
      targetBranch: 'prod',
      webUrl: 'https://gitlab.example.com/p2c/k8s-deployments/-/merge_requests/7',
      sha: 'a'.repeat(40),
      detailedMergeStatus: status,
      mergeCommitSha: undefined,
      createdAt: '2026-01-01T00:00:00.000Z',
      headPipeline: undefined,
      mergeError: undefined,
      rebaseInProgress: undefined,
      autoMergeArmed: false,
    };
    return {
      getMergeRequest: () => Promise.resolve(mr),
      mergeMergeRequest: () => Promise.reject(new Error('must not merge')),
      rebaseMergeRequest: () => Promise.reject(new Error('must not rebase')),
    } as unknown as GitLabClient;
  }

  it.each([
    ['discussions_not_resolved', 'all its discussions must be resolved first'],
    ['draft_status', 'it is marked as a draft'],
    ['blocked_status', 'it is blocked by another merge request'],
    ['merge_request_blocked', 'it is blocked by another merge request'],
    ['requested_changes', 'a reviewer requested changes'],
    ['status_checks_must_pass', 'its external status checks must pass'],
    ['external_status_checks', 'its external status checks must pass'],
    ['jira_association_missing', 'must name a Jira issue'],
    ['conflict', 'it has conflicts'],
    ['broken_status', 'it has conflicts'],
    ['security_policy_violations', 'security policy'],
    ['some_future_check', 'GitLab reports "some_future_check"'],
  ])('ends with a non-retryable MergeConflictError for %s, naming the rule and the MR', async (status, words) => {
    const ctx = contextOf({ client: reporting(status), layout: h.sandbox.layout, pollIntervalMs: 10 });
    const error = await mergeWhenMergeable(ctx, { resumed: undefined, heartbeat: () => {} }, 7, 'a'.repeat(40)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(MergeConflictError);
    const conflict = error as MergeConflictError;
    expect(conflict.facts).toMatchObject({ mergeRequestIid: 7, detailedMergeStatus: status });
    expect(conflict.message).toContain(words);
    expect(conflict.message).toContain('https://gitlab.example.com/p2c/k8s-deployments/-/merge_requests/7');
  });

  it.each(['checking', 'unchecked', 'preparing', 'approvals_syncing', 'ci_still_running', 'not_approved'])(
    'waits on %s until the budget is spent',
    async (status) => {
      const ctx = contextOf({ client: reporting(status), layout: h.sandbox.layout, pollIntervalMs: 10 });
      const seen: unknown[] = [];
      // pollUntil pauses through the activity context (cancellation), so the wait runs inside one.
      const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
      const error = await env
        .run(() =>
          mergeWhenMergeable(ctx, { resumed: undefined, heartbeat: (d) => seen.push(d) }, 7, 'a'.repeat(40), {
            deadline: Date.now() + 100,
          }),
        )
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(error).toMatchObject({ type: 'WaitTimeoutError', facts: { lastSeen: status } });
      expect(seen.length).toBeGreaterThan(0);
    },
  );
});
