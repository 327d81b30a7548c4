/**
 * The text edits and names the GitLab activities rely on, as pure functions: the version bump of pom.xml, the image
 * reference in an environment's env.cue and rendered manifest, and the branch names CI, the promote job and
 * Shepherd use. No I/O, so they are easy to test on their own.
 */
import type { Environment } from '../../src/domain/environments.js';
import { ValidationError } from '../../src/domain/errors.js';
import { imageRepository } from '../../src/domain/image-reference.js';

// ── pom.xml ─────────────────────────────────────────────────────────────────────────────────────────────────────

const VERSION_ELEMENT = /<version>\s*([^<\s]+)\s*<\/version>/g;

/** The project's own `<version>`: the first one outside a `<parent>` block. */
function versionMatch(pom: string): RegExpExecArray | undefined {
  const parent = /<parent>[\s\S]*?<\/parent>/.exec(pom);
  VERSION_ELEMENT.lastIndex = 0;
  for (let m = VERSION_ELEMENT.exec(pom); m; m = VERSION_ELEMENT.exec(pom)) {
    const insideParent = parent !== null && m.index > parent.index && m.index < parent.index + parent[0].length;
    if (!insideParent) return m;
  }
  return undefined;
}

/** The version the pom declares for the project, or undefined. */
export function pomVersion(pom: string): string | undefined {
  return versionMatch(pom)?.[1];
}

