/** `shepherd webhooks --print-config`: what to register in GitLab and Jenkins, for the configured pipeline. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../support/cli.js';

const GITLAB_HOOK_SECRET = 'hook-secret-3f9a1c';
const JENKINS_NOTIFY_SECRET = 'notify-secret-77b2e0';
const dir = mkdtempSync(join(tmpdir(), 'shepherd-webhooks-'));
const varsFile = join(dir, 'infra.env');
writeFileSync(
  varsFile,
  [
    'GITLAB_URL_EXTERNAL=https://gitlab.example.org',
    'JENKINS_URL_EXTERNAL=https://jenkins.example.org',
    'APP_REPO_NAME=billing',
    'APP_REPO_PATH=shop/billing',
    'DEPLOYMENTS_REPO_PATH=shop/k8s-deployments',
    'JENKINS_APP_JOB_PATH=billing/job/main',
    'JENKINS_PROMOTE_JOB_NAME=promote-environment',
    'ARGOCD_NAMESPACE=argocd',
    'DEV_NAMESPACE=dev',
    'STAGE_NAMESPACE=stage',
    'PROD_NAMESPACE=prod',
    'DOCKER_REGISTRY_EXTERNAL=registry.example.org',
    'GITLAB_TOKEN=glpat-not-printed-either',
    'JENKINS_USER=bot',
    'JENKINS_TOKEN=jenkins-api-token-not-printed',
  ].join('\n'),
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shepherd webhooks --print-config', () => {
  it('prints the hook of both GitLab projects and the notification endpoint of both Jenkins jobs, without a secret', async () => {
    const { code, stdout } = await runInProcess(['webhooks', '--print-config', '--vars-file', varsFile], {
      SHEPHERD_WEBHOOK_URL: 'https://shepherd.example.org/',
      SHEPHERD_WEBHOOK_GITLAB_TOKEN: GITLAB_HOOK_SECRET,
      SHEPHERD_WEBHOOK_JENKINS_TOKEN: JENKINS_NOTIFY_SECRET,
    });
    expect(code).toBe(0);
    // GitLab: the URL, the token's variable, the events, and the API call on each project.
    expect(stdout).toContain('URL:           https://shepherd.example.org/webhooks/gitlab');
    expect(stdout).toContain('the value of SHEPHERD_WEBHOOK_GITLAB_TOKEN');
    expect(stdout).toContain('Push events (all branches), Merge request events, Pipeline events');
    for (const project of ['shop%2Fbilling', 'shop%2Fk8s-deployments'])
      expect(stdout).toContain(`"https://gitlab.example.org/api/v4/projects/${project}/hooks"`);
    expect(stdout).toContain('-d push_events=true -d merge_requests_events=true -d pipeline_events=true');
    expect(stdout).toContain('--data-urlencode "token=$SHEPHERD_WEBHOOK_GITLAB_TOKEN"');
    // Jenkins: both jobs, the endpoint with the secret's variable in its userinfo, the Jenkinsfile forms.
    expect(stdout).toContain('CI job billing » main (job/billing/job/main/)');
    expect(stdout).toContain('promote job promote-environment (job/promote-environment/)');
    expect(stdout).toContain(
      'https://shepherd:${SHEPHERD_WEBHOOK_JENKINS_TOKEN}@shepherd.example.org/webhooks/jenkins',
    );
    expect(stdout).toContain("[$class: 'HudsonNotificationProperty'");
    expect(stdout).toContain('X-Shepherd-Token: $SHEPHERD_TOKEN');
    expect(stdout).not.toContain('Not set yet');
    for (const secret of [
      GITLAB_HOOK_SECRET,
      JENKINS_NOTIFY_SECRET,
      'glpat-not-printed-either',
      'jenkins-api-token-not-printed',
    ])
      expect(stdout).not.toContain(secret);
  });

  it('says which secret is missing, and uses the bind address when no public URL is configured', async () => {
    const { code, stdout } = await runInProcess(
      ['webhooks', '--print-config', '--vars-file', varsFile, '--address', '0.0.0.0:9000'],
      {
        SHEPHERD_WEBHOOK_URL: undefined,
        SHEPHERD_WEBHOOK_GITLAB_TOKEN: 'set',
        SHEPHERD_WEBHOOK_JENKINS_TOKEN: undefined,
      },
    );
    expect(code).toBe(0);
    expect(stdout).toContain('http://0.0.0.0:9000/webhooks/gitlab');
    expect(stdout).toContain('Not set yet: SHEPHERD_WEBHOOK_JENKINS_TOKEN.');
  });

  it('documents itself in --help', async () => {
    const { code, stdout } = await runInProcess(['webhooks', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: shepherd webhooks [--print-config]');
    expect(stdout).toContain('POST /webhooks/gitlab');
  });
});
