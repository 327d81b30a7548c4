/**
 * What the simulated Jenkins pipelines do to GitLab, the way their shell scripts do it: delete and re-push a
 * branch, and create an MR or reuse the open one for the same branch pair (create-gitlab-mr.sh's 409 lookup).
 */
import { GitLabError, type GitLabModel } from '../gitlab/index.js';

/** The commit author of every Jenkins pipeline commit. */
export const JENKINS_AUTHOR = { as: 'jenkins', authorName: 'Jenkins CI', authorEmail: 'jenkins@local' } as const;

/** Deletes `branch` if it exists and creates it again from `from` (the pipelines' "delete remote branch, push"). */
export function recreateBranch(gitlab: GitLabModel, project: string, branch: string, from: string): void {
  if (gitlab.branchHead(project, branch) !== undefined) gitlab.deleteBranch(project, branch);
  gitlab.createBranch(project, branch, from, JENKINS_AUTHOR.as);
}

export function openOrReuseMergeRequest(
  gitlab: GitLabModel,
  project: string,
  input: { sourceBranch: string; targetBranch: string; title: string; description: string },
): { iid: number; reused: boolean } {
  try {
    const mr = gitlab.createMergeRequest(project, {
      ...input,
      removeSourceBranch: false,
      squash: false,
      as: JENKINS_AUTHOR.as,
    });
    return { iid: mr.iid, reused: false };
  } catch (err) {
    if (!(err instanceof GitLabError) || err.kind !== 'conflict') throw err;
    const open = gitlab.findMergeRequests(project, {
      sourceBranch: input.sourceBranch,
      targetBranch: input.targetBranch,
      state: 'opened',
    })[0];
    if (!open) throw err;
    return { iid: open.iid, reused: true };
  }
}
