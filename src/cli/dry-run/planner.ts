/**
 * The dry-run planner: what `promote` and `validate` would do, read from the systems without changing anything and
 * without Temporal. It decides as the workflows do, with the same pure rules: the source's image is what runs there
 * synced and healthy (`unsettledReason`, readEnvironmentState's view of the Application and Deployment), a target
 * must run what its branch declares (`targetUnsettledReason`), and the merge request carries the image written into
 * every declaration of the target's files.
 */
import { forSource, type DeploymentView } from '../../clients/kubernetes/index.js';
import type { EnvironmentState } from '../../domain/activities.js';
import { targetUnsettledReason, unsettledReason } from '../../domain/environment-state.js';
import { NotFoundError } from '../../domain/errors.js';
import type { FreezeState } from '../../domain/freeze.js';
import { imageTagOf } from '../../domain/image-reference.js';
import {
  declarationPath,
  environmentOrderOf,
  fillTemplate,
  imageDeclarationsOf,
  placeOf,
  SEED_BRANCH_TEMPLATES,
  type DeclaredPipeline,
  type FreezeWindows,
  type ImageDeclaration,
  type PipelineLayout,
} from '../../domain/pipeline.js';
import { gitLabAncestry, withOperationFollowingSync } from '../../../activities/kubernetes/ancestry.js';
import { resolveTarget } from '../../../activities/kubernetes/common.js';
import { toEnvironmentState } from '../../../activities/kubernetes/observations.js';
import { imageReference } from '../../../activities/gitlab/edits.js';
import {
  bumpVersion,
  readImage,
  unifiedDiff,
  writeImage,
  type DeclarationContext,
} from '../../../activities/gitlab/declarations/index.js';
import { DryRunReadError, type DryRunPlan, type PlannedFile, type PlannedGate, type PlannedStep } from './plan.js';
import type { DryRunReads } from './reads.js';

/** Whether a freeze window is open at an instant, and until when: `freezeAt` (src/domain/freeze.ts). */
export type FreezeEvaluator = (windows: FreezeWindows, at: Date | string) => FreezeState;

export interface PlanContext {
  readonly reads: DryRunReads;
  readonly pipeline: Pick<DeclaredPipeline, 'environments' | 'promotion'>;
  /** The instant the gates are evaluated at (freeze windows). */
  readonly now: Date;
  /** Evaluates freeze windows; absent: the declared windows are listed without saying whether one is open. */
  readonly freezeAt?: FreezeEvaluator | undefined;
}

export interface PromotionRequest {
  readonly source: string;
  readonly target: string;
  /** The image asked for (`--image-tag`); it must be the one the source runs. */
  readonly imageTag?: string | undefined;
  readonly mode?: 'jenkins' | 'gitlab' | undefined;
  readonly allowUnsettledTarget?: boolean | undefined;
  /** false (`--no-merge`): the run stops once the merge request is open. */
  readonly merge?: boolean | undefined;
}

export interface ValidationRequest {
  /** The last environment to reach (default: the pipeline's last). */
  readonly through?: string | undefined;
  readonly allowUnsettledTarget?: boolean | undefined;
}

