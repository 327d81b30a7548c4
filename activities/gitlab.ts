/**
 * The GitLab activities: bump the app version, await and open merge requests, merge them, and undo (revert, close,
 * delete a branch). Built from an injected client and the pipeline layout; the bodies live in `./gitlab/`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { bumpAppVersionActivity } from './gitlab/bump.js';
import { mergeMergeRequestActivity } from './gitlab/merge.js';
import { awaitMergeRequestActivity, openPromotionMergeRequestActivity } from './gitlab/merge-requests.js';
import { contextOf, type GitLabActivityDeps } from './gitlab/support.js';
import { closeMergeRequestActivity, deleteBranchActivity, revertMergeRequestActivity } from './gitlab/undo.js';

export type { GitLabActivityDeps } from './gitlab/support.js';

export type GitLabActivities = Pick<
  ShepherdActivities,
  | 'bumpAppVersion'
  | 'awaitMergeRequest'
  | 'openPromotionMergeRequest'
  | 'mergeMergeRequest'
  | 'revertMergeRequest'
  | 'closeMergeRequest'
  | 'deleteBranch'
>;

export function createGitLabActivities(deps: GitLabActivityDeps): GitLabActivities {
  const ctx = contextOf(deps);
  return {
    bumpAppVersion: bumpAppVersionActivity(ctx),
    awaitMergeRequest: awaitMergeRequestActivity(ctx),
    openPromotionMergeRequest: openPromotionMergeRequestActivity(ctx),
    mergeMergeRequest: mergeMergeRequestActivity(ctx),
    revertMergeRequest: revertMergeRequestActivity(ctx),
    closeMergeRequest: closeMergeRequestActivity(ctx),
    deleteBranch: deleteBranchActivity(ctx),
  };
}
