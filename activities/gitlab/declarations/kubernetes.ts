/**
 * Plain Kubernetes manifests: the `image` of a container, found by its name in every `containers`,
 * `initContainers` and `ephemeralContainers` list of every document of the file (a Deployment, a CronJob's job
 * template, a Pod…). The container is the declaration's `container`, else the context's; when the declaration names
 * none and no container has the context's name, the file's only container.
 */
import { isMap, isScalar, isSeq, visit, type Scalar, type YAMLMap } from 'yaml';
import { ValidationError } from '../../../src/domain/errors.js';
import { applyEdits, scalarText, setScalar, yamlDocuments, type TextEdit } from './yaml-text.js';

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** Every container map of every document, in file order. */
function containersOf(content: string, path: string): YAMLMap[] {
  const found: YAMLMap[] = [];
  for (const doc of yamlDocuments(content, path))
    visit(doc, {
      Pair(_, pair) {
        if (isScalar(pair.key) && CONTAINER_LISTS.has(String(pair.key.value)) && isSeq(pair.value))
          for (const item of pair.value.items) if (isMap(item)) found.push(item);
      },
    });
  return found;
}

/** The image nodes of the declared container; throws naming the file and the containers it has when there is none. */
function imageNodes(content: string, path: string, named: string | undefined, fallback: string): Scalar[] {
  const containers = containersOf(content, path);
  const name = named ?? fallback;
  let chosen = containers.filter((c) => scalarText(c, 'name') === name);
  if (chosen.length === 0 && named === undefined && new Set(containers.map((c) => scalarText(c, 'name'))).size === 1)
    chosen = containers;
  const nodes = chosen.map((c) => c.get('image', true)).filter((n): n is Scalar => isScalar(n));
  if (nodes.length === 0) {
    const names = [...new Set(containers.map((c) => scalarText(c, 'name') ?? '(unnamed)'))];
    throw new ValidationError(
      'imageDeclarations',
      `${path} must declare an image for the container ${name}`,
      `${path} has no container "${name}" with an image (it has ${names.length > 0 ? names.join(', ') : 'no containers'}); ` +
        'name the container in the yaml declaration (container: …)',
    );
  }
  return nodes;
}

/** The image of the container; every place that declares it must name the same image. */
export function imageInManifest(
  content: string,
  path: string,
  container: string | undefined,
  fallback: string,
): string {
  const images = [...new Set(imageNodes(content, path, container, fallback).map((n) => String(n.value)))];
  if (images.length > 1)
    throw new ValidationError(
      'imageDeclarations',
      `${path} must declare one image for the container`,
      `${path} declares different images for the container ${container ?? fallback} (${images.join(', ')}); make them the same`,
    );
  return images[0]!;
}

/** The manifest with the container's image (every occurrence of it) set to `image`; everything else unchanged. */
export function setImageInManifest(
  content: string,
  path: string,
  container: string | undefined,
  fallback: string,
  image: string,
): string {
  const edits = imageNodes(content, path, container, fallback)
    .map((n) => setScalar(n, image, path))
    .filter((e): e is TextEdit => e !== undefined);
  return applyEdits(content, edits);
}
