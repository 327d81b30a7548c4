/**
 * Drives the sandbox world by hand, the way the seed's validate script drives the real installation, through the
 * real client libraries: @gitbeaker/rest for GitLab, the npm jenkins client for Jenkins, @kubernetes/client-node
 * for the cluster. No Shepherd workflow or activity is involved.
 */
import { Buffer } from 'node:buffer';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gitlab } from '@gitbeaker/rest';
import Jenkins from 'jenkins';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { WorldPipeline } from '../../src/sandbox/world/layout.js';
import { startWorld, type World } from '../../src/sandbox/world/world.js';
import type { WorldState } from '../../src/sandbox/world/state.js';
import type { ScenarioInput } from '../../src/sandbox/core/faults.js';
import { eventually } from '../support/eventually.js';

interface JenkinsObjectClient {
  job: { build(o: { name: string; parameters?: Record<string, string> }): Promise<number> };
  queue: { item(n: number): Promise<{ cancelled?: boolean; executable?: { number: number } | null }> };
  build: { get(o: { name: string; number: number | string }): Promise<BuildJson> };
}

export interface BuildJson {
  number: number;
  result: string | null;
  building: boolean;
  url: string;
  actions: ({ _class?: string; lastBuiltRevision?: { SHA1: string } } | Record<string, never>)[];
}

export interface Application {
  metadata: { annotations?: Record<string, string> };
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string };
    operationState?: { phase?: string; message?: string; finishedAt?: string; syncResult?: { revision?: string } };
    reconciledAt?: string;
    history?: { revision: string }[];
  };
}

