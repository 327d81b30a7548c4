/** What a pipeline file's omitted fields default to with the seed's variables (the sandbox's names), for tests. */
import type { PipelineDefaults } from '../../src/config/pipeline-file.js';

export const SEED_DEFAULTS: PipelineDefaults = {
  group: 'p2c',
  deploymentsProject: 'p2c/k8s-deployments',
  registry: 'docker.jmann.local',
  argocdNamespace: 'argocd',
  promoteJob: ['promote-environment'],
  bump: { via: 'auto', branch: undefined },
  autoMerge: false,
};
