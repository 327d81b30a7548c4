import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { DEFAULT_STATE_DIR } from '../../../src/config/paths.js';
import { runFields } from '../../../src/cli/operator.js';

const SECRETS = {
  GITLAB_TOKEN: 'glpat-VERY-SECRET-1',
  JENKINS_TOKEN: 'jenkins-VERY-SECRET-2',
  TEMPORAL_API_KEY: 'tcloud-VERY-SECRET-3',
  SHEPHERD_NOTIFY_WEBHOOK_URL: 'https://hooks.example/VERY-SECRET-4',
};

function problemsOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('runs in the embedded default when no external system is configured', () => {
    const config = loadConfig({ env: {} });
    expect(config.mode).toBe('embedded');
    expect(config.temporal).toMatchObject({
      address: undefined,
      namespace: 'default',
      taskQueue: 'shepherd',
      stateDir: DEFAULT_STATE_DIR,
      devServerPort: 7233,
      uiPort: 8233,
    });
    expect(config.gitlab).toBeUndefined();
    expect(config.environments.stage!).toEqual({
      name: 'stage',
      namespace: 'stage',
      branch: 'stage',
      argoApp: 'example-app-stage',
    });
    expect(config.approvals).toEqual({
      environments: ['prod'],
      approvers: [],
      timeout: '24h',
      source: 'temporal',
      approverToken: undefined,
    });
    expect(config.timeouts).toEqual({
      jenkinsBuildSeconds: undefined,
      argoSyncSeconds: undefined,
      mergeRequestSeconds: undefined,
      heartbeat: '1m',
    });
  });

  it("accepts the seed's infra.env names from an env file, with ${VAR} references, and lets the environment win", () => {
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-config-'));
    const file = join(dir, 'infra.env');
    writeFileSync(
      file,
      [
        '# design-era infra.env',
        'GITLAB_NAMESPACE=gitlab',
        'GITLAB_GROUP=p2c',
        'GITLAB_URL_EXTERNAL="https://gitlab.jmann.local"',
        'export JENKINS_URL_EXTERNAL=https://jenkins.jmann.local',
        'APP_REPO_NAME=example-app',
        'APP_REPO_PATH=${GITLAB_GROUP}/example-app',
        'DEPLOYMENTS_REPO_PATH=$GITLAB_GROUP/k8s-deployments',
        'JENKINS_APP_JOB_PATH=example-app/job/main',
        'JENKINS_PROMOTE_JOB_NAME=promote-environment',
        'ARGOCD_NAMESPACE=argocd',
        "DEV_NAMESPACE='dev-alpha'",
        'STAGE_NAMESPACE=stage',
        'PROD_NAMESPACE=prod',
        'DOCKER_REGISTRY_EXTERNAL=docker.jmann.local',
        'JENKINS_BUILD_TIMEOUT=420',
        'JENKINS_ADMIN_SECRET=jenkins-admin-credentials',
      ].join('\n'),
    );
    const config = loadConfig({
      envFile: file,
      env: { GITLAB_TOKEN: 'x', JENKINS_USER: 'bot', JENKINS_TOKEN: 'y', PROD_NAMESPACE: 'prod-alpha' },
    });
    expect(config.mode).toBe('external');
    expect(config.gitlab).toMatchObject({
      url: 'https://gitlab.jmann.local',
      appProject: 'p2c/example-app',
      deploymentsProject: 'p2c/k8s-deployments',
    });
    expect(config.jenkins).toMatchObject({
      url: 'https://jenkins.jmann.local',
      user: 'bot',
      appJob: ['example-app', 'main'],
      promoteJob: ['promote-environment'],
    });
    expect(config.environments.dev!.namespace).toBe('dev-alpha');
    expect(config.environments.prod!.namespace).toBe('prod-alpha');
    expect(config.timeouts.jenkinsBuildSeconds).toBe(420);
  });

  it("gives an environment a cluster of its own with SHEPHERD_KUBECONFIG_<ENV> or a context of KUBECONFIG with SHEPHERD_KUBE_CONTEXT_<ENV>, and leaves the others on Argo CD's", () => {
    const config = loadConfig({
      env: {
        KUBECONFIG: '/etc/shepherd/argocd-kubeconfig:/ignored',
        SHEPHERD_KUBE_CONTEXT: 'hub',
        SHEPHERD_KUBECONFIG_PROD: '/etc/shepherd/prod-kubeconfig',
        SHEPHERD_KUBE_CONTEXT_STAGE: 'stage-cluster',
      },
    });
    expect(config.kubernetes).toMatchObject({ kubeconfig: '/etc/shepherd/argocd-kubeconfig', context: 'hub' });
    expect(config.environments.prod!.cluster).toEqual({
      kubeconfig: '/etc/shepherd/prod-kubeconfig',
      context: undefined,
    });
    expect(config.environments.stage!.cluster).toEqual({
      kubeconfig: '/etc/shepherd/argocd-kubeconfig',
      context: 'stage-cluster',
    });
    expect(config.environments.dev!.cluster).toBeUndefined();
  });

  it('counts an UNSTABLE Jenkins build as a failure unless JENKINS_UNSTABLE_BUILDS says success, and every run carries it', () => {
    const byDefault = loadConfig({ env: {} });
    expect(byDefault.unstableBuilds).toBe('failure');
    expect(runFields(byDefault).unstableBuilds).toBe('failure');
    const lenient = loadConfig({ env: { JENKINS_UNSTABLE_BUILDS: 'success' } });
    expect(runFields(lenient)).toMatchObject({ unstableBuilds: 'success' });
    expect(problemsOf({ JENKINS_UNSTABLE_BUILDS: 'pass' }).message).toContain(
      'JENKINS_UNSTABLE_BUILDS: must be failure or success, got "pass"',
    );
  });

  it('reports every problem at once, naming each variable and its rule', () => {
    const err = problemsOf({
      GITLAB_URL_EXTERNAL: 'gitlab.local/',
      SHEPHERD_UI_PORT: '70000',
      ARGOCD_SYNC_TIMEOUT: 'soon',
      SHEPHERD_APPROVAL_ENVIRONMENTS: 'prod,qa',
      TEMPORAL_TLS_CERT_PATH: '/tmp/c.pem',
    });
    const byVariable = Object.fromEntries(err.problems.map((p) => [p.variable, p.message]));
    expect(Object.keys(byVariable).sort()).toEqual(
      [
        'ARGOCD_SYNC_TIMEOUT',
        'GITLAB_TOKEN',
        'GITLAB_URL_EXTERNAL',
        'JENKINS_TOKEN',
        'JENKINS_URL_EXTERNAL',
        'JENKINS_USER',
        'SHEPHERD_APPROVAL_ENVIRONMENTS',
        'SHEPHERD_UI_PORT',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_TLS_KEY_PATH',
      ].sort(),
    );
    expect(byVariable.GITLAB_URL_EXTERNAL).toContain('an http(s) URL, got "gitlab.local/"');
    expect(byVariable.SHEPHERD_UI_PORT).toContain('a port 1-65535');
    expect(byVariable.JENKINS_USER).toContain('is required when real systems are configured');
    expect(err.message).toContain('Configuration has 10 problems');
    for (const p of err.problems) expect(err.message).toContain(`- ${p.variable}: `);
  });

  it('never prints a secret value: not in errors, JSON, string conversion or inspection', () => {
    const err = problemsOf({ ...SECRETS, GITLAB_URL_EXTERNAL: 'not a url', TEMPORAL_ADDRESS: 'bad address!' });
    const config = loadConfig({
      env: {
        ...SECRETS,
        GITLAB_URL_EXTERNAL: 'https://gitlab.example',
        JENKINS_URL_EXTERNAL: 'https://jenkins.example',
        JENKINS_USER: 'bot',
        TEMPORAL_ADDRESS: 'temporal.example:7233',
      },
    });
    const rendered = [
      err.message,
      JSON.stringify(err.problems),
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      String(config.gitlab?.token),
      `${config.temporal.apiKey}`,
    ];
    for (const text of rendered) for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(config.gitlab?.token.reveal()).toBe(SECRETS.GITLAB_TOKEN);
    expect(JSON.stringify(config)).toContain('[redacted]');
  });

  it('hides the value of a secret that breaks its rule but still names the variable', () => {
    const err = problemsOf({ SHEPHERD_NOTIFY_WEBHOOK_URL: 'hooks.slack.com/services/T000/B000/XXXX-SECRET' });
    expect(err.problems).toEqual([
      {
        variable: 'SHEPHERD_NOTIFY_WEBHOOK_URL',
        rule: 'an http(s) URL',
        message: 'must be an http(s) URL (value hidden)',
      },
    ]);
    expect(err.message).not.toContain('XXXX-SECRET');
  });

  it('treats an API key as implying TLS and requires an explicit address for it', () => {
    const config = loadConfig({
      env: { TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'k' },
    });
    expect(config.temporal.tls).toEqual({});
    expect(problemsOf({ TEMPORAL_API_KEY: 'k' }).problems.map((p) => p.variable)).toEqual(['TEMPORAL_ADDRESS']);
  });

  it('rejects a malformed env file with its line number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-config-'));
    const file = join(dir, 'bad.env');
    writeFileSync(file, 'GITLAB_GROUP=p2c\nthis is not an assignment\n');
    expect(() => loadConfig({ envFile: file, env: {} })).toThrow(`${file}:2: expected KEY=value`);
  });
});
