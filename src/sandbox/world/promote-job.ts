/**
 * The `promote-environment` job (k8s-deployments `jenkins/pipelines/Jenkinsfile.promote`) as the seed design runs
 * it: validate the progression (each environment to the next of the pipeline), detect the image from the live
 * Deployment in the source environment's namespace when the tag parameter is empty, recreate the branch of the
 * promotion template (`promote-{TARGET_ENV}-{tag}`) from the target's branch, update the app's image declarations
 * of the target (env.cue and its regenerated manifest, plain YAML, kustomize `images:` or Helm values), push, and
 * open the promotion MR (reusing an open one for the branch). Its parameters carry the pipeline's names (default
 * APP_NAME, SOURCE_ENV, TARGET_ENV, IMAGE_TAG).
 */
import type { BuildContext, BuildResult, JobRunner, ParameterDefinition } from '../jenkins/index.js';
import type { GitLabModel } from '../gitlab/index.js';
import type { FaultEngine } from '../core/faults.js';
import type { Clock } from '../core/clock.js';
import type { Deployment } from '../kubernetes/objects.js';
import { RESOURCES } from '../kubernetes/resources.js';
import type { ObjectStore } from '../kubernetes/store.js';
import { cueIdOf, EnvCueError } from './deployments-repo.js';
import { changeLines, DeclarationError, declareImage } from './image-declarations.js';
import { fillBranch, worldApp, type WorldLayout } from './layout.js';
import { JENKINS_AUTHOR, openOrReuseMergeRequest, recreateBranch } from './git-helpers.js';

/** The job's parameters as its config.xml declares them (real-system.md §1.4), in the pipeline's names. */
export function promoteParameters(layout: WorldLayout): readonly ParameterDefinition[] {
  const names = layout.promoteParameters;
  const order = layout.environmentOrder;
  // A pipeline has at least two environments (layoutFromPipeline checks), so both lists have one.
  const choices = (envs: readonly string[]): [string, ...string[]] => [envs[0]!, ...envs.slice(1)];
  return [
    {
      type: 'string',
      name: names.app,
      default: layout.app,
      trim: true,
      description: 'Application to promote (kebab-case)',
    },
    {
      type: 'choice',
      name: names.source,
      choices: choices(order.slice(0, -1)),
      description: 'Environment to promote from',
    },
    { type: 'choice', name: names.target, choices: choices(order.slice(1)), description: 'Environment to promote to' },
    {
      type: 'string',
      name: names.tag,
      default: '',
      trim: true,
      description: 'Tag to promote; empty: detect it from the source environment',
    },
  ];
}

export interface PromoteJobDeps {
  readonly gitlab: GitLabModel;
  readonly kube: ObjectStore;
  readonly faults: FaultEngine;
  readonly clock: Clock;
  readonly layout: WorldLayout;
}

/** How long a hanging build waits before it would go on: longer than any test or demo runs. */
const HANG_MS = 24 * 3_600_000;

