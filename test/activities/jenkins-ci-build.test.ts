import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { AwaitJenkinsBuildInput, FindCiBuildForCommitInput } from '../../src/domain/activities.js';
import {
  activitiesFor,
  attempt,
  buildsOf,
  credentialsOf,
  failureOf,
  farDeadline,
  jenkinsIdle,
  observable,
  pushVersionBump,
  jenkinsSuite,
} from './jenkins-support.js';

describe('findCiBuildForCommit and awaitJenkinsBuild against the suite.sandbox Jenkins', () => {
  const suite = jenkinsSuite({ tag: (n) => `0.0.${n}`, runMarker: 'test/ci-build' });
  const { seen } = suite;

  const find = (commitSha: string, deadline = farDeadline()): FindCiBuildForCommitInput => ({
    appName: 'example-app',
    commitSha,
    deadline,
  });
  const awaitInput = (
    buildNumber: number,
    job: AwaitJenkinsBuildInput['job'] = 'app-ci',
    deadline = farDeadline(),
  ): AwaitJenkinsBuildInput => ({ appName: 'example-app', job, buildNumber, deadline });

  it('finds the CI build that checked out the pushed commit, then awaits its SUCCESS with duration and URL', async () => {
    const sha = await pushVersionBump(suite.sandbox);
    const acts = activitiesFor(suite.sandbox);
    const found = await attempt(acts.findCiBuildForCommit, find(sha));
    seen.push(found);
    expect(found.error).toBeUndefined();
    expect(found.result).toMatchObject({ attempt: 1, job: 'app-ci', buildNumber: expect.any(Number) });

    const awaited = await attempt(acts.awaitJenkinsBuild, awaitInput(found.result!.buildNumber));
    seen.push(awaited);
    expect(awaited.result).toMatchObject({
      attempt: 1,
      result: 'SUCCESS',
      build: { job: 'app-ci', buildNumber: found.result!.buildNumber, url: found.result!.url },
    });
    expect(awaited.result!.durationMs).toBeGreaterThan(0);
    for (const beat of awaited.heartbeats)
      expect(beat).toMatchObject({ buildNumber: found.result!.buildNumber, lastSeen: expect.any(String) });

    const builds = await buildsOf(suite.sandbox, suite.sandbox.layout.jenkins.appJob);
    expect(builds.find((b) => b.number === found.result!.buildNumber)).toMatchObject({ result: 'SUCCESS' });
  });

  it('accepts a short commit sha', async () => {
    const sha = await pushVersionBump(suite.sandbox);
    const found = await attempt(activitiesFor(suite.sandbox).findCiBuildForCommit, find(sha.slice(0, 8)));
    seen.push(found);
    expect(found.result).toMatchObject({ job: 'app-ci', buildNumber: expect.any(Number) });
  });

  it('retried, resumes after the builds an earlier attempt ruled out instead of rescanning them', async () => {
    const sha = await pushVersionBump(suite.sandbox);
    const acts = activitiesFor(suite.sandbox);
    const first = await attempt(acts.findCiBuildForCommit, find(sha));
    const n = first.result!.buildNumber;
    // An attempt that had already ruled out everything up to #n does not look at #n again: it waits for a newer build.
    const resumed = await attempt(acts.findCiBuildForCommit, find(sha, new Date(Date.now() - 1).toISOString()), {
      attempt: 2,
      heartbeatDetails: { inspectedThrough: n, since: Date.now() - 60_000 },
    });
    seen.push(first, resumed);
    const failure = failureOf(resumed);
    expect(failure.type).toBe('WaitTimeoutError');
    expect(failure.facts).toMatchObject({
      lastSeen: expect.stringContaining(`no build of example-app/main after #${n}.`),
    });
  });

  it('gives up at the deadline with a WaitTimeoutError that says what it saw last', async () => {
    const neverBuilt = 'f'.repeat(40);
    const a = await attempt(
      activitiesFor(suite.sandbox).findCiBuildForCommit,
      find(neverBuilt, new Date(Date.now() - 1).toISOString()),
    );
    seen.push(a);
    const failure = failureOf(a);
    expect(failure.type).toBe('WaitTimeoutError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toMatchObject({
      waitingFor: expect.stringContaining('example-app/main'),
      lastSeen: expect.stringContaining('other commits'),
    });
    expect(a.heartbeats.at(-1)).toMatchObject({ inspectedThrough: expect.any(Number) });
  });

  it('retried after the worker died mid-wait, resumes from its heartbeat and reports the same build', async () => {
    const sha = await pushVersionBump(suite.sandbox);
    const acts = activitiesFor(suite.sandbox);
    const found = await attempt(acts.findCiBuildForCommit, find(sha));
    const n = found.result!.buildNumber;
    const first = await attempt(acts.awaitJenkinsBuild, awaitInput(n), { onHeartbeat: (_d, env) => env.cancel() });
    expect(first.error).toBeInstanceOf(CancelledFailure);
    const retry = await attempt(acts.awaitJenkinsBuild, awaitInput(n), {
      attempt: 2,
      heartbeatDetails: first.heartbeats.at(-1),
    });
    seen.push(first, retry);
    expect(retry.result).toMatchObject({ attempt: 2, result: 'SUCCESS', build: { buildNumber: n } });
    expect(
      (await buildsOf(suite.sandbox, suite.sandbox.layout.jenkins.appJob)).filter((b) => b.number === n),
    ).toHaveLength(1);
  });

  it('stops promptly with a CancelledFailure when the wait is cancelled', async () => {
    const sha = await pushVersionBump(suite.sandbox);
    const acts = activitiesFor(suite.sandbox);
    const found = await attempt(acts.findCiBuildForCommit, find(sha));
    const a = await attempt(acts.awaitJenkinsBuild, awaitInput(found.result!.buildNumber), {
      onHeartbeat: (_d, env) => env.cancel(),
    });
    expect(a.result).toBeUndefined();
    expect(a.error).toBeInstanceOf(CancelledFailure);
    expect(a.heartbeats).toHaveLength(1);
  });

  it('ends with a non-retryable BuildFailedError carrying the console tail when the CI build fails', async () => {
    await jenkinsIdle(suite.sandbox);
    await suite.sandbox.setScenario('ci-build-fails');
    try {
      const sha = await pushVersionBump(suite.sandbox);
      const acts = activitiesFor(suite.sandbox);
      const found = await attempt(acts.findCiBuildForCommit, find(sha));
      const a = await attempt(acts.awaitJenkinsBuild, awaitInput(found.result!.buildNumber));
      seen.push(found, a);
      const failure = failureOf(a);
      expect(failure.type).toBe('BuildFailedError');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.facts).toMatchObject({
        job: 'example-app/main',
        buildNumber: found.result!.buildNumber,
        result: 'FAILURE',
        url: found.result!.url,
      });
      const tail = String(failure.facts.consoleTail);
      expect(tail).toContain('[ERROR] BUILD FAILURE');
      expect(tail.split('\n').at(-1)).toBe('Finished: FAILURE');
      expect(tail.split('\n').length).toBeLessThanOrEqual(10);
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it.each([
    ['failure', 'ends with BuildFailedError (result UNSTABLE)'],
    ['success', 'returns the build as UNSTABLE'],
  ] as const)('with JENKINS_UNSTABLE_BUILDS=%s, a CI build that ends UNSTABLE %s', async (unstableBuilds, _outcome) => {
    await jenkinsIdle(suite.sandbox);
    await suite.sandbox.setScenario('ci-build-unstable');
    try {
      const sha = await pushVersionBump(suite.sandbox);
      const acts = activitiesFor(suite.sandbox);
      const found = await attempt(acts.findCiBuildForCommit, find(sha));
      const input = { ...awaitInput(found.result!.buildNumber), unstableBuilds };
      const a = await attempt(acts.awaitJenkinsBuild, input);
      seen.push(found, a);
      if (unstableBuilds === 'success') {
        expect(a.error).toBeUndefined();
        expect(a.result).toMatchObject({ result: 'UNSTABLE', build: { buildNumber: found.result!.buildNumber } });
      } else {
        const failure = failureOf(a);
        expect(failure.type).toBe('BuildFailedError');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.facts).toMatchObject({ result: 'UNSTABLE', buildNumber: found.result!.buildNumber });
        expect(String(failure.facts.consoleTail)).toContain('changed build result to UNSTABLE');
      }
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('counts UNSTABLE as a failure when the run does not say otherwise (runs started before JENKINS_UNSTABLE_BUILDS)', async () => {
    await jenkinsIdle(suite.sandbox);
    await suite.sandbox.setScenario('ci-build-unstable');
    try {
      const sha = await pushVersionBump(suite.sandbox);
      const acts = activitiesFor(suite.sandbox);
      const found = await attempt(acts.findCiBuildForCommit, find(sha));
      const a = await attempt(acts.awaitJenkinsBuild, awaitInput(found.result!.buildNumber));
      seen.push(found, a);
      expect(failureOf(a).facts).toMatchObject({ result: 'UNSTABLE' });
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('ends with BuildFailedError when the promote job fails, and with BuildCancelledError when a build is aborted', async () => {
    await jenkinsIdle(suite.sandbox);
    await suite.sandbox.setScenario('promote-job-fails');
    const acts = activitiesFor(suite.sandbox);
    const promote = {
      appName: 'example-app',
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag: '1.0.99-SNAPSHOT-fa11ed0',
      notBefore: new Date().toISOString(),
      runMarker: 'test/await',
    } as const;
    try {
      const triggered = await attempt(acts.triggerPromoteJob, promote);
      const a = await attempt(acts.awaitJenkinsBuild, awaitInput(triggered.result!.build.buildNumber, 'promote'));
      seen.push(promote, triggered, a);
      const failure = failureOf(a);
      expect(failure.type).toBe('BuildFailedError');
      expect(failure.facts).toMatchObject({
        job: 'promote-environment',
        result: 'FAILURE',
        consoleTail: expect.stringContaining('git push failed'),
      });
    } finally {
      await suite.sandbox.setScenario(undefined);
    }

    const second = await attempt(acts.triggerPromoteJob, {
      ...promote,
      imageTag: '1.0.99-SNAPSHOT-ab0e7ed',
      notBefore: new Date().toISOString(),
    });
    const n = second.result!.build.buildNumber;
    suite.sandbox.world.jenkins.stopBuild(suite.sandbox.layout.jenkins.promoteJob, n, 'someone');
    const aborted = await attempt(acts.awaitJenkinsBuild, awaitInput(n, 'promote'));
    seen.push(second, aborted);
    const failure = failureOf(aborted);
    expect(failure.type).toBe('BuildCancelledError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toMatchObject({ job: 'promote-environment', buildNumber: n });
  });

  it('names the build in a NotFoundError when it does not exist', async () => {
    const a = await attempt(activitiesFor(suite.sandbox).awaitJenkinsBuild, awaitInput(9999));
    seen.push(a);
    const failure = failureOf(a);
    expect(failure.type).toBe('NotFoundError');
    expect(failure.facts).toMatchObject({ system: 'jenkins', kind: 'build', name: 'example-app/main #9999' });
  });

  it('never lets a credential into a result, heartbeat or failure', () => {
    expect(seen.length).toBeGreaterThan(10);
    const text = observable(...seen);
    for (const secret of credentialsOf(suite.sandbox)) expect(text).not.toContain(secret);
  });
});
