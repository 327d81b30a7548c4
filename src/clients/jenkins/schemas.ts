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
/** The git plugin's BuildData entry of `actions[]`: the commit the build checked out. */
const BuildDataActionSchema = z.looseObject({ lastBuiltRevision: z.looseObject({ SHA1: z.string() }) });
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
  /** The commit the git plugin recorded as built (`lastBuiltRevision.SHA1`), once checked out. */
  readonly revision: string | undefined;
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

function revisionOf(actions: Actions): string | undefined {
  for (const action of actions ?? []) {
    const parsed = BuildDataActionSchema.safeParse(action);
    if (parsed.success) return parsed.data.lastBuiltRevision.SHA1;
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
    revision: revisionOf(raw.actions),
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

/** The `tree=` that fetches, in one request, what `toBuild` needs for the newest `limit` builds of a job. */
export function buildsTree(limit: number): string {
  return `builds[number,url,queueId,building,result,timestamp,duration,actions[parameters[name,value],lastBuiltRevision[SHA1]]]{0,${limit}}`;
}
