/**
 * Merge requests of the simulated GitLab: creation rules (duplicates, branch checks), the asynchronous
 * mergeability check driven by the clock, merge with GitLab's check order, close/reopen, and notes.
 */
import type { Clock } from '../core/clock.js';
import type { DomainFaultContext, FaultEngine } from '../core/faults.js';
import { GitLabError } from './errors.js';
import type { Commit } from './git-store.js';
import { ACTIVE_PIPELINE_STATUSES, type Pipeline, type PipelineStore } from './pipelines.js';
import {
  fullPath,
  type MergeRequest,
  type MergeRequestEventAction,
  type MergeRequestState,
  type Note,
  type Project,
  type User,
} from './types.js';

/** What the service needs from the model around it. */
export interface MergeRequestHost {
  readonly clock: Clock;
  readonly faults: FaultEngine;
  readonly pipelines: PipelineStore;
  projectById(id: number): Project;
  userById(id: number): User;
  moveBranch(project: Project, branch: string, commit: Commit, userId: number, newCommits?: readonly Commit[]): void;
  /** Deletes a branch if it may be deleted (not default, not protected); silently keeps it otherwise. */
  deleteBranch(project: Project, branch: string, userId: number): void;
  /** Someone else pushes a commit to `branch` (the `mr-head-moves` and `mr-merged-by-other` faults); returns who. */
  concurrentPush(project: Project, branch: string): User | undefined;
  faultContext(project: Project, mr: MergeRequest): DomainFaultContext;
  emitMergeRequest(project: Project, mr: MergeRequest, action: MergeRequestEventAction): void;
}

export interface CreateMergeRequestInput {
  readonly sourceBranch: string;
  readonly targetBranch: string;
  readonly title: string;
  readonly description?: string;
  readonly labels?: readonly string[];
  readonly removeSourceBranch?: boolean;
  readonly squash?: boolean;
}

/** Filters of the MR list; `state` absent or `all` means every state (GitLab's default). */
export interface MergeRequestFilter {
  readonly state?: MergeRequestState | 'all' | 'locked';
  readonly sourceBranch?: string;
  readonly targetBranch?: string;
  readonly iids?: readonly number[];
  readonly labels?: readonly string[];
  readonly search?: string;
  readonly createdAfter?: number;
  readonly createdBefore?: number;
  readonly updatedAfter?: number;
  readonly updatedBefore?: number;
  readonly orderBy?: 'created_at' | 'updated_at' | 'merged_at' | 'title';
  readonly sort?: 'asc' | 'desc';
}

export interface UpdateMergeRequestInput {
  readonly title?: string;
  readonly description?: string;
  readonly targetBranch?: string;
  readonly stateEvent?: 'close' | 'reopen';
  readonly labels?: readonly string[];
  readonly addLabels?: readonly string[];
  readonly removeLabels?: readonly string[];
  readonly squash?: boolean;
  readonly removeSourceBranch?: boolean;
}

export interface MergeOptions {
  /** Expected source head; a mismatch is refused with 409. */
  readonly sha?: string;
  readonly shouldRemoveSourceBranch?: boolean;
  readonly squash?: boolean;
  /** `auto_merge` (or the deprecated `merge_when_pipeline_succeeds`): arm auto-merge while the pipeline runs. */
  readonly autoMerge?: boolean;
  readonly mergeCommitMessage?: string;
  readonly squashCommitMessage?: string;
}

export class MergeRequestService {
  private readonly byProject = new Map<number, MergeRequest[]>();
  private readonly notesByMr = new Map<number, Note[]>();
  private nextId = 1;
  private nextNoteId = 1;

  constructor(private readonly host: MergeRequestHost) {
    host.pipelines.onFinished((project, pipeline) => this.onPipelineFinished(project, pipeline));
  }

  /**
   * Part B (approvals): further merge checks registered by other modules, run once GitLab's own check passed; the
   * first that fails names `detailed_merge_status` (`not_approved`, `approvals_syncing`) and refuses the merge (405).
   */
  readonly extraChecks: ((mr: MergeRequest) => string | undefined)[] = [];

