import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { fanOutApps } from '../../workflows/index.js';
import { runFanOut } from '../../src/cli/fan-out.js';
import { AppDegradedError } from '../../src/domain/errors.js';
import type { FanOutInput } from '../../src/domain/fan-out.js';
import type { ActivityName, ShepherdActivities } from '../../src/domain/activities.js';
import type { FanOutReport } from '../../src/domain/report.js';
import { until } from '../support/eventually.js';
import { FakePipeline } from './support/fake-pipeline.js';
import { startHarness, unique, type Harness } from './support/harness.js';

const OLD = '1.0.36-SNAPSHOT-0a0a0a0';
const NEW = '1.0.37-SNAPSHOT-abcdef1';

/**
 * One fake installation per app, behind one worker (as one Shepherd worker serves every app): each call goes to
 * the fake of the app its input names, and every call is also logged in order across apps.
 */
class FakeApps extends FakePipeline {
  readonly log: { readonly app: string; readonly name: ActivityName }[] = [];
  readonly apps: ReadonlyMap<string, FakePipeline>;

  constructor(names: readonly string[]) {
    super();
    this.apps = new Map(names.map((name, i) => [name, new FakePipeline({ firstIid: 1 + 1000 * i })]));
  }

  /**
   * The app a call concerns: the one its input names; a call on the shared deployments repo that names none (a
   * merge request by iid, a branch) concerns the app whose fake holds that MR or branch.
   */
  private appOf(input: { appName?: string; iid?: number; branch?: string }): string | undefined {
    if (input.appName !== undefined) return input.appName;
    for (const [app, fake] of this.apps)
      if (
        (input.iid !== undefined && fake.mergeRequests.has(input.iid)) ||
        (input.branch !== undefined && fake.branches.has(input.branch))
      )
        return app;
    return undefined;
  }

  of(app: string): FakePipeline {
    return this.apps.get(app)!;
  }

  override activities(): ShepherdActivities {
    const names = Object.keys(super.activities()) as ActivityName[];
    return Object.fromEntries(
      names.map((name) => [
        name,
        (input: { appName?: string; iid?: number; branch?: string }) => {
          const app = this.appOf(input);
          const fake = app === undefined ? undefined : this.apps.get(app);
          if (app === undefined || !fake)
            throw new Error(`no app's fake holds the call ${name} ${JSON.stringify(input)}`);
          this.log.push({ app, name });
          return (fake.activities()[name] as (i: unknown) => Promise<unknown>)(input);
        },
      ]),
    ) as unknown as ShepherdActivities;
  }

  /** The first and last position of the app's calls in the log. */
  span(app: string): { first: number; last: number } {
    const positions = this.log.flatMap((entry, i) => (entry.app === app ? [i] : []));
    return { first: positions[0]!, last: positions.at(-1)! };
  }
}

/** The combined report: the fan-out's result when it succeeded, its failure's first detail otherwise. */
async function fanOutReportOf(handle: WorkflowHandle<typeof fanOutApps>): Promise<FanOutReport> {
  try {
    const report = await handle.result();
    expect(report.status).toBe('succeeded');
    return report;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure)) throw err;
    expect(err.cause.type).toBe('AppRunsFailed');
    expect(err.cause.nonRetryable).toBe(true);
    return err.cause.details?.[0] as FanOutReport;
  }
}

