/**
 * closeMergeRequest: the undo of opening an MR. Changes: a note with `reason` and the run marker, then state
 * closed. Safe to repeat: the note is not posted twice (an earlier note of this run with the same reason is found
 * first), a closed MR is left as is, and a merged MR is never touched (reported as `merged`: revert it instead).
 * Waits for nothing.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { TransientError } from '../../src/domain/errors.js';
import { defineActivity } from '../define.js';
import { carriesRunMarker, runMarkerTrailer } from './edits.js';
import type { GitLabContext } from './support.js';

export function createCloseMergeRequest(ctx: GitLabContext): ShepherdActivities['closeMergeRequest'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      iid: ACTIVITY_FIELDS.positiveWhole(),
      reason: z.string(),
      runMarker: z.string(),
    }),
    async run(input, { attempt }) {
      const project = layout.gitlab.deploymentsProject;
      const mr = await client.getMergeRequest(project, input.iid);
      if (mr.state === 'merged' || mr.state === 'closed') return { stateBefore: mr.state, attempt };
      if (mr.state === 'locked')
        throw new TransientError(`merge request !${input.iid} is being merged; looking again`, { system: 'gitlab' });
      const notes = await client.listNotes(project, input.iid);
      if (!notes.some((n) => carriesRunMarker(n.body, input.runMarker) && n.body.startsWith(input.reason)))
        await client.addNote(project, input.iid, `${input.reason}\n\n${runMarkerTrailer(input.runMarker)}`);
      const closed = await client.closeMergeRequest(project, input.iid);
      return { stateBefore: closed.state === 'merged' ? 'merged' : 'opened', attempt };
    },
  });
}
