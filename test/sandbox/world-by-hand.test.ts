import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDriver, type Driver } from './world-driver.js';

describe('the sandbox world driven by hand through the real clients', () => {
  let d: Driver;
  beforeAll(async () => {
    d = await startDriver();
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('takes a version bump through CI, the dev MR and Argo CD to dev, then the promote job to stage', async () => {
    const before = await d.state();
    const initialImage = before.environments.dev!.image!;
    const { version, sha } = await d.bumpVersion();
    expect(version).toBe('1.0.37-SNAPSHOT');

    const build = await d.awaitCiBuild(sha);
    expect(build.result).toBe('SUCCESS');
    const tag = `${version}-${sha.slice(0, 7)}`;
    const image = `docker.jmann.local/p2c/example-app:${tag}`;

    const devMr = await d.awaitOpenMr('dev', `update-dev-${version}-`);
    expect(devMr).toMatchObject({ source_branch: `update-dev-${tag}`, title: `Deploy example-app to dev: ${tag}` });
    const manifest = await d.gitlab.RepositoryFiles.showRaw(
      'p2c/k8s-deployments',
      'manifests/exampleApp/exampleApp.yaml',
      devMr.source_branch,
    );
    expect(String(manifest)).toContain(`image: ${image}`);

    const devMerge = await d.merge(devMr.iid);
    const devApp = await d.awaitSyncedAndHealthy('dev', devMerge);
    expect(devApp.status?.history?.at(-1)?.revision).toBe(devMerge);
    expect(await d.readyPodImages('dev')).toEqual([image]);
    expect((await d.state()).environments.stage!.image).toBe(initialImage);

    const promote = await d.promote('dev', 'stage');
    expect(promote.result).toBe('SUCCESS');
    const stageMr = await d.awaitOpenMr('stage', `promote-stage-${version}-`);
    expect(stageMr).toMatchObject({
      source_branch: `promote-stage-${tag}`,
      title: `Promote example-app to stage: ${tag}`,
    });
    const stageMerge = await d.merge(stageMr.iid);
    await d.awaitSyncedAndHealthy('stage', stageMerge);
    expect(await d.readyPodImages('stage')).toEqual([image, image]);

    const state = await d.state();
    const app = state.gitlab.projects.find((p) => p.path === 'p2c/example-app')!;
    const deployments = state.gitlab.projects.find((p) => p.path === 'p2c/k8s-deployments')!;
    expect(app.commitsPerBranch.main).toBe(2);
    expect(deployments.counts).toMatchObject({ opened: 0, merged: 2, merges: 2, reverts: 0 });
    expect(state.jenkins.jobs.find((j) => j.path === 'example-app/main')!.counts).toMatchObject({
      builds: 1,
      SUCCESS: 1,
    });
    expect(state.jenkins.jobs.find((j) => j.path === 'promote-environment')!.counts).toMatchObject({
      builds: 1,
      SUCCESS: 1,
    });
    expect(state.environments.prod!.image).toBe(initialImage);
    expect(state.published).toEqual([`nexus.nexus.svc.cluster.local:5000/p2c/example-app:${tag}`]);
  });
});
