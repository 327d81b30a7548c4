/**
 * Freeze windows: whether an environment is frozen at an instant, and until when. Pure (Intl only, no I/O), shared
 * by the activity that checks the worker's layout and by the gate's tests.
 *
 * Rules:
 * - A weekly window `Fri 16:00` → `Mon 08:00` is read as wall-clock time in the windows' `timeZone` every week: it
 *   opens at 16:00 local time each Friday and closes at 08:00 local time the Monday after, whatever the UTC offset
 *   on either day (DST). A window whose end day comes before its start day wraps the week; one whose end equals its
 *   start (`Mon 00:00` → `Mon 00:00`) lasts the whole week.
 * - A one-off window's `from`/`to` are dates (`2026-12-24`: from the start of that day, to the end of that day, in
 *   the time zone) or ISO instants (taken as written).
 * - A window holds from its start (included) to its end (excluded). Windows that overlap or touch (one ends when
 *   the next starts) are one span: `until` is the end of the whole span, so that a promotion released at `until`
 *   does not meet a window at once.
 * - A wall-clock time that does not exist (the hour skipped when clocks go forward) is the instant the clocks
 *   jumped to; one that happens twice (the hour repeated when clocks go back) is its first occurrence.
 */
import type { FreezeWindows } from './pipeline.js';

/** Whether an environment is frozen at an instant; when it is: until when, which window, and the window's reason. */
export type FreezeState =
  | { readonly frozen: false }
  | {
      readonly frozen: true;
      /** ISO instant the merged span of windows ends: the first instant no window holds. */
      readonly until: string;
      /** The window holding the instant, as people read it: `Fri 16:00 → Mon 08:00 Europe/Berlin`. */
      readonly window: string;
      readonly reason?: string;
    };

/** How far past an instant a chain of windows is followed; a chain longer than that (always frozen) ends there. */
export const FREEZE_HORIZON_DAYS = 400;

const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const WEEKLY_POINT = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) ([01]\d|2[0-3]):([0-5]\d)$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A window as instants: [start, end), its description and reason, and its place among the declared windows. */
interface Span {
  readonly start: number;
  readonly end: number;
  readonly window: string;
  readonly reason: string | undefined;
}

/** A calendar date, days counted from 1970-01-01 (the arithmetic of dates without any time zone). */
type DayNumber = number;

/**
 * Whether `windows` freeze their environment at `instant`, and until when: the end of the span of overlapping or
 * adjacent windows that holds it. Throws on a malformed window or an unknown time zone (the pipeline file's schema
 * refuses both before they get here).
 */
export function freezeAt(windows: FreezeWindows, instant: Date | string): FreezeState {
  const at = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  if (Number.isNaN(at)) throw new Error(`freezeAt needs an ISO instant, got ${String(instant)}`);
  const zone = windows.timeZone;
  offsetAt(zone, at); // an unknown zone throws here, naming it
  const oneOff = windows.dates.map((d) => oneOffSpan(d, zone));
  const spansAround = (from: number, to: number): Span[] => [
    ...windows.weekly.flatMap((w) => weeklySpans(w, zone, from, to)),
    ...oneOff.filter((s) => s.end > from && s.start <= to),
  ];
  const holding = spansAround(at, at).filter((s) => s.start <= at && at < s.end);
  if (holding.length === 0) return { frozen: false };
  // The window people are told about: the one holding the instant that ends last (declared order on a tie).
  const shown = holding.reduce((best, s) => (s.end > best.end ? s : best));
  const limit = at + FREEZE_HORIZON_DAYS * DAY_MS;
  let until = shown.end;
  for (;;) {
    const next = spansAround(until, until).filter((s) => s.start <= until && s.end > until);
    if (next.length === 0 || until >= limit) break;
    until = Math.min(limit, Math.max(...next.map((s) => s.end)));
  }
  return {
    frozen: true,
    until: new Date(until).toISOString(),
    window: shown.window,
    ...(shown.reason !== undefined ? { reason: shown.reason } : {}),
  };
}

