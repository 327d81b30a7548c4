/**
 * Part A (merge rules): how the deployments project merges, set up from the installation traits when the world
 * starts. `deploymentsCi` runs a pipeline on every MR head and allows merging only when it succeeds
 * (`only_allow_merge_if_pipeline_succeeds`); `mergeMethod` is the project's merge method; `envBranchMoves` has
 * another team push to the target env branch right after each MR into it opens, so that with `ff` or
 * `rebase_merge` the MR needs a rebase before it can merge.
 */
import type { Installation } from '../core/faults.js';
import type { GitLabModel } from '../gitlab/index.js';
import type { WorldLayout } from './layout.js';

/** The user whose unrelated commits land on env branches (`envBranchMoves`). */
export const OTHER_TEAM = { username: 'platform-team', name: 'Platform Team', email: 'platform@sandbox.local' };

/** Outside every Application's path: Argo CD renders the same manifests after such a commit. */
export const OTHER_TEAM_FILE = 'docs/env-branch-notes.md';

/**
 * Applies the traits to the deployments project; returns what stops the `envBranchMoves` listener. With
 * `deploymentsCi: 'fails'` the pipelines of MRs into every environment but the first fail: a run gets through dev
 * (whose reverts still pass CI) and fails at stage.
 */
export function applyMergeRules(gitlab: GitLabModel, layout: WorldLayout, installation: Installation): () => void {
  const project = gitlab.project(layout.deploymentsProject);
  if (installation.mergeMethod !== undefined) project.mergeMethod = installation.mergeMethod;
  const ci = installation.deploymentsCi;
  if (ci !== undefined) {
    project.onlyAllowMergeIfPipelineSucceeds = true;
    const first = layout.environments[layout.environmentOrder[0]!]!.branch;
    project.mergeRequestPipelines = (mr) => (ci === 'fails' && mr.targetBranch !== first ? 'failed' : 'success');
  }
  if (installation.envBranchMoves !== true) return () => {};

  const envBranches = new Set(Object.values(layout.environments).map((e) => e.branch));
  if (!gitlab.findUser(OTHER_TEAM.username)) gitlab.addUser(OTHER_TEAM);
  return gitlab.onMergeRequest((event) => {
    if (event.action !== 'opened' || event.project !== layout.deploymentsProject) return;
    if (!envBranches.has(event.targetBranch)) return;
    const current = gitlab.readFile(layout.deploymentsProject, event.targetBranch, OTHER_TEAM_FILE);
    const line = `- ${event.targetBranch}: noted while !${event.iid} was open\n`;
    gitlab.commit(layout.deploymentsProject, {
      branch: event.targetBranch,
      message: `docs: note on ${event.targetBranch} (!${event.iid} open)`,
      actions: [
        {
          action: current === undefined ? 'create' : 'update',
          filePath: OTHER_TEAM_FILE,
          content: Buffer.from(`${current ?? '# Notes of the platform team\n\n'}${line}`),
        },
      ],
      as: OTHER_TEAM.username,
    });
  });
}
