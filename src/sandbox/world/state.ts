/**
 * The inspection view of the world: what happened in every system, in counts and lists, so that a test can assert
 * "one bump, one MR per environment, one merge per MR, no leftover branches" and a person can see where things are.
 */
import type { FaultEngine } from '../core/faults.js';
import type { GitLabModel } from '../gitlab/index.js';
import type { JenkinsModel } from '../jenkins/index.js';
import type { ClusterEnv, EnvSnapshot, SimulatedCluster } from '../kubernetes/cluster.js';
import { envValuesOf } from './image-declarations.js';
import { sourcePathOf, type WorldApp, type WorldLayout } from './layout.js';

/** The models of a world, which its state is read from. */
export interface WorldParts {
  readonly layout: WorldLayout;
  readonly faults: FaultEngine;
  readonly gitlab: GitLabModel;
  readonly jenkins: JenkinsModel;
  readonly cluster: SimulatedCluster;
  /** Images CI has published (push references). */
  readonly published: ReadonlySet<string>;
}

export function worldState(world: WorldParts) {
  const projects = world.gitlab.snapshot();
  const jenkins = world.jenkins.snapshot();
  const clusterEnvs = world.cluster.snapshot();
  return {
    scenario: world.faults.active?.name ?? null,
    gitlab: {
      projects: projects.map((p) => ({
        path: p.path,
        commitsPerBranch: Object.fromEntries(p.branches.map((b) => [b.name, b.commits])),
        branches: p.branches.map((b) => b.name),
        heads: Object.fromEntries(p.branches.map((b) => [b.name, b.head])),
        mergeRequests: {
          opened: p.mergeRequests.opened,
          merged: p.mergeRequests.merged,
          closed: p.mergeRequests.closed,
        },
        counts: {
          opened: p.mergeRequests.opened.length,
          merged: p.mergeRequests.merged.length,
          closed: p.mergeRequests.closed.length,
          merges: p.merges,
          reverts: p.reverts,
        },
      })),
    },
    jenkins: {
      jobs: jenkins.jobs.map((j) => ({ path: j.path, counts: j.counts, builds: j.builds, queue: j.queue })),
    },
    /** The first app's environments (the seed's only app). */
    environments: environmentStates(clusterEnvs),
    /** Per app of the world, its environments. */
    apps: Object.fromEntries(
      world.layout.apps.map((a) => [
        a.app,
        environmentStates(world.cluster.snapshot(a.app, clusterEnvsOf(world.layout, a))),
      ]),
    ),
    published: [...world.published],
    faultsFired: world.faults.fired.slice(-100),
  };
}

export type WorldState = ReturnType<typeof worldState>;

function environmentStates(snapshots: readonly EnvSnapshot[]) {
  return Object.fromEntries(
    snapshots.map((e) => [
      e.env,
      {
        namespace: e.namespace,
        image: e.deployment?.image ?? null,
        replicas: e.deployment?.replicas ?? 0,
        readyReplicas: e.deployment?.ready ?? 0,
        updatedReplicas: e.deployment?.updated ?? 0,
        progressing: e.deployment?.progressing ?? null,
        health: e.application?.health ?? null,
        sync: e.application?.sync ?? null,
        revision: e.application?.revision ?? null,
        operationPhase: e.application?.operationPhase ?? null,
        pods: e.pods,
      },
    ]),
  );
}

/** The app's environments as the cluster seeds them: its Application's source path and the replicas per environment. */
export function clusterEnvsOf(layout: WorldLayout, app: WorldApp): ClusterEnv[] {
  return layout.environmentOrder.map((env) => {
    const e = app.environments[env]!;
    return {
      env,
      namespace: e.namespace,
      branch: e.branch,
      argoApp: e.argoApp,
      replicas: envValuesOf(layout.environmentOrder, e).replicas,
      path: sourcePathOf(app, env),
    };
  });
}
