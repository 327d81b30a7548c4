/**
 * The trait `tls` (scenario `tls`, `shepherd sandbox --tls`): every server of the world speaks HTTPS with a
 * certificate for 127.0.0.1/localhost issued by the world's own CA, which the world writes to ca.pem, names in its
 * settings (SHEPHERD_CA_FILE) and puts into its kubeconfig; a client that trusts only the default roots is refused.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startWorld, type World } from '../../src/sandbox/world/world.js';
import { kubectlPath } from '../../src/temporal/binaries.js';

interface Answer {
  readonly status: number;
  readonly peer: PeerCertificate;
}

/** One GET over HTTPS with Node's own client: the status and the certificate the server presented. */
function get(url: string, opts: { ca?: string; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate();
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, peer }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('a world behind its own CA (trait tls)', () => {
  let world: World;
  let dir: string;
  let caPem: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shepherd-tls-'));
    world = await startWorld({ dir, scenario: 'tls', timeScale: 0.005 });
    caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('writes its CA to ca.pem and names it in the settings an operator would set (SHEPHERD_CA_FILE)', () => {
    const ca = new X509Certificate(caPem);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=Shepherd sandbox world CA');
    expect(world.info.settings.SHEPHERD_CA_FILE).toBe(join(dir, 'ca.pem'));
    expect(world.info.tls?.caFile).toBe(join(dir, 'ca.pem'));
  });

  const endpoints = (w: World): [string, string, Record<string, string>, number][] => [
    ['GitLab', `${w.info.gitlab.url}/api/v4/version`, { 'private-token': w.info.gitlab.token }, 200],
    [
      'Jenkins',
      `${w.info.jenkins.url}/whoAmI/api/json`,
      { authorization: `Basic ${Buffer.from(`${w.info.jenkins.user}:${w.info.jenkins.token}`).toString('base64')}` },
      200,
    ],
    ['Kubernetes', `${w.info.kubernetes.url}/version`, { authorization: `Bearer ${w.info.kubernetes.token}` }, 200],
    ['the admin endpoint', `${w.info.admin.url}/state`, {}, 200],
  ];

  it('serves every system over HTTPS with a certificate for 127.0.0.1 and localhost issued by that CA', async () => {
    const ca = new X509Certificate(caPem);
    for (const [name, url, headers, status] of endpoints(world)) {
      expect(url, name).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
      const answer = await get(url, { ca: caPem, headers });
      expect(answer.status, name).toBe(status);
      const leaf = new X509Certificate(answer.peer.raw);
      expect(leaf.checkIssued(ca), name).toBe(true);
      expect(leaf.verify(ca.publicKey), name).toBe(true);
      expect(leaf.checkIP('127.0.0.1'), name).toBe('127.0.0.1');
      expect(leaf.checkHost('localhost'), name).toBe('localhost');
      expect(leaf.ca, name).toBe(false);
      expect(answer.peer.bits, name).toBeGreaterThanOrEqual(2048);
    }
  });

  it('is refused by a client that trusts only the default roots: self-signed certificate in certificate chain', async () => {
    for (const [name, url, headers] of endpoints(world)) {
      await expect(get(url, { headers }), name).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    }
  });

  it('writes a kubeconfig that trusts the CA (certificate-authority-data) instead of skipping verification', () => {
    const kubeconfig = parse(readFileSync(world.info.kubernetes.kubeconfig, 'utf8')) as {
      clusters: { cluster: Record<string, unknown> }[];
    };
    const cluster = kubeconfig.clusters[0]!.cluster;
    expect(cluster.server).toBe(world.info.kubernetes.url);
    expect(Buffer.from(String(cluster['certificate-authority-data']), 'base64').toString('utf8')).toBe(caPem);
    expect(cluster['insecure-skip-tls-verify']).toBeUndefined();
  });

  it('writes a kubeconfig that real kubectl (Go TLS) accepts: it verifies the API server against the CA', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        kubectlPath(),
        ['--kubeconfig', world.info.kubernetes.kubeconfig, 'get', 'deployments', '-n', 'dev', '-o', 'name'],
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(out.trim()).toBe('deployment.apps/example-app');
  });

  it("links to itself with https:// (Jenkins' root url, which build URLs start with)", async () => {
    const answer = await fetchJson(`${world.info.jenkins.url}/api/json`, {
      authorization: `Basic ${Buffer.from(`${world.info.jenkins.user}:${world.info.jenkins.token}`).toString('base64')}`,
    });
    expect(String((answer as { url?: unknown }).url)).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
  });

  /** GET over HTTPS trusting the world's CA, parsed as JSON. */
  function fetchJson(url: string, headers: Record<string, string>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers, ca: caPem }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      });
      req.on('error', reject);
      req.end();
    });
  }
});

describe('a world without the trait', () => {
  it('serves plain HTTP and asks for no CA', async () => {
    const world = await startWorld({ dir: mkdtempSync(join(tmpdir(), 'shepherd-plain-')), timeScale: 0.005 });
    try {
      for (const url of [
        world.info.gitlab.url,
        world.info.jenkins.url,
        world.info.kubernetes.url,
        world.info.admin.url,
      ])
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(world.info.tls).toBeUndefined();
      expect(world.info.settings.SHEPHERD_CA_FILE).toBeUndefined();
    } finally {
      await world.stop();
    }
  });
});
