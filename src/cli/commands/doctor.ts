import { readCompanyCa, type CompanyCa } from '../../config/company-ca.js';
import { ConfigError, type ShepherdConfig } from '../../config/load.js';
import { Secret } from '../../config/secret.js';
import { runDoctor, renderText, type DoctorReport, type Installation } from '../../doctor/index.js';
import { defaultLayout } from '../../sandbox/world/layout.js';
import { readWorldFile, worldFilePath } from '../../sandbox/world/world-file.js';
import { targetFrom, type TemporalTarget } from '../../temporal/connection.js';
import { clustersOfPipeline } from '../../worker/activities.js';
import { runningDevServer } from '../../temporal/dev-server.js';
import { EXIT, UsageError, type Command, type CommandContext } from '../command.js';

/**
 * The installation the configuration points at: the real systems (external mode), or the sandbox world running on
 * the state folder. `temporal` overrides the Temporal target (the worker passes the one it connected to).
 */
export function installationFor(config: ShepherdConfig, temporal?: TemporalTarget): Installation {
  let target = temporal;
  let temporalProblem: string | undefined;
  if (!target) {
    if (config.temporal.address) target = targetFrom(config.temporal, config.temporal.address);
    else {
      const running = runningDevServer(config.temporal.stateDir);
      if (running) target = targetFrom(config.temporal, running.address);
      else temporalProblem = `TEMPORAL_ADDRESS is unset and no dev server runs on ${config.temporal.stateDir}`;
    }
  }
  const common = {
    temporal: target,
    ...(temporalProblem ? { temporalProblem } : {}),
    taskQueue: config.temporal.taskQueue,
  };
  if (config.mode === 'external') {
    const { gitlab, jenkins } = config;
    if (!gitlab || !jenkins)
      throw new ConfigError([
        { variable: 'GITLAB_URL_EXTERNAL', rule: 'set', message: 'GitLab and Jenkins must both be configured' },
      ]);
    return {
      ...common,
      gitlab,
      jenkins,
      kubernetes: { kubeconfig: config.kubernetes.kubeconfig, context: config.kubernetes.context },
      companyCa: config.companyCa,
      app: config.app.name,
      argocdNamespace: config.kubernetes.argocdNamespace,
      environments: environmentsWithClusters(config),
      names: {
        gitlabUrl: 'GITLAB_URL_EXTERNAL',
        gitlabToken: 'GITLAB_TOKEN',
        jenkinsUrl: 'JENKINS_URL_EXTERNAL',
        jenkinsCredentials: 'JENKINS_USER and JENKINS_TOKEN',
        kubeconfig: 'KUBECONFIG',
      },
    };
  }
  const info = readWorldFile(config.temporal.stateDir);
  if (!info) {
    throw new UsageError(
      `no external systems are configured (GITLAB_URL_EXTERNAL, JENKINS_URL_EXTERNAL, …) and no sandbox world runs (${worldFilePath(config.temporal.stateDir)}). ` +
        'Start `npx shepherd sandbox` in another terminal, or configure the real systems (see the README).',
    );
  }
  const layout = defaultLayout();
  const sandbox = 'the sandbox world';
  return {
    ...common,
    gitlab: {
      url: info.gitlab.url,
      token: new Secret(info.gitlab.token),
      appProject: info.gitlab.appProject,
      deploymentsProject: info.gitlab.deploymentsProject,
    },
    jenkins: {
      url: info.jenkins.url,
      user: info.jenkins.user,
      token: new Secret(info.jenkins.token),
      appJob: layout.ciJob,
      promoteJob: layout.promoteJob,
    },
    kubernetes: { kubeconfig: info.kubernetes.kubeconfig, context: undefined },
    companyCa: config.companyCa ?? worldCa(info.tls?.caFile),
    sandboxFix:
      'Check that `npx shepherd sandbox` still runs on this state folder; a restarted sandbox issues new credentials, so restart the worker too',
    app: info.app,
    argocdNamespace: info.argocd.namespace,
    environments: info.environments,
    names: {
      gitlabUrl: sandbox,
      gitlabToken: sandbox,
      jenkinsUrl: sandbox,
      jenkinsCredentials: sandbox,
      kubeconfig: `the sandbox's kubeconfig ${info.kubernetes.kubeconfig}`,
    },
  };
}

/** The configured environments, each on the cluster the pipeline names for it (one check per cluster). */
function environmentsWithClusters(config: ShepherdConfig): Installation['environments'] {
  const clusters = clustersOfPipeline(config, config.kubernetes.kubeconfig);
  const environments: Record<string, Installation['environments'][string]> = {};
  for (const [env, place] of Object.entries(config.environments)) {
    const name = config.pipeline.environments.find((e) => e.name === env)?.cluster;
    const access = name !== undefined ? clusters.get(name) : undefined;
    environments[env] = {
      namespace: place.namespace,
      branch: place.branch,
      argoApp: place.argoApp,
      ...(access
        ? {
            cluster: {
              ...access,
              name: name!,
              contextVariable:
                config.pipelineFile === undefined
                  ? `SHEPHERD_KUBE_CONTEXT_${name!.toUpperCase()}`
                  : `clusters.${name!}.context in ${config.pipelineFile}`,
            },
          }
        : {}),
    };
  }
  return environments;
}

/** The CA of a sandbox world behind its own CA (`--tls`), which the doctor's probes must trust as Shepherd does. */
function worldCa(file: string | undefined): CompanyCa | undefined {
  if (file === undefined) return undefined;
  const read = readCompanyCa(file);
  if ('problem' in read) throw new UsageError(`the sandbox world's CA cannot be used: it ${read.problem}`);
  return read;
}

/** Runs every check and prints one line each (or one JSON object); exit 0 when none failed, 1 otherwise. */
export async function printDoctor(ctx: CommandContext, config: ShepherdConfig): Promise<number> {
  const report: DoctorReport = await runDoctor(installationFor(config));
  if (ctx.values.json) ctx.out(JSON.stringify(report));
  else for (const line of renderText(report)) ctx.out(line);
  return report.ok ? EXIT.ok : EXIT.failed;
}

export const doctorCommand: Command = {
  usage: '[--json]',
  help: `
Connects to every configured system (or to the sandbox world that \`npx shepherd sandbox\` runs) and checks what a
run needs: Temporal reachable, its namespace and Shepherd's search attributes, a worker polling the task queue;
the GitLab token, its scopes, both projects, the environment branches and their protection; Jenkins credentials and
both jobs with the promote job's parameters; the cluster, each namespace, Deployment and Argo CD Application, and
the permissions the waits need (SelfSubjectAccessReview). One line a check; secrets are never shown.
Exit 0 when every check passes, 1 when one fails, 2 on bad usage or configuration. Same as \`config check --connect\`.

Options:
  --json   print one JSON object: {"ok", "checks": [{"system", "check", "status", "detail", "fix"}], "counts"}
`,
  options: { json: { type: 'boolean' } },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    return printDoctor(ctx, ctx.config());
  },
};
