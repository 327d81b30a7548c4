/**
 * Writes the world's changes into its timeline as they happen, from the models' own events: GitLab pushes and
 * merge request changes, Jenkins queue and run events, and the cluster's object changes (Argo CD operations and
 * health, Deployment rollouts). These are the instants a benchmark measures detection latency from.
 */
import type { Timeline } from '../core/measure.js';
import type { GitLabModel } from '../gitlab/index.js';
import { ZERO_SHA } from '../gitlab/index.js';
import type { JenkinsModel } from '../jenkins/index.js';
import type { ObjectStore, StoreEvent } from '../kubernetes/store.js';

const MR_KINDS = {
  opened: 'mr-opened',
  updated: 'mr-updated',
  merged: 'mr-merged',
  closed: 'mr-closed',
  reopened: 'mr-reopened',
} as const;

/** Subscribes the timeline to every model; returns the function that unsubscribes. */
export function observeWorld(parts: {
  gitlab: GitLabModel;
  jenkins: JenkinsModel;
  store: ObjectStore;
  timeline: Timeline;
}): () => void {
  const { timeline } = parts;
  const offs = [
    parts.gitlab.onPush((e) => {
      const deleted = e.after === ZERO_SHA;
      timeline.add('gitlab', deleted ? 'branch-deleted' : 'branch-pushed', `${e.project}@${e.branch}`, {
        before: e.before,
        after: e.after,
        commits: e.commits.length,
      });
    }),
    parts.gitlab.onMergeRequest((e) => {
      timeline.add('gitlab', MR_KINDS[e.action], `${e.project}!${e.iid}`, {
        source: e.sourceBranch,
        target: e.targetBranch,
        title: e.title,
        ...(e.mergeCommitSha !== null ? { mergeCommitSha: e.mergeCommitSha } : {}),
      });
    }),
    parts.jenkins.onRunEvent((e) => {
      if (e.type === 'queue-left') {
        const job = e.item.jobPath.join('/');
        timeline.add(
          'jenkins',
          'queue-left',
          e.build ? `${job}#${e.build.number}` : job,
          e.build ? { queueId: e.item.id } : { queueId: e.item.id, cancelled: true },
        );
        return;
      }
      const subject = `${e.job.path.join('/')}#${e.build.number}`;
      if (e.type === 'started') timeline.add('jenkins', 'build-started', subject, { queueId: e.build.queueId });
      if (e.type === 'completed')
        timeline.add('jenkins', 'build-finished', subject, { result: e.build.result, duration: e.build.duration });
    }),
    parts.store.subscribe((ev) => observeObject(timeline, ev)),
  ];
  return () => {
    for (const off of offs) off();
  };
}

type Obj = Record<string, unknown>;

function at(obj: unknown, ...path: string[]): unknown {
  let v = obj;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Obj)[key] : undefined;
  return v;
}

function observeObject(timeline: Timeline, ev: StoreEvent): void {
  if (ev.type !== 'MODIFIED' && ev.type !== 'ADDED') return;
  const name = `${String(at(ev.object, 'metadata', 'namespace'))}/${String(at(ev.object, 'metadata', 'name'))}`;
  if (ev.resource.kind === 'Application') {
    const finished = at(ev.object, 'status', 'operationState', 'finishedAt');
    if (finished !== undefined && finished !== at(ev.previous, 'status', 'operationState', 'finishedAt')) {
      timeline.add('argocd', 'sync-finished', name, {
        phase: at(ev.object, 'status', 'operationState', 'phase'),
        revision:
          at(ev.object, 'status', 'operationState', 'syncResult', 'revision') ??
          at(ev.object, 'status', 'operationState', 'syncResult', 'revisions'),
      });
    }
    const health = at(ev.object, 'status', 'health', 'status');
    const before = at(ev.previous, 'status', 'health', 'status');
    if (health !== undefined && health !== before)
      timeline.add('argocd', 'health-changed', name, { from: before ?? null, to: health });
    return;
  }
  if (ev.resource.kind === 'Deployment' && rolledOut(ev.object) && !rolledOut(ev.previous)) {
    const containers = at(ev.object, 'spec', 'template', 'spec', 'containers');
    const images = Array.isArray(containers) ? containers.map((c) => at(c, 'image')) : [];
    timeline.add('kubernetes', 'rollout-complete', name, {
      replicas: at(ev.object, 'spec', 'replicas'),
      images,
      generation: at(ev.object, 'metadata', 'generation'),
    });
  }
}

/**
 * `kubectl rollout status`'s condition: the controller has seen the newest template and every desired replica is
 * updated, ready and available, with no old replica left.
 */
function rolledOut(dep: unknown): boolean {
  if (dep === undefined) return false;
  const desired = (at(dep, 'spec', 'replicas') as number | undefined) ?? 1;
  const generation = (at(dep, 'metadata', 'generation') as number | undefined) ?? 1;
  const status = (at(dep, 'status') ?? {}) as Obj;
  return (
    ((status.observedGeneration as number | undefined) ?? 0) >= generation &&
    (status.updatedReplicas ?? 0) === desired &&
    (status.readyReplicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired
  );
}
