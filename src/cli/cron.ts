/**
 * Checks a cron expression before it reaches the server, so that a typo is a clear usage error naming the field
 * instead of a gRPC INVALID_ARGUMENT. Accepts what Temporal Schedules take in `cronExpressions` and people write
 * for a nightly job: five fields (minute hour day-of-month month day-of-week) with `*`, lists, ranges and steps,
 * month and weekday names, or one of the `@daily`-style macros.
 */

const MACROS = ['@yearly', '@monthly', '@weekly', '@daily', '@hourly'] as const;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The value of names[0]. */
  readonly namesFrom?: number;
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

function value(text: string, f: Field): number | undefined {
  const named = f.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + (f.namesFrom ?? 0);
  if (!/^\d{1,2}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= f.min && n <= f.max ? n : undefined;
}

function fieldProblem(text: string, f: Field): string | undefined {
  const range = `${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names.at(-1)}` : ''}`;
  for (const item of text.split(',')) {
    const [base = '', step, extra] = item.split('/');
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d{0,1}$/.test(step)))
      return `${f.name} "${item}": a step is "/" and a number from 1`;
    if (base === '*') continue;
    const [from = '', to, more] = base.split('-');
    const a = value(from, f);
    const b = to === undefined ? a : value(to, f);
    if (more !== undefined || a === undefined || b === undefined)
      return `${f.name} "${item}" is not *, a value or a range within ${range}`;
    if (b < a) return `${f.name} "${item}": the range runs backwards`;
  }
  return undefined;
}

/** Undefined when `expr` is a usable cron expression; otherwise what is wrong with it, for a person. */
export function cronProblem(expr: string): string | undefined {
  const trimmed = expr.trim();
  if (trimmed.startsWith('@'))
    return (MACROS as readonly string[]).includes(trimmed)
      ? undefined
      : `"${trimmed}" is not one of ${MACROS.join(', ')}`;
  const parts = trimmed.split(/\s+/).filter(Boolean);
  if (parts.length !== FIELDS.length)
    return `"${trimmed}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron expression has five: minute hour day-of-month month day-of-week (e.g. "0 2 * * *")`;
  for (const [i, f] of FIELDS.entries()) {
    const problem = fieldProblem(parts[i]!, f);
    if (problem) return problem;
  }
  return undefined;
}
