/**
 * Durations as Shepherd accepts them everywhere (run inputs, configuration, CLI flags): a positive whole number
 * followed by one unit, `ms`, `s`, `m`, `h` or `d` (a day is 24 h). The same text is a valid Temporal duration.
 */

/** The one form of a duration: `30s`, `10m`, `24h`, `2d`, `500ms`. */
export const DURATION_PATTERN = /^[1-9][0-9]*(ms|s|m|h|d)$/;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** The duration in milliseconds, or undefined when `text` is not of the one form. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  return Number(text.slice(0, -match[1]!.length)) * UNIT_MS[match[1] as Unit];
}

/** Milliseconds in the largest unit that divides them exactly: 86_400_000 → `1d`, 90_000 → `90s`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
