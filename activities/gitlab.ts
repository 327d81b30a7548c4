/**
 * The GitLab activities: bump the app version, await and open merge requests, merge them, undo (revert, close,
 * delete a branch, abandon a job's branch), and read what an MR and an env branch say (readMergeRequest,
 * readDeclaredImage). Built from an injected client and the pipeline layout; one activity a file in `./gitlab/`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { createAbandonDeployBranch } from './gitlab/abandon-deploy-branch.js';
import { createAwaitMergeRequest } from './gitlab/await-merge-request.js';
import { createAwaitMergeRequestApproval } from './gitlab/await-merge-request-approval.js';
import { createBumpAppVersion } from './gitlab/bump-app-version.js';
import { createCloseMergeRequest } from './gitlab/close-merge-request.js';
import { createDeleteBranch } from './gitlab/delete-branch.js';
import { createMergeMergeRequest } from './gitlab/merge-merge-request.js';
import { createOpenPromotionMergeRequest } from './gitlab/open-promotion-merge-request.js';
import { createReadDeclaredImage } from './gitlab/read-declared-image.js';
import { createReadMergeRequest } from './gitlab/read-merge-request.js';
import { createRevertMergeRequest } from './gitlab/revert-merge-request.js';
import { contextOf, type GitLabActivityDeps } from './gitlab/support.js';

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
  | 'readMergeRequest'
  | 'readDeclaredImage'
  | 'abandonDeployBranch'
  // Part B: approvals with a real identity.
  | 'awaitMergeRequestApproval'
>;

export function createGitLabActivities(deps: GitLabActivityDeps): GitLabActivities {
  const ctx = contextOf(deps);
  return {
    bumpAppVersion: createBumpAppVersion(ctx),
    awaitMergeRequest: createAwaitMergeRequest(ctx),
    openPromotionMergeRequest: createOpenPromotionMergeRequest(ctx),
    mergeMergeRequest: createMergeMergeRequest(ctx),
    revertMergeRequest: createRevertMergeRequest(ctx),
    closeMergeRequest: createCloseMergeRequest(ctx),
    deleteBranch: createDeleteBranch(ctx),
    readMergeRequest: createReadMergeRequest(ctx),
    readDeclaredImage: createReadDeclaredImage(ctx),
    abandonDeployBranch: createAbandonDeployBranch(ctx),
    // Part B: approvals with a real identity.
    awaitMergeRequestApproval: createAwaitMergeRequestApproval(ctx),
  };
}
