/**
 * checkFreezeWindow reads the freeze windows of the worker's pipeline (the layout built from the pipeline file),
 * never the workflow's input, and answers for the instant the workflow names.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createCheckFreezeWindow } from '../../activities/promotions/check-freeze-window.js';
import { parsePipeline, type PipelineDefaults } from '../../src/config/pipeline-file.js';
import { appLayout } from '../../src/domain/pipeline.js';

const DEFAULTS: PipelineDefaults = {
  group: 'p2c',
  deploymentsProject: 'p2c/k8s-deployments',
  registry: 'docker.example.test',
  argocdNamespace: 'argocd',
  promoteJob: ['promote-environment'],
  bump: { via: 'auto', branch: undefined },
  autoMerge: false,
};

const PIPELINE = `
name: freeze-example
environments:
  - name: qa
  - name: live
    freeze:
      timeZone: Europe/Berlin
      weekly:
        - { from: "Fri 16:00", to: "Mon 08:00", reason: no live changes at the weekend }
      policy: refuse
apps:
  - name: example-app
promotion:
  mode: gitlab
`;

const layout = appLayout(parsePipeline(PIPELINE, DEFAULTS), 'example-app');
const check = createCheckFreezeWindow({ layout });
const env = () => new MockActivityEnvironment({ attempt: 2 }, { logger: new DefaultLogger('ERROR') });

describe('checkFreezeWindow', () => {
  it("answers with the pipeline file's windows and policy for the environment, at the workflow's instant", async () => {
    const result = await env().run(check, { appName: 'example-app', env: 'live', at: '2026-01-10T12:00:00.000Z' });
    expect(result).toEqual({
      attempt: 2,
      frozen: true,
      until: '2026-01-12T07:00:00.000Z',
      window: 'Fri 16:00 → Mon 08:00 Europe/Berlin',
      reason: 'no live changes at the weekend',
      policy: 'refuse',
    });
    expect(await env().run(check, { appName: 'example-app', env: 'live', at: '2026-01-12T07:00:00.000Z' })).toEqual({
      attempt: 2,
      frozen: false,
      policy: 'refuse',
    });
  });

  it('never freezes an environment that declares no windows', async () => {
    expect(await env().run(check, { appName: 'example-app', env: 'qa', at: '2026-01-10T12:00:00.000Z' })).toEqual({
      attempt: 2,
      frozen: false,
      policy: 'wait',
    });
  });

  it('refuses an environment the pipeline does not have and another app, naming the field', async () => {
    for (const [input, field] of [
      [{ appName: 'example-app', env: 'prod' }, 'env'],
      [{ appName: 'other-app', env: 'live' }, 'appName'],
      [{ appName: 'example-app', env: 'live', at: 'friday' }, 'at'],
    ] as const) {
      const err = await env()
        .run(check, input)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('ValidationError');
      expect((err as ApplicationFailure).message).toMatch(new RegExp(`^${field} `));
    }
  });
});
