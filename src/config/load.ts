/**
 * Loads Shepherd's configuration from the environment and an optional env file, validates every variable against
 * its rule in `variables.ts`, and reports every problem at once. Values from the process environment win over
 * the env file. Secrets come back wrapped in `Secret`, so the result can be printed safely.
 */
import { isAbsolute, resolve } from 'node:path';
import { readCompanyCa, type CompanyCa } from './company-ca.js';
import { readEnvFile } from './env-file.js';
import { DEFAULT_STATE_DIR } from './paths.js';
import { Secret } from './secret.js';
import {
  INFRA_ENV_PASSTHROUGH,
  VARIABLES,
  VARIABLE_BY_NAME,
  type LOG_FORMATS,
  type LOG_LEVELS,
  type Variable,
} from './variables.js';
import type { Environment } from '../domain/environments.js';
import type { DeclaredPipeline } from '../domain/pipeline.js';
import { loadPipelineFile } from './pipeline-file.js';
import { seedPipeline } from './pipeline.js';
import type { UnstableBuildOutcome } from '../domain/inputs.js';

/** One thing wrong with the configuration. `variable` is the name a user sets. */
export interface ConfigProblem {
  readonly variable: string;
  readonly rule: string;
  readonly message: string;
}

/** A variable that looks like Shepherd's but is not one it reads: most likely a typo, ignored until fixed. */
export interface ConfigWarning {
  readonly variable: string;
  /** The known name closest to it, when one is close enough to be the intended one. */
  readonly suggestion: string | undefined;
  readonly message: string;
}

/**
 * Configuration that cannot be used; the message lists every problem, never a secret's value, and the unknown
 * variables beside them (a misspelt name is often why a required one is missing).
 */
