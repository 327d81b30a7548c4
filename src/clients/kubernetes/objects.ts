/**
 * What Shepherd reads from Deployments, Pods and Argo CD Applications, parsed with zod (unknown fields dropped,
 * zero-valued status counts defaulted, unknown Argo CD statuses kept as `Unknown`). The typed Kubernetes models
 * arrive with Date objects; the Application arrives as plain JSON.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative().optional().default(0);

const ContainerSpec = z.object({ name: z.string(), image: z.string().optional().default('') });

/** `spec.selector` of a Deployment or ReplicaSet (a LabelSelector: matchLabels AND every matchExpression). */
const LabelSelectorSchema = z
  .object({
    matchLabels: z.record(z.string(), z.string()).nullish(),
    matchExpressions: z
      .array(
        z.object({
          key: z.string(),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string()).nullish(),
        }),
      )
      .nullish(),
  })
  .optional()
  .default({});

/** A LabelSelector as Shepherd keeps it. */
export interface LabelSelectorView {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values: readonly string[];
  }[];
}

function labelSelectorView(raw: z.infer<typeof LabelSelectorSchema>): LabelSelectorView {
  return {
    matchLabels: raw.matchLabels ?? {},
    matchExpressions: (raw.matchExpressions ?? []).map((e) => ({ ...e, values: e.values ?? [] })),
  };
}

/**
 * The selector in the string form of the `labelSelector` query parameter (`a=b,c in (x,y),!d`), as
 * `metav1.LabelSelectorAsSelector` writes it. An empty selector selects everything (an empty string).
 */
