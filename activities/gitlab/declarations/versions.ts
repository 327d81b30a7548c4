/**
 * The version files the nightly validation bumps, each edited in place so that only the version's characters change:
 * Maven's project `<version>` (not the parent's), npm's top-level `"version"`, Gradle's `version=` in
 * gradle.properties, and a plain VERSION file.
 */
import { ValidationError } from '../../../src/domain/errors.js';
import type { VersionFormat } from '../../../src/domain/pipeline.js';

/** Where the version's text sits in the file: [start, end). */
interface Span {
  readonly start: number;
  readonly end: number;
}

function missing(path: string, what: string): ValidationError {
  return new ValidationError(
    'versionFile',
    `must contain ${what}`,
    `${path} must contain ${what}; fix the file or the app's versionFormat`,
  );
}

const VERSION_ELEMENT = /<version>\s*([^<\s]+)\s*<\/version>/g;

/** The project's own `<version>`: the first one outside a `<parent>` block. */
function mavenSpan(pom: string, path: string): Span {
  const parent = /<parent>[\s\S]*?<\/parent>/.exec(pom);
  VERSION_ELEMENT.lastIndex = 0;
  for (let m = VERSION_ELEMENT.exec(pom); m; m = VERSION_ELEMENT.exec(pom)) {
    const insideParent = parent !== null && m.index > parent.index && m.index < parent.index + parent[0].length;
    if (insideParent) continue;
    const start = m.index + m[0].indexOf(m[1]!, '<version>'.length);
    return { start, end: start + m[1]!.length };
  }
  throw missing(path, 'a <version> element');
}

/** The string value of the top-level `"version"` key of a JSON object, found by a scan that skips nested values. */
function npmSpan(json: string, path: string): Span {
  let depth = 0;
  let lastKeyAtTop: { text: string; end: number } | undefined;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const text = json.slice(i + 1, j);
      const afterColon = /^\s*:/.test(json.slice(j + 1, j + 40));
      if (depth === 1 && afterColon) lastKeyAtTop = { text, end: j + 1 };
      else if (depth === 1 && lastKeyAtTop?.text === 'version' && /^\s*:\s*$/.test(json.slice(lastKeyAtTop.end, i)))
        return { start: i + 1, end: j };
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  throw missing(path, 'a top-level "version": "…" string');
}

/** The value of the `version` property of a .properties file (`version=1.2.3`, `version: 1.2.3`, `version 1.2.3`). */
function gradleSpan(text: string, path: string): Span {
  const m = /^([ \t]*version[ \t]*[=: \t][ \t]*)(\S(?:.*\S)?)[ \t]*\r?$/m.exec(text);
  if (!m) throw missing(path, 'a version= property');
  const start = m.index + m[1]!.length;
  return { start, end: start + m[2]!.length };
}

/** The whole file but its surrounding whitespace (the trailing newline stays). */
function plainSpan(text: string, path: string): Span {
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  if (end <= start || /\s/.test(text.slice(start, end))) throw missing(path, 'one version and nothing else');
  return { start, end };
}

/**
 * The next version: the last number of its leading dotted numbers increments, everything after them (`-SNAPSHOT`,
 * `-rc1`, `+build.5`) and a leading `v` are kept: `1.0.36-SNAPSHOT` → `1.0.37-SNAPSHOT`, `v2.7` → `v2.8`.
 */
export function nextVersion(version: string, path = 'versionFile'): string {
  const m = /^(v?(?:\d+\.)*)(\d+)(.*)$/.exec(version);
  if (!m || (m[3] !== '' && /^[.\d]/.test(m[3]!)))
    throw new ValidationError(
      'versionFile',
      `must declare a numeric version (found ${JSON.stringify(version)})`,
      `${path} must declare a numeric version like 1.2.3 or 1.2.3-SNAPSHOT (found ${JSON.stringify(version)}); fix the file`,
    );
  return `${m[1]}${String(Number(m[2]) + 1)}${m[3]}`;
}

const SPANS: Readonly<Record<Exclude<VersionFormat, 'none'>, (text: string, path: string) => Span>> = {
  maven: mavenSpan,
  npm: npmSpan,
  gradle: gradleSpan,
  plain: plainSpan,
};

/** The version the file declares. */
export function readVersion(format: Exclude<VersionFormat, 'none'>, content: string, path: string): string {
  const span = SPANS[format](content, path);
  return content.slice(span.start, span.end);
}

/** The file with its version raised; everything else byte for byte the same. */
export function bumpVersion(
  format: Exclude<VersionFormat, 'none'>,
  content: string,
  path: string,
): { content: string; from: string; to: string } {
  const span = SPANS[format](content, path);
  const from = content.slice(span.start, span.end);
  const to = nextVersion(from, path);
  return { content: content.slice(0, span.start) + to + content.slice(span.end), from, to };
}
