/**
 * Shared set-up for the Kubernetes / Argo CD sandbox tests: a fake Git source with per-branch commits of the
 * rendered manifests, the simulated cluster and its API server, and clients of @kubernetes/client-node.
 */
import { createHash } from 'node:crypto';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { GitSource } from '../../src/sandbox/argocd/git-source.js';
import { Clock } from '../../src/sandbox/core/clock.js';
import { FaultEngine, type ScenarioInput } from '../../src/sandbox/core/faults.js';
import type { SandboxServer } from '../../src/sandbox/core/http.js';
import { createCluster, type ClusterEnv, type SimulatedCluster } from '../../src/sandbox/kubernetes/cluster.js';
import { buildDeployment } from '../../src/sandbox/kubernetes/seed-objects.js';
import { startKubernetesServer } from '../../src/sandbox/kubernetes/server.js';

export const APP = 'example-app';
export const REPO_URL = 'https://gitlab.sandbox.local/p2c/k8s-deployments.git';
export const MANIFEST_PATH = 'manifests/exampleApp';
export const TOKEN = 'sandbox-k8s-token';
export const IMAGE_V1 = 'docker.sandbox.local/p2c/example-app:1.0.36-SNAPSHOT-aaaaaaa';
export const IMAGE_V2 = 'docker.sandbox.local/p2c/example-app:1.0.37-SNAPSHOT-bbbbbbb';
export const IMAGE_V3 = 'docker.sandbox.local/p2c/example-app:1.0.38-SNAPSHOT-ccccccc';

export const ENVS: ClusterEnv[] = [
  { env: 'dev', namespace: 'dev', branch: 'dev', argoApp: 'example-app-dev', replicas: 1 },
  { env: 'stage', namespace: 'stage', branch: 'stage', argoApp: 'example-app-stage', replicas: 2 },
  { env: 'prod', namespace: 'prod', branch: 'prod', argoApp: 'example-app-prod', replicas: 3 },
];

/** The manifest file the deployments repo holds for one environment (Deployment, then Service). */
export function renderManifest(env: ClusterEnv, image: string): string {
  const deployment = buildDeployment({
    app: APP,
    env: env.env,
    namespace: env.namespace,
    image,
    replicas: env.replicas,
  });
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: APP, namespace: env.namespace, labels: { app: APP } },
    spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
  return `${stringify(deployment)}---\n${stringify(service)}`;
}

/** A scriptable Git: each commit stores the whole manifest folder of one branch. */
export class FakeGit implements GitSource {
  private readonly heads = new Map<string, string>();
  private readonly trees = new Map<string, Record<string, string>>();
  private counter = 0;

  resolveRevision(repoURL: string, revision: string): string | undefined {
    return repoURL === REPO_URL ? this.heads.get(revision) : undefined;
  }

  readDirectory(repoURL: string, sha: string, path: string): Record<string, string> | undefined {
    if (repoURL !== REPO_URL || path !== MANIFEST_PATH) return undefined;
    return this.trees.get(sha);
  }

  /** Commits `files` (relative to the manifest folder) on `branch`; returns the new sha. */
  commitFiles(branch: string, files: Record<string, string>): string {
    const sha = createHash('sha1').update(`${branch}-${++this.counter}`).digest('hex');
    this.trees.set(sha, files);
    this.heads.set(branch, sha);
    return sha;
  }

  /** Commits the environment's manifest with `image`; returns the new sha. */
  commitImage(env: ClusterEnv, image: string): string {
    return this.commitFiles(env.branch, { 'exampleApp.yaml': renderManifest(env, image) });
  }

  head(branch: string): string | undefined {
    return this.heads.get(branch);
  }
}

export interface TestWorld {
  clock: Clock;
  faults: FaultEngine;
  git: FakeGit;
  cluster: SimulatedCluster;
  server: SandboxServer;
  kc: KubeConfig;
  apps: AppsV1Api;
  core: CoreV1Api;
  co: CustomObjectsApi;
  stop(): Promise<void>;
}

export interface TestWorldOptions {
  timeScale?: number;
  scenario?: ScenarioInput;
  watchHistoryLimit?: number;
  bookmarkIntervalMs?: number;
  /** Part C: installation traits of the Argo CD Applications (see ClusterOptions). */
  manualSync?: readonly string[];
  valuesSource?: { repoURL: string; targetRevision: string };
}

/** A kube config for the server with `token`. */
export function kubeConfigFor(url: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'sandbox', user: 'u', namespace: 'default' }],
    currentContext: 'ctx',
  });
  return kc;
}

/** Starts a world with every environment on IMAGE_V1, synced and healthy. */
export async function startWorld(opts: TestWorldOptions = {}): Promise<TestWorld> {
  const clock = new Clock(opts.timeScale ?? 0.002);
  const faults = new FaultEngine();
  if (opts.scenario) await faults.activate(opts.scenario);
  const git = new FakeGit();
  for (const env of ENVS) git.commitImage(env, IMAGE_V1);
  const cluster = createCluster({
    clock,
    faults,
    git,
    envs: ENVS,
    app: APP,
    repoURL: REPO_URL,
    initialImage: IMAGE_V1,
    manifestPath: MANIFEST_PATH,
    ...(opts.watchHistoryLimit !== undefined ? { watchHistoryLimit: opts.watchHistoryLimit } : {}),
    ...(opts.manualSync ? { manualSync: opts.manualSync } : {}),
    ...(opts.valuesSource ? { valuesSource: opts.valuesSource } : {}),
  });
  const server = await startKubernetesServer({
    store: cluster.store,
    faults,
    token: TOKEN,
    ...(opts.bookmarkIntervalMs !== undefined ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}),
  });
  const kc = kubeConfigFor(server.url, TOKEN);
  return {
    clock,
    faults,
    git,
    cluster,
    server,
    kc,
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    co: kc.makeApiClient(CustomObjectsApi),
    async stop() {
      clock.stop();
      cluster.stop();
      await faults.stop();
      await server.close();
    },
  };
}

/** Raw fetch against the server with the token. */
export function api(world: TestWorld, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${world.server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
  });
}
