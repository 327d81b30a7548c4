/**
 * The one wait loop: deadline, resume, outage as an empty look, Retry-After, watch wake-up and cancellation, with
 * scripted looks in a MockActivityEnvironment (no server, no client).
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { pollUntil, type Step, type Wait, type WaitProgress } from '../../../activities/poll-until.js';
import { NotFoundError, TransientError, ValidationError, WaitTimeoutError } from '../../../src/domain/errors.js';

interface Count extends WaitProgress {
  readonly looks: number;
}

const quiet = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

/** Runs a wait in a mock activity; records its heartbeats. */
async function run<R>(
  wait: Omit<Wait<Count, R>, 'heartbeat' | 'startedAt' | 'deadline' | 'progress' | 'intervalMs'> &
    Partial<Pick<Wait<Count, R>, 'startedAt' | 'deadline' | 'progress' | 'intervalMs'>>,
  env = quiet(),
): Promise<{ result?: R; error?: unknown; heartbeats: Count[] }> {
  const heartbeats: Count[] = [];
  env.on('heartbeat', (d: Count) => heartbeats.push(d));
  const now = Date.now();
  try {
    const result: R = await env.run(async (): Promise<R> =>
      pollUntil<Count, R>({
        startedAt: now,
        deadline: now + 5_000,
        progress: { looks: 0 },
        intervalMs: 5,
        heartbeat: (p) => env.context.heartbeat(p),
        ...wait,
      }),
    );
    return { result, heartbeats };
  } catch (error) {
    return { error, heartbeats };
  }
}

const counting =
  (doneAt: number) =>
  async (p: Count): Promise<Step<Count, string>> =>
    p.looks + 1 >= doneAt
      ? { done: `done after ${p.looks + 1}` }
      : { progress: { looks: p.looks + 1, lastSeen: 'not yet' } };

