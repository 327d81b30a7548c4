/**
 * The chaos schedule: for each run, which fault scenario the world starts with and which faults strike when,
 * drawn from a seeded PRNG so that the same seed always gives the same schedule (the timing of what the faults
 * hit still depends on the machine; the schedule itself replays exactly).
 */
import type { SystemName } from '../sandbox/core/faults.js';

/** mulberry32: a small, well-mixed 32-bit PRNG; the same seed gives the same sequence on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fault scenarios switched on for a while in the middle of a run; the run must ride them out. */
export const TRANSIENT_SCENARIOS = ['gitlab-flaky', 'jenkins-flaky', 'kubernetes-flaky', 'slow-systems'] as const;
/** Scenarios a run may start with, and the outcome the run must then reach. */
export const RUN_SCENARIOS = { 'stage-degraded': 'rolled_back' } as const;
const OUTAGE_SYSTEMS: readonly SystemName[] = ['gitlab', 'jenkins', 'kubernetes'];

export type ChaosEvent =
  | { readonly at: number; readonly kind: 'kill-worker'; readonly restartAfterMs: number }
  | { readonly at: number; readonly kind: 'restart-dev-server'; readonly downMs: number }
  | {
      readonly at: number;
      readonly kind: 'scenario';
      readonly name: (typeof TRANSIENT_SCENARIOS)[number];
      readonly forMs: number;
    }
  | { readonly at: number; readonly kind: 'outage'; readonly system: SystemName; readonly forMs: number };

export interface RunPlan {
  readonly run: number;
  /** The scenario the run starts with (kept under every later fault), if any. */
  readonly scenario: keyof typeof RUN_SCENARIOS | undefined;
  readonly expected: 'succeeded' | 'rolled_back';
  /** In the order they strike; `at` is the moment as a fraction of the fault-free baseline run's duration. */
  readonly events: readonly ChaosEvent[];
}

export interface ScheduleOptions {
  readonly runs: number;
  readonly seed: number;
}

/**
 * Per run: stage-degraded with probability 1/6; then faults at random moments within the first 90 % of a
 * fault-free run's length (measured at the start, so the schedule itself does not depend on the machine). A worker SIGKILL is drawn in about a third of the runs (each costs a heartbeat timeout), a dev-server
 * restart in about a quarter, flaky or slow systems and short outages (1-8 s) in most.
 */
export function planRuns(opts: ScheduleOptions): RunPlan[] {
  const random = prng(opts.seed);
  const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const moment = (): number => Math.round(random() * 90) / 100;
  const plans: RunPlan[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    const scenario = random() < 1 / 6 ? 'stage-degraded' : undefined;
    const events: ChaosEvent[] = [];
    if (random() < 0.35) events.push({ at: moment(), kind: 'kill-worker', restartAfterMs: between(0, 2_000) });
    if (random() < 0.25) events.push({ at: moment(), kind: 'restart-dev-server', downMs: between(1_000, 5_000) });
    const faults = between(0, 2);
    for (let i = 0; i < faults; i++) {
      if (random() < 0.5)
        events.push({ at: moment(), kind: 'scenario', name: pick(TRANSIENT_SCENARIOS), forMs: between(2_000, 8_000) });
      else events.push({ at: moment(), kind: 'outage', system: pick(OUTAGE_SYSTEMS), forMs: between(1_000, 8_000) });
    }
    events.sort((a, b) => a.at - b.at);
    plans.push({ run, scenario, expected: scenario ? RUN_SCENARIOS[scenario] : 'succeeded', events });
  }
  return plans;
}

export function describeEvent(e: ChaosEvent): string {
  const at = `@${Math.round(e.at * 100)}%`;
  switch (e.kind) {
    case 'kill-worker':
      return `${at} SIGKILL worker`;
    case 'restart-dev-server':
      return `${at} restart dev server (${(e.downMs / 1000).toFixed(1)}s down)`;
    case 'scenario':
      return `${at} ${e.name} for ${(e.forMs / 1000).toFixed(1)}s`;
    case 'outage':
      return `${at} ${e.system} down ${(e.forMs / 1000).toFixed(1)}s`;
  }
}
