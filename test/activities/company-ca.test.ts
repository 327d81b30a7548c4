/**
 * Shepherd's clients against a world behind its own CA (scenario `tls`), through the real libraries: gitbeaker
 * (fetch + undici dispatcher), the npm `jenkins` client (papi over https) and Jenkins' raw fetch calls, the Kubernetes
 * client (kubeconfig CA, plus SHEPHERD_CA_FILE), the notification webhook client. With the world's settings
 * (SHEPHERD_CA_FILE) they work; without, they fail at once with a CertificateError that names the fix.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GitLabClient } from '../../src/clients/gitlab/index.js';
import { JenkinsClient } from '../../src/clients/jenkins/client.js';
import { createKubernetesClient } from '../../src/clients/kubernetes/index.js';
import { createWebhookClient } from '../../src/clients/notifications/index.js';
import type { CompanyCa } from '../../src/config/company-ca.js';
import { Secret } from '../../src/config/secret.js';
import { CertificateError, ERROR_RETRYABLE } from '../../src/domain/errors.js';
import { runDoctor, type Installation } from '../../src/doctor/index.js';
import { issueWorldCertificates } from '../../src/sandbox/core/tls.js';
import { configForWorld } from '../../src/worker/activities.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';

let sandbox: TestSandbox;
let companyCa: CompanyCa;

beforeAll(async () => {
  sandbox = await startSandbox({ scenario: 'tls' });
  // What the demo and the worker do: the world's settings over the environment.
  companyCa = configForWorld(sandbox.world, { env: {} }).companyCa!;
});
afterAll(async () => {
  await sandbox?.stop();
});

/** The CertificateError a call fails with, checked for what every one of them must say. */
async function certificateErrorOf(call: Promise<unknown>): Promise<CertificateError> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CertificateError);
  const e = err as CertificateError;
  expect(e.facts.code).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  expect(e.message).toContain('self-signed certificate in certificate chain');
  expect(e.message).toContain('SHEPHERD_CA_FILE');
  return e;
}

describe('SHEPHERD_CA_FILE', () => {
  it('is what the world names in its settings, and adds its CA to the default roots instead of replacing them', async () => {
    expect(companyCa.file).toBe(sandbox.world.info.tls?.caFile);
    expect(companyCa.certificates).toHaveLength(1);
    const { rootCertificates } = await import('node:tls');
    expect(companyCa.trusted.length).toBe(rootCertificates.length + 1);
    expect(companyCa.trusted.at(-1)).toBe(companyCa.certificates[0]);
  });

  it('a refused certificate is not retried: trust does not change by itself', () => {
    expect(ERROR_RETRYABLE.CertificateError).toBe(false);
  });
});

describe('the GitLab client (gitbeaker over fetch)', () => {
  const client = (ca?: CompanyCa) =>
    new GitLabClient({
      url: sandbox.world.info.gitlab.url,
      token: new Secret(sandbox.world.info.gitlab.token),
      companyCa: ca,
    });

  it('reads GitLab over HTTPS when it trusts the company CA', async () => {
    expect((await client(companyCa).currentUser()).username).toBe('shepherd');
    const project = await client(companyCa).getProject(sandbox.layout.gitlab.appProject);
    expect(project.path).toBe(sandbox.layout.gitlab.appProject);
  });

  it('fails at once with a CertificateError naming SHEPHERD_CA_FILE when it does not', async () => {
    const err = await certificateErrorOf(client().currentUser());
    expect(err.facts.system).toBe('gitlab');
    expect(err.message).toMatch(/^GitLab presented a certificate Shepherd does not accept on GET user/);
  });
});

describe('the Jenkins client (npm jenkins over https, and raw fetch)', () => {
  const client = (ca?: CompanyCa) =>
    new JenkinsClient({
      url: sandbox.world.info.jenkins.url,
      user: sandbox.world.info.jenkins.user,
      token: new Secret(sandbox.world.info.jenkins.token),
      companyCa: ca,
    });

  it('reads Jenkins over HTTPS through both paths when it trusts the company CA', async () => {
    expect((await client(companyCa).whoAmI()).name).toBe('shepherd');
    expect(await client(companyCa).listBuilds(sandbox.layout.jenkins.appJob)).toEqual(expect.any(Array));
  });

  it('fails at once with a CertificateError naming SHEPHERD_CA_FILE on both paths when it does not', async () => {
    expect((await certificateErrorOf(client().whoAmI())).facts.system).toBe('jenkins');
    expect((await certificateErrorOf(client().listBuilds(sandbox.layout.jenkins.appJob))).facts.system).toBe('jenkins');
  });
});

