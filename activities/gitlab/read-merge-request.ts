/**
 * readMergeRequest. Changes nothing; waits for nothing: an MR of the deployments project as GitLab reports it now
 * (state, head, merge commit, the env its target branch belongs to). Workflows read it after a merge attempt
 * failed, because GitLab may have merged all the same: the answer lost to a timeout, the worker gone after the
 * merge, or someone else merging it with another head. Safe to repeat: it only reads.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ReadMergeRequestResult, type ShepherdActivities } from '../../src/domain/activities.js';
import { defineActivity } from '../define.js';
import { envOfMergeRequest, type GitLabContext } from './support.js';

const STATES: readonly ReadMergeRequestResult['state'][] = ['opened', 'closed', 'locked', 'merged'];

export function createReadMergeRequest(ctx: GitLabContext): ShepherdActivities['readMergeRequest'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({ iid: ACTIVITY_FIELDS.positiveWhole() }),
    async run(input, { attempt }) {
      const mr = await client.getMergeRequest(layout.gitlab.deploymentsProject, input.iid);
      // GitLab's states are these four; anything else is reported as locked (in between, look again later).
      const state = STATES.find((s) => s === mr.state) ?? 'locked';
      return {
        iid: mr.iid,
        state,
        targetEnv: envOfMergeRequest(layout, mr),
        headSha: mr.sha,
        mergeCommitSha: state === 'merged' ? (mr.mergeCommitSha ?? mr.sha) : undefined,
        attempt,
      };
    },
  });
}
