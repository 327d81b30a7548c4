import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKubeconfig } from '../../src/sandbox/kubernetes/kubeconfig.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { ENVS, IMAGE_V2, TOKEN, startWorld, type TestWorld } from './kubernetes-fixture.js';

const KUBECTL =
  process.env['SHEPHERD_KUBECTL_PATH'] ?? fileURLToPath(new URL('../../.shepherd/venv/bin/kubectl', import.meta.url));
const available = existsSync(KUBECTL);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!available)(
  `real kubectl against the simulated API server (skipped when ${KUBECTL} is missing; set SHEPHERD_KUBECTL_PATH)`,
  () => {
    let world: TestWorld;
    let proxy: RecordingProxy;
    let dir: string;
    let kubeconfig: string;
    let direct: string;

    const kubectlWith = (config: string, ...args: string[]): Promise<Run> =>
      new Promise((resolve) => {
        execFile(
          KUBECTL,
          ['--kubeconfig', config, '--cache-dir', join(dir, 'cache'), ...args],
          { timeout: 40_000, env: { PATH: process.env['PATH'] ?? '', HOME: dir } },
          (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
          },
        );
      });
    const kubectl = (...args: string[]): Promise<Run> => kubectlWith(kubeconfig, ...args);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'shepherd-kubectl-'));
      world = await startWorld({ timeScale: 0.002 });
      // kubectl sends no credentials to a plain-http server (client-go reads the kubeconfig's user only for TLS),
      // and the server refuses anonymous requests: kubectl goes through a proxy that adds the token, as
      // `kubectl proxy` would.
      proxy = await startRecordingProxy(world.server.url, () => {}, { headers: { authorization: `Bearer ${TOKEN}` } });
      kubeconfig = join(dir, 'kubeconfig');
      await writeKubeconfig(kubeconfig, { server: proxy.url, token: TOKEN, namespace: 'dev' });
      direct = join(dir, 'kubeconfig-direct');
      await writeKubeconfig(direct, { server: world.server.url, token: TOKEN, namespace: 'dev' });
    });
    afterAll(async () => {
      await proxy?.stop();
      await world?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('is refused without credentials: the server answers 401 and kubectl asks for a login', async () => {
      const r = await kubectlWith(direct, 'get', 'deployments', '-n', 'dev');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
      );
    });

    it("lists a Deployment's ReplicaSet, owned by it, its selector carrying the pod-template-hash", async () => {
      const r = await kubectl('get', 'replicasets', '-n', 'dev', '-l', 'app=example-app', '-o', 'json');
      expect(r.stderr).toBe('');
      const list = JSON.parse(r.stdout) as {
        items: {
          metadata: { name: string; labels: Record<string, string>; ownerReferences: { kind: string }[] };
          spec: { selector: { matchLabels: Record<string, string> } };
        }[];
      };
      expect(list.items).toHaveLength(1);
      const rs = list.items[0]!;
      const hash = rs.metadata.labels['pod-template-hash']!;
      expect(rs.metadata.name).toBe(`example-app-${hash}`);
      expect(rs.spec.selector.matchLabels['pod-template-hash']).toBe(hash);
      expect(rs.metadata.ownerReferences.map((o) => o.kind)).toEqual(['Deployment']);
    });

    it('lists the Deployments of every namespace', async () => {
      const r = await kubectl('get', 'deployments', '-A');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rows = r.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 2));
      expect(rows).toEqual([
        ['dev', 'example-app'],
        ['prod', 'example-app'],
        ['stage', 'example-app'],
      ]);
    });

    it('prints the Applications as JSON with their sync and health status', async () => {
      const r = await kubectl('get', 'applications.argoproj.io', '-n', 'argocd', '-o', 'json');
      expect(r.code).toBe(0);
      const list = JSON.parse(r.stdout) as {
        items: { metadata: { name: string }; status: { sync: { status: string }; health: { status: string } } }[];
      };
      expect(list.items.map((a) => [a.metadata.name, a.status.sync.status, a.status.health.status])).toEqual([
        ['example-app-dev', 'Synced', 'Healthy'],
        ['example-app-prod', 'Synced', 'Healthy'],
        ['example-app-stage', 'Synced', 'Healthy'],
      ]);
    });

    it('waits for the Available condition of a Deployment', async () => {
      const r = await kubectl(
        'wait',
        '--for=condition=Available',
        'deployment/example-app',
        '-n',
        'dev',
        '--timeout=20s',
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('deployment.apps/example-app condition met');
    });

    it('follows a rollout to its end with rollout status', async () => {
      world.git.commitImage(ENVS[0]!, IMAGE_V2);
      const r = await kubectl('rollout', 'status', 'deployment/example-app', '-n', 'dev', '--timeout=20s');
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('deployment "example-app" successfully rolled out');
    });

    it('shows the server NotFound message for a missing Deployment', async () => {
      const r = await kubectl('get', 'deployment', 'nope', '-n', 'dev');
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "nope" not found');
    });

    it('merge-patches the refresh annotation like the runbooks do', async () => {
      const r = await kubectl(
        'annotate',
        'applications.argoproj.io',
        'example-app-stage',
        '-n',
        'argocd',
        'argocd.argoproj.io/refresh=normal',
        '--overwrite',
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('application.argoproj.io/example-app-stage annotated');
    });
  },
);
