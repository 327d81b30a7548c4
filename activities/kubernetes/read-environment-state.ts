/** readEnvironmentState: what runs in an environment and what Argo CD says about it, in one look. */
import { Context } from '@temporalio/activity';
import type { DeploymentView } from '../../src/clients/kubernetes/index.js';
import type { EnvironmentState, ReadEnvironmentStateInput } from '../../src/domain/activities.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { asActivity, resolveTarget, type KubernetesActivityDeps } from './common.js';
import { toEnvironmentState } from './observations.js';

export function createReadEnvironmentState(
  deps: KubernetesActivityDeps,
): (input: ReadEnvironmentStateInput) => Promise<EnvironmentState> {
  const { client, layout } = deps;
  return (input) =>
    asActivity(async () => {
      const target = resolveTarget(layout, input);
      const app = await client.getApplication(layout.argocdNamespace, target.argoApp);
      let deployment: DeploymentView | undefined;
      try {
        deployment = await client.readDeployment(target.namespace, target.appName);
      } catch (err) {
        // Before the first deploy there is no Deployment yet: the state says so (no image) instead of failing.
        if (!(err instanceof NotFoundError)) throw err;
      }
      return toEnvironmentState(target, deployment, app, Context.current().info.attempt);
    });
}
