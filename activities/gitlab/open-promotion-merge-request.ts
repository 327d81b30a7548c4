/**
 * openPromotionMergeRequest. Changes: the branch of the layout's `promotion` template (the seed's
 * `promote-{target}-{tag}`) from the target environment's branch (created together with its commit), every image
 * declaration of the target environment (at its path in the environment's directory; the seed's: env.cue's line in
 * the `{env}: {cueName}:` block and the app container's line in the rendered manifest) set to
 * `{registry}/{group}/{app}:{tag}` keeping each file's formatting (`./declarations/`), and an MR into that branch
 * titled `Promote {app} to {env}: {tag}` describing
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
import { writeImage } from './declarations/index.js';
import { imageReference, promotionBranch, runMarkerTrailer } from './edits.js';
import { declarationContext, declarationsIn, envBranchOf, mergeRequestRef, type GitLabContext } from './support.js';

export function createOpenPromotionMergeRequest(ctx: GitLabContext): ShepherdActivities['openPromotionMergeRequest'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: promotionInput(layout.app.name, { runMarker: ACTIVITY_FIELDS.text() }, environmentOrderOf(layout)),
    async run(input, { attempt }) {
      const source = input.sourceEnv;
      const target = input.targetEnv;
      const project = layout.gitlab.deploymentsProject;
      const envBranch = envBranchOf(layout, target);
      const branch = promotionBranch(layout, target, input.imageTag, source);
      const image = imageReference(layout.registry, layout.app.name, input.imageTag);
      const title = `Promote ${layout.app.name} to ${target}: ${input.imageTag}`;
      const context = declarationContext(layout, target);

      /** The updates `ref` still needs to declare `image`; empty when it already does. */
      const updatesFor = async (ref: string): Promise<FileUpdate[]> => {
        const files = new Map<string, { before: string; after: string; lastCommitId: string }>();
        for (const { declaration, path } of declarationsIn(layout, target)) {
          let file = files.get(path);
          if (file === undefined) {
            const read = await client.readFile(project, path, ref);
            file = { before: read.content, after: read.content, lastCommitId: read.lastCommitId };
            files.set(path, file);
          }
          file.after = writeImage(declaration, file.after, context, image, path);
        }
        return [...files]
          .filter(([, f]) => f.after !== f.before)
          .map(([path, f]) => ({ filePath: path, content: f.after, lastCommitId: f.lastCommitId }));
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
        mergeRequest: mergeRequestRef(layout, current, target, input.imageTag),
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
