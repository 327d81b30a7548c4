/**
 * The vocabulary of `shepherd doctor`: one check is one line a user reads — what was checked, whether it holds,
 * and on failure what to do. A check that cannot run because an earlier one failed is `skipped`, not failed again,
 * so that the first failure of a system is the one that stands out.
 */

export const SYSTEMS = ['temporal', 'gitlab', 'jenkins', 'kubernetes'] as const;
export type DoctorSystem = (typeof SYSTEMS)[number];

export const SYSTEM_TITLES: Readonly<Record<DoctorSystem, string>> = {
  temporal: 'Temporal',
  gitlab: 'GitLab',
  jenkins: 'Jenkins',
  kubernetes: 'Kubernetes',
};

/** `not-applicable`: nothing to check in this installation (the reason says why); never a failure. */
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'not-applicable';

export interface CheckResult {
  readonly system: DoctorSystem;
  /** What was checked, as a sentence fragment: `namespace default exists`. */
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found: on a pass a fact (`as user shepherd`), on a failure what went wrong. */
  readonly detail?: string;
  /** On a failure, what to do about it. */
  readonly fix?: string;
}

export interface DoctorReport {
  /** True when no check failed. */
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
  readonly counts: Readonly<Record<CheckStatus, number>>;
}

export function reportOf(checks: readonly CheckResult[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, skipped: 0, 'not-applicable': 0 };
  for (const c of checks) counts[c.status] += 1;
  return { ok: counts.fail === 0, checks, counts };
}

export const pass = (system: DoctorSystem, check: string, detail?: string): CheckResult => ({
  system,
  check,
  status: 'pass',
  ...(detail ? { detail } : {}),
});

export const fail = (system: DoctorSystem, check: string, detail: string, fix: string): CheckResult => ({
  system,
  check,
  status: 'fail',
  detail,
  fix,
});

export const skipped = (system: DoctorSystem, check: string, because: string): CheckResult => ({
  system,
  check,
  status: 'skipped',
  detail: because,
});

export const notApplicable = (system: DoctorSystem, check: string, because: string): CheckResult => ({
  system,
  check,
  status: 'not-applicable',
  detail: because,
});

const MARKS: Readonly<Record<CheckStatus, string>> = { pass: '✓', fail: '✗', skipped: '-', 'not-applicable': '-' };

/** One line a check: `✓ GitLab: token is valid (user shepherd)`; a failure adds ` — <what happened>. <fix>`. */
export function renderLine(c: CheckResult): string {
  const head = `${MARKS[c.status]} ${SYSTEM_TITLES[c.system]}: ${c.check}`;
  switch (c.status) {
    case 'pass':
      return c.detail ? `${head} (${c.detail})` : head;
    case 'fail':
      return `${head} — ${c.detail}. ${c.fix}`;
    case 'skipped':
      return `${head} — not checked: ${c.detail}`;
    case 'not-applicable':
      return `${head} — not applicable: ${c.detail}`;
  }
}

/** The whole report as text: one line a check, then a summary line. */
export function renderText(report: DoctorReport): string[] {
  const lines = report.checks.map(renderLine);
  const { pass: passed, fail: failed, skipped: notChecked } = report.counts;
  const total = report.checks.length;
  lines.push(
    report.ok
      ? `All ${passed} checks passed${report.counts['not-applicable'] > 0 ? ` (${report.counts['not-applicable']} not applicable)` : ''}.`
      : `${failed} of ${total} checks failed${notChecked > 0 ? `, ${notChecked} not checked because of them` : ''}: fix the lines marked ✗ and run \`shepherd doctor\` again.`,
  );
  return lines;
}

/** The first line of an error's message: vendor errors can carry long multi-line details. */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? message).replace(/\.$/, '');
}
