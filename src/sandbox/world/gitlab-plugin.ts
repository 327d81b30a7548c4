/**
 * Jenkins' gitlab-plugin as the CI job's `gitlabCommitStatus` step uses it (jenkinsci/gitlab-plugin
 * `CommitStatusUpdater`): it checks the commit (`GET …/repository/commits/:sha`), then posts the build's state on it,
 * form-encoded, through the GitLab API with the Jenkins user's token: `state`, `ref`, `context` (default `jenkins`),
 * `target_url` (the build URL) and `description` (the state name). A post GitLab refuses is logged in the build's
 * console and the build carries on, as the plugin does.
 */
import type { BuildResult } from '../jenkins/index.js';

/** The states the plugin posts. */
export type PluginState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

/** The plugin's mapping of a finished build's result (UNSTABLE counts as failed unless configured otherwise). */
export function stateForResult(result: BuildResult): PluginState {
  switch (result) {
    case 'SUCCESS':
      return 'success';
    case 'UNSTABLE':
    case 'FAILURE':
      return 'failed';
    case 'ABORTED':
    case 'NOT_BUILT':
      return 'canceled';
  }
}

export interface GitLabPluginOptions {
  /** The project the statuses go to (path or id). */
  readonly project: string;
  /** The Jenkins user's GitLab API token (the plugin's "GitLab connection" credential). */
  readonly token: string;
  /** The status name (`context`); the plugin's default is `jenkins`. */
  readonly context?: string;
}

export class GitLabPlugin {
  /** GitLab's root URL; set once the GitLab server listens. Until then nothing is posted. */
  gitlabUrl: string | undefined;

  constructor(private readonly opts: GitLabPluginOptions) {}

  /** The token the plugin authenticates with (the world registers it for GitLab's `jenkins` user). */
  get token(): string {
    return this.opts.token;
  }

  /**
   * Posts `state` for `sha` on `ref`, naming `targetUrl`. Returns a console line saying what happened; never throws.
   */
  async post(sha: string, state: PluginState, ref: string, targetUrl: string): Promise<string> {
    const base = this.gitlabUrl;
    if (base === undefined) return `[GitLab] no GitLab connection; commit status ${state} not sent`;
    const project = `${base}/api/v4/projects/${encodeURIComponent(this.opts.project)}`;
    const headers = { 'private-token': this.opts.token };
    try {
      const check = await fetch(`${project}/repository/commits/${sha}`, { headers });
      await check.body?.cancel();
      if (!check.ok) return `[GitLab] commit ${sha} not found in ${this.opts.project} (HTTP ${check.status})`;
      const form = new URLSearchParams({
        state,
        ref,
        context: this.opts.context ?? 'jenkins',
        target_url: targetUrl,
        description: state,
      });
      const res = await fetch(`${project}/statuses/${sha}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      const body = await res.text();
      return res.status === 201
        ? `[GitLab] commit status ${state} posted for ${sha.slice(0, 8)}`
        : `[GitLab] failed to post commit status ${state} (HTTP ${res.status}): ${body.slice(0, 200)}`;
    } catch (err) {
      return `[GitLab] failed to post commit status ${state}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
