/**
 * The `promote-environment` job (k8s-deployments `jenkins/pipelines/Jenkinsfile.promote`) as the seed design runs
 * it: validate the progression, detect the image from the live Deployment in namespace SOURCE_ENV when IMAGE_TAG is
 * empty, recreate branch `promote-{TARGET_ENV}-{tag}` from the target branch, update the target's env.cue and
 * regenerate its manifests, push, and open the promotion MR (reusing an open one for the branch).
 */
import type { BuildContext, BuildResult, JobRunner, ParameterDefinition } from '../jenkins/index.js';
import type { GitLabModel } from '../gitlab/index.js';
import type { FaultEngine } from '../core/faults.js';
import type { Clock } from '../core/clock.js';
import type { Deployment } from '../kubernetes/objects.js';
import { RESOURCES } from '../kubernetes/resources.js';
import type { ObjectStore } from '../kubernetes/store.js';
import { cueIdOf, ENV_VALUES, manifestPath, renderManifest, setImageInEnvCue } from './deployments-repo.js';
import type { WorldLayout } from './layout.js';
import { JENKINS_AUTHOR, openOrReuseMergeRequest, recreateBranch } from './git-helpers.js';

/** The job's parameters as its config.xml declares them (real-system.md §1.4). */
export const PROMOTE_PARAMETERS: readonly ParameterDefinition[] = [
  {
    type: 'string',
    name: 'APP_NAME',
    default: 'example-app',
    trim: true,
    description: 'Application to promote (kebab-case)',
  },
  { type: 'choice', name: 'SOURCE_ENV', choices: ['dev', 'stage'], description: 'Environment to promote from' },
  { type: 'choice', name: 'TARGET_ENV', choices: ['stage', 'prod'], description: 'Environment to promote to' },
  {
    type: 'string',
    name: 'IMAGE_TAG',
    default: '',
    trim: true,
    description: 'Tag to promote; empty: detect it from the source environment',
  },
];

export interface PromoteJobDeps {
  readonly gitlab: GitLabModel;
  readonly kube: ObjectStore;
  readonly faults: FaultEngine;
  readonly clock: Clock;
  readonly layout: WorldLayout;
}

const LEGAL = new Set(['dev->stage', 'stage->prod']);

/** How long a hanging build waits before it would go on: longer than any test or demo runs. */
const HANG_MS = 24 * 3_600_000;

export function promoteJobRunner(deps: PromoteJobDeps): JobRunner {
  const { gitlab, layout } = deps;
  return async (ctx: BuildContext): Promise<BuildResult> => {
    const step = (share: number): Promise<void> =>
      ctx.sleep(Math.max(1, Math.round(deps.clock.duration('promoteBuild') * share)));
    const app = String(ctx.params.APP_NAME ?? '');
    const source = String(ctx.params.SOURCE_ENV ?? '');
    const target = String(ctx.params.TARGET_ENV ?? '') as 'stage' | 'prod';

    ctx.log('[Pipeline] { (Validate Parameters)');
    await step(0.1);
    if (!LEGAL.has(`${source}->${target}`)) {
      ctx.log(`ERROR: Invalid promotion path: ${source} -> ${target}. Valid paths: dev -> stage, stage -> prod`);
      return 'FAILURE';
    }
    if (app !== layout.app) {
      ctx.log(`ERROR: ${target}.${cueIdOf(app)} does not export; apps in env.cue: ${cueIdOf(layout.app)}`);
      return 'FAILURE';
    }
    if (deps.faults.domainFault('promote-job-fails', { app, env: target })) {
      ctx.log('ERROR: git push failed: remote: HTTP Basic: Access denied');
      return 'FAILURE';
    }

    ctx.log('[Pipeline] { (Detect Image)');
    await step(0.2);
    let tag = String(ctx.params.IMAGE_TAG ?? '');
    if (tag === '') {
      // As the real job does: the live Deployment in a namespace named like the source environment.
      const live = deps.kube.get<Deployment>(RESOURCES.deployments, source, app);
      const image = live?.spec.template.spec.containers[0]?.image ?? '';
      if (image === '') {
        ctx.log(`ERROR: Could not detect the image of ${app} in ${source}; ensure the application is deployed`);
        return 'FAILURE';
      }
      // The job's own `${image##*:}`, kept here rather than shared with Shepherd's image-tag parser: the simulated
      // installation checks Shepherd independently, so it never imports Shepherd's rules.
      tag = image.slice(image.lastIndexOf(':') + 1);
      ctx.log(`Detected image tag ${tag} from deployment/${app} in namespace ${source}`);
    }
    const image = `${layout.registryExternal}/${layout.group}/${app}:${tag}`;

    ctx.log('[Pipeline] { (Create Promotion MR)');
    await step(0.5);
    // The real job's branch name; Shepherd's promotionBranch states the same convention on its side, and the two are
    // kept apart on purpose so that a change on one side shows up as a failing run.
    const branch = `promote-${target}-${tag}`;
    recreateBranch(gitlab, layout.deploymentsProject, branch, target);
    const envCue = gitlab.readFile(layout.deploymentsProject, branch, 'env.cue') ?? '';
    const nextEnvCue = setImageInEnvCue(envCue, target, app, image);
    const title = `Promote ${app} to ${target}: ${tag}`;
    if (nextEnvCue !== envCue) {
      const manifest = renderManifest(
        app,
        { ...ENV_VALUES[target], namespace: layout.environments[target].namespace },
        image,
      );
      gitlab.commit(layout.deploymentsProject, {
        branch,
        message: `${title}\n\nAutomated promotion from ${source}.\n\nChanges:\n- ${target}.${cueIdOf(app)}.appConfig.deployment.image: ${image}\n\nBuild: ${ctx.url}\nImage: ${image}\nSource environment: ${source}\n`,
        actions: [
          { action: 'update', filePath: 'env.cue', content: Buffer.from(nextEnvCue) },
          { action: 'update', filePath: manifestPath(app), content: Buffer.from(manifest) },
        ],
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
      '- [x] dev',
      `- [${target === 'prod' ? 'x' : ' '}] stage`,
      '- [ ] prod',
      '',
      ...(target === 'prod' ? ['**Production Deployment, please review carefully.**', ''] : []),
      `After merge, Argo CD deploys to ${target}.`,
      '',
      '---',
      '*Generated by Jenkins Promote Pipeline*',
    ].join('\n');
    const mr = openOrReuseMergeRequest(gitlab, layout.deploymentsProject, {
      sourceBranch: branch,
      targetBranch: target,
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
