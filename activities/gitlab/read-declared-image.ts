/**
 * readDeclaredImage. Changes nothing; waits for nothing: the image an environment's files in the deployments repo
 * declare for the app, at a given commit or at the head of its branch. Every image declaration of the app's layout
 * is read at its path for the environment (the seed's: env.cue's `{env}: {cueName}:` block and the app container
 * in the rendered manifest; else a container's image, a kustomize `images:` entry or Helm values keys, see
 * `./declarations/`) and all must name the same image: declarations that disagree are a broken branch (e.g. the
 * manifests were not regenerated), refused with ValidationError naming both, since neither is a safe place to roll
 * back to. Safe to repeat: it only reads.
 */
import { environmentOrderOf } from '../../src/domain/pipeline.js';
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { imageTagOf } from '../../src/domain/image-reference.js';
import { defineActivity } from '../define.js';
import { readImage } from './declarations/index.js';
import { declarationContext, declarationsIn, envBranchOf, type GitLabContext } from './support.js';

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
      const context = declarationContext(layout, input.env);
      const contents = new Map<string, string>();
      for (const { declaration, path } of declarationsIn(layout, input.env)) {
        const content = contents.get(path) ?? (await client.readFile(project, path, commitSha)).content;
        contents.set(path, content);
        files.push({ path, image: readImage(declaration, content, context, path) });
      }
      const [first] = files;
      if (first === undefined)
        throw new ValidationError('imageDeclarations', 'must name at least one file that declares the image');
      const other = files.find((f) => f.image !== first.image);
      if (other !== undefined)
        throw new ValidationError(
          'imageDeclarations',
          `must declare one image on ${branch}`,
          `${branch} at ${commitSha.slice(0, 8)} declares ${first.image} in ${first.path} but ${other.image} in ${other.path}: regenerate the manifests on ${branch} (generate-manifests.sh), or make its image declarations agree, before promoting to ${input.env}`,
        );
      return { env: input.env, commitSha, image: first.image, imageTag: imageTagOf(first.image), files, attempt };
    },
  });
}