/** `promote --dry-run`: the one hop source → target. */
export async function planPromotion(
  ctx: PlanContext,
  layout: PipelineLayout,
  req: PromotionRequest,
): Promise<DryRunPlan> {
  const app = layout.app.name;
  const { source, target } = req;
  const sourceState = await readEnvironment(ctx, layout, source);
  const running = sourceState.imageTag;
  const sourceProblem =
    unsettledReason(sourceState) ??
    (running === undefined
      ? 'nothing deployed'
      : req.imageTag !== undefined && req.imageTag !== running
        ? `it runs ${running}, not ${req.imageTag}`
        : undefined);
  const gates: PlannedGate[] = [];
  if (sourceProblem !== undefined)
    gates.push({
      kind: 'source-not-healthy',
      effect: 'refuse',
      env: source,
      reason: sourceProblem,
      message: `the run would refuse to promote from ${source}: ${sourceProblem} (only what runs synced and healthy there is promoted)`,
    });
  const tag = req.imageTag ?? running;
  const declared = await readDeclared(ctx, layout, target);
  const targetState = await readEnvironment(ctx, layout, target);
  gates.push(...declaredGates(declared, target));
  const targetProblem = targetUnsettledReason(targetState, {
    commitSha: declared.commitSha,
    imageTag: declared.imageTag,
  });
  const alreadyThere = targetProblem === undefined && tag !== undefined && declared.imageTag === tag;
  if (targetProblem !== undefined)
    gates.push(targetGate(target, targetProblem, req.allowUnsettledTarget === true && declared.imageTag !== tag));
  // Approval and freeze hold a merge: an environment that already runs the image, or a run told not to merge,
  // never meets them.
  const merges = !alreadyThere && req.merge !== false;
  if (merges) gates.push(...environmentGates(ctx, target));

  const image = tag === undefined ? undefined : imageReference(layout.registry, app, tag);
  const mode = req.mode ?? ctx.pipeline.promotion.mode;
  const step: PlannedStep = {
    env: target,
    action: alreadyThere ? 'nothing-to-do' : 'promote',
    source,
    from: declared.image ?? null,
    to: image ?? null,
    ...(tag !== undefined && !alreadyThere
      ? {
          branch: fillTemplate((layout.gitlab.branches ?? SEED_BRANCH_TEMPLATES).promotion, {
            app,
            source,
            target,
            tag,
          }),
          into: placeOf(layout, target).branch,
        }
      : {}),
    files: image === undefined || alreadyThere ? [] : changedFiles(layout, target, declared, image),
    gates,
    note: alreadyThere
      ? `nothing to do: ${target} already runs ${tag}, synced and healthy on what its branch declares; the run would end unchanged`
      : image === undefined
        ? `there is no image to promote: ${source} runs nothing`
        : `${mode === 'jenkins' ? `the Jenkins job ${layout.jenkins.promoteJob.join('/')} would open the merge request` : 'Shepherd would open the merge request through the GitLab API'}; ${merges ? 'Shepherd merges it, waits for Argo CD and verifies the pods' : 'the run stops once it is open (--no-merge)'}`,
  };
  return { app, dryRun: true, command: 'promote', steps: [step] };
}

/** `validate --dry-run`: the version bump, then each environment through `through`. */
export async function planValidation(
  ctx: PlanContext,
  layout: PipelineLayout,
  req: ValidationRequest,
): Promise<DryRunPlan> {
  const app = layout.app.name;
  const order = environmentOrderOf(layout);
  const through = req.through ?? order[order.length - 1]!;
  const envs = order.slice(0, order.indexOf(through) + 1);
  const bump = await planBump(ctx, layout, envs[0]!);
  // The tag CI builds is the new version and the bump commit's short sha, unknown before the commit is made.
  const tag = `${bump.to ?? '<version>'}-<sha>`;
  const image = imageReference(layout.registry, app, tag);
  const branches = layout.gitlab.branches ?? SEED_BRANCH_TEMPLATES;
  const steps: PlannedStep[] = [bump];
  for (const [i, env] of envs.entries()) {
    const declared = await readDeclared(ctx, layout, env);
    const state = await readEnvironment(ctx, layout, env);
    const gates: PlannedGate[] = [...declaredGates(declared, env)];
    const problem = targetUnsettledReason(state, { commitSha: declared.commitSha, imageTag: declared.imageTag });
    if (problem !== undefined) gates.push(targetGate(env, problem, req.allowUnsettledTarget === true));
    gates.push(...environmentGates(ctx, env));
    const source = order[i - 1];
    steps.push({
      env,
      action: i === 0 ? 'deliver' : 'promote',
      ...(source !== undefined ? { source } : {}),
      from: declared.image ?? null,
      to: image,
      branch:
        i === 0
          ? fillTemplate(branches.dev, { tag, ...(bump.to ? { version: bump.to } : {}) })
          : fillTemplate(branches.promotion, { app, source: source!, target: env, tag }),
      into: placeOf(layout, env).branch,
      files: changedFiles(layout, env, declared, image),
      gates,
      note:
        i === 0
          ? `CI (${layout.jenkins.appJob.join('/')}) builds the bump commit and opens this merge request; Shepherd merges it, waits for Argo CD and verifies the pods`
          : `promoted from ${source} once it is verified there, as \`shepherd promote --from ${source} --to ${env}\` would`,
    });
  }
  return { app, dryRun: true, command: 'validate', steps };
}

