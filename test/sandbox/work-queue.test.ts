import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Clock } from '../../src/sandbox/core/clock.js';
import { WorkQueue } from '../../src/sandbox/core/work-queue.js';

let clock: Clock;
beforeEach(() => {
  clock = new Clock();
});
afterEach(() => clock.stop());

describe('sandbox controllers: the work queue', () => {
  it('runs each key once on the next tick, in first-added order, with its work merged', async () => {
    const runs: [string, string][] = [];
    const queue = new WorkQueue<string, string>(
      clock,
      (queued, next) => (queued === 'full' ? queued : next),
      (key, work) => runs.push([key, work]),
    );
    queue.add('a', 'health');
    queue.add('b', 'full');
    queue.add('a', 'full');
    queue.add('b', 'health');
    expect(runs).toEqual([]);
    await clock.sleep(5);
    expect(runs).toEqual([
      ['a', 'full'],
      ['b', 'full'],
    ]);
  });

  it('queues a key added during a flush for the following tick', async () => {
    const runs: string[] = [];
    const queue: WorkQueue<string, number> = new WorkQueue(
      clock,
      (queued) => queued,
      (key, round) => {
        runs.push(`${key}${round}`);
        if (round === 1) queue.add(key, 2);
      },
    );
    queue.add('a', 1);
    await clock.sleep(5);
    await clock.sleep(5);
    expect(runs).toEqual(['a1', 'a2']);
  });
});
