/**
 * A scriptable fake of the GitOps installation behind the activity contract: a small model of the app version,
 * builds, merge requests, branches and what runs in each environment. It records every call, applies each change
 * the way the real systems would (a merge moves the env to the MR's image, a revert moves it back), and fails or
 * blocks the calls a test scripts. Failures are thrown the way real activities throw them (`toApplicationFailure`).
 */
import { createSettlePromotionConflict } from '../../../activities/promotions/settle-promotion-conflict.js';
import { activityInfo, heartbeat, sleep } from '@temporalio/activity';
import type { Environment } from '../../../src/domain/environments.js';
import type {
  ActivityName,
  EnvironmentState,
  MergeRequestRef,
  ShepherdActivities,
} from '../../../src/domain/activities.js';
import { ApprovalRejectedError, type ShepherdError } from '../../../src/domain/errors.js';
import { freezeAt } from '../../../src/domain/freeze.js';
import type { FreezeWindows } from '../../../src/domain/pipeline.js';
import { toApplicationFailure } from '../../../src/temporal/common/failures.js';

export interface Call {
  readonly name: ActivityName;
  readonly input: Record<string, unknown>;
}

interface EnvModel {
  /** What the cluster runs. */
  imageTag: string | undefined;
  /** What the env branch declares at its head (`revision`); the same as `imageTag` unless a test makes them drift. */
  declaredImageTag: string | undefined;
  revision: string;
  healthy: boolean;
  synced: boolean;
}

interface MrModel extends MergeRequestRef {
  state: 'opened' | 'merged' | 'closed';
  mergeCommitSha?: string;
  /** The image the env branch declared before this MR was merged: what its revert declares again. */
  replacedImageTag?: string;
}

interface Script {
  readonly name: ActivityName;
  readonly when: (input: Record<string, unknown>) => boolean;
  /** `fail-after`: the call has its effect (e.g. GitLab merges), then fails as if its answer was lost. */
  readonly act: 'fail' | 'block' | 'hold' | 'fail-after';
  readonly error?: ShepherdError;
  times: number;
  /** For `hold`: set once the test lets the held calls go on. */
  released?: boolean;
}

const WEB = 'https://gitlab.example.test/p2c/k8s-deployments/-/merge_requests';
const JENKINS = 'https://jenkins.example.test/job';

export class FakePipeline {
  readonly calls: Call[] = [];
  /** Per environment (the seed's, or `environments` given to the constructor). */
  readonly envs: Record<'dev' | 'stage' | 'prod', EnvModel> & Record<string, EnvModel>;
  readonly mergeRequests = new Map<number, MrModel>();
  readonly branches = new Set<string>();
  version: string;
  private readonly scripts: Script[] = [];
  /** Part B: approvals given in "GitLab", per MR iid. */
  readonly gitlabApprovals = new Map<number, { username: string; name: string }>();
  /** The freeze windows the "worker's pipeline" declares per environment (none unless a test sets them). */
  readonly freeze: Partial<Record<Environment, FreezeWindows>> = {};
  private nextIid: number;
  private nextBuild = 100;
  private bumps = 0;

  /**
   * `firstIid`: the iid of the first MR it opens (default 1); fakes of several apps that share one deployments
   * repo number their MRs apart, as GitLab does.
   */
  constructor(
    opts: {
      version?: string;
      images?: Partial<Record<Environment, string | undefined>>;
      /** The pipeline's environments (default dev, stage, prod). */
      environments?: readonly string[];
      firstIid?: number;
    } = {},
  ) {
    this.version = opts.version ?? '1.0.36-SNAPSHOT';
    this.nextIid = opts.firstIid ?? 1;
    const initial = (env: Environment): EnvModel => {
      const imageTag = opts.images && env in opts.images ? opts.images[env] : '1.0.36-SNAPSHOT-0a0a0a0';
      return { imageTag, declaredImageTag: imageTag, revision: `${env}-base`, healthy: true, synced: true };
    };
    this.envs = Object.fromEntries(
      (opts.environments ?? ['dev', 'stage', 'prod']).map((env) => [env, initial(env)]),
    ) as FakePipeline['envs'];
  }

