/**
 * The seed's CUE declaration: env.cue holds one `{env}: {cueName}: … { … image: "…" … }` block per environment and
 * app; the image line inside the block is the declaration. Line-based, like the deployments repo's
 * update-app-image.sh, so everything but that line stays byte for byte.
 */
import { ValidationError } from '../../../src/domain/errors.js';

/** The lines of the `{env}: {cueName}:` block: [first, last]. */
function cueBlock(lines: readonly string[], env: string, cueName: string, path: string): [number, number] {
  const start = lines.findIndex((l) => l.startsWith(`${env}: ${cueName}:`));
  if (start < 0)
    throw new ValidationError(
      'imageDeclarations',
      `${path} must declare a "${env}: ${cueName}:" block`,
      `${path} must declare a "${env}: ${cueName}:" block; add it, or point the app's cue declaration at the file that has it`,
    );
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (i > start && depth <= 0) return [start, i];
  }
  return [start, lines.length - 1];
}

const CUE_IMAGE_LINE = /^(\s*image:\s*)"([^"]*)"/;

/** The lines of the block that declare an image. */
function imageLines(lines: readonly string[], env: string, cueName: string, path: string): number[] {
  const [start, end] = cueBlock(lines, env, cueName, path);
  const hits: number[] = [];
  for (let i = start; i <= end; i++) if (CUE_IMAGE_LINE.test(lines[i] ?? '')) hits.push(i);
  return hits;
}

/** The image the env.cue block of `env` declares for the app. */
export function imageInEnvCue(text: string, env: string, cueName: string, path = 'env.cue'): string {
  const lines = text.split('\n');
  const at = imageLines(lines, env, cueName, path)[0];
  const image = at === undefined ? undefined : CUE_IMAGE_LINE.exec(lines[at] ?? '')?.[2];
  if (image === undefined)
    throw new ValidationError(
      'imageDeclarations',
      `${path} must declare an image for ${env}.${cueName}`,
      `${path} must declare an image for ${env}.${cueName} (an image: "…" line inside its block); add one`,
    );
  return image;
}

/** env.cue with the `image: "…"` line inside the `{env}: {cueName}:` block set to `image`. */
export function setImageInEnvCue(text: string, env: string, cueName: string, image: string, path = 'env.cue'): string {
  const lines = text.split('\n');
  const hits = imageLines(lines, env, cueName, path);
  if (hits.length !== 1)
    throw new ValidationError(
      'imageDeclarations',
      `${path} must have exactly one image line for ${env}.${cueName} (found ${hits.length})`,
      `${path} must have exactly one image: "…" line in the ${env}.${cueName} block (found ${hits.length}); fix the block`,
    );
  const at = hits[0]!;
  lines[at] = (lines[at] ?? '').replace(CUE_IMAGE_LINE, (_, lead: string) => `${lead}"${image}"`);
  return lines.join('\n');
}
