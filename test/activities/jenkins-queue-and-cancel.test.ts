/**
 * The promote job's trigger split in two (queuePromoteJob: the shielded POST; awaitJenkinsQueueItem: the wait a
 * cancel can end) and its undo, cancelPromoteJob, against the sandbox Jenkins.
 */
import { describe, expect, it, vi } from 'vitest';
import type { JenkinsQueueItem } from '../../src/clients/jenkins/schemas.js';
import {
  activitiesFor,
  attempt,
  clientFor,
  credentialsOf,
  farDeadline,
  jenkinsSuite,
  observable,
} from './jenkins-support.js';

describe('queuePromoteJob, awaitJenkinsQueueItem and cancelPromoteJob against the sandbox Jenkins', () => {
  const suite = jenkinsSuite({
    tag: (n) => `1.0.${70 + n}-SNAPSHOT-def${String(n).padStart(4, '0')}`,
    runMarker: 'test/queue-cancel',
  });
  const { seen, request, promoteBuildsWith } = suite;
  const queueOf = async () =>
    (await suite.sandbox.state()).jenkins.jobs.find((j) => j.path === 'promote-environment')!.queue;

  it('queues the build and returns the queue item at once; awaitJenkinsQueueItem then returns the build it became', async () => {
    const input = request();
    const acts = activitiesFor(suite.sandbox);
    const queued = await attempt(acts.queuePromoteJob, input);
    seen.push(input, queued);
    expect(queued.result).toMatchObject({ attempt: 1, reused: false, queueItemId: expect.any(Number) });
    expect(queued.result!.build).toBeUndefined();

    const waitInput = {
      appName: 'example-app',
      job: 'promote' as const,
      queueItemId: queued.result!.queueItemId,
      deadline: farDeadline(),
    };
    const started = await attempt(acts.awaitJenkinsQueueItem, waitInput);
    seen.push(waitInput, started);
    const builds = await promoteBuildsWith(input.imageTag);
    expect(builds).toHaveLength(1);
    expect(started.result).toMatchObject({
      queueItemId: queued.result!.queueItemId,
      build: { job: 'promote', buildNumber: builds[0]!.number },
    });
  });

  it('waits for a queue item that left the queue without naming its build yet: only cancelled: true is a cancellation', async () => {
    const input = request();
    const client = clientFor(suite.sandbox);
    const acts = activitiesFor(suite.sandbox, { client });
    const queued = await attempt(acts.queuePromoteJob, input);
    const real = client.getQueueItem.bind(client);
    let leftLooks = 0;
    // Jenkins' item between leaving the queue and naming its executable: state left, no executable, not cancelled.
    const spy = vi.spyOn(client, 'getQueueItem').mockImplementation(async (id, opts) => {
      const item = await real(id, opts);
      if (!item || leftLooks >= 3) return item;
      leftLooks += 1;
      return { ...item, state: 'left', why: undefined, executable: undefined, cancelled: false } as JenkinsQueueItem;
    });
    try {
      const waitInput = {
        appName: 'example-app',
        job: 'promote' as const,
        queueItemId: queued.result!.queueItemId,
        deadline: farDeadline(),
      };
      const started = await attempt(acts.awaitJenkinsQueueItem, waitInput);
      seen.push(input, queued, waitInput, started);
      expect(started.error).toBeUndefined();
      expect(leftLooks).toBe(3);
      expect(started.heartbeats).toContainEqual(
        expect.objectContaining({ lastSeen: 'left the queue; its build is starting' }),
      );
      expect(started.result!.build.buildNumber).toBe((await promoteBuildsWith(input.imageTag))[0]!.number);
    } finally {
      spy.mockRestore();
    }
  });

  it('cancels a queue item that never got an executor, and a repeat finds nothing more to do', async () => {
    await suite.sandbox.setScenario('promote-job-starved');
    try {
      const input = request();
      const acts = activitiesFor(suite.sandbox);
      const queued = await attempt(acts.queuePromoteJob, input);
      const queueItemId = queued.result!.queueItemId;
      await vi.waitFor(
        async () => {
          expect((await queueOf()).find((q) => q.id === queueItemId)?.why).toBe('Waiting for next available executor');
        },
        { timeout: 10_000 },
      );
      const undoInput = { appName: 'example-app', queueItemId, deadline: farDeadline() };
      const cancelled = await attempt(acts.cancelPromoteJob, undoInput);
      const again = await attempt(acts.cancelPromoteJob, undoInput);
      seen.push(input, queued, undoInput, cancelled, again);
      expect(cancelled.result).toMatchObject({ outcome: 'queue-item-cancelled' });
      expect(again.result).toMatchObject({ outcome: 'queue-item-cancelled' });
      expect((await queueOf()).map((q) => q.id)).not.toContain(queueItemId);
      expect(await promoteBuildsWith(input.imageTag)).toHaveLength(0);
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('stops a running build and returns once it ended ABORTED; a repeat reports it finished', async () => {
    await suite.sandbox.setScenario('promote-job-hangs');
    try {
      const input = request();
      const acts = activitiesFor(suite.sandbox);
      const queued = await attempt(acts.queuePromoteJob, input);
      const queueItemId = queued.result!.queueItemId;
      await vi.waitFor(
        async () => {
          expect(await promoteBuildsWith(input.imageTag)).toHaveLength(1);
        },
        { timeout: 10_000 },
      );
      const undoInput = { appName: 'example-app', queueItemId, deadline: farDeadline() };
      const stopped = await attempt(acts.cancelPromoteJob, undoInput);
      const again = await attempt(acts.cancelPromoteJob, undoInput);
      seen.push(input, queued, undoInput, stopped, again);
      const [build] = await promoteBuildsWith(input.imageTag);
      expect(build).toMatchObject({ result: 'ABORTED' });
      expect(stopped.result).toMatchObject({
        outcome: 'build-stopped',
        buildNumber: build!.number,
        buildResult: 'ABORTED',
      });
      expect(again.result).toMatchObject({ outcome: 'build-finished', buildNumber: build!.number });
    } finally {
      await suite.sandbox.setScenario(undefined);
    }
  });

  it('never lets a credential into an input, result, heartbeat or failure', () => {
    expect(seen.length).toBeGreaterThan(10);
    const text = observable(...seen);
    for (const secret of credentialsOf(suite.sandbox)) expect(text).not.toContain(secret);
  });
});
