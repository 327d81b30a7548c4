/**
 * The variables that configure Shepherd for external mode, pointed at a sandbox world's systems: what a team writes
 * for its real GitLab, Jenkins and cluster, so that a test can run the configured (not the embedded) path.
 */
import type { WorldInfo } from '../../src/sandbox/world/world.js';

export function externalVariables(info: Pick<WorldInfo, 'gitlab' | 'jenkins' | 'kubernetes'>): Record<string, string> {
  return {
    GITLAB_URL_EXTERNAL: info.gitlab.url,
    GITLAB_TOKEN: info.gitlab.token,
    JENKINS_URL_EXTERNAL: info.jenkins.url,
    JENKINS_USER: info.jenkins.user,
    JENKINS_TOKEN: info.jenkins.token,
    KUBECONFIG: info.kubernetes.kubeconfig,
  };
}