/** `Fri 16:00` → weekday 5 and 960 minutes. */
function weeklyPoint(point: string): { weekday: number; minutes: number } {
  const m = WEEKLY_POINT.exec(point);
  if (!m) throw new Error(`a weekly freeze point must be a day and time such as "Fri 16:00", got "${point}"`);
  return { weekday: WEEKDAYS.indexOf(m[1] as (typeof WEEKDAYS)[number]), minutes: Number(m[2]) * 60 + Number(m[3]) };
}

/**
 * The occurrences of a weekly window that may hold an instant in [from, to]: those starting in the weeks around
 * it (a week before `from`, since a window lasts at most a week, to a week after `to`).
 */
function weeklySpans(
  w: { readonly from: string; readonly to: string; readonly reason?: string | undefined },
  zone: string,
  from: number,
  to: number,
): Span[] {
  const start = weeklyPoint(w.from);
  const end = weeklyPoint(w.to);
  let lengthDays = (end.weekday - start.weekday + 7) % 7;
  if (lengthDays === 0 && end.minutes <= start.minutes) lengthDays = 7;
  const first = localDay(zone, from - 8 * DAY_MS);
  const last = localDay(zone, to + DAY_MS);
  // The first day on or after `first` that is the window's start day.
  let day = first + ((start.weekday - weekdayOf(first) + 7) % 7);
  const spans: Span[] = [];
  for (; day <= last; day += 7) {
    const s = zonedInstant(zone, day, start.minutes);
    const e = zonedInstant(zone, day + lengthDays, end.minutes);
    if (e > from && s <= to) spans.push({ start: s, end: e, window: `${w.from} → ${w.to} ${zone}`, reason: w.reason });
  }
  return spans;
}

/** A one-off window: dates are whole days in the zone (`to` up to the end of its day), instants as written. */
function oneOffSpan(
  d: { readonly from: string; readonly to: string; readonly reason?: string | undefined },
  zone: string,
): Span {
  const point = (value: string, edge: 'start' | 'end'): number => {
    const date = DATE_ONLY.exec(value);
    if (date) {
      const day = Math.floor(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])) / DAY_MS);
      return zonedInstant(zone, edge === 'start' ? day : day + 1, 0);
    }
    const parsed = Date.parse(value);
    if (Number.isNaN(parsed))
      throw new Error(`a freeze date must be a date (2026-12-24) or an ISO instant, got "${value}"`);
    return parsed;
  };
  return {
    start: point(d.from, 'start'),
    end: point(d.to, 'end'),
    window: `${d.from} → ${d.to} ${zone}`,
    reason: d.reason,
  };
}

function weekdayOf(day: DayNumber): number {
  return new Date(day * DAY_MS).getUTCDay();
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's wall-clock fields at `instant`. */
function wallClock(
  zone: string,
  instant: number,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(instant))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** The zone's UTC offset at `instant`, in milliseconds (east positive). */
function offsetAt(zone: string, instant: number): number {
  const w = wallClock(zone, instant);
  const wallAsUtc = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  return wallAsUtc - Math.floor(instant / 1000) * 1000;
}

/** The calendar day it is in the zone at `instant`. */
function localDay(zone: string, instant: number): DayNumber {
  const w = wallClock(zone, instant);
  return Math.floor(Date.UTC(w.y, w.mo - 1, w.d) / DAY_MS);
}

/**
 * The instant the zone's clocks show `minutes` past midnight of `day`. Skipped wall times (clocks going forward)
 * map to the instant the clocks jumped to plus the time past the jump's start; repeated ones to the first occurrence.
 */
function zonedInstant(zone: string, day: DayNumber, minutes: number): number {
  const wall = day * DAY_MS + minutes * 60_000;
  const before = offsetAt(zone, wall - DAY_MS);
  const after = offsetAt(zone, wall + DAY_MS);
  const valid = [wall - before, wall - after].filter((c) => offsetAt(zone, c) === wall - c);
  if (valid.length > 0) return Math.min(...valid);
  // In the gap: read with the offset before the jump, the wall time lands that far past it.
  return wall - before;
}
