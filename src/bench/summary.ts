/**
 * Turns the bench's measurements into figures with targets (issue 14 point 5): side by side (wall time, API calls,
 * detection latency, the ratios seed/Shepherd), P3, P4, P5 and growth. Pure, so that the marking can be specified
 * by tests on fixed inputs.
 */
import { detectionLatencies } from './latency.js';
import type { P4Measure } from './p4.js';
import { atLeast, atMost, figure, mean, median, percentile, ratio, type Figure } from './report.js';
import { SYSTEM_IDS, SYSTEM_LABELS, type KillMeasure, type RunMeasure, type SystemId } from './runs.js';
import { SYSTEMS } from './sandbox-probe.js';
import type { WaitKind } from './seed-flow.js';

export interface BenchMeasures {
  /** The side-by-side runs at the base time scale (every repetition of every system). */
  readonly sideBySide?: readonly RunMeasure[];
  /** The same at the slow time scale (growth). */
  readonly growth?: readonly RunMeasure[];
  readonly growthFactor?: number;
  /** Shepherd runs whose histories P3 counts (the side-by-side ones, or one run of its own). */
  readonly p3?: readonly RunMeasure[];
  readonly p4?: P4Measure;
  readonly p4TargetApps?: number;
  readonly p5?: KillMeasure;
  /** Why a system was not run at all (e.g. webhooks not in this build). */
  readonly skipped?: Partial<Record<SystemId, string>>;
}

export interface SystemSummary {
  readonly system: SystemId;
  readonly runs: number;
  readonly succeeded: number;
  readonly errors: readonly string[];
  readonly wallMs?: number;
  readonly calls?: Record<string, number>;
  readonly callsUnavailable?: string;
  readonly latencyMs?: { readonly all: readonly number[]; readonly byKind: Partial<Record<WaitKind, number[]>> };
  readonly latencyUnavailable?: string;
  readonly historyEvents?: number;
  readonly histories?: number;
}

/** An error as one line of a table note (process tails span many lines). */
const oneLine = (text: string): string => {
  const flat = text.replace(/\s*\n\s*/g, ' / ');
  return flat.length > 300 ? `${flat.slice(0, 297)}…` : flat;
};

export function summarise(system: SystemId, runs: readonly RunMeasure[]): SystemSummary {
  const mine = runs.filter((r) => r.system === system);
  const ok = mine.filter((r) => r.ok);
  const walls = ok.flatMap((r) => (r.wallMs === undefined ? [] : [r.wallMs]));
  const counted = ok.filter((r) => r.calls);
  const calls: Record<string, number> | undefined =
    counted.length === 0
      ? undefined
      : Object.fromEntries([...SYSTEMS, 'total' as const].map((s) => [s, mean(counted.map((r) => r.calls![s]))!]));
  const timed = ok.filter((r) => r.timeline);
  const byKind: Partial<Record<WaitKind, number[]>> = {};
  for (const r of timed)
    for (const [kind, values] of Object.entries(detectionLatencies(r.waits, r.timeline!)))
      (byKind[kind as WaitKind] ??= []).push(...values);
  const all = Object.values(byKind).flat();
  const historyRuns = ok.filter((r) => r.historyEvents !== undefined);
  const wallMs = median(walls);
  return {
    system,
    runs: mine.length,
    succeeded: ok.length,
    errors: mine.flatMap((r) => (r.error ? [oneLine(r.error)] : [])),
    ...(wallMs !== undefined ? { wallMs } : {}),
    ...(calls
      ? { calls }
      : { callsUnavailable: mine.find((r) => r.callsUnavailable)?.callsUnavailable ?? 'no run succeeded' }),
    ...(timed.length > 0 && all.length > 0
      ? { latencyMs: { all, byKind } }
      : {
          latencyUnavailable:
            mine.find((r) => r.timelineUnavailable)?.timelineUnavailable ??
            (timed.length > 0 ? 'the timeline held no change inside a wait' : 'no run succeeded'),
        }),
    ...(historyRuns.length > 0
      ? {
          historyEvents: Math.max(...historyRuns.map((r) => r.historyEvents!)),
          histories: Math.max(...historyRuns.map((r) => r.histories ?? 0)),
        }
      : {}),
  };
}

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

