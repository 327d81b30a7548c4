/**
 * An application's CI job (`example-app/main`, the app repo's Jenkinsfile) as the real pipeline runs it:
 * Checkout & Setup → Unit Tests → Integration Tests → Build & Publish → Update Dev Environment. The build checks out
 * the head of `main`, tags the image `{version}-{short sha}` (the version from the app's version file: pom.xml,
 * package.json, gradle.properties or VERSION; with none, `0.0.{build number}`), publishes it, and opens the dev MR
 * into the pipeline's first environment on the branch of the `dev` template, `update-dev-{tag}` in the seed
 * (recreated if it exists; an open MR for it is reused), editing that app's image declarations there.
 *
 * Like a Jenkinsfile wrapped in `gitlabCommitStatus`, the build posts commit statuses on the app commit it builds
 * (`running` at checkout, then `success`, `failed` or `canceled`; context `jenkins`, target URL the build). With a
 * shared library (`@Library`), the library's checkout comes first: its BuildData precedes the app repo's, and the
 * build carries the multibranch SCMRevisionAction of the branch it builds.
 */
import { createHash } from 'node:crypto';
import type { BuildContext, BuildResult, JobRunner } from '../jenkins/index.js';
import type { GitLabModel } from '../gitlab/index.js';
import type { FaultEngine } from '../core/faults.js';
import type { Clock } from '../core/clock.js';
import { renderAppCue } from './deployments-repo.js';
import { changeLines, declareImage } from './image-declarations.js';
import { fillBranch, type WorldApp, type WorldLayout } from './layout.js';
import { versionInFile } from './version-files.js';
import { openOrReuseMergeRequest, recreateBranch, JENKINS_AUTHOR } from './git-helpers.js';
import { stateForResult, type GitLabPlugin } from './gitlab-plugin.js';

export interface CiJobDeps {
  readonly gitlab: GitLabModel;
  readonly faults: FaultEngine;
  readonly clock: Clock;
  readonly layout: WorldLayout;
  /** The app this job builds (absent: the layout's first app). */
  readonly app?: WorldApp;
  /** Images published by CI, by full push reference. */
  readonly published: Set<string>;
  /** Posts the build's commit statuses to GitLab (gitlab-plugin); absent: none are posted. */
  readonly gitlabPlugin?: GitLabPlugin;
  /** The Jenkinsfile loads a Pipeline shared library (installation trait `jenkinsSharedLibrary`). */
  readonly sharedLibrary?: boolean;
}

/** The shared library's repository and the commit its `@Library('pipeline-library@v3')` resolves to. */
export function sharedLibraryCheckout(layout: WorldLayout): { readonly remoteUrl: string; readonly sha: string } {
  const remoteUrl = `https://gitlab.sandbox.local/${layout.group}/jenkins-pipeline-library.git`;
  return { remoteUrl, sha: createHash('sha1').update(`${remoteUrl}@v3`).digest('hex') };
}

const STAGES = [
  ['Checkout & Setup', 0.1],
  ['Unit Tests', 0.3],
  ['Integration Tests', 0.3],
  ['Build & Publish', 0.2],
  ['Update Dev Environment', 0.1],
] as const;

export function ciJobRunner(deps: CiJobDeps): JobRunner {
  const run = buildSteps(deps);
  const plugin = deps.gitlabPlugin;
  if (!plugin) return (ctx) => run(ctx, () => Promise.resolve());
  return async (ctx: BuildContext): Promise<BuildResult> => {
    let built: string | undefined;
    const checkedOut = async (sha: string): Promise<void> => {
      built = sha;
      ctx.log(await plugin.post(sha, 'running', 'main', ctx.url));
    };
    let result: BuildResult = 'FAILURE';
    try {
      result = await run(ctx, checkedOut);
      return result;
    } catch (err) {
      if (ctx.signal.aborted) result = 'ABORTED';
      throw err;
    } finally {
      if (built !== undefined) ctx.log(await plugin.post(built, stateForResult(result), 'main', ctx.url));
    }
  };
}

