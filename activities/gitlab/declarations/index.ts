/**
 * The file formats of an app's pipeline, as pure functions over file text: where each kind of image declaration
 * (`cue`, `yaml`, `kustomize`, `helm`) holds the image and how to change it keeping the file's comments and
 * formatting, how each version format is bumped, and the unified diff of an edit. No I/O: the GitLab activities
 * read and commit the files, the CLI's dry-run shows the diffs.
 */
import { ValidationError } from '../../../src/domain/errors.js';
import type { ImageDeclaration, VersionFormat } from '../../../src/domain/pipeline.js';
import { imageInEnvCue, setImageInEnvCue } from './cue.js';
import { imageInValues, setImageInValues } from './helm.js';
import { imageInManifest, setImageInManifest } from './kubernetes.js';
import { imageInKustomization, setImageInKustomization } from './kustomize.js';

export { bumpVersion, nextVersion, readVersion } from './versions.js';
export { unifiedDiff } from './diff.js';

/** What a declaration's defaults and placeholders stand for in one environment of one app. */
export interface DeclarationContext {
  readonly app: string;
  readonly cueName: string;
  readonly env: string;
  /** The container a `yaml` declaration edits when it names none. */
  readonly container: string;
  /** `{registry}/{group}/{app}`: the kustomize default name, the helm repository. */
  readonly repository: string;
}

/**
 * The full image reference the file declares (`repo:tag` or `repo@sha256:…`; helm: the repository (at
 * `repositoryKey`, else `ctx.repository`) + ':' + tag). Throws a ValidationError naming the file when it declares none.
 */
export function readImage(decl: ImageDeclaration, content: string, ctx: DeclarationContext, path: string): string {
  switch (decl.format) {
    case 'cue':
      return imageInEnvCue(content, ctx.env, ctx.cueName, path);
    case 'yaml':
      return imageInManifest(content, path, decl.container, ctx.container);
    case 'kustomize':
      return imageInKustomization(content, path, decl.name ?? ctx.repository);
    case 'helm':
      return imageInValues(content, path, decl.key, decl.repositoryKey, ctx.repository);
  }
}

/**
 * The file with only the image changed to `image` (a full `repo:tag` reference): every comment, blank line, quote
 * style and key order kept; the same text when it already declares it. kustomize: sets `newTag` (and `newName` only
 * if the entry has one) and drops `digest`; helm: sets the tag key (and the repository key when the declaration has
 * one).
 */
export function writeImage(
  decl: ImageDeclaration,
  content: string,
  ctx: DeclarationContext,
  image: string,
  path: string,
): string {
  if (/\s/.test(image) || image === '')
    throw new ValidationError('image', 'must be an image reference', `"${image}" is not an image reference (repo:tag)`);
  switch (decl.format) {
    case 'cue':
      return setImageInEnvCue(content, ctx.env, ctx.cueName, image, path);
    case 'yaml':
      return setImageInManifest(content, path, decl.container, ctx.container, image);
    case 'kustomize':
      return setImageInKustomization(content, path, decl.name ?? ctx.repository, image);
    case 'helm':
      return setImageInValues(content, path, decl.key, decl.repositoryKey, image);
  }
}

export type { ImageDeclaration, VersionFormat };
