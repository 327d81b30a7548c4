/**
 * Every environment variable Shepherd reads, in one table: its rule (a zod schema over the string value), its
 * default, whether it is a secret, and what it means. The loader validates against this table and the README's
 * configuration reference is checked against it, so the two cannot drift apart.
 *
 * Names of the seed's `config/infra.env` are accepted as they are; Shepherd's own names start with `SHEPHERD_`
 * or `TEMPORAL_`, or are the credential names the seed's validate script already took from the environment
 * (`GITLAB_TOKEN`, `JENKINS_USER`, `JENKINS_TOKEN`).
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../domain/duration.js';
import { UNSTABLE_BUILD_OUTCOMES } from '../domain/inputs.js';
import { repoLocation } from '../domain/repo-url.js';

/** The log levels and formats of SHEPHERD_LOG_LEVEL and SHEPHERD_LOG_FORMAT (src/observability/log.ts renders them). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;

export const GROUPS = [
  'temporal',
  'gitlab',
  'jenkins',
  'kubernetes',
  'pipeline',
  'timeouts',
  'approvals',
  'notifications',
  'webhooks',
  'observability',
  'tls',
  'infra-env',
] as const;
export type Group = (typeof GROUPS)[number];

export interface Variable {
  readonly name: string;
  readonly group: Group;
  readonly description: string;
  /** The value is a credential: never printed, never put in workflow inputs, results or logs. */
  readonly secret?: boolean;
  /** Used when the variable is unset or empty. */
  readonly default?: string;
  /** The rule, stated for people; shown in error messages and the README. */
  readonly rule: string;
  readonly schema: z.ZodType<unknown, string>;
}

const text = z.string().min(1);
/** An http(s) URL; a trailing slash is dropped (`https://gitlab.example/` and `https://gitlab.example` are one URL). */
const url = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  })
  .transform((v) => v.replace(/\/+$/, ''));
/** Git remote URLs, comma-separated: `https://host/group/app.git`, `ssh://git@host:2222/group/app.git`, `git@host:group/app.git`. */
const gitRemoteUrls = z.string().transform((v, ctx) => {
  const urls = v
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  const bad = urls.filter((u) => repoLocation(u) === undefined);
  if (urls.length === 0 || bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `not a git remote URL: ${bad.join(', ') || '(empty)'}` });
    return z.NEVER;
  }
  return urls;
});
const port = z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(65535));
/**
 * Seconds in a duration variable: whole seconds as the seed's infra.env writes them (`3600`), or a duration of the
 * one form every other input takes (`1h`, `15m`, `90s`; src/domain/duration.ts). Undefined when it is neither, or
 * not a whole number of seconds.
 */
function durationSeconds(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = parseDuration(text);
  return ms !== undefined && ms % 1000 === 0 ? ms / 1000 : undefined;
}
const WEEK_SECONDS = 7 * 24 * 3600;
/** A wait budget in seconds, at most a week (the longest any Shepherd wait is allowed to run). */
const waitSeconds = z.string().transform((v, ctx) => {
  const s = durationSeconds(v);
  if (s === undefined || s < 1 || s > WEEK_SECONDS) {
    ctx.addIssue({ code: 'custom', message: 'not a duration of 1s to 7d' });
    return z.NEVER;
  }
  return s;
});
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
const projectPath = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/);
const jobPath = z.string().regex(/^[A-Za-z0-9_.-]+(\/job\/[A-Za-z0-9_.%-]+)*$/);
const hostPort = z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/);
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);
const envList = csv.pipe(z.array(z.enum(['dev', 'stage', 'prod'])));
/**
 * A duration as Temporal takes it (`90s`, `24h`), kept as written; whole seconds (`3600`) are accepted and written
 * as a duration (`1h`).
 */