  /** Makes the next `times` calls of `name` whose input matches fail with `error`. */
  fail(
    name: ActivityName,
    error: ShepherdError,
    when: (input: Record<string, unknown>) => boolean = () => true,
    times = Infinity,
  ): this {
    this.scripts.push({ name, when, act: 'fail', error, times });
    return this;
  }

  /**
   * Makes the next `times` matching calls of `name` have their effect and then fail with `error`, as when GitLab
   * merged but the answer never arrived. Only calls that change something honour it (mergeMergeRequest).
   */
  failAfter(
    name: ActivityName,
    error: ShepherdError,
    when: (input: Record<string, unknown>) => boolean = () => true,
    times = Infinity,
  ): this {
    this.scripts.push({ name, when, act: 'fail-after', error, times });
    return this;
  }

  /** Makes matching calls of `name` hang (heartbeating) until cancelled. */
  block(name: ActivityName, when: (input: Record<string, unknown>) => boolean = () => true): this {
    this.scripts.push({ name, when, act: 'block', times: Infinity });
    return this;
  }

  /**
   * Makes the next matching call of `name` wait (heartbeating, deaf to cancellation, as a shielded call is) until the
   * returned function is called; then it goes on as usual.
   */
  hold(name: ActivityName, when: (input: Record<string, unknown>) => boolean = () => true): () => void {
    const script: Script = { name, when, act: 'hold', times: 1 };
    this.scripts.push(script);
    return () => {
      script.released = true;
    };
  }

  names(): ActivityName[] {
    return this.calls.map((c) => c.name);
  }