/** The version bump: its file, from → to and diff; `none`: a commit that only starts a build (no version to bump). */
async function planBump(ctx: PlanContext, layout: PipelineLayout, firstEnv: string): Promise<PlannedStep> {
  const project = layout.gitlab.appProject;
  const format = layout.gitlab.versionFormat ?? 'maven';
  const branch =
    layout.gitlab.bump?.branch ??
    (await read('gitlab', `the project ${project}`, () => ctx.reads.gitlab.getProject(project))).defaultBranch;
  const base = { env: firstEnv, action: 'bump' as const, into: branch, gates: [] };
  if (format === 'none')
    return {
      ...base,
      from: null,
      to: null,
      files: [],
      note: `a commit on ${project}@${branch} that only records the run, to start a build (no version file: the build numbers the version)`,
    };
  const path = layout.gitlab.versionFile;
  const file = await read('gitlab', `${path} of ${project}@${branch}`, () =>
    ctx.reads.gitlab.readFile(project, path, branch),
  );
  const bumped = bumpVersion(format, file.content, path);
  return {
    ...base,
    from: bumped.from,
    to: bumped.to,
    files: [{ path, diff: unifiedDiff(path, file.content, bumped.content) }],
    note: `a commit on ${project}@${branch}; CI builds it as ${bumped.to}-<sha> (the commit's short sha)`,
  };
}

/** What an environment's branch declares: each declaration's file, content and image. */
interface Declared {
  readonly commitSha: string;
  readonly files: readonly { decl: ImageDeclaration; path: string; content: string; image: string }[];
  /** The first file's image (they must agree). */
  readonly image: string | undefined;
  readonly imageTag: string | undefined;
}

async function readDeclared(ctx: PlanContext, layout: PipelineLayout, env: string): Promise<Declared> {
  const project = layout.gitlab.deploymentsProject;
  const branch = placeOf(layout, env).branch;
  const head = await read('gitlab', `the branch ${branch} of ${project}`, () =>
    ctx.reads.gitlab.getBranch(project, branch),
  );
  if (head === undefined)
    throw new DryRunReadError(
      'gitlab',
      `the branch ${branch} of ${project}`,
      new NotFoundError({ system: 'gitlab', kind: 'branch', name: `${project}: ${branch}` }),
    );
  const files = [];
  for (const decl of imageDeclarationsOf(layout)) {
    const path = declarationPath(layout, env, decl.file);
    const { content } = await read('gitlab', `${path} of ${project}@${branch}`, () =>
      ctx.reads.gitlab.readFile(project, path, head.headSha),
    );
    files.push({ decl, path, content, image: readImage(decl, content, declarationContext(layout, env), path) });
  }
  const image = files[0]?.image;
  return { commitSha: head.headSha, files, image, imageTag: image === undefined ? undefined : imageTagOf(image) };
}

/** Files that disagree on the image: readDeclaredImage refuses such a branch, so the run would too. */
function declaredGates(declared: Declared, env: string): PlannedGate[] {
  const [first] = declared.files;
  const other = declared.files.find((f) => f.image !== first?.image);
  if (first === undefined || other === undefined) return [];
  return [
    {
      kind: 'declarations-disagree',
      effect: 'refuse',
      env,
      message: `the run would refuse: ${env} declares ${first.image} in ${first.path} but ${other.image} in ${other.path}; regenerate the manifests on ${env}'s branch first`,
    },
  ];
}

function targetGate(env: string, reason: string, goesOn: boolean): PlannedGate {
  return {
    kind: 'target-not-settled',
    effect: goesOn ? 'go-on' : 'refuse',
    env,
    reason,
    message: goesOn
      ? `${env} is not settled (${reason}); --allow-unsettled-target lets the run go on, and its report records it`
      : `the run would refuse: ${env} is not settled (${reason}), so a rollback would have no known-good state; wait until Argo CD shows it Synced and Healthy on what its branch declares, or pass --allow-unsettled-target`,
  };
}

/** The environment's own gates: its approval and its freeze windows. */
function environmentGates(ctx: PlanContext, env: string): PlannedGate[] {
  const declared = ctx.pipeline.environments.find((e) => e.name === env);
  const gates: PlannedGate[] = [];
  if (declared?.approval.required) {
    const approvers = [...declared.approval.approvers];
    gates.push({
      kind: 'approval',
      effect: 'wait',
      approvers,
      message: `waits for an approval before the merge, from ${approvers.length > 0 ? approvers.join(', ') : 'anyone'}`,
    });
  }
  const freeze = declared?.freeze;
  if (freeze && (freeze.weekly.length > 0 || freeze.dates.length > 0)) gates.push(freezeGate(ctx, freeze));
  return gates;
}

