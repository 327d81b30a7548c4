/**
 * The one activity shape: input parsed with its schema (a refusal is a ValidationError naming the field and the
 * rule), errors mapped to Shepherd's failure types, and the heartbeat state handed to the body typed.
 */
import { sleep } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineActivity } from '../../../activities/define.js';
import { ACTIVITY_FIELDS, ACTIVITY_RULES } from '../../../src/domain/activities.js';
import { MergeConflictError, TransientError } from '../../../src/domain/errors.js';
import { RULES } from '../../../src/domain/inputs.js';

const env = (info: { attempt?: number; heartbeatDetails?: unknown } = {}) =>
  new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });

/** The failure an activity threw, which must be an ApplicationFailure. */
async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const echo = defineActivity({
  input: z.object({
    appName: ACTIVITY_FIELDS.configuredApp('example-app'),
    imageTag: ACTIVITY_FIELDS.imageTag(),
    deadline: ACTIVITY_FIELDS.instant(),
  }),
  progress: z.object({ looks: z.number() }),
  run: (input, ctx) =>
    Promise.resolve({ input, attempt: ctx.attempt, resumed: ctx.resumed, aborted: ctx.signal.aborted }),
});
const good = { appName: 'example-app', imageTag: '1.0.0-abc', deadline: '2026-01-16T02:00:00.000Z' };

describe('defineActivity', () => {
  it('runs the body with the parsed input, the attempt and the typed heartbeat details of an earlier attempt', async () => {
    const result = await env({ attempt: 3, heartbeatDetails: { looks: 7 } }).run(echo, good);
    expect(result).toEqual({ input: good, attempt: 3, resumed: { looks: 7 }, aborted: false });
  });

  it('reads heartbeat details of another shape as nothing to resume from', async () => {
    const result = await env({ heartbeatDetails: { other: true } }).run(echo, good);
    expect(result).toMatchObject({ resumed: undefined });
  });

  it('refuses input the schema refuses with a non-retryable ValidationError naming the field and the rule', async () => {
    const other = await failureOf(env().run(echo, { ...good, appName: 'other-app' }));
    expect(other).toMatchObject({ type: 'ValidationError', nonRetryable: true });
    expect(other.message).toBe('appName must be the configured app "example-app"');
    expect(other.details?.[0]).toEqual({ field: 'appName', rule: ACTIVITY_RULES.configuredApp('example-app') });

    const tag = await failureOf(env().run(echo, { ...good, imageTag: '../evil' }));
    expect(tag.details?.[0]).toEqual({ field: 'imageTag', rule: RULES.imageTag });

    const empty = await failureOf(env().run(echo, { ...good, imageTag: ' ' }));
    expect(empty.details?.[0]).toEqual({ field: 'imageTag', rule: RULES.empty });

    const deadline = await failureOf(env().run(echo, { ...good, deadline: 'tomorrow' }));
    expect(deadline.details?.[0]).toEqual({ field: 'deadline', rule: ACTIVITY_RULES.instant });

    const missing = await failureOf(env().run(echo, { ...good, deadline: undefined } as unknown as typeof good));
    expect(missing.details?.[0]).toEqual({ field: 'deadline', rule: RULES.required });
  });

  it('turns our errors into typed failures carrying their facts; a TransientError stays retryable', async () => {
    const conflict = defineActivity({
      input: z.object({}),
      run: () => Promise.reject(new MergeConflictError({ mergeRequestIid: 4, detailedMergeStatus: 'conflict' })),
    });
    const failure = await failureOf(env().run(conflict, {}));
    expect(failure).toMatchObject({ type: 'MergeConflictError', nonRetryable: true });
    expect(failure.details?.[0]).toEqual({ mergeRequestIid: 4, detailedMergeStatus: 'conflict' });

    const flaky = defineActivity({
      input: z.object({}),
      run: () => Promise.reject(new TransientError('HTTP 503', { system: 'gitlab', status: 503 })),
    });
    expect(await failureOf(env().run(flaky, {}))).toMatchObject({ type: 'TransientError', nonRetryable: false });
  });

  it("maps a system's own errors through `failure`, and passes other errors and cancellation through unchanged", async () => {
    class Refused extends Error {}
    const refused = defineActivity({
      input: z.object({}),
      failure: (err) =>
        err instanceof Refused ? ApplicationFailure.create({ type: 'Refused', nonRetryable: true }) : undefined,
      run: () => Promise.reject(new Refused('no')),
    });
    expect(await failureOf(env().run(refused, {}))).toMatchObject({ type: 'Refused' });

    const plain = new Error('boom');
    const broken = defineActivity({ input: z.object({}), run: () => Promise.reject(plain) });
    await expect(env().run(broken, {})).rejects.toBe(plain);

    const cancelled = env();
    const waits = defineActivity({
      input: z.object({}),
      run: async () => {
        cancelled.cancel();
        await sleep(10_000);
      },
    });
    await expect(cancelled.run(waits, {})).rejects.toBeInstanceOf(CancelledFailure);
  });
});
