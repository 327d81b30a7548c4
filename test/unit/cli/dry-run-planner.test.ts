/**
 * The dry-run planner against hand-written fakes at the client edge (the read methods of the GitLab and Kubernetes
 * clients, nothing else exists on them): what `promote --dry-run` and `validate --dry-run` would show for a
 * three-environment pipeline with directories on one branch, an approval and a freeze window on the last
 * environment, decided by the same rules as the workflows.
 */
import { describe, expect, it } from 'vitest';
import type { ApplicationView, DeploymentView } from '../../../src/clients/kubernetes/index.js';
import { parsePipeline, type PipelineDefaults } from '../../../src/config/pipeline-file.js';
import { NotFoundError } from '../../../src/domain/errors.js';
import type { DeclaredPipeline, FreezeWindows, PipelineLayout } from '../../../src/domain/pipeline.js';
import { DryRunReadError, type DryRunPlan, type PlannedGate } from '../../../src/cli/dry-run/plan.js';
import {
  planPromotion,
  planValidation,
  type FreezeEvaluator,
  type PlanContext,
} from '../../../src/cli/dry-run/planner.js';
import type { DryRunReads } from '../../../src/cli/dry-run/reads.js';
import { renderPlans } from '../../../src/cli/dry-run/render.js';
import { freezeAt } from '../../../src/domain/freeze.js';

const DEFAULTS: PipelineDefaults = {
  group: 'shop',
  deploymentsProject: 'shop/deployments',
  registry: 'registry.example.com',
  argocdNamespace: 'argocd',
  promoteJob: ['promote-environment'],
  bump: { via: 'auto', branch: undefined },
  autoMerge: false,
};

const PIPELINE_FILE = `
name: shop
environments:
  - name: qa
    directory: envs/qa
  - name: uat
    directory: envs/uat
  - name: live
    directory: envs/live
    approval: { required: true, approvers: [alice, bob] }
    freeze:
      timeZone: Europe/Berlin
      weekly: [{ from: "Fri 16:00", to: "Mon 08:00", reason: weekend }]
apps:
  - name: cart
promotion:
  branches: { promotion: "release/{target}/{tag}" }
`;

const REPO = 'registry.example.com/shop/cart';
const image = (tag: string): string => `${REPO}:${tag}`;

function envCue(env: string, tag: string): string {
  return [
    'package deployments',
    '',
    `${env}: cart: {`,
    '\tdeployment: {',
    `\t\timage:    "${image(tag)}"`,
    '\t\treplicas: 2',
    '\t}',
    '}',
    '',
  ].join('\n');
}

function manifest(tag: string): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: cart',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: cart',
    `          image: ${image(tag)}`,
    '        - name: envoy',
    '          image: envoyproxy/envoy:v1.30',
    '',
  ].join('\n');
}

const POM = `<project>\n  <parent>\n    <version>3.0.0</version>\n  </parent>\n  <artifactId>cart</artifactId>\n  <version>2.4.9-SNAPSHOT</version>\n</project>\n`;

/** What the fake world holds: per environment the tag its files declare, what runs, and what Argo CD says. */
interface EnvFixture {
  declared: string;
  running?: string | undefined;
  sync?: 'Synced' | 'OutOfSync';
  health?: 'Healthy' | 'Degraded' | 'Progressing';
  /** The manifest declares another tag than env.cue (not regenerated). */
  manifestTag?: string;
}

const HEAD = 'a'.repeat(40);

