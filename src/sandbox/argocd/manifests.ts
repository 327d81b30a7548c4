/**
 * Renders an Application's source path the way Argo CD's repo server does, for the parts the installations use:
 * - a directory with `kustomization.yaml` is built by kustomize: its `resources` (files of the directory), the
 *   `namespace` it sets, and its `images:` overrides (`newName`, `newTag`, `digest`) on the containers whose image
 *   is the entry's `name`;
 * - a directory with `Chart.yaml` is templated by Helm: each `templates/*.yaml` with `{{ .Values.a.b }}` (optionally
 *   `| quote`) filled from `values.yaml`;
 * - any other directory is a plain directory source: every `.yaml`/`.yml`/`.json` file, every YAML document in it
 *   that is a Kubernetes object.
 */
import { parse, parseAllDocuments } from 'yaml';
import { isPlainObject, type KubeObject } from '../kubernetes/objects.js';

/** Thrown when a manifest does not parse; Argo CD reports it as a ComparisonError. */
export class ManifestError extends Error {}

/** Renders the files of a source path (relative path → content) into objects: kustomize, Helm or a directory. */
export function parseManifests(files: Record<string, string>): KubeObject[] {
  if (files['kustomization.yaml'] !== undefined) return renderKustomization(files);
  if (files['Chart.yaml'] !== undefined) return renderHelmChart(files);
  return parseDirectory(files);
}

/** A directory source: the files (sorted by path, as Argo CD does) parsed into objects. */
function parseDirectory(files: Record<string, string>): KubeObject[] {
  const out: KubeObject[] = [];
  for (const path of Object.keys(files).sort()) {
    if (!/\.(ya?ml|json)$/.test(path)) continue;
    out.push(...parseObjects(path, files[path]!));
  }
  return out;
}

function parseObjects(path: string, text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new ManifestError(`${path}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (
      !isPlainObject(value) ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isPlainObject(value.metadata) ||
      typeof value.metadata.name !== 'string'
    ) {
      throw new ManifestError(`${path}: Object 'Kind' is missing in '${JSON.stringify(value).slice(0, 80)}'`);
    }
    out.push(value as unknown as KubeObject);
  }
  return out;
}

function parseYaml(path: string, text: string): unknown {
  try {
    return parse(text) as unknown;
  } catch (err) {
    throw new ManifestError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
}

interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

function normalise(path: string): string {
  return path.replace(/^\.\//, '');
}

/** `kustomize build`: the resources, with the kustomization's namespace and image overrides applied. */
function renderKustomization(files: Record<string, string>): KubeObject[] {
  const k = parseYaml('kustomization.yaml', files['kustomization.yaml']!);
  if (!isPlainObject(k)) throw new ManifestError('kustomization.yaml: not a map');
  const resources = Array.isArray(k.resources) ? k.resources : [];
  const out: KubeObject[] = [];
  for (const r of resources) {
    const path = normalise(String(r));
    const text = files[path];
    if (text === undefined)
      throw new ManifestError(
        `kustomize build failed: accumulating resources: accumulation err='accumulating resources from '${path}': missing or not a file in this directory'`,
      );
    out.push(...parseObjects(path, text));
  }
  const images = (Array.isArray(k.images) ? k.images : []).filter(isPlainObject) as unknown as ImageOverride[];
  for (const o of out) {
    if (typeof k.namespace === 'string' && o.kind !== 'Namespace') o.metadata.namespace = k.namespace;
    for (const c of containersOf(o)) {
      if (typeof c.image !== 'string') continue;
      const [name, tag] = splitReference(c.image);
      const override = images.find((i) => i.name === name);
      if (!override) continue;
      const newName = override.newName ?? name;
      c.image = override.digest
        ? `${newName}@${override.digest}`
        : `${newName}${override.newTag ? `:${override.newTag}` : tag ? `:${tag}` : ''}`;
    }
  }
  return out;
}

/** `repo:tag` → [`repo`, `tag`]; a digest reference keeps no tag; a registry port's colon is not a tag's. */
function splitReference(image: string): [name: string, tag: string | undefined] {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
}

function containersOf(o: KubeObject): Record<string, unknown>[] {
  const spec = (o as { spec?: unknown }).spec;
  const podSpec = isPlainObject(spec) && isPlainObject(spec.template) ? spec.template.spec : spec;
  if (!isPlainObject(podSpec)) return [];
  return [podSpec.containers, podSpec.initContainers]
    .flatMap((list) => (Array.isArray(list) ? list : []))
    .filter(isPlainObject);
}

/** `helm template`: each template with its `{{ .Values.… }}` filled from values.yaml. */
function renderHelmChart(files: Record<string, string>): KubeObject[] {
  const values = files['values.yaml'] === undefined ? {} : parseYaml('values.yaml', files['values.yaml']);
  const lookup = (key: string): unknown =>
    key.split('.').reduce<unknown>((v, k) => (isPlainObject(v) ? v[k] : undefined), values);
  const out: KubeObject[] = [];
  for (const path of Object.keys(files).sort()) {
    if (!path.startsWith('templates/') || !/\.ya?ml$/.test(path)) continue;
    const rendered = files[path]!.replace(
      /\{\{-?\s*\.Values\.([A-Za-z0-9_.]+)\s*(\|\s*quote\s*)?-?\}\}/g,
      (_, key: string, quote: string | undefined) => {
        const v = lookup(key);
        // Go templates print a missing value as empty; `quote` wraps it in double quotes.
        const text = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
        return quote ? JSON.stringify(text) : text;
      },
    );
    out.push(...parseObjects(path, rendered));
  }
  return out;
}
