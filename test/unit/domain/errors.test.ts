import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import * as errors from '../../../src/domain/errors.js';
import {
  ERROR_RETRYABLE,
  NON_RETRYABLE_ERROR_TYPES,
  TransientError,
  ValidationError,
} from '../../../src/domain/errors.js';
import { summarizeFailure, toApplicationFailure } from '../../../src/temporal/common/failures.js';

describe('the failure vocabulary', () => {
  it('has one class per type, whose name is the failure type', () => {
    for (const type of Object.keys(ERROR_RETRYABLE)) {
      const cls = (errors as Record<string, unknown>)[type] as { name: string } | undefined;
      expect(cls?.name).toBe(type);
    }
  });

  it('retries only transient failures', () => {
    expect(NON_RETRYABLE_ERROR_TYPES).not.toContain('TransientError');
    expect(NON_RETRYABLE_ERROR_TYPES).toContain('ValidationError');
    expect(NON_RETRYABLE_ERROR_TYPES).toHaveLength(Object.keys(ERROR_RETRYABLE).length - 1);
  });

  it('turns an error into an ApplicationFailure whose type, retryability and details are its facts', () => {
    const failure = toApplicationFailure(new ValidationError('imageTag', 'must not be empty'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'ValidationError',
      nonRetryable: true,
      details: [{ field: 'imageTag', rule: 'must not be empty' }],
    });
    expect(failure.message).toBe('imageTag must not be empty');
  });

  it('passes Retry-After on as the next retry delay of a transient failure', () => {
    const failure = toApplicationFailure(
      new TransientError('GitLab answered 429', { system: 'gitlab', status: 429, retryAfterSeconds: 7 }),
    );
    expect(failure).toMatchObject({ type: 'TransientError', nonRetryable: false, nextRetryDelay: 7000 });
  });

  it('names the credential variable, never its value', () => {
    const err = new errors.AuthenticationError({ system: 'jenkins', status: 401, credentialVariable: 'JENKINS_TOKEN' });
    expect(err.message).toBe('jenkins refused the credentials (HTTP 401): check JENKINS_TOKEN');
  });

  it('summarises a failure with its facts for the report', () => {
    const summary = summarizeFailure(toApplicationFailure(new errors.MergeConflictError({ mergeRequestIid: 4 })));
    expect(summary).toEqual({
      type: 'MergeConflictError',
      message: 'merge request !4 cannot be merged (conflict)',
      facts: { mergeRequestIid: 4 },
    });
  });
});
