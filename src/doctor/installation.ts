/**
 * What `shepherd doctor` checks: the installation Shepherd is configured for, in one shape whether it comes from the
 * configuration (external mode) or from the sandbox world that runs on the state folder (embedded mode). Built by the
 * CLI; the checks only read it. Tokens stay wrapped in `Secret` and are never part of a check's result.
 */
import type { CompanyCa } from '../config/company-ca.js';
import type { Secret } from '../config/secret.js';
import type { Environment } from '../domain/environments.js';
import type { TemporalTarget } from '../temporal/connection.js';

export interface Installation {
  /** Undefined when there is no Temporal server to reach; `temporalProblem` then says why. */
  readonly temporal: TemporalTarget | undefined;
  readonly temporalProblem?: string;
  readonly taskQueue: string;
  readonly gitlab: {
    readonly url: string;
    readonly token: Secret;
    readonly appProject: string;
    readonly deploymentsProject: string;
  };
  readonly jenkins: {
    readonly url: string;
    readonly user: string;
    readonly token: Secret;
    readonly appJob: readonly string[];
    readonly promoteJob: readonly string[];
  };
  readonly kubernetes: { readonly kubeconfig: string | undefined; readonly context: string | undefined };
  readonly app: string;
  readonly argocdNamespace: string;
  readonly environments: Readonly<
    Record<
      Environment,
      {
        readonly namespace: string;
        readonly branch: string;
        readonly argoApp: string;
        /**
         * The cluster of the environment's workload when it is not Argo CD's (SHEPHERD_KUBECONFIG_<ENV>, or the
         * pipeline's `clusters`): `name` groups the environments on one cluster (default: the environment's name),
         * `credentialVariable` and `contextVariable` are the settings a fix names (default:
         * SHEPHERD_KUBECONFIG_<ENV>, SHEPHERD_KUBE_CONTEXT_<ENV>).
         */
        readonly cluster?: {
          readonly kubeconfig: string | undefined;
          readonly context: string | undefined;
          readonly name?: string | undefined;
          readonly credentialVariable?: string | undefined;
          readonly contextVariable?: string | undefined;
        };
      }
    >
  >;
  /**
   * Sandbox mode: the fix for wrong credentials or an unreachable system (the sandbox issues them; the user does not
   * set them). Undefined for real systems, whose fixes name the variables below.
   */
  readonly sandboxFix?: string;
  /** SHEPHERD_CA_FILE (or the sandbox world's own CA): trusted by the probes besides the default roots. */
  readonly companyCa?: CompanyCa | undefined;
  /** The settings users change, named in fixes. */
  readonly names: {
    readonly gitlabUrl: string;
    readonly gitlabToken: string;
    readonly jenkinsUrl: string;
    readonly jenkinsCredentials: string;
    readonly kubeconfig: string;
  };
}
