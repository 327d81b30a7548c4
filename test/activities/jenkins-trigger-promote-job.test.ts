import { describe, expect, it, vi } from 'vitest';
import {
  activitiesFor,
  attempt,
  buildsOf,
  clientFor,
  credentialsOf,
  failureOf,
  jenkinsIdle,
  observable,
  jenkinsSuite,
} from './jenkins-support.js';

describe('triggerPromoteJob against the suite.sandbox Jenkins', () => {
  const suite = jenkinsSuite({
    tag: (n) => `1.0.${40 + n}-SNAPSHOT-abc${String(n).padStart(4, '0')}`,
    runMarker: 'test/trigger',
  });
  const { seen, request, promoteBuildsWith } = suite;

  it('queues one promote-environment build with the promotion parameters and returns it once it leaves the queue', async () => {
    const input = request();
    const a = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, input);
    seen.push(input, a);
    expect(a.error).toBeUndefined();
    expect(a.result).toMatchObject({ attempt: 1, reused: false, build: { job: 'promote' } });
    expect(a.heartbeats[0]).toEqual({ queueItemId: a.result!.queueItemId, startedAt: expect.any(Number) });

    const builds = await promoteBuildsWith(input.imageTag);
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatchObject({
      number: a.result!.build.buildNumber,
      queueId: a.result!.queueItemId,
      params: { APP_NAME: 'example-app', SOURCE_ENV: 'dev', TARGET_ENV: 'stage', IMAGE_TAG: input.imageTag },
    });
    expect(a.result!.build.url).toContain(`/job/promote-environment/${a.result!.build.buildNumber}/`);
  });

  it('made twice, queues one build: the second call finds the first one', async () => {
    const input = request();
    const acts = activitiesFor(suite.sandbox);
    const first = await attempt(acts.triggerPromoteJob, input);
    const second = await attempt(acts.triggerPromoteJob, input);
    seen.push(input, first, second);
    expect(second.result).toMatchObject({
      reused: true,
      queueItemId: first.result!.queueItemId,
      build: first.result!.build,
    });
    expect(await promoteBuildsWith(input.imageTag)).toHaveLength(1);
  });

  it('retried after the worker died while the item was queued, follows the recorded queue item instead of triggering again', async () => {
    const input = request();
    const acts = activitiesFor(suite.sandbox);
    // The first attempt dies right after Jenkins named the queue item (its first heartbeat).
    const first = await attempt(acts.triggerPromoteJob, input, { onHeartbeat: (_d, env) => env.cancel() });
    expect(first.result).toBeUndefined();
    const recorded = first.heartbeats.at(-1);
    expect(recorded).toEqual({ queueItemId: expect.any(Number), startedAt: expect.any(Number) });

    const retry = await attempt(acts.triggerPromoteJob, input, { heartbeatDetails: recorded, attempt: 2 });
    seen.push(input, first, retry);
    expect(retry.result).toMatchObject({
      attempt: 2,
      reused: true,
      queueItemId: (recorded as { queueItemId: number }).queueItemId,
    });
    const builds = await promoteBuildsWith(input.imageTag);
    expect(builds).toHaveLength(1);
    expect(builds[0]!.number).toBe(retry.result!.build.buildNumber);
  });

  it('retried without details after the first attempt had already queued the build, reuses that build', async () => {
    const input = request();
    // The first attempt's POST reached Jenkins, but the worker died before it could heartbeat the queue item.
    const lost = await clientFor(suite.sandbox).triggerBuild(suite.sandbox.layout.jenkins.promoteJob, {
      APP_NAME: input.appName,
      SOURCE_ENV: input.sourceEnv,
      TARGET_ENV: input.targetEnv,
      IMAGE_TAG: input.imageTag,
    });
    const retry = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, input, { attempt: 2 });
    seen.push(input, retry);
    expect(retry.result).toMatchObject({ attempt: 2, reused: true, queueItemId: lost.queueItemId });
    expect(await promoteBuildsWith(input.imageTag)).toHaveLength(1);
  });

  it('does not take an identical build queued before notBefore for its own', async () => {
    const earlier = request();
    const acts = activitiesFor(suite.sandbox);
    const first = await attempt(acts.triggerPromoteJob, earlier);
    await vi.waitFor(async () => expect((await promoteBuildsWith(earlier.imageTag))[0]?.building).toBe(false), {
      timeout: 20_000,
    });
    const later = await attempt(acts.triggerPromoteJob, { ...earlier, notBefore: new Date().toISOString() });
    seen.push(first, later);
    expect(later.result).toMatchObject({ reused: false });
    expect(later.result!.build.buildNumber).not.toBe(first.result!.build.buildNumber);
    expect(await promoteBuildsWith(earlier.imageTag)).toHaveLength(2);
  });

  it('finds its build by queueId once Jenkins has forgotten the left queue item', async () => {
    const input = request();
    const acts = activitiesFor(suite.sandbox);
    const first = await attempt(acts.triggerPromoteJob, input);
    const recorded = { queueItemId: first.result!.queueItemId };
    // Five minutes after leaving the queue Jenkins answers 404 for the item.
    const forget = vi.spyOn(suite.sandbox.world.jenkins, 'queueItem').mockReturnValue(undefined);
    try {
      const retry = await attempt(acts.triggerPromoteJob, input, { heartbeatDetails: recorded, attempt: 2 });
      seen.push(input, retry);
      expect(retry.result).toMatchObject({
        reused: true,
        queueItemId: recorded.queueItemId,
        build: first.result!.build,
      });
    } finally {
      forget.mockRestore();
    }
    expect(await promoteBuildsWith(input.imageTag)).toHaveLength(1);
  });

  it('throws a non-retryable BuildCancelledError when the queue item is cancelled before it starts', async () => {
    await jenkinsIdle(suite.sandbox);
    await suite.sandbox.setScenario('promote-job-cancelled');
    try {
      const input = request();
      const a = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, input);
      seen.push(input, a);
      const failure = failureOf(a);
      expect(failure.type).toBe('BuildCancelledError');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.facts).toMatchObject({
        job: 'promote-environment',
        queueItemId: expect.any(Number),
        why: expect.stringContaining('cancelled'),
      });
      expect(await promoteBuildsWith(input.imageTag)).toHaveLength(0);
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('refuses an illegal promotion with a ValidationError naming the field, and queues nothing', async () => {
    const input = request({ sourceEnv: 'dev', targetEnv: 'prod' });
    const a = await attempt(activitiesFor(suite.sandbox).triggerPromoteJob, input);
    seen.push(input, a);
    const failure = failureOf(a);
    expect(failure.type).toBe('ValidationError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.facts).toMatchObject({ field: 'targetEnv' });
    expect(await promoteBuildsWith(input.imageTag)).toHaveLength(0);
  });

  it('sends the parameters under the names of the layout’s mapping, and finds its own build by them when repeated', async () => {
    // The sandbox's job defines the seed's four names (and drops any other, as Jenkins does): a mapping that swaps
    // the two free-text ones shows which name each value went out under.
    const seed = suite.sandbox.layout;
    const layout = {
      ...seed,
      jenkins: {
        ...seed.jenkins,
        promoteParameters: { app: 'IMAGE_TAG', source: 'SOURCE_ENV', target: 'TARGET_ENV', tag: 'APP_NAME' },
      },
    };
    const input = request();
    const acts = activitiesFor(suite.sandbox, { layout });
    const first = await attempt(acts.triggerPromoteJob, input);
    const second = await attempt(acts.triggerPromoteJob, input);
    seen.push(input, first, second);
    const builds = (await buildsOf(suite.sandbox, seed.jenkins.promoteJob)).filter(
      (b) => b.params.APP_NAME === input.imageTag,
    );
    expect(first.error).toBeUndefined();
    expect(builds).toHaveLength(1);
    expect(builds[0]!.params).toMatchObject({ IMAGE_TAG: 'example-app', SOURCE_ENV: 'dev', TARGET_ENV: 'stage' });
    expect(second.result).toMatchObject({ reused: true, queueItemId: first.result!.queueItemId });
  });

  it('never lets a credential into an input, result, heartbeat or failure', () => {
    expect(seen.length).toBeGreaterThan(10);
    const text = observable(...seen);
    for (const secret of credentialsOf(suite.sandbox)) expect(text).not.toContain(secret);
  });
});