function sideBySideFigures(prefix: string, title: string, m: BenchMeasures, runs: readonly RunMeasure[]): Figure[] {
  const figures: Figure[] = [];
  const s = Object.fromEntries(SYSTEM_IDS.map((id) => [id, summarise(id, runs)])) as Record<SystemId, SystemSummary>;
  const why = (id: SystemId): string =>
    m.skipped?.[id] ?? (s[id].runs === 0 ? 'not run' : `no run succeeded: ${s[id].errors[0] ?? 'unknown'}`);
  for (const id of SYSTEM_IDS) {
    const sum = s[id];
    const label = `${title}${SYSTEM_LABELS[id]}`;
    const isShepherd = id !== 'seed';
    figures.push(
      figure({
        id: `${prefix}.${id}.wall`,
        label: `${label}: wall time (median of ${sum.succeeded}/${sum.runs})`,
        value: seconds(sum.wallMs),
        unit: 's',
        ...(isShepherd && s.seed.wallMs !== undefined
          ? { target: atMost(Number((s.seed.wallMs / 1000).toFixed(1)), 's') }
          : {}),
        unavailable: why(id),
        missed: `Shepherd's workflow took longer than the seed's flow (${((sum.wallMs ?? 0) / 1000).toFixed(1)} s against ${((s.seed.wallMs ?? 0) / 1000).toFixed(1)} s)`,
        remedy:
          'Shepherd runs about 30 steps where the seed runs 15 (it reads what each environment runs and declares before and after, and waits for a stable rollout): fold the reads of a hop into one activity, and start the next step in the same workflow task',
      }),
    );
    if (sum.errors.length > 0)
      figures.push(
        figure({
          id: `${prefix}.${id}.failed-runs`,
          label: `${label}: runs that failed`,
          value: sum.runs - sum.succeeded,
          unit: '',
          target: atMost(0, ''),
          missed: sum.errors[0],
          remedy: 'see the error in the JSON report (runs[].error)',
        }),
      );
    const callsUnavailable = sum.calls ? undefined : (m.skipped?.[id] ?? sum.callsUnavailable);
    figures.push(
      figure({
        id: `${prefix}.${id}.calls`,
        label: `${label}: API calls${sum.calls ? ` (GitLab ${Math.round(sum.calls.gitlab!)}, Jenkins ${Math.round(sum.calls.jenkins!)}, Kubernetes ${Math.round(sum.calls.kubernetes!)})` : ''}`,
        value: sum.calls?.total,
        unit: 'calls',
        unavailable: callsUnavailable ?? 'not measured',
        remedy: 'the sandbox counting requests (GET /requests, issue 14 point 4)',
      }),
    );
    const latencyUnavailable = m.skipped?.[id] ?? sum.latencyUnavailable;
    figures.push(
      figure({
        id: `${prefix}.${id}.detection-p50`,
        label: `${label}: detection latency p50 (all waits)`,
        value: seconds(percentile(sum.latencyMs?.all ?? [], 50)),
        unit: 's',
        ...(id === 'shepherd-webhooks' ? { target: atMost(0.5, 's') } : {}),
        unavailable: latencyUnavailable ?? 'not measured',
        missed: 'changes are still found by polling, not by events',
        remedy:
          id === 'shepherd-webhooks'
            ? 'webhook deliveries (sandbox) waking the waits through the receiver and the wake signal (issue 14 points 1, 2, 4)'
            : 'the sandbox recording its changes (GET /timeline, issue 14 point 4)',
      }),
      figure({
        id: `${prefix}.${id}.detection-p99`,
        label: `${label}: detection latency p99 (all waits)`,
        value: seconds(percentile(sum.latencyMs?.all ?? [], 99)),
        unit: 's',
        unavailable: latencyUnavailable ?? 'not measured',
      }),
    );
    for (const [kind, values] of Object.entries(sum.latencyMs?.byKind ?? {})) {
      figures.push(
        figure({
          id: `${prefix}.${id}.detection.${kind}`,
          label: `${label}: detection p50/p99 ${kind} (${values.length} waits)`,
          value: seconds(percentile(values, 50)),
          unit: `s / ${(seconds(percentile(values, 99)) ?? 0).toFixed(2)} s`,
        }),
      );
    }
  }
  for (const id of ['shepherd-polling', 'shepherd-webhooks'] as const) {
    figures.push(
      figure({
        id: `${prefix}.ratio.wall.seed-over-${id}`,
        label: `${title}wall time seed / ${SYSTEM_LABELS[id]}`,
        value: ratio(s.seed.wallMs, s[id].wallMs),
        unit: '×',
        unavailable: s.seed.wallMs === undefined ? why('seed') : why(id),
      }),
      figure({
        id: `${prefix}.ratio.calls.seed-over-${id}`,
        label: `${title}API calls seed / ${SYSTEM_LABELS[id]}`,
        value: ratio(s.seed.calls?.total, s[id].calls?.total),
        unit: '×',
        ...(id === 'shepherd-webhooks' ? { target: atLeast(2, '×') } : {}),
        unavailable: s.seed.calls
          ? (m.skipped?.[id] ?? s[id].callsUnavailable ?? why(id))
          : (s.seed.callsUnavailable ?? why('seed')),
        missed: "Shepherd's calls are more than half the seed's",
        remedy:
          "the waits already look only when woken; what remains are Shepherd's checks the seed never makes: share one Kubernetes watch per collection among all waits of a worker (today each wait lists and watches its own), and read the declared image and the MR once per hop",
      }),
    );
  }
  return figures;
}

