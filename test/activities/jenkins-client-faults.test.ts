import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import {
  activitiesFor,
  attempt,
  clientFor,
  credentialsOf,
  failureOf,
  farDeadline,
  jenkinsIdle,
  observable,
  withRetries,
  jenkinsSuite,
} from './jenkins-support.js';

/** A local server that answers every request with `status` and an HTML page, like a login proxy in front of Jenkins. */
async function htmlServer(status: number): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html;charset=utf-8' });
    res.end(
      '<!DOCTYPE html><html><head><title>Sign in [Jenkins]</title></head><body><form action="j_spring_security_check"></form></body></html>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the Jenkins client and activities when Jenkins or its configuration is at fault', () => {
  const suite = jenkinsSuite({
    tag: (n) => `2.0.${n}-SNAPSHOT-f4017${String(n).padStart(2, '0')}`,
    runMarker: 'test/faults',
  });
  const { seen, request, promoteBuildsWith } = suite;

  it('refuses a wrong token with a non-retryable AuthenticationError naming JENKINS_TOKEN, and queues nothing', async () => {
    const input = request();
    const client = clientFor(suite.sandbox, { token: new Secret('not-the-token') });
    const a = await attempt(activitiesFor(suite.sandbox, { client }).triggerPromoteJob, input);
    seen.push(input, a);
    const failure = failureOf(a);
    expect(failure.type).toBe('AuthenticationError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toEqual({ system: 'jenkins', status: 401, credentialVariable: 'JENKINS_TOKEN' });
    expect(failure.message).toContain('JENKINS_TOKEN');
    expect(await promoteBuildsWith(input.imageTag)).toHaveLength(0);
  });

  it('names an unknown job in a non-retryable NotFoundError', async () => {
    const layout = {
      ...suite.sandbox.layout,
      jenkins: { appJob: ['example-app', 'gone'], promoteJob: ['no-such-job'] },
    };
    const acts = activitiesFor(suite.sandbox, { layout });
    const trigger = await attempt(acts.triggerPromoteJob, request());
    const find = await attempt(acts.findCiBuildForCommit, {
      appName: 'example-app',
      commitSha: 'a'.repeat(40),
      deadline: farDeadline(),
    });
    const wait = await attempt(acts.awaitJenkinsBuild, {
      appName: 'example-app',
      job: 'app-ci',
      buildNumber: 1,
      deadline: farDeadline(),
    });
    seen.push(trigger, find, wait);
    expect(failureOf(trigger)).toMatchObject({
      type: 'NotFoundError',
      nonRetryable: true,
      facts: { system: 'jenkins', kind: 'job', name: 'no-such-job' },
    });
    expect(failureOf(find)).toMatchObject({ type: 'NotFoundError', facts: { kind: 'job', name: 'example-app/gone' } });
    expect(failureOf(wait)).toMatchObject({ type: 'NotFoundError', facts: { kind: 'job', name: 'example-app/gone' } });
  });

  it('surfaces 502/503 bursts as retryable TransientErrors, and the retries end with exactly one build', async () => {
    await jenkinsIdle(suite.sandbox);
    await suite.sandbox.setScenario('jenkins-flaky');
    const input = request();
    try {
      const attempts = await withRetries(activitiesFor(suite.sandbox).triggerPromoteJob, input);
      seen.push(input, ...attempts);
      const failed = attempts.slice(0, -1).map(failureOf);
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) {
        expect(f).toMatchObject({ type: 'TransientError', nonRetryable: false, facts: { system: 'jenkins' } });
        expect([502, 503]).toContain(f.facts.status);
      }
      const last = attempts.at(-1)!;
      expect(last.error).toBeUndefined();
      expect(last.result).toMatchObject({ attempt: attempts.length, build: { job: 'promote' } });
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
    expect(await promoteBuildsWith(input.imageTag)).toHaveLength(1);
  });

  it('passes a 429 Retry-After on as the next retry delay', async () => {
    await suite.sandbox.setScenario({
      name: 'jenkins-throttled',
      description: 'one 429',
      http: [{ system: 'jenkins', status: 429, retryAfterSeconds: 7, count: 1 }],
    });
    try {
      // A quick call: a wait would ride the 429 out itself (pausing as long as asked) rather than fail its attempt.
      const a = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, request());
      seen.push(a);
      const failure = failureOf(a);
      expect(failure).toMatchObject({
        type: 'TransientError',
        nonRetryable: false,
        facts: { system: 'jenkins', status: 429, retryAfterSeconds: 7 },
      });
      expect(failure.nextRetryDelay).toBe(7000);
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('treats an unreachable Jenkins and a request timeout as retryable TransientErrors', async () => {
    const { url, server } = await htmlServer(200);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = await attempt(
      activitiesFor(suite.sandbox, { client: clientFor(suite.sandbox, { url }) }).triggerPromoteJob,
      request(),
    );

    await suite.sandbox.setScenario('slow-systems');
    let slow;
    try {
      // A quick call: a wait would ride the timeouts out itself until its deadline (jenkins-wait-outage.test.ts).
      slow = await attempt(
        activitiesFor(suite.sandbox, { client: clientFor(suite.sandbox, { timeoutMs: 50 }) }).triggerPromoteJob,
        request(),
      );
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
    seen.push(down, slow);
    expect(failureOf(down)).toMatchObject({
      type: 'TransientError',
      nonRetryable: false,
      message: expect.stringContaining('could not be reached (ECONNREFUSED)'),
    });
    expect(failureOf(slow)).toMatchObject({
      type: 'TransientError',
      nonRetryable: false,
      message: expect.stringContaining('did not answer within 50 ms'),
    });
  });

  it('reports an HTML page where JSON was expected as a configuration error naming the URL variable', async () => {
    const { url, server } = await htmlServer(200);
    try {
      const a = await attempt(
        activitiesFor(suite.sandbox, { client: clientFor(suite.sandbox, { url }) }).awaitJenkinsBuild,
        {
          appName: 'example-app',
          job: 'promote',
          buildNumber: 1,
          deadline: farDeadline(),
        },
      );
      seen.push(a);
      const failure = failureOf(a);
      expect(failure).toMatchObject({
        type: 'ValidationError',
        nonRetryable: true,
        facts: { field: 'JENKINS_URL_EXTERNAL' },
      });
      expect(failure.message).toContain('an HTML page');
    } finally {
      server.close();
    }
  });

  it('with password auth, sends a crumb and its session cookie on POST; without them Jenkins refuses', async () => {
    const password = suite.sandbox.world.jenkins.security.user(suite.sandbox.world.info.jenkins.user)!.password;
    const job = suite.sandbox.layout.jenkins.promoteJob;
    const params = {
      APP_NAME: 'example-app',
      SOURCE_ENV: 'dev',
      TARGET_ENV: 'stage',
      IMAGE_TAG: '2.1.0-SNAPSHOT-c0ffee1',
    };
    const withCrumb = clientFor(suite.sandbox, { token: new Secret(password), auth: 'password' });
    const queued = await withCrumb.triggerBuild(job, params);
    expect(queued.queueItemId).toBeGreaterThan(0);
    expect((await withCrumb.getQueueItem(queued.queueItemId))?.parameters).toMatchObject(params);
    // The console log is read with a POST through the npm client, which takes its crumb from the same source.
    const started = await vi.waitFor(
      async () => {
        const item = await withCrumb.getQueueItem(queued.queueItemId);
        // Jenkins answers `executable: null` until the build starts: only an object counts.
        expect(item?.executable).toBeTruthy();
        return item!.executable!;
      },
      { timeout: 20_000 },
    );
    expect(await withCrumb.consoleTail(job, started.number, 50)).toContain('Started by user Shepherd');

    const withoutCrumb = clientFor(suite.sandbox, { token: new Secret(password) });
    const refused = await withoutCrumb
      .triggerBuild(job, { ...params, IMAGE_TAG: '2.1.0-SNAPSHOT-c0ffee2' })
      .catch((e: unknown) => e);
    seen.push(refused);
    expect(refused).toMatchObject({
      type: 'AuthenticationError',
      facts: { status: 403, credentialVariable: 'JENKINS_TOKEN' },
    });
  });

  it('reports a trigger that Jenkins folded into an identical queued item (303) as that item', async () => {
    await jenkinsIdle(suite.sandbox);
    const client = clientFor(suite.sandbox);
    const job = suite.sandbox.layout.jenkins.promoteJob;
    const running = request();
    const first = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, running);
    expect(first.result).toBeDefined();
    // While that build runs, the job (no concurrent builds) keeps the next item Blocked in the queue.
    const params = {
      APP_NAME: 'example-app',
      SOURCE_ENV: 'dev',
      TARGET_ENV: 'stage',
      IMAGE_TAG: '2.2.0-SNAPSHOT-b10cked',
    };
    const a = await client.triggerBuild(job, params);
    const b = await client.triggerBuild(job, params);
    expect(a.coalesced).toBe(false);
    expect(b).toEqual({ queueItemId: a.queueItemId, coalesced: true });
    await vi.waitFor(async () => expect(await promoteBuildsWith(params.IMAGE_TAG)).toHaveLength(1), {
      timeout: 20_000,
    });
  });

  it('never lets a credential into an input, result, heartbeat or failure', () => {
    expect(seen.length).toBeGreaterThan(10);
    const text = observable(...seen);
    for (const secret of credentialsOf(suite.sandbox)) expect(text).not.toContain(secret);
  });
});
