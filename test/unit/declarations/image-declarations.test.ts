import { describe, expect, it } from 'vitest';
import { readImage, writeImage, type DeclarationContext } from '../../../activities/gitlab/declarations/index.js';
import { ValidationError } from '../../../src/domain/errors.js';

const CTX: DeclarationContext = {
  app: 'orders',
  cueName: 'orders',
  env: 'qa',
  container: 'orders',
  repository: 'registry.example.com/shop/orders',
};
const NEXT = 'registry.example.com/shop/orders:2.4.1-abc1234';

/** The lines that differ between two texts of the same length in lines. */
function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b).toHaveLength(a.length);
  return b.filter((line, i) => line !== a[i]);
}

describe('cue declarations (the seed’s env.cue)', () => {
  const ENV_CUE = [
    'package envs',
    '',
    'qa: billing: apps.billing & {',
    '\tappConfig: deployment: image: "registry.example.com/shop/billing:9.9.9"',
    '}',
    'qa: orders: apps.orders & {',
    '\tappConfig: {',
    '\t\tdeployment: {',
    '\t\t\timage:    "registry.example.com/shop/orders:2.4.0-0000000"',
    '\t\t\treplicas: 2',
    '\t\t}',
    '\t}',
    '}',
    '',
  ].join('\n');
  const decl = { format: 'cue', file: 'env.cue' } as const;

  it('reads and sets only the image line of the app’s block in the environment', () => {
    expect(readImage(decl, ENV_CUE, CTX, 'qa/env.cue')).toBe('registry.example.com/shop/orders:2.4.0-0000000');
    const next = writeImage(decl, ENV_CUE, CTX, NEXT, 'qa/env.cue');
    expect(changedLines(ENV_CUE, next)).toEqual([`\t\t\timage:    "${NEXT}"`]);
    expect(readImage(decl, next, CTX, 'qa/env.cue')).toBe(NEXT);
  });

  it('names the file and the missing block when the environment has none', () => {
    expect(() => readImage(decl, ENV_CUE, { ...CTX, env: 'live' }, 'live/env.cue')).toThrow(
      /live\/env.cue must declare a "live: orders:" block/,
    );
  });
});

describe('yaml declarations (a container’s image in Kubernetes manifests)', () => {
  const MANIFEST = [
    '# Rendered by hand; keep the comments.',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: orders',
    'spec:',
    '  template:',
    '    spec:',
    '      initContainers:',
    '      - name: migrate',
    '        image: "registry.example.com/shop/orders-migrate:2.4.0"',
    '      containers:',
    '      - name: orders',
    "        image: 'registry.example.com/shop/orders:2.4.0-0000000' # bumped by Shepherd",
    '        args: [--port, "8080", --a-very-long-flag-that-a-yaml-round-trip-would-wrap-onto-the-next-line-at-eighty]',
    '      - name: proxy',
    '        image: envoyproxy/envoy:v1.30.1',
    '---',
    'apiVersion: batch/v1',
    'kind: CronJob',
    'metadata: {name: orders-report}',
    'spec:',
    '  jobTemplate:',
    '    spec:',
    '      template:',
    '        spec:',
    '          containers:',
    '            - name: orders',
    '              image: registry.example.com/shop/orders:2.4.0-0000000',
    '',
  ].join('\n');
  const decl = { format: 'yaml', file: 'orders.yaml' } as const;

  it('sets the named container in every document, keeping quotes, comments, flow sequences and sidecars', () => {
    const next = writeImage(decl, MANIFEST, CTX, NEXT, 'qa/orders.yaml');
    expect(changedLines(MANIFEST, next)).toEqual([
      `        image: '${NEXT}' # bumped by Shepherd`,
      `              image: ${NEXT}`,
    ]);
    expect(readImage(decl, next, CTX, 'qa/orders.yaml')).toBe(NEXT);
  });

  it('edits the container the declaration names instead of the app’s', () => {
    const next = writeImage({ ...decl, container: 'migrate' }, MANIFEST, CTX, 'r/migrate:3', 'm.yaml');
    expect(changedLines(MANIFEST, next)).toEqual(['        image: "r/migrate:3"']);
  });

  it('returns the same text when the file already declares the image', () => {
    const once = writeImage(decl, MANIFEST, CTX, NEXT, 'm.yaml');
    expect(writeImage(decl, once, CTX, NEXT, 'm.yaml')).toBe(once);
  });

  it('refuses two different images for the container, and a missing container, naming the containers there are', () => {
    const split = MANIFEST.replace('orders:2.4.0-0000000\n', 'orders:1.0.0\n');
    expect(() => readImage(decl, split, CTX, 'm.yaml')).toThrow(/different images.*2\.4\.0-0000000.*1\.0\.0/);
    expect(() => readImage({ ...decl, container: 'api' }, MANIFEST, CTX, 'm.yaml')).toThrow(
      /m\.yaml has no container "api".*migrate, orders, proxy/,
    );
  });

  it('takes the only container when none carries the app’s name', () => {
    const single = 'spec:\n  containers:\n    - name: main\n      image: r/orders:1 # app\n';
    expect(readImage(decl, single, CTX, 'p.yaml')).toBe('r/orders:1');
    expect(writeImage(decl, single, CTX, 'r/orders:2', 'p.yaml')).toBe(single.replace('r/orders:1', 'r/orders:2'));
  });

  it('reports a file that is not YAML as a ValidationError naming it', () => {
    expect(() => readImage(decl, 'spec: [unclosed\n', CTX, 'broken.yaml')).toThrow(ValidationError);
    expect(() => readImage(decl, 'spec: [unclosed\n', CTX, 'broken.yaml')).toThrow(/broken\.yaml is not valid YAML/);
  });
});

