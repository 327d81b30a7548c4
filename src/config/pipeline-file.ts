/**
 * The pipeline file (`--pipeline FILE`, SHEPHERD_PIPELINE): a YAML declaration of the environments, the apps and
 * how promotions run, checked with zod like the rest of the configuration. Every problem is reported at once, each
 * with its path in the file (`environments[2].branch`) and its line. The same schema is published as a JSON Schema
 * (`schema/pipeline.schema.json`, `npm run docs:schema`) so that editors complete and check the file.
 *
 * With no file, `seedPipeline` writes the seed's installation out from the `infra.env` variables, so that Shepherd
 * behaves exactly as it did before pipelines were declared.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import {
  cueIdentifier,
  fillTemplate,
  imageFilesFor,
  seedImageDeclarations,
  SEED_BRANCH_TEMPLATES,
  SEED_PROMOTE_PARAMETERS,
  VERSION_FILES,
  VERSION_FORMATS,
  type DeclaredCluster,
  type DeclaredEnvironment,
  type DeclaredPipeline,
  type ImageDeclaration,
  type PipelineLayout,
} from '../domain/pipeline.js';

const KUBE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const WEEKLY_POINT = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([01]\d|2[0-3]):[0-5]\d$/;
const DATE_OR_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const name = z
  .string()
  .regex(KUBE_NAME, 'must be lowercase letters, digits and "-", starting and ending with a letter or digit')
  .max(53, 'must be at most 53 characters');
const text = z.string().min(1, 'must not be empty');
const projectPath = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, 'must be a GitLab project path such as group/project');
/** A Jenkins job path: `folder/job` or a list of segments. */
const jobPath = z.union([text, z.array(text).min(1)]).describe('A Jenkins job path: "folder/job" or ["folder", "job"]');
const relativePath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the repository');

const freezeSpan = (point: z.ZodString, pointRule: string) =>
  z
    .object({
      from: point.describe(`Start: ${pointRule}`),
      to: point.describe(`End: ${pointRule}`),
      reason: z.string().optional().describe('Said in status, reports and notifications'),
    })
    .strict();

const freeze = z
  .object({
    timeZone: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC')
      .default('UTC')
      .describe('The time zone the weekly windows and the dates are read in (IANA name; default UTC)'),
    weekly: z
      .array(freezeSpan(z.string().regex(WEEKLY_POINT, 'must be a day and time such as "Fri 16:00"'), '"Fri 16:00"'))
      .default([])
      .describe('Windows that recur every week, e.g. from "Fri 16:00" to "Mon 08:00"'),
    dates: z
      .array(
        freezeSpan(
          z.string().regex(DATE_OR_INSTANT, 'must be a date (2026-12-24) or an ISO instant'),
          'a date (whole day) or an ISO instant',
        ),
      )
      .default([])
      .describe('One-off windows: from the start of `from` to the end of `to` (dates), or between two instants'),
    policy: z
      .enum(['wait', 'refuse'])
      .default('wait')
      .describe('wait: a promotion waits before its merge until the window closes; refuse: it fails at once'),
  })
  .strict();

const approval = z
  .object({
    required: z.boolean().default(false).describe('Whether a promotion into this environment waits for an approval'),
    approvers: z
      .array(text)
      .default([])
      .describe('Who may approve (Temporal approvals: the names the approve update may give); empty: anyone'),
  })
  .strict();

const environment = z
  .object({
    name: name.describe('The environment name used on the command line, in reports and in templates as {env}'),
    branch: text
      .optional()
      .describe('The deployments-repo branch Argo CD tracks for it (default: its name, or deployments.branch)'),
    directory: relativePath
      .optional()
      .describe('Directory layouts: the folder of its files in the deployments repo, on `branch`'),
    namespace: name.optional().describe('Its Kubernetes namespace (default: its name)'),
    argoApp: text
      .optional()
      .describe('Its Argo CD Application, a template with {app} and {env} (default "{app}-{env}")'),
    cluster: text.optional().describe('The cluster (a key of `clusters`) its workload runs on; default: Argo CD’s'),
    approval: approval.optional(),
    freeze: freeze.optional().describe('Freeze windows: no promotion merges into it while one is open'),
    manualSync: z
      .boolean()
      .default(false)
      .describe('Its Applications have no automated sync: Shepherd starts the sync after each merge'),
  })
  .strict();