export interface Driver {
  readonly world: World;
  readonly gitlab: InstanceType<typeof Gitlab>;
  readonly jenkins: JenkinsObjectClient;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  state(): Promise<WorldState>;
  /** Bumps the patch version in pom.xml on the app repo's main; returns the new version and commit. */
  bumpVersion(): Promise<{ version: string; sha: string }>;
  /** The CI build that checked out `sha` (from the git plugin's BuildData), once finished; `job`: another app's. */
  awaitCiBuild(sha: string, job?: string): Promise<BuildJson>;
  /** The open MR to `target` whose source branch starts with `prefix`. */
  awaitOpenMr(
    target: string,
    prefix: string,
  ): Promise<{ iid: number; sha: string; source_branch: string; title: string; web_url: string }>;
  /** Waits for GitLab's mergeability check, then merges with the sha guard; returns the merge commit. */
  merge(iid: number): Promise<string>;
  /** Runs promote-environment through the queue; returns the finished build. */
  promote(source: string, target: string, imageTag?: string): Promise<BuildJson>;
  application(env: string): Promise<Application>;
  /** Argo CD synced at `revision` by a Succeeded operation, and Healthy. */
  awaitSyncedAndHealthy(env: string, revision: string): Promise<Application>;
  /** Images of the env's pods that are Ready. */
  readyPodImages(env: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startDriver(
  opts: {
    scenario?: string | ScenarioInput;
    timeScale?: number;
    pipeline?: WorldPipeline;
    clusters?: Readonly<Record<string, string>>;
  } = {},
): Promise<Driver> {
  const world = await startWorld({
    dir: mkdtempSync(join(tmpdir(), 'shepherd-world-')),
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    timeScale: opts.timeScale ?? 0.005,
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    ...(opts.clusters ? { clusters: opts.clusters } : {}),
  });
  const { info, layout } = world;
  const gitlab = new Gitlab({ host: info.gitlab.url, token: info.gitlab.token, queryTimeout: 10_000 });
  const jenkins = new Jenkins({
    baseUrl: info.jenkins.url,
    crumbIssuer: false,
    headers: { authorization: `Basic ${Buffer.from(`${info.jenkins.user}:${info.jenkins.token}`).toString('base64')}` },
  }) as unknown as JenkinsObjectClient;
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubernetes.kubeconfig);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ciJob = layout.ciJob.join('/');

  const application = async (env: string): Promise<Application> =>
    (await custom.getNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: info.argocd.namespace,
      plural: 'applications',
      name: `${info.app}-${env}`,
    })) as Application;

  const driver: Driver = {
    world,
    gitlab,
    jenkins,
    apps,
    core,
    custom,
    async state() {
      return (await (await fetch(`${info.admin.url}/state`)).json()) as WorldState;
    },
    async bumpVersion() {
      const file = await gitlab.RepositoryFiles.show(info.gitlab.appProject, 'pom.xml', 'main');
      const pom = Buffer.from(file.content, 'base64').toString('utf8');
      const current = /<version>([^<]+)<\/version>/.exec(pom)![1]!;
      const m = /^(\d+)\.(\d+)\.(\d+)(.*)$/.exec(current)!;
      const version = `${m[1]}.${m[2]}.${Number(m[3]) + 1}${m[4]}`;
      const commit = await gitlab.Commits.create(
        info.gitlab.appProject,
        'main',
        `chore: bump version to ${version} [pipeline-validation]`,
        [
          {
            action: 'update',
            filePath: 'pom.xml',
            content: pom.replace(`<version>${current}</version>`, `<version>${version}</version>`),
            lastCommitId: file.last_commit_id,
          },
        ],
      );
      return { version, sha: commit.id };
    },
    async awaitCiBuild(sha, job = ciJob) {
      return eventually(async () => {
        for (let n = 1; n <= 20; n++) {
          let build: BuildJson;
          try {
            build = await jenkins.build.get({ name: job, number: n });
          } catch {
            return undefined;
          }
          const revision = build.actions.find((a) => 'lastBuiltRevision' in a && a.lastBuiltRevision)?.lastBuiltRevision
            ?.SHA1;
          if (revision === sha && !build.building) return build;
        }
        return undefined;
      }, `the CI build of ${sha} in ${job}`);
    },
    async awaitOpenMr(target, prefix) {
      return eventually(async () => {
        const open = await gitlab.MergeRequests.all({
          projectId: info.gitlab.deploymentsProject,
          state: 'opened',
          targetBranch: target,
        });
        const mr = open.find((m) => String(m.source_branch).startsWith(prefix));
        return mr
          ? {
              iid: mr.iid,
              sha: String(mr.sha),
              source_branch: String(mr.source_branch),
              title: mr.title,
              web_url: mr.web_url,
            }
          : undefined;
      }, `an open MR to ${target} from ${prefix}*`);
    },
    async merge(iid) {
      const ready = await eventually(async () => {
        const mr = await gitlab.MergeRequests.show(info.gitlab.deploymentsProject, iid);
        return mr.detailed_merge_status === 'checking' ? undefined : mr;
      }, `MR !${iid} mergeability`);
      if (ready.detailed_merge_status !== 'mergeable')
        throw new Error(`MR !${iid} is ${String(ready.detailed_merge_status)}`);
      const merged = await gitlab.MergeRequests.merge(info.gitlab.deploymentsProject, iid, { sha: String(ready.sha) });
      return String(merged.merge_commit_sha);
    },
    async promote(source, target, imageTag) {
      const queueId = await jenkins.job.build({
        name: layout.promoteJob.join('/'),
        parameters: {
          APP_NAME: info.app,
          SOURCE_ENV: source,
          TARGET_ENV: target,
          ...(imageTag ? { IMAGE_TAG: imageTag } : {}),
        },
      });
      const left = await eventually(async () => {
        const item = await jenkins.queue.item(queueId);
        if (item.cancelled) return { cancelled: true as const, number: undefined };
        return item.executable ? { cancelled: false as const, number: item.executable.number } : undefined;
      }, `promote queue item ${queueId} to leave the queue`);
      if (left.cancelled) throw new Error(`queue item ${queueId} was cancelled`);
      const { number } = left;
      return eventually(async () => {
        const build = await jenkins.build.get({ name: layout.promoteJob.join('/'), number });
        return build.building ? undefined : build;
      }, `promote build ${number}`);
    },
    application,
    async awaitSyncedAndHealthy(env, revision) {
      return eventually(
        async () => {
          const app = await application(env);
          const st = app.status;
          const ok =
            st?.sync?.status === 'Synced' &&
            st.sync.revision === revision &&
            st.operationState?.phase === 'Succeeded' &&
            st.operationState.syncResult?.revision === revision &&
            st.health?.status === 'Healthy';
          return ok ? app : undefined;
        },
        `${env} synced and healthy at ${revision.slice(0, 8)}`,
      );
    },
    async readyPodImages(env) {
      const pods = await core.listNamespacedPod({
        namespace: info.environments[env]!.namespace,
        labelSelector: `app=${info.app}`,
      });
      // Pods still terminating (graceful shutdown of an old ReplicaSet) no longer serve: not counted.
      return pods.items
        .filter((p) => !p.metadata?.deletionTimestamp)
        .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .map((p) => p.spec!.containers[0]!.image!);
    },
    stop: () => world.stop(),
  };
  return driver;
}
