/**
 * The activity CONTRACT: what workflows call and what the implementations in `activities/` must satisfy.
 * Types only, no I/O.
 *
 * Rules every activity follows:
 * - One input object and a small serialisable result; neither carries a secret. Workflows pass only environment
 *   names, app names, image tags, MR iids, build numbers, commit shas, run markers and deadlines. Project paths,
 *   env branches, namespaces, Argo CD application names, job paths, URLs and tokens are the activities' injected
 *   configuration (`src/config`), mapped from the environment name by the implementation.
 * - Safe to repeat: Temporal runs an activity at least once. Every mutating activity first looks at the current
 *   state and does nothing twice; each doc comment says how.
 * - Inputs are parsed with a schema built from `ACTIVITY_FIELDS` below before anything else runs; a refused
 *   value is a ValidationError naming the field and its rule, worded like the workflow-input rules.
 * - Failures are our typed errors (`src/domain/errors.ts`) thrown as `toApplicationFailure(err)`; only
 *   `TransientError` is retried.
 * - Waits heartbeat their progress and, on a retry, resume from `activityInfo().heartbeatDetails`. A wait ends at
 *   its `deadline` (an ISO instant the workflow computed once, so a retry keeps the same budget) with
 *   `WaitTimeoutError` carrying the last state it saw.
 * - Every result carries `attempt` (`activityInfo().attempt` of the attempt that succeeded) for the run report.
 */
import { z } from 'zod';
import { ENVIRONMENTS, isLegalPromotion, promotionPaths, type Environment } from './environments.js';
import type { FreezeState } from './freeze.js';
import { isImageTag, RULES } from './inputs.js';
import type { PromotionFailureDetails, PromotionResult } from './report.js';

/** ISO-8601 instant, e.g. `2026-01-16T02:00:00.000Z`. */
export type IsoInstant = string;

/** Fields every result carries. */
export interface ActivityResult {
  /** The attempt that produced this result (1 = first try). */
  readonly attempt: number;
}

/** Identifies the run that makes a change: written into commit messages, MR descriptions and branch notes. */
export interface RunMarked {
  /** e.g. `validate-example-app/6f1c…`; opaque to activities, compared verbatim. */
  readonly runMarker: string;
}

/** An environment of one app. The implementation maps `env` to branch, namespace and Argo CD application. */
export interface AppEnvironment {
  readonly appName: string;
  readonly env: Environment;
}

/** A wait with a deadline fixed by the workflow. */
export interface Deadlined {
  readonly deadline: IsoInstant;
}

/** A merge request in the deployments project. */
export interface MergeRequestRef {
  readonly iid: number;
  readonly webUrl: string;
  readonly sourceBranch: string;
  readonly targetEnv: Environment;
  /** Head commit of the source branch when last seen: the `sha` guard for the merge. */
  readonly headSha: string;
  /** The image tag the MR deploys, from its branch name (`update-dev-{tag}`, `promote-{env}-{tag}`). */
  readonly imageTag: string;
}

/** A Jenkins build. `job` is the role, never a path: the implementation maps it to the configured job. */
export interface BuildRef {
  readonly job: JenkinsJobRole;
  readonly buildNumber: number;
  readonly url: string;
}

/** `app-ci`: the app's CI job on main (per app); `promote`: the `promote-environment` job. */
export type JenkinsJobRole = 'app-ci' | 'promote';

// ── GitLab ──────────────────────────────────────────────────────────────────────────────────────────────────────

export interface BumpAppVersionInput extends RunMarked {
  readonly appName: string;
  /** When a bump through a merge request stops waiting for the MR to merge itself; absent: 10 min from the start. */
  readonly deadline?: string;
}
export interface BumpAppVersionResult extends ActivityResult {
  readonly previousVersion: string;
  readonly version: string;
  readonly commitSha: string;
  /** True when a retry found the commit an earlier attempt made. */
  readonly alreadyDone: boolean;
}

