/**
 * The freeze gate of promoteEnvironment on the time-skipping test server: a promotion into a frozen target waits
 * before its merge until the windows close (or is refused, or overridden by an approver), and a target without
 * windows is promoted as before. The windows are the fake worker's ("the pipeline file"), never the run's input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { promoteEnvironment } from '../../workflows/index.js';
import { approveUpdate, overrideFreezeUpdate } from '../../workflows/messages.js';
import type { PromoteEnvironmentInput } from '../../src/domain/inputs.js';
import type { FreezeWindows } from '../../src/domain/pipeline.js';
import type { PromotionFailureDetails } from '../../src/domain/report.js';
import { ShepherdStatus } from '../../src/temporal/common/search-attributes.js';
import { FakePipeline } from './support/fake-pipeline.js';
import { untilStep } from '../support/until-step.js';
import { refusal, startHarness, unique, type Harness } from './support/harness.js';

const DEV_IMAGE = '1.0.37-SNAPSHOT-a1b2c3d';
const STAGE_IMAGE = '1.0.36-SNAPSHOT-0a0a0a0';
const HOUR = 3_600_000;

describe('promoteEnvironment at a frozen target', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(import.meta.url);
  });
  afterAll(async () => {
    await h?.teardown();
  });

  /** A fake whose stage is frozen from an hour ago (test-server time) to `hours` from now. */
  async function frozenStage(
    policy: FreezeWindows['policy'],
    hours = 3,
  ): Promise<{ fake: FakePipeline; until: string }> {
    const now = await h.env.currentTimeMs();
    const fake = h.install(new FakePipeline({ images: { dev: DEV_IMAGE, stage: STAGE_IMAGE, prod: STAGE_IMAGE } }));
    const from = new Date(now - HOUR).toISOString();
    const until = new Date(now + hours * HOUR).toISOString();
    fake.freeze.stage = {
      timeZone: 'Europe/Berlin',
      weekly: [],
      dates: [{ from, to: until, reason: 'release retro' }],
      policy,
    };
    return { fake, until };
  }

  function start(input: Partial<PromoteEnvironmentInput> = {}): Promise<WorkflowHandle<typeof promoteEnvironment>> {
    const appName = unique('app');
    return h.env.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
      taskQueue: h.taskQueue,
      workflowId: unique(`promote-${appName}-stage`),
      args: [{ appName, sourceEnv: 'dev', targetEnv: 'stage', mode: 'gitlab', ...input } as PromoteEnvironmentInput],
    });
  }

  it('promotes a target without freeze windows as before: one check, then the merge', async () => {
    const fake = h.install(new FakePipeline({ images: { dev: DEV_IMAGE, stage: STAGE_IMAGE, prod: STAGE_IMAGE } }));
    const result = await (await start()).result();
    expect(result.status).toBe('succeeded');
    expect(result.freeze).toBeUndefined();
    expect(fake.names().filter((n) => n !== 'notifyEvent')).toEqual([
      'readEnvironmentState',
      'readEnvironmentState',
      'readDeclaredImage',
      'openPromotionMergeRequest',
      'checkFreezeWindow',
      'mergeMergeRequest',
      'awaitArgoSyncedAndHealthy',
      'verifyWorkload',
    ]);
    expect(fake.callsOf('checkFreezeWindow')).toEqual([
      { appName: result.appName, env: 'stage', at: expect.any(String) },
    ]);
  });

  it('waits before the merge until the window closes, saying until when, then merges', async () => {
    const { fake, until } = await frozenStage('wait');
    const handle = await start();
    await untilStep(handle, 'freeze-window');

    expect(fake.callsOf('mergeMergeRequest')).toEqual([]);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(ShepherdStatus)).toBe('waiting-freeze');
    expect(described.memo).toMatchObject({
      summary: expect.stringContaining(`frozen until ${until} (`),
    });
    expect(fake.callsOf('notifyEvent')).toContainEqual(
      expect.objectContaining({
        event: 'freeze-waiting',
        env: 'stage',
        text: expect.stringContaining('override-freeze'),
      }),
    );

    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.freeze).toEqual({
      env: 'stage',
      window: expect.stringMatching(/ Europe\/Berlin$/),
      reason: 'release retro',
      until,
      policy: 'wait',
      outcome: 'waited',
    });
    // Checked again when the timer fired at the window's end, and merged only then.
    const checkedAt = fake.callsOf('checkFreezeWindow').map((c) => Date.parse(c.at as string));
    expect(checkedAt).toHaveLength(2);
    expect(checkedAt[1]).toBeGreaterThanOrEqual(Date.parse(until));
    const merged = result.steps.find((s) => s.name === 'merge-merge-request')!;
    expect(Date.parse(merged.startedAt)).toBeGreaterThanOrEqual(Date.parse(until));
    expect(fake.envs.stage.imageTag).toBe(DEV_IMAGE);
  });

  it('fails with FreezeWindowError under policy refuse and closes its merge request', async () => {
    const { fake, until } = await frozenStage('refuse');
    const handle = await start();
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe('FreezeWindowError');
    expect(failure.message).toContain(`frozen until ${until}`);
    expect(failure.message).toContain(`npx shepherd override-freeze ${handle.workflowId}`);
    const details = failure.details?.[0] as PromotionFailureDetails;
    expect(details.freeze).toMatchObject({ outcome: 'refused', policy: 'refuse', until });
    expect(fake.callsOf('mergeMergeRequest')).toEqual([]);
    expect(fake.mergeRequests.get(1)?.state).toBe('closed');
    expect(fake.envs.stage.imageTag).toBe(STAGE_IMAGE);
    expect((await handle.describe()).typedSearchAttributes.get(ShepherdStatus)).toBe('failed');
  });

  it('merges at once when an approver overrides the freeze with a reason, and reports who, when, why and which window', async () => {
    const { fake, until } = await frozenStage('wait', 48);
    const handle = await start({ approvers: ['alice'] });
    await untilStep(handle, 'freeze-window');

    expect(await refusal(handle.executeUpdate(overrideFreezeUpdate, { args: [{ by: 'mallory', reason: 'x' }] }))).toBe(
      'mallory is not on the approvers list for stage',
    );
    expect(
      await refusal(handle.executeUpdate(overrideFreezeUpdate, { args: [{ by: 'alice', reason: '  ' }] })),
    ).toMatch(/^reason must say why/);
    const outcome = await handle.executeUpdate(overrideFreezeUpdate, {
      args: [{ by: 'alice', reason: 'hotfix for the checkout outage' }],
    });
    expect(outcome).toMatchObject({ by: 'alice', reason: 'hotfix for the checkout outage' });

    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.freeze).toMatchObject({
      outcome: 'overridden',
      until,
      reason: 'release retro',
      override: { by: 'alice', reason: 'hotfix for the checkout outage', at: outcome.at },
    });
    const merged = result.steps.find((s) => s.name === 'merge-merge-request')!;
    expect(Date.parse(merged.startedAt)).toBeLessThan(Date.parse(until));
    expect(fake.callsOf('notifyEvent')).toContainEqual(
      expect.objectContaining({
        event: 'freeze-overridden',
        text: expect.stringContaining('overridden by alice: hotfix for the checkout outage'),
      }),
    );
  });

  it('takes an override given before the run reaches its gate (while it waits for approval) when it gets there', async () => {
    const { fake, until } = await frozenStage('refuse', 48);
    const handle = await start({ approvalEnvironments: ['stage'], approvers: ['alice', 'bob'] });
    await untilStep(handle, 'approval');
    await handle.executeUpdate(overrideFreezeUpdate, { args: [{ by: 'bob', reason: 'security fix' }] });
    expect(
      await refusal(handle.executeUpdate(overrideFreezeUpdate, { args: [{ by: 'alice', reason: 'me too' }] })),
    ).toMatch(/already overridden by bob/);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });

    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.freeze).toMatchObject({ outcome: 'overridden', policy: 'refuse', until, override: { by: 'bob' } });
    expect(fake.callsOf('checkFreezeWindow')).toHaveLength(1);
  });

  it('refuses an override where approvals come from GitLab: the update carries no identity GitLab vouches for', async () => {
    await frozenStage('wait');
    const handle = await start({ approvalSource: 'gitlab', approvers: ['alice'] });
    await untilStep(handle, 'freeze-window');
    expect(
      await refusal(handle.executeUpdate(overrideFreezeUpdate, { args: [{ by: 'alice', reason: 'hotfix' }] })),
    ).toMatch(/^approvals for stage come from GitLab/);
    await handle.cancel();
  });
});