export function promoteJobRunner(deps: PromoteJobDeps): JobRunner {
  const { gitlab, layout } = deps;
  return async (ctx: BuildContext): Promise<BuildResult> => {
    const step = (share: number): Promise<void> =>
      ctx.sleep(Math.max(1, Math.round(deps.clock.duration('promoteBuild') * share)));
    const names = layout.promoteParameters;
    const order = layout.environmentOrder;
    const app = String(ctx.params[names.app] ?? '');
    const source = String(ctx.params[names.source] ?? '');
    const target = String(ctx.params[names.target] ?? '');

    ctx.log('[Pipeline] { (Validate Parameters)');
    await step(0.1);
    if (order.indexOf(target) < 1 || order.indexOf(source) !== order.indexOf(target) - 1) {
      const valid = order.slice(1).map((t, i) => `${order[i]} -> ${t}`);
      ctx.log(`ERROR: Invalid promotion path: ${source} -> ${target}. Valid paths: ${valid.join(', ')}`);
      return 'FAILURE';
    }
    const theApp = worldApp(layout, app);
    if (!theApp) {
      ctx.log(
        `ERROR: ${target}.${cueIdOf(app)} does not export; apps in the deployments repo: ${layout.apps.map((a) => a.app).join(', ')}`,
      );
      return 'FAILURE';
    }
    if (deps.faults.domainFault('promote-job-fails', { app, env: target })) {
      ctx.log('ERROR: git push failed: remote: HTTP Basic: Access denied');
      return 'FAILURE';
    }

    ctx.log('[Pipeline] { (Detect Image)');
    await step(0.2);
    let tag = String(ctx.params[names.tag] ?? '');
    const sourceNamespace = theApp.environments[source]!.namespace;
    if (tag === '') {
      // As the real job does: the live Deployment in the source environment's namespace.
      const live = deps.kube.get<Deployment>(RESOURCES.deployments, sourceNamespace, app);
      const image = live?.spec.template.spec.containers[0]?.image ?? '';
      if (image === '') {
        ctx.log(`ERROR: Could not detect the image of ${app} in ${source}; ensure the application is deployed`);
        return 'FAILURE';
      }
      // The job's own `${image##*:}`, kept here rather than shared with Shepherd's image-tag parser: the simulated
      // installation checks Shepherd independently, so it never imports Shepherd's rules.
      tag = image.slice(image.lastIndexOf(':') + 1);
      ctx.log(`Detected image tag ${tag} from deployment/${app} in namespace ${sourceNamespace}`);
    }
    const image = `${theApp.registryExternal}/${theApp.group}/${app}:${tag}`;

    ctx.log('[Pipeline] { (Create Promotion MR)');
    await step(0.5);
    // The real job's branch name; Shepherd's promotionBranch states the same convention on its side, and the two are
    // kept apart on purpose so that a change on one side shows up as a failing run.
    const branch = fillBranch(layout.branches.promotion, { app, source, target, tag });
    const targetBranch = theApp.environments[target]!.branch;
    recreateBranch(gitlab, layout.deploymentsProject, branch, targetBranch);
    const title = `Promote ${app} to ${target}: ${tag}`;
    let edits;
    try {
      edits = declareImage({
        app: theApp,
        order,
        env: target,
        image,
        read: (path) => gitlab.readFile(layout.deploymentsProject, branch, path),
      });
    } catch (err) {
      if (!(err instanceof DeclarationError) && !(err instanceof EnvCueError)) throw err;
      ctx.log(`ERROR: update-app-image.sh ${target} ${app}: ${err.message}`);
      return 'FAILURE';
    }
    if (edits.length > 0) {
      gitlab.commit(layout.deploymentsProject, {
        branch,
        message: `${title}\n\nAutomated promotion from ${source}.\n\nChanges:\n${changeLines(theApp, target, edits, image)}\n\nBuild: ${ctx.url}\nImage: ${image}\nSource environment: ${source}\n`,
        actions: edits.map((e) => ({ action: 'update' as const, filePath: e.path, content: Buffer.from(e.content) })),
        ...JENKINS_AUTHOR,
      });
    } else {
      ctx.log(`No changes: ${target} already declares ${image}`);
    }
    const capital = source.charAt(0).toUpperCase() + source.slice(1);
    const description = [
      `## Promotion from ${capital}`,
      '',
      `**Application:** ${app}`,
      `**Image Tag:** ${tag}`,
      `**Source Environment:** ${source}`,
      `**Target Environment:** ${target}`,
      `**Build:** ${ctx.url}`,
      '',
      '### Changes',
      `- Image: \`${image}\``,
      '',
      '### Promotion Path',
      // Every environment before the target is checked, the target and those after are not.
      ...order.map((e) => `- [${order.indexOf(e) < order.indexOf(target) ? 'x' : ' '}] ${e}`),
      '',
      ...(target === order[order.length - 1] ? ['**Production Deployment, please review carefully.**', ''] : []),
      `After merge, Argo CD deploys to ${target}.`,
      '',
      '---',
      '*Generated by Jenkins Promote Pipeline*',
    ].join('\n');
    const mr = openOrReuseMergeRequest(gitlab, layout.deploymentsProject, {
      sourceBranch: branch,
      targetBranch,
      title,
      description,
    });
    ctx.log(`Merge request !${mr.iid} ${mr.reused ? 'already open; reused' : 'created'}: ${title}`);
    ctx.setDescription(`${source} → ${target}: ${tag} (!${mr.iid})`);
    if (deps.faults.domainFault('promote-job-hangs', { app, env: target })) {
      // A post step that never returns (a notification to a host that does not answer): only a stop ends the build.
      ctx.log('[Pipeline] { (Notify)');
      ctx.log('Posting the promotion to the release channel…');
      await ctx.sleep(HANG_MS);
    }
    return 'SUCCESS';
  };
}
