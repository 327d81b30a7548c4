import { describe, expect, it } from 'vitest';
import { parseManifests, ManifestError } from '../../src/sandbox/argocd/manifests.js';
import {
  setContainerImage,
  setHelmValue,
  setKustomizeTag,
  splitImage,
} from '../../src/sandbox/world/image-declarations.js';
import { renderVersionFile, versionInFile } from '../../src/sandbox/world/version-files.js';

const DEPLOYMENT = `# the shop's API
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-api
spec:
  template:
    spec:
      containers:
        - name: shop-api # the service
          image: registry.local:5000/shop/shop-api
        - name: proxy
          image: envoyproxy/envoy:v1.29
`;

describe('image declarations of the world, edited as their teams edit them', () => {
  it('sets a container image in plain YAML, keeping comments and the other containers', () => {
    const out = setContainerImage(DEPLOYMENT, 'shop-api', 'registry.local:5000/shop/shop-api:1.2.0-abc1234');
    expect(out).toContain("# the shop's API");
    expect(out).toContain('- name: shop-api # the service');
    expect(out).toContain('image: registry.local:5000/shop/shop-api:1.2.0-abc1234');
    expect(out).toContain('image: envoyproxy/envoy:v1.29');
  });

  it('refuses a manifest without the container, naming it', () => {
    expect(() => setContainerImage(DEPLOYMENT, 'billing', 'x:1')).toThrow(/no container named billing/);
  });

  it("sets a kustomization's newTag for the named image, keeping comments and dropping a digest", () => {
    const text = `# qa overrides
images:
  - name: other/app
    newTag: "7"
  - name: registry.local/shop/shop-api # pinned by CI
    digest: sha256:0123
`;
    const out = setKustomizeTag(text, 'registry.local/shop/shop-api', '1.3.0-def5678');
    expect(out).toContain('# qa overrides');
    expect(out).toContain('- name: registry.local/shop/shop-api # pinned by CI');
    expect(out).toContain('newTag: 1.3.0-def5678');
    expect(out).not.toContain('digest');
    expect(out).toContain('newTag: "7"');
    expect(() => setKustomizeTag(text, 'registry.local/shop/missing', '1')).toThrow(/no images entry named/);
  });

  it('sets a Helm value at a dotted key, keeping comments and quoting', () => {
    const text = `# values of prod
image:
  repository: registry.local/shop/orders
  tag: "1.0.0" # set by the pipeline
replicas: 3
`;
    const out = setHelmValue(text, 'image.tag', '1.1.0-aaa1111');
    expect(out).toBe(text.replace('"1.0.0"', '"1.1.0-aaa1111"'));
  });

  it("splits an image reference at the tag's colon, not a registry port's", () => {
    expect(splitImage('registry.local:5000/shop/api:1.0-abc')).toEqual(['registry.local:5000/shop/api', '1.0-abc']);
    expect(splitImage('registry.local:5000/shop/api')).toEqual(['registry.local:5000/shop/api', 'latest']);
  });
});

describe('version files of the world', () => {
  it.each(['maven', 'npm', 'gradle', 'plain'] as const)('reads back the version a %s file declares', (format) => {
    expect(versionInFile(format, renderVersionFile(format, 'shop-api', '3.2.1'))).toBe('3.2.1');
  });

  it('finds no version in a file without one', () => {
    expect(versionInFile('npm', '{"name": "x"}')).toBeUndefined();
    expect(versionInFile('gradle', 'group=com.example\n')).toBeUndefined();
    expect(versionInFile('plain', '\n')).toBeUndefined();
  });
});

describe("the world's Argo CD renders an Application's source", () => {
  it('builds a kustomization: its resources, namespace and images overrides', () => {
    const objects = parseManifests({
      'kustomization.yaml':
        'resources:\n  - shop-api.yaml\nnamespace: qa\nimages:\n  - name: registry.local:5000/shop/shop-api\n    newTag: 2.0.0-abc\n',
      'shop-api.yaml': DEPLOYMENT,
      'unlisted.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-a-resource\n',
    });
    expect(objects.map((o) => o.metadata.name)).toEqual(['shop-api']);
    const spec = (objects[0] as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec;
    expect(spec.template.spec.containers.map((c) => c.image)).toEqual([
      'registry.local:5000/shop/shop-api:2.0.0-abc',
      'envoyproxy/envoy:v1.29',
    ]);
    expect(objects[0]!.metadata.namespace).toBe('qa');
  });

  it('reports a kustomization resource that is not in the directory', () => {
    expect(() => parseManifests({ 'kustomization.yaml': 'resources:\n  - gone.yaml\n' })).toThrow(ManifestError);
  });

  it('templates a Helm chart from values.yaml', () => {
    const objects = parseManifests({
      'Chart.yaml': 'apiVersion: v2\nname: apps\nversion: 0.1.0\n',
      'values.yaml': 'orders:\n  image:\n    repository: registry.local/shop/orders\n    tag: 1.4.0-bbb\n',
      'templates/orders.yaml':
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: orders\n  labels:\n    tag: {{ .Values.orders.image.tag | quote }}\nspec:\n  containers:\n    - name: orders\n      image: "{{ .Values.orders.image.repository }}:{{ .Values.orders.image.tag }}"\n',
    });
    const pod = objects[0] as unknown as {
      metadata: { labels: { tag: string } };
      spec: { containers: { image: string }[] };
    };
    expect(pod.spec.containers[0]!.image).toBe('registry.local/shop/orders:1.4.0-bbb');
    expect(pod.metadata.labels.tag).toBe('1.4.0-bbb');
  });

  it('reads a plain directory as before', () => {
    expect(parseManifests({ 'a.yaml': DEPLOYMENT, 'README.md': '# not a manifest' })).toHaveLength(1);
  });
});
