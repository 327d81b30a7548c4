/**
 * The parts of Jenkins' remote-API JSON that Shepherd reads, and their plain shapes. Loose objects: Jenkins and its
 * plugins add fields and action types freely, and `actions[]` mixes many classes (some empty), so nothing relies on
 * array positions; a field we depend on that is missing fails loudly at the edge instead.
 */
import { z } from 'zod';

export const BUILD_RESULTS = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED'] as const;
export type JenkinsBuildResult = (typeof BUILD_RESULTS)[number];

/** `{name, value}` of a ParametersAction; boolean parameters carry a boolean. */
const ParameterValueSchema = z.looseObject({ name: z.string(), value: z.unknown().optional() });

/** The ParametersAction entry of `actions[]`. */
const ParametersActionSchema = z.looseObject({ parameters: z.array(ParameterValueSchema) });
/**
 * The git plugin's BuildData entry of `actions[]`: the commit one checkout built and the remotes it came from. A
 * build has one per distinct checkout (a Pipeline shared library or a second repository adds more).
 */
const BuildDataActionSchema = z.looseObject({
  lastBuiltRevision: z.looseObject({ SHA1: z.string() }),
  remoteUrls: z.array(z.string()).optional(),
});
/** branch-api's SCMRevisionAction entry: the revision a multibranch branch job built (`revision.hash` for git). */
const ScmRevisionActionSchema = z.looseObject({
  _class: z.literal('jenkins.scm.api.SCMRevisionAction'),
  revision: z.looseObject({ hash: z.string().optional(), head: z.looseObject({ name: z.string() }).optional() }),
});
/** Entries are read one by one (below): an action of another plugin that happens to reuse a name cannot break parsing. */
const ActionsSchema = z.array(z.unknown()).optional();

export const BuildSchema = z.looseObject({
  number: z.number().int(),
  url: z.string(),
  queueId: z.number().int().optional(),
  building: z.boolean(),
  result: z.enum(BUILD_RESULTS).nullable(),
  timestamp: z.number(),
  duration: z.number(),
  actions: ActionsSchema,
});

export const JobBuildsSchema = z.looseObject({
  builds: z.array(BuildSchema).optional(),
});

const QUEUE_ITEM_CLASSES = {
  'hudson.model.Queue$WaitingItem': 'waiting',
  'hudson.model.Queue$BlockedItem': 'blocked',
  'hudson.model.Queue$BuildableItem': 'buildable',
  'hudson.model.Queue$LeftItem': 'left',
} as const;
export type QueueItemState = (typeof QUEUE_ITEM_CLASSES)[keyof typeof QUEUE_ITEM_CLASSES];

export const QueueItemSchema = z.looseObject({
  _class: z.string(),
  id: z.number().int(),
  why: z.string().nullable().optional(),
  inQueueSince: z.number(),
  cancelled: z.boolean().optional(),
  executable: z.looseObject({ number: z.number().int(), url: z.string() }).nullable().optional(),
  task: z.looseObject({ url: z.string().optional() }).optional(),
  actions: ActionsSchema,
});

export const QueueSchema = z.looseObject({ items: z.array(QueueItemSchema) });

export const CrumbSchema = z.looseObject({ crumb: z.string(), crumbRequestField: z.string() });

/** A build as Shepherd sees it. */
export interface JenkinsBuild {
  readonly number: number;
  /** Absolute, with a trailing slash. */
  readonly url: string;
  /** The queue item the build came from; absent on very old builds. */
  readonly queueId: number | undefined;
  readonly building: boolean;
  /** Undefined while building. */
  readonly result: JenkinsBuildResult | undefined;
  /** Start time, epoch ms (Jenkins' clock). */
  readonly timestamp: number;
  /** 0 while building. */
  readonly durationMs: number;
  /** Parameter values as strings (`true`/`false` for booleans). */
  readonly parameters: Readonly<Record<string, string>>;
  /** Every checkout's BuildData (`lastBuiltRevision.SHA1` and `remoteUrls`), in the build's order; empty until checkout. */
  readonly checkouts: readonly GitCheckout[];
  /** The multibranch SCMRevisionAction's `revision.hash`: the commit a branch job was started for. */
  readonly scmRevision: string | undefined;
}