function freezeGate(ctx: PlanContext, freeze: FreezeWindows): PlannedGate {
  const windows = [
    ...freeze.weekly.map(
      (w) => `${w.from} → ${w.to} every week (${freeze.timeZone})${w.reason ? `: ${w.reason}` : ''}`,
    ),
    ...freeze.dates.map((d) => `${d.from} → ${d.to} (${freeze.timeZone})${d.reason ? `: ${d.reason}` : ''}`),
  ];
  const effect = freeze.policy === 'refuse' ? 'refuse' : 'wait';
  if (ctx.freezeAt === undefined)
    return {
      kind: 'freeze',
      effect,
      frozen: undefined,
      windows,
      message: `freeze windows (${freeze.policy} while one is open; not evaluated): ${windows.join('; ')}`,
    };
  const state = ctx.freezeAt(freeze, ctx.now);
  if (!state.frozen)
    return {
      kind: 'freeze',
      effect: 'go-on',
      frozen: false,
      windows,
      message: `no freeze window is open at ${ctx.now.toISOString()} (declared: ${windows.join('; ')})`,
    };
  return {
    kind: 'freeze',
    effect,
    frozen: true,
    until: state.until,
    window: state.window,
    ...(state.reason !== undefined ? { reason: state.reason } : {}),
    windows,
    message:
      effect === 'wait'
        ? `frozen until ${state.until} (${state.window}${state.reason ? `: ${state.reason}` : ''}): the run would wait before its merge until then, unless an approver overrides it`
        : `frozen until ${state.until} (${state.window}${state.reason ? `: ${state.reason}` : ''}): the run would refuse, unless an approver overrides it`,
  };
}

function declarationContext(layout: PipelineLayout, env: string): DeclarationContext {
  const app = layout.app.name;
  return {
    app,
    cueName: layout.app.cueName,
    env,
    container: layout.workload.container ?? app,
    repository: `${layout.registry.external}/${layout.registry.group}/${app}`,
  };
}

/** The files whose declaration changes when `image` is written into it, with their diff. */
function changedFiles(layout: PipelineLayout, env: string, declared: Declared, image: string): PlannedFile[] {
  const ctx = declarationContext(layout, env);
  return declared.files.flatMap((f) => {
    const diff = unifiedDiff(f.path, f.content, writeImage(f.decl, f.content, ctx, image, f.path));
    return diff === '' ? [] : [{ path: f.path, diff }];
  });
}

/**
 * What runs in `env` and what Argo CD says about it, as readEnvironmentState reads it (the deployments repo's
 * source of a multi-source app; the last sync operation speaking for a later synced revision it is an ancestor
 * of), without its refresh or retries.
 */
async function readEnvironment(ctx: PlanContext, layout: PipelineLayout, env: string): Promise<EnvironmentState> {
  const target = resolveTarget(layout, { appName: layout.app.name, env });
  const project = layout.gitlab.deploymentsProject;
  const reported = await read('kubernetes', `the Argo CD Application ${layout.argocdNamespace}/${target.argoApp}`, () =>
    ctx.reads.kubernetes.getApplication(layout.argocdNamespace, target.argoApp),
  );
  const application = await read('gitlab', `the history of ${project}`, () =>
    withOperationFollowingSync(forSource(reported, project), gitLabAncestry(ctx.reads.gitlab, project)),
  );
  const cluster = ctx.reads.workloads[env] ?? ctx.reads.kubernetes;
  let deployment: DeploymentView | undefined;
  try {
    deployment = await cluster.readDeployment(target.namespace, target.deployment);
  } catch (err) {
    // Before the first deploy there is no Deployment: nothing runs there.
    if (!(err instanceof NotFoundError))
      throw new DryRunReadError('kubernetes', `the Deployment ${target.namespace}/${target.deployment}`, err);
  }
  return toEnvironmentState(target, deployment, application, 1);
}

async function read<T>(system: 'gitlab' | 'kubernetes', what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DryRunReadError) throw err;
    throw new DryRunReadError(system, what, err);
  }
}
