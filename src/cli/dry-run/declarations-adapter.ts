/**
 * TEMPORARY: the API of the image-declaration and version-file library (`activities/gitlab/declarations/index.ts`,
 * written on another branch at the same time), for the seed's formats only: the CUE file and the rendered manifest
 * (through `activities/gitlab/edits.ts`) and Maven's pom.xml. Deleted once the library lands; the planner imports
 * exactly these names from it.
 */
import type { ImageDeclaration, VersionFormat } from '../../domain/pipeline.js';
import {
  bumpPom,
  imageInEnvCue,
  imageInManifest,
  setImageInEnvCue,
  setImageInManifest,
} from '../../../activities/gitlab/edits.js';

export interface DeclarationContext {
  readonly app: string;
  readonly cueName: string;
  readonly env: string;
  readonly container: string;
  readonly repository: string;
}

function unsupported(what: string, path: string): Error {
  return new Error(`${path}: ${what} is not supported by this build of the dry-run yet`);
}

export function readImage(decl: ImageDeclaration, content: string, ctx: DeclarationContext, path: string): string {
  if (decl.format === 'cue') return imageInEnvCue(content, ctx.env, ctx.cueName, path);
  if (decl.format === 'yaml') return imageInManifest(content, ctx.app, path);
  throw unsupported(`the ${decl.format} format`, path);
}

export function writeImage(
  decl: ImageDeclaration,
  content: string,
  ctx: DeclarationContext,
  image: string,
  path: string,
): string {
  if (decl.format === 'cue') return setImageInEnvCue(content, ctx.env, ctx.cueName, image, path);
  if (decl.format === 'yaml') return setImageInManifest(content, ctx.app, image, path);
  throw unsupported(`the ${decl.format} format`, path);
}

export function bumpVersion(
  format: Exclude<VersionFormat, 'none'>,
  content: string,
  path: string,
): { content: string; from: string; to: string } {
  if (format !== 'maven') throw unsupported(`the ${format} version format`, path);
  const bumped = bumpPom(content);
  return { content: bumped.content, from: bumped.previousVersion, to: bumped.version };
}

/** One hunk from the first to the last differing line, with 3 lines of context. */
export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const start = Math.max(0, head - 3);
  const endA = Math.min(a.length, a.length - tail + 3);
  const endB = Math.min(b.length, b.length - tail + 3);
  const lines = [
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -${start + 1},${endA - start} +${start + 1},${endB - start} @@`,
    ...a.slice(start, head).map((l) => ` ${l}`),
    ...a.slice(head, a.length - tail).map((l) => `-${l}`),
    ...b.slice(head, b.length - tail).map((l) => `+${l}`),
    ...a.slice(a.length - tail, endA).map((l) => ` ${l}`),
  ];
  return `${lines.join('\n')}\n`;
}