const imageDeclaration = z.discriminatedUnion('format', [
  z
    .object({
      format: z.literal('cue').describe('The seed’s env.cue: {env}: {cueName}: image: "…"'),
      file: relativePath,
    })
    .strict(),
  z
    .object({
      format: z.literal('yaml').describe('A Kubernetes manifest: the image of a container'),
      file: relativePath,
      container: text.optional().describe('The container (default: the app’s container)'),
    })
    .strict(),
  z
    .object({
      format: z.literal('kustomize').describe('A kustomization.yaml `images:` entry (newTag, or digest)'),
      file: relativePath,
      name: text.optional().describe('The entry’s `name` (default: the image repository {registry}/{group}/{app})'),
    })
    .strict(),
  z
    .object({
      format: z.literal('helm').describe('A Helm values file: the tag at a dotted key path'),
      file: relativePath,
      key: text.describe('Dotted path of the tag, e.g. image.tag'),
      repositoryKey: text.optional().describe('Dotted path of the repository, when the values carry it'),
    })
    .strict(),
]);

const app = z
  .object({
    name: name.describe('The app: its name in commands, workflow ids, reports and templates as {app}'),
    project: projectPath.optional().describe('Its GitLab project (default: {group}/{name})'),
    ci: z
      .object({ job: jobPath.describe('Its CI job (default: "{name}/main")') })
      .strict()
      .optional(),
    repoUrls: z
      .array(text)
      .optional()
      .describe('The app repo URLs its CI job clones (Jenkins BuildData); default: by the project path'),
    version: z
      .object({
        format: z
          .enum(VERSION_FORMATS)
          .default('maven')
          .describe(
            'maven: pom.xml <version>; npm: package.json "version"; gradle: gradle.properties version=; plain: a VERSION file; none: an empty commit',
          ),
        file: relativePath.optional().describe('The version file (default: pom.xml, package.json, …)'),
      })
      .strict()
      .optional(),
    workload: z
      .object({
        deployment: name.optional().describe('Its Deployment (default: the app name)'),
        container: text.optional().describe('The container whose image is verified (default: the app name)'),
      })
      .strict()
      .optional(),
    image: z
      .array(imageDeclaration)
      .min(1, 'must declare at least one place')
      .optional()
      .describe('Where its image is declared in each environment’s files (default: the seed’s env.cue and manifest)'),
  })
  .strict();

const jenkinsParameters = z
  .object({
    app: text.default(SEED_PROMOTE_PARAMETERS.app),
    source: text.default(SEED_PROMOTE_PARAMETERS.source),
    target: text.default(SEED_PROMOTE_PARAMETERS.target),
    tag: text.default(SEED_PROMOTE_PARAMETERS.tag),
  })
  .strict();

