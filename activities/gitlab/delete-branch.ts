/**
 * deleteBranch: the undo of pushing a branch. Changes: deletes it from the deployments project. Safe to repeat: a
 * missing branch is success (`deleted: false`). Refuses (ValidationError) env branches, the default branch and any
 * name outside the run's prefixes: those of the layout's dev and promotion branch templates (the seed's
 * `update-dev-`, `promote-`) and `revert-`. Waits for nothing.
 */
import { z } from 'zod';
import type { ShepherdActivities } from '../../src/domain/activities.js';
import { ValidationError } from '../../src/domain/errors.js';
import { defineActivity } from '../define.js';
import { runBranchPrefixes } from './edits.js';
import { envOfBranch, type GitLabContext } from './support.js';

export function createDeleteBranch(ctx: GitLabContext): ShepherdActivities['deleteBranch'] {
  const { client, layout } = ctx;
  const prefixes = runBranchPrefixes(layout);
  const RUN_BRANCH_RULE = `must start with one of ${prefixes.join(', ')}`;
  return defineActivity({
    input: z.object({
      branch: z
        .string({ error: RUN_BRANCH_RULE })
        .refine((b) => prefixes.some((p) => b.startsWith(p) && b.length > p.length), {
          error: RUN_BRANCH_RULE,
        })
        .refine((b) => envOfBranch(layout, b) === undefined, { error: 'must not be an environment branch' }),
    }),
    async run({ branch }, { attempt }) {
      const project = layout.gitlab.deploymentsProject;
      const { defaultBranch } = await client.getProject(project);
      if (branch === defaultBranch) throw new ValidationError('branch', 'must not be the default branch');
      return { deleted: await client.deleteBranch(project, branch), attempt };
    },
  });
}
