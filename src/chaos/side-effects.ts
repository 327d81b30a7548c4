/**
 * What a run did to the sandbox world, read from two inspection views (`GET /state` before and after), and the
 * problems the crash tests and the chaos runner look for: a side effect made twice (a second version bump, a
 * second MR or promote build for one environment, a merge without its MR) and anything a finished run left
 * behind (an open MR, the branch of an MR that was not merged).
 */
import type { WorldState } from '../sandbox/world/state.js';

type ProjectState = WorldState['gitlab']['projects'][number];
type MergeRequestState = ProjectState['mergeRequests']['opened'][number];

/** Counts per kind of side effect the run made. */
export interface SideEffects {
  /** Commits the run added to the app repo's default branch (the version bump). */
  readonly bumps: number;
  readonly ciBuilds: number;
  /** Promotion or update MRs per target environment branch, revert MRs not included. */
  readonly mergeRequestsPerEnv: Record<string, number>;
  readonly revertMergeRequestsPerEnv: Record<string, number>;
  readonly merges: number;
  readonly mergedMergeRequests: number;
  /** promote-environment builds per TARGET_ENV. */
  readonly promoteBuildsPerEnv: Record<string, number>;
  /** MRs the run opened that are still open. */
  readonly openMergeRequests: readonly string[];
  /** Branches left in the deployments repo that no merged MR came from. */
  readonly leftoverBranches: readonly string[];
}

export interface SideEffectProblems {
  readonly duplicates: readonly string[];
  readonly leaks: readonly string[];
}

const REVERT_BRANCH = /^revert-/;

function project(state: WorldState, path: string): ProjectState {
  const found = state.gitlab.projects.find((p) => p.path === path);
  if (!found) throw new Error(`the sandbox has no project ${path}`);
  return found;
}

function allMergeRequests(p: ProjectState): MergeRequestState[] {
  return [...p.mergeRequests.opened, ...p.mergeRequests.merged, ...p.mergeRequests.closed];
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

export interface ProjectPaths {
  readonly appProject: string;
  readonly deploymentsProject: string;
  readonly ciJob: string;
  readonly promoteJob: string;
  /** The long-lived branches of the deployments repo (environment branches and the default branch). */
  readonly permanentBranches: readonly string[];
}

/** The sandbox's own names (see `WorldInfo`), with jobs as the inspection view spells them (`a/b`, not `a/job/b`). */
export function projectPathsOf(world: {
  gitlab: { appProject: string; deploymentsProject: string };
  jenkins: { ciJob: string; promoteJob: string };
  environments: Record<string, { branch: string }>;
}): ProjectPaths {
  const job = (path: string): string => path.split('/job/').join('/');
  return {
    appProject: world.gitlab.appProject,
    deploymentsProject: world.gitlab.deploymentsProject,
    ciJob: job(world.jenkins.ciJob),
    promoteJob: job(world.jenkins.promoteJob),
    permanentBranches: ['main', ...Object.values(world.environments).map((e) => e.branch)],
  };
}

/** What happened between two inspection views of the same world. */
export function sideEffectsBetween(before: WorldState, after: WorldState, paths: ProjectPaths): SideEffects {
  const appBefore = project(before, paths.appProject);
  const appAfter = project(after, paths.appProject);
  const deployBefore = project(before, paths.deploymentsProject);
  const deployAfter = project(after, paths.deploymentsProject);
  const known = new Set(allMergeRequests(deployBefore).map((mr) => mr.iid));
  const newMrs = allMergeRequests(deployAfter).filter((mr) => !known.has(mr.iid));
  const jobBuilds = (state: WorldState, path: string) => state.jenkins.jobs.find((j) => j.path === path)?.builds ?? [];
  const knownBuilds = new Set(jobBuilds(before, paths.promoteJob).map((b) => b.number));
  const newPromoteBuilds = jobBuilds(after, paths.promoteJob).filter((b) => !knownBuilds.has(b.number));
  const mergedSources = new Set(deployAfter.mergeRequests.merged.map((mr) => mr.source));
  const branchesBefore = new Set(deployBefore.branches);
  return {
    bumps: (appAfter.commitsPerBranch.main ?? 0) - (appBefore.commitsPerBranch.main ?? 0),
    ciBuilds: jobBuilds(after, paths.ciJob).length - jobBuilds(before, paths.ciJob).length,
    mergeRequestsPerEnv: countBy(
      newMrs.filter((mr) => !REVERT_BRANCH.test(mr.source)),
      (mr) => mr.target,
    ),
    revertMergeRequestsPerEnv: countBy(
      newMrs.filter((mr) => REVERT_BRANCH.test(mr.source)),
      (mr) => mr.target,
    ),
    merges: deployAfter.counts.merges - deployBefore.counts.merges,
    mergedMergeRequests: deployAfter.counts.merged - deployBefore.counts.merged,
    promoteBuildsPerEnv: countBy(newPromoteBuilds, (b) => String(b.params.TARGET_ENV ?? '?')),
    openMergeRequests: [
      ...appAfter.mergeRequests.opened.filter((mr) => !allMergeRequests(appBefore).some((b) => b.iid === mr.iid)),
      ...deployAfter.mergeRequests.opened.filter((mr) => !known.has(mr.iid)),
    ].map((mr) => `!${mr.iid} ${mr.source} → ${mr.target}`),
    leftoverBranches: deployAfter.branches.filter(
      (b) => !branchesBefore.has(b) && !paths.permanentBranches.includes(b) && !mergedSources.has(b),
    ),
  };
}

/** The duplicates and leaks in `effects`: each a sentence a person can act on. */
export function sideEffectProblems(effects: SideEffects): SideEffectProblems {
  const duplicates: string[] = [];
  const more = (what: string, counts: Record<string, number>): void => {
    for (const [env, n] of Object.entries(counts)) if (n > 1) duplicates.push(`${n} ${what} for ${env}`);
  };
  if (effects.bumps > 1) duplicates.push(`${effects.bumps} version bumps`);
  if (effects.ciBuilds > 1) duplicates.push(`${effects.ciBuilds} CI builds`);
  more('merge requests', effects.mergeRequestsPerEnv);
  more('revert merge requests', effects.revertMergeRequestsPerEnv);
  more('promote-environment builds', effects.promoteBuildsPerEnv);
  if (effects.merges !== effects.mergedMergeRequests)
    duplicates.push(`${effects.merges} merges for ${effects.mergedMergeRequests} merged merge requests`);
  const leaks = [
    ...effects.openMergeRequests.map((mr) => `open merge request ${mr}`),
    ...effects.leftoverBranches.map((b) => `branch ${b} left behind`),
  ];
  return { duplicates, leaks };
}