export interface AwaitMergeRequestInput extends Deadlined {
  readonly appName: string;
  readonly targetEnv: Environment;
  /** Match the MR whose branch carries this tag exactly … */
  readonly imageTag?: string;
  /** … or, for the dev MR of a bump whose commit hash CI chooses, the tag's version prefix (`{version}-`) … */
  readonly version?: string;
  /**
   * … or, for an app without a version file (the bump has no version), the bumped commit: CI's tag ends with its
   * short hash (`…-{sha7}`).
   */
  readonly commitSha?: string;
  /**
   * Runs started before the `jenkins-promotion-undo-at-trigger` patch: only MRs created at or after this instant
   * count. Absent: any open MR of the branch counts once its head is the branch's head (the commit the job pushed),
   * so an MR an earlier run left open for the same image is adopted.
   */
  readonly createdAfter?: IsoInstant;
}

export interface AbandonDeployBranchInput extends RunMarked {
  readonly appName: string;
  readonly targetEnv: Environment;
  /** The branch `update-dev-{tag}` / `promote-{env}-{tag}` exactly … */
  readonly imageTag?: string;
  /** … or, for CI's dev MR of a bump, every `update-dev-{version}-…` branch … */
  readonly version?: string;
  /** … or, without a version (no version file), every dev branch whose tag ends with the commit's short hash. */
  readonly commitSha?: string;
  /** Posted as a note on each MR closed. */
  readonly reason: string;
}
export interface AbandonDeployBranchResult extends ActivityResult {
  /** The MRs this call closed (none when they were closed or merged already). */
  readonly closed: readonly number[];
  readonly branchesDeleted: readonly string[];
}

export interface OpenPromotionMergeRequestInput extends RunMarked {
  readonly appName: string;
  readonly sourceEnv: Environment;
  readonly targetEnv: Environment;
  readonly imageTag: string;
}
export interface OpenPromotionMergeRequestResult extends ActivityResult {
  readonly mergeRequest: MergeRequestRef;
  /** False when a retry (or an earlier run for the same tag) had already created them. */
  readonly branchCreated: boolean;
  readonly mergeRequestCreated: boolean;
}

export interface MergeMergeRequestInput extends RunMarked {
  readonly iid: number;
  /** The head we saw and approved: GitLab refuses the merge when the branch moved since (`sha` guard). */
  readonly headSha: string;
  /** When the wait for mergeability gives up; absent (older runs): the worker's mergeability timeout. */
  readonly deadline?: IsoInstant;
}
export interface MergeMergeRequestResult extends ActivityResult {
  /** The merge commit on the env branch (fast-forward: the merged head): the revision Argo CD must reach. */
  readonly mergeCommitSha: string;
  /** The MR head that was merged: the approved head, or the head GitLab's rebase gave it (same change). */
  readonly mergedHeadSha?: string;
  readonly alreadyMerged: boolean;
}

export interface RevertMergeRequestInput extends RunMarked {
  /** The merged MR to undo. */
  readonly iid: number;
  readonly targetEnv: Environment;
  /** When the wait for the revert MR's mergeability gives up; absent (older runs): the worker's timeout. */
  readonly deadline?: IsoInstant;
}
export interface RevertMergeRequestResult extends ActivityResult {
  readonly revertMergeRequest: MergeRequestRef;
  /** The merge commit of the revert MR: the revision Argo CD must reach to be back on the previous image. */
  readonly mergeCommitSha: string;
  readonly alreadyReverted: boolean;
}

export interface ReadMergeRequestInput {
  readonly iid: number;
}
export interface ReadMergeRequestResult extends ActivityResult {
  readonly iid: number;
  /** GitLab's state: `opened`, `closed`, `locked` or `merged`. */
  readonly state: 'opened' | 'closed' | 'locked' | 'merged';
  /** The environment whose branch the MR targets; undefined when it targets no env branch. */
  readonly targetEnv: Environment | undefined;
  /** Head of the source branch. */
  readonly headSha: string;
  /** The merge (or squash) commit once merged. */
  readonly mergeCommitSha: string | undefined;
}

export interface ReadDeclaredImageInput extends AppEnvironment {
  /** A commit of the env branch to read at (e.g. a revert's merge commit); absent: the branch head. */
  readonly ref?: string;
}
export interface ReadDeclaredImageResult extends ActivityResult {
  readonly env: Environment;
  /** The commit read: `ref`, or the env branch head when no ref was given. */
  readonly commitSha: string;
  /** The image reference every configured image file declares for the app. */
  readonly image: string;
  /** Its tag; undefined when the reference has none. */
  readonly imageTag: string | undefined;
  /** Each configured image file and the image it declares (all equal, or the activity fails). */
  readonly files: readonly { readonly path: string; readonly image: string }[];
}