  private failingExtraCheck(mr: MergeRequest): string | undefined {
    for (const check of this.extraChecks) {
      const failing = check(mr);
      if (failing !== undefined) return failing;
    }
    return undefined;
  }

  all(project: Project): MergeRequest[] {
    return this.byProject.get(project.id) ?? [];
  }

  /** Finds an MR by its project-local iid; refuses with GitLab's `find_by!` 404 `{"message":"404 Not found"}`. */
  get(project: Project, iid: number): MergeRequest {
    const mr = this.all(project).find((m) => m.iid === iid);
    if (!mr) throw GitLabError.recordNotFound();
    return mr;
  }

  /**
   * GitLab's `detailed_merge_status` (`DetailedMergeStatusService`): `not_open` unless open; `checking` while the
   * asynchronous check runs; then the first failing check with CI skipped (conflict, nothing to merge, `need_rebase`);
   * then, if only CI fails, `ci_still_running` while the head pipeline is active, else `ci_must_pass`; else
   * `mergeable`.
   */
  detailedStatus(mr: MergeRequest): string {
    if (mr.state !== 'opened') return 'not_open';
    if (mr.check !== 'mergeable') return mr.check;
    if (isDraftTitle(mr.title)) return 'draft_status';
    const project = this.host.projectById(mr.projectId);
    if (this.needsRebase(project, mr)) return 'need_rebase';
    // Part B: approvals (`not_approved`, `approvals_syncing`) come before the CI check, which runs last.
    const failing = this.failingExtraCheck(mr);
    if (failing !== undefined) return failing;
    return this.ciStatus(project, mr) ?? 'mergeable';
  }

  /** `should_be_rebased?`: the method is `ff` or `rebase_merge` and the target head is not an ancestor of the MR head. */
  needsRebase(project: Project, mr: MergeRequest): boolean {
    if (project.mergeMethod === 'merge') return false;
    const target = project.repo.branchHead(mr.targetBranch);
    return target !== undefined && !project.repo.isAncestor(target, mr.sha);
  }

  /** The CI check: undefined when it passes, else `ci_still_running` or `ci_must_pass`. */
  private ciStatus(project: Project, mr: MergeRequest): 'ci_still_running' | 'ci_must_pass' | undefined {
    if (!project.onlyAllowMergeIfPipelineSucceeds) return undefined;
    const head = this.host.pipelines.headPipelineOf(project, mr);
    if (head === undefined) return 'ci_must_pass';
    if (ACTIVE_PIPELINE_STATUSES.has(head.status)) return 'ci_still_running';
    // `skipped` counts as success unless the project forbids it, which the sandbox does not model.
    return head.status === 'success' || head.status === 'skipped' ? undefined : 'ci_must_pass';
  }

  /** The MR's head pipeline (`head_pipeline`): the newest pipeline for its head. */
  headPipeline(mr: MergeRequest): Pipeline | undefined {
    return this.host.pipelines.headPipelineOf(this.host.projectById(mr.projectId), mr);
  }