describe('the Kubernetes client', () => {
  /** The world's kubeconfig as a cluster without its CA would have it (a server signed by a company CA). */
  function kubeconfigWithoutCa(): string {
    const file = join(sandbox.world.info.tls!.caFile, '..', 'kubeconfig-no-ca');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: sandbox.world.info.kubernetes.url } }],
        users: [{ name: 'u', user: { token: sandbox.world.info.kubernetes.token } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
      { mode: 0o600 },
    );
    return file;
  }

  const readDev = (client: ReturnType<typeof createKubernetesClient>) =>
    client.readDeployment(sandbox.layout.environments.dev!.namespace, sandbox.layout.app.name);

  it("trusts the cluster's CA from the kubeconfig (certificate-authority-data) without any setting", async () => {
    const client = createKubernetesClient({ kubeconfigPath: sandbox.world.info.kubernetes.kubeconfig });
    expect((await readDev(client)).name).toBe(sandbox.layout.app.name);
  });

  it('keeps trusting the kubeconfig CA when SHEPHERD_CA_FILE is set too', async () => {
    const client = createKubernetesClient({ kubeconfigPath: sandbox.world.info.kubernetes.kubeconfig, companyCa });
    expect((await readDev(client)).name).toBe(sandbox.layout.app.name);
  });

  it('trusts the company CA for a cluster whose kubeconfig has no CA', async () => {
    const client = createKubernetesClient({ kubeconfigPath: kubeconfigWithoutCa(), companyCa });
    expect((await readDev(client)).name).toBe(sandbox.layout.app.name);
  });

  it('fails with a CertificateError naming the kubeconfig CA and SHEPHERD_CA_FILE when neither trusts it', async () => {
    const client = createKubernetesClient({ kubeconfigPath: kubeconfigWithoutCa() });
    const err = await certificateErrorOf(readDev(client));
    expect(err.facts.system).toBe('kubernetes');
    expect(err.message).toContain('certificate-authority-data');
  });
});

describe('the notification webhook client', () => {
  let receiver: Server;
  let url: string;
  const received: string[] = [];

  beforeAll(async () => {
    // A receiver inside the company: its certificate comes from a CA of its own, not the world's.
    const certs = await issueWorldCertificates({ name: 'Company chat CA' });
    const file = join(sandbox.world.info.tls!.caFile, '..', 'chat-ca.pem');
    writeFileSync(file, certs.caPem);
    receiver = createServer({ cert: certs.serverChainPem, key: certs.serverKeyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(Buffer.concat(chunks).toString('utf8'));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/secret-path`;
    chatCa = configForWorld({ info: { settings: { SHEPHERD_CA_FILE: file } } }, { env: {} }).companyCa!;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });
  let chatCa: CompanyCa;

  it('posts to an HTTPS receiver signed by the company CA', async () => {
    await createWebhookClient({ webhookUrl: new Secret(url), companyCa: chatCa }).post({ text: 'promoted to prod' });
    expect(received.map((b) => JSON.parse(b) as { text: string }).map((b) => b.text)).toContain('promoted to prod');
  });

  it('fails with a CertificateError that names SHEPHERD_CA_FILE and never the secret URL', async () => {
    const err = await certificateErrorOf(createWebhookClient({ webhookUrl: new Secret(url) }).post({ text: 'x' }));
    expect(err.facts.system).toBe('notifications');
    expect(err.message).not.toContain('secret-path');
  });
});

describe("the doctor's probes", () => {
  /** The sandbox world as doctor sees an installation, trusting `ca` or not. */
  function installation(ca: CompanyCa | undefined, kubeconfig: string): Installation {
    const info = sandbox.world.info;
    return {
      temporal: undefined,
      temporalProblem: 'not needed here',
      taskQueue: 'shepherd',
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
        appJob: sandbox.layout.jenkins.appJob,
        promoteJob: sandbox.layout.jenkins.promoteJob,
      },
      kubernetes: { kubeconfig, context: undefined },
      companyCa: ca,
      app: info.app,
      argocdNamespace: info.argocd.namespace,
      environments: info.environments,
      names: {
        gitlabUrl: 'GITLAB_URL_EXTERNAL',
        gitlabToken: 'GITLAB_TOKEN',
        jenkinsUrl: 'JENKINS_URL_EXTERNAL',
        jenkinsCredentials: 'JENKINS_USER and JENKINS_TOKEN',
        kubeconfig: 'KUBECONFIG',
      },
    };
  }

  it('reach every system with SHEPHERD_CA_FILE, and say to set it when it is missing', async () => {
    const kubeconfig = join(sandbox.world.info.tls!.caFile, '..', 'kubeconfig-doctor-no-ca');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: sandbox.world.info.kubernetes.url } }],
        users: [{ name: 'u', user: { token: sandbox.world.info.kubernetes.token } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
      { mode: 0o600 },
    );
    const trusted = (await runDoctor(installation(companyCa, kubeconfig), { quick: true })).checks.filter(
      (c) => c.system !== 'temporal',
    );
    expect(trusted.map((c) => [c.system, c.status])).toEqual([
      ['gitlab', 'pass'],
      ['jenkins', 'pass'],
      ['kubernetes', 'pass'],
    ]);
    const untrusted = (await runDoctor(installation(undefined, kubeconfig), { quick: true })).checks.filter(
      (c) => c.system !== 'temporal',
    );
    expect(untrusted.map((c) => c.system)).toEqual(['gitlab', 'jenkins', 'kubernetes']);
    for (const check of untrusted) {
      expect(check.status, check.system).toBe('fail');
      expect(check.detail, check.system).toContain('self-signed certificate in certificate chain');
      expect(check.fix, check.system).toContain('SHEPHERD_CA_FILE');
    }
  });
});
