/**
 * The deliveries a receiver has acted on recently, so that a replay (GitLab's resend keeps `Idempotency-Key`;
 * Jenkins sends a build's phase once per endpoint) is acknowledged without signalling twice. In memory and per
 * receiver by design: receivers share nothing but Temporal, so a replay reaching another receiver signals again,
 * which costs the run at most one extra read.
 */
export class ReplayWindow {
  /** Key → when it expires (ms); a Map keeps insertion order, so the oldest entries come first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 10 * 60_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `key` was claimed within the window; otherwise claims it and returns false. */
  claim(key: string): boolean {
    const now = this.now();
    this.expire(now);
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return true;
    this.seen.delete(key);
    this.seen.set(key, now + this.windowMs);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    return false;
  }

  /** Forgets `key`, so that a resend of a delivery that could not be acted on is acted on. */
  release(key: string): void {
    this.seen.delete(key);
  }

  private expire(now: number): void {
    for (const [key, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(key);
    }
  }
}
