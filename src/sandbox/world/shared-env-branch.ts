/**
 * Installation trait `sharedEnvBranch` (part C): the env branches of the deployments repo are shared with other
 * apps' teams. Right after anything lands on an env branch (a promotion merge, a revert), another team's commit
 * touching `apps/other-app/` follows it, before Argo CD's next look at the branch, so that the revision Argo CD
 * syncs is a descendant of our merge commit, never the commit itself (real-installations.md §4.1, §8.2).
 */
import type { GitLabModel } from '../gitlab/index.js';

export interface SharedEnvBranchOptions {
  readonly gitlab: GitLabModel;
  /** The deployments project's path (`p2c/k8s-deployments`). */
  readonly project: string;
  /** The env branches (`dev`, `stage`, `prod`). */
  readonly branches: readonly string[];
}

/** Starts the other team's commits; returns the function that stops them. */
export function shareEnvBranches(opts: SharedEnvBranchOptions): () => void {
  const ours = new Set<string>();
  let count = 0;
  return opts.gitlab.onPush((event) => {
    if (event.project !== opts.project || !opts.branches.includes(event.branch)) return;
    if (event.commits.length === 0 || event.commits.every((c) => ours.has(c.id))) return;
    count += 1;
    const commit = opts.gitlab.commit(opts.project, {
      branch: event.branch,
      message: `other-app: bump replicas in ${event.branch} (#${count})`,
      authorName: 'Other Team',
      authorEmail: 'other-team@sandbox.local',
      actions: [
        {
          action:
            opts.gitlab.readFile(opts.project, event.branch, 'apps/other-app/values.yaml') === undefined
              ? 'create'
              : 'update',
          filePath: 'apps/other-app/values.yaml',
          content: Buffer.from(`replicas: ${(count % 3) + 1}\nrevision: ${count}\n`),
        },
      ],
    });
    ours.add(commit.id);
  });
}
