import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { DEFAULT_FAN_OUT_CONCURRENCY, fanOutOptions, fanOutStatus } from '../../../src/domain/fan-out.js';

function refusal(raw: unknown): { field: string; rule: string; message: string } {
  try {
    fanOutOptions(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const v = err as ValidationError;
    return { ...v.facts, message: v.message };
  }
  throw new Error('input was accepted');
}

describe('fan-out input', () => {
  it('gives every app its own run input: the shared fields plus its appName, checked by that run', () => {
    const options = fanOutOptions({ kind: 'validate', apps: ['a', 'b'], through: 'stage', approvers: ['ops'] });
    expect(options.concurrency).toBe(DEFAULT_FAN_OUT_CONCURRENCY);
    expect(options.runs.map((run) => run.input)).toEqual([
      { appName: 'a', through: 'stage', approvers: ['ops'] },
      { appName: 'b', through: 'stage', approvers: ['ops'] },
    ]);
    expect(options.runs.map((run) => run.kind === 'validate' && run.options.through)).toEqual(['stage', 'stage']);
  });

  it('reads a promotion fan-out with the promotion rules, in the pipeline order it names', () => {
    const options = fanOutOptions({
      kind: 'promote',
      apps: ['a'],
      concurrency: 2,
      environments: ['qa', 'uat', 'live'],
      sourceEnv: 'uat',
      targetEnv: 'live',
    });
    expect(options.concurrency).toBe(2);
    expect(options.runs[0]).toMatchObject({ kind: 'promote', options: { appName: 'a', targetEnv: 'live' } });
    expect(refusal({ kind: 'promote', apps: ['a'], sourceEnv: 'dev', targetEnv: 'prod' })).toMatchObject({
      field: 'targetEnv',
    });
  });

  it.each([
    [{ kind: 'deploy', apps: ['a'] }, 'kind', 'must be one of validate, promote'],
    [{ kind: 'validate', apps: [] }, 'apps', 'must be a list of one or more different app names'],
    [{ kind: 'validate', apps: ['a', 'a'] }, 'apps', 'must be a list of one or more different app names'],
    [{ kind: 'validate', apps: ['a', 'Not_An_App'] }, 'apps.1', 'must be a Kubernetes name'],
    [{ kind: 'validate', apps: ['a'], concurrency: 0 }, 'concurrency', 'must be a whole number from 1 to 32'],
    [{ kind: 'validate', apps: ['a'], concurrency: 1.5 }, 'concurrency', 'must be a whole number from 1 to 32'],
    [{ kind: 'validate', apps: ['a'], appName: 'a' }, 'appName', 'name the apps in `apps`'],
    [{ kind: 'validate', apps: ['a'], sourceEnv: 'dev' }, 'sourceEnv', 'is not a known field'],
    [{ kind: 'promote', apps: ['a'], sourceEnv: 'dev' }, 'targetEnv', 'is required'],
    ['validate everything', 'input', 'must be a JSON object'],
  ])('refuses %j naming %s', (raw, field, rule) => {
    const refused = refusal(raw);
    expect(refused.field).toBe(field);
    expect(refused.rule).toContain(rule);
  });
});

describe('fan-out status', () => {
  const apps = (...statuses: string[]) => statuses.map((status) => ({ status }));

  it('is succeeded only when every app succeeded (a promotion also when unchanged or left with its MR open)', () => {
    expect(fanOutStatus(apps('succeeded', 'succeeded'))).toBe('succeeded');
    expect(fanOutStatus(apps('succeeded', 'unchanged', 'merge-request-opened'))).toBe('succeeded');
  });

  it('is rolled_back when each app that did not succeed rolled back cleanly', () => {
    expect(fanOutStatus(apps('succeeded', 'rolled_back'))).toBe('rolled_back');
    expect(fanOutStatus(apps('rolled_back', 'rolled_back'))).toBe('rolled_back');
  });

  it('is failed as soon as one app failed otherwise, whatever the others did', () => {
    expect(fanOutStatus(apps('rolled_back', 'failed', 'succeeded'))).toBe('failed');
    expect(fanOutStatus(apps('superseded'))).toBe('failed');
    expect(fanOutStatus(apps('cancelled', 'rolled_back'))).toBe('failed');
  });
});