export interface CloseMergeRequestInput extends RunMarked {
  readonly iid: number;
  /** Posted as a note before closing, e.g. why the run gave up. */
  readonly reason: string;
}
export interface CloseMergeRequestResult extends ActivityResult {
  /** The state found: `opened` (now closed), `closed` (nothing to do) or `merged` (left alone: revert instead). */
  readonly stateBefore: 'opened' | 'closed' | 'merged';
}

export interface DeleteBranchInput {
  /** Only branches Shepherd or CI open for a run: `update-dev-*`, `promote-*`, `revert-*`. */
  readonly branch: string;
}
export interface DeleteBranchResult extends ActivityResult {
  readonly deleted: boolean;
}

// ── Jenkins ─────────────────────────────────────────────────────────────────────────────────────────────────────

export interface FindCiBuildForCommitInput extends Deadlined {
  readonly appName: string;
  readonly commitSha: string;
}
export type FindCiBuildForCommitResult = ActivityResult & BuildRef;

export interface AwaitJenkinsBuildInput extends Deadlined {
  readonly appName: string;
  readonly job: JenkinsJobRole;
  readonly buildNumber: number;
  /** What an UNSTABLE result means (JENKINS_UNSTABLE_BUILDS): `failure` when absent. */
  readonly unstableBuilds?: 'failure' | 'success';
}
export interface AwaitJenkinsBuildResult extends ActivityResult {
  readonly build: BuildRef;
  /** UNSTABLE only when the run counts UNSTABLE builds as `success`. */
  readonly result: 'SUCCESS' | 'UNSTABLE';
  readonly durationMs: number;
}

export interface TriggerPromoteJobInput extends RunMarked {
  readonly appName: string;
  readonly sourceEnv: Environment;
  readonly targetEnv: Environment;
  /** Always given: the workflow resolved it from the source environment ("promote what's proven"). */
  readonly imageTag: string;
  /** When the workflow first asked; a build with identical parameters queued at or after it is ours. */
  readonly notBefore: IsoInstant;
  /**
   * When the wait for the queue item to become a build gives up. Absent: `WAIT_BUDGETS.ciBuildStart` after the
   * first attempt started.
   */
  readonly deadline?: IsoInstant;
}
export interface TriggerPromoteJobResult extends ActivityResult {
  readonly build: BuildRef;
  readonly queueItemId: number;
  /** True when a retry found the build an earlier attempt queued instead of queuing another. */
  readonly reused: boolean;
}

export type QueuePromoteJobInput = Omit<TriggerPromoteJobInput, 'deadline'>;
export interface QueuePromoteJobResult extends ActivityResult {
  readonly queueItemId: number;
  /** Only when an identical build had already started (a retry, or an earlier attempt's trigger). */
  readonly build?: BuildRef;
  /** True when an identical item or build queued at or after `notBefore` was taken as ours. */
  readonly reused: boolean;
}

export interface AwaitJenkinsQueueItemInput extends Deadlined {
  readonly appName: string;
  readonly job: JenkinsJobRole;
  readonly queueItemId: number;
}
export interface AwaitJenkinsQueueItemResult extends ActivityResult {
  readonly build: BuildRef;
  readonly queueItemId: number;
}

export interface CancelPromoteJobInput extends Deadlined {
  readonly appName: string;
  /** The queue item queuePromoteJob returned (0 when Jenkins named none: then `buildNumber` is required). */
  readonly queueItemId: number;
  /** Its build, when the run already knows it. */
  readonly buildNumber?: number;
}
export interface CancelPromoteJobResult extends ActivityResult {
  /**
   * `queue-item-cancelled`: it never started; `build-stopped`: it was running and is now finished (ABORTED unless it
   * finished first); `build-finished`: it had already finished; `nothing-to-cancel`: Jenkins has neither item nor build.
   */
  readonly outcome: 'queue-item-cancelled' | 'build-stopped' | 'build-finished' | 'nothing-to-cancel';
  readonly buildNumber?: number;
  readonly buildResult?: string;
}

