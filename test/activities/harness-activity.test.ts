import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { countActivity } from '../support/fixture-activities.js';

describe('the activity test environment', () => {
  it('records heartbeats and hands earlier heartbeat details to a retried attempt', async () => {
    const first = new MockActivityEnvironment();
    const beats: unknown[] = [];
    first.on('heartbeat', (d: unknown) => beats.push(d));
    await expect(first.run(countActivity, 3)).resolves.toEqual([1, 2, 3]);
    expect(beats).toEqual([1, 2, 3]);

    const retry = new MockActivityEnvironment({ heartbeatDetails: 2, attempt: 2 });
    await expect(retry.run(countActivity, 4)).resolves.toEqual([3, 4]);
  });
});