function historyFigure(runs: readonly RunMeasure[]): Figure {
  const shepherd = runs.filter((r) => r.system !== 'seed' && r.ok && r.historyEvents !== undefined);
  const worst = shepherd.reduce<RunMeasure | undefined>(
    (a, r) => (!a || r.historyEvents! > a.historyEvents! ? r : a),
    undefined,
  );
  return figure({
    id: 'p3.history-events',
    label: `P3 history events of a full validation (parent + ${worst ? worst.histories! - 1 : '?'} children, largest run)`,
    value: worst?.historyEvents,
    unit: 'events',
    target: atMost(1000, 'events'),
    unavailable: 'no Shepherd validation succeeded',
    missed: 'the runs record more events than the budget',
    remedy: 'fewer activity attempts per wait (longer heartbeating waits), or continue-as-new in long children',
  });
}

function p4Figures(p4: P4Measure, targetApps: number): Figure[] {
  const unavailable = p4.error ? `P4 did not complete: ${oneLine(p4.error)}` : undefined;
  const figures: Figure[] = [
    figure({
      id: 'p4.apps',
      label: `P4 apps on one worker (${p4.promotions} promotions)`,
      value: p4.apps,
      unit: 'apps',
      target: atLeast(targetApps, 'apps'),
      missed: `run with ${p4.apps} apps, not ${targetApps} (a --quick run, --p4-apps, or the largest N this machine held)`,
      remedy: `run without --quick and --p4-apps ${targetApps} on a machine that holds ${targetApps} worlds`,
    }),
    figure({
      id: 'p4.failures',
      label: 'P4 failed promotions',
      value: p4.error ? undefined : p4.failures,
      unit: '',
      target: atMost(0, ''),
      ...(unavailable ? { unavailable } : {}),
      missed: p4.failureSamples.join('; '),
      remedy: 'see the failures in the JSON report (p4.failureSamples)',
    }),
    figure({
      id: 'p4.wall-ratio',
      label: `P4 wall time / one promotion (${((p4.wallMs ?? 0) / 1000).toFixed(1)} s / ${((p4.onePromotionMs ?? 0) / 1000).toFixed(1)} s)`,
      value: ratio(p4.wallMs, p4.onePromotionMs),
      unit: '×',
      target: atMost(3, '×'),
      ...(unavailable ? { unavailable } : {}),
      missed: 'the concurrent promotions queue behind one another (worker slots, one promote job per app, CPU)',
      remedy: 'more activity slots per worker, shorter waits between looks, more cores',
    }),
    figure({
      id: 'p4.rss-peak',
      label: 'P4 worker process RSS peak',
      value: p4.worker?.rssPeakMb,
      unit: 'MB',
      target: atMost(400, 'MB'),
      ...(unavailable ? { unavailable } : {}),
      missed: `${p4.worker ? `${p4.worker.rssAtStartMb.toFixed(0)} MB already with ${p4.worker.workers} idle Workers (about ${(p4.worker.rssAtStartMb / p4.worker.workers).toFixed(0)} MB each): ` : ''}one Temporal Worker per app, each with its own workflow threads and cache`,
      remedy: 'one worker serving many apps (multi-app workers), a smaller workflow cache',
    }),
    figure({
      id: 'p4.event-loop-p99',
      label: 'P4 worker event-loop delay p99',
      value: p4.worker?.eventLoopDelayP99Ms,
      unit: 'ms',
      ...(unavailable ? { unavailable } : {}),
    }),
  ];
  return figures;
}

