/**
 * The sandbox's sense of time: one knob (`timeScale`) turns the durations of the real installation (a CI build
 * takes minutes, Argo CD polls Git every few minutes) into the milliseconds a local run can afford.
 *
 * Every timer the world starts goes through a `Clock`, so stopping the world cancels all of them and nothing keeps
 * the process alive after a test.
 */

/** Durations of the real installation, in milliseconds of real time, before scaling. */
export const REAL_DURATIONS = {
  /** Jenkins quiet period and wait for an executor. */
  queueWait: 5_000,
  /** The example-app CI build: checkout, tests, Jib publish, dev MR. */
  ciBuild: 180_000,
  /** The promote-environment job: clone, update env.cue, regenerate manifests, push, MR. */
  promoteBuild: 60_000,
  /** GitLab's asynchronous mergeability check after an MR is created or its head moves. */
  mergeCheck: 3_000,
  /** Argo CD noticing a new commit on the tracked branch (its repo poll, shortened by a webhook). */
  argoDetect: 30_000,
  /** An Argo CD sync operation applying the manifests. */
  argoSync: 10_000,
  /** A pod pulling its image and passing its readiness probe. */
  podStart: 20_000,
  /** Time between two crashes of a pod in CrashLoopBackOff. */
  crashLoop: 10_000,
} as const;

export type DurationName = keyof typeof REAL_DURATIONS;

/** The default scale: a three-environment run takes a few seconds. */
export const DEFAULT_TIME_SCALE = 0.01;

export class Clock {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(readonly timeScale: number = DEFAULT_TIME_SCALE) {
    if (!(timeScale > 0)) throw new Error(`timeScale must be a positive number, got ${timeScale}`);
  }

  /** The scaled length of a named real-world duration, in milliseconds (at least 1). */
  duration(name: DurationName): number {
    return this.scale(REAL_DURATIONS[name]);
  }

  /** Scales an arbitrary real-world duration. */
  scale(realMs: number): number {
    return Math.max(1, Math.round(realMs * this.timeScale));
  }

  now(): number {
    return Date.now();
  }

  /** Runs `fn` after `ms` milliseconds of wall time unless the clock is stopped first. */
  after(ms: number, fn: () => void): () => void {
    if (this.stopped) return () => {};
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  /** Resolves after `ms` milliseconds; never resolves once the clock is stopped (work in flight just ends). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.after(ms, resolve);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}