describe('pollUntil', () => {
  it('keeps heartbeating through a pause longer than its heartbeat timeout, without looking again', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 90 }, { logger: new DefaultLogger('ERROR') });
    const r = await run({ waitingFor: 'x', look: counting(2), intervalMs: 1_200 }, env);
    expect(r.result).toBe('done after 2');
    // One look before the pause; the pause (1.2 s) in slices of 30 ms, each ending with the same progress.
    expect(r.heartbeats.length).toBeGreaterThan(10);
    expect(new Set(r.heartbeats.map((h) => JSON.stringify(h)))).toEqual(
      new Set([JSON.stringify({ looks: 1, lastSeen: 'not yet' })]),
    );
  });

  it('looks until done, heartbeating the progress after every look that was not the last', async () => {
    const r = await run({ waitingFor: 'x', look: counting(3) });
    expect(r.result).toBe('done after 3');
    expect(r.heartbeats).toEqual([
      { looks: 1, lastSeen: 'not yet' },
      { looks: 2, lastSeen: 'not yet' },
    ]);
  });

  it('resumes from the progress it is given instead of starting over', async () => {
    const r = await run({ waitingFor: 'x', look: counting(3), progress: { looks: 1, lastSeen: 'earlier attempt' } });
    expect(r.result).toBe('done after 3');
    expect(r.heartbeats).toHaveLength(1);
  });

  it('ends at its deadline with WaitTimeoutError naming what it waited for, counted from the first attempt', async () => {
    const now = Date.now();
    const r = await run({
      waitingFor: 'the thing',
      look: counting(Number.POSITIVE_INFINITY),
      startedAt: now - 60_000,
      deadline: now + 50,
    });
    expect(r.error).toBeInstanceOf(WaitTimeoutError);
    expect((r.error as WaitTimeoutError).facts).toEqual({
      waitingFor: 'the thing',
      timeoutSeconds: 60,
      lastSeen: 'not yet',
    });
  });

  it('a deadline already past still takes one look, and a done look wins over it', async () => {
    const now = Date.now();
    const r = await run({ waitingFor: 'x', look: counting(1), deadline: now - 1 });
    expect(r.result).toBe('done after 1');
  });

  it('treats a TransientError as a look that saw nothing, heartbeated as the system being unreachable', async () => {
    let looks = 0;
    const r = await run({
      waitingFor: 'x',
      async look(p) {
        looks++;
        if (looks <= 2) throw new TransientError('HTTP 503', { system: 'jenkins', status: 503 });
        return { done: p.lastSeen };
      },
    });
    expect(r.result).toBe('Jenkins unreachable: HTTP 503');
    expect(r.heartbeats).toEqual([
      { looks: 0, lastSeen: 'Jenkins unreachable: HTTP 503' },
      { looks: 0, lastSeen: 'Jenkins unreachable: HTTP 503' },
    ]);
  });

  it('ends an outage that outlasts the deadline with WaitTimeoutError naming the system and its last error', async () => {
    const r = await run({
      waitingFor: 'x',
      deadline: Date.now() + 50,
      look: () => Promise.reject(new TransientError('connection refused', { system: 'kubernetes' })),
    });
    expect(r.error).toBeInstanceOf(WaitTimeoutError);
    expect((r.error as WaitTimeoutError).facts.lastSeen).toBe('the Kubernetes API unreachable: connection refused');
  });

  it('lets a wait name its own error at the deadline, told whether the last look was an outage', async () => {
    const r = await run({
      waitingFor: 'x',
      deadline: Date.now() + 30,
      look: counting(Number.POSITIVE_INFINITY),
      timedOut: (p, unreachable) =>
        unreachable ? undefined : new NotFoundError({ system: 'gitlab', kind: 'branch', name: `after ${p.looks > 0}` }),
    });
    expect(r.error).toBeInstanceOf(NotFoundError);
  });

  it('with outages failing the attempt, throws the TransientError at once', async () => {
    const r = await run({
      waitingFor: 'x',
      outages: 'fail-attempt',
      look: () => Promise.reject(new TransientError('HTTP 502', { system: 'gitlab', status: 502 })),
    });
    expect(r.error).toBeInstanceOf(TransientError);
    expect(r.heartbeats).toEqual([]);
  });

  it('ends at once on any other error', async () => {
    const r = await run({ waitingFor: 'x', look: () => Promise.reject(new ValidationError('f', 'is wrong')) });
    expect(r.error).toBeInstanceOf(ValidationError);
  });

  it('pauses at least as long as the system asked (Retry-After)', async () => {
    let looks = 0;
    const started = Date.now();
    const r = await run({
      waitingFor: 'x',
      async look() {
        if (++looks === 1)
          throw new TransientError('HTTP 429', { system: 'gitlab', status: 429, retryAfterSeconds: 1 });
        return { done: Date.now() - started };
      },
    });
    expect(r.result).toBeGreaterThanOrEqual(950);
  });

  it('wakes early when a watch reports a change, and stops its watches when the wait ends', async () => {
    let wake: (() => void) | undefined;
    let stopped = false;
    let looks = 0;
    const started = Date.now();
    const r = await run({
      waitingFor: 'x',
      intervalMs: 10_000,
      watch: (w) => {
        wake = w;
        return [{ stop: () => (stopped = true) }];
      },
      async look(p) {
        if (++looks === 2) return { done: Date.now() - started };
        setTimeout(() => wake?.(), 150);
        return { progress: p };
      },
    });
    expect(r.result).toBeLessThan(5_000);
    expect(stopped).toBe(true);
  });

  it('stops with a CancelledFailure when the activity is cancelled during a pause', async () => {
    const env = quiet();
    env.on('heartbeat', () => env.cancel());
    const r = await run({ waitingFor: 'x', intervalMs: 10_000, look: counting(Number.POSITIVE_INFINITY) }, env);
    expect(r.error).toBeInstanceOf(CancelledFailure);
    expect(r.heartbeats).toHaveLength(1);
  });
});
