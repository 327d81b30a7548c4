/**
 * Unified diffs of two texts, as `diff -u` / `git diff` print them: `--- a/path`, `+++ b/path`, then hunks with three
 * lines of context. Line matching is a longest-common-subsequence over the lines between the common head and tail,
 * which is exact and fast for the files a promotion edits (a few hundred lines, a few changed).
 */

const CONTEXT = 3;

interface Line {
  readonly text: string;
  /** Whether the line ends in a newline (only the last line of a file may not). */
  readonly eol: boolean;
}

function linesOf(text: string): Line[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const last = parts.pop()!;
  const lines = parts.map((t) => ({ text: t, eol: true }));
  if (last !== '') lines.push({ text: last, eol: false });
  return lines;
}

const same = (a: Line, b: Line): boolean => a.text === b.text && a.eol === b.eol;

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: Line };

/** The edit script turning `a` into `b`. */
function editScript(a: readonly Line[], b: readonly Line[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && same(a[head]!, b[head]!)) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && same(a[a.length - 1 - tail]!, b[b.length - 1 - tail]!))
    tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  // lcs[i][j]: the length of the longest common subsequence of x[i..] and y[j..].
  const lcs = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      lcs[i]![j] = same(x[i]!, y[j]!) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = a.slice(0, head).map((line) => ({ kind: ' ', line }));
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && same(x[i]!, y[j]!)) {
      ops.push({ kind: ' ', line: x[i++]! });
      j++;
    } else if (j >= y.length || (i < x.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ kind: '-', line: x[i++]! });
    else ops.push({ kind: '+', line: y[j++]! });
  }
  for (const line of a.slice(a.length - tail)) ops.push({ kind: ' ', line });
  return ops;
}

/** `start,count` of a hunk side, as diff prints it (`,1` left out; an empty side names the line before it). */
function side(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/** A unified diff of `before` → `after` for `path`; '' when they are equal. */
export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return '';
  const ops = editScript(linesOf(before), linesOf(after));
  const out = [`--- a/${path}`, `+++ b/${path}`];
  let k = 0;
  while (k < ops.length) {
    const firstChange = ops.findIndex((op, idx) => idx >= k && op.kind !== ' ');
    if (firstChange < 0) break;
    const start = Math.max(k, firstChange - CONTEXT);
    // The hunk runs until a stretch of more than 2×CONTEXT unchanged lines (or the end).
    let end = firstChange;
    let lastChange = firstChange;
    while (end < ops.length && end - lastChange <= 2 * CONTEXT + 1) {
      if (ops[end]!.kind !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + CONTEXT + 1);
    const before0 = ops.slice(0, start).filter((op) => op.kind !== '+').length + 1;
    const after0 = ops.slice(0, start).filter((op) => op.kind !== '-').length + 1;
    const hunk = ops.slice(start, end);
    const oldCount = hunk.filter((op) => op.kind !== '+').length;
    const newCount = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${side(before0, oldCount)} +${side(after0, newCount)} @@`);
    for (const op of hunk) {
      out.push(`${op.kind}${op.line.text}`);
      if (!op.line.eol) out.push('\\ No newline at end of file');
    }
    k = end;
  }
  return `${out.join('\n')}\n`;
}