// ── Kubernetes and Argo CD ──────────────────────────────────────────────────────────────────────────────────────

export type ArgoSyncStatus = 'Synced' | 'OutOfSync' | 'Unknown';
export type ArgoHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export type ReadEnvironmentStateInput = AppEnvironment;
export interface EnvironmentState extends ActivityResult {
  readonly env: Environment;
  readonly argoApp: string;
  /** The tag of the app's container in the Deployment's pod template; undefined before the first deploy. */
  readonly imageTag: string | undefined;
  readonly containers: readonly {
    readonly name: string;
    readonly image: string;
    readonly imageTag: string | undefined;
  }[];
  readonly replicas: {
    readonly desired: number;
    readonly updated: number;
    readonly ready: number;
    readonly available: number;
  };
  readonly sync: { readonly status: ArgoSyncStatus; readonly revision: string | undefined };
  readonly health: { readonly status: ArgoHealthStatus; readonly message?: string };
  /** The last sync operation: its phase and revision. */
  readonly operation:
    | {
        readonly phase: 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Terminating';
        readonly revision: string;
        readonly finishedAt?: IsoInstant;
      }
    | undefined;
  readonly reconciledAt: IsoInstant | undefined;
}

export interface AwaitArgoSyncedAndHealthyInput extends AppEnvironment, Deadlined {
  /** The env-branch commit the application must have synced: a merge commit or a revert's merge commit. */
  readonly revision: string;
}
export interface AwaitArgoSyncedAndHealthyResult extends ActivityResult {
  readonly argoApp: string;
  readonly revision: string;
  /** When the rule first held (activity clock). */
  readonly settledAt: IsoInstant;
  /** Refreshes requested because `reconciledAt` was older than the operation's `finishedAt`. */
  readonly refreshes: number;
}

export interface VerifyWorkloadInput extends AppEnvironment, Deadlined {
  readonly imageTag: string;
}
export interface VerifyWorkloadResult extends ActivityResult {
  readonly replicas: number;
  readonly pods: readonly {
    readonly name: string;
    readonly imageTag: string;
    readonly ready: boolean;
    readonly restarts: number;
  }[];
}

// ── Notifications ───────────────────────────────────────────────────────────────────────────────────────────────

