import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/domain/errors.js';
import { WAIT_BUDGETS } from '../../src/domain/wait-budgets.js';
import {
  activitiesFor,
  attempt,
  clientFor,
  credentialsOf,
  failureOf,
  observable,
  jenkinsSuite,
} from './jenkins-support.js';

/**
 * The Jenkins waits while Jenkins is down: a poll Jenkins cannot answer saw nothing, so a short outage is ridden out
 * within the attempt and a long one ends the wait at its deadline with WaitTimeoutError naming Jenkins, instead of a
 * TransientError that the retry policy would repeat long past the deadline.
 */
describe('Jenkins waits through a Jenkins outage', () => {
  const suite = jenkinsSuite({
    tag: (n) => `3.0.${n}-SNAPSHOT-0ae${String(n).padStart(4, '0')}`,
    runMarker: 'test/outage',
  });
  const { seen, request } = suite;

  /** Queues a promote build and returns its number. */
  async function promoteBuild(): Promise<number> {
    const a = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, request());
    seen.push(a);
    expect(a.error).toBeUndefined();
    return a.result!.build.buildNumber;
  }

  /** Takes Jenkins off the network for `forMs` and returns once connections are really refused. */
  async function jenkinsDown(forMs: number): Promise<void> {
    await suite.sandbox.setScenario({
      name: 'jenkins-down',
      description: `Jenkins down for ${forMs} ms`,
      http: [{ system: 'jenkins', down: true, afterMs: 0, forMs }],
    });
    const client = clientFor(suite.sandbox);
    for (let i = 0; i < 200; i++) {
      try {
        await client.listQueue(suite.sandbox.layout.jenkins.promoteJob);
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
      const a = await attempt(activitiesFor(suite.sandbox).awaitJenkinsBuild, input);
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
      await suite.sandbox.setScenario(undefined);
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
      const a = await attempt(activitiesFor(suite.sandbox).awaitJenkinsBuild, input);
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
      await suite.sandbox.setScenario(undefined);
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
      const a = await attempt(activitiesFor(suite.sandbox).findCiBuildForCommit, input);
      seen.push(input, a);
      const failure = failureOf(a);
      expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
      expect(failure.facts).toMatchObject({ lastSeen: expect.stringMatching(/^Jenkins unreachable: /) });
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('triggerPromoteJob follows its queue item through an outage and ends at the given deadline with a WaitTimeoutError naming Jenkins', async () => {
    const first = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, request());
    seen.push(first);
    const queueItemId = first.result!.queueItemId;
    await jenkinsDown(120_000);
    try {
      const input = { ...request(), deadline: new Date(Date.now() + 1_000).toISOString() };
      const a = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, input, {
        attempt: 2,
        heartbeatDetails: { queueItemId, startedAt: Date.now() },
      });
      seen.push(input, a);
      const failure = failureOf(a);
      expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
      expect(failure.facts).toMatchObject({
        waitingFor: `Jenkins promote-environment queue item ${queueItemId} to start its build`,
        lastSeen: expect.stringMatching(/^Jenkins unreachable: /),
      });
      expect(a.heartbeats).toContainEqual(
        expect.objectContaining({ queueItemId, lastSeen: expect.stringMatching(/^Jenkins unreachable: /) }),
      );
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('triggerPromoteJob without a deadline gives its queue wait the CI-build-start budget, counted from the first attempt', async () => {
    const first = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, request());
    seen.push(first);
    const queueItemId = first.result!.queueItemId;
    await jenkinsDown(120_000);
    try {
      // The first attempt started the budget almost a whole budget ago: the retry has about a second left.
      const startedAt = Date.now() - WAIT_BUDGETS.ciBuildStart * 1000 + 1_000;
      const a = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, request(), {
        attempt: 3,
        heartbeatDetails: { queueItemId, startedAt },
      });
      seen.push(a);
      const failure = failureOf(a);
      expect(failure).toMatchObject({ type: 'WaitTimeoutError', nonRetryable: true });
      expect(failure.facts).toMatchObject({ timeoutSeconds: WAIT_BUDGETS.ciBuildStart });
      expect(a.heartbeats.every((d) => (d as { startedAt?: number }).startedAt === startedAt)).toBe(true);
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('never lets a credential into an input, result, heartbeat or failure', () => {
    const everything = observable(...seen);
    for (const secret of credentialsOf(suite.sandbox)) expect(everything).not.toContain(secret);
  });
});
