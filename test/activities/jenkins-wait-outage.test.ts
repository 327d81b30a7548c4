import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TriggerPromoteJobInput } from '../../src/domain/activities.js';
import { TransientError } from '../../src/domain/errors.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';
import { activitiesFor, attempt, clientFor, credentialsOf, failureOf, observable } from './jenkins-support.js';

/**
 * The Jenkins waits while Jenkins is down: a poll Jenkins cannot answer saw nothing, so a short outage is ridden out
 * within the attempt and a long one ends the wait at its deadline with WaitTimeoutError naming Jenkins, instead of a
 * TransientError that the retry policy would repeat long past the deadline.
 */
describe('Jenkins waits through a Jenkins outage', () => {
  let sandbox: TestSandbox;
  const seen: unknown[] = [];
  let tagNo = 0;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  const request = (): TriggerPromoteJobInput => ({
    appName: 'example-app',
    sourceEnv: 'dev',
    targetEnv: 'stage',
    imageTag: `3.0.${++tagNo}-SNAPSHOT-0ae${String(tagNo).padStart(4, '0')}`,
    notBefore: new Date().toISOString(),
    runMarker: 'test/outage',
  });

  /** Queues a promote build and returns its number. */
  async function promoteBuild(): Promise<number> {
    const a = await attempt(activitiesFor(sandbox).triggerPromoteJob, request());
    seen.push(a);
    expect(a.error).toBeUndefined();
    return a.result!.build.buildNumber;
  }

  /** Takes Jenkins off the network for `forMs` and returns once connections are really refused. */
  async function jenkinsDown(forMs: number): Promise<void> {
    await sandbox.setScenario({
      name: 'jenkins-down',
      description: `Jenkins down for ${forMs} ms`,
      http: [{ system: 'jenkins', down: true, afterMs: 0, forMs }],
    });
    const client = clientFor(sandbox);
    for (let i = 0; i < 200; i++) {
      try {
        await client.listQueue(sandbox.layout.jenkins.promoteJob);
      } catch (err) {
        if (err instanceof TransientError) return;
        throw err;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('Jenkins never went down');
  }

  it('awaitJenkinsBuild rides out an outage shorter than its deadline, noting it in its heartbeats, and reports the build in one attempt', async () => {
    const buildNumber = await promoteBuild();
    await jenkinsDown(1_500);
    try {
      const input = {
        appName: 'example-app',
        job: 'promote' as const,
        buildNumber,
        deadline: new Date(Date.now() + 30_000).toISOString(),
      };
      const a = await attempt(activitiesFor(sandbox).awaitJenkinsBuild, input);
      seen.push(input, a);
      expect(a.error).toBeUndefined();
      expect(a.result).toMatchObject({ attempt: 1, result: 'SUCCESS', build: { job: 'promote', buildNumber } });
      expect(a.heartbeats).toContainEqual(
        expect.objectContaining({
          buildNumber,
          lastSeen: expect.stringMatching(/^Jenkins unreachable: Jenkins could not be reached/),
        }),
      );
    } finally {
      await sandbox.setScenario(undefined);
    }
  });

  it('awaitJenkinsBuild ends at its deadline with a non-retryable WaitTimeoutError naming Jenkins and its last error when the outage outlasts it', async () => {
    const buildNumber = await promoteBuild();
    await jenkinsDown(120_000);
    try {
      const input = {
        appName: 'example-app',
        job: 'promote' as const,
        buildNumber,
        deadline: new Date(Date.now() + 2_000).toISOString(),
      };
      const a = await attempt(activitiesFor(sandbox).awaitJenkinsBuild, input);
      seen.push(input, a);
      const failure = failureOf(a);
      expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
      expect(failure.message).toMatch(
        new RegExp(
          `^gave up waiting for Jenkins promote-environment #${buildNumber} to finish after \\d+s \\(last seen: Jenkins unreachable: Jenkins could not be reached`,
        ),
      );
      expect(failure.facts).toMatchObject({
        waitingFor: `Jenkins promote-environment #${buildNumber} to finish`,
        lastSeen: expect.stringMatching(/^Jenkins unreachable: /),
      });
    } finally {
      await sandbox.setScenario(undefined);
    }
  });

  it('findCiBuildForCommit ends at its deadline with a WaitTimeoutError naming Jenkins when Jenkins stays down', async () => {
    await jenkinsDown(120_000);
    try {
      const input = {
        appName: 'example-app',
        commitSha: 'b'.repeat(40),
        deadline: new Date(Date.now() + 1_000).toISOString(),
      };
      const a = await attempt(activitiesFor(sandbox).findCiBuildForCommit, input);
      seen.push(input, a);
      const failure = failureOf(a);
      expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
      expect(failure.facts).toMatchObject({ lastSeen: expect.stringMatching(/^Jenkins unreachable: /) });
    } finally {
      await sandbox.setScenario(undefined);
    }
  });

  it('never lets a credential into an input, result, heartbeat or failure', () => {
    const everything = observable(...seen);
    for (const secret of credentialsOf(sandbox)) expect(everything).not.toContain(secret);
  });
});