const duration = z.string().transform((v, ctx) => {
  const s = durationSeconds(v);
  if (s === undefined || s < 1) {
    ctx.addIssue({ code: 'custom', message: 'not a duration' });
    return z.NEVER;
  }
  return /^\d+$/.test(v) ? formatDuration(s * 1000) : v;
});
/** A poll interval in milliseconds: `500ms`, `3s`, `1m`; 100 ms to 1 h. */
const pollInterval = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms < 100 || ms > 3_600_000) {
    ctx.addIssue({ code: 'custom', message: 'not a duration of 100ms to 1h' });
    return z.NEVER;
  }
  return ms;
});
const POLL_RULE = 'a duration like 500ms, 3s, 1m; 100ms to 1h';
const WAIT_RULE = 'a duration like 90s, 15m, 1h, or whole seconds (3600); 1s to 7d';
/** OpenTelemetry's header list: `key=value` pairs separated by commas (values may be percent-encoded). */
const otlpHeaders = z.string().regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/);
/** `port` (on 127.0.0.1) or `host:port`; `0.0.0.0:9464` in a pod so that the kubelet and Prometheus reach it. */
const bindAddress = z
  .string()
  .regex(/^(?:(?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):)?\d{1,5}$/)
  .transform((v) => (/^\d+$/.test(v) ? `127.0.0.1:${v}` : v))
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535);

const v = (
  name: string,
  group: Group,
  rule: string,
  schema: z.ZodType<unknown, string>,
  description: string,
  extra: { secret?: boolean; default?: string } = {},
): Variable => ({ name, group, rule, schema, description, ...extra });