describe('kustomize declarations (images: entries)', () => {
  const KUSTOMIZATION = [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    '',
    'resources:',
    '  - ../../base # shared base',
    '',
    'images:',
    '  # the app itself',
    '  - name: registry.example.com/shop/orders',
    '    newTag: "2.4.0-0000000"',
    '  - name: registry.example.com/shop/billing',
    '    newName: mirror.example.com/shop/billing',
    '    digest: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa # pinned',
    '  - name: nginx',
    '    newTag: 1.27.0',
    '    digest: sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
    '',
  ].join('\n');
  const decl = { format: 'kustomize', file: 'kustomization.yaml' } as const;

  it('reads the entry named like the app’s repository, and sets its newTag in its quote style', () => {
    expect(readImage(decl, KUSTOMIZATION, CTX, 'k.yaml')).toBe('registry.example.com/shop/orders:2.4.0-0000000');
    const next = writeImage(decl, KUSTOMIZATION, CTX, NEXT, 'k.yaml');
    expect(changedLines(KUSTOMIZATION, next)).toEqual(['    newTag: "2.4.1-abc1234"']);
  });

  it('reads a digest-pinned entry through its newName, and turns the pin into a newTag on the same line', () => {
    const billing = { ...decl, name: 'registry.example.com/shop/billing' };
    expect(readImage(billing, KUSTOMIZATION, CTX, 'k.yaml')).toBe(
      `mirror.example.com/shop/billing@sha256:${'a'.repeat(64)}`,
    );
    const next = writeImage(billing, KUSTOMIZATION, CTX, 'mirror.example.com/shop/billing:3.0.0', 'k.yaml');
    expect(changedLines(KUSTOMIZATION, next)).toEqual(['    newTag: 3.0.0 # pinned']);
  });

  it('sets newName only when the entry has one', () => {
    const billing = { ...decl, name: 'registry.example.com/shop/billing' };
    const next = writeImage(billing, KUSTOMIZATION, CTX, 'other.example.com/billing:3.0.0', 'k.yaml');
    expect(next).toContain('    newName: other.example.com/billing\n');
    const orders = writeImage(decl, KUSTOMIZATION, CTX, 'other.example.com/orders:3', 'k.yaml');
    expect(changedLines(KUSTOMIZATION, orders)).toEqual(['    newTag: "3"']);
  });

  it('drops the digest when it sets a tag, and the tag when it pins a digest', () => {
    const nginx = { ...decl, name: 'nginx' };
    const tagged = writeImage(nginx, KUSTOMIZATION, CTX, 'nginx:1.27.1', 'k.yaml');
    expect(tagged).toContain('  - name: nginx\n    newTag: 1.27.1\n');
    expect(tagged).not.toContain('bbbbbbbb');
    expect(readImage(nginx, tagged, CTX, 'k.yaml')).toBe('nginx:1.27.1');
    const pinned = writeImage(decl, KUSTOMIZATION, CTX, `x/orders@sha256:${'c'.repeat(64)}`, 'k.yaml');
    expect(changedLines(KUSTOMIZATION, pinned)).toEqual([`    digest: "sha256:${'c'.repeat(64)}"`]);
  });

  it('adds a newTag under an entry that has neither, indented like its name', () => {
    const bare = 'images:\n- name: registry.example.com/shop/orders\n# end\n';
    expect(writeImage(decl, bare, CTX, NEXT, 'k.yaml')).toBe(
      'images:\n- name: registry.example.com/shop/orders\n  newTag: 2.4.1-abc1234\n# end\n',
    );
    expect(() => readImage(decl, bare, CTX, 'k.yaml')).toThrow(/sets neither newTag nor digest/);
  });

  it('names the entries there are when the app has none', () => {
    expect(() => readImage({ ...decl, name: 'missing' }, KUSTOMIZATION, CTX, 'qa/kustomization.yaml')).toThrow(
      /qa\/kustomization\.yaml has no images: entry with name "missing" \(it has registry\.example\.com\/shop\/orders, registry\.example\.com\/shop\/billing, nginx\)/,
    );
  });
});

