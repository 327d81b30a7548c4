/**
 * `shepherd doctor`: checks the configured installation for real, system by system, and says what to fix.
 *
 * The quick part (`quick: true`) is what the worker runs before it polls: Temporal reachable with its namespace and
 * search attributes, the GitLab token valid, Jenkins authenticated, the cluster reachable. A failure there is fatal
 * to a worker: every run would fail on it. The full part adds what a run meets later (projects, branches, jobs,
 * namespaces, objects, permissions, a polling worker).
 */
import { reportOf, type DoctorReport } from './check.js';
import { checkGitLab } from './gitlab.js';
import type { Installation } from './installation.js';
import { checkJenkins } from './jenkins.js';
import { checkKubernetes } from './kubernetes.js';
import { checkTemporal } from './temporal.js';

export type { CheckResult, CheckStatus, DoctorReport, DoctorSystem } from './check.js';
export { renderLine, renderText } from './check.js';
export type { Installation } from './installation.js';

/** Runs the checks of every system at once (they are independent); the report lists them system by system. */
export async function runDoctor(inst: Installation, opts: { quick?: boolean } = {}): Promise<DoctorReport> {
  const quick = { quick: opts.quick ?? false };
  const parts = await Promise.all([
    checkTemporal(inst, quick),
    checkGitLab(inst, quick),
    checkJenkins(inst, quick),
    checkKubernetes(inst, quick),
  ]);
  return reportOf(parts.flat());
}
