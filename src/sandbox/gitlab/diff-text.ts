/**
 * Unified diffs of text files, as GitLab shows them in `diffs[].diff` and counts them in commit `stats`.
 * A longest-common-subsequence line diff; the files of the sandbox are small, so quadratic time is fine.
 */

export interface TextDiff {
  /** Hunks in unified format without the `---`/`+++` header, like GitLab's `diff` field. */
  readonly diff: string;
  readonly additions: number;
  readonly deletions: number;
}

const CONTEXT = 3;
/** Above this many line pairs the diff falls back to "everything removed, everything added". */
const MAX_CELLS = 4_000_000;

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

function lineOps(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_CELLS)
    return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push({ kind: '-', line: a[i++]! });
    else ops.push({ kind: '+', line: b[j++]! });
  }
  while (i < n) ops.push({ kind: '-', line: a[i++]! });
  while (j < m) ops.push({ kind: '+', line: b[j++]! });
  return ops;
}

/** The unified diff from `before` to `after`. */
export function unifiedDiff(before: string, after: string): TextDiff {
  const ops = lineOps(splitLines(before), splitLines(after));
  const additions = ops.filter((o) => o.kind === '+').length;
  const deletions = ops.filter((o) => o.kind === '-').length;
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === ' ') {
      k++;
      continue;
    }
    // A hunk: from CONTEXT lines before the change to CONTEXT lines after the last change within reach.
    let start = Math.max(0, k - CONTEXT);
    while (start < k && ops[start]!.kind !== ' ') start++;
    let end = k;
    let lastChange = k;
    while (end < ops.length && end - lastChange <= CONTEXT * 2) {
      if (ops[end]!.kind !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + CONTEXT + 1);
    let oldLine = 1;
    let newLine = 1;
    for (let x = 0; x < start; x++) {
      if (ops[x]!.kind !== '+') oldLine++;
      if (ops[x]!.kind !== '-') newLine++;
    }
    const slice = ops.slice(start, end);
    const oldCount = slice.filter((o) => o.kind !== '+').length;
    const newCount = slice.filter((o) => o.kind !== '-').length;
    out.push(
      `@@ -${oldCount === 0 ? oldLine - 1 : oldLine},${oldCount} +${newCount === 0 ? newLine - 1 : newLine},${newCount} @@`,
    );
    for (const o of slice) out.push(`${o.kind}${o.line}`);
    k = end;
  }
  return { diff: out.length > 0 ? `${out.join('\n')}\n` : '', additions, deletions };
}