  callsOf(name: ActivityName): Record<string, unknown>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input);
  }

  private async enter(name: ActivityName, input: object): Promise<void> {
    const record = input as Record<string, unknown>;
    this.calls.push({ name, input: record });
    const script = this.scripts.find((s) => s.name === name && s.act !== 'fail-after' && s.times > 0 && s.when(record));
    if (!script) return;
    script.times -= 1;
    if (script.act === 'fail') throw toApplicationFailure(script.error!);
    if (script.act === 'hold') {
      while (!script.released) {
        heartbeat();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return;
    }
    for (;;) {
      heartbeat();
      await sleep(50);
    }
  }

  /** After a call had its effect: fails it when a `failAfter` script matches. */
  private leave(name: ActivityName, input: object): void {
    const record = input as Record<string, unknown>;
    const script = this.scripts.find((s) => s.name === name && s.act === 'fail-after' && s.times > 0 && s.when(record));
    if (!script) return;
    script.times -= 1;
    throw toApplicationFailure(script.error!);
  }

  private mr(targetEnv: Environment, sourceBranch: string, imageTag: string): MrModel {
    const existing = [...this.mergeRequests.values()].find(
      (m) => m.sourceBranch === sourceBranch && m.state === 'opened',
    );
    if (existing) return existing;
    const iid = this.nextIid++;
    const mr: MrModel = {
      iid,
      webUrl: `${WEB}/${iid}`,
      sourceBranch,
      targetEnv,
      headSha: `h${iid}`,
      imageTag,
      state: 'opened',
    };
    this.mergeRequests.set(iid, mr);
    this.branches.add(sourceBranch);
    return mr;
  }

  private ref(mr: MrModel): MergeRequestRef {
    return {
      iid: mr.iid,
      webUrl: mr.webUrl,
      sourceBranch: mr.sourceBranch,
      targetEnv: mr.targetEnv,
      headSha: mr.headSha,
      imageTag: mr.imageTag,
    };
  }

  private attempt(): number {
    return activityInfo().attempt;
  }

  /** The activity implementations, bound to this model. */
  activities(): ShepherdActivities {
    return {
      bumpAppVersion: async (input) => {
        await this.enter('bumpAppVersion', input);
        const previousVersion = this.version;
        const [major, minor, patch] = previousVersion.replace('-SNAPSHOT', '').split('.').map(Number);
        this.version = `${major}.${minor}.${(patch ?? 0) + 1}-SNAPSHOT`;
        this.bumps += 1;
        return {
          attempt: this.attempt(),
          previousVersion,
          version: this.version,
          commitSha: `${'abcdef1'}${this.bumps}${'0'.repeat(31)}`,
          alreadyDone: false,
        };
      },
      findCiBuildForCommit: async (input) => {
        await this.enter('findCiBuildForCommit', input);
        const buildNumber = this.nextBuild++;
        return {
          attempt: this.attempt(),
          job: 'app-ci',
          buildNumber,
          url: `${JENKINS}/example-app/job/main/${buildNumber}/`,
        };
      },
      awaitJenkinsBuild: async (input) => {
        await this.enter('awaitJenkinsBuild', input);
        const url =
          input.job === 'app-ci'
            ? `${JENKINS}/example-app/job/main/${input.buildNumber}/`
            : `${JENKINS}/promote-environment/${input.buildNumber}/`;
        return {
          attempt: this.attempt(),
          build: { job: input.job, buildNumber: input.buildNumber, url },
          result: 'SUCCESS',
          durationMs: 42_000,
        };
      },
      triggerPromoteJob: async (input) => {
        await this.enter('triggerPromoteJob', input);
        const buildNumber = this.nextBuild++;
        return {
          attempt: this.attempt(),
          build: { job: 'promote', buildNumber, url: `${JENKINS}/promote-environment/${buildNumber}/` },
          queueItemId: buildNumber + 1000,
          reused: false,
        };
      },
      queuePromoteJob: async (input) => {
        await this.enter('queuePromoteJob', input);
        const buildNumber = this.nextBuild++;
        return { attempt: this.attempt(), queueItemId: buildNumber + 1000, reused: false };
      },
      awaitJenkinsQueueItem: async (input) => {
        await this.enter('awaitJenkinsQueueItem', input);
        const buildNumber = input.queueItemId - 1000;
        return {
          attempt: this.attempt(),
          build: { job: input.job, buildNumber, url: `${JENKINS}/promote-environment/${buildNumber}/` },
          queueItemId: input.queueItemId,
        };
      },
      cancelPromoteJob: async (input) => {
        await this.enter('cancelPromoteJob', input);
        return { attempt: this.attempt(), outcome: 'build-finished', buildNumber: input.queueItemId - 1000 };
      },
      abandonDeployBranch: async (input) => {
        await this.enter('abandonDeployBranch', input);
        const prefix = input.targetEnv === 'dev' ? 'update-dev-' : `promote-${input.targetEnv}-`;
        const ours = (branch: string): boolean =>
          input.imageTag !== undefined
            ? branch === `${prefix}${input.imageTag}`
            : branch.startsWith(`${prefix}${input.version}-`);
        const closed: number[] = [];
        for (const mr of this.mergeRequests.values())
          if (mr.state === 'opened' && mr.targetEnv === input.targetEnv && ours(mr.sourceBranch)) {
            mr.state = 'closed';
            closed.push(mr.iid);
          }
        const branchesDeleted = [...this.branches].filter(ours);
        for (const branch of branchesDeleted) this.branches.delete(branch);
        return { attempt: this.attempt(), closed, branchesDeleted };
      },
      awaitMergeRequest: async (input) => {
        await this.enter('awaitMergeRequest', input);
        const imageTag = input.imageTag ?? `${input.version}-abcdef1`;
        const branch = input.targetEnv === 'dev' ? `update-dev-${imageTag}` : `promote-${input.targetEnv}-${imageTag}`;
        return { attempt: this.attempt(), ...this.ref(this.mr(input.targetEnv, branch, imageTag)) };
      },
      openPromotionMergeRequest: async (input) => {
        await this.enter('openPromotionMergeRequest', input);
        const mr = this.mr(input.targetEnv, `promote-${input.targetEnv}-${input.imageTag}`, input.imageTag);
        return { attempt: this.attempt(), mergeRequest: this.ref(mr), branchCreated: true, mergeRequestCreated: true };
      },
      mergeMergeRequest: async (input) => {
        await this.enter('mergeMergeRequest', input);
        const mr = this.mergeRequests.get(input.iid)!;
        if (mr.state === 'merged')
          return { attempt: this.attempt(), mergeCommitSha: mr.mergeCommitSha!, alreadyMerged: true };
        const env = this.envs[mr.targetEnv]!;
        mr.state = 'merged';
        mr.mergeCommitSha = `m${mr.iid}`;
        mr.replacedImageTag = env.declaredImageTag;
        Object.assign(env, { imageTag: mr.imageTag, declaredImageTag: mr.imageTag, revision: mr.mergeCommitSha });
        this.leave('mergeMergeRequest', input);
        return { attempt: this.attempt(), mergeCommitSha: mr.mergeCommitSha, alreadyMerged: false };
      },
      revertMergeRequest: async (input) => {
        await this.enter('revertMergeRequest', input);
        const original = this.mergeRequests.get(input.iid)!;
        const revert = this.mr(
          input.targetEnv,
          `revert-${input.targetEnv}-${input.iid}`,
          original.replacedImageTag ?? '',
        );
        revert.state = 'merged';
        revert.mergeCommitSha = `r${revert.iid}`;
        Object.assign(this.envs[input.targetEnv]!, {
          imageTag: original.replacedImageTag,
          declaredImageTag: original.replacedImageTag,
          revision: revert.mergeCommitSha,
          healthy: true,
        });
        return {
          attempt: this.attempt(),
          revertMergeRequest: this.ref(revert),
          mergeCommitSha: revert.mergeCommitSha,
          alreadyReverted: false,
        };
      },
      closeMergeRequest: async (input) => {
        await this.enter('closeMergeRequest', input);
        const mr = this.mergeRequests.get(input.iid)!;
        const stateBefore = mr.state;
        if (mr.state === 'opened') mr.state = 'closed';
        return { attempt: this.attempt(), stateBefore };
      },
      deleteBranch: async (input) => {
        await this.enter('deleteBranch', input);
        return { attempt: this.attempt(), deleted: this.branches.delete(input.branch) };
      },
      // The real activity: it acts on Temporal runs only, through the test worker's own client.
      settlePromotionConflict: async (input) => {
        await this.enter('settlePromotionConflict', input);
        return createSettlePromotionConflict()(input);
      },
      readMergeRequest: async (input) => {
        await this.enter('readMergeRequest', input);
        const mr = this.mergeRequests.get(input.iid)!;
        return {
          attempt: this.attempt(),
          iid: mr.iid,
          state: mr.state,
          targetEnv: mr.targetEnv,
          headSha: mr.headSha,
          mergeCommitSha: mr.mergeCommitSha,
        };
      },
      readDeclaredImage: async (input) => {
        await this.enter('readDeclaredImage', input);
        const env = this.envs[input.env]!;
        // At a merge commit the branch declares that MR's image (a revert MR's is the image it restores).
        const at = [...this.mergeRequests.values()].find(
          (m) => m.mergeCommitSha !== undefined && m.mergeCommitSha === input.ref,
        );
        const tag = at ? at.imageTag || undefined : env.declaredImageTag;
        const image = `docker.example.test/p2c/example-app:${tag ?? ''}`;
        return {
          attempt: this.attempt(),
          env: input.env,
          commitSha: input.ref ?? env.revision,
          image,
          imageTag: tag,
          files: [
            { path: 'env.cue', image },
            { path: 'manifests/exampleApp/exampleApp.yaml', image },
          ],
        };
      },
      readEnvironmentState: async (input) => {
        await this.enter('readEnvironmentState', input);
        return this.state(input.env);
      },
      awaitArgoSyncedAndHealthy: async (input) => {
        await this.enter('awaitArgoSyncedAndHealthy', input);
        return {
          attempt: this.attempt(),
          argoApp: `${input.appName}-${input.env}`,
          revision: input.revision,
          settledAt: new Date().toISOString(),
          refreshes: 0,
        };
      },
      verifyWorkload: async (input) => {
        await this.enter('verifyWorkload', input);
        return {
          attempt: this.attempt(),
          replicas: 1,
          pods: [{ name: `${input.appName}-1`, imageTag: input.imageTag, ready: true, restarts: 0 }],
        };
      },
      notifyEvent: async (input) => {
        await this.enter('notifyEvent', input);
        return { attempt: this.attempt(), delivered: true };
      },
      // The real rule over the windows the test declared, at the instant the workflow asks about (its clock).
      checkFreezeWindow: async (input) => {
        await this.enter('checkFreezeWindow', input);
        const windows = this.freeze[input.env];
        if (!windows) return { attempt: this.attempt(), frozen: false, policy: 'wait' };
        return {
          attempt: this.attempt(),
          ...freezeAt(windows, input.at ?? new Date().toISOString()),
          policy: windows.policy,
        };
      },
      // Part B: waits (heartbeating) until a test approves the MR in "GitLab" (`approveInGitLab`) or closes it.
      awaitMergeRequestApproval: async (input) => {
        await this.enter('awaitMergeRequestApproval', input);
        for (;;) {
          const mr = this.mergeRequests.get(input.iid);
          if (mr?.state === 'closed')
            throw toApplicationFailure(
              new ApprovalRejectedError({ env: input.targetEnv, by: 'GitLab', reason: 'closed', timedOut: false }),
            );
          const approvedBy = this.gitlabApprovals.get(input.iid);
          if (approvedBy) return { attempt: this.attempt(), approvedBy: [approvedBy], approvalsRequired: 1 };
          if (Date.now() >= Date.parse(input.deadline))
            throw toApplicationFailure(
              new ApprovalRejectedError({ env: input.targetEnv, by: 'timeout', reason: 'timed out', timedOut: true }),
            );
          heartbeat();
          await sleep(50);
        }
      },
    };
  }

  private state(env: Environment): EnvironmentState {
    const model = this.envs[env]!;
    const tag = model.imageTag;
    return {
      attempt: this.attempt(),
      env,
      argoApp: `example-app-${env}`,
      imageTag: tag,
      containers: tag
        ? [{ name: 'example-app', image: `docker.example.test/p2c/example-app:${tag}`, imageTag: tag }]
        : [],
      replicas: { desired: 1, updated: 1, ready: model.healthy ? 1 : 0, available: model.healthy ? 1 : 0 },
      sync: { status: model.synced ? 'Synced' : 'OutOfSync', revision: model.revision },
      health: { status: model.healthy ? 'Healthy' : 'Degraded' },
      operation: { phase: 'Succeeded', revision: model.revision, finishedAt: '2026-01-16T01:00:00.000Z' },
      reconciledAt: '2026-01-16T01:00:05.000Z',
    };
  }
}

/**
 * Activities for a long-lived test worker that delegate to whichever fake the current test installed, so one
 * worker serves every test of a file.
 */
export function delegatingActivities(current: () => FakePipeline): ShepherdActivities {
  const names = Object.keys(new FakePipeline().activities()) as ActivityName[];
  return Object.fromEntries(
    names.map((name) => [
      name,
      (input: never) => (current().activities()[name] as (i: never) => Promise<unknown>)(input),
    ]),
  ) as unknown as ShepherdActivities;
}