describe('fanOutApps', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(import.meta.url);
  });
  afterAll(async () => {
    await h?.teardown();
  });

  function start(input: FanOutInput): Promise<WorkflowHandle<typeof fanOutApps>> {
    return h.env.client.workflow.start<typeof fanOutApps>('fanOutApps', {
      taskQueue: h.taskQueue,
      workflowId: unique('fan-out'),
      args: [input],
    });
  }

  const degradedStage = (fake: FakePipeline): void => {
    fake.fail(
      'awaitArgoSyncedAndHealthy',
      new AppDegradedError({ env: 'stage', argoApp: 'b-stage', reason: 'Degraded', pods: [] }),
      (i) => i.env === 'stage' && String(i.revision).startsWith('m'),
    );
  };

  it('rolls back only the app that failed: the others succeed, and the combined report is rolled_back', async () => {
    const [a, b, c] = [unique('a'), unique('b'), unique('c')];
    const fakes = new FakeApps([a, b, c]);
    h.install(fakes);
    degradedStage(fakes.of(b));

    const report = await fanOutReportOf(
      await start({ kind: 'validate', apps: [a, b, c], concurrency: 2, approvalEnvironments: [] }),
    );

    expect(report).toMatchObject({ kind: 'validate', status: 'rolled_back', concurrency: 2 });
    if (report.kind !== 'validate') throw new Error('a validation fan-out');
    expect(report.apps.map((app) => [app.appName, app.status])).toEqual([
      [a, 'succeeded'],
      [b, 'rolled_back'],
      [c, 'succeeded'],
    ]);
    // Each app's entry is that app's own validation report.
    expect(report.apps[1]!.iterations.map((it) => [it.env, it.status])).toEqual([
      ['dev', 'succeeded'],
      ['stage', 'rolled_back'],
    ]);
    expect(report.apps[1]!.failure).toMatchObject({ type: 'AppDegradedError', step: 'await-argo-synced-and-healthy' });
    expect(report.apps[0]!.iterations.map((it) => it.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // b's stage went back; a's and c's reached prod and nothing of theirs was reverted.
    expect(
      fakes
        .of(b)
        .callsOf('revertMergeRequest')
        .map((call) => call.targetEnv),
    ).toEqual(['stage']);
    expect(fakes.of(b).envs.stage.imageTag).toBe(OLD);
    for (const app of [a, c]) {
      expect(fakes.of(app).callsOf('revertMergeRequest')).toEqual([]);
      expect(fakes.of(app).envs.prod.imageTag).toBe(NEW);
    }
    // The children ran under the ids a single-app run has, so `shepherd status --app X` finds them.
    const described = await h.env.client.workflow.getHandle(`validate-${a}`).describe();
    expect(described.type).toBe('validatePipeline');
  });

  it('runs at most `concurrency` apps at a time, starting the next one when one ends', async () => {
    const [a, b, c] = [unique('a'), unique('b'), unique('c')];
    const fakes = new FakeApps([a, b, c]);
    h.install(fakes);
    const releaseA = fakes.of(a).hold('bumpAppVersion');
    const releaseB = fakes.of(b).hold('bumpAppVersion');
    const handle = await start({ kind: 'validate', apps: [a, b, c], concurrency: 2, approvalEnvironments: [] });

    // a and b run side by side, c waits.
    await until(
      () => fakes.of(a).callsOf('bumpAppVersion').length === 1 && fakes.of(b).callsOf('bumpAppVersion').length === 1,
      'a and b bump their versions',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fakes.of(c).calls).toEqual([]);
    releaseA();
    // c starts once a ended, while b still holds.
    await until(() => fakes.of(c).calls.length > 0, 'c starts');
    expect(fakes.of(b).callsOf('findCiBuildForCommit')).toEqual([]);
    releaseB();

    const report = await fanOutReportOf(handle);
    expect(report.status).toBe('succeeded');
    expect(report.apps.map((app) => app.appName)).toEqual([a, b, c]);
    const spans = [a, b, c].map((app) => fakes.span(app));
    expect(spans[2]!.first).toBeGreaterThan(spans[0]!.last);
    for (let i = 0; i < fakes.log.length; i++)
      expect(spans.filter((span) => span.first <= i && i <= span.last).length).toBeLessThanOrEqual(2);
  });

  it('promotes every app on its own: one failed hop is reverted, the other apps are promoted', async () => {
    const [a, b] = [unique('a'), unique('b')];
    const fakes = new FakeApps([a, b]);
    h.install(fakes);
    degradedStage(fakes.of(b));
    // The hop reverts what it merged: stage back on the image it ran before.
    for (const app of [a, b]) Object.assign(fakes.of(app).envs.dev, { imageTag: NEW, declaredImageTag: NEW });

    const report = await fanOutReportOf(
      await start({ kind: 'promote', apps: [a, b], sourceEnv: 'dev', targetEnv: 'stage', concurrency: 1 }),
    );

    expect(report).toMatchObject({ kind: 'promote', status: 'rolled_back', sourceEnv: 'dev', targetEnv: 'stage' });
    expect(report.apps.map((app) => [app.appName, app.status, app.imageTag])).toEqual([
      [a, 'succeeded', NEW],
      [b, 'rolled_back', NEW],
    ]);
    expect(report.apps[1]).toMatchObject({ workflowId: `promote-${b}-stage`, failure: { type: 'AppDegradedError' } });
    expect(fakes.of(a).envs.stage.imageTag).toBe(NEW);
    expect(fakes.of(b).envs.stage.imageTag).toBe(OLD);
  });

  it('reports an app whose run is already going on as failed, names that run, and runs the others', async () => {
    const [a, b] = [unique('a'), unique('b')];
    const fakes = new FakeApps([a, b]);
    h.install(fakes);
    const block = fakes.of(a);
    block.block('bumpAppVersion');
    const running = await h.env.client.workflow.start('validatePipeline', {
      taskQueue: h.taskQueue,
      workflowId: `validate-${a}`,
      args: [{ appName: a, approvalEnvironments: [] }],
    });
    await until(() => block.callsOf('bumpAppVersion').length === 1, `validate-${a} bumps its version`);

    const report = await fanOutReportOf(await start({ kind: 'validate', apps: [a, b], approvalEnvironments: [] }));

    expect(report.status).toBe('failed');
    expect(report.apps.map((app) => [app.appName, app.status])).toEqual([
      [a, 'failed'],
      [b, 'succeeded'],
    ]);
    expect(report.apps[0]!.failure).toMatchObject({ type: 'ValidationAlreadyRunningError' });
    expect(report.apps[0]!.failure!.message).toContain(`validate-${a}`);
    await running.cancel();
  });

  it("is followed by the CLI's --all path to the combined report, each app's prod gate approved as the demo does", async () => {
    const [a, b] = [unique('a'), unique('b')];
    const fakes = new FakeApps([a, b]);
    h.install(fakes);
    const out: string[] = [];
    const err: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'fan-out-cli-'));
    try {
      // A client without time skipping: the time-skipping one skips to the gates' 24h timeouts while the CLI's
      // follow loop waits for the result, so a gate could time out before the loop approves it.
      const plain = new Client({ connection: h.env.connection, namespace: h.env.namespace ?? 'default' });
      const code = await runFanOut(
        plain,
        { kind: 'validate', apps: [a, b], concurrency: 2 },
        {
          taskQueue: h.taskQueue,
          startedBy: 'the fan-out test',
          follow: true,
          json: true,
          reportsDir: dir,
          out: (line) => out.push(line),
          err: (line) => err.push(line),
          autoApprove: { by: 'night-shift', reason: 'fan-out test' },
          pollMs: 100,
        },
      );

      expect(code).toBe(0);
      const report = JSON.parse(out.at(-1)!) as FanOutReport;
      expect(report.status).toBe('succeeded');
      if (report.kind !== 'validate') throw new Error('a validation fan-out');
      for (const app of report.apps) expect(app.iterations.at(-1)!.approval).toMatchObject({ by: 'night-shift' });
      expect(err).toContain(`→ validate-${a}`);
      expect(err.some((line) => line.startsWith(`✓ validate-${b} (`))).toBe(true);
      expect(err.some((line) => line.startsWith(`! promote-${a}-prod waits for approval`))).toBe(true);
      expect(
        readdirSync(dir)
          .filter((f) => f.startsWith('fan-out-validate-'))
          .map((f) => f.split('.').slice(1).join('.')),
      ).toEqual(expect.arrayContaining(['json', 'md', 'junit.xml']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends cancelled when cancelled: the running app unwinds, the apps not started yet never start', async () => {
    const [a, b] = [unique('a'), unique('b')];
    const fakes = new FakeApps([a, b]);
    h.install(fakes);
    fakes.of(a).block('findCiBuildForCommit');
    const handle = await start({ kind: 'validate', apps: [a, b], concurrency: 1, approvalEnvironments: [] });
    await until(() => fakes.of(a).callsOf('findCiBuildForCommit').length === 1, `${a} waits for its CI build`);

    await handle.cancel();

    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const child = await h.env.client.workflow.getHandle(`validate-${a}`).describe();
    expect(child.status.name).toBe('CANCELLED');
    expect(fakes.of(b).calls).toEqual([]);
  });

  it('refuses an input with a field no single-app run takes, before any app starts', async () => {
    const fakes = new FakeApps(['x']);
    h.install(fakes);
    const handle = await start({ kind: 'validate', apps: ['x'], sourceEnv: 'dev' } as unknown as FanOutInput);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'ValidationError' });
    expect(((err as WorkflowFailedError).cause as Error).message).toContain('sourceEnv is not a known field');
    expect(fakes.log).toEqual([]);
  });
});