describe('helm declarations (a values file’s key path)', () => {
  const VALUES = [
    '# Default values for orders.',
    'replicaCount: 2',
    '',
    'orders:',
    '  image:',
    '    repository: registry.example.com/shop/orders   # where CI pushes',
    "    tag: '2.4.0-0000000'",
    '    pullPolicy: IfNotPresent',
    '  resources: {limits: {cpu: 500m}}',
    'worker:',
    '    image:',
    '        tag: 2.4.0-0000000',
    '',
  ].join('\n');

  it('reads the repository key and the tag key, and sets both keeping the comment and quotes', () => {
    const decl = {
      format: 'helm',
      file: 'values.yaml',
      key: 'orders.image.tag',
      repositoryKey: 'orders.image.repository',
    } as const;
    expect(readImage(decl, VALUES, CTX, 'v.yaml')).toBe('registry.example.com/shop/orders:2.4.0-0000000');
    const next = writeImage(decl, VALUES, CTX, 'mirror.example.com/orders:2.4.1', 'v.yaml');
    expect(changedLines(VALUES, next)).toEqual([
      '    repository: mirror.example.com/orders   # where CI pushes',
      "    tag: '2.4.1'",
    ]);
  });

  it('takes the app’s repository when the declaration has no repository key, with 4-space indentation', () => {
    const decl = { format: 'helm', file: 'values.yaml', key: 'worker.image.tag' } as const;
    expect(readImage(decl, VALUES, CTX, 'v.yaml')).toBe('registry.example.com/shop/orders:2.4.0-0000000');
    expect(changedLines(VALUES, writeImage(decl, VALUES, CTX, NEXT, 'v.yaml'))).toEqual(['        tag: 2.4.1-abc1234']);
  });

  it('quotes a tag that would otherwise read as a number', () => {
    const decl = { format: 'helm', file: 'values.yaml', key: 'worker.image.tag' } as const;
    const next = writeImage(decl, VALUES, CTX, 'registry.example.com/shop/orders:2.5', 'v.yaml');
    expect(changedLines(VALUES, next)).toEqual(['        tag: "2.5"']);
    expect(readImage(decl, next, CTX, 'v.yaml')).toBe('registry.example.com/shop/orders:2.5');
  });

  it('adds a missing tag key beside its siblings, and refuses a key with no parent mapping', () => {
    const decl = { format: 'helm', file: 'values.yaml', key: 'orders.image.digestless' } as const;
    const next = writeImage(decl, VALUES, CTX, NEXT, 'v.yaml');
    expect(next).toContain('    pullPolicy: IfNotPresent\n    digestless: 2.4.1-abc1234\n  resources:');
    expect(() => writeImage({ ...decl, key: 'api.image.tag' }, VALUES, CTX, NEXT, 'v.yaml')).toThrow(
      /api\.image\.tag has no parent mapping/,
    );
    expect(() => readImage({ ...decl, key: 'api.image.tag' }, VALUES, CTX, 'v.yaml')).toThrow(
      /v\.yaml does not set api\.image\.tag/,
    );
  });
});