/** Fakes of the clients' read methods, recording every call. */
function fakeReads(envs: Record<string, EnvFixture>, opts: { missingApplication?: string; pom?: string } = {}) {
  const calls: string[] = [];
  const files = new Map<string, string>();
  files.set(`shop/cart@main:pom.xml`, opts.pom ?? POM);
  for (const [env, f] of Object.entries(envs)) {
    files.set(`shop/deployments@${HEAD}:envs/${env}/env.cue`, envCue(env, f.declared));
    files.set(`shop/deployments@${HEAD}:envs/${env}/manifests/cart/cart.yaml`, manifest(f.manifestTag ?? f.declared));
  }
  const reads: DryRunReads = {
    gitlab: {
      getProject: async (project) => {
        calls.push(`gitlab getProject ${project}`);
        return { path: project, defaultBranch: 'main' };
      },
      getBranch: async (project, name) => {
        calls.push(`gitlab getBranch ${project} ${name}`);
        return name === 'main' ? { name, headSha: HEAD } : undefined;
      },
      readFile: async (project, path, ref) => {
        calls.push(`gitlab readFile ${project} ${path}@${ref}`);
        const content = files.get(`${project}@${ref}:${path}`);
        if (content === undefined)
          throw new NotFoundError({ system: 'gitlab', kind: 'project', name: `${project}: ${path}@${ref}` });
        return { path, content, lastCommitId: HEAD };
      },
      isAncestor: async (project, ancestor, descendant) => {
        calls.push(`gitlab isAncestor ${project}`);
        return ancestor === descendant;
      },
    },
    kubernetes: {
      getApplication: async (namespace, name) => {
        calls.push(`kubernetes getApplication ${namespace}/${name}`);
        const env = name.replace(/^cart-/, '');
        const f = envs[env];
        if (!f || name === opts.missingApplication)
          throw new NotFoundError({ system: 'kubernetes', kind: 'application', name: `${namespace}/${name}` });
        return application(name, f);
      },
      readDeployment: async (namespace, name) => {
        calls.push(`kubernetes readDeployment ${namespace}/${name}`);
        const f = envs[namespace];
        if (!f?.running) throw new NotFoundError({ system: 'kubernetes', kind: 'deployment', name });
        return deployment(name, f.running);
      },
    },
    workloads: {},
  };
  return { reads, calls };
}

function application(name: string, f: EnvFixture): ApplicationView {
  return {
    name,
    resourceVersion: '7',
    refreshPending: false,
    sources: [],
    multiSource: false,
    sync: { status: f.sync ?? 'Synced', revision: HEAD, revisions: undefined },
    health: { status: f.health ?? 'Healthy', message: undefined },
    operation: {
      phase: 'Succeeded',
      revision: HEAD,
      revisions: undefined,
      message: undefined,
      startedAt: '2026-11-27T10:00:00Z',
      finishedAt: '2026-11-27T10:00:05Z',
    },
    requestedOperation: undefined,
    conditions: [],
    reconciledAt: '2026-11-27T10:00:10Z',
  };
}

function deployment(name: string, tag: string): DeploymentView {
  return {
    name,
    uid: 'uid-1',
    generation: 3,
    selector: { matchLabels: { app: name }, matchExpressions: [] },
    revision: 3,
    desiredReplicas: 2,
    paused: false,
    containers: [
      { name: 'cart', image: image(tag) },
      { name: 'envoy', image: 'envoyproxy/envoy:v1.30' },
    ],
    status: {
      observedGeneration: 3,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      unavailableReplicas: 0,
    },
    conditions: [],
  } as DeploymentView;
}

const pipeline: DeclaredPipeline = parsePipeline(PIPELINE_FILE, DEFAULTS);
const layout: PipelineLayout = pipeline.apps[0]!;
const NOW = new Date('2026-11-27T12:00:00Z'); // a Friday, 13:00 in Berlin

const settled = (tag: string): EnvFixture => ({ declared: tag, running: tag });

function context(reads: DryRunReads, freezeAt?: FreezeEvaluator): PlanContext {
  return { reads, pipeline, now: NOW, ...(freezeAt ? { freezeAt } : {}) };
}

const gate = (plan: DryRunPlan, kind: PlannedGate['kind']): PlannedGate | undefined =>
  plan.steps.flatMap((s) => s.gates).find((g) => g.kind === kind);

