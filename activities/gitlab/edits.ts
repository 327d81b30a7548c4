/**
 * The names and messages the GitLab activities rely on, as pure functions: the bump commit's message and the run
 * marker trailer, the image reference env branches declare, and the branch names of the merge requests CI, the
 * promote job and Shepherd open (from the layout's templates). The file formats themselves (image declarations,
 * version files) live in `./declarations/`. No I/O, so they are easy to test on their own.
 */
import type { Environment } from '../../src/domain/environments.js';
import {
  environmentOrderOf,
  fillTemplate,
  SEED_BRANCH_TEMPLATES,
  type PipelineLayout,
} from '../../src/domain/pipeline.js';

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

/** `{registry}/{group}/{app}:{tag}`, the reference env branches declare. */
export function imageReference(
  registry: { readonly external: string; readonly group: string },
  app: string,
  tag: string,
): string {
  return `${registry.external}/${registry.group}/${app}:${tag}`;
}

// ── branch names ────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The template of the branch whose MR deploys an image to `env`: the `dev` template for the pipeline's first
 * environment (CI opens it), the `promotion` template for the others (the promote job, or Shepherd, opens it).
 */
function deployTemplate(layout: Pick<PipelineLayout, 'gitlab' | 'environmentOrder'>, env: Environment): string {
  const templates = layout.gitlab.branches ?? SEED_BRANCH_TEMPLATES;
  return environmentOrderOf(layout)[0] === env ? templates.dev : templates.promotion;
}

/** The values a deploy branch's template knows before the tag: the app, the target and the source environment. */
function knownValues(
  layout: Pick<PipelineLayout, 'gitlab' | 'environmentOrder' | 'app'>,
  env: Environment,
): Record<string, string> {
  const order = environmentOrderOf(layout);
  const source = order[order.indexOf(env) - 1];
  return { app: layout.app.name, target: env, env, ...(source !== undefined ? { source } : {}) };
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * How to recognise the branch of the MR that deploys to `env`: by the tag (the exact name), by the version (CI's
 * tags start with `{version}-`, so `{tag}` matches `{version}-…`), or by any tag. `prefix` is the literal start of
 * the name, `describe` the name with `*` for what is not known.
 */
export interface DeployBranchMatcher {
  readonly exact?: string;
  readonly prefix: string;
  readonly describe: string;
  matches(branch: string): boolean;
}

export function deployBranchMatcher(
  layout: Pick<PipelineLayout, 'gitlab' | 'environmentOrder' | 'app'>,
  env: Environment,
  by: {
    readonly imageTag?: string | undefined;
    readonly version?: string | undefined;
    /** No version (an app without a version file): CI's tag ends with the commit's short hash. */
    readonly commitSha?: string | undefined;
  } = {},
): DeployBranchMatcher {
  const values: Record<string, string | undefined> = {
    ...knownValues(layout, env),
    ...(by.imageTag !== undefined ? { tag: by.imageTag } : {}),
    ...(by.version !== undefined ? { version: by.version } : {}),
  };
  const template = deployTemplate(layout, env);
  const parts = template.split(/(\{[a-zA-Z]+\})/).filter((p) => p !== '');
  let pattern = '';
  let describe = '';
  let literal = true;
  let prefix = '';
  for (const part of parts) {
    const key = /^\{([a-zA-Z]+)\}$/.exec(part)?.[1];
    let text: string | undefined = key === undefined ? part : values[key];
    let wild = false;
    if (key === 'tag' && text === undefined && by.version === undefined && by.commitSha !== undefined) {
      const short = by.commitSha.slice(0, 7).toLowerCase();
      pattern += `.+-${escapeRegExp(short)}[0-9a-f]*`;
      describe += `*-${short}`;
      literal = false;
      continue;
    }
    if (key === 'tag' && text === undefined && by.version !== undefined && !template.includes('{version}')) {
      pattern += `${escapeRegExp(by.version)}-.+`;
      describe += `${by.version}-*`;
      if (literal) prefix += `${by.version}-`;
      literal = false;
      continue;
    }
    if (text === undefined) {
      wild = true;
      text = '*';
    }
    pattern += wild ? '.+' : escapeRegExp(text);
    describe += text;
    if (wild) literal = false;
    else if (literal) prefix += text;
  }
  const regex = new RegExp(`^${pattern}$`);
  return {
    ...(literal ? { exact: describe } : {}),
    prefix,
    describe,
    matches: (branch) => regex.test(branch),
  };
}

/** The branch a promotion of `tag` into `target` opens its MR from (the layout's `promotion` template). */
export function promotionBranch(
  layout: Pick<PipelineLayout, 'gitlab' | 'environmentOrder' | 'app'>,
  target: Environment,
  tag: string,
  source?: Environment,
): string {
  const templates = layout.gitlab.branches ?? SEED_BRANCH_TEMPLATES;
  return fillTemplate(templates.promotion, {
    ...knownValues(layout, target),
    ...(source !== undefined ? { source } : {}),
    tag,
  });
}

export function revertBranch(env: Environment, iid: number): string {
  return `revert-${env}-${iid}`;
}

/**
 * Branches a run (or CI, or the promote job for it) opens, and only those may be deleted by Shepherd: the literal
 * starts of the layout's dev and promotion templates (a template that starts with a placeholder other than `{app}`
 * contributes none), and `revert-`.
 */
export function runBranchPrefixes(layout: Pick<PipelineLayout, 'gitlab' | 'app'>): string[] {
  const templates = layout.gitlab.branches ?? SEED_BRANCH_TEMPLATES;
  const literalStart = (template: string): string => {
    const filled = fillTemplate(template, { app: layout.app.name });
    const brace = filled.indexOf('{');
    return brace < 0 ? filled : filled.slice(0, brace);
  };
  const prefixes = [literalStart(templates.dev), literalStart(templates.promotion), 'revert-'];
  return [...new Set(prefixes.filter((p) => p !== ''))];
}

/** The image tag the branch of an MR deploying to `env` carries (its template's `{tag}`), if it is such a branch. */
export function tagOfBranch(
  layout: Pick<PipelineLayout, 'gitlab' | 'environmentOrder' | 'app'>,
  branch: string,
  env: Environment,
): string | undefined {
  const template = deployTemplate(layout, env);
  const values = knownValues(layout, env);
  let pattern = '';
  for (const part of template.split(/(\{[a-zA-Z]+\})/).filter((p) => p !== '')) {
    const key = /^\{([a-zA-Z]+)\}$/.exec(part)?.[1];
    if (key === 'tag') pattern += '(?<tag>.+)';
    else if (key === undefined) pattern += escapeRegExp(part);
    else pattern += values[key] !== undefined ? escapeRegExp(values[key]) : '.+?';
  }
  return new RegExp(`^${pattern}$`).exec(branch)?.groups?.tag;
}
