/**
 * The GitLab activities following an app's pipeline layout against the sandbox's GitLab, through Shepherd's real
 * client: a directory layout (three environments in folders of one branch) whose image is declared in kustomize
 * `images:` and in Helm values, branch names from the layout's templates, and the version bump of each version
 * format (npm, Gradle, a plain VERSION file, and no file at all).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabActivities, type GitLabActivities } from '../../activities/gitlab.js';
import { BUMP_MARKER_FILE } from '../../activities/gitlab/bump-app-version.js';
import type { PipelineLayout, VersionFormat } from '../../src/domain/pipeline.js';
import { startGitLabHarness, type GitLabHarness } from './gitlab-harness.js';

const APP = 'example-app';
const ENVS = ['qa', 'uat', 'live'] as const;
const SHARED_BRANCH = 'deployments';

function kustomization(repository: string, tag: string, env: string): string {
  return [
    '# kustomize overlay of the ' + env + ' environment',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    '  - ../../base',
    '',
    'images:',
    '  - name: docker.io/library/nginx # the sidecar, pinned',
    `    digest: sha256:${'a'.repeat(64)}`,
    `  - name: ${repository}`,
    `    newTag: "${tag}" # set by the pipeline`,
    '',
  ].join('\n');
}

function values(repository: string, tag: string): string {
  return [
    '# Helm values; keep the comments',
    'replicaCount: 2',
    'image:',
    `    repository: ${repository}`,
    `    tag: ${tag}`,
    '    pullPolicy: IfNotPresent',
    'resources: {limits: {cpu: 500m, memory: 512Mi}}',
    '',
  ].join('\n');
}

describe('the GitLab activities in a directory layout with kustomize and Helm declarations', () => {
  let h: GitLabHarness;
  let acts: GitLabActivities;
  let layout: PipelineLayout;
  let project: string;
  let repository: string;

  beforeAll(async () => {
    h = await startGitLabHarness();
    const seed = h.sandbox.layout;
    project = seed.gitlab.deploymentsProject;
    repository = `${seed.registry.external}/${seed.registry.group}/${APP}`;
    const place = seed.environments['dev']!;
    layout = {
      ...seed,
      environmentOrder: [...ENVS],
      environments: Object.fromEntries(
        ENVS.map((env) => [
          env,
          {
            ...place,
            branch: SHARED_BRANCH,
            directory: `envs/${env}`,
            namespace: `shop-${env}`,
            argoApp: `${APP}-${env}`,
          },
        ]),
      ),
      gitlab: {
        ...seed.gitlab,
        imageDeclarations: [
          { format: 'kustomize', file: 'kustomization.yaml' },
          { format: 'helm', file: 'values.yaml', key: 'image.tag' },
        ],
        branches: { dev: 'ci/{app}/{tag}', promotion: 'deploy/{target}/{app}-{tag}' },
      },
    };
    acts = createGitLabActivities({ client: h.client, layout, pollIntervalMs: 20 });
    await h.client.createBranch(project, SHARED_BRANCH, 'dev');
    await h.client.commitFiles(project, {
      branch: SHARED_BRANCH,
      message: 'a directory per environment',
      updates: ENVS.flatMap((env, i) => [
        {
          filePath: `envs/${env}/kustomization.yaml`,
          content: kustomization(repository, `1.0.${i}-aaaaaaa`, env),
          create: true,
        },
        { filePath: `envs/${env}/values.yaml`, content: values(repository, `1.0.${i}-aaaaaaa`), create: true },
      ]),
    });
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  const read = (path: string, ref = SHARED_BRANCH) => h.client.readFile(project, path, ref).then((f) => f.content);

  it('reads each environment’s image from its own folder', async () => {
    for (const [i, env] of ENVS.entries()) {
      const { result } = await h.run(acts.readDeclaredImage, { appName: APP, env });
      expect(result).toMatchObject({
        env,
        image: `${repository}:1.0.${i}-aaaaaaa`,
        imageTag: `1.0.${i}-aaaaaaa`,
        files: [
          { path: `envs/${env}/kustomization.yaml`, image: `${repository}:1.0.${i}-aaaaaaa` },
          { path: `envs/${env}/values.yaml`, image: `${repository}:1.0.${i}-aaaaaaa` },
        ],
      });
    }
  });

  it('promotes into one folder of the shared branch: only its files change, comments and layout kept, and the MR belongs to that environment', async () => {
    const input = { appName: APP, sourceEnv: 'qa', targetEnv: 'uat', imageTag: '1.0.0-aaaaaaa', runMarker: 'dir/run' };
    const { result: opened } = await h.run(acts.openPromotionMergeRequest, input);
    expect(opened.mergeRequest).toMatchObject({
      sourceBranch: `deploy/uat/${APP}-1.0.0-aaaaaaa`,
      targetEnv: 'uat',
      imageTag: '1.0.0-aaaaaaa',
    });
    const branch = opened.mergeRequest.sourceBranch;
    expect(await read('envs/uat/kustomization.yaml', branch)).toBe(
      kustomization(repository, '1.0.1-aaaaaaa', 'uat').replace('"1.0.1-aaaaaaa"', '"1.0.0-aaaaaaa"'),
    );
    expect(await read('envs/uat/values.yaml', branch)).toBe(
      values(repository, '1.0.1-aaaaaaa').replace('tag: 1.0.1-aaaaaaa', 'tag: 1.0.0-aaaaaaa'),
    );
    for (const path of ['envs/qa/kustomization.yaml', 'envs/live/values.yaml'])
      expect(await read(path, branch)).toBe(await read(path));

    const again = await h.run(acts.openPromotionMergeRequest, input);
    expect(again.result).toMatchObject({ branchCreated: false, mergeRequestCreated: false });
    expect(again.result.mergeRequest.iid).toBe(opened.mergeRequest.iid);
    const { result: state } = await h.run(acts.readMergeRequest, { iid: opened.mergeRequest.iid });
    expect(state).toMatchObject({ state: 'opened', targetEnv: 'uat' });

    const { result: merged } = await h.run(acts.mergeMergeRequest, {
      iid: opened.mergeRequest.iid,
      headSha: opened.mergeRequest.headSha,
      runMarker: 'dir/run',
    });
    const { result: uat } = await h.run(acts.readDeclaredImage, { appName: APP, env: 'uat' });
    expect(uat).toMatchObject({ commitSha: merged.mergeCommitSha, imageTag: '1.0.0-aaaaaaa' });
    const { result: live } = await h.run(acts.readDeclaredImage, { appName: APP, env: 'live' });
    expect(live.imageTag).toBe('1.0.2-aaaaaaa');

    const { result: reverted } = await h.run(acts.revertMergeRequest, {
      iid: opened.mergeRequest.iid,
      targetEnv: 'uat',
      runMarker: 'dir/run',
    });
    expect(reverted.revertMergeRequest).toMatchObject({ targetEnv: 'uat', imageTag: '1.0.1-aaaaaaa' });
    expect(await read('envs/uat/values.yaml')).toBe(values(repository, '1.0.1-aaaaaaa'));
  });

  it('refuses to promote the image an environment already declares, naming it', async () => {
    const failure = await h.fail(acts.openPromotionMergeRequest, {
      appName: APP,
      sourceEnv: 'uat',
      targetEnv: 'live',
      imageTag: '1.0.2-aaaaaaa',
      runMarker: 'dir/same',
    });
    expect(failure.message).toMatch(/already the image live declares/);
  });

  it('finds the dev merge request CI opens by the layout’s dev template, and tells the shared branch’s environments apart', async () => {
    const ciBranch = `ci/${APP}/1.0.3-bbbbbbb`;
    const update = kustomization(repository, '1.0.3-bbbbbbb', 'qa');
    await h.client.commitFiles(project, {
      branch: ciBranch,
      startBranch: SHARED_BRANCH,
      message: 'CI: deploy 1.0.3-bbbbbbb to qa',
      updates: [{ filePath: 'envs/qa/kustomization.yaml', content: update }],
    });
    await h.client.createMergeRequest(project, {
      sourceBranch: ciBranch,
      targetBranch: SHARED_BRANCH,
      title: 'Deploy 1.0.3-bbbbbbb to qa',
      description: '',
      removeSourceBranch: true,
    });
    const deadline = new Date(Date.now() + 10_000).toISOString();
    const { result: byVersion } = await h.run(acts.awaitMergeRequest, {
      appName: APP,
      targetEnv: 'qa',
      version: '1.0.3',
      deadline,
    });
    expect(byVersion).toMatchObject({ sourceBranch: ciBranch, targetEnv: 'qa', imageTag: '1.0.3-bbbbbbb' });
    const { result: state } = await h.run(acts.readMergeRequest, { iid: byVersion.iid });
    expect(state.targetEnv).toBe('qa');

    const { result: abandoned } = await h.run(acts.abandonDeployBranch, {
      appName: APP,
      targetEnv: 'qa',
      version: '1.0.3',
      reason: 'the validation was cancelled',
      runMarker: 'dir/abandon',
    });
    expect(abandoned).toMatchObject({ closed: [byVersion.iid], branchesDeleted: [ciBranch] });
    const refused = await h.fail(acts.deleteBranch, { branch: 'update-dev-1.0.3-bbbbbbb' });
    expect(refused.message).toMatch(/must start with one of ci\/example-app\/, deploy\/, revert-/);
  });
});

describe('the version bump of each version format', () => {
  let h: GitLabHarness;
  let appProject: string;

  beforeAll(async () => {
    h = await startGitLabHarness();
    appProject = h.sandbox.layout.gitlab.appProject;
  });
  afterAll(async () => {
    await h?.sandbox.stop();
  });

  async function bumpWith(format: VersionFormat, versionFile: string, runMarker: string) {
    const seed = h.sandbox.layout;
    const layout: PipelineLayout = { ...seed, gitlab: { ...seed.gitlab, versionFormat: format, versionFile } };
    const acts = createGitLabActivities({ client: h.client, layout, pollIntervalMs: 20 });
    return (await h.run(acts.bumpAppVersion, { appName: APP, runMarker })).result;
  }

  async function addFile(filePath: string, content: string): Promise<void> {
    const { defaultBranch } = await h.client.getProject(appProject);
    await h.client.commitFiles(appProject, {
      branch: defaultBranch,
      message: `add ${filePath}`,
      updates: [{ filePath, content, create: true }],
    });
  }

  const fileAt = async (path: string, sha: string) => (await h.client.readFile(appProject, path, sha)).content;

  it('bumps package.json’s version, keeping its 4-space indentation, and finds its own commit when repeated', async () => {
    const pkg = `${JSON.stringify({ name: 'orders-ui', version: '0.14.2', config: { version: '9' } }, null, 4)}\n`;
    await addFile('ui/package.json', pkg);
    const bump = await bumpWith('npm', 'ui/package.json', 'bump/npm');
    expect(bump).toMatchObject({ previousVersion: '0.14.2', version: '0.14.3', alreadyDone: false });
    expect(await fileAt('ui/package.json', bump.commitSha)).toBe(pkg.replace('0.14.2', '0.14.3'));
    const again = await bumpWith('npm', 'ui/package.json', 'bump/npm');
    expect(again).toMatchObject({ previousVersion: '0.14.2', version: '0.14.3', alreadyDone: true });
    expect(again.commitSha).toBe(bump.commitSha);
  });

  it('bumps version= in gradle.properties and a plain VERSION file, leaving everything else', async () => {
    const props = '# build\norg.gradle.jvmargs=-Xmx2g\nversion=3.2.9\nkotlin.code.style=official\n';
    await addFile('gradle.properties', props);
    const gradle = await bumpWith('gradle', 'gradle.properties', 'bump/gradle');
    expect(gradle).toMatchObject({ previousVersion: '3.2.9', version: '3.2.10' });
    expect(await fileAt('gradle.properties', gradle.commitSha)).toBe(props.replace('3.2.9', '3.2.10'));

    await addFile('VERSION', '7.1.0\n');
    const plain = await bumpWith('plain', 'VERSION', 'bump/plain');
    expect(plain).toMatchObject({ previousVersion: '7.1.0', version: '7.1.1' });
    expect(await fileAt('VERSION', plain.commitSha)).toBe('7.1.1\n');
  });

  it('starts a build of an app without a version file by a commit to the marker file, and reports no versions', async () => {
    const first = await bumpWith('none', '', 'bump/none-1');
    expect(first).toMatchObject({ previousVersion: '', version: '', alreadyDone: false });
    expect(await fileAt(BUMP_MARKER_FILE, first.commitSha)).toContain('Shepherd-Run: bump/none-1');
    const commit = await h.client.getCommit(appProject, first.commitSha);
    expect(commit.message).toMatch(/^chore: start a build \[pipeline-validation\]/);

    const second = await bumpWith('none', '', 'bump/none-2');
    expect(second.commitSha).not.toBe(first.commitSha);
    expect(await fileAt(BUMP_MARKER_FILE, second.commitSha)).toContain('Shepherd-Run: bump/none-2');
    expect(await bumpWith('none', '', 'bump/none-2')).toMatchObject({ alreadyDone: true, commitSha: second.commitSha });
  });
});