function p5Figure(p5: KillMeasure): Figure {
  return figure({
    id: 'p5.kill-to-resume',
    label: `P5 SIGKILL mid-wait → wait running on the other worker (heartbeat timeout ${p5.heartbeatTimeoutS} s)`,
    value: p5.movedOnS,
    unit: 's',
    target: atMost(p5.heartbeatTimeoutS + 2, 's'),
    unavailable: p5.error ? oneLine(p5.error) : 'not measured',
    missed:
      `the new attempt started ${p5.movedOnS?.toFixed(1)} s after the kill` +
      (p5.timing
        ? `: ${p5.timing.lastHeartbeatBeforeKillS === undefined ? '' : `the last heartbeat was ${p5.timing.lastHeartbeatBeforeKillS.toFixed(1)} s before the kill; `}` +
          `the heartbeat timeout fired and the retry was scheduled at ${p5.timing.retryScheduledS?.toFixed(1) ?? '?'} s, ` +
          `then the retry's initial interval (WAIT_RETRY, 200 ms) before a worker could take it; ` +
          `a replacement worker polled at ${p5.timing.newWorkerReadyS?.toFixed(1) ?? '?'} s`
        : ''),
    remedy:
      'the heartbeat timeout is the floor: a shorter SHEPHERD_HEARTBEAT_TIMEOUT notices a dead worker sooner (at the cost of more heartbeats)',
  });
}

function growthFigures(m: BenchMeasures): Figure[] {
  const base = m.sideBySide ?? [];
  const slow = m.growth ?? [];
  const factor = m.growthFactor ?? 4;
  return SYSTEM_IDS.map((id) => {
    const a = summarise(id, base);
    const b = summarise(id, slow);
    const unavailable = m.skipped?.[id] ?? a.callsUnavailable ?? b.callsUnavailable ?? 'not measured';
    return figure({
      id: `growth.${id}.calls`,
      label: `Growth: ${SYSTEM_LABELS[id]} calls, world ${factor}× slower`,
      value: ratio(b.calls?.total, a.calls?.total),
      unit: '×',
      ...(id === 'shepherd-webhooks' ? { target: atMost(1.2, '×') } : {}),
      unavailable,
      missed: "Shepherd's calls still grow with how long the world takes",
      remedy: 'waits that look only when woken (webhooks, watch) with a fallback poll slower than the waits',
    });
  });
}

/** Every figure of the bench, in table order. */
export function benchFigures(m: BenchMeasures): Figure[] {
  const figures: Figure[] = [];
  if (m.sideBySide) {
    figures.push(...sideBySideFigures('side-by-side', '', m, m.sideBySide));
  }
  if (m.p3) figures.push(historyFigure(m.p3));
  if (m.p4) figures.push(...p4Figures(m.p4, m.p4TargetApps ?? 100));
  if (m.p5) figures.push(p5Figure(m.p5));
  if (m.growth) figures.push(...growthFigures(m));
  return figures;
}