export const VARIABLES: readonly Variable[] = [
  // Temporal
  v(
    'TEMPORAL_ADDRESS',
    'temporal',
    'host:port',
    hostPort,
    'Temporal frontend to connect to. Unset: Shepherd starts its embedded dev server.',
  ),
  v(
    'TEMPORAL_NAMESPACE',
    'temporal',
    'a Temporal namespace name',
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/),
    'Namespace for all workflows.',
    { default: 'default' },
  ),
  v(
    'TEMPORAL_TASK_QUEUE',
    'temporal',
    'letters, digits, . _ - /',
    z.string().regex(/^[A-Za-z0-9._/-]{1,200}$/),
    'Task queue the workers poll and workflows start on.',
    { default: 'shepherd' },
  ),
  v(
    'TEMPORAL_TLS',
    'temporal',
    'true or false',
    bool,
    'Use TLS to the Temporal frontend (implied by a client certificate or an API key).',
    { default: 'false' },
  ),
  v(
    'TEMPORAL_TLS_CERT_PATH',
    'temporal',
    'a readable file path',
    text,
    'Client certificate (PEM) for mTLS, e.g. Temporal Cloud.',
  ),
  v('TEMPORAL_TLS_KEY_PATH', 'temporal', 'a readable file path', text, 'Client private key (PEM) for mTLS.'),
  v(
    'TEMPORAL_TLS_CA_PATH',
    'temporal',
    'a readable file path',
    text,
    'CA bundle (PEM) to trust instead of the system roots.',
  ),
  v('TEMPORAL_TLS_SERVER_NAME', 'temporal', 'a host name', text, 'Server name to verify in the frontend certificate.'),
  v(
    'TEMPORAL_API_KEY',
    'temporal',
    'non-empty',
    text,
    'API key for Temporal Cloud (sent as a bearer token; implies TLS).',
    { secret: true },
  ),
  v(
    'SHEPHERD_STATE_DIR',
    'temporal',
    'a directory path',
    text,
    'Where the embedded dev server keeps its SQLite file (default: .shepherd/state in the project).',
  ),
  v('SHEPHERD_TEMPORAL_PORT', 'temporal', 'a port 1-65535', port, 'gRPC port of the embedded dev server.', {
    default: '7233',
  }),
  v('SHEPHERD_UI_PORT', 'temporal', 'a port 1-65535', port, 'Web UI port of the embedded dev server.', {
    default: '8233',
  }),
  // GitLab
  v(
    'GITLAB_URL_EXTERNAL',
    'gitlab',
    'an http(s) URL',
    url,
    'GitLab base URL Shepherd calls (the seed validate script used the external one).',
  ),
  v(
    'GITLAB_URL_INTERNAL',
    'gitlab',
    'an http(s) URL',
    url,
    'In-cluster GitLab URL; used when GITLAB_URL_EXTERNAL is unset.',
  ),
  v('GITLAB_TOKEN', 'gitlab', 'non-empty', text, 'GitLab personal/project access token with the api scope.', {
    secret: true,
  }),
  v(
    'GITLAB_GROUP',
    'gitlab',
    'a GitLab group path',
    z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/),
    'Group of both projects.',
    { default: 'p2c' },
  ),
  v(
    'APP_REPO_PATH',
    'gitlab',
    'a project path like group/project',
    projectPath,
    'Application project path (default: GITLAB_GROUP/APP_REPO_NAME).',
  ),
  v(
    'DEPLOYMENTS_REPO_PATH',
    'gitlab',
    'a project path like group/project',
    projectPath,
    'Deployments project path (default: GITLAB_GROUP/DEPLOYMENTS_REPO_NAME).',
  ),
  v(
    'K8S_DEPLOYMENTS_REPO_PATH',
    'gitlab',
    'a project path like group/project',
    projectPath,
    'Older name of DEPLOYMENTS_REPO_PATH.',
  ),
  v(
    'DEPLOYMENTS_REPO_URL_EXTERNAL',
    'gitlab',
    'an http(s) URL',
    text,
    'Git URL of the deployments repo as Argo CD sees it.',
  ),
  v(
    'SHEPHERD_BUMP_VIA',
    'gitlab',
    'auto, push or merge-request',
    z.enum(['auto', 'push', 'merge-request']),
    "How the nightly validation commits its version bump: `push` to the branch; `merge-request` through an MR that merges itself when CI passes (source branch removed); `auto` pushes and falls back to the MR when the branch's protection refuses the push.",
    { default: 'auto' },
  ),
  v(
    'SHEPHERD_BUMP_BRANCH',
    'gitlab',
    'a branch name',
    text,
    "The app project's branch the version bump goes to (default: the project's default branch); its CI job is JENKINS_APP_JOB_PATH.",
  ),
  // Part A: GitLab merge rules.
  v(
    'SHEPHERD_GITLAB_AUTO_MERGE',
    'gitlab',
    'true or false',
    bool,
    'Merge through GitLab auto-merge: while the MR pipeline runs, Shepherd arms "merge when pipeline succeeds" and waits for GitLab to merge, instead of waiting for the pipeline and merging itself.',
    { default: 'false' },
  ),
  // Jenkins
  v('JENKINS_URL_EXTERNAL', 'jenkins', 'an http(s) URL', url, 'Jenkins base URL Shepherd calls.'),
  v(
    'APP_REPO_URL',
    'jenkins',
    'git remote URLs (https, ssh:// or git@host:path), comma-separated',
    gitRemoteUrls,
    "The app repo's URL as the CI job clones it (its BuildData `remoteUrls`). A build's checkout counts as the app's when its remote is one of these, or on any host has the path APP_REPO_PATH; other checkouts (a shared library) are ignored.",
  ),
  v(
    'JENKINS_URL_INTERNAL',
    'jenkins',
    'an http(s) URL',
    url,
    'In-cluster Jenkins URL; used when JENKINS_URL_EXTERNAL is unset.',
  ),
  v('JENKINS_USER', 'jenkins', 'non-empty', text, 'Jenkins user the API token belongs to.'),
  v(
    'JENKINS_TOKEN',
    'jenkins',
    'non-empty',
    text,
    'Jenkins API token of JENKINS_USER (preferred: exempt from CSRF crumbs).',
    { secret: true },
  ),
  v(
    'JENKINS_APP_JOB_PATH',
    'jenkins',
    'a job path like example-app/job/main',
    jobPath,
    "The application CI job (MultiBranch branch job). A branch with `/` is the job `feature%2Fx` (write `example-app/job/feature%2Fx`, or `feature%252Fx` as the job's URL shows it).",
    { default: 'example-app/job/main' },
  ),
  v('JENKINS_PROMOTE_JOB_NAME', 'jenkins', 'a job path', jobPath, 'The promote-environment job.', {
    default: 'promote-environment',
  }),
  v(
    'JENKINS_UNSTABLE_BUILDS',
    'jenkins',
    'failure or success',
    z.enum(UNSTABLE_BUILD_OUTCOMES),
    'What a CI or promote build that ends UNSTABLE (usually failed tests) means to a run: `failure` stops it like FAILURE, `success` carries on like SUCCESS.',
    { default: 'failure' },
  ),
  // Kubernetes / Argo CD
  v(
    'KUBECONFIG',
    'kubernetes',
    'a kubeconfig file path',
    text,
    'Kubeconfig for the cluster that runs Argo CD and the apps (unset with other systems configured: ~/.kube/config or in-cluster).',
  ),
  v(
    'SHEPHERD_KUBE_CONTEXT',
    'kubernetes',
    'a context name',
    text,
    'Kubeconfig context to use (default: the current context).',
  ),
  v(
    'ARGOCD_NAMESPACE',
    'kubernetes',
    'a Kubernetes namespace name',
    k8sName,
    'Namespace of the Argo CD Application objects.',
    { default: 'argocd' },
  ),
  v('DEV_NAMESPACE', 'kubernetes', 'a Kubernetes namespace name', k8sName, 'Namespace of the dev environment.', {
    default: 'dev',
  }),
  v('STAGE_NAMESPACE', 'kubernetes', 'a Kubernetes namespace name', k8sName, 'Namespace of the stage environment.', {
    default: 'stage',
  }),
  v('PROD_NAMESPACE', 'kubernetes', 'a Kubernetes namespace name', k8sName, 'Namespace of the prod environment.', {
    default: 'prod',
  }),
  // Part C: Argo CD Applications without automated sync.
  v(
    'SHEPHERD_ARGOCD_MANUAL_SYNC',
    'kubernetes',
    'a comma-separated list of dev, stage, prod',
    envList,
    "Environments whose Argo CD Application has no automated sync: after each merge (and each revert) Shepherd starts the sync itself by writing the Application's `operation`, as `argocd app sync` does. Unset: none (Argo CD syncs on its own).",
  ),
  // Part D: which Deployment and container are the app's workload.
  v(
    'SHEPHERD_DEPLOYMENT',
    'kubernetes',
    'a Kubernetes name',
    k8sName,
    "Name of the app's Deployment in each environment's namespace (default: APP_REPO_NAME). Its pods are found through its spec.selector and its current ReplicaSet, never by a label like app=<name>.",
  ),
  v(
    'SHEPHERD_CONTAINER',
    'kubernetes',
    'a container name',
    k8sName,
    "The container of the Deployment's pods whose image Shepherd verifies (default: the one named APP_REPO_NAME, or the only container). A name the pods do not have fails the verification, naming the containers they have.",
  ),
  ...(['dev', 'stage', 'prod'] as const).flatMap((env) => [
    v(
      `SHEPHERD_KUBECONFIG_${env.toUpperCase()}`,
      'kubernetes',
      'a kubeconfig file path',
      text,
      `Kubeconfig of the cluster that runs the ${env} workload, when it is not the Argo CD cluster of KUBECONFIG (multi-cluster pipelines); unset: KUBECONFIG.`,
    ),
    v(
      `SHEPHERD_KUBE_CONTEXT_${env.toUpperCase()}`,
      'kubernetes',
      'a context name',
      text,
      `Context of the ${env} workload's cluster (in SHEPHERD_KUBECONFIG_${env.toUpperCase()}, else in KUBECONFIG); unset: that kubeconfig's current context.`,
    ),
  ]),
  // Pipeline
  v(
    'SHEPHERD_PIPELINE',
    'pipeline',
    'a path to a YAML file',
    text,
    'The pipeline file (also `--pipeline FILE`): its environments, apps, image declarations and promotion replace the seed\'s layout variables below (README, "Pipeline file"; schema/pipeline.schema.json). Unset: the seed\'s installation from these variables.',
  ),
  v(
    'APP_REPO_NAME',
    'pipeline',
    'a Kubernetes name (kebab-case)',
    k8sName,
    'Application name: project, Deployment, container, label and Argo CD app prefix.',
    { default: 'example-app' },
  ),
  v(
    'APP_CUE_NAME',
    'pipeline',
    'a camelCase identifier',
    z.string().regex(/^[a-z][A-Za-z0-9]*$/),
    'CUE id of the app; also the manifests directory name.',
    { default: 'exampleApp' },
  ),
  v(
    'DEPLOYMENTS_REPO_NAME',
    'pipeline',
    'a project name',
    z.string().regex(/^[A-Za-z0-9_.-]+$/),
    'Deployments project name.',
    { default: 'k8s-deployments' },
  ),
  v(
    'DOCKER_REGISTRY_EXTERNAL',
    'pipeline',
    'a registry host[:port]',
    hostPort,
    'Registry used in image references that the kubelet pulls.',
    { default: 'docker.jmann.local' },
  ),
  v(
    'DOCKER_REGISTRY_INTERNAL',
    'pipeline',
    'a registry host[:port]',
    hostPort,
    'Registry CI pushes to (never valid in a deployed image).',
  ),
  // Timeouts
  v(
    'JENKINS_BUILD_TIMEOUT',
    'timeouts',
    WAIT_RULE,
    waitSeconds,
    "Longest wait for a Jenkins build to finish (unset: 3600, the CI job's own timeout).",
  ),
  v(
    'JENKINS_BUILD_START_TIMEOUT',
    'timeouts',
    WAIT_RULE,
    waitSeconds,
    "Longest wait for a Jenkins build to start: the app CI build of a bumped commit to appear, a promote job's queue item to become a build (unset: 600).",
  ),
  v(
    'ARGOCD_SYNC_TIMEOUT',
    'timeouts',
    WAIT_RULE,
    waitSeconds,
    'Longest wait for Argo CD to be synced and healthy at a revision (unset: 900).',
  ),
  v(
    'SHEPHERD_HEARTBEAT_TIMEOUT',
    'timeouts',
    'a duration like 10s, 1m, or whole seconds',
    duration,
    'How long a wait may go without a heartbeat before Temporal hands it to another worker (a crashed worker is noticed this soon).',
    { default: '1m' },
  ),
  v(
    'SHEPHERD_POLL_GITLAB',
    'timeouts',
    POLL_RULE,
    pollInterval,
    'Pause between two looks at GitLab while waiting for an MR or its mergeability (unset: 3s).',
  ),
  v(
    'SHEPHERD_POLL_JENKINS',
    'timeouts',
    POLL_RULE,
    pollInterval,
    'Pause between two looks at Jenkins while waiting for a build or a queue item (unset: 3s).',
  ),
  v(
    'SHEPHERD_POLL_KUBERNETES',
    'timeouts',
    POLL_RULE,
    pollInterval,
    'Pause between two looks at Argo CD and the workload when no watch event came (unset: 5s); watch events wake the waits earlier.',
  ),
  v(
    'SHEPHERD_POLL_FALLBACK',
    'timeouts',
    POLL_RULE,
    pollInterval,
    'With SHEPHERD_WEBHOOKS on: pause between two looks of a wait that webhooks announce, should a delivery be lost (unset: 60s).',
  ),
  v(
    'PROMOTION_MR_TIMEOUT',
    'timeouts',
    WAIT_RULE,
    waitSeconds,
    'Longest wait for an MR that CI or the promote job opens (unset: 300).',
  ),
  // Approvals
  v(
    'SHEPHERD_APPROVAL_ENVIRONMENTS',
    'approvals',
    'a comma-separated list of dev, stage, prod',
    envList,
    'Environments whose promotions wait for an approval.',
    { default: 'prod' },
  ),
  v(
    'SHEPHERD_APPROVERS',
    'approvals',
    'a comma-separated list of user names',
    csv,
    'Who may approve or reject; empty: anyone who gives a name.',
  ),
  v(
    'SHEPHERD_APPROVAL_TIMEOUT',
    'approvals',
    'a duration like 30m, 24h, 2d, or whole seconds',
    duration,
    'How long an approval gate waits before it counts as rejected.',
    { default: '24h' },
  ),
  // Part B: approvals with a real identity.
  v(
    'SHEPHERD_APPROVALS_SOURCE',
    'approvals',
    'gitlab or temporal',
    z.enum(['temporal', 'gitlab']),
    'Where a gated promotion gets its approval: `gitlab`, an eligible user approves its MR in GitLab (GitLab Premium approval rules; Shepherd records the GitLab user); `temporal`, the `approve` update with a name from SHEPHERD_APPROVERS.',
    { default: 'temporal' },
  ),
  v(
    'SHEPHERD_APPROVER_TOKEN',
    'approvals',
    'non-empty',
    text,
    "The personal access token with which `shepherd approve` approves an MR in GitLab as the person running it (SHEPHERD_APPROVALS_SOURCE=gitlab); unset: that person's GITLAB_TOKEN. Read by the CLI only, never sent to a workflow.",
    { secret: true },
  ),
  // Notifications
  v(
    'SHEPHERD_NOTIFY_WEBHOOK_URL',
    'notifications',
    'an http(s) URL',
    url,
    'Slack-compatible incoming webhook for failures and approval requests.',
    { secret: true },
  ),
  // Webhooks
  v(
    'SHEPHERD_WEBHOOKS',
    'webhooks',
    'true or false',
    bool,
    'The waits on GitLab and Jenkins rely on webhooks (the receiver signals the runs; polling only as a slow fallback). Unset: on for the sandbox-mode worker and `shepherd demo`, which register the hooks with the sandbox themselves; off otherwise.',
  ),
  v(
    'SHEPHERD_WEBHOOK_ADDRESS',
    'webhooks',
    'a port, or host:port',
    bindAddress,
    'Where the webhook receiver listens (`POST /webhooks/gitlab`, `/webhooks/jenkins`, `GET /metrics`, `/healthz`; a bare port binds 127.0.0.1). Set: `shepherd worker` runs the receiver too; `shepherd webhooks` runs it alone (default 127.0.0.1:8787 there).',
  ),
  v(
    'SHEPHERD_WEBHOOK_URL',
    'webhooks',
    'an http(s) URL',
    url,
    'The public base URL GitLab and Jenkins reach the receiver at (e.g. `https://shepherd.example/`), for `shepherd webhooks --print-config`. Unset: http:// and the bind address.',
  ),
  v(
    'SHEPHERD_WEBHOOK_GITLAB_TOKEN',
    'webhooks',
    'text',
    text,
    'The secret token of the GitLab project hooks (GitLab sends it as X-Gitlab-Token). Unset: the receiver refuses every GitLab delivery (401).',
    { secret: true },
  ),
  v(
    'SHEPHERD_WEBHOOK_JENKINS_TOKEN',
    'webhooks',
    'text',
    text,
    "The shared secret of the Jenkins notifications: the password of the endpoint URL's userinfo (Basic auth) or the X-Shepherd-Token header of a `post` step. Unset: the receiver refuses every Jenkins delivery (401).",
    { secret: true },
  ),
  v(
    'SHEPHERD_WEBHOOK_MAX_BODY_BYTES',
    'webhooks',
    'a whole number of bytes, 1024 to 33554432',
    z
      .string()
      .regex(/^\d+$/)
      .transform(Number)
      .pipe(
        z
          .number()
          .int()
          .min(1024)
          .max(32 * 1024 * 1024),
      ),
    'The largest webhook body the receiver reads; a longer one is answered 413 without being read to the end.',
    { default: '1048576' },
  ),
  // Observability
  v(
    'SHEPHERD_HEALTH_ADDRESS',
    'observability',
    'a port, or host:port',
    bindAddress,
    'Where `shepherd worker` answers /healthz and /readyz (a bare port binds 127.0.0.1); unset: no health endpoints.',
  ),
  v(
    'SHEPHERD_METRICS_ADDRESS',
    'observability',
    'a port, or host:port',
    bindAddress,
    "Where `shepherd worker` serves Prometheus metrics on /metrics, Shepherd's `shepherd_*` and the Temporal SDK's `temporal_*` (a bare port binds 127.0.0.1); unset: no metrics.",
  ),
  v(
    'SHEPHERD_LOG_LEVEL',
    'observability',
    'TRACE, DEBUG, INFO, WARN or ERROR',
    z.enum(LOG_LEVELS),
    "The least severe log entries `shepherd worker` writes to stderr (its own, the workflows' and activities', the SDK's).",
    { default: 'INFO' },
  ),
  v(
    'SHEPHERD_LOG_FORMAT',
    'observability',
    'json or pretty',
    z.enum(LOG_FORMATS),
    'How `shepherd worker` writes log lines: `json` (one object a line, for a log pipeline) or `pretty` (for people). Unset: pretty when stderr is a terminal, json otherwise.',
  ),
  v(
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'observability',
    'an http(s) URL',
    url,
    "OpenTelemetry's standard variable: the OTLP/HTTP collector that `shepherd worker` sends traces to, as protobuf on `<url>/v1/traces`; unset: tracing is off.",
  ),
  v(
    'OTEL_EXPORTER_OTLP_HEADERS',
    'observability',
    'comma-separated key=value pairs',
    otlpHeaders,
    'Headers sent with every OTLP export, e.g. `authorization=Bearer …` for a hosted collector.',
    { secret: true },
  ),
  v(
    'OTEL_SERVICE_NAME',
    'observability',
    'a name',
    text,
    'The `service.name` resource attribute on every span the worker exports.',
    { default: 'shepherd-worker' },
  ),
  // TLS: a company CA (part F)
  v(
    'SHEPHERD_CA_FILE',
    'tls',
    'a readable PEM file with at least one certificate',
    text,
    "Company CA bundle (PEM) to trust besides Node's default roots: for GitLab, Jenkins, the Kubernetes API (with its kubeconfig's own CA), the notification webhook and, with TEMPORAL_TLS, Temporal (unless TEMPORAL_TLS_CA_PATH names its own). Read when the configuration loads; no restart or NODE_EXTRA_CA_CERTS needed.",
  ),
];