/** `1.0.36-SNAPSHOT` → `1.0.37-SNAPSHOT`: patch + 1, any suffix kept. */
export function nextPatchVersion(version: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)(.*)$/.exec(version);
  if (!m)
    throw new ValidationError(
      'versionFile',
      `must declare a MAJOR.MINOR.PATCH version (found ${JSON.stringify(version)})`,
    );
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}${m[4]}`;
}

/** The pom with its project version raised by one patch; everything else byte for byte the same. */
export function bumpPom(pom: string): { previousVersion: string; version: string; content: string } {
  const m = versionMatch(pom);
  if (!m || m[1] === undefined) throw new ValidationError('versionFile', 'must contain a <version> element');
  const previousVersion = m[1];
  const version = nextPatchVersion(previousVersion);
  const element = m[0].replace(previousVersion, version);
  return { previousVersion, version, content: pom.slice(0, m.index) + element + pom.slice(m.index + m[0].length) };
}

/** The subject of a bump commit, as the seed's validation script writes it. */
export function bumpCommitMessage(version: string, runMarker: string): string {
  return `chore: bump version to ${version} [pipeline-validation]\n\n${runMarkerTrailer(runMarker)}\n`;
}

/** The trailer line that ties a commit, MR or note to the run that made it. */
export function runMarkerTrailer(runMarker: string): string {
  return `Shepherd-Run: ${runMarker}`;
}

/** Whether `text` carries the trailer of exactly this run (not of a run whose marker merely starts the same). */
export function carriesRunMarker(text: string, runMarker: string): boolean {
  const trailer = runMarkerTrailer(runMarker);
  return text.split(/\r?\n/).some((line) => line.trim() === trailer);
}

/** The version a bump commit message announces. */
export function versionOfBumpMessage(message: string): string | undefined {
  return /^chore: bump version to (\S+)/.exec(message)?.[1];
}

// ── image references ────────────────────────────────────────────────────────────────────────────────────────────

/** The lines of the `{env}: {cueApp}:` block of env.cue: [first, last]. */
function cueBlock(lines: readonly string[], env: string, cueApp: string, file: string): [number, number] {
  const start = lines.findIndex((l) => l.startsWith(`${env}: ${cueApp}:`));
  if (start < 0) throw new ValidationError('imageFiles', `${file} must declare a "${env}: ${cueApp}:" block`);
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (i > start && depth <= 0) return [start, i];
  }
  return [start, lines.length - 1];
}

const CUE_IMAGE_LINE = /^(\s*image:\s*)"([^"]*)"/;

/** The image the env.cue block of `env` declares for the app. */
export function imageInEnvCue(text: string, env: Environment, cueApp: string, file = 'env.cue'): string {
  const lines = text.split('\n');
  const [start, end] = cueBlock(lines, env, cueApp, file);
  for (let i = start; i <= end; i++) {
    const m = CUE_IMAGE_LINE.exec(lines[i] ?? '');
    if (m?.[2] !== undefined) return m[2];
  }
  throw new ValidationError('imageFiles', `${file} must declare an image for ${env}.${cueApp}`);
}

/** env.cue with the `image: "…"` line inside the `{env}: {cueApp}:` block set to `image`. */
export function setImageInEnvCue(
  text: string,
  env: Environment,
  cueApp: string,
  image: string,
  file = 'env.cue',
): string {
  const lines = text.split('\n');
  const [start, end] = cueBlock(lines, env, cueApp, file);
  const hits: number[] = [];
  for (let i = start; i <= end; i++) if (CUE_IMAGE_LINE.test(lines[i] ?? '')) hits.push(i);
  if (hits.length !== 1)
    throw new ValidationError(
      'imageFiles',
      `${file} must have exactly one image line for ${env}.${cueApp} (found ${hits.length})`,
    );
  const at = hits[0]!;
  lines[at] = (lines[at] ?? '').replace(CUE_IMAGE_LINE, (_, lead: string) => `${lead}"${image}"`);
  return lines.join('\n');
}

const YAML_IMAGE_LINE = /^(\s*(?:-\s+)?image:\s*)(["']?)([^\s"']+)\2\s*$/;

/**
 * A rendered manifest with the `image:` line of the app's container set to `image`. The app's container is the one
 * whose image repository ends in `/{app}`; sidecars keep theirs.
 */
export function setImageInManifest(text: string, app: string, image: string, file: string): string {
  const lines = text.split('\n');
  let hits = 0;
  const out = lines.map((line) => {
    const m = YAML_IMAGE_LINE.exec(line);
    if (!m || m[3] === undefined || !imageRepository(m[3]).endsWith(`/${app}`)) return line;
    hits++;
    return `${m[1]}${m[2]}${image}${m[2]}`;
  });
  if (hits === 0) throw new ValidationError('imageFiles', `${file} must have an image line for the ${app} container`);
  return out.join('\n');
}

/** The image of the app's container in a rendered manifest; every line of it must name the same image. */
export function imageInManifest(text: string, app: string, file: string): string {
  const images = new Set<string>();
  for (const line of text.split('\n')) {
    const m = YAML_IMAGE_LINE.exec(line);
    if (m?.[3] !== undefined && imageRepository(m[3]).endsWith(`/${app}`)) images.add(m[3]);
  }
  const [image, ...others] = [...images];
  if (image === undefined)
    throw new ValidationError('imageFiles', `${file} must have an image line for the ${app} container`);
  if (others.length > 0)
    throw new ValidationError(
      'imageFiles',
      `${file} must declare one image for ${app} (found ${[...images].join(', ')})`,
    );
  return image;
}

/** `{registry}/{group}/{app}:{tag}`, the reference env branches declare. */
export function imageReference(
  registry: { readonly external: string; readonly group: string },
  app: string,
  tag: string,
): string {
  return `${registry.external}/${registry.group}/${app}:${tag}`;
}

// ── branch names ────────────────────────────────────────────────────────────────────────────────────────────────

/** The branch prefix of the MR that deploys an image to `env`: CI's `update-dev-`, the promote job's `promote-{env}-`. */
export function deployBranchPrefix(env: Environment): string {
  return env === 'dev' ? 'update-dev-' : `promote-${env}-`;
}

export function promotionBranch(env: Environment, tag: string): string {
  return `promote-${env}-${tag}`;
}

export function revertBranch(env: Environment, iid: number): string {
  return `revert-${env}-${iid}`;
}

/** Branches a run (or CI for it) opens, and only those may be deleted by Shepherd. */
export const RUN_BRANCH_PREFIXES = ['update-dev-', 'promote-', 'revert-'] as const;

/** The image tag an `update-dev-{tag}` or `promote-{env}-{tag}` branch deploys to `env`. */
export function tagOfBranch(branch: string, env: Environment): string | undefined {
  const prefix = deployBranchPrefix(env);
  return branch.startsWith(prefix) && branch.length > prefix.length ? branch.slice(prefix.length) : undefined;
}