  /**
   * Opens an MR. Refuses with 422 when source and target are the same branch or a branch does not exist, and
   * with 409 (message as a list) when an open MR for the same source and target exists.
   */
  create(project: Project, author: User, input: CreateMergeRequestInput): MergeRequest {
    const { repo } = project;
    if (input.sourceBranch === input.targetBranch)
      throw new GitLabError('unprocessable', ["You can't use same project/branch for source and target"]);
    const missing: string[] = [];
    if (!repo.hasBranch(input.sourceBranch)) missing.push(`Source branch "${input.sourceBranch}" does not exist`);
    if (!repo.hasBranch(input.targetBranch)) missing.push(`Target branch "${input.targetBranch}" does not exist`);
    if (missing.length > 0) throw new GitLabError('unprocessable', missing);
    this.refuseDuplicate(project, input.sourceBranch, input.targetBranch);
    const list = this.byProject.get(project.id) ?? [];
    this.byProject.set(project.id, list);
    const now = this.host.clock.now();
    const mr: MergeRequest = {
      id: this.nextId++,
      iid: list.reduce((max, m) => Math.max(max, m.iid), 0) + 1,
      projectId: project.id,
      title: input.title,
      description: input.description ?? '',
      sourceBranch: input.sourceBranch,
      targetBranch: input.targetBranch,
      state: 'opened',
      authorId: author.id,
      labels: normaliseLabels(input.labels ?? []),
      sha: repo.branchHead(input.sourceBranch)!,
      targetSha: repo.branchHead(input.targetBranch)!,
      check: 'checking',
      squash: input.squash ?? false,
      forceRemoveSourceBranch: input.removeSourceBranch ?? false,
      shouldRemoveSourceBranch: null,
      mergeCommitSha: null,
      squashCommitSha: null,
      mergedAt: null,
      mergeUserId: null,
      closedAt: null,
      closedById: null,
      preparedAt: null,
      createdAt: now,
      updatedAt: now,
      rebaseInProgress: false,
      mergeError: null,
      autoMerge: null,
    };
    list.push(mr);
    this.startPipeline(project, mr);
    this.scheduleCheck(project, mr);
    this.host.emitMergeRequest(project, mr, 'opened');
    return mr;
  }

  private refuseDuplicate(project: Project, source: string, target: string, except?: MergeRequest): void {
    const dup = this.all(project).find(
      (m) => m !== except && m.state === 'opened' && m.sourceBranch === source && m.targetBranch === target,
    );
    if (dup)
      throw new GitLabError('conflict', [
        `Another open merge request already exists for this source branch: !${dup.iid}`,
      ]);
  }

