/**
 * Polling for tests, two names with one meaning each: `eventually` waits for a value (undefined means "not yet"),
 * `until` waits for a condition to hold. A probe that throws counts as "not yet" (unless it throws GiveUp); at the deadline the error names
 * what was awaited and the probe's last error. The deadline is a ceiling for a broken test, never an assertion on
 * timing.
 */

export interface PollOptions {
  /** How long to keep polling; default 30 s. */
  readonly timeoutMs?: number;
  /** The pause between two looks; default 20 ms (the sandbox's models are in-process and cheap to look at). */
  readonly everyMs?: number;
}

type Awaitable<T> = T | Promise<T>;

/** What `eventually` can wait for: not a boolean (a condition is `until`'s), not a promise (it is awaited). */
type Value = string | number | (object & { then?: never });

/** Thrown by a probe to stop polling at once: what it waits for can no longer happen. */
export class GiveUp extends Error {}

/** Polls `probe` until it returns a value other than undefined, and resolves with that value. */
export async function eventually<T extends Value>(
  probe: () => Awaitable<T | undefined>,
  what: string,
  opts: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      // A boolean would make `false` a value: conditions are `until`'s job.
      if (typeof value === 'boolean') throw new GiveUp(`eventually(${what}): the probe returned a boolean; use until`);
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause =
        lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`;
      throw new Error(`timed out waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 20));
  }
}

/** Polls `check` until it returns true. */
export async function until(check: () => Awaitable<boolean>, what: string, opts: PollOptions = {}): Promise<void> {
  await eventually(async () => ((await check()) ? 'held' : undefined), what, opts);
}
