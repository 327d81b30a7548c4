/**
 * Vocabulary of the simulated Jenkins: jobs, parameters, causes, builds and the runner contract through which the
 * lead's controllers give each job its behaviour.
 */

/** Final result of a build, as Jenkins' `hudson.model.Result` names it. */
export const BUILD_RESULTS = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED'] as const;
export type BuildResult = (typeof BUILD_RESULTS)[number];

/** What kind of container a folder path is; decides its `_class` in the API. */
export const FOLDER_KINDS = ['folder', 'multibranch'] as const;
export type FolderKind = (typeof FOLDER_KINDS)[number];

interface ParameterBase {
  readonly name: string;
  readonly description?: string;
}

/** A string parameter; `trim` strips surrounding whitespace from submitted values (not from the default). */
export interface StringParameterDefinition extends ParameterBase {
  readonly type: 'string';
  readonly default?: string;
  readonly trim?: boolean;
}

/** A choice parameter; the default is the first choice and values outside `choices` are refused. */
export interface ChoiceParameterDefinition extends ParameterBase {
  readonly type: 'choice';
  readonly choices: readonly [string, ...string[]];
}

/** A boolean parameter; a submitted value counts as true only when it is `true` (any case). */
export interface BooleanParameterDefinition extends ParameterBase {
  readonly type: 'boolean';
  readonly default?: boolean;
}

export type ParameterDefinition = StringParameterDefinition | ChoiceParameterDefinition | BooleanParameterDefinition;

/** A resolved parameter value, in definition order. */
export type ParameterValue =
  | { readonly type: 'string'; readonly name: string; readonly value: string }
  | { readonly type: 'boolean'; readonly name: string; readonly value: boolean };

/** Parameters as a runner sees them: every defined parameter, after defaults and trimming. */
export type BuildParams = Readonly<Record<string, string | boolean>>;

/** Why a build was queued; rendered as the first console line and as a CauseAction. */
export type BuildCause =
  | { readonly kind: 'user'; readonly userId: string; readonly userName: string }
  | { readonly kind: 'remote'; readonly addr: string; readonly note?: string }
  /** A multibranch SCM event (a push); `description` defaults to "Branch event". */
  | { readonly kind: 'branch-event'; readonly description?: string }
  | { readonly kind: 'branch-indexing' };

/** The git plugin's record of what a build checked out (`hudson.plugins.git.util.BuildData`). */
export interface GitRevision {
  readonly sha: string;
  /** Full branch name as the git plugin records it, e.g. `main` or `refs/remotes/origin/main`. */
  readonly branchName: string;
  readonly remoteUrl: string;
}

/**
 * branch-api's `SCMRevisionAction` on builds of a multibranch branch job: `revision` is an
 * `AbstractGitSCMSource$SCMRevisionImpl` (or a GitLab branch source subclass) with the commit `hash` and its `head`.
 */
export interface ScmRevision {
  readonly hash: string;
  /** The branch (SCMHead) name, e.g. `main` or `feature/x`. */
  readonly head: string;
  /** The revision's `_class`; default `jenkins.plugins.git.AbstractGitSCMSource$SCMRevisionImpl`. */
  readonly revisionClass?: string;
}

/**
 * What a job runner gets for one build. Everything time-related goes through the sandbox clock, so stopping the
 * world ends all builds' waits.
 */
export interface BuildContext {
  readonly number: number;
  readonly params: BuildParams;
  /** Absolute build URL with a trailing slash. */
  readonly url: string;
  /** Appends one line to the console log. */
  log(line: string): void;
  /** Waits `ms` milliseconds of wall time; rejects with an AbortError when the build is stopped. */
  sleep(ms: number): Promise<void>;
  /** Aborted when someone stops the build. */
  readonly signal: AbortSignal;
  /** Records a git checkout (one BuildData per distinct remote, in checkout order). */
  setGitRevision(sha: string, branchName: string, remoteUrl: string): void;
  /** Records the multibranch SCMRevisionAction (branch jobs of a multibranch project). */
  setScmRevision(revision: ScmRevision): void;
  setDescription(text: string): void;
  setDisplayName(text: string): void;
}

/**
 * The behaviour of a job. Resolving gives the build result; rejecting ends the build FAILURE with the error in the
 * log, or ABORTED when the build was stopped.
 */
export type JobRunner = (ctx: BuildContext) => Promise<BuildResult>;

/** A job as the lead declares it. `path` names the folders leading to it, e.g. `['example-app', 'main']`. */
export interface JobDefinition {
  readonly path: readonly string[];
  readonly description?: string;
  readonly parameters?: readonly ParameterDefinition[];
  /** When false, a second build waits in the queue (BlockedItem) while one runs. */
  readonly concurrentBuild: boolean;
  readonly runner: JobRunner;
  /**
   * Asked once, when a queue item is about to start; true cancels the item instead (a queue decision, the way
   * an administrator or a plugin cancels a queued build).
   */
  readonly shouldCancelInQueue?: (params: BuildParams) => boolean;
  /**
   * Asked once, when a queue item's quiet period ends; true leaves it waiting for an executor that never comes (the
   * job needs a label no online agent carries, or every executor is taken): Jenkins says `Waiting for next available
   * executor` until someone cancels the item.
   */
  readonly starvedInQueue?: (params: BuildParams) => boolean;
  /**
   * Wall milliseconds (already scaled) between an executor taking a queue item and the build existing: meanwhile the
   * item has left the queue, not cancelled, with `executable: null` (a slow agent or a controller under load).
   */
  readonly startDelayMs?: number;
  /** Estimated duration in ms shown before the first build completes (Jenkins says -1 / no ETA without one). */
  readonly estimatedDurationMs?: number;
}