export function labelSelectorString(selector: LabelSelectorView): string {
  const parts = Object.entries(selector.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions) {
    if (e.operator === 'In') parts.push(`${e.key} in (${[...e.values].sort().join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${[...e.values].sort().join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Whether `labels` satisfy the selector: every matchLabels pair and every matchExpression. */
export function selectorMatches(selector: LabelSelectorView, labels: Readonly<Record<string, string>>): boolean {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
  if (Object.entries(selector.matchLabels).some(([k, v]) => labels[k] !== v || !has(k))) return false;
  return selector.matchExpressions.every((e) => {
    switch (e.operator) {
      case 'In':
        return has(e.key) && e.values.includes(labels[e.key]!);
      case 'NotIn':
        return !has(e.key) || !e.values.includes(labels[e.key]!);
      case 'Exists':
        return has(e.key);
      case 'DoesNotExist':
        return !has(e.key);
    }
  });
}

/** The annotation the Deployment controller writes on a Deployment and each of its ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** The label the Deployment controller adds to a ReplicaSet's selector and template, and so to its pods. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

const OwnerReferences = z
  .array(
    z.object({ kind: z.string(), name: z.string(), uid: z.string(), controller: z.boolean().nullish() }).passthrough(),
  )
  .nullish();

/** The uid of the object's controller (the owner reference with `controller: true`), if it has one. */
function controllerUid(owners: z.infer<typeof OwnerReferences>, kind: string): string | undefined {
  return (owners ?? []).find((o) => o.controller === true && o.kind === kind)?.uid;
}

const revisionOf = (annotations: Readonly<Record<string, string>> | null | undefined): number => {
  const n = Number(annotations?.[REVISION_ANNOTATION] ?? '');
  return Number.isInteger(n) && n > 0 ? n : 0;
};

const DeploymentSchema = z.object({
  metadata: z.object({
    name: z.string(),
    uid: z.string().optional().default(''),
    generation: z.number().int().optional().default(0),
    annotations: z.record(z.string(), z.string()).nullish(),
  }),
  spec: z.object({
    replicas: z.number().int().optional().default(1),
    paused: z.boolean().optional().default(false),
    selector: LabelSelectorSchema,
    template: z.object({ spec: z.object({ containers: z.array(ContainerSpec) }) }),
  }),
  status: z
    .object({
      observedGeneration: count,
      replicas: count,
      updatedReplicas: count,
      readyReplicas: count,
      availableReplicas: count,
      unavailableReplicas: count,
      conditions: z
        .array(
          z.object({
            type: z.string(),
            status: z.string(),
            reason: z.string().optional(),
            message: z.string().optional(),
          }),
        )
        .optional()
        .default([]),
    })
    .optional()
    .default({
      observedGeneration: 0,
      replicas: 0,
      updatedReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      unavailableReplicas: 0,
      conditions: [],
    }),
});

/** A Deployment as Shepherd reads it. */
export interface DeploymentView {
  readonly name: string;
  /** `metadata.uid`: what its ReplicaSets' controller reference names. */
  readonly uid: string;
  readonly generation: number;
  /** `spec.selector`: the pods (and ReplicaSets) it manages. */
  readonly selector: LabelSelectorView;
  /** The `deployment.kubernetes.io/revision` annotation (0 when the controller has not written it yet). */
  readonly revision: number;
  /** `spec.replicas` (1 when absent). */
  readonly desiredReplicas: number;
  readonly paused: boolean;
  readonly containers: readonly { readonly name: string; readonly image: string }[];
  readonly status: {
    readonly observedGeneration: number;
    readonly replicas: number;
    readonly updatedReplicas: number;
    readonly readyReplicas: number;
    readonly availableReplicas: number;
    readonly unavailableReplicas: number;
  };
  readonly conditions: readonly {
    readonly type: string;
    readonly status: string;
    readonly reason?: string | undefined;
    readonly message?: string | undefined;
  }[];
}

export function parseDeployment(raw: unknown): DeploymentView {
  const d = DeploymentSchema.parse(raw);
  const { conditions, ...status } = d.status;
  return {
    name: d.metadata.name,
    uid: d.metadata.uid,
    generation: d.metadata.generation,
    selector: labelSelectorView(d.spec.selector),
    revision: revisionOf(d.metadata.annotations),
    desiredReplicas: d.spec.replicas,
    paused: d.spec.paused,
    containers: d.spec.template.spec.containers,
    status,
    conditions,
  };
}

const ContainerState = z
  .object({
    waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).optional(),
    running: z.object({}).optional(),
    terminated: z.object({ reason: z.string().optional(), exitCode: z.number().optional() }).optional(),
  })
  .optional();

const PodSchema = z.object({
  metadata: z.object({
    name: z.string(),
    deletionTimestamp: z.unknown().optional(),
    labels: z.record(z.string(), z.string()).nullish(),
    ownerReferences: OwnerReferences,
  }),
  spec: z.object({ containers: z.array(ContainerSpec) }).optional(),
  status: z
    .object({
      phase: z.string().optional().default('Unknown'),
      conditions: z
        .array(z.object({ type: z.string(), status: z.string() }))
        .optional()
        .default([]),
      containerStatuses: z
        .array(
          z.object({
            name: z.string(),
            image: z.string().optional().default(''),
            imageID: z.string().optional().default(''),
            ready: z.boolean().optional().default(false),
            restartCount: z.number().int().optional().default(0),
            state: ContainerState,
            lastState: ContainerState,
          }),
        )
        .optional()
        .default([]),
    })
    .optional(),
});

/** One container of a pod: the image it was created from (the pod spec) and what the kubelet reports. */
export interface PodContainerView {
  readonly name: string;
  readonly image: string;
  /**
   * `status.containerStatuses[].imageID`: the image the runtime pulled, by digest (`repo@sha256:…`, possibly
   * prefixed `docker-pullable://`); undefined before it is pulled.
   */
  readonly imageID?: string | undefined;
  readonly ready: boolean;
  readonly restartCount: number;
  /** `state.waiting.reason`: ContainerCreating, CrashLoopBackOff, ImagePullBackOff, ErrImagePull, … */
  readonly waitingReason?: string | undefined;
  /** `lastState.terminated.reason` (Error, OOMKilled, …): the previous run of the container ended. */
  readonly lastTerminationReason?: string | undefined;
}

/** A pod as Shepherd reads it. */
export interface PodView {
  readonly name: string;
  /** `metadata.labels` (`pod-template-hash` among them for a Deployment's pod). */
  readonly labels?: Readonly<Record<string, string>>;
  /** The uid of the ReplicaSet that controls it (its controller owner reference), if any. */
  readonly ownerUid?: string | undefined;
  readonly phase: string;
  /** Being deleted (`metadata.deletionTimestamp` set): terminating. */
  readonly terminating: boolean;
  /** The `Ready` condition is True. */
  readonly ready: boolean;
  readonly containers: readonly PodContainerView[];
}

export function parsePod(raw: unknown): PodView {
  const p = PodSchema.parse(raw);
  const statuses = p.status?.containerStatuses ?? [];
  const specs = p.spec?.containers ?? statuses.map((s) => ({ name: s.name, image: s.image }));
  return {
    name: p.metadata.name,
    labels: p.metadata.labels ?? {},
    ownerUid: controllerUid(p.metadata.ownerReferences, 'ReplicaSet'),
    phase: p.status?.phase ?? 'Unknown',
    terminating: p.metadata.deletionTimestamp !== undefined && p.metadata.deletionTimestamp !== null,
    ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    containers: specs.map((spec) => {
      const st = statuses.find((s) => s.name === spec.name);
      return {
        name: spec.name,
        // The spec's image is what the pod was created from; the status may report a resolved or digest form.
        image: spec.image || st?.image || '',
        imageID: st?.imageID ? st.imageID : undefined,
        ready: st?.ready ?? false,
        restartCount: st?.restartCount ?? 0,
        waitingReason: st?.state?.waiting?.reason,
        lastTerminationReason: st?.lastState?.terminated?.reason,
      };
    }),
  };
}

const ReplicaSetSchema = z.object({
  metadata: z.object({
    name: z.string(),
    uid: z.string().optional().default(''),
    labels: z.record(z.string(), z.string()).nullish(),
    annotations: z.record(z.string(), z.string()).nullish(),
    ownerReferences: OwnerReferences,
  }),
  spec: z
    .object({
      replicas: z.number().int().optional().default(1),
      selector: LabelSelectorSchema,
      template: z.object({ spec: z.object({ containers: z.array(ContainerSpec) }).optional() }).optional(),
    })
    .optional()
    .default({ replicas: 1, selector: {} }),
});

/** A ReplicaSet as Shepherd reads it: which Deployment controls it, its revision and the pods it selects. */
export interface ReplicaSetView {
  readonly name: string;
  readonly uid: string;
  /** The uid of the Deployment that controls it (its controller owner reference), if any. */
  readonly ownerUid: string | undefined;
  /** Its `deployment.kubernetes.io/revision` annotation (0 when absent). */
  readonly revision: number;
  /** Its `pod-template-hash` label: the one its pods carry. */
  readonly podTemplateHash: string | undefined;
  readonly replicas: number;
  readonly selector: LabelSelectorView;
  readonly containers: readonly { readonly name: string; readonly image: string }[];
}

export function parseReplicaSet(raw: unknown): ReplicaSetView {
  const r = ReplicaSetSchema.parse(raw);
  return {
    name: r.metadata.name,
    uid: r.metadata.uid,
    ownerUid: controllerUid(r.metadata.ownerReferences, 'Deployment'),
    revision: revisionOf(r.metadata.annotations),
    podTemplateHash: r.metadata.labels?.[POD_TEMPLATE_HASH_LABEL],
    replicas: r.spec.replicas,
    selector: labelSelectorView(r.spec.selector),
    containers: r.spec.template?.spec?.containers ?? [],
  };
}

/**
 * The Deployment's current ReplicaSet, as `deploymentutil.FindNewReplicaSet` and `kubectl rollout` see it: among
 * the ReplicaSets the Deployment controls (controller owner reference with its uid), the one with the highest
 * revision. Undefined before the controller created one.
 */
export function currentReplicaSet(
  deployment: Pick<DeploymentView, 'uid'>,
  replicaSets: readonly ReplicaSetView[],
): ReplicaSetView | undefined {
  let best: ReplicaSetView | undefined;
  for (const rs of replicaSets) {
    if (deployment.uid === '' || rs.ownerUid !== deployment.uid) continue;
    if (!best || rs.revision > best.revision) best = rs;
  }
  return best;
}

/**
 * The pods of a ReplicaSet: controlled by it (owner reference with its uid), carrying its pod-template-hash and
 * matching its selector. Pods of another ReplicaSet or Deployment that share labels like `app` are not among them.
 */
export function podsOfReplicaSet(rs: ReplicaSetView, pods: readonly PodView[]): PodView[] {
  return pods.filter(
    (p) =>
      p.ownerUid === rs.uid &&
      (rs.podTemplateHash === undefined || p.labels?.[POD_TEMPLATE_HASH_LABEL] === rs.podTemplateHash) &&
      selectorMatches(rs.selector, p.labels ?? {}),
  );
}

const SYNC_STATUSES = ['Synced', 'OutOfSync', 'Unknown'] as const;
const HEALTH_STATUSES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'] as const;
const OPERATION_PHASES = ['Running', 'Succeeded', 'Failed', 'Error', 'Terminating'] as const;

const SourceSchema = z.object({
  repoURL: z.string().optional().default(''),
  path: z.string().optional(),
  ref: z.string().optional(),
  targetRevision: z.string().optional(),
});
/** `revision` (single-source) and `revisions` (multi-source, one per `spec.sources` entry; §8.1). */
const revisionFields = { revision: z.string().optional(), revisions: z.array(z.string()).optional() };

const ApplicationSchema = z.object({
  metadata: z.object({
    name: z.string(),
    resourceVersion: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional().default({}),
  }),
  spec: z.object({ source: SourceSchema.optional(), sources: z.array(SourceSchema).optional() }).optional(),
  operation: z
    .object({
      sync: z.object(revisionFields).optional(),
      initiatedBy: z.object({ username: z.string().optional() }).optional(),
    })
    .optional(),
  status: z
    .object({
      sync: z.object({ status: z.enum(SYNC_STATUSES).catch('Unknown'), ...revisionFields }).optional(),
      health: z.object({ status: z.enum(HEALTH_STATUSES).catch('Unknown'), message: z.string().optional() }).optional(),
      operationState: z
        .object({
          phase: z.enum(OPERATION_PHASES),
          message: z.string().optional(),
          startedAt: z.string().optional(),
          finishedAt: z.string().optional(),
          operation: z.object({ sync: z.object(revisionFields).optional() }).optional(),
          syncResult: z.object(revisionFields).optional(),
        })
        .optional(),
      conditions: z
        .array(z.object({ type: z.string(), message: z.string().optional().default('') }))
        .optional()
        .default([]),
      reconciledAt: z.string().optional(),
    })
    .optional(),
});

export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

export type ArgoSyncStatus = (typeof SYNC_STATUSES)[number];
export type ArgoHealthStatus = (typeof HEALTH_STATUSES)[number];
export type ArgoOperationPhase = (typeof OPERATION_PHASES)[number];

/** One source of an Application (`spec.source`, or an entry of `spec.sources`). */
export interface ApplicationSourceView {
  readonly repoURL: string;
  /** Absent on a `ref`-only source. */
  readonly path: string | undefined;
  readonly ref: string | undefined;
  readonly targetRevision: string | undefined;
}

/**
 * An Argo CD Application as Shepherd reads it. For a multi-source app (`spec.sources`, real-installations.md §8.1)
 * Argo CD reports one revision per source (`revisions`) and no `revision`: `revision` is then the one of the source
 * `forSource` picked (the deployments repo), undefined until it has picked one.
 */
export interface ApplicationView {
  readonly name: string;
  readonly resourceVersion: string | undefined;
  /** A refresh was requested and the controller has not done it yet (the annotation is still there). */
  readonly refreshPending: boolean;
  /** `spec.sources`, else `[spec.source]`. */
  readonly sources: readonly ApplicationSourceView[];
  readonly multiSource: boolean;
  readonly sync: {
    readonly status: ArgoSyncStatus;
    readonly revision: string | undefined;
    readonly revisions: readonly string[] | undefined;
  };
  readonly health: { readonly status: ArgoHealthStatus; readonly message: string | undefined };
  /** The last sync operation; `revision(s)` are the synced ones when known, else the requested ones. */
  readonly operation:
    | {
        readonly phase: ArgoOperationPhase;
        readonly revision: string | undefined;
        readonly revisions: readonly string[] | undefined;
        readonly message: string | undefined;
        readonly startedAt: string | undefined;
        readonly finishedAt: string | undefined;
      }
    | undefined;
  /** A sync requested by writing `operation` that the controller has not taken up yet (it clears it when done). */
  readonly requestedOperation: { readonly revisions: readonly string[] } | undefined;
  /** `status.conditions` (ComparisonError, InvalidSpecError, …). */
  readonly conditions: readonly { readonly type: string; readonly message: string }[];
  readonly reconciledAt: string | undefined;
}

export function parseApplication(raw: unknown): ApplicationView {
  const a = ApplicationSchema.parse(raw);
  const op = a.status?.operationState;
  const sources = a.spec?.sources ?? (a.spec?.source ? [a.spec.source] : []);
  const revisionsOf = (x: { revision?: string | undefined; revisions?: string[] | undefined } | undefined) =>
    x?.revisions ?? (x?.revision !== undefined ? [x.revision] : undefined);
  return {
    name: a.metadata.name,
    resourceVersion: a.metadata.resourceVersion,
    refreshPending: a.metadata.annotations[REFRESH_ANNOTATION] !== undefined,
    sources: sources.map((src) => ({
      repoURL: src.repoURL,
      path: src.path,
      ref: src.ref,
      targetRevision: src.targetRevision,
    })),
    multiSource: a.spec?.sources !== undefined,
    sync: {
      status: a.status?.sync?.status ?? 'Unknown',
      revision: a.status?.sync?.revision,
      revisions: a.status?.sync?.revisions,
    },
    health: { status: a.status?.health?.status ?? 'Unknown', message: a.status?.health?.message },
    operation: op
      ? {
          phase: op.phase,
          revision: op.syncResult?.revision ?? op.operation?.sync?.revision,
          revisions: revisionsOf(op.syncResult) ?? revisionsOf(op.operation?.sync),
          message: op.message,
          startedAt: op.startedAt,
          finishedAt: op.finishedAt,
        }
      : undefined,
    requestedOperation: a.operation ? { revisions: revisionsOf(a.operation.sync) ?? [] } : undefined,
    conditions: a.status?.conditions ?? [],
    reconciledAt: a.status?.reconciledAt,
  };
}

/**
 * The project path a Git URL names: `https://host/group/proj.git`, `ssh://git@host:22/group/proj`,
 * `git@host:group/proj.git` all name `group/proj`. Undefined for anything else.
 */
export function projectPathOf(repoURL: string): string | undefined {
  const scp = /^[\w.-]+@[\w.-]+:(?!\/\/)(.+)$/.exec(repoURL);
  let path: string;
  if (scp) path = scp[1]!;
  else {
    try {
      path = new URL(repoURL).pathname;
    } catch {
      return undefined;
    }
  }
  const clean = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
  return clean === '' ? undefined : clean.toLowerCase();
}

/**
 * The index of the source that is `project` (the deployments repo) among the app's sources: the one whose repoURL
 * names the project and that renders manifests (has a path), else any naming it; -1 when none does.
 */
export function sourceIndexOf(app: Pick<ApplicationView, 'sources'>, project: string): number {
  const wanted = project.replace(/^\/+|\/+$/g, '').toLowerCase();
  const naming = app.sources.flatMap((s, i) => (projectPathOf(s.repoURL) === wanted ? [i] : []));
  return naming.find((i) => app.sources[i]!.path !== undefined) ?? naming[0] ?? -1;
}

/**
 * The app as seen through one of its sources: for a multi-source app, `sync.revision` and `operation.revision`
 * become that source's entries of `revisions` (undefined when no source is the project). A single-source app is
 * returned as it is: its only source is the one Argo CD reports on.
 */
export function forSource(app: ApplicationView, project: string): ApplicationView {
  if (!app.multiSource) return app;
  const i = sourceIndexOf(app, project);
  const at = (revisions: readonly string[] | undefined) => (i >= 0 ? revisions?.[i] : undefined);
  return {
    ...app,
    sync: { ...app.sync, revision: at(app.sync.revisions) },
    operation: app.operation ? { ...app.operation, revision: at(app.operation.revisions) } : undefined,
  };
}
