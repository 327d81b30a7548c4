/**
 * What the Jenkins activities share: their injected dependencies with defaults applied, and the mapping from a job
 * role (what workflows name) to the configured job.
 */
import type { JenkinsJobRole } from '../../src/domain/activities.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import type { JenkinsClient, JobPath } from '../../src/clients/jenkins/client.js';

export interface JenkinsActivityDeps {
  readonly client: JenkinsClient;
  readonly layout: PipelineLayout;
  /** Pause between two polls of Jenkins; default 3 s. */
  readonly pollIntervalMs?: number;
  /** Console lines a BuildFailedError carries; default 50 (what the seed's validate script printed). */
  readonly consoleTailLines?: number;
}

/** The deps with defaults applied. */
export interface JenkinsContext {
  readonly client: JenkinsClient;
  readonly layout: PipelineLayout;
  readonly pollIntervalMs: number;
  readonly consoleTailLines: number;
}

export function contextOf(deps: JenkinsActivityDeps): JenkinsContext {
  return {
    client: deps.client,
    layout: deps.layout,
    pollIntervalMs: deps.pollIntervalMs ?? 3_000,
    consoleTailLines: deps.consoleTailLines ?? 50,
  };
}

export function jobOf(layout: PipelineLayout, role: JenkinsJobRole): JobPath {
  return role === 'app-ci' ? layout.jenkins.appJob : layout.jenkins.promoteJob;
}
