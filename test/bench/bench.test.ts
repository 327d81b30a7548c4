import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { concernsEnv, detectionLatencies, waitsFromHistory } from '../../src/bench/latency.js';
import { parseBenchArgs } from '../../src/bench/main.js';
import { atLeast, atMost, figure, percentile, ratio, renderTable } from '../../src/bench/report.js';
import type { RunMeasure } from '../../src/bench/runs.js';
import { parseCallCounts, parseTimeline, readCallCounts, readTimeline } from '../../src/bench/sandbox-probe.js';
import { bumpVersion, runSeedFlow, type FlowWait } from '../../src/bench/seed-flow.js';
import { benchFigures } from '../../src/bench/summary.js';
import { startWorld, type World } from '../../src/sandbox/world/world.js';

describe('the reference implementation of the seed flow', () => {
  let world: World | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await world?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    world = undefined;
  });

  it('takes a version bump from the push to prod, waiting on CI, the MRs, Argo CD and the pods of each environment', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    world = await startWorld({ dir, timeScale: 0.01 });
    const result = await runSeedFlow({ world: world.info, timeScale: 0.01 });

    expect(result.imageTag).toMatch(/^1\.0\.37-SNAPSHOT-[0-9a-f]{7}$/);
    expect(result.waits.map((w) => `${w.env}:${w.kind}`)).toEqual([
      'dev:jenkins-build',
      'dev:merge-request',
      'dev:argocd-sync',
      'dev:pods',
      'stage:jenkins-build',
      'stage:merge-request',
      'stage:argocd-sync',
      'stage:pods',
      'prod:jenkins-build',
      'prod:merge-request',
      'prod:argocd-sync',
      'prod:pods',
    ]);
    for (const w of result.waits) expect(w.movedOnAt).toBeGreaterThanOrEqual(w.startedAt);
    const envCue = world.gitlab.readFile(world.info.gitlab.deploymentsProject, 'prod', 'env.cue') ?? '';
    expect(envCue).toContain(`:${result.imageTag}`);
    expect(world.gitlab.branchHead(world.info.gitlab.appProject, 'main')).toBeDefined();
  });

  it("reports the world's counters as unavailable, with the reason, when the sandbox has no such endpoint", async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    world = await startWorld({ dir, timeScale: 0.01 });
    const [calls, timeline] = await Promise.all([
      readCallCounts(world.info.admin.url),
      readTimeline(world.info.admin.url),
    ]);
    // Either the endpoint exists (issue 14 point 4 merged) and answers counts, or the probe says why not.
    if (calls.ok) expect(calls.value.total).toBeGreaterThanOrEqual(0);
    else expect(calls.reason).toMatch(/GET \/requests/);
    if (timeline.ok) expect(Array.isArray(timeline.value)).toBe(true);
    else expect(timeline.reason).toMatch(/GET \/timeline/);
  });

  it('bumps the patch number of the pom version, keeping the qualifier', () => {
    expect(bumpVersion('1.0.36-SNAPSHOT')).toBe('1.0.37-SNAPSHOT');
    expect(bumpVersion('2.4.9')).toBe('2.4.10');
    expect(() => bumpVersion('latest')).toThrow(/cannot bump/);
  });
});