/** The pipeline file's schema. */
export const PIPELINE_FILE_SCHEMA = z
  .object({
    $schema: z.string().optional(),
    name: text.default('pipeline').describe('Shown in reports and summaries'),
    deployments: z
      .object({
        project: projectPath.optional().describe('The deployments repo (default: DEPLOYMENTS_REPO_PATH)'),
        branch: text.optional().describe('The branch of directory layouts (default: main)'),
      })
      .strict()
      .optional(),
    registry: z
      .object({
        host: text.optional().describe('The registry host (default: DOCKER_REGISTRY_EXTERNAL)'),
        group: text.optional().describe('The image group (default: the deployments project’s group)'),
      })
      .strict()
      .optional(),
    argocd: z
      .object({ namespace: name.optional().describe('Where the Applications live (default: ARGOCD_NAMESPACE)') })
      .strict()
      .optional(),
    clusters: z
      .record(
        name,
        z
          .object({
            kubeconfig: text.optional().describe('Kubeconfig file (default: KUBECONFIG)'),
            context: text.optional().describe('Context in it (default: its current context)'),
          })
          .strict(),
      )
      .default({})
      .describe('Clusters environments run on, by name'),
    environments: z
      .array(environment)
      .min(2, 'must list at least two environments, in promotion order')
      .describe('In promotion order: the first receives CI’s builds, each next one what the previous proved'),
    apps: z.array(app).min(1, 'must list at least one app'),
    promotion: z
      .object({
        mode: z
          .enum(['jenkins', 'gitlab'])
          .default('jenkins')
          .describe('jenkins: run the promote job; gitlab: open the MR through the API'),
        job: jobPath.optional().describe('The promote job (default: JENKINS_PROMOTE_JOB_NAME)'),
        parameters: jenkinsParameters.optional().describe('The promote job’s parameter names'),
        branches: z
          .object({
            dev: text
              .default(SEED_BRANCH_TEMPLATES.dev)
              .describe('The branch CI opens into the first environment ({tag})'),
            promotion: text
              .default(SEED_BRANCH_TEMPLATES.promotion)
              .describe('The branch of a promotion MR ({app}, {source}, {target}, {tag})'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ mode: 'jenkins' }),
  })
  .strict()
  // The rules across entries run even when some entry is malformed, so that a file lists every problem at once.
  .superRefine((file, ctx) => problemsAcrossEntries(file, ctx), {
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  });

type Loose = Record<string, unknown>;
const entries = (value: unknown): Loose[] =>
  Array.isArray(value) ? value.map((v) => (typeof v === 'object' && v !== null ? (v as Loose) : {})) : [];
const stringOr = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The rules no single entry can check: repeated environment and app names, clusters `clusters` does not declare,
 * two environments sharing their files. Reads the file loosely: it also runs on a file whose entries are malformed.
 */
function problemsAcrossEntries(file: unknown, ctx: z.RefinementCtx): void {
  const root = file as Loose;
  const environments = entries(root['environments']);
  const clusters = typeof root['clusters'] === 'object' && root['clusters'] !== null ? (root['clusters'] as Loose) : {};
  const seen = new Map<string, number>();
  environments.forEach((e, i) => {
    const envName = stringOr(e['name']);
    if (envName !== undefined && seen.has(envName))
      ctx.addIssue({ code: 'custom', path: ['environments', i, 'name'], message: `repeats environment "${envName}"` });
    if (envName !== undefined) seen.set(envName, i);
    const cluster = stringOr(e['cluster']);
    if (cluster !== undefined && !Object.hasOwn(clusters, cluster))
      ctx.addIssue({
        code: 'custom',
        path: ['environments', i, 'cluster'],
        message: `names cluster "${cluster}", which \`clusters\` does not declare`,
      });
  });
  const places = new Map<string, number>();
  environments.forEach((e, i) => {
    const directory = stringOr(e['directory']);
    const key = `${stringOr(e['branch']) ?? (directory ? '' : stringOr(e['name']))}\u0000${directory ?? ''}`;
    if (places.has(key))
      ctx.addIssue({
        code: 'custom',
        path: ['environments', i, directory ? 'directory' : 'branch'],
        message: `shares its files with environments[${places.get(key)}]: give each environment its own branch or directory`,
      });
    places.set(key, i);
  });
  const apps = new Set<string>();
  entries(root['apps']).forEach((a, i) => {
    const appName = stringOr(a['name']);
    if (appName === undefined) return;
    if (apps.has(appName))
      ctx.addIssue({ code: 'custom', path: ['apps', i, 'name'], message: `repeats app "${appName}"` });
    apps.add(appName);
    const version = typeof a['version'] === 'object' && a['version'] !== null ? (a['version'] as Loose) : {};
    if (version['format'] === 'none' && version['file'] !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['apps', i, 'version', 'file'],
        message: 'must be absent with format none (the bump is an empty commit)',
      });
  });
}

export type PipelineFile = z.infer<typeof PIPELINE_FILE_SCHEMA>;

/** One problem of a pipeline file: where (`environments[2].branch`, line) and what. */
export interface PipelineProblem {
  readonly path: string;
  readonly line: number | undefined;
  readonly message: string;
}

export class PipelineFileError extends Error {
  override readonly name = 'PipelineFileError';
  constructor(
    readonly file: string,
    readonly problems: readonly PipelineProblem[],
  ) {
    super(
      `the pipeline file ${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.path}${p.line !== undefined ? ` (line ${p.line})` : ''}: ${p.message}`).join('\n') +
        '\nWhat to do: fix each one (the README\'s "Pipeline file" section describes every field; schema/pipeline.schema.json lets an editor check the file as you type).',
    );
  }
}

/** `['environments', 2, 'branch']` → `environments[2].branch`. */
export function problemPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path)
    out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out === '' ? '(the file)' : out;
}

