/**
 * The sandbox world built from a pipeline file, driven through the real HTTP APIs with the real client libraries
 * (@gitbeaker/rest, the npm jenkins client, @kubernetes/client-node): each app's CI job with its version file, the
 * dev MR into the first environment, Argo CD rendering each image format, and the promote job editing each format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { parsePipeline } from '../../src/config/pipeline-file.js';
import { seedPipeline } from '../../src/config/pipeline.js';
import type { DeclaredPipeline } from '../../src/domain/pipeline.js';
import { defaultLayout, layoutFromPipeline, type WorldPipeline } from '../../src/sandbox/world/layout.js';
import { layoutsForWorld } from '../../src/worker/activities.js';
import { eventually } from '../support/eventually.js';
import { startDriver, type BuildJson, type Driver } from './world-driver.js';
import { FOUR_DIRECTORIES, TWO_APPS, VERSION_FORMATS } from './world-pipeline-files.js';
import { SEED_DEFAULTS } from '../support/pipeline-defaults.js';

const DEFAULTS = SEED_DEFAULTS;

/** A resolved pipeline file, as `--pipeline FILE` gives it to the world. */
const pipeline = (yaml: string): DeclaredPipeline => parsePipeline(yaml, DEFAULTS, 'test pipeline');

// Shepherd's declared pipeline is a world pipeline as it is (checked by the compiler).
const fits: (p: DeclaredPipeline) => WorldPipeline = (p) => p;

async function fileOf(d: Driver, project: string, path: string, ref: string): Promise<string> {
  const f = await d.gitlab.RepositoryFiles.show(project, path, ref);
  return Buffer.from(f.content, 'base64').toString('utf8');
}

async function commitTo(d: Driver, project: string, path: string, content: string): Promise<string> {
  const commit = await d.gitlab.Commits.create(project, 'main', `chore: bump ${path}`, [
    { action: 'update', filePath: path, content },
  ]);
  return commit.id;
}

async function pushEmpty(d: Driver, project: string): Promise<string> {
  const commit = await d.gitlab.Commits.create(project, 'main', 'chore: rebuild [pipeline-validation]', [
    { action: 'create', filePath: `.rebuild-${Date.now()}`, content: '' },
  ]);
  return commit.id;
}

async function runJob(d: Driver, job: string, parameters: Record<string, string>): Promise<BuildJson> {
  const queueId = await d.jenkins.job.build({ name: job, parameters });
  const number = await eventually(async () => (await d.jenkins.queue.item(queueId)).executable?.number, 'a build');
  return eventually(async () => {
    const build = await d.jenkins.build.get({ name: job, number });
    return build.building ? undefined : build;
  }, `build ${number} of ${job}`);
}

async function deploymentImage(d: Driver, namespace: string, name: string): Promise<string | undefined> {
  const dep = await d.apps.readNamespacedDeployment({ namespace, name });
  return dep.spec?.template.spec?.containers[0]?.image;
}

interface App {
  spec: { source: { path: string; targetRevision: string } };
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string };
    operationState?: { phase?: string };
  };
}

async function application(d: Driver, name: string): Promise<App> {
  return (await d.custom.getNamespacedCustomObject({
    group: 'argoproj.io',
    version: 'v1alpha1',
    namespace: d.world.info.argocd.namespace,
    plural: 'applications',
    name,
  })) as App;
}

/** The Application synced by a finished sync at `revision`, and no longer Progressing. */
async function syncedAt(d: Driver, name: string, revision: string): Promise<App> {
  return eventually(
    async () => {
      const app = await application(d, name);
      const st = app.status;
      return st?.sync?.status === 'Synced' &&
        st.sync.revision === revision &&
        st.operationState?.phase === 'Succeeded' &&
        st.health?.status !== 'Progressing'
        ? app
        : undefined;
    },
    `${name} synced at ${revision.slice(0, 8)}`,
  );
}

async function consoleOf(d: Driver, job: string, n: number): Promise<string> {
  const res = await fetch(`${d.world.info.jenkins.url}/job/${job.split('/').join('/job/')}/${n}/consoleText`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${d.world.info.jenkins.user}:${d.world.info.jenkins.token}`).toString('base64')}`,
    },
  });
  return res.text();
}

