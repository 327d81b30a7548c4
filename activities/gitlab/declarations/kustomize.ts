/**
 * kustomization.yaml `images:` entries (`name`, optional `newName`, `newTag` and/or `digest`). The entry is the one
 * whose `name` is the declaration's `name`, else the app's repository (`{registry}/{group}/{app}`).
 */
import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { ValidationError } from '../../../src/domain/errors.js';
import { imageDigestOf, imageRepository, imageTagOf } from '../../../src/domain/image-reference.js';
import {
  appendPair,
  applyEdits,
  removePair,
  replacePair,
  scalarText,
  setScalar,
  yamlDocuments,
  type TextEdit,
} from './yaml-text.js';

function imageEntry(content: string, path: string, name: string): YAMLMap {
  const doc = yamlDocuments(content, path)[0];
  const images: unknown = doc?.get('images', true);
  const entries = isSeq(images) ? images.items.filter((i): i is YAMLMap => isMap(i)) : [];
  const entry = entries.find((e) => scalarText(e, 'name') === name);
  if (!entry)
    throw new ValidationError(
      'imageDeclarations',
      `${path} must have an images entry named ${name}`,
      `${path} has no images: entry with name "${name}" (it has ${entries.map((e) => scalarText(e, 'name') ?? '(unnamed)').join(', ') || 'none'}); ` +
        'add one, or set name: in the kustomize declaration',
    );
  return entry;
}

/** `newName` (else `name`) with `:newTag` and/or `@digest`. */
export function imageInKustomization(content: string, path: string, name: string): string {
  const entry = imageEntry(content, path, name);
  const repository = scalarText(entry, 'newName') ?? name;
  const tag = scalarText(entry, 'newTag');
  const digest = scalarText(entry, 'digest');
  if (tag === undefined && digest === undefined)
    throw new ValidationError(
      'imageDeclarations',
      `${path} must set newTag or digest for ${name}`,
      `${path}: the images entry "${name}" sets neither newTag nor digest; add newTag: <tag>`,
    );
  return `${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}

/**
 * The kustomization with the entry pointing at `image`: a tag sets `newTag` and drops `digest`, a digest sets `digest`
 * and drops `newTag`; `newName` is set only when the entry has one.
 */
export function setImageInKustomization(content: string, path: string, name: string, image: string): string {
  const entry = imageEntry(content, path, name);
  const tag = imageTagOf(image);
  const digest = imageDigestOf(image);
  const edits: (TextEdit | undefined)[] = [];
  const newName = entry.get('newName', true);
  if (isScalar(newName)) edits.push(setScalar(newName, imageRepository(image), path));
  if (tag === undefined && digest === undefined)
    throw new ValidationError(
      'imageDeclarations',
      'must be a tag or digest',
      `${image} names neither a tag nor a digest`,
    );
  const setOrAdd = (key: string, value: string): void => {
    const node = entry.get(key, true);
    edits.push(isScalar(node) ? setScalar(node, value, path) : appendPair(content, entry, key, value, path));
  };
  if (tag !== undefined && digest !== undefined) {
    setOrAdd('newTag', tag);
    setOrAdd('digest', digest);
  } else {
    const [key, value, other] = tag !== undefined ? ['newTag', tag, 'digest'] : ['digest', digest!, 'newTag'];
    if (entry.has(key)) {
      setOrAdd(key, value);
      edits.push(removePair(content, entry, other, path));
    } else if (entry.has(other)) {
      // Pinned the other way: that pair becomes this one in place, keeping its line and any comment.
      edits.push(replacePair(entry, other, key, value));
    } else setOrAdd(key, value);
  }
  return applyEdits(
    content,
    edits.filter((e): e is TextEdit => e !== undefined),
  );
}
