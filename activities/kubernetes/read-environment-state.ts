/**
 * readEnvironmentState. Changes nothing; waits for nothing: what runs in the environment and what Argo CD says
 * about it (for a multi-source app, about the deployments repo's source; on a shared env branch, the last sync
 * operation counts for a later synced revision it is an ancestor of). A missing Application fails (NotFoundError);
 * a missing Deployment (before the first deploy) reads as no image. Safe to repeat: it only reads.
 */
import { z } from 'zod';
import { forSource, type DeploymentView } from '../../src/clients/kubernetes/index.js';
import type { ShepherdActivities } from '../../src/domain/activities.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { defineActivity } from '../define.js';
import {
  appEnvironmentFields,
  kubernetesFailure,
  resolveTarget,
  workloadClient,
  type KubernetesActivityDeps,
} from './common.js';
import { withOperationFollowingSync } from './ancestry.js';
import { toEnvironmentState } from './observations.js';

export function createReadEnvironmentState(deps: KubernetesActivityDeps): ShepherdActivities['readEnvironmentState'] {
  const { client, layout } = deps;
  return defineActivity({
    input: z.object(appEnvironmentFields(layout)),
    failure: kubernetesFailure,
    async run(input, { attempt }) {
      const target = resolveTarget(layout, input);
      // A multi-source app reports one revision per source: the deployments repo's is the one that matters.
      // On an env branch others commit to, Argo CD moves sync.revision on without a new sync operation: the last
      // operation still speaks for it when it synced an ancestor of it.
      const app = await withOperationFollowingSync(
        forSource(
          await client.getApplication(layout.argocdNamespace, target.argoApp),
          layout.gitlab.deploymentsProject,
        ),
        deps.ancestry,
      );
      let deployment: DeploymentView | undefined;
      try {
        deployment = await workloadClient(deps, target.env).readDeployment(target.namespace, target.deployment);
      } catch (err) {
        // Before the first deploy there is no Deployment yet: the state says so (no image) instead of failing.
        if (!(err instanceof NotFoundError)) throw err;
      }
      return toEnvironmentState(target, deployment, app, attempt);
    },
  });
}
