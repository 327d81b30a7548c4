/**
 * openPromotionMergeRequest. Changes: branch `promote-{targetEnv}-{imageTag}` from the target env branch (created
 * together with its commit), the image reference in the configured image files (env.cue's line in the
 * `{env}: {cueApp}:` block, the app container's line in the rendered manifest) set to
 * `{registry}/{group}/{app}:{tag}`, and an MR into the env branch titled `Promote {app} to {env}: {tag}` describing
 * the promotion, with the run marker and `remove_source_branch` (GitLab deletes the branch once it merges).
 * Safe to repeat: an existing branch is reused (a commit is added only when it does not yet carry the image), and
 * an open MR for the same branch pair is reused. Waits for nothing.
 */
import { environmentOrderOf } from '../../src/domain/pipeline.js';
import {
  ACTIVITY_FIELDS,
  promotionInput,
  type OpenPromotionMergeRequestInput,
  type ShepherdActivities,
} from '../../src/domain/activities.js';
import { ValidationError } from '../../src/domain/errors.js';
import type { FileUpdate } from '../../src/clients/gitlab/index.js';
import { defineActivity } from '../define.js';
import { imageReference, promotionBranch, runMarkerTrailer, setImageInEnvCue, setImageInManifest } from './edits.js';
import { envBranchOf, mergeRequestRef, type GitLabContext } from './support.js';

export function createOpenPromotionMergeRequest(ctx: GitLabContext): ShepherdActivities['openPromotionMergeRequest'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: promotionInput(layout.app.name, { runMarker: ACTIVITY_FIELDS.text() }, environmentOrderOf(layout)),
    async run(input, { attempt }) {
      const source = input.sourceEnv;
      const target = input.targetEnv;
      const project = layout.gitlab.deploymentsProject;
      const envBranch = envBranchOf(layout, target);
      const branch = promotionBranch(target, input.imageTag);
      const image = imageReference(layout.registry, layout.app.name, input.imageTag);
      const title = `Promote ${layout.app.name} to ${target}: ${input.imageTag}`;

      /** The updates `ref` still needs to declare `image`; empty when it already does. */
      const updatesFor = async (ref: string): Promise<FileUpdate[]> => {
        const updates: FileUpdate[] = [];
        for (const path of layout.gitlab.imageFiles) {
          const file = await client.readFile(project, path, ref);
          const next = path.endsWith('.cue')
            ? setImageInEnvCue(file.content, target, layout.app.cueName, image, path)
            : setImageInManifest(file.content, layout.app.name, image, path);
          if (next !== file.content) updates.push({ filePath: path, content: next, lastCommitId: file.lastCommitId });
        }
        return updates;
      };
      const message = `${title}\n\nAutomated promotion from ${source}.\n\nImage: ${image}\nSource environment: ${source}\n\n${runMarkerTrailer(input.runMarker)}\n`;

      let branchCreated = false;
      if ((await client.getBranch(project, branch)) === undefined) {
        const updates = await updatesFor(envBranch);
        if (updates.length === 0)
          throw new ValidationError('imageTag', `is already the image ${target} declares: nothing to promote`);
        await client.commitFiles(project, { branch, startBranch: envBranch, message, updates });
        branchCreated = true;
      } else {
        const updates = await updatesFor(branch);
        if (updates.length > 0) await client.commitFiles(project, { branch, message, updates });
      }

      const [open] = await client.listMergeRequests(project, {
        state: 'opened',
        sourceBranch: branch,
        targetBranch: envBranch,
      });
      let mergeRequestCreated = false;
      let iid = open?.iid;
      if (iid === undefined) {
        const created = await client.createMergeRequest(project, {
          sourceBranch: branch,
          targetBranch: envBranch,
          title,
          description: promotionDescription(input, image),
          removeSourceBranch: true,
        });
        mergeRequestCreated = created.created;
        iid = created.mergeRequest.iid;
      }
      const current = await client.getMergeRequest(project, iid);
      return {
        mergeRequest: mergeRequestRef(current, target, input.imageTag),
        branchCreated,
        mergeRequestCreated,
        attempt,
      };
    },
  });
}

function promotionDescription(input: OpenPromotionMergeRequestInput, image: string): string {
  return [
    `## Promotion from ${input.sourceEnv} to ${input.targetEnv}`,
    '',
    `**Application:** ${input.appName}`,
    `**Image Tag:** ${input.imageTag}`,
    `**Source Environment:** ${input.sourceEnv}`,
    `**Target Environment:** ${input.targetEnv}`,
    '',
    '### Changes',
    `- Image: \`${image}\``,
    '',
    `After the merge, Argo CD deploys it to ${input.targetEnv}.`,
    '',
    '---',
    '*Opened by Shepherd*',
    '',
    runMarkerTrailer(input.runMarker),
  ].join('\n');
}
