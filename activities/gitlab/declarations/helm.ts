/**
 * Helm values files: the tag at a dotted key path (`image.tag`), and the repository at `repositoryKey` when the
 * declaration names one (else the app's repository is implied). A key that is missing is added under its parent
 * mapping, indented like its siblings.
 */
import { isMap, isScalar, type Document } from 'yaml';
import { ValidationError } from '../../../src/domain/errors.js';
import { imageRepository, imageTagOf } from '../../../src/domain/image-reference.js';
import { appendPair, applyEdits, setScalar, yamlDocuments, type TextEdit } from './yaml-text.js';

function keysOf(key: string): string[] {
  return key.split('.').filter((k) => k !== '');
}

function valuesDocument(content: string, path: string): Document.Parsed {
  const doc = yamlDocuments(content, path)[0];
  if (!doc || !isMap(doc.contents))
    throw new ValidationError(
      'imageDeclarations',
      `${path} must be a mapping of values`,
      `${path} is not a Helm values file (its top level is not a mapping); point the helm declaration at the values file`,
    );
  return doc;
}

function scalarValue(doc: Document, key: string): string | undefined {
  const node: unknown = doc.getIn(keysOf(key), true);
  return isScalar(node) && node.value !== null && node.value !== undefined ? String(node.value) : undefined;
}

/** `{repository}:{tag}`: the repository at `repositoryKey` (else `repository`), the tag at `key`. */
export function imageInValues(
  content: string,
  path: string,
  key: string,
  repositoryKey: string | undefined,
  repository: string,
): string {
  const doc = valuesDocument(content, path);
  const tag = scalarValue(doc, key);
  const repo = repositoryKey === undefined ? repository : scalarValue(doc, repositoryKey);
  if (tag === undefined || repo === undefined)
    throw new ValidationError(
      'imageDeclarations',
      `${path} must set ${tag === undefined ? key : repositoryKey}`,
      `${path} does not set ${tag === undefined ? key : repositoryKey}; add it, or fix the key of the helm declaration`,
    );
  return `${repo}:${tag}`;
}

/** The edit that sets the scalar at `key`, or adds it to its parent mapping when it is missing. */
function setKey(content: string, doc: Document, key: string, value: string, path: string): TextEdit | undefined {
  const keys = keysOf(key);
  const node: unknown = doc.getIn(keys, true);
  if (isScalar(node)) return setScalar(node, value, path);
  const parent: unknown = keys.length > 1 ? doc.getIn(keys.slice(0, -1), true) : doc.contents;
  if (node === undefined && isMap(parent)) return appendPair(content, parent, keys[keys.length - 1]!, value, path);
  throw new ValidationError(
    'imageDeclarations',
    `${path} must have a mapping for ${key}`,
    `${path}: ${key} ${node === undefined ? 'has no parent mapping' : 'is not a plain value'}; add "${key}" to the file by hand`,
  );
}

/** The values with the tag (and the repository, when the declaration has a `repositoryKey`) set from `image`. */
export function setImageInValues(
  content: string,
  path: string,
  key: string,
  repositoryKey: string | undefined,
  image: string,
): string {
  const tag = imageTagOf(image);
  if (tag === undefined)
    throw new ValidationError(
      'imageDeclarations',
      'must be a tagged image',
      `${image} has no tag; a helm declaration (${path}) holds a tag`,
    );
  const doc = valuesDocument(content, path);
  const edits = [setKey(content, doc, key, tag, path)];
  if (repositoryKey !== undefined) edits.push(setKey(content, doc, repositoryKey, imageRepository(image), path));
  return applyEdits(
    content,
    edits.filter((e): e is TextEdit => e !== undefined),
  );
}