/** One BuildData: the commit a checkout built and the remote URLs it was fetched from. */
export interface GitCheckout {
  readonly sha: string;
  readonly remoteUrls: readonly string[];
}

/** A queue item as Shepherd sees it. */
export interface JenkinsQueueItem {
  readonly id: number;
  /** `left` once it started a build or was cancelled. */
  readonly state: QueueItemState | 'unknown';
  /** Why it still waits; undefined once left. */
  readonly why: string | undefined;
  /** Epoch ms (Jenkins' clock). */
  readonly inQueueSince: number;
  readonly cancelled: boolean;
  /** The build it became, once started. */
  readonly executable: { readonly number: number; readonly url: string } | undefined;
  readonly parameters: Readonly<Record<string, string>>;
  /** Absolute URL of the job the item belongs to. */
  readonly taskUrl: string | undefined;
}

type Actions = z.infer<typeof ActionsSchema>;

function parametersOf(actions: Actions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const action of actions ?? []) {
    const parsed = ParametersActionSchema.safeParse(action);
    if (!parsed.success) continue;
    for (const p of parsed.data.parameters) {
      if (p.value !== undefined && p.value !== null) out[p.name] = String(p.value);
    }
  }
  return out;
}

function checkoutsOf(actions: Actions): GitCheckout[] {
  const out: GitCheckout[] = [];
  for (const action of actions ?? []) {
    const parsed = BuildDataActionSchema.safeParse(action);
    if (parsed.success) out.push({ sha: parsed.data.lastBuiltRevision.SHA1, remoteUrls: parsed.data.remoteUrls ?? [] });
  }
  return out;
}

function scmRevisionOf(actions: Actions): string | undefined {
  for (const action of actions ?? []) {
    const parsed = ScmRevisionActionSchema.safeParse(action);
    if (parsed.success && parsed.data.revision.hash !== undefined) return parsed.data.revision.hash;
  }
  return undefined;
}

export function toBuild(raw: z.infer<typeof BuildSchema>): JenkinsBuild {
  return {
    number: raw.number,
    url: raw.url,
    queueId: raw.queueId,
    building: raw.building,
    result: raw.result ?? undefined,
    timestamp: raw.timestamp,
    durationMs: raw.duration,
    parameters: parametersOf(raw.actions),
    checkouts: checkoutsOf(raw.actions),
    scmRevision: scmRevisionOf(raw.actions),
  };
}

export function toQueueItem(raw: z.infer<typeof QueueItemSchema>): JenkinsQueueItem {
  const state = (QUEUE_ITEM_CLASSES as Record<string, QueueItemState>)[raw._class] ?? 'unknown';
  return {
    id: raw.id,
    state,
    why: raw.why ?? undefined,
    inQueueSince: raw.inQueueSince,
    cancelled: raw.cancelled === true,
    executable: raw.executable ? { number: raw.executable.number, url: raw.executable.url } : undefined,
    parameters: parametersOf(raw.actions),
    taskUrl: raw.task?.url,
  };
}

/**
 * The fields of a build `toBuild` reads. Nested action fields are named explicitly: whether Jenkins renders
 * `SCMRevisionAction.revision` at the default depth is not documented (real-installations.md §6.3).
 */
export const BUILD_TREE =
  'number,url,queueId,building,result,timestamp,duration,actions[_class,parameters[name,value],lastBuiltRevision[SHA1],remoteUrls,revision[_class,hash,head[name]]]';

/** The `tree=` that fetches, in one request, what `toBuild` needs for the newest `limit` builds of a job. */
export function buildsTree(limit: number): string {
  return `builds[${BUILD_TREE}]{0,${limit}}`;
}