describe('the bench report', () => {
  it('marks a figure met, missed, or unavailable with its reason, never inventing a value', () => {
    expect(figure({ id: 'a', label: 'a', value: 0.4, unit: 's', target: atMost(0.5, 's') }).verdict).toBe('met');
    const missed = figure({ id: 'b', label: 'b', value: 0.9, unit: 's', target: atMost(0.5, 's'), remedy: 'webhooks' });
    expect(missed).toMatchObject({ verdict: 'missed', remedy: 'webhooks' });
    expect(missed.reason).toContain('0.90 s');
    const unavailable = figure({
      id: 'c',
      label: 'c',
      value: undefined,
      unit: 'calls',
      target: atLeast(2, '×'),
      unavailable: 'no GET /requests',
    });
    expect(unavailable).toMatchObject({ value: null, verdict: 'unavailable', reason: 'no GET /requests' });
    expect(figure({ id: 'd', label: 'd', value: 3, unit: '' }).verdict).toBe('info');
  });

  it('computes nearest-rank percentiles and ratios, undefined where a side is missing', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([], 50)).toBeUndefined();
    expect(ratio(80, 40)).toBe(2);
    expect(ratio(80, undefined)).toBeUndefined();
    expect(ratio(80, 0)).toBeUndefined();
  });

  const seedWaits: FlowWait[] = [
    { kind: 'jenkins-build', env: 'dev', startedAt: 1_000, movedOnAt: 9_000, looks: 4 },
    { kind: 'merge-request', env: 'dev', startedAt: 9_000, movedOnAt: 9_010, looks: 1 },
  ];
  const shepherdWaits: FlowWait[] = [
    { kind: 'jenkins-build', env: 'dev', startedAt: 1_000, movedOnAt: 6_200, looks: 0 },
    { kind: 'merge-request', env: 'dev', startedAt: 6_300, movedOnAt: 6_700, looks: 0 },
  ];
  const timeline = [
    { kind: 'build-started', at: 1_200, detail: {} },
    { kind: 'build-finished', at: 6_000, detail: {} },
    { kind: 'mr-opened', at: 6_100, detail: {} },
  ];

  it('measures detection latency from the world change inside a wait to the next step, leaving out changes before it', () => {
    expect(detectionLatencies(seedWaits, timeline)).toEqual({ 'jenkins-build': [3_000] });
    expect(detectionLatencies(shepherdWaits, timeline)).toEqual({ 'jenkins-build': [200] });
  });

  it("counts only the changes of the wait's own environment", () => {
    const sync = (subject: string, at: number) => ({ kind: 'sync-finished', at, detail: { subject } });
    const wait: FlowWait = { kind: 'argocd-sync', env: 'stage', startedAt: 0, movedOnAt: 1_000, looks: 1 };
    expect(
      detectionLatencies([wait], [sync('argocd/example-app-stage', 400), sync('argocd/example-app-dev', 900)]),
    ).toEqual({
      'argocd-sync': [600],
    });
    const opened = {
      kind: 'mr-opened',
      at: 700,
      detail: { subject: 'p2c/k8s-deployments!4', detail: { target: 'prod' } },
    };
    expect(concernsEnv(opened, 'prod')).toBe(true);
    expect(concernsEnv(opened, 'stage')).toBe(false);
    expect(concernsEnv({ kind: 'build-finished', at: 1, detail: { subject: 'example-app/main#3' } }, 'dev')).toBe(true);
  });

  it('builds the side-by-side figures: ratios seed/Shepherd, targets met and missed, and skipped systems as unavailable', () => {
    const calls = (gitlab: number, jenkins: number, kubernetes: number) => ({
      gitlab,
      jenkins,
      kubernetes,
      total: gitlab + jenkins + kubernetes,
    });
    const runs: RunMeasure[] = [
      {
        system: 'seed',
        worldTimeScale: 0.1,
        ok: true,
        wallMs: 48_000,
        waits: seedWaits,
        calls: calls(20, 30, 28),
        timeline,
      },
      {
        system: 'shepherd-polling',
        worldTimeScale: 0.1,
        ok: true,
        wallMs: 52_000,
        waits: shepherdWaits,
        calls: calls(19, 157, 284),
        timeline,
        historyEvents: 640,
        histories: 4,
      },
    ];
    const figures = benchFigures({
      sideBySide: runs,
      p3: runs,
      skipped: { 'shepherd-webhooks': 'this build has no SHEPHERD_WEBHOOKS' },
      p5: { ok: true, heartbeatTimeoutS: 5, movedOnS: 6.1 },
      p4: {
        apps: 10,
        promotions: 20,
        failures: 0,
        failureSamples: [],
        wallMs: 30_000,
        onePromotionMs: 12_000,
        worker: { rssPeakMb: 450, rssAtStartMb: 400, eventLoopDelayP99Ms: 40, eventLoopDelayMaxMs: 90, workers: 11 },
        how: '10 apps',
      },
    });
    const byId = new Map(figures.map((f) => [f.id, f]));
    expect(byId.get('side-by-side.seed.calls')).toMatchObject({ value: 78, verdict: 'info' });
    expect(byId.get('side-by-side.shepherd-polling.wall')).toMatchObject({ value: 52, verdict: 'missed' });
    expect(byId.get('side-by-side.ratio.calls.seed-over-shepherd-polling')!.value).toBeCloseTo(78 / 460);
    expect(byId.get('side-by-side.shepherd-webhooks.detection-p50')).toMatchObject({
      value: null,
      verdict: 'unavailable',
      reason: 'this build has no SHEPHERD_WEBHOOKS',
    });
    expect(byId.get('side-by-side.ratio.calls.seed-over-shepherd-webhooks')!.verdict).toBe('unavailable');
    expect(byId.get('side-by-side.seed.detection-p50')).toMatchObject({ value: 3, verdict: 'info' });
    expect(byId.get('p3.history-events')).toMatchObject({ value: 640, verdict: 'met' });
    expect(byId.get('p4.apps')).toMatchObject({ value: 10, verdict: 'missed' });
    expect(byId.get('p4.wall-ratio')).toMatchObject({ value: 2.5, verdict: 'met' });
    expect(byId.get('p4.rss-peak')).toMatchObject({ value: 450, verdict: 'missed' });
    expect(byId.get('p5.kill-to-resume')).toMatchObject({ value: 6.1, verdict: 'met' });

    const table = renderTable(figures).join('\n');
    expect(table).toContain('Shepherd, webhooks off: wall time (median of 1/1)');
    expect(table).toMatch(/Not met:[\s\S]*this build has no SHEPHERD_WEBHOOKS/);
    expect(table).toMatch(/\d+ met, \d+ missed, \d+ unavailable$/);
  });

  it("reads the sandbox's counters in the shapes the contract allows", () => {
    expect(
      parseCallCounts({
        gitlab: { 'GET /api/v4/projects/:id': 3, 'PUT merge': 1 },
        jenkins: 5,
        kubernetes: { total: 7 },
      }),
    ).toEqual({ gitlab: 4, jenkins: 5, kubernetes: 7, total: 16 });
    expect(
      parseCallCounts([
        { system: 'gitlab', endpoint: 'GET /x', count: 2 },
        { system: 'argocd', endpoint: 'GET /y', count: 1 },
      ]),
    ).toEqual({ gitlab: 2, jenkins: 0, kubernetes: 1, total: 3 });
    expect(parseCallCounts({ nothing: 1 })).toBeUndefined();
    expect(
      parseTimeline({
        events: [
          { kind: 'mr-opened', at: '2026-01-01T00:00:02Z', iid: 1 },
          { type: 'build-finished', time: Date.parse('2026-01-01T00:00:01Z') },
          { kind: 'no-instant' },
        ],
      })?.map((c) => c.kind),
    ).toEqual(['build-finished', 'mr-opened']);
    expect(parseTimeline({ unrelated: true })).toBeUndefined();
  });

  it("reads Shepherd's waits from a history: from the wait's scheduling to the next command after its completion", () => {
    const t = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
    const events = [
      {
        eventId: 5,
        eventTime: t(1_000),
        activityTaskScheduledEventAttributes: { activityType: { name: 'awaitJenkinsBuild' } },
      },
      { eventId: 6, eventTime: t(1_010), activityTaskStartedEventAttributes: { scheduledEventId: 5 } },
      { eventId: 7, eventTime: t(6_000), activityTaskCompletedEventAttributes: { scheduledEventId: 5 } },
      { eventId: 8, eventTime: t(6_020), workflowTaskScheduledEventAttributes: {} },
      {
        eventId: 9,
        eventTime: t(6_050),
        activityTaskScheduledEventAttributes: { activityType: { name: 'readMergeRequest' } },
      },
    ] as unknown as temporal.api.history.v1.IHistoryEvent[];
    expect(waitsFromHistory(events, 'stage')).toEqual([
      { kind: 'jenkins-build', env: 'stage', startedAt: 1_000, movedOnAt: 6_050, looks: 0 },
    ]);
  });

  it('takes --quick as one repetition at time scale 0.01 with 10 apps and no growth, and refuses unknown parts', () => {
    const quick = parseBenchArgs(['--quick', '--out', '/tmp/x.json']);
    expect(quick).toMatchObject({
      quick: true,
      repetitions: 1,
      timeScale: 0.01,
      p4Apps: 10,
      parts: ['side-by-side', 'p3', 'p4', 'p5'],
      out: '/tmp/x.json',
    });
    const full = parseBenchArgs([], new Date('2026-11-29T06:00:00.000Z'));
    expect(full).toMatchObject({ repetitions: 3, timeScale: 0.1, p4Apps: 100 });
    expect(full !== 'help' && full.out).toMatch(/reports\/bench-2026-11-29T06-00-00-000Z\.json$/);
    expect(parseBenchArgs(['--help'])).toBe('help');
    expect(() => parseBenchArgs(['--only', 'p9'])).toThrow(/unknown part p9/);
  });
});