/**
 * Names of the seed's `config/infra.env` that Shepherd accepts but does not need: the in-cluster secret names
 * the bash script read credentials from, hosts, Nexus and Argo CD UI addresses. Accepted so an existing infra.env
 * loads unchanged; listed so that a typo in a name Shepherd does use is not silently ignored either.
 */
export const INFRA_ENV_PASSTHROUGH = [
  'GITLAB_NAMESPACE',
  'GITLAB_HOST_INTERNAL',
  'GITLAB_HOST_EXTERNAL',
  'GITLAB_API_TOKEN_SECRET',
  'GITLAB_API_TOKEN_KEY',
  'GITLAB_TOKEN_SECRET',
  'GITLAB_TOKEN_KEY',
  'GITLAB_USER_SECRET',
  'GITLAB_USER_KEY',
  'GITLAB_USER',
  'DEPLOYMENTS_REPO_URL',
  'APP_REPO_URL_EXTERNAL',
  'JENKINS_NAMESPACE',
  'JENKINS_HOST_INTERNAL',
  'JENKINS_HOST_EXTERNAL',
  'JENKINS_ADMIN_SECRET',
  'JENKINS_ADMIN_USER_KEY',
  'JENKINS_ADMIN_TOKEN_KEY',
  'JENKINS_AUTO_PROMOTE_JOB_NAME',
  'ARGOCD_HOST_INTERNAL',
  'ARGOCD_HOST_EXTERNAL',
  'ARGOCD_URL_INTERNAL',
  'ARGOCD_URL_EXTERNAL',
  'NEXUS_NAMESPACE',
  'NEXUS_HOST_INTERNAL',
  'NEXUS_HOST_EXTERNAL',
  'NEXUS_URL_INTERNAL',
  'NEXUS_URL_EXTERNAL',
  'DOCKER_REGISTRY_HOST',
  'K8S_DEPLOYMENTS_JOB',
  'CLUSTER_NAME',
  'CLUSTER_CONFIG',
  'PROTECTED',
  'STORAGE_CLASS',
  'MAVEN_REPO_HOST_INTERNAL',
  'MAVEN_REPO_HOST_EXTERNAL',
  'MAVEN_REPO_URL_INTERNAL',
  'MAVEN_REPO_URL_EXTERNAL',
  'CONTAINER_REGISTRY_HOST',
  'CONTAINER_REGISTRY_EXTERNAL',
  'CONTAINER_REGISTRY_PATH_PREFIX',
  'NEXUS_ADMIN_SECRET',
  'NEXUS_ADMIN_USER_KEY',
  'NEXUS_ADMIN_PASSWORD_KEY',
  'K8S_DEPLOYMENTS_BUILD_START_TIMEOUT',
  // The seed script waited for the deployments-repo branch build; Shepherd waits for the MR and Argo CD instead.
  'K8S_DEPLOYMENTS_VALIDATION_TIMEOUT',
  'K8S_DEPLOYMENTS_BUILD_TIMEOUT',
] as const;

export const VARIABLE_BY_NAME: ReadonlyMap<string, Variable> = new Map(VARIABLES.map((x) => [x.name, x]));
