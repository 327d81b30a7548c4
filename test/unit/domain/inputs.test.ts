import { describe, expect, it } from 'vitest';
import { WAIT_BUDGETS } from '../../../src/domain/wait-budgets.js';
import { ValidationError } from '../../../src/domain/errors.js';
import {
  isAppName,
  isImageTag,
  promoteEnvironmentOptions,
  validatePipelineOptions,
} from '../../../src/domain/inputs.js';

function refusal(parse: () => unknown): { field: string; rule: string; message: string } {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const v = err as ValidationError;
    return { ...v.facts, message: v.message };
  }
  throw new Error('input was accepted');
}

const valid = { appName: 'example-app', sourceEnv: 'dev', targetEnv: 'stage' };

describe('app names', () => {
  it.each(['example-app', 'a', 'app1', 'a'.repeat(53), '1-app'])('accepts the Kubernetes name %s', (name) =>
    expect(isAppName(name)).toBe(true),
  );
  it.each(['Example', 'app_1', '-app', 'app-', 'a'.repeat(54), '', 'app.x', 'app x'])('refuses %j', (name) =>
    expect(isAppName(name)).toBe(false),
  );
});

describe('image tags', () => {
  it.each(['1.0.37-SNAPSHOT-a1b2c3d', 'latest', '_x', 'v1.2.3', 'a'.repeat(128)])('accepts the Docker tag %s', (tag) =>
    expect(isImageTag(tag)).toBe(true),
  );
  it.each(['feature/x', 'a b', '1;rm', '$(x)', '`x`', '.hidden', '-dash', '1..2', 'v1.lock', 'a'.repeat(129), ''])(
    'refuses %j',
    (tag) => expect(isImageTag(tag)).toBe(false),
  );
});

describe('promoteEnvironment input', () => {
  it('applies the defaults: jenkins mode, merge and verify, prod-only approval by anyone within 24h through the Temporal update, 1m heartbeats', () => {
    expect(promoteEnvironmentOptions(valid)).toEqual({
      appName: 'example-app',
      environments: ['dev', 'stage', 'prod'],
      sourceEnv: 'dev',
      targetEnv: 'stage',
      imageTag: undefined,
      mode: 'jenkins',
      merge: true,
      verify: true,
      approval: { required: false, approvers: [], timeout: '24h', source: 'temporal' },
      runMarker: undefined,
      heartbeatTimeout: '1m',
      waitBudgets: WAIT_BUDGETS,
      allowUnsettledTarget: false,
      unstableBuilds: 'failure',
    });
    expect(promoteEnvironmentOptions({ ...valid, sourceEnv: 'stage', targetEnv: 'prod' }).approval.required).toBe(true);
  });

  it('takes the approval policy from the input', () => {
    const opts = promoteEnvironmentOptions({
      ...valid,
      approvalEnvironments: ['stage'],
      approvers: ['alice'],
      approvalTimeout: '2h',
    });
    expect(opts.approval).toEqual({ required: true, approvers: ['alice'], timeout: '2h', source: 'temporal' });
  });

  it('allows only dev→stage and stage→prod, naming targetEnv', () => {
    for (const [sourceEnv, targetEnv] of [
      ['dev', 'prod'],
      ['stage', 'dev'],
      ['prod', 'stage'],
      ['dev', 'dev'],
    ]) {
      expect(refusal(() => promoteEnvironmentOptions({ ...valid, sourceEnv, targetEnv }))).toMatchObject({
        field: 'targetEnv',
        rule: expect.stringContaining('dev→stage or stage→prod'),
      });
    }
  });

  it('refuses unknown keys so that a typo fails loudly', () => {
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, imagetag: '1.0' }))).toMatchObject({
      field: 'imagetag',
      rule: 'is not a known field',
    });
  });

  it('refuses empty optional strings with "must not be empty"', () => {
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, imageTag: '' }))).toMatchObject({
      field: 'imageTag',
      rule: 'must not be empty',
    });
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, approvalTimeout: '' }))).toMatchObject({
      field: 'approvalTimeout',
      rule: 'must not be empty',
    });
  });

  it('names the field and the rule of a bad tag, mode, flag or duration', () => {
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, imageTag: 'x/y' }))).toMatchObject({
      field: 'imageTag',
      rule: expect.stringContaining('Docker tag'),
    });
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, mode: 'argo' }))).toMatchObject({
      field: 'mode',
      rule: 'must be one of jenkins, gitlab',
    });
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, merge: 'yes' }))).toMatchObject({
      field: 'merge',
      rule: 'must be true or false',
    });
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, approvalTimeout: '1 day' }))).toMatchObject({
      field: 'approvalTimeout',
    });
    expect(refusal(() => promoteEnvironmentOptions({ ...valid, heartbeatTimeout: '0s' }))).toMatchObject({
      field: 'heartbeatTimeout',
      rule: expect.stringContaining('duration'),
    });
  });

  it('lists every problem in the message', () => {
    const { message } = refusal(() =>
      promoteEnvironmentOptions({ appName: 'X', sourceEnv: 'dev', targetEnv: 'qa', foo: 1 }),
    );
    expect(message).toContain('appName');
    expect(message).toContain('targetEnv');
    expect(message).toContain('foo is not a known field');
  });

  it('refuses input that is not an object', () => {
    expect(refusal(() => promoteEnvironmentOptions('example-app')).field).toBe('input');
    expect(refusal(() => promoteEnvironmentOptions(undefined)).field).toBe('input');
  });
});

describe('validatePipeline input', () => {
  it('defaults to all three environments, jenkins mode and rolling back the failed hop only', () => {
    expect(validatePipelineOptions({ appName: 'example-app' })).toEqual({
      appName: 'example-app',
      environments: ['dev', 'stage', 'prod'],
      environmentApprovers: {},
      through: 'prod',
      mode: 'jenkins',
      rollback: 'failed',
      approvalEnvironments: ['prod'],
      approvers: [],
      approvalSource: 'temporal',
      approvalTimeout: '24h',
      heartbeatTimeout: '1m',
      waitBudgets: WAIT_BUDGETS,
      allowUnsettledTarget: false,
      unstableBuilds: 'failure',
    });
  });

  it('takes wait budget overrides and refuses budgets that are not whole seconds', () => {
    expect(validatePipelineOptions({ appName: 'example-app', waitBudgets: { build: 900 } }).waitBudgets).toEqual({
      ...WAIT_BUDGETS,
      build: 900,
    });
    expect(
      refusal(() => validatePipelineOptions({ appName: 'example-app', waitBudgets: { sync: 1.5 } })),
    ).toMatchObject({ field: 'waitBudgets.sync', rule: 'must be whole seconds from 1 to 604800' });
    expect(
      refusal(() => validatePipelineOptions({ appName: 'example-app', waitBudgets: { forever: 1 } })),
    ).toMatchObject({ field: 'waitBudgets.forever', rule: 'is not a known field' });
  });

  it('names the field of a bad through or rollback', () => {
    expect(refusal(() => validatePipelineOptions({ appName: 'example-app', through: 'qa' })).field).toBe('through');
    expect(refusal(() => validatePipelineOptions({ appName: 'example-app', rollback: 'some' })).field).toBe('rollback');
    expect(refusal(() => validatePipelineOptions({})).field).toBe('appName');
  });
});
