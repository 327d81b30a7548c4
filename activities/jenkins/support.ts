/**
 * What the Jenkins activities share: their injected dependencies with defaults applied, and the mapping from a job
 * role (what workflows name) to the configured job.
 */
import { DEFAULT_FALLBACK_MS, type WaitPacing } from '../wakeups.js';
import type { JenkinsJobRole } from '../../src/domain/activities.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import type { JenkinsClient, JobPath } from '../../src/clients/jenkins/client.js';
import type { CommitStatusInfo } from '../../src/clients/gitlab/index.js';

/** The commit statuses CI systems posted on a commit in GitLab (the GitLab client's `listCommitStatuses`). */
export interface CommitStatusReader {
  listCommitStatuses(
    project: string,
    sha: string,
    filter?: { readonly ref?: string; readonly name?: string },
  ): Promise<readonly CommitStatusInfo[]>;
}

export interface JenkinsActivityDeps {
  readonly client: JenkinsClient;
  readonly layout: PipelineLayout;
  /** Pause between two polls of Jenkins; default 3 s. */
  readonly pollIntervalMs?: number;
  /** Webhooks announce this system's changes (SHEPHERD_WEBHOOKS): the waits they cover poll at `fallbackIntervalMs`. */
  readonly webhooks?: boolean;
  /** The poll interval of covered waits when webhooks are on; default 60 s (SHEPHERD_POLL_FALLBACK). */
  readonly fallbackIntervalMs?: number;
  /** Console lines a BuildFailedError carries; default 50 (what the seed's validate script printed). */
  readonly consoleTailLines?: number;
  /**
   * GitLab's commit statuses: findCiBuildForCommit's last resort, the build URL Jenkins' GitLab integration posted
   * on the commit. Absent: builds are found through their BuildData and SCMRevisionAction only.
   */
  readonly commitStatuses?: CommitStatusReader;
}

/** The deps with defaults applied. */
export interface JenkinsContext {
  readonly client: JenkinsClient;
  readonly layout: PipelineLayout;
  readonly pollIntervalMs: number;
  /** How the waits are paced: the poll interval, and with webhooks the fallback and the wake-ups. */
  readonly pace: WaitPacing;
  readonly consoleTailLines: number;
  readonly commitStatuses: CommitStatusReader | undefined;
}

export function contextOf(deps: JenkinsActivityDeps): JenkinsContext {
  return {
    client: deps.client,
    layout: deps.layout,
    pollIntervalMs: deps.pollIntervalMs ?? 3_000,
    pace: {
      pollIntervalMs: deps.pollIntervalMs ?? 3_000,
      webhooks: deps.webhooks ?? false,
      fallbackMs: deps.fallbackIntervalMs ?? DEFAULT_FALLBACK_MS,
    },
    consoleTailLines: deps.consoleTailLines ?? 50,
    commitStatuses: deps.commitStatuses,
  };
}

export function jobOf(layout: PipelineLayout, role: JenkinsJobRole): JobPath {
  return role === 'app-ci' ? layout.jenkins.appJob : layout.jenkins.promoteJob;
}