export const NOTIFICATION_EVENTS = [
  'approval-requested',
  'approval-timed-out',
  'approved',
  'rejected',
  'promoted',
  'promotion-failed',
  'rolled-back',
  'rollback-failed',
  'superseded',
  'validation-finished',
  'freeze-waiting',
  'freeze-overridden',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export interface NotifyEventInput {
  /** Stable per event and run (`{workflowId}/{runId}/{n}`), so a receiver can drop a duplicate delivery. */
  readonly eventId: string;
  readonly event: NotificationEvent;
  readonly appName: string;
  readonly env?: Environment;
  readonly imageTag?: string;
  readonly text: string;
  readonly links?: readonly string[];
}
export interface NotifyEventResult extends ActivityResult {
  /** False when no webhook is configured: notifications are optional. */
  readonly delivered: boolean;
}

/**
 * The activities, by the names they are registered under. `system-verb-object`: the system is implied by the
 * object (merge requests and branches: GitLab; builds and jobs: Jenkins; Argo/environment/workload: the cluster).
 */
/** A validation's hop that met its target's promotion already running (see settlePromotionConflict). */
export interface SettlePromotionConflictInput {
  readonly appName: string;
  readonly env: Environment;
  /** The image the hop promotes. */
  readonly imageTag: string;
  /** Who supersedes, for the superseded run's record: the validation's run marker. */
  readonly requestedBy: string;
  readonly deadline: string;
}
export type SettlePromotionConflictResult = ActivityResult &
  (
    | { readonly decision: 'start' }
    | { readonly decision: 'superseded'; readonly supersededImageTag: string }
    | {
        readonly decision: 'joined';
        /** How the joined run ended: its result when it completed… */
        readonly result?: PromotionResult;
        /** …or its failure, with the failure's first detail (PromotionFailureDetails). */
        readonly failure?: {
          readonly type: string;
          readonly message: string;
          readonly details?: PromotionFailureDetails;
        };
      }
  );

/** Whether the app's environment is frozen at `at` (the workflow's clock; absent: the worker's). */
export interface CheckFreezeWindowInput extends AppEnvironment {
  readonly at?: IsoInstant;
}
/** `freezeAt`'s answer for the environment's declared windows, and what a frozen environment does to a promotion. */
export type CheckFreezeWindowResult = ActivityResult &
  FreezeState & {
    /** The environment's freeze policy (`wait` when it declares no windows). */
    readonly policy: 'wait' | 'refuse';
  };

export interface ShepherdActivities {
  /**
   * Changes: one commit on the app repo's bump branch (default branch unless configured) raising the version
   * (patch + 1, suffix kept) with the run marker in its message: pushed, or through a self-merging MR when the
   * branch's protection refuses pushes (SHEPHERD_BUMP_VIA); then the result names the commit that landed. Safe to
   * repeat: first looks for the run's MR and for a recent commit carrying `runMarker` and returns it (`alreadyDone`)
   * instead of bumping twice. Waits (heartbeating, up to `deadline`) only for a bump MR to merge. Not undone: a
   * version number is never reused.
   */
  bumpAppVersion(input: BumpAppVersionInput): Promise<BumpAppVersionResult>;

  /**
   * Changes nothing. Waits (heartbeating the builds already inspected) until the app CI job has a build of
   * `commitSha`, checked through the build's recorded revision, not `lastBuild` guessing. WaitTimeoutError at the deadline.
   */
  findCiBuildForCommit(input: FindCiBuildForCommitInput): Promise<FindCiBuildForCommitResult>;

  /**
   * Changes nothing. Waits, heartbeating `{ buildNumber, lastSeen }`, until the build finishes. SUCCESS returns;
   * FAILURE/NOT_BUILT throw BuildFailedError with the console tail; UNSTABLE does too unless `unstableBuilds` is
   * `success` (then it returns); ABORTED throws BuildCancelledError.
   */
  awaitJenkinsBuild(input: AwaitJenkinsBuildInput): Promise<AwaitJenkinsBuildResult>;

  /**
   * Changes: queues one `promote-environment` build with APP_NAME, SOURCE_ENV, TARGET_ENV, IMAGE_TAG. Safe to
   * repeat: records the queue item in its heartbeat details as soon as Jenkins returns it and follows that item on
   * a retry; with no item recorded, first looks for a build or queue item with identical parameters queued at or
   * after `notBefore` and returns it (`reused`). Waits (heartbeating) until the queue item becomes a build, up to
   * `deadline` (WaitTimeoutError); a cancelled queue item throws BuildCancelledError. Runs started before the
   * `jenkins-promotion-undo-at-trigger` patch call it; newer runs call queuePromoteJob, then awaitJenkinsQueueItem.
   */
  triggerPromoteJob(input: TriggerPromoteJobInput): Promise<TriggerPromoteJobResult>;

  /**
   * Changes: queues one `promote-environment` build, as triggerPromoteJob does and just as safe to repeat, but
   * returns as soon as Jenkins named the queue item: the only call a workflow shields, so that it always learns what
   * it must undo, while the wait for an executor (awaitJenkinsQueueItem) stays cancellable.
   */
  queuePromoteJob(input: QueuePromoteJobInput): Promise<QueuePromoteJobResult>;

  /**
   * Changes nothing. Waits (polling, heartbeating) until the queue item becomes a build and returns it.
   * BuildCancelledError only for an item Jenkins marks `cancelled: true`; one that left the queue without its
   * build yet is waited for. WaitTimeoutError at the deadline, with what the queue said last.
   */
  awaitJenkinsQueueItem(input: AwaitJenkinsQueueItemInput): Promise<AwaitJenkinsQueueItemResult>;

  /**
   * Undo of triggerPromoteJob. Changes: cancels the queue item, or stops its build and waits until it finished.
   * Safe to repeat: a cancelled item, a finished build or nothing left in Jenkins is "nothing to do".
   */
  cancelPromoteJob(input: CancelPromoteJobInput): Promise<CancelPromoteJobResult>;

  /**
   * Changes nothing. Waits (polling, heartbeating) for the open MR that CI (`update-dev-{tag}`) or the promote job
   * (`promote-{env}-{tag}`) opened into the env branch: by its branch and with the branch's head as its head (the
   * job's commit); an open MR an earlier run left for the same image is adopted. Runs that pass `createdAfter` (older
   * ones) count only MRs created since. MergeRequestNotFoundError at the deadline.
   */
  awaitMergeRequest(input: AwaitMergeRequestInput): Promise<MergeRequestRef & ActivityResult>;

  /**
   * Undo of a job that opens an MR (the promote job, CI's dev MR), registered before the MR is known. Changes: closes
   * the open MRs of the branch into the env branch, with a note, and deletes the branch. Safe to repeat: closed
   * MRs and a missing branch are nothing to do; a merged MR is never touched.
   */
  abandonDeployBranch(input: AbandonDeployBranchInput): Promise<AbandonDeployBranchResult>;

  /**
   * Changes: branch `promote-{targetEnv}-{imageTag}` from the target env branch with the image reference updated
   * in the configured files, and an MR into the env branch describing the promotion and the run marker. Safe to
   * repeat: reuses the branch when it already carries the change and an open MR for the same branch pair.
   * Waits for nothing.
   */
  openPromotionMergeRequest(input: OpenPromotionMergeRequestInput): Promise<OpenPromotionMergeRequestResult>;

  /**
   * Changes: merges the MR with the `sha` guard (asking GitLab to remove its source branch), waiting through
   * GitLab's `checking`/`preparing` merge statuses and a running MR pipeline, and rebasing it through GitLab on
   * `need_rebase` (the rebased head must carry the same change; it is the head merged, `mergedHeadSha`).
   * Safe to repeat: an MR already merged with head `headSha` (or our rebase of it) is success and returns the commit
   * it landed as (`alreadyMerged`); a conflict, a moved head or a rule a person must settle throws
   * MergeConflictError; a failed MR pipeline throws MergeRequestPipelineFailedError.
   */
  mergeMergeRequest(input: MergeMergeRequestInput): Promise<MergeMergeRequestResult>;

  /**
   * Undo of a merge. Changes: branch `revert-{env}-{iid}` from the env branch, GitLab's revert of the MR's merge
   * commit onto it, an MR into the env branch, and its merge (env branches only take MRs). Safe to repeat: each
   * part is looked up first (branch, revert commit, open or merged MR) and a merged revert MR returns its merge
   * commit (`alreadyReverted`). Waits for the revert MR's mergeability like mergeMergeRequest.
   */
  revertMergeRequest(input: RevertMergeRequestInput): Promise<RevertMergeRequestResult>;

  /**
   * Changes nothing; waits for nothing: the MR's state, head and merge commit as GitLab reports them now. Read after
   * a merge attempt failed, to learn whether GitLab merged it all the same (an answer lost to a timeout or a crash,
   * a merge by someone else with another head), so that such a merge is reverted like any other.
   */
  readMergeRequest(input: ReadMergeRequestInput): Promise<ReadMergeRequestResult>;

  /**
   * Changes nothing; waits for nothing: the image the env branch declares for the app at `ref` (default: its head),
   * read from every configured image file (env.cue's `{env}: {cueApp}:` block, the rendered manifest). What git
   * declares is what a rollback returns to and what a revert is verified against. Files that declare different
   * images fail with ValidationError naming both: the branch itself is inconsistent and needs a fix first.
   */
  readDeclaredImage(input: ReadDeclaredImageInput): Promise<ReadDeclaredImageResult>;

  /**
   * A validation's hop found `promote-<app>-<env>` already running: settles it as `shepherd promote` would. Same
   * image: joins (waits for its end, returns how it ended). Another image before its merge: supersedes it (the
   * `supersede` update) and waits until it unwound. Merging or later: waits for its end. Changes: only the
   * supersede, which the superseded run undoes itself. Safe to repeat: a retry finds the run ended or waits again.
   * Waits heartbeating until `deadline`, then PromotionAlreadyRunningError.
   */
  settlePromotionConflict(input: SettlePromotionConflictInput): Promise<SettlePromotionConflictResult>;

  /**
   * Undo of opening an MR. Changes: a note with `reason`, then state closed. Safe to repeat: a closed MR is left as
   * is; a merged MR is never touched (reported as `merged`). Waits for nothing.
   */
  closeMergeRequest(input: CloseMergeRequestInput): Promise<CloseMergeRequestResult>;

  /**
   * Undo of pushing a branch. Changes: deletes it. Safe to repeat: a missing branch is success (`deleted: false`).
   * Refuses (ValidationError) env branches, the default branch and anything outside the run's prefixes.
   */
  deleteBranch(input: DeleteBranchInput): Promise<DeleteBranchResult>;

  /** Changes nothing: what runs in the environment and what Argo CD says about it. Waits for nothing. */
  readEnvironmentState(input: ReadEnvironmentStateInput): Promise<EnvironmentState>;

  /**
   * Changes: may annotate the Argo CD Application for a refresh; on a manual-sync environment
   * (SHEPHERD_ARGOCD_MANUAL_SYNC) writes the sync `operation`, once. Waits (watch with polling fallback,
   * heartbeating the last observation) until the trustworthy rule holds (`isSyncedAndHealthyAt` in
   * environment-state.ts): `sync.revision` is `revision` or a revision that contains it (a shared env branch), the
   * sync operation for it Succeeded, `reconciledAt` is not older than the operation's `finishedAt` (requests a
   * refresh when it is), health Healthy. For a multi-source app, the revision is the deployments repo source's. A
   * failed sync throws SyncFailedError; Degraded, CrashLoopBackOff or ImagePullBackOff lasting past a short grace
   * period throw AppDegradedError with the pods concerned; Suspended, Missing after the sync, or Unknown throw
   * AppHealthBlockedError.
   */
  awaitArgoSyncedAndHealthy(input: AwaitArgoSyncedAndHealthyInput): Promise<AwaitArgoSyncedAndHealthyResult>;

  /**
   * Changes nothing. Waits (heartbeating) until the Deployment rolled out (observedGeneration, updated and
   * available replicas, no ProgressDeadlineExceeded) and every pod of the app runs `imageTag`, Ready, without
   * restarts during a stability window. AppDegradedError when pods crash or cannot pull the image.
   */
  verifyWorkload(input: VerifyWorkloadInput): Promise<VerifyWorkloadResult>;

  /**
   * Changes: posts the event to the configured Slack-compatible webhook, if any. At least once: a retry may post
   * again, `eventId` lets a receiver drop it. Never fails a run for a lost notification: gives up after its retries.
   */
  notifyEvent(input: NotifyEventInput): Promise<NotifyEventResult>;

  /**
   * Changes nothing; waits for nothing: whether the environment is frozen at `at`, by the freeze windows the
   * worker's pipeline declares for it (never windows from the workflow's input, so that a run started from the UI is
   * held all the same), until when, and the environment's freeze policy.
   */
  checkFreezeWindow(input: CheckFreezeWindowInput): Promise<CheckFreezeWindowResult>;

  // Part B: approvals with a real identity.
  /**
   * Changes nothing. Waits (polling GitLab's approvals API, woken by the MR hook when webhooks are on, heartbeating)
   * until GitLab says the MR is approved, and returns who approved it: the GitLab users, the identity GitLab vouches
   * for. ApprovalRejectedError when the MR is closed in GitLab or its head moves away from `headSha` (new commits
   * reset approvals, and the run merges only what it opened); ApprovalRejectedError (`timedOut`) at the deadline.
   */
  awaitMergeRequestApproval(input: AwaitMergeRequestApprovalInput): Promise<AwaitMergeRequestApprovalResult>;
}

/** Part B: the promotion MR whose GitLab approval a run waits for. */
export interface AwaitMergeRequestApprovalInput extends Deadlined {
  readonly appName: string;
  readonly targetEnv: Environment;
  readonly iid: number;
  /** The MR head the run opened and will merge: approvals count only for it. */
  readonly headSha: string;
}

/** Part B: who approved the MR in GitLab (GitLab usernames and names), and how many approvals its rules required. */
export interface AwaitMergeRequestApprovalResult extends ActivityResult {
  readonly approvedBy: readonly { readonly username: string; readonly name: string }[];
  /** Undefined on GitLab CE, which has no approval rules. */
  readonly approvalsRequired?: number;
}

export type ActivityName = keyof ShepherdActivities;

// ── Input fields ────────────────────────────────────────────────────────────────────────────────────────────────

/** The rules of activity inputs that the workflow-input rules (`RULES` in inputs.ts) do not already word. */
export const ACTIVITY_RULES = {
  instant: 'must be an ISO-8601 instant',
  commitSha: 'must be a git commit sha (7 to 40 hexadecimal digits)',
  positiveWhole: 'must be a positive whole number',
  jobRole: 'must be one of app-ci, promote',
  configuredApp: (name: string): string => `must be the configured app ${JSON.stringify(name)}`,
} as const;

/** A missing field says so ("appName is required") instead of stating the rule for a value it does not have. */
const requiredOr =
  (rule: string) =>
  (issue: { readonly input?: unknown }): string =>
    issue.input === undefined ? RULES.required : rule;

const text = () => z.string({ error: requiredOr(RULES.string) }).refine((v) => v.trim() !== '', { error: RULES.empty });

/**
 * The fields activity inputs are made of, each with its rule. An activity's input schema is a `z.object` of these
 * in the order its checks should report (the first field in error is the one the ValidationError names).
 */
export const ACTIVITY_FIELDS = {
  /** A string with something other than white space in it. */
  text,
  /** The app the worker is configured for: another app is refused before anything is touched. */
  configuredApp: (name: string) =>
    z
      .string({ error: requiredOr(RULES.string) })
      .refine((v) => v === name, { error: ACTIVITY_RULES.configuredApp(name) }),
  /** One of the pipeline's environments (`order`; default the seed's dev, stage, prod). */
  environment: (order: readonly string[] = ENVIRONMENTS) =>
    z.enum(order as unknown as [string, ...string[]], {
      error: requiredOr(`must be one of ${order.join(', ')}`),
    }),
  /** An environment name, for inputs that only report it (the pipeline's order is not known there). */
  environmentName: () => text(),
  imageTag: () => text().refine(isImageTag, { error: RULES.imageTag }),
  /** An ISO-8601 instant, kept as the string the workflow computed. */
  instant: () =>
    z
      .string({ error: requiredOr(ACTIVITY_RULES.instant) })
      .refine((v) => !Number.isNaN(Date.parse(v)), { error: ACTIVITY_RULES.instant }),
  commitSha: () =>
    z.string({ error: requiredOr(ACTIVITY_RULES.commitSha) }).regex(/^[0-9a-f]{7,40}$/i, {
      error: ACTIVITY_RULES.commitSha,
    }),
  positiveWhole: () =>
    z
      .number({ error: requiredOr(ACTIVITY_RULES.positiveWhole) })
      .int({ error: ACTIVITY_RULES.positiveWhole })
      .min(1, { error: ACTIVITY_RULES.positiveWhole }),
  jobRole: () => z.enum(['app-ci', 'promote'], { error: requiredOr(ACTIVITY_RULES.jobRole) }),
} as const;

/**
 * The input of a promotion (openPromotionMergeRequest, triggerPromoteJob): the configured app, a legal hop
 * `sourceEnv` → `targetEnv` (refused on `targetEnv`), the image tag, and the activity's `extra` fields.
 */
export function promotionInput<T extends z.ZodRawShape>(
  appName: string,
  extra: T,
  order: readonly string[] = ENVIRONMENTS,
) {
  return z
    .object({
      appName: ACTIVITY_FIELDS.configuredApp(appName),
      sourceEnv: ACTIVITY_FIELDS.environment(order),
      targetEnv: ACTIVITY_FIELDS.environment(order),
      imageTag: ACTIVITY_FIELDS.imageTag(),
      ...extra,
    })
    .refine(
      (i) => {
        // The generic extra fields hide the shared ones from the inferred type; they are there by construction.
        const { sourceEnv, targetEnv } = i as { sourceEnv: Environment; targetEnv: Environment };
        return isLegalPromotion(sourceEnv, targetEnv, order);
      },
      {
        path: ['targetEnv'],
        error: `must be the environment after sourceEnv: ${promotionPaths(order)}`,
      },
    );
}