/** What the seed's installation supplies when the file leaves a field out (from `infra.env`, ShepherdConfig). */
export interface PipelineDefaults {
  readonly group: string;
  readonly deploymentsProject: string;
  readonly registry: string;
  readonly argocdNamespace: string;
  readonly promoteJob: readonly string[];
  readonly bump: { readonly via: 'auto' | 'push' | 'merge-request'; readonly branch: string | undefined };
  readonly autoMerge: boolean;
}

/** Reads, parses and checks a pipeline file; throws PipelineFileError listing every problem. */
export function loadPipelineFile(path: string, defaults: PipelineDefaults, cwd = process.cwd()): DeclaredPipeline {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PipelineFileError(file, [
      { path: '(the file)', line: undefined, message: `cannot be read: ${(err as Error).message}` },
    ]);
  }
  return parsePipeline(text, defaults, file);
}

/** Parses and checks a pipeline file's text (`source` names it in errors). */
export function parsePipeline(text: string, defaults: PipelineDefaults, source = 'pipeline file'): DeclaredPipeline {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0)
    throw new PipelineFileError(
      source,
      doc.errors.map((e) => ({
        path: '(YAML)',
        line: e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  const parsed = PIPELINE_FILE_SCHEMA.safeParse(doc.toJS());
  if (!parsed.success) {
    const lineOf = (path: readonly PropertyKey[]): number | undefined => {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
        if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
      }
      return undefined;
    };
    throw new PipelineFileError(
      source,
      parsed.error.issues
        .flatMap((issue) =>
          // An unknown key is named where it stands, one problem each.
          issue.code === 'unrecognized_keys'
            ? issue.keys.map((key) => {
                const at = [...issue.path, key];
                return { path: problemPath(at), line: lineOf(at), message: 'is not a field of the pipeline file here' };
              })
            : [{ path: problemPath(issue.path), line: lineOf(issue.path), message: issue.message }],
        )
        .sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    );
  }
  return resolvePipeline(parsed.data, defaults);
}

const segments = (job: string | readonly string[]): string[] =>
  typeof job === 'string' ? job.split('/').filter((s) => s !== '') : [...job];

/** The checked file, with every default filled in: what activities, workflows and the sandbox work with. */
export function resolvePipeline(file: PipelineFile, defaults: PipelineDefaults): DeclaredPipeline {
  const deploymentsProject = file.deployments?.project ?? defaults.deploymentsProject;
  const group = file.registry?.group ?? deploymentsProject.split('/').slice(0, -1).join('/');
  const sharedBranch = file.deployments?.branch ?? 'main';
  const environments: DeclaredEnvironment[] = file.environments.map((e) => ({
    name: e.name,
    branch: e.branch ?? (e.directory ? sharedBranch : e.name),
    ...(e.directory ? { directory: e.directory.replace(/\/+$/, '') } : {}),
    namespace: e.namespace ?? e.name,
    argoApp: e.argoApp ?? '{app}-{env}',
    ...(e.cluster ? { cluster: e.cluster } : {}),
    approval: { required: e.approval?.required ?? false, approvers: e.approval?.approvers ?? [] },
    ...(e.freeze
      ? {
          freeze: {
            timeZone: e.freeze.timeZone,
            weekly: e.freeze.weekly,
            dates: e.freeze.dates,
            policy: e.freeze.policy,
          },
        }
      : {}),
    manualSync: e.manualSync,
  }));
  const order = environments.map((e) => e.name);
  const promoteJob = file.promotion.job ? segments(file.promotion.job) : [...defaults.promoteJob];
  const apps: PipelineLayout[] = file.apps.map((a) => {
    const cueName = cueIdentifier(a.name);
    const format = a.version?.format ?? 'maven';
    const declarations: ImageDeclaration[] = a.image
      ? a.image.map((d) => ({ ...d }) as ImageDeclaration)
      : seedImageDeclarations(cueName);
    return {
      app: { name: a.name, cueName },
      environmentOrder: order,
      gitlab: {
        appProject: a.project ?? `${defaults.group}/${a.name}`,
        deploymentsProject,
        versionFile: a.version?.file ?? VERSION_FILES[format] ?? '',
        versionFormat: format,
        imageFiles: a.image ? declarations.map((d) => d.file) : imageFilesFor(cueName),
        imageDeclarations: declarations,
        branches: {
          dev: file.promotion.branches?.dev ?? SEED_BRANCH_TEMPLATES.dev,
          promotion: file.promotion.branches?.promotion ?? SEED_BRANCH_TEMPLATES.promotion,
        },
        autoMerge: defaults.autoMerge,
        bump: defaults.bump,
      },
      jenkins: {
        appJob: a.ci ? segments(a.ci.job) : [a.name, 'main'],
        promoteJob,
        promoteParameters: file.promotion.parameters ?? SEED_PROMOTE_PARAMETERS,
        appRepoUrls: a.repoUrls ?? [],
      },
      argocdNamespace: file.argocd?.namespace ?? defaults.argocdNamespace,
      argocdManualSync: environments.filter((e) => e.manualSync).map((e) => e.name),
      environments: Object.fromEntries(
        environments.map((e) => [
          e.name,
          {
            namespace: e.namespace,
            branch: e.branch,
            ...(e.directory ? { directory: e.directory } : {}),
            argoApp: fillTemplate(e.argoApp, { app: a.name, env: e.name }),
            ...(e.cluster ? { cluster: e.cluster } : {}),
            ...(e.freeze ? { freeze: e.freeze } : {}),
          },
        ]),
      ),
      registry: { external: file.registry?.host ?? defaults.registry, group },
      degradedGraceSeconds: 30,
      stabilitySeconds: 10,
      workload: { deployment: a.workload?.deployment ?? a.name, container: a.workload?.container },
    };
  });
  const clusters: Record<string, DeclaredCluster> = {};
  for (const [key, c] of Object.entries(file.clusters))
    clusters[key] = {
      ...(c.kubeconfig ? { kubeconfig: c.kubeconfig } : {}),
      ...(c.context ? { context: c.context } : {}),
    };
  return { name: file.name, environments, clusters, apps, promotion: { mode: file.promotion.mode } };
}

/** The JSON Schema of the pipeline file, for editors (`schema/pipeline.schema.json`). */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PIPELINE_FILE_SCHEMA, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://shepherd.dev/schema/pipeline.schema.json',
    title: 'Shepherd pipeline',
    description: 'The environments, apps and promotion of a Shepherd pipeline (README: "Pipeline file").',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** Where the published JSON Schema lives in the repository (examples point editors at it). */
export const PIPELINE_SCHEMA_FILE = 'schema/pipeline.schema.json';

/** The text of `schema/pipeline.schema.json`: the schema, two-space indented, ending in a newline. */
export function pipelineJsonSchemaText(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}