  /** The MRs matching `filter`, ordered as requested (default newest created first). */
  list(project: Project, filter: MergeRequestFilter = {}): MergeRequest[] {
    const state = filter.state ?? 'all';
    const search = filter.search?.toLowerCase();
    const out = this.all(project).filter(
      (mr) =>
        (state === 'all' || mr.state === state) &&
        (filter.sourceBranch === undefined || mr.sourceBranch === filter.sourceBranch) &&
        (filter.targetBranch === undefined || mr.targetBranch === filter.targetBranch) &&
        (filter.iids === undefined || filter.iids.length === 0 || filter.iids.includes(mr.iid)) &&
        (filter.labels === undefined || filter.labels.every((l) => mr.labels.includes(l))) &&
        (search === undefined ||
          mr.title.toLowerCase().includes(search) ||
          mr.description.toLowerCase().includes(search)) &&
        (filter.createdAfter === undefined || mr.createdAt >= filter.createdAfter) &&
        (filter.createdBefore === undefined || mr.createdAt <= filter.createdBefore) &&
        (filter.updatedAfter === undefined || mr.updatedAt >= filter.updatedAfter) &&
        (filter.updatedBefore === undefined || mr.updatedAt <= filter.updatedBefore),
    );
    const key = filter.orderBy ?? 'created_at';
    const value = (mr: MergeRequest): number | string =>
      key === 'title'
        ? mr.title
        : key === 'updated_at'
          ? mr.updatedAt
          : key === 'merged_at'
            ? (mr.mergedAt ?? 0)
            : mr.createdAt;
    const dir = filter.sort === 'asc' ? 1 : -1;
    // The id breaks ties, as GitLab's ordering does, so MRs created in the same millisecond keep a stable order.
    return out.sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      return (va < vb ? -1 : va > vb ? 1 : a.id - b.id) * dir;
    });
  }

  /** Applies the given changes; closing and reopening follow `state_event`. A merged MR keeps its state. */
  update(project: Project, iid: number, user: User, input: UpdateMergeRequestInput): MergeRequest {
    const mr = this.get(project, iid);
    const now = this.host.clock.now();
    let recheck = false;
    if (input.targetBranch !== undefined && input.targetBranch !== mr.targetBranch) {
      if (!project.repo.hasBranch(input.targetBranch))
        throw new GitLabError('unprocessable', [`Target branch "${input.targetBranch}" does not exist`]);
      if (input.targetBranch === mr.sourceBranch)
        throw new GitLabError('unprocessable', ["You can't use same project/branch for source and target"]);
      if (mr.state === 'opened') this.refuseDuplicate(project, mr.sourceBranch, input.targetBranch, mr);
      mr.targetBranch = input.targetBranch;
      recheck = true;
    }
    if (input.title !== undefined) mr.title = input.title;
    if (input.description !== undefined) mr.description = input.description;
    if (input.labels !== undefined) mr.labels = normaliseLabels(input.labels);
    if (input.addLabels !== undefined) mr.labels = normaliseLabels([...mr.labels, ...input.addLabels]);
    if (input.removeLabels !== undefined) mr.labels = mr.labels.filter((l) => !input.removeLabels!.includes(l));
    if (input.squash !== undefined) mr.squash = input.squash;
    if (input.removeSourceBranch !== undefined) mr.forceRemoveSourceBranch = input.removeSourceBranch;
    mr.updatedAt = now;
    let action: MergeRequestEventAction = 'updated';
    if (input.stateEvent === 'close' && mr.state === 'opened') {
      mr.state = 'closed';
      mr.closedAt = now;
      mr.closedById = user.id;
      mr.autoMerge = null;
      mr.cancelCheck?.();
      this.addNote(project, iid, user, 'closed', { system: true });
      action = 'closed';
    } else if (input.stateEvent === 'reopen' && mr.state === 'closed') {
      this.refuseDuplicate(project, mr.sourceBranch, mr.targetBranch, mr);
      mr.state = 'opened';
      mr.closedAt = null;
      mr.closedById = null;
      this.addNote(project, iid, user, 'reopened', { system: true });
      recheck = true;
      action = 'reopened';
    }
    if (recheck && mr.state === 'opened') this.refreshHeads(project, mr);
    this.host.emitMergeRequest(project, mr, action);
    return mr;
  }

  /**
   * Merges with GitLab's order of checks (`execute_merge`): not open → 405; the source head moved → 409 (when `sha`
   * is given); with `autoMerge` while the head pipeline runs (and only CI blocks) → armed, the MR stays open;
   * otherwise anything but `mergeable` → 405; then the commits land on the target branch as the merge method says.
   */
  merge(project: Project, iid: number, user: User, opts: MergeOptions = {}): MergeRequest {
    const mr = this.get(project, iid);
    if (mr.state === 'opened' && this.host.faults.domainFault('mr-head-moves', this.host.faultContext(project, mr))) {
      this.host.concurrentPush(project, mr.sourceBranch);
    }
    if (
      mr.state === 'opened' &&
      this.host.faults.domainFault('mr-merged-by-other', this.host.faultContext(project, mr))
    )
      this.mergedByOther(project, mr);
    // A merged or closed MR is refused before its head is compared (GitLab's `not_allowed!` comes first).
    if (mr.state !== 'opened') throw new GitLabError('not-allowed', '405 Method Not Allowed');
    if (opts.sha !== undefined && opts.sha !== mr.sha)
      throw new GitLabError('conflict', `SHA does not match HEAD of source branch: ${mr.sha}`);
    const status = this.detailedStatus(mr);
    if (opts.autoMerge === true && status === 'ci_still_running') return this.armAutoMerge(project, mr, user, opts);
    if (status !== 'mergeable') throw new GitLabError('not-allowed', '405 Method Not Allowed');
    const { repo } = project;
    const sourceHead = repo.branchHead(mr.sourceBranch);
    const targetHead = repo.branchHead(mr.targetBranch);
    if (sourceHead === undefined || targetHead === undefined)
      throw new GitLabError('not-allowed', '405 Method Not Allowed');
    return this.land(project, mr, user, opts);
  }

  /**
   * The `mr-merged-by-other` fault: just before the caller's merge arrives, someone pushes one more commit to the
   * source branch and merges the MR from the web UI ("Merge immediately", no `sha` guard). The caller then finds
   * the MR merged, with a head it never saw.
   */
  private mergedByOther(project: Project, mr: MergeRequest): void {
    const person = this.host.concurrentPush(project, mr.sourceBranch);
    if (person === undefined || project.repo.branchHead(mr.targetBranch) === undefined) return;
    this.land(project, mr, person, {});
  }

  /** Lands the MR on its target branch as `user`: squash if asked, the merge commit, state merged, notes and events. */
  private land(project: Project, mr: MergeRequest, user: User, opts: MergeOptions): MergeRequest {
    const { repo } = project;
    const sourceHead = repo.branchHead(mr.sourceBranch)!;
    const targetHead = repo.branchHead(mr.targetBranch)!;
    const base = repo.mergeBase(targetHead, sourceHead);
    const outcome = repo.threeWayMerge(
      base ? repo.getCommit(base)!.tree : new Map(),
      repo.getCommit(targetHead)!.tree,
      repo.getCommit(sourceHead)!.tree,
    );
    if (!outcome.tree) throw new GitLabError('unprocessable', 'Branch cannot be merged');
    const person = { name: user.name, email: user.email };
    const newCommits = repo.range(targetHead, sourceHead);
    let mergedHead = sourceHead;
    const fastForward = project.mergeMethod === 'ff';
    if (opts.squash ?? mr.squash) {
      const squashed = repo.createCommit({
        // A fast-forward squash sits on the target head (the MR was rebased on it); otherwise on the merge base.
        parentIds: fastForward ? [targetHead] : base ? [base] : [],
        tree: repo.getCommit(sourceHead)!.tree,
        message: opts.squashCommitMessage ?? mr.title,
        author: repo.getCommit(sourceHead)!.author,
        committer: person,
      });
      mr.squashCommitSha = squashed.id;
      mergedHead = squashed.id;
      newCommits.splice(0, newCommits.length, squashed);
    }
    const message =
      opts.mergeCommitMessage ??
      `Merge branch '${mr.sourceBranch}' into '${mr.targetBranch}'\n\n${mr.title}\n\nSee merge request ${fullPath(project)}!${mr.iid}`;
    // `ff` makes no merge commit: the target moves to the MR head (or its squash), and `merge_commit_sha` stays null.
    const landed = fastForward
      ? repo.getCommit(mergedHead)!
      : repo.createCommit({ parentIds: [targetHead, mergedHead], tree: outcome.tree, message, author: person });
    const now = this.host.clock.now();
    mr.cancelCheck?.();
    mr.autoMerge = null;
    mr.state = 'merged';
    mr.mergeCommitSha = fastForward ? null : landed.id;
    mr.mergedAt = now;
    mr.mergeUserId = user.id;
    mr.updatedAt = now;
    mr.shouldRemoveSourceBranch = opts.shouldRemoveSourceBranch ?? null;
    project.merges++;
    this.host.moveBranch(project, mr.targetBranch, landed, user.id, fastForward ? newCommits : [...newCommits, landed]);
    this.addNote(project, mr.iid, user, 'merged', { system: true });
    if (opts.shouldRemoveSourceBranch ?? mr.forceRemoveSourceBranch)
      this.host.deleteBranch(project, mr.sourceBranch, user.id);
    this.host.emitMergeRequest(project, mr, 'merged');
    return mr;
  }

  // ---- part A: MR pipelines, auto-merge, rebase ------------------------------------------------------------

  /** A new MR head starts a `merge_request_event` pipeline when the project runs CI for MRs (unless skipped). */
  private startPipeline(project: Project, mr: MergeRequest): void {
    const outcome = project.mergeRequestPipelines;
    if (outcome === undefined || mr.state !== 'opened' || mr.skipCiFor === mr.sha) return;
    const { pipelines } = this.host;
    const pipeline = pipelines.createPipeline({
      project,
      sha: mr.sha,
      ref: `refs/merge-requests/${mr.iid}/head`,
      source: 'merge_request_event',
      mergeRequestIid: mr.iid,
    });
    pipelines.run(project, pipeline, outcome(mr));
  }

  /** Arms auto-merge (`merge_when_pipeline_succeeds`): the MR merges when its head pipeline succeeds. */
  private armAutoMerge(project: Project, mr: MergeRequest, user: User, opts: MergeOptions): MergeRequest {
    const { autoMerge: _armed, ...params } = opts;
    mr.autoMerge = { userId: user.id, ...params };
    mr.mergeError = null;
    mr.updatedAt = this.host.clock.now();
    const head = this.headPipeline(mr);
    this.addNote(
      project,
      mr.iid,
      user,
      `enabled an automatic merge when the pipeline for ${(head?.sha ?? mr.sha).slice(0, 8)} succeeds`,
      { system: true },
    );
    this.host.emitMergeRequest(project, mr, 'updated');
    return mr;
  }

  /**
   * A pipeline ended: an armed MR whose head pipeline it is merges now if it succeeded and nothing else blocks
   * (`AutoMergeProcessWorker`). A head that moved since auto-merge was armed with `sha` fails the merge as
   * GitLab's MergeService does ("Branch has been updated since the merge was requested") and disarms it.
   */
  private onPipelineFinished(project: Project, pipeline: Pipeline): void {
    for (const mr of this.all(project)) {
      const armed = mr.autoMerge;
      if (mr.state !== 'opened' || armed === null || pipeline.sha !== mr.sha) continue;
      if (this.headPipeline(mr)?.id !== pipeline.id || pipeline.status !== 'success') continue;
      const user = this.host.userById(armed.userId);
      if (armed.sha !== undefined && armed.sha !== mr.sha) {
        mr.autoMerge = null;
        mr.mergeError = 'Branch has been updated since the merge was requested. Please review the changes.';
        this.addNote(project, mr.iid, user, 'aborted the automatic merge because the source branch was updated', {
          system: true,
        });
        continue;
      }
      if (this.detailedStatus(mr) !== 'mergeable') continue;
      try {
        this.land(project, mr, user, armed);
      } catch (err) {
        if (!(err instanceof GitLabError)) throw err;
        mr.autoMerge = null;
        mr.mergeError = err.message;
      }
    }
  }

  /**
   * `PUT …/rebase`: queues a rebase of the source branch onto the target head (202 in the API), done after the
   * mergeability check's time. Refuses with 403 when the source branch is gone or protected, and 409 while one is
   * already queued. On success the source branch moves (a new head, so a new pipeline unless `skipCi`); on a
   * conflict nothing moves and `merge_error` says so.
   */
  rebase(project: Project, iid: number, user: User, opts: { skipCi?: boolean } = {}): MergeRequest {
    const mr = this.get(project, iid);
    if (mr.state !== 'opened') throw new GitLabError('forbidden', 'Cannot push to source branch');
    if (!project.repo.hasBranch(mr.sourceBranch)) throw new GitLabError('forbidden', 'Source branch does not exist');
    if (project.protectedBranches.has(mr.sourceBranch))
      throw new GitLabError('forbidden', 'Source branch is protected from force push');
    if (mr.rebaseInProgress)
      throw new GitLabError(
        'conflict',
        'Failed to enqueue the rebase operation, possibly due to a long-lived transaction. Try again later.',
      );
    mr.rebaseInProgress = true;
    mr.mergeError = null;
    const { clock } = this.host;
    clock.after(clock.duration('mergeCheck'), () => this.runRebase(project, mr, user, opts.skipCi ?? false));
    return mr;
  }

  private runRebase(project: Project, mr: MergeRequest, user: User, skipCi: boolean): void {
    const { repo } = project;
    const source = repo.branchHead(mr.sourceBranch);
    const target = repo.branchHead(mr.targetBranch);
    try {
      if (mr.state !== 'opened' || source === undefined || target === undefined) {
        if (mr.state === 'opened') mr.mergeError = 'Rebase failed: Source branch does not exist';
        return;
      }
      if (repo.isAncestor(target, source)) return;
      const base = repo.mergeBase(target, source);
      let head = repo.getCommit(target)!;
      for (const commit of base !== undefined ? repo.range(base, source) : repo.log(source).reverse()) {
        const parent = commit.parentIds[0] !== undefined ? repo.getCommit(commit.parentIds[0])!.tree : new Map();
        const outcome = repo.threeWayMerge(parent, head.tree, commit.tree);
        if (!outcome.tree) {
          mr.mergeError = 'Rebase failed: Rebase locally, resolve all conflicts, then push the branch.';
          return;
        }
        head = repo.createCommit({
          parentIds: [head.id],
          tree: outcome.tree,
          message: commit.message,
          author: commit.author,
          committer: { name: user.name, email: user.email },
        });
      }
      if (skipCi) mr.skipCiFor = head.id;
      this.host.moveBranch(project, mr.sourceBranch, head, user.id);
    } finally {
      mr.rebaseInProgress = false;
    }
  }

  /** Called by the model whenever a branch moves or disappears: open MRs on it get fresh heads and a new check. */
  onBranchChanged(project: Project, branch: string): void {
    for (const mr of this.all(project)) {
      if (mr.state === 'opened' && (mr.sourceBranch === branch || mr.targetBranch === branch))
        this.refreshHeads(project, mr);
    }
  }

  private refreshHeads(project: Project, mr: MergeRequest): void {
    const source = project.repo.branchHead(mr.sourceBranch);
    const target = project.repo.branchHead(mr.targetBranch);
    if (source !== undefined && source !== mr.sha) {
      mr.sha = source;
      mr.updatedAt = this.host.clock.now();
      this.startPipeline(project, mr);
    }
    if (target !== undefined) mr.targetSha = target;
    this.scheduleCheck(project, mr);
  }

  /** Starts GitLab's asynchronous mergeability check: `checking` now, the result after `mergeCheck`. */
  private scheduleCheck(project: Project, mr: MergeRequest): void {
    mr.cancelCheck?.();
    mr.check = 'checking';
    const { clock } = this.host;
    mr.cancelCheck = clock.after(clock.duration('mergeCheck'), () => {
      mr.cancelCheck = undefined;
      if (mr.state !== 'opened') return;
      mr.check = this.evaluate(project, mr);
      mr.preparedAt ??= clock.now();
    });
  }

  private evaluate(project: Project, mr: MergeRequest): MergeRequest['check'] {
    const { repo } = project;
    const source = repo.branchHead(mr.sourceBranch);
    const target = repo.branchHead(mr.targetBranch);
    if (source === undefined || target === undefined || repo.isAncestor(source, target)) return 'commits_status';
    if (this.host.faults.domainFault('mr-conflict', this.host.faultContext(project, mr))) return 'conflict';
    const base = repo.mergeBase(target, source);
    const outcome = repo.threeWayMerge(
      base ? repo.getCommit(base)!.tree : new Map(),
      repo.getCommit(target)!.tree,
      repo.getCommit(source)!.tree,
    );
    return outcome.conflicts ? 'conflict' : 'mergeable';
  }

  /** Adds a note (comment) to an MR; `system` notes record state changes. */
  addNote(
    project: Project,
    iid: number,
    author: User,
    body: string,
    opts: { system?: boolean; internal?: boolean } = {},
  ): Note {
    const mr = this.get(project, iid);
    const note: Note = {
      id: this.nextNoteId++,
      projectId: project.id,
      mergeRequestIid: mr.iid,
      mergeRequestId: mr.id,
      body,
      authorId: author.id,
      system: opts.system ?? false,
      internal: opts.internal ?? false,
      createdAt: this.host.clock.now(),
    };
    const list = this.notesByMr.get(mr.id) ?? [];
    list.push(note);
    this.notesByMr.set(mr.id, list);
    return note;
  }

  /** Notes of an MR, oldest first. */
  notes(project: Project, iid: number): Note[] {
    return [...(this.notesByMr.get(this.get(project, iid).id) ?? [])];
  }
}

/** GitLab's draft prefixes (`MergeRequest::DRAFT_REGEX`): `Draft:`, `[Draft]`, `(Draft)`, `Draft - `. */
export function isDraftTitle(title: string): boolean {
  return /^\s*(\[draft\]|\(draft\)|draft:|draft\s-\s)/i.test(title);
}

function normaliseLabels(labels: readonly string[]): string[] {
  return [...new Set(labels.map((l) => l.trim()).filter((l) => l.length > 0))].sort();
}