describe('promote --dry-run', () => {
  it('shows the image from → to, the files of the target directory the MR would change with their diff, and the branch from the template', async () => {
    const { reads } = fakeReads({ qa: settled('2.4.9-ab12cd3'), uat: settled('2.4.8-9f8e7d6') });
    const plan = await planPromotion(context(reads), layout, { source: 'qa', target: 'uat' });

    expect(plan).toMatchObject({ app: 'cart', dryRun: true, command: 'promote' });
    const [step] = plan.steps;
    expect(step).toMatchObject({
      env: 'uat',
      action: 'promote',
      source: 'qa',
      from: image('2.4.8-9f8e7d6'),
      to: image('2.4.9-ab12cd3'),
      branch: 'release/uat/2.4.9-ab12cd3',
      into: 'main',
    });
    expect(step!.files.map((f) => f.path)).toEqual(['envs/uat/env.cue', 'envs/uat/manifests/cart/cart.yaml']);
    const cue = step!.files[0]!.diff;
    expect(cue).toContain('--- a/envs/uat/env.cue\n+++ b/envs/uat/env.cue\n@@ ');
    expect(cue).toContain(`-\t\timage:    "${image('2.4.8-9f8e7d6')}"\n+\t\timage:    "${image('2.4.9-ab12cd3')}"`);
    const yaml = step!.files[1]!.diff;
    expect(yaml).toContain(`-          image: ${image('2.4.8-9f8e7d6')}\n+          image: ${image('2.4.9-ab12cd3')}`);
    // The sidecar keeps its image: only the app's container line changes.
    expect(yaml).not.toMatch(/^[-+].*envoy/m);
    expect(step!.gates).toEqual([]);
  });

  it('names the approval and evaluates the freeze window of the target: frozen until when, and what the run would do', async () => {
    const { reads } = fakeReads({ uat: settled('2.4.9-ab12cd3'), live: settled('2.4.8-9f8e7d6') });
    const seen: { windows: FreezeWindows; at: Date | string }[] = [];
    const freezeAt: FreezeEvaluator = (windows, at) => {
      seen.push({ windows, at });
      return {
        frozen: true,
        until: '2026-11-30T07:00:00.000Z',
        window: 'Fri 16:00 → Mon 08:00 Europe/Berlin',
        reason: 'weekend',
      };
    };
    const plan = await planPromotion(context(reads, freezeAt), layout, { source: 'uat', target: 'live' });

    expect(gate(plan, 'approval')).toMatchObject({ effect: 'wait', approvers: ['alice', 'bob'] });
    expect(gate(plan, 'approval')!.message).toContain('alice, bob');
    expect(gate(plan, 'freeze')).toMatchObject({
      effect: 'wait',
      frozen: true,
      until: '2026-11-30T07:00:00.000Z',
      reason: 'weekend',
    });
    expect(gate(plan, 'freeze')!.message).toMatch(
      /^frozen until 2026-11-30T07:00:00.000Z .*would wait before its merge/,
    );
    expect(seen).toEqual([{ windows: pipeline.environments[2]!.freeze, at: NOW }]);
  });

  it('leaves out approval and freeze when the run stops once the MR is open (--no-merge)', async () => {
    const { reads } = fakeReads({ uat: settled('2.4.9-ab12cd3'), live: settled('2.4.8-9f8e7d6') });
    const plan = await planPromotion(context(reads, freezeAt), layout, { source: 'uat', target: 'live', merge: false });
    expect(plan.steps[0]).toMatchObject({ action: 'promote', gates: [] });
    expect(plan.steps[0]!.files).toHaveLength(2);
    expect(plan.steps[0]!.note).toBe(
      'the Jenkins job promote-environment would open the merge request; the run stops once it is open (--no-merge)',
    );
  });

  it('says an open window is not open now, and lists the declared windows unevaluated when no evaluator is given', async () => {
    const { reads } = fakeReads({ uat: settled('2.4.9-ab12cd3'), live: settled('2.4.8-9f8e7d6') });
    const open = await planPromotion(
      context(reads, () => ({ frozen: false })),
      layout,
      { source: 'uat', target: 'live' },
    );
    expect(gate(open, 'freeze')).toMatchObject({ effect: 'go-on', frozen: false });

    const unevaluated = await planPromotion(context(reads), layout, { source: 'uat', target: 'live' });
    expect(gate(unevaluated, 'freeze')).toMatchObject({
      effect: 'wait',
      frozen: undefined,
      windows: ['Fri 16:00 → Mon 08:00 every week (Europe/Berlin): weekend'],
    });
  });

  it('has nothing to do when the target already runs the image synced and healthy: no files, no approval', async () => {
    const { reads } = fakeReads({ uat: settled('2.4.9-ab12cd3'), live: settled('2.4.9-ab12cd3') });
    const plan = await planPromotion(context(reads), layout, { source: 'uat', target: 'live' });
    expect(plan.steps[0]).toMatchObject({ action: 'nothing-to-do', files: [], gates: [] });
    expect(plan.steps[0]!.note).toMatch(/^nothing to do: live already runs 2\.4\.9-ab12cd3/);
  });

  it('shows that the run would refuse a source that is not healthy, and still plans the change', async () => {
    const { reads } = fakeReads({
      qa: { ...settled('2.4.9-ab12cd3'), health: 'Degraded' },
      uat: settled('2.4.8-9f8e7d6'),
    });
    const plan = await planPromotion(context(reads), layout, { source: 'qa', target: 'uat' });
    expect(gate(plan, 'source-not-healthy')).toMatchObject({
      effect: 'refuse',
      env: 'qa',
      reason: 'health is Degraded',
    });
    expect(plan.steps[0]!.files).toHaveLength(2);
  });

  it('refuses a requested image the source does not run, and a source that runs nothing', async () => {
    const { reads } = fakeReads({ qa: settled('2.4.9-ab12cd3'), uat: settled('2.4.8-9f8e7d6') });
    const other = await planPromotion(context(reads), layout, {
      source: 'qa',
      target: 'uat',
      imageTag: '2.5.0-0000000',
    });
    expect(gate(other, 'source-not-healthy')).toMatchObject({ reason: 'it runs 2.4.9-ab12cd3, not 2.5.0-0000000' });

    const empty = fakeReads({ qa: { declared: '2.4.9-ab12cd3' }, uat: settled('2.4.8-9f8e7d6') });
    const none = await planPromotion(context(empty.reads), layout, { source: 'qa', target: 'uat' });
    expect(gate(none, 'source-not-healthy')).toMatchObject({ reason: 'nothing deployed' });
    expect(none.steps[0]).toMatchObject({ to: null, files: [] });
  });

  it('refuses a target that does not run what its files declare, unless --allow-unsettled-target lets it go on', async () => {
    const envs = { qa: settled('2.4.9-ab12cd3'), uat: { declared: '2.4.8-9f8e7d6', running: '2.4.7-1111111' } };
    const { reads } = fakeReads(envs);
    const refused = await planPromotion(context(reads), layout, { source: 'qa', target: 'uat' });
    expect(gate(refused, 'target-not-settled')).toMatchObject({
      effect: 'refuse',
      reason: 'it runs 2.4.7-1111111 but its branch declares 2.4.8-9f8e7d6',
    });
    const allowed = await planPromotion(context(reads), layout, {
      source: 'qa',
      target: 'uat',
      allowUnsettledTarget: true,
    });
    expect(gate(allowed, 'target-not-settled')).toMatchObject({ effect: 'go-on' });
  });

  it('shows that the run would refuse a target whose files declare different images', async () => {
    const { reads } = fakeReads({
      qa: settled('2.4.9-ab12cd3'),
      uat: { ...settled('2.4.8-9f8e7d6'), manifestTag: '2.4.7-1111111' },
    });
    const plan = await planPromotion(context(reads), layout, { source: 'qa', target: 'uat' });
    expect(gate(plan, 'declarations-disagree')!.message).toContain(
      `declares ${image('2.4.8-9f8e7d6')} in envs/uat/env.cue but ${image('2.4.7-1111111')} in envs/uat/manifests/cart/cart.yaml`,
    );
  });

  it('only reads, and reads what readEnvironmentState and readDeclaredImage read', async () => {
    const { reads, calls } = fakeReads({ qa: settled('2.4.9-ab12cd3'), uat: settled('2.4.8-9f8e7d6') });
    await planPromotion(context(reads), layout, { source: 'qa', target: 'uat' });
    expect(calls).toEqual([
      'kubernetes getApplication argocd/cart-qa',
      'kubernetes readDeployment qa/cart',
      'gitlab getBranch shop/deployments main',
      `gitlab readFile shop/deployments envs/uat/env.cue@${HEAD}`,
      `gitlab readFile shop/deployments envs/uat/manifests/cart/cart.yaml@${HEAD}`,
      'kubernetes getApplication argocd/cart-uat',
      'kubernetes readDeployment uat/cart',
    ]);
  });

  it('fails with the system, what it read and what to do when a read fails', async () => {
    const { reads } = fakeReads(
      { qa: settled('2.4.9-ab12cd3'), uat: settled('2.4.8-9f8e7d6') },
      { missingApplication: 'cart-qa' },
    );
    const err = await planPromotion(context(reads), layout, { source: 'qa', target: 'uat' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DryRunReadError);
    expect(err).toMatchObject({ system: 'kubernetes', what: 'the Argo CD Application argocd/cart-qa' });
    expect((err as Error).message).toMatch(
      /^could not read the Argo CD Application argocd\/cart-qa from Kubernetes: .*What to do: check KUBECONFIG/,
    );
  });
});

describe('other layouts', () => {
  it('plans an npm app whose image is a Helm value, and a kustomize app, each in its own files', async () => {
    const multi = parsePipeline(
      `
environments:
  - name: qa
  - name: live
apps:
  - name: web
    version: { format: npm }
    image: [{ format: helm, file: "values-{env}.yaml", key: image.tag }]
  - name: api
    image: [{ format: kustomize, file: "apps/{app}/kustomization.yaml" }]
`,
      DEFAULTS,
    );
    const files = new Map<string, string>([
      ['shop/web@main:package.json', '{\n    "name": "web",\n    "version": "4.1.0"\n}\n'],
      [`shop/deployments@${HEAD}:values-qa.yaml`, 'image:\n  tag: 4.1.0-89abcde\n'],
      [
        `shop/deployments@${HEAD}:values-live.yaml`,
        '# web in live\nimage:\n  tag: "4.0.9-1234567" # pinned by Shepherd\nreplicas: 3\n',
      ],
      [
        `shop/deployments@${HEAD}:apps/api/kustomization.yaml`,
        'resources: [deployment.yaml]\nimages:\n  - name: registry.example.com/shop/api\n    newTag: 7.2.0-abcdef0\n',
      ],
    ]);
    const running: Record<string, string> = {
      'qa/web': '4.1.0-89abcde',
      'qa/api': '7.3.0-1111111',
      'live/web': '4.0.9-1234567',
      'live/api': '7.2.0-abcdef0',
    };
    const reads: DryRunReads = {
      gitlab: {
        getProject: async (project) => ({ path: project, defaultBranch: 'main' }),
        getBranch: async (_project, name) => ({ name, headSha: HEAD }),
        readFile: async (project, path, ref) => ({
          path,
          content: files.get(`${project}@${ref}:${path}`)!,
          lastCommitId: HEAD,
        }),
        isAncestor: async () => false,
      },
      kubernetes: {
        getApplication: async (_namespace, name) => application(name, settled('unused')),
        readDeployment: async (namespace, name) => {
          const d = deployment(name, running[`${namespace}/${name}`]!);
          return {
            ...d,
            containers: [{ name, image: `registry.example.com/shop/${name}:${running[`${namespace}/${name}`]}` }],
          };
        },
      },
      workloads: {},
    };
    const ctx: PlanContext = { reads, pipeline: multi, now: NOW };
    const web = await planPromotion(ctx, multi.apps[0]!, { source: 'qa', target: 'live' });
    expect(web.steps[0]).toMatchObject({
      from: 'registry.example.com/shop/web:4.0.9-1234567',
      to: 'registry.example.com/shop/web:4.1.0-89abcde',
    });
    expect(web.steps[0]!.files).toEqual([
      {
        path: 'values-live.yaml',
        diff: expect.stringContaining(
          '-  tag: "4.0.9-1234567" # pinned by Shepherd\n+  tag: "4.1.0-89abcde" # pinned by Shepherd',
        ),
      },
    ]);
    const api = await planPromotion(ctx, multi.apps[1]!, { source: 'qa', target: 'live' });
    expect(api.steps[0]!.files.map((f) => f.path)).toEqual(['apps/api/kustomization.yaml']);
    expect(api.steps[0]!.files[0]!.diff).toContain('-    newTag: 7.2.0-abcdef0\n+    newTag: 7.3.0-1111111');

    const bump = (await planValidation(ctx, multi.apps[0]!, { through: 'qa' })).steps[0]!;
    expect(bump).toMatchObject({ from: '4.1.0', to: '4.1.1' });
    expect(bump.files[0]!.diff).toContain('-    "version": "4.1.0"\n+    "version": "4.1.1"');
  });

  it('evaluates the freeze windows with freezeAt: open on Friday afternoon in Berlin, until Monday 08:00 there', async () => {
    const { reads } = fakeReads({ uat: settled('2.4.9-ab12cd3'), live: settled('2.4.8-9f8e7d6') });
    const before = await planPromotion(context(reads, freezeAt), layout, { source: 'uat', target: 'live' });
    expect(gate(before, 'freeze')).toMatchObject({ frozen: false, effect: 'go-on' });
    const friday = { ...context(reads, freezeAt), now: new Date('2026-11-27T15:30:00Z') }; // 16:30 in Berlin
    const during = await planPromotion(friday, layout, { source: 'uat', target: 'live' });
    expect(gate(during, 'freeze')).toMatchObject({
      frozen: true,
      effect: 'wait',
      until: '2026-11-30T07:00:00.000Z',
      reason: 'weekend',
    });
  });
});

describe('validate --dry-run', () => {
  it('shows the version bump with its diff, the tag CI would build as a pattern, and every environment through --through', async () => {
    const { reads } = fakeReads({
      qa: settled('2.4.8-9f8e7d6'),
      uat: settled('2.4.7-1111111'),
      live: settled('2.4.7-1111111'),
    });
    const plan = await planValidation(context(reads), layout, { through: 'uat' });

    expect(plan.steps.map((s) => [s.action, s.env])).toEqual([
      ['bump', 'qa'],
      ['deliver', 'qa'],
      ['promote', 'uat'],
    ]);
    const [bump, qa, uat] = plan.steps;
    expect(bump).toMatchObject({ from: '2.4.9-SNAPSHOT', to: '2.4.10-SNAPSHOT', into: 'main' });
    expect(bump!.files).toEqual([
      {
        path: 'pom.xml',
        diff: expect.stringContaining('-  <version>2.4.9-SNAPSHOT</version>\n+  <version>2.4.10-SNAPSHOT</version>'),
      },
    ]);
    // The parent's version stays.
    expect(bump!.files[0]!.diff).not.toMatch(/^[-+].*3\.0\.0/m);
    expect(qa).toMatchObject({
      from: image('2.4.8-9f8e7d6'),
      to: image('2.4.10-SNAPSHOT-<sha>'),
      branch: 'update-dev-2.4.10-SNAPSHOT-<sha>',
      into: 'main',
    });
    expect(qa!.files.map((f) => f.path)).toEqual(['envs/qa/env.cue', 'envs/qa/manifests/cart/cart.yaml']);
    expect(uat).toMatchObject({
      source: 'qa',
      branch: 'release/uat/2.4.10-SNAPSHOT-<sha>',
      to: image('2.4.10-SNAPSHOT-<sha>'),
    });
  });

  it('goes through the last environment by default, with its approval and freeze gates', async () => {
    const { reads } = fakeReads({
      qa: settled('2.4.8-9f8e7d6'),
      uat: settled('2.4.8-9f8e7d6'),
      live: settled('2.4.7-1111111'),
    });
    const plan = await planValidation(
      context(reads, () => ({ frozen: false })),
      layout,
      {},
    );
    expect(plan.steps.map((s) => s.env)).toEqual(['qa', 'qa', 'uat', 'live']);
    expect(plan.steps[3]!.gates.map((g) => [g.kind, g.effect])).toEqual([
      ['approval', 'wait'],
      ['freeze', 'go-on'],
    ]);
  });

  it('bumps an app without a version file by a commit that only starts a build, the version left to the build', async () => {
    const none = parsePipeline(
      PIPELINE_FILE.replace('  - name: cart\n', '  - name: cart\n    version: { format: none }\n'),
      DEFAULTS,
    );
    const { reads, calls } = fakeReads({ qa: settled('2.4.8-9f8e7d6') });
    const plan = await planValidation({ ...context(reads), pipeline: none }, none.apps[0]!, { through: 'qa' });
    expect(plan.steps[0]).toMatchObject({ action: 'bump', from: null, to: null, files: [] });
    expect(plan.steps[0]!.note).toContain('a commit on shop/cart@main that only records the run');
    expect(plan.steps[1]!.to).toBe(image('<version>-<sha>'));
    expect(calls.filter((c) => c.includes('pom.xml'))).toEqual([]);
  });
});

describe('the plan as text', () => {
  it('has a heading per app and step, the diffs indented under their file, and the gates marked', async () => {
    const { reads } = fakeReads({ uat: settled('2.4.9-ab12cd3'), live: settled('2.4.8-9f8e7d6') });
    const plan = await planPromotion(context(reads), layout, { source: 'uat', target: 'live' });
    const lines = renderPlans([plan]);
    expect(lines[0]).toBe('cart: promote (dry run, nothing changed) — 2 gates would hold or stop it');
    expect(lines[1]).toBe(`  live (from uat): ${image('2.4.8-9f8e7d6')} → ${image('2.4.9-ab12cd3')}`);
    expect(lines).toContain('    merge request release/live/2.4.9-ab12cd3 → main');
    expect(lines).toContain('    envs/live/env.cue:');
    expect(lines).toContain('      --- a/envs/live/env.cue');
    expect(lines).toContain(`      +\t\timage:    "${image('2.4.9-ab12cd3')}"`);
    expect(lines.find((l) => l.includes('approval:'))).toMatch(/^ {4}⏸ approval: waits for an approval .* alice, bob$/);
  });
});
