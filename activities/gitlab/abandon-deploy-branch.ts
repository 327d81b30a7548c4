/**
 * abandonDeployBranch: the undo of a job that opens an MR for the run (the promote job's `promote-{env}-{tag}`,
 * CI's `update-dev-{tag}`), registered before the run knows the MR's number. Changes: each open MR from the
 * branch (`imageTag`: that branch exactly; `version`: every `update-dev-{version}-…`) into the env branch gets a
 * note with `reason` and the run marker, then is closed; then the branch is deleted. Safe to repeat: the note is
 * not posted twice, a closed MR is left as is, a merged MR is never touched (its revert undoes it), and a missing
 * branch is "nothing to delete". Waits for nothing.
 */
import { environmentOrderOf } from '../../src/domain/pipeline.js';
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { TransientError } from '../../src/domain/errors.js';
import { defineActivity } from '../define.js';
import { carriesRunMarker, deployBranchMatcher, runMarkerTrailer } from './edits.js';
import { envBranchOf, type GitLabContext } from './support.js';

export function createAbandonDeployBranch(ctx: GitLabContext): ShepherdActivities['abandonDeployBranch'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z
      .object({
        appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
        targetEnv: ACTIVITY_FIELDS.environment(environmentOrderOf(layout)),
        imageTag: ACTIVITY_FIELDS.imageTag().optional(),
        version: z.string().optional(),
        commitSha: ACTIVITY_FIELDS.commitSha().optional(),
        reason: z.string(),
        runMarker: z.string(),
      })
      .refine(
        (i) =>
          i.imageTag !== undefined || (i.version !== undefined && i.version.trim() !== '') || i.commitSha !== undefined,
        { path: ['imageTag'], error: 'or version (or commitSha) must be given' },
      ),
    async run(input, { attempt }) {
      const project = layout.gitlab.deploymentsProject;
      const wanted = deployBranchMatcher(
        layout,
        input.targetEnv,
        input.imageTag !== undefined
          ? { imageTag: input.imageTag }
          : input.version !== undefined && input.version.trim() !== ''
            ? { version: input.version }
            : { commitSha: input.commitSha },
      );
      const exact = wanted.exact;
      const ours = (branch: string): boolean => wanted.matches(branch);
      const open = (
        await client.listMergeRequests(project, {
          state: 'opened',
          targetBranch: envBranchOf(layout, input.targetEnv),
          ...(exact !== undefined ? { sourceBranch: exact } : {}),
        })
      ).filter((mr) => ours(mr.sourceBranch));

      const closed: number[] = [];
      for (const mr of open) {
        const notes = await client.listNotes(project, mr.iid);
        if (!notes.some((n) => carriesRunMarker(n.body, input.runMarker) && n.body.startsWith(input.reason)))
          await client.addNote(project, mr.iid, `${input.reason}\n\n${runMarkerTrailer(input.runMarker)}`);
        const after = await client.closeMergeRequest(project, mr.iid);
        if (after.state === 'locked')
          throw new TransientError(`merge request !${mr.iid} is being merged; looking again`, { system: 'gitlab' });
        if (after.state === 'closed') closed.push(mr.iid);
      }
      const branches = new Set(open.map((mr) => mr.sourceBranch));
      if (exact !== undefined) branches.add(exact);
      const branchesDeleted: string[] = [];
      for (const branch of branches) if (await client.deleteBranch(project, branch)) branchesDeleted.push(branch);
      return { closed, branchesDeleted, attempt };
    },
  });
}
