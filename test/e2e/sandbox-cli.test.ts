import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeconfigYaml } from '../../src/sandbox/kubernetes/kubeconfig.js';
import { kubectlPath } from '../../src/temporal/binaries.js';
import { runCli, startCli, type RunningCli } from '../support/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';

const exec = promisify(execFile);

describe('shepherd sandbox', () => {
  const running: RunningCli[] = [];
  const proxies: RecordingProxy[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const cli of running) cli.child.kill('SIGKILL');
    await Promise.all(proxies.map((p) => p.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('prints one JSON line once ready, and real kubectl can read its Deployments and Argo CD Applications with the token (refused without)', async () => {
    const cli = startCli(['sandbox', '--json']);
    running.push(cli);
    const info = JSON.parse(await cli.waitForLine(/^\{/, 30_000)) as {
      gitlab: { url: string; token: string; appProject: string; deploymentsProject: string };
      jenkins: { url: string; user: string; token: string; ciJob: string; promoteJob: string };
      kubernetes: { url: string; kubeconfig: string; token: string };
      argocd: { namespace: string };
      app: string;
      environments: Record<string, { branch: string; namespace: string; argoApp: string }>;
      admin: { url: string };
    };
    expect(info).toMatchObject({
      gitlab: { appProject: 'p2c/example-app', deploymentsProject: 'p2c/k8s-deployments' },
      jenkins: { user: 'shepherd', ciJob: 'example-app/job/main', promoteJob: 'promote-environment' },
      argocd: { namespace: 'argocd' },
      app: 'example-app',
      environments: { stage: { branch: 'stage', namespace: 'stage', argoApp: 'example-app-stage' } },
    });
    expect(cli.stdout.trim().split('\n')).toHaveLength(1);

    const kubectl = kubectlPath();
    // The API server refuses requests without the token, and kubectl sends none to a plain-http server: with the
    // world's kubeconfig it is refused; through a proxy that adds the token (as `kubectl proxy` does) it reads.
    const refused = await exec(kubectl, ['--kubeconfig', info.kubernetes.kubeconfig, 'get', 'deployments', '-A']).then(
      () => 'answered',
      (err: { stderr: string }) => err.stderr,
    );
    expect(refused).toContain('You must be logged in to the server');
    const proxy = await startRecordingProxy(info.kubernetes.url, () => {}, {
      headers: { authorization: `Bearer ${info.kubernetes.token}` },
    });
    proxies.push(proxy);
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-sandbox-cli-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml({ server: proxy.url, token: info.kubernetes.token }), { mode: 0o600 });
    const deployments = await exec(kubectl, ['--kubeconfig', kubeconfig, 'get', 'deployments', '-A']);
    expect(deployments.stdout).toMatch(/dev\s+example-app/);
    expect(deployments.stdout).toMatch(/prod\s+example-app/);
    const apps = JSON.parse(
      (
        await exec(kubectl, [
          '--kubeconfig',
          kubeconfig,
          'get',
          'applications.argoproj.io',
          '-n',
          info.argocd.namespace,
          '-o',
          'json',
        ])
      ).stdout,
    ) as {
      items: { metadata: { name: string }; status: { health: { status: string }; sync: { status: string } } }[];
    };
    expect(apps.items.map((a) => [a.metadata.name, a.status.sync.status, a.status.health.status])).toEqual([
      ['example-app-dev', 'Synced', 'Healthy'],
      ['example-app-prod', 'Synced', 'Healthy'],
      ['example-app-stage', 'Synced', 'Healthy'],
    ]);
    await exec(kubectl, [
      '--kubeconfig',
      kubeconfig,
      'wait',
      '--for=condition=Available',
      'deployment/example-app',
      '-n',
      'dev',
      '--timeout=20s',
    ]);

    const state = (await (await fetch(`${info.admin.url}/state`)).json()) as {
      environments: Record<string, { health: string }>;
    };
    expect(state.environments.prod?.health).toBe('Healthy');

    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    // The folder it made holds a kubeconfig with the cluster's token: it goes with the sandbox.
    expect(existsSync(dirname(info.kubernetes.kubeconfig))).toBe(false);
  });

  it('--tls serves HTTPS with the world CA, writes ca.pem and names it as SHEPHERD_CA_FILE (part F)', async () => {
    const cli = startCli(['sandbox', '--tls', '--json']);
    running.push(cli);
    const info = JSON.parse(await cli.waitForLine(/^\{/, 30_000)) as {
      gitlab: { url: string };
      admin: { url: string };
      tls?: { caFile: string };
      settings: Record<string, string>;
    };
    expect(info.gitlab.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(info.settings.SHEPHERD_CA_FILE).toBe(info.tls?.caFile);
    expect(existsSync(info.tls!.caFile)).toBe(true);
    await expect(fetch(`${info.admin.url}/state`)).rejects.toMatchObject({
      cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    });
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });

  it('lists the scenario catalogue and refuses an unknown scenario with exit code 2', async () => {
    const list = await runCli(['sandbox', '--scenario', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^stage-degraded\s+Whenever a new image reaches stage/m);
    const bad = await runCli(['sandbox', '--scenario', 'no-such-thing']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown scenario "no-such-thing". Known scenarios: gitlab-flaky');
  });
});
