/**
 * readDeclaredImage. Changes nothing; waits for nothing: the image an env branch of the deployments repo declares
 * for the app, at a given commit or at the branch head. Every configured image file is read (env.cue's
 * `{env}: {cueApp}:` block, the app container in the rendered manifest Argo CD applies) and must name the same
 * image: files that disagree are a broken branch (the manifests were not regenerated), refused with
 * ValidationError naming both, since neither is a safe place to roll back to. Safe to repeat: it only reads.
 */
import { environmentOrderOf } from '../../src/domain/pipeline.js';
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { imageTagOf } from '../../src/domain/image-reference.js';
import { defineActivity } from '../define.js';
import { imageInEnvCue, imageInManifest } from './edits.js';
import { envBranchOf, type GitLabContext } from './support.js';

export function createReadDeclaredImage(ctx: GitLabContext): ShepherdActivities['readDeclaredImage'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      env: ACTIVITY_FIELDS.environment(environmentOrderOf(layout)),
      ref: ACTIVITY_FIELDS.commitSha().optional(),
    }),
    async run(input, { attempt }) {
      const project = layout.gitlab.deploymentsProject;
      const branch = envBranchOf(layout, input.env);
      let commitSha = input.ref;
      if (commitSha === undefined) {
        const head = await client.getBranch(project, branch);
        if (head === undefined)
          throw new NotFoundError({ system: 'gitlab', kind: 'branch', name: `${project}: ${branch}` });
        commitSha = head.headSha;
      }
      const files: { path: string; image: string }[] = [];
      for (const path of layout.gitlab.imageFiles) {
        const file = await client.readFile(project, path, commitSha);
        const image = path.endsWith('.cue')
          ? imageInEnvCue(file.content, input.env, layout.app.cueName, path)
          : imageInManifest(file.content, layout.app.name, path);
        files.push({ path, image });
      }
      const [first] = files;
      if (first === undefined)
        throw new ValidationError('imageFiles', 'must name at least one file that declares the image');
      const other = files.find((f) => f.image !== first.image);
      if (other !== undefined)
        throw new ValidationError(
          'imageFiles',
          `must declare one image on ${branch}`,
          `${branch} at ${commitSha.slice(0, 8)} declares ${first.image} in ${first.path} but ${other.image} in ${other.path}: regenerate the manifests on ${branch} (generate-manifests.sh) before promoting to ${input.env}`,
        );
      return { env: input.env, commitSha, image: first.image, imageTag: imageTagOf(first.image), files, attempt };
    },
  });
}
