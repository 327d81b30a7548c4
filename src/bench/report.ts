/**
 * The bench's figures and how they are judged: every figure carries its target, a verdict (met, missed, or
 * unavailable when the piece that would measure it is not there), and for a missed or unavailable one the reason and
 * what would close it. Pure: the runner feeds it measurements, it builds the table and the JSON report.
 */

export type Verdict = 'met' | 'missed' | 'unavailable' | 'info';

export interface Target {
  readonly op: '<=' | '>=';
  readonly bound: number;
  /** How the target reads in the table, e.g. "≤ 0.5 s". */
  readonly text: string;
}

export interface Figure {
  /** Stable id, e.g. `side-by-side.webhooks.detection-p50`. */
  readonly id: string;
  readonly label: string;
  /** Null when the figure could not be measured: never a made-up number. */
  readonly value: number | null;
  readonly unit: string;
  readonly target?: Target;
  readonly verdict: Verdict;
  /** Why it was missed or is unavailable. */
  readonly reason?: string;
  /** What would close a missed target, or make an unavailable figure measurable. */
  readonly remedy?: string;
}

export interface FigureInput {
  readonly id: string;
  readonly label: string;
  readonly value: number | null | undefined;
  readonly unit: string;
  readonly target?: Target;
  /** Why the value is missing (required in spirit when value is null). */
  readonly unavailable?: string;
  /** Why the target was missed, when it is. */
  readonly missed?: string;
  /** What would close it. */
  readonly remedy?: string;
}

const targetText = (op: string, bound: number, unit: string): string =>
  unit === '×' ? `${op} ${bound}×` : `${op} ${bound} ${unit}`.trim();

export const atMost = (bound: number, unit: string): Target => ({
  op: '<=',
  bound,
  text: targetText('≤', bound, unit),
});
export const atLeast = (bound: number, unit: string): Target => ({
  op: '>=',
  bound,
  text: targetText('≥', bound, unit),
});

/** Judges a figure against its target. */
export function figure(input: FigureInput): Figure {
  const value = input.value === undefined || input.value === null || !Number.isFinite(input.value) ? null : input.value;
  const base = {
    id: input.id,
    label: input.label,
    value,
    unit: input.unit,
    ...(input.target ? { target: input.target } : {}),
  };
  if (value === null)
    return {
      ...base,
      verdict: input.target ? 'unavailable' : 'info',
      reason: input.unavailable ?? 'not measured',
      ...(input.remedy ? { remedy: input.remedy } : {}),
    };
  if (!input.target) return { ...base, verdict: 'info' };
  const ok = input.target.op === '<=' ? value <= input.target.bound : value >= input.target.bound;
  if (ok) return { ...base, verdict: 'met' };
  return {
    ...base,
    verdict: 'missed',
    reason: input.missed ?? `${formatValue(value, input.unit)} is not ${input.target.text}`,
    ...(input.remedy ? { remedy: input.remedy } : {}),
  };
}

/** The nearest-rank percentile (p in 0..100) of the values; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

export function median(values: readonly number[]): number | undefined {
  return percentile(values, 50);
}

export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** a / b, undefined when either is missing or b is zero. */
export function ratio(a: number | undefined | null, b: number | undefined | null): number | undefined {
  if (a === undefined || a === null || b === undefined || b === null || b === 0) return undefined;
  return a / b;
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'unavailable';
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toFixed(digits);
  if (unit === '×') return `${text}×`;
  return unit ? `${text} ${unit}` : text;
}

const MARK: Record<Verdict, string> = { met: 'met', missed: 'MISSED', unavailable: 'unavailable', info: '' };

/** The table printed on stdout: one row per figure, then the reasons and remedies of those not met. */
export function renderTable(figures: readonly Figure[]): string[] {
  const rows = figures.map((f) => [f.label, formatValue(f.value, f.unit), f.target?.text ?? '', MARK[f.verdict]]);
  const head = ['Figure', 'Value', 'Target', 'Verdict'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const notes = figures.filter((f) => f.verdict === 'missed' || f.verdict === 'unavailable');
  if (notes.length > 0) {
    out.push('', 'Not met:');
    for (const f of notes) {
      out.push(`- ${f.label} (${MARK[f.verdict]}): ${f.reason ?? ''}`);
      if (f.remedy) out.push(`    to close it: ${f.remedy}`);
    }
  }
  const counts = (v: Verdict): number => figures.filter((f) => f.verdict === v).length;
  out.push('', `${counts('met')} met, ${counts('missed')} missed, ${counts('unavailable')} unavailable`);
  return out;
}