describe('a world built from a pipeline', () => {
  it("is the seed's world when given the seed's pipeline", () => {
    const seed = seedPipeline(loadConfig({ env: {} }));
    expect(layoutFromPipeline(fits(seed))).toEqual(defaultLayout());
  });

  it('refuses, saying what to change, a pipeline whose image its Argo CD could not render', () => {
    const withImage = (image: string): string =>
      `environments: [{ name: dev }, { name: prod }]\napps: [{ name: api, image: [${image}] }]\n`;
    expect(() => layoutFromPipeline(pipeline(withImage('{ format: cue, file: env.cue }')))).toThrow(
      /app api declares its image only in CUE; add the manifest rendered from it/,
    );
    expect(() =>
      layoutFromPipeline(pipeline(withImage("{ format: helm, file: 'api/values-{env}.yaml', key: image.tag }"))),
    ).toThrow(/declare the image in the chart's values.yaml/);
  });

  describe('four environments as directories of one branch, kustomize images', () => {
    let d: Driver;
    beforeAll(async () => {
      d = await startDriver({ pipeline: pipeline(FOUR_DIRECTORIES) });
    });
    afterAll(async () => d?.stop());

    it('tracks each directory of the shared branch with an Application per environment, rendered by kustomize', async () => {
      const info = d.world.info;
      expect(Object.keys(info.environments)).toEqual(['qa', 'uat', 'preprod', 'live']);
      for (const [env, ns] of [
        ['qa', 'qa'],
        ['uat', 'uat'],
        ['preprod', 'shop-preprod'],
        ['live', 'shop-live'],
      ] as const) {
        const app = await application(d, `catalog-${env}`);
        expect(app.spec.source).toMatchObject({ path: `envs/${env}`, targetRevision: 'main' });
        expect(app.status?.sync?.status).toBe('Synced');
        expect(await deploymentImage(d, ns, 'catalog')).toMatch(
          /^registry\.shop\.local\/shop\/catalog:0\.9\.0-[0-9a-f]{7}$/,
        );
      }
      const kustomization = await fileOf(d, 'shop/deployments', 'envs/qa/kustomization.yaml', 'main');
      expect(kustomization).toContain('name: registry.shop.local/shop/catalog');
      expect(kustomization).toMatch(/newTag: 0\.9\.0-[0-9a-f]{7}/);
    });

    it('builds from VERSION, opens the dev MR into the shared branch editing qa only, and Argo CD deploys it', async () => {
      const sha = await commitTo(d, 'shop/catalog', 'VERSION', '0.9.1\n');
      const build = await d.awaitCiBuild(sha, 'shop/catalog/main');
      expect(build.result).toBe('SUCCESS');
      const tag = `0.9.1-${sha.slice(0, 7)}`;
      const mr = await d.awaitOpenMr('main', `update-dev-${tag}`);
      const changes = await d.gitlab.MergeRequests.allDiffs('shop/deployments', mr.iid);
      expect(changes.map((c) => c.new_path)).toEqual(['envs/qa/kustomization.yaml']);
      expect(String(changes[0]!.diff)).toContain(`+    newTag: ${tag}`);
      const merged = await d.merge(mr.iid);
      await syncedAt(d, 'catalog-qa', merged);
      expect(await deploymentImage(d, 'qa', 'catalog')).toBe(`registry.shop.local/shop/catalog:${tag}`);
      expect(await deploymentImage(d, 'uat', 'catalog')).not.toContain(tag);

      const promoted = await runJob(d, 'promote-environment', {
        APP_NAME: 'catalog',
        SOURCE_ENV: 'qa',
        TARGET_ENV: 'uat',
        IMAGE_TAG: tag,
      });
      expect(promoted.result).toBe('SUCCESS');
      const promotion = await d.awaitOpenMr('main', `promote-uat-${tag}`);
      const promotionChanges = await d.gitlab.MergeRequests.allDiffs('shop/deployments', promotion.iid);
      expect(promotionChanges.map((c) => c.new_path)).toEqual(['envs/uat/kustomization.yaml']);
    });

    it('refuses a promotion that skips an environment, naming the valid paths', async () => {
      const build = await runJob(d, 'promote-environment', {
        APP_NAME: 'catalog',
        SOURCE_ENV: 'qa',
        TARGET_ENV: 'preprod',
        IMAGE_TAG: '0.9.0-abcdef0',
      });
      expect(build.result).toBe('FAILURE');
      expect(await consoleOf(d, 'promote-environment', build.number)).toContain(
        'Valid paths: qa -> uat, uat -> preprod, preprod -> live',
      );
    });
  });

  describe('two apps: a Maven app with Helm values and an npm app with plain YAML', () => {
    let d: Driver;
    const declared = pipeline(TWO_APPS);
    beforeAll(async () => {
      d = await startDriver({ pipeline: declared, scenario: 'stage-degraded@orders' });
    });
    afterAll(async () => d?.stop());

    it('gives the worker one layout per app with the values the pipeline file gives', () => {
      const layouts = layoutsForWorld(d.world);
      expect(layouts.map((l) => l.app.name)).toEqual(['orders', 'web']);
      for (const [i, l] of layouts.entries()) {
        const fromFile = declared.apps[i]!;
        expect(l.environments).toEqual(fromFile.environments);
        expect(l.environmentOrder).toEqual(fromFile.environmentOrder);
        expect(l.gitlab).toMatchObject({
          appProject: fromFile.gitlab.appProject,
          versionFile: fromFile.gitlab.versionFile,
          versionFormat: fromFile.gitlab.versionFormat,
          imageDeclarations: fromFile.gitlab.imageDeclarations,
          imageFiles: fromFile.gitlab.imageFiles,
          branches: fromFile.gitlab.branches,
        });
        expect(l.jenkins).toMatchObject({
          appJob: fromFile.jenkins.appJob,
          promoteJob: fromFile.jenkins.promoteJob,
          promoteParameters: fromFile.jenkins.promoteParameters,
        });
      }
    });

    it('renders the Helm app from its values and runs each app in every environment', async () => {
      for (const env of ['dev', 'test', 'prod']) {
        expect(await deploymentImage(d, env, 'orders')).toMatch(
          /^docker\.jmann\.local\/p2c\/orders:1\.0\.36-SNAPSHOT-/,
        );
        expect(await deploymentImage(d, env, 'web')).toMatch(/^docker\.jmann\.local\/p2c\/web:1\.4\.0-/);
        expect((await application(d, `orders-${env}`)).spec.source.path).toBe('orders');
        expect((await application(d, `web-${env}`)).spec.source.path).toBe('manifests');
      }
    });

    it("builds the npm app from package.json and opens its dev MR on the pipeline's branch template", async () => {
      const pkg = JSON.parse(await fileOf(d, 'p2c/web', 'package.json', 'main')) as { version: string };
      const sha = await commitTo(
        d,
        'p2c/web',
        'package.json',
        `${JSON.stringify({ ...pkg, version: '1.5.0' }, null, 2)}\n`,
      );
      expect((await d.awaitCiBuild(sha, 'web/main')).result).toBe('SUCCESS');
      const tag = `1.5.0-${sha.slice(0, 7)}`;
      const mr = await d.awaitOpenMr('dev', `ci/web-${tag}`);
      expect(mr.title).toBe(`Deploy web to dev: ${tag}`);
      const changes = await d.gitlab.MergeRequests.allDiffs('p2c/k8s-deployments', mr.iid);
      expect(changes.map((c) => c.new_path)).toEqual(['manifests/web.yaml']);
    });

    it("promotes the Helm app with the pipeline's parameter names, editing its values and keeping their comment", async () => {
      const tag = '1.0.40-1234abc';
      const build = await runJob(d, 'deploy/promote', {
        SERVICE: 'orders',
        FROM_ENV: 'dev',
        TO_ENV: 'test',
        VERSION_TAG: tag,
      });
      expect(build.result).toBe('SUCCESS');
      const branch = `release/test/orders-${tag}`;
      const mr = await d.awaitOpenMr('test', branch);
      const values = await fileOf(d, 'p2c/k8s-deployments', 'orders/values.yaml', branch);
      expect(values).toContain('# Helm values of test');
      expect(values).toContain(`tag: ${tag}`);
      expect(values).toContain('repository: docker.jmann.local/p2c/orders');
      const merged = await d.merge(mr.iid);
      await syncedAt(d, 'orders-test', merged);
      expect(await deploymentImage(d, 'test', 'orders')).toBe(`docker.jmann.local/p2c/orders:${tag}`);
    });

    it("degrades only the scenario's app in the pipeline's second environment", async () => {
      // The promotion above brought orders a new image in test: the scenario crash-loops it; web's stays healthy.
      const rules = d.world.faults.active?.domain ?? [];
      expect(rules).toEqual([expect.objectContaining({ kind: 'pods-crashloop', env: 'test', app: 'orders' })]);
      await eventually(async () => {
        const app = await application(d, 'orders-test');
        return app.status?.health?.status === 'Degraded' ? app : undefined;
      }, 'orders-test Degraded by its new image');
      const tag = '1.4.1-5678def';
      await runJob(d, 'deploy/promote', { SERVICE: 'web', FROM_ENV: 'dev', TO_ENV: 'test', VERSION_TAG: tag });
      const mr = await d.awaitOpenMr('test', `release/test/web-${tag}`);
      const merged = await d.merge(mr.iid);
      await syncedAt(d, 'web-test', merged);
      expect((await application(d, 'web-test')).status?.health?.status).toBe('Healthy');
      // The inspection endpoint shows each app's environments.
      const state = await d.state();
      expect(state.apps['orders']!['test']!.health).toBe('Degraded');
      expect(state.apps['web']!['test']).toMatchObject({
        health: 'Healthy',
        image: `docker.jmann.local/p2c/web:${tag}`,
      });
      expect(state.environments).toEqual(state.apps['orders']);
    });

    it('fails the promote job for an app the pipeline does not have, naming its apps', async () => {
      const build = await runJob(d, 'deploy/promote', { SERVICE: 'billing', FROM_ENV: 'dev', TO_ENV: 'test' });
      expect(build.result).toBe('FAILURE');
      expect(await consoleOf(d, 'deploy/promote', build.number)).toContain('apps in the deployments repo: orders, web');
    });
  });

  it('tags each version format its own way: gradle.properties, a VERSION-style file, and none (the build number)', async () => {
    const d = await startDriver({ pipeline: pipeline(VERSION_FORMATS) });
    try {
      const gradle = await fileOf(d, 'p2c/gradle-app', 'gradle.properties', 'main');
      const gradleSha = await commitTo(
        d,
        'p2c/gradle-app',
        'gradle.properties',
        gradle.replace(/version=.*/, 'version=2.4.0'),
      );
      const plainSha = await commitTo(d, 'p2c/plain-app', 'version.txt', '0.9.7\n');
      const bareSha = await pushEmpty(d, 'p2c/bare-app');
      const expected: [string, string, string][] = [
        ['gradle-app/main', gradleSha, `2.4.0-${gradleSha.slice(0, 7)}`],
        ['plain-app/main', plainSha, `0.9.7-${plainSha.slice(0, 7)}`],
        ['bare-app/main', bareSha, `0.0.1-${bareSha.slice(0, 7)}`],
      ];
      for (const [job, sha, tag] of expected) {
        const build = await d.awaitCiBuild(sha, job);
        expect(build.result).toBe('SUCCESS');
        const app = job.split('/')[0]!;
        const mr = await d.awaitOpenMr('dev', `update-dev-${tag}`);
        const manifest = await fileOf(d, 'p2c/k8s-deployments', `${app}.yaml`, mr.source_branch);
        expect(manifest).toContain(`image: docker.jmann.local/p2c/${app}:${tag}`);
      }
    } finally {
      await d.stop();
    }
  });
});