export class ConfigError extends Error {
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly warnings: readonly ConfigWarning[] = [],
  ) {
    super(
      `Configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n') +
        warnings.map((w) => `\n  warning: ${w.message}`).join('') +
        '\nFix the variables above (environment or --vars-file) and run the command again.',
    );
    this.name = 'ConfigError';
  }
}

/** Older names that mean the same as a current one; the current name wins when both are set. */
const ALIASES: Readonly<Record<string, string>> = {
  K8S_DEPLOYMENTS_REPO_PATH: 'DEPLOYMENTS_REPO_PATH',
  CONTAINER_REGISTRY_EXTERNAL: 'DOCKER_REGISTRY_EXTERNAL',
};

export interface TemporalConfig {
  /** Unset: the embedded dev server is started. */
  readonly address: string | undefined;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly tls:
    | {
        readonly certPath?: string;
        readonly keyPath?: string;
        readonly caPath?: string;
        readonly serverName?: string;
        /** SHEPHERD_CA_FILE, trusted besides the default roots when TEMPORAL_TLS_CA_PATH does not replace them. */
        readonly companyCa?: CompanyCa;
      }
    | undefined;
  readonly apiKey: Secret | undefined;
  readonly stateDir: string;
  readonly devServerPort: number;
  readonly uiPort: number;
}

export interface GitLabConfig {
  readonly url: string;
  readonly token: Secret;
  readonly appProject: string;
  readonly deploymentsProject: string;
}

export interface JenkinsConfig {
  readonly url: string;
  readonly user: string;
  readonly token: Secret;
  /** Job path segments, e.g. `['example-app', 'main']`. */
  readonly appJob: readonly string[];
  readonly promoteJob: readonly string[];
  /** The app repo's URLs as the CI job clones it (APP_REPO_URL); empty: matched by the project path alone. */
  readonly appRepoUrls: readonly string[];
}

export interface KubernetesConfig {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly argocdNamespace: string;
  /** Environments whose Application Shepherd syncs itself (SHEPHERD_ARGOCD_MANUAL_SYNC); part C. */
  readonly argocdManualSync: readonly Environment[];
  /** The app's Deployment (SHEPHERD_DEPLOYMENT; default: the app name). */
  readonly deployment: string;
  /** The container to verify (SHEPHERD_CONTAINER); undefined: the one named like the app, or the only one. */
  readonly container: string | undefined;
}

export interface EnvironmentConfig {
  readonly name: Environment;
  readonly namespace: string;
  /** The deployments-repo branch Argo CD tracks for this environment. */
  readonly branch: string;
  readonly argoApp: string;
  /**
   * The cluster that runs this environment's workload (Deployment, pods), when it is not the Argo CD cluster of
   * `kubernetes` (SHEPHERD_KUBECONFIG_<ENV>, SHEPHERD_KUBE_CONTEXT_<ENV>). Argo CD's Applications are always read
   * from the Argo CD cluster.
   */
  readonly cluster?: ClusterConfig;
}

/** A kubeconfig file and a context in it; undefined fields: the default kubeconfig, its current context. */
export interface ClusterConfig {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
}

export interface ShepherdConfig {
  /** `embedded`: the sandbox world stands in for GitLab, Jenkins and the cluster. `external`: the real systems. */
  readonly mode: 'embedded' | 'external';
  readonly temporal: TemporalConfig;
  /** Present in external mode; the sandbox supplies its own in embedded mode. */
  readonly gitlab: GitLabConfig | undefined;
  readonly jenkins: JenkinsConfig | undefined;
  readonly kubernetes: KubernetesConfig;
  readonly app: { readonly name: string; readonly cueName: string };
  readonly environments: Readonly<Record<Environment, EnvironmentConfig>>;
  readonly registry: { readonly external: string; readonly internal: string | undefined };
  readonly timeouts: {
    /** Overrides of the workflows' wait budgets (WAIT_BUDGETS); unset: the preset. */
    readonly jenkinsBuildSeconds: number | undefined;
    /** JENKINS_BUILD_START_TIMEOUT: the `ciBuildStart` budget. */
    readonly jenkinsBuildStartSeconds: number | undefined;
    readonly argoSyncSeconds: number | undefined;
    readonly mergeRequestSeconds: number | undefined;
    /** Passed to the workflows as `heartbeatTimeout`. */
    readonly heartbeat: string;
  };
  /** Where and how the nightly validation commits its version bump (SHEPHERD_BUMP_VIA, SHEPHERD_BUMP_BRANCH). */
  readonly bump: { readonly via: 'auto' | 'push' | 'merge-request'; readonly branch: string | undefined };
  /** Passed to the workflows as `unstableBuilds`: what an UNSTABLE Jenkins build means to a run. */
  readonly unstableBuilds: UnstableBuildOutcome;
  /** The poll intervals of waits in ms (undefined: the activities' defaults); webhooks: `webhooks.enabled`. */
  readonly waits: {
    readonly pollGitlabMs: number | undefined;
    readonly pollJenkinsMs: number | undefined;
    readonly pollKubernetesMs: number | undefined;
    readonly fallbackMs: number | undefined;
  };
  readonly approvals: {
    readonly environments: readonly Environment[];
    readonly approvers: readonly string[];
    readonly timeout: string;
    /** Part B: where gated promotions get their approval (SHEPHERD_APPROVALS_SOURCE). */
    readonly source: 'temporal' | 'gitlab';
    /** Part B: the token `shepherd approve` approves with in GitLab (SHEPHERD_APPROVER_TOKEN); CLI only. */
    readonly approverToken: Secret | undefined;
  };
  readonly notifications: { readonly webhookUrl: Secret | undefined };
  /** The webhook receiver (src/webhooks): where it listens, its public URL, its secrets and body limit. */
  readonly webhooks: {
    /** Undefined: unset (the sandbox modes turn webhooks on, the configured installation keeps them off). */
    readonly enabled: boolean | undefined;
    readonly address: string | undefined;
    readonly url: string | undefined;
    readonly gitlabToken: Secret | undefined;
    readonly jenkinsToken: Secret | undefined;
    readonly maxBodyBytes: number;
  };
  /** `host:port` addresses of the worker's endpoints; undefined: not served. */
  readonly observability: {
    readonly healthAddress: string | undefined;
    readonly metricsAddress: string | undefined;
    /** Tracing is on when this is set (see src/observability/tracing.ts). */
    readonly otlpEndpoint: string | undefined;
    readonly otlpHeaders: Secret | undefined;
    readonly serviceName: string;
    readonly logLevel: LogLevelName;
    /** Undefined: the worker picks pretty on a terminal, json otherwise. */
    readonly logFormat: LogFormatName | undefined;
  };
  /** Part A: how Shepherd merges in GitLab. `autoMerge`: arm auto-merge while the MR pipeline runs. */
  readonly gitlabMerge: { readonly autoMerge: boolean };
  /** SHEPHERD_CA_FILE, read and checked: the company CA every client trusts besides the default roots. */
  readonly companyCa: CompanyCa | undefined;
  /**
   * The declared pipeline: the file SHEPHERD_PIPELINE names (`--pipeline`), or the seed's installation written out
   * from the variables above (`seedPipeline`). `pipelineFile` is the file's absolute path, when there is one.
   */
  readonly pipeline: DeclaredPipeline;
  readonly pipelineFile: string | undefined;
}

export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogFormatName = (typeof LOG_FORMATS)[number];

export interface LoadOptions {
  /** The process environment; defaults to `process.env`. */
  readonly env?: Record<string, string | undefined>;
  /** An env file (infra.env style, given with `--vars-file`) read before the environment. */
  readonly envFile?: string;
  /** Base for relative paths; defaults to the current directory. */
  readonly cwd?: string;
  /**
   * Variables that win over the environment and the env file: the settings a sandbox world's installation needs
   * (`WorldInfo.settings`), applied by `configForWorld`.
   */
  readonly overrides?: Readonly<Record<string, string>>;
}

function describe(variable: Variable, raw: string): string {
  if (variable.secret) return `must be ${variable.rule} (value hidden)`;
  const shown = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw;
  return `must be ${variable.rule}, got ${JSON.stringify(shown)}`;
}

/** Reads and validates the configuration. Throws `ConfigError` listing every problem. */
export function loadConfig(opts: LoadOptions = {}): ShepherdConfig {
  return checkConfig(opts).config;
}

/**
 * Reads and validates the configuration and names the variables it ignored as likely typos (from the environment
 * and the env file). Throws `EnvFileError` for an unreadable env file, `ConfigError` listing every problem.
 */
export function checkConfig(opts: LoadOptions = {}): { config: ShepherdConfig; warnings: ConfigWarning[] } {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const fromFile = opts.envFile ? readEnvFile(resolve(cwd, opts.envFile), env) : {};
  const overrides = opts.overrides ?? {};
  const warnings = unknownVariables({ ...env, ...fromFile });
  return { config: validate({ ...env, ...overrides }, fromFile, cwd, warnings), warnings };
}

function validate(
  env: Record<string, string | undefined>,
  fromFile: Record<string, string>,
  cwd: string,
  warnings: readonly ConfigWarning[],
): ShepherdConfig {
  const merged: Record<string, string> = {};
  for (const [k, val] of Object.entries({ ...fromFile, ...env })) if (val !== undefined && val !== '') merged[k] = val;
  for (const [old, current] of Object.entries(ALIASES))
    if (merged[old] !== undefined && merged[current] === undefined) merged[current] = merged[old]!;

  const problems: ConfigProblem[] = [];
  const values = new Map<string, unknown>();
  for (const variable of VARIABLES) {
    const raw = merged[variable.name] ?? variable.default;
    if (raw === undefined) continue;
    const parsed = variable.schema.safeParse(raw);
    if (parsed.success) values.set(variable.name, variable.secret ? new Secret(String(parsed.data)) : parsed.data);
    else problems.push({ variable: variable.name, rule: variable.rule, message: describe(variable, raw) });
  }
  const get = <T>(name: string): T | undefined => values.get(name) as T | undefined;
  const need = <T>(name: string, why: string): T | undefined => {
    const got = get<T>(name);
    if (got === undefined && !problems.some((p) => p.variable === name)) {
      const variable = VARIABLE_BY_NAME.get(name)!;
      problems.push({ variable: name, rule: variable.rule, message: `is required ${why}` });
    }
    return got;
  };

  const gitlabUrl = get<string>('GITLAB_URL_EXTERNAL') ?? get<string>('GITLAB_URL_INTERNAL');
  const jenkinsUrl = get<string>('JENKINS_URL_EXTERNAL') ?? get<string>('JENKINS_URL_INTERNAL');
  const external =
    merged.GITLAB_URL_EXTERNAL !== undefined ||
    merged.GITLAB_URL_INTERNAL !== undefined ||
    merged.JENKINS_URL_EXTERNAL !== undefined ||
    merged.JENKINS_URL_INTERNAL !== undefined;
  const group = get<string>('GITLAB_GROUP')!;
  const appName = get<string>('APP_REPO_NAME') ?? 'example-app';

  let gitlab: GitLabConfig | undefined;
  let jenkins: JenkinsConfig | undefined;
  if (external) {
    const why = 'when real systems are configured (GITLAB_URL_* or JENKINS_URL_* is set)';
    if (gitlabUrl === undefined) need('GITLAB_URL_EXTERNAL', why);
    const token = need<Secret>('GITLAB_TOKEN', why);
    if (jenkinsUrl === undefined) need('JENKINS_URL_EXTERNAL', why);
    const user = need<string>('JENKINS_USER', why);
    const jenkinsToken = need<Secret>('JENKINS_TOKEN', why);
    if (gitlabUrl && token) {
      gitlab = {
        url: gitlabUrl,
        token,
        appProject: get<string>('APP_REPO_PATH') ?? `${group}/${appName}`,
        deploymentsProject: get<string>('DEPLOYMENTS_REPO_PATH') ?? `${group}/${get<string>('DEPLOYMENTS_REPO_NAME')}`,
      };
    }
    if (jenkinsUrl && user && jenkinsToken) {
      jenkins = {
        url: jenkinsUrl,
        user,
        token: jenkinsToken,
        appJob: jobSegments(get<string>('JENKINS_APP_JOB_PATH')!),
        promoteJob: jobSegments(get<string>('JENKINS_PROMOTE_JOB_NAME')!),
        appRepoUrls: get<string[]>('APP_REPO_URL') ?? [],
      };
    }
  }

  const certPath = get<string>('TEMPORAL_TLS_CERT_PATH');
  const keyPath = get<string>('TEMPORAL_TLS_KEY_PATH');
  if ((certPath === undefined) !== (keyPath === undefined)) {
    const missing = certPath === undefined ? 'TEMPORAL_TLS_CERT_PATH' : 'TEMPORAL_TLS_KEY_PATH';
    problems.push({
      variable: missing,
      rule: 'set together with its pair',
      message: 'is required when the other half of the client certificate pair is set',
    });
  }
  const apiKey = get<Secret>('TEMPORAL_API_KEY');
  const address = get<string>('TEMPORAL_ADDRESS');
  if ((certPath || apiKey || get<boolean>('TEMPORAL_TLS')) && address === undefined) {
    problems.push({
      variable: 'TEMPORAL_ADDRESS',
      rule: 'host:port',
      message: 'is required when TLS or an API key is configured (the embedded dev server has neither)',
    });
  }
  const tlsWanted =
    get<boolean>('TEMPORAL_TLS') === true ||
    certPath !== undefined ||
    apiKey !== undefined ||
    get<string>('TEMPORAL_TLS_CA_PATH') !== undefined;

  const abs = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : isAbsolute(p) ? p : resolve(cwd, p);
  let companyCa: CompanyCa | undefined;
  const caFile = abs(get<string>('SHEPHERD_CA_FILE'));
  if (caFile !== undefined) {
    const read = readCompanyCa(caFile);
    if ('problem' in read) {
      const rule = VARIABLE_BY_NAME.get('SHEPHERD_CA_FILE')!.rule;
      problems.push({ variable: 'SHEPHERD_CA_FILE', rule, message: read.problem });
    } else companyCa = read;
  }

  if (problems.length > 0) throw new ConfigError(problems, warnings);

  const envConfig = (name: Environment, nsVar: string): EnvironmentConfig => {
    const ownKubeconfig = abs(get<string>(`SHEPHERD_KUBECONFIG_${name.toUpperCase()}`)?.split(':')[0]);
    const ownContext = get<string>(`SHEPHERD_KUBE_CONTEXT_${name.toUpperCase()}`);
    return {
      name,
      namespace: get<string>(nsVar)!,
      branch: name,
      argoApp: `${appName}-${name}`,
      ...(ownKubeconfig !== undefined || ownContext !== undefined
        ? {
            cluster: {
              kubeconfig: ownKubeconfig ?? abs(get<string>('KUBECONFIG')?.split(':')[0]),
              // A kubeconfig of its own starts from its current context; a context in KUBECONFIG is named.
              context: ownContext ?? (ownKubeconfig === undefined ? get<string>('SHEPHERD_KUBE_CONTEXT') : undefined),
            },
          }
        : {}),
    };
  };

  const pipelinePath = abs(get<string>('SHEPHERD_PIPELINE'));
  const base = {
    mode: external ? 'external' : 'embedded',
    temporal: {
      address,
      namespace: get<string>('TEMPORAL_NAMESPACE')!,
      taskQueue: get<string>('TEMPORAL_TASK_QUEUE')!,
      tls: tlsWanted
        ? {
            ...(certPath ? { certPath: abs(certPath)! } : {}),
            ...(keyPath ? { keyPath: abs(keyPath)! } : {}),
            ...(get<string>('TEMPORAL_TLS_CA_PATH') ? { caPath: abs(get<string>('TEMPORAL_TLS_CA_PATH'))! } : {}),
            ...(get<string>('TEMPORAL_TLS_SERVER_NAME')
              ? { serverName: get<string>('TEMPORAL_TLS_SERVER_NAME')! }
              : {}),
            ...(companyCa ? { companyCa } : {}),
          }
        : undefined,
      apiKey,
      stateDir: abs(get<string>('SHEPHERD_STATE_DIR')) ?? DEFAULT_STATE_DIR,
      devServerPort: get<number>('SHEPHERD_TEMPORAL_PORT')!,
      uiPort: get<number>('SHEPHERD_UI_PORT')!,
    },
    gitlab,
    jenkins,
    kubernetes: {
      kubeconfig: abs(get<string>('KUBECONFIG')?.split(':')[0]),
      context: get<string>('SHEPHERD_KUBE_CONTEXT'),
      argocdNamespace: get<string>('ARGOCD_NAMESPACE')!,
      argocdManualSync: get<Environment[]>('SHEPHERD_ARGOCD_MANUAL_SYNC') ?? [],
      deployment: get<string>('SHEPHERD_DEPLOYMENT') ?? appName,
      container: get<string>('SHEPHERD_CONTAINER'),
    },
    app: { name: appName, cueName: get<string>('APP_CUE_NAME')! },
    environments: {
      dev: envConfig('dev', 'DEV_NAMESPACE'),
      stage: envConfig('stage', 'STAGE_NAMESPACE'),
      prod: envConfig('prod', 'PROD_NAMESPACE'),
    },
    registry: { external: get<string>('DOCKER_REGISTRY_EXTERNAL')!, internal: get<string>('DOCKER_REGISTRY_INTERNAL') },
    timeouts: {
      jenkinsBuildSeconds: get<number>('JENKINS_BUILD_TIMEOUT'),
      jenkinsBuildStartSeconds: get<number>('JENKINS_BUILD_START_TIMEOUT'),
      argoSyncSeconds: get<number>('ARGOCD_SYNC_TIMEOUT'),
      mergeRequestSeconds: get<number>('PROMOTION_MR_TIMEOUT'),
      heartbeat: get<string>('SHEPHERD_HEARTBEAT_TIMEOUT')!,
    },
    bump: {
      via: get<'auto' | 'push' | 'merge-request'>('SHEPHERD_BUMP_VIA')!,
      branch: get<string>('SHEPHERD_BUMP_BRANCH'),
    },
    unstableBuilds: get<UnstableBuildOutcome>('JENKINS_UNSTABLE_BUILDS')!,
    waits: {
      pollGitlabMs: get<number>('SHEPHERD_POLL_GITLAB'),
      pollJenkinsMs: get<number>('SHEPHERD_POLL_JENKINS'),
      pollKubernetesMs: get<number>('SHEPHERD_POLL_KUBERNETES'),
      fallbackMs: get<number>('SHEPHERD_POLL_FALLBACK'),
    },
    approvals: {
      environments: get<Environment[]>('SHEPHERD_APPROVAL_ENVIRONMENTS')!,
      approvers: get<string[]>('SHEPHERD_APPROVERS') ?? [],
      timeout: get<string>('SHEPHERD_APPROVAL_TIMEOUT')!,
      source: get<'temporal' | 'gitlab'>('SHEPHERD_APPROVALS_SOURCE')!,
      approverToken: get<Secret>('SHEPHERD_APPROVER_TOKEN'),
    },
    notifications: { webhookUrl: get<Secret>('SHEPHERD_NOTIFY_WEBHOOK_URL') },
    webhooks: {
      enabled: get<boolean>('SHEPHERD_WEBHOOKS'),
      address: get<string>('SHEPHERD_WEBHOOK_ADDRESS'),
      url: get<string>('SHEPHERD_WEBHOOK_URL'),
      gitlabToken: get<Secret>('SHEPHERD_WEBHOOK_GITLAB_TOKEN'),
      jenkinsToken: get<Secret>('SHEPHERD_WEBHOOK_JENKINS_TOKEN'),
      maxBodyBytes: get<number>('SHEPHERD_WEBHOOK_MAX_BODY_BYTES')!,
    },
    observability: {
      healthAddress: get<string>('SHEPHERD_HEALTH_ADDRESS'),
      metricsAddress: get<string>('SHEPHERD_METRICS_ADDRESS'),
      otlpEndpoint: get<string>('OTEL_EXPORTER_OTLP_ENDPOINT'),
      otlpHeaders: get<Secret>('OTEL_EXPORTER_OTLP_HEADERS'),
      serviceName: get<string>('OTEL_SERVICE_NAME')!,
      logLevel: get<LogLevelName>('SHEPHERD_LOG_LEVEL')!,
      logFormat: get<LogFormatName>('SHEPHERD_LOG_FORMAT'),
    },
    gitlabMerge: { autoMerge: get<boolean>('SHEPHERD_GITLAB_AUTO_MERGE')! },
    companyCa,
  } satisfies Omit<ShepherdConfig, 'pipeline' | 'pipelineFile'>;
  const pipeline =
    pipelinePath === undefined
      ? seedPipeline(base)
      : loadPipelineFile(pipelinePath, {
          group,
          deploymentsProject: gitlab?.deploymentsProject ?? `${group}/${get<string>('DEPLOYMENTS_REPO_NAME')}`,
          registry: base.registry.external,
          argocdNamespace: base.kubernetes.argocdNamespace,
          promoteJob: jobSegments(get<string>('JENKINS_PROMOTE_JOB_NAME')!),
          bump: base.bump,
          autoMerge: base.gitlabMerge.autoMerge,
        });
  return pipelinePath === undefined
    ? { ...base, pipeline, pipelineFile: undefined }
    : withDeclaredPipeline(base, pipeline, pipelinePath);
}

/**
 * The configuration with a declared pipeline: its environments, approvals, Argo CD sync and first app replace the
 * seed's, so that code reading `config.environments` or `config.app` sees the pipeline's.
 */
function withDeclaredPipeline(
  base: Omit<ShepherdConfig, 'pipeline' | 'pipelineFile'>,
  pipeline: DeclaredPipeline,
  file: string,
): ShepherdConfig {
  const first = pipeline.apps[0]!;
  const environments: Record<string, EnvironmentConfig> = {};
  for (const e of pipeline.environments) {
    const cluster = e.cluster ? pipeline.clusters[e.cluster] : undefined;
    environments[e.name] = {
      name: e.name,
      namespace: e.namespace,
      branch: e.branch,
      argoApp: first.environments[e.name]!.argoApp,
      ...(cluster ? { cluster: { kubeconfig: cluster.kubeconfig, context: cluster.context } } : {}),
    };
  }
  return {
    ...base,
    app: first.app,
    environments,
    kubernetes: {
      ...base.kubernetes,
      argocdManualSync: pipeline.environments.filter((e) => e.manualSync).map((e) => e.name),
      deployment: first.workload.deployment,
      container: first.workload.container,
    },
    approvals: {
      ...base.approvals,
      environments: pipeline.environments.filter((e) => e.approval.required).map((e) => e.name),
      approvers: [...new Set(pipeline.environments.flatMap((e) => e.approval.approvers))],
    },
    pipeline,
    pipelineFile: file,
  };
}

/** Prefixes of the names Shepherd reads; an unknown name with one of them is reported. */
const WATCHED_PREFIX = /^(SHEPHERD_|GITLAB_|JENKINS_|TEMPORAL_)/;
/**
 * Names with a watched prefix that belong to other tools on the same machine, not typos: the Temporal CLI's own
 * settings (TEMPORAL_ENV, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, TEMPORAL_CLI_*), the test tiers' binary paths,
 * and what GitLab CI (GITLAB_CI, GITLAB_USER_*, GITLAB_FEATURES, GITLAB_ENV) and Jenkins (JENKINS_HOME, JENKINS_URL,
 * *_COOKIE) set in the jobs Shepherd may run in.
 */
const OTHER_TOOLS = [
  /^TEMPORAL_(ENV|PROFILE|CONFIG_FILE|DISABLE_CONFIG_FILE|DISABLE_CONFIG_ENV|CLI_.*|TEST_SERVER_PATH)$/,
  /^GITLAB_(CI|USER_(ID|EMAIL|LOGIN|NAME)|FEATURES|ENV)$/,
  /^JENKINS_(HOME|URL|NODE_COOKIE|SERVER_COOKIE)$/,
];

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions from a to b. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name a typo most likely meant: the nearest within a quarter of its length (at least 2 edits). */
function nearestKnown(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 4)) ? best.name : undefined;
}

/**
 * Variables with one of Shepherd's prefixes (`SHEPHERD_`, `GITLAB_`, `JENKINS_`, `TEMPORAL_`) that Shepherd does not
 * read: likely typos, which would otherwise be ignored in silence (`SHEPHERD_APPROVER` leaves approvals open to
 * anyone). Empty values count too: an empty misspelt name is still a misspelling.
 */
export function unknownVariables(vars: Record<string, string | undefined>): ConfigWarning[] {
  const known = [...VARIABLES.map((x) => x.name), ...INFRA_ENV_PASSTHROUGH, ...Object.keys(ALIASES)];
  const knownSet = new Set(known);
  return Object.keys(vars)
    .filter((k) => WATCHED_PREFIX.test(k) && !knownSet.has(k) && !OTHER_TOOLS.some((r) => r.test(k)))
    .sort()
    .map((variable) => {
      const suggestion = nearestKnown(variable, known);
      return {
        variable,
        suggestion,
        message:
          `${variable} is not a variable Shepherd reads, so it is ignored; ` +
          (suggestion ? `did you mean ${suggestion}?` : 'check its spelling in `shepherd config variables`.'),
      };
    });
}

/**
 * The item names of a job path `a/job/b`. A segment is URL-decoded once (`feature%252Fx`, as the browser shows a
 * multibranch branch job, is the item `feature%2Fx`), unless decoding would put a `/` into a name, which no Jenkins
 * item has: then the segment already is the item name as Jenkins' `fullName` shows it (`feature%2Fx`).
 */
export function jobSegments(path: string): string[] {
  return path.split('/job/').map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return segment;
    }
    return decoded.includes('/') ? segment : decoded;
  });
}