/** The Jenkinsfile's stages; `checkedOut` runs once the app commit is checked out. */
function buildSteps(
  deps: CiJobDeps,
): (ctx: BuildContext, checkedOut: (sha: string) => Promise<void>) => Promise<BuildResult> {
  const { gitlab, layout } = deps;
  const app = deps.app ?? layout.apps[0]!;
  const firstEnv = layout.environmentOrder[0]!;
  const first = app.environments[firstEnv]!;
  return async (ctx, checkedOut) => {
    if (deps.sharedLibrary) {
      const library = sharedLibraryCheckout(layout);
      ctx.setGitRevision(library.sha, 'v3', library.remoteUrl);
      ctx.log(`Loading library pipeline-library@v3`);
      ctx.log(`Checking out Revision ${library.sha} (v3)`);
    }
    const total = deps.clock.duration('ciBuild');
    const stage = async (name: string, share: number): Promise<void> => {
      ctx.log(`[Pipeline] { (${name})`);
      await ctx.sleep(Math.max(1, Math.round(total * share)));
    };

    await stage(STAGES[0][0], STAGES[0][1]);
    const sha = gitlab.branchHead(app.appProject, 'main');
    if (!sha) throw new Error(`branch main not found in ${app.appProject}`);
    ctx.setGitRevision(sha, 'refs/remotes/origin/main', app.appRepoUrl);
    if (deps.sharedLibrary) ctx.setScmRevision({ hash: sha, head: 'main' });
    ctx.log(`Checking out Revision ${sha} (main)`);
    await checkedOut(sha);
    const version = versionOf(app, ctx.number, (path) => gitlab.readFile(app.appProject, sha, path));
    if (!version) throw new Error(`could not read the version from ${app.versionFile}`);
    const tag = `${version}-${sha.slice(0, 7)}`;
    if (tag.trim() === '' || /\s/.test(tag)) throw new Error(`invalid image tag "${tag}"`);
    ctx.setDisplayName(`#${ctx.number} ${tag}`);

    await stage(STAGES[1][0], STAGES[1][1]);
    if (deps.faults.domainFault('ci-build-fails', { app: app.app })) {
      ctx.log('[ERROR] Tests run: 42, Failures: 1, Errors: 0, Skipped: 0');
      ctx.log('[ERROR] GreetingResourceTest.testHelloEndpoint:21 expected: <200> but was: <500>');
      ctx.log('[ERROR] BUILD FAILURE');
      return 'FAILURE';
    }
    // The Jenkinsfile's junit step marks the build UNSTABLE on failed tests and the pipeline carries on.
    const unstable = deps.faults.domainFault('ci-build-unstable', { app: app.app }) !== undefined;
    if (unstable) {
      ctx.log('[WARNING] Tests run: 42, Failures: 1, Errors: 0, Skipped: 0');
      ctx.log('[WARNING] GreetingResourceTest.testGreetingLocale:34 expected: <Hello> but was: <Hallo>');
      ctx.log('Recording test results');
      ctx.log('[Checks API] No suitable checks publisher found.');
      ctx.log("Build step 'Publish JUnit test result report' changed build result to UNSTABLE");
    } else ctx.log('[INFO] Tests run: 42, Failures: 0, Errors: 0, Skipped: 0');
    await stage(STAGES[2][0], STAGES[2][1]);
    await stage(STAGES[3][0], STAGES[3][1]);
    const pushRef = `${layout.registryInternal}/${app.group}/${app.app}:${tag}`;
    deps.published.add(pushRef);
    ctx.log(`[INFO] Built and pushed image to ${pushRef}`);

    await stage(STAGES[4][0], STAGES[4][1]);
    const deployRef = `${app.registryExternal}/${app.group}/${app.app}:${tag}`;
    const branch = fillBranch(layout.branches.dev, { tag, version, app: app.app });
    recreateBranch(gitlab, layout.deploymentsProject, branch, first.branch);
    const edits = declareImage({
      app,
      order: layout.environmentOrder,
      env: firstEnv,
      image: deployRef,
      read: (path) => gitlab.readFile(layout.deploymentsProject, branch, path),
    });
    const actions = edits.map((e) => ({
      action: 'update' as const,
      filePath: e.path,
      content: Buffer.from(e.content),
    }));
    // With CUE, CI also copies the team's deployment/app.cue to the deployments repo (after env.cue, as the seed does).
    if (app.declarations.some((d) => d.format === 'cue')) {
      const appCue = gitlab.readFile(app.appProject, sha, 'deployment/app.cue') ?? renderAppCue(app.app);
      const serviceCuePath = `services/apps/${app.app}.cue`;
      if (gitlab.readFile(layout.deploymentsProject, branch, serviceCuePath) !== appCue) {
        const cueAt = actions.findIndex((a) => a.filePath.endsWith('.cue'));
        actions.splice(cueAt + 1, 0, { action: 'update', filePath: serviceCuePath, content: Buffer.from(appCue) });
      }
    }
    const title = `Deploy ${app.app} to ${firstEnv}: ${tag}`;
    if (actions.length > 0) {
      gitlab.commit(layout.deploymentsProject, {
        branch,
        message: `${title}\n\nChanges:\n${changeLines(app, firstEnv, edits, deployRef)}\n\nBuild: ${ctx.url}\nCommit: ${sha.slice(0, 7)}\nImage: ${deployRef}\n`,
        actions,
        ...JENKINS_AUTHOR,
      });
    } else {
      ctx.log('No changes to commit');
    }
    const description = [
      `## Automatic Deployment to ${firstEnv.charAt(0).toUpperCase()}${firstEnv.slice(1)}`,
      '',
      `**Application:** ${app.app}`,
      `**Image Tag:** ${tag}`,
      `**Build URL:** ${ctx.url}`,
      `**Git Commit:** ${sha.slice(0, 7)}`,
      '',
      '### Changes',
      `- Image: \`${pushRef}\``,
      '',
      '### Review Checklist',
      '- [ ] Image tag is correct',
      '- [ ] CUE configuration updated (L5/L6)',
      '- [ ] Ready to merge',
      '',
      '---',
      '*Generated by Jenkins CI/CD Pipeline*',
    ].join('\n');
    const mr = openOrReuseMergeRequest(gitlab, layout.deploymentsProject, {
      sourceBranch: branch,
      targetBranch: first.branch,
      title,
      description,
    });
    ctx.log(`Merge request !${mr.iid} ${mr.reused ? 'already open; reused' : 'created'}: ${title}`);
    ctx.setDescription(`${firstEnv} MR !${mr.iid} for ${tag}`);
    return unstable ? 'UNSTABLE' : 'SUCCESS';
  };
}

/** The version the build tags its image with: the version file's, or with none `0.0.{build number}`. */
function versionOf(app: WorldApp, buildNumber: number, read: (path: string) => string | undefined): string | undefined {
  if (app.versionFormat === 'none') return `0.0.${buildNumber}`;
  const text = read(app.versionFile!);
  return text === undefined ? undefined : versionInFile(app.versionFormat, text);
}
