/**
 * A reference implementation of the seed's validate-script flow (validate-pipeline.sh, iterations 1-3 of the seed's
 * design), in TypeScript against the sandbox's GitLab, Jenkins and Kubernetes APIs, with the seed's poll intervals:
 *
 *   1. bump the app version and push it to main            6/11. trigger promote-environment (dev→stage, stage→prod)
 *   2. wait for the CI build to complete   (Jenkins poll)   7/12. wait for the promote job     (Jenkins poll)
 *   3. merge the dev MR                    (MR poll)        8/13. merge the stage/prod MR      (MR poll)
 *   4. wait for the Argo CD sync of dev    (Argo CD poll)   9/14. wait for the Argo CD sync    (Argo CD poll)
 *   5. verify the dev pods are healthy     (pods poll)     10/15. verify the pods              (pods poll)
 *
 * It records, for every wait, when it began and when the flow's next step began: the bench compares those instants
 * with the world's own timeline to measure detection latency. It is what the seed does, no more: it does not check
 * what Shepherd checks (MR contents, CI result details, rollbacks), so it is the baseline to beat, not a rival.
 */
import type { WorldInfo } from '../sandbox/world/world.js';

/** The seed script's poll intervals at real speed, in milliseconds. */
export const SEED_POLL_MS = { jenkins: 10_000, mergeRequest: 5_000, argocd: 15_000, pods: 5_000 } as const;

export type WaitKind =
  | 'jenkins-build-start'
  | 'jenkins-queue'
  | 'jenkins-build'
  | 'merge-request'
  | 'argocd-sync'
  | 'argocd-synced-healthy'
  | 'pods';

/** One wait of a flow: when it began, and when the flow's next step began (the wait ended). */
export interface FlowWait {
  readonly kind: WaitKind;
  readonly env: 'dev' | 'stage' | 'prod';
  readonly startedAt: number;
  readonly movedOnAt: number;
  /** How many looks it took. */
  readonly looks: number;
}

export interface SeedFlowOptions {
  readonly world: WorldInfo;
  /** Multiplies the seed's poll intervals (the world's time scale). */
  readonly timeScale: number;
  readonly through?: 'dev' | 'stage' | 'prod';
  /** Gives up a wait after this long (ms); default 10 min × time scale, at least 60 s. */
  readonly waitLimitMs?: number;
  readonly say?: (line: string) => void;
}

export interface SeedFlowResult {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly imageTag: string;
  readonly waits: readonly FlowWait[];
}

export class SeedFlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedFlowError';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Http {
  readonly gitlab: (method: string, path: string, body?: unknown) => Promise<Response>;
  readonly jenkins: (method: string, path: string, form?: Record<string, string>) => Promise<Response>;
  readonly kube: (path: string) => Promise<Response>;
}

function httpFor(world: WorldInfo): Http {
  const basic = `Basic ${Buffer.from(`${world.jenkins.user}:${world.jenkins.token}`).toString('base64')}`;
  return {
    gitlab: (method, path, body) =>
      fetch(`${world.gitlab.url}/api/v4${path}`, {
        method,
        headers: { 'PRIVATE-TOKEN': world.gitlab.token, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }),
    jenkins: (method, path, form) =>
      fetch(path.startsWith('http') ? path : `${world.jenkins.url}${path}`, {
        method,
        headers: {
          authorization: basic,
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      }),
    kube: (path) =>
      fetch(`${world.kubernetes.url}${path}`, { headers: { authorization: `Bearer ${world.kubernetes.token}` } }),
  };
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new SeedFlowError(`${what} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

/** `1.0.36-SNAPSHOT` → `1.0.37-SNAPSHOT`, as the seed's bump does (the patch number plus one). */
export function bumpVersion(version: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)(.*)$/.exec(version);
  if (!m) throw new SeedFlowError(`cannot bump version "${version}"`);
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}${m[4]}`;
}

/** Runs the flow to its end; throws SeedFlowError when a step fails or a wait gives up. */
export async function runSeedFlow(opts: SeedFlowOptions): Promise<SeedFlowResult> {
  const { world } = opts;
  const http = httpFor(world);
  const say = opts.say ?? (() => {});
  const poll = {
    jenkins: SEED_POLL_MS.jenkins * opts.timeScale,
    mergeRequest: SEED_POLL_MS.mergeRequest * opts.timeScale,
    argocd: SEED_POLL_MS.argocd * opts.timeScale,
    pods: SEED_POLL_MS.pods * opts.timeScale,
  };
  const limitMs = opts.waitLimitMs ?? Math.max(60_000, 600_000 * opts.timeScale);
  const waits: FlowWait[] = [];
  const through = opts.through ?? 'prod';

  /** The seed's loop: look, and if not done, sleep the interval; the next step starts right after the last look. */
  const waitFor = async <T>(
    kind: WaitKind,
    env: FlowWait['env'],
    intervalMs: number,
    look: () => Promise<T | undefined>,
  ): Promise<T> => {
    const startedAt = Date.now();
    let looks = 0;
    for (;;) {
      looks += 1;
      const found = await look();
      if (found !== undefined) {
        waits.push({ kind, env, startedAt, movedOnAt: Date.now(), looks });
        return found;
      }
      if (Date.now() - startedAt > limitMs)
        throw new SeedFlowError(`gave up waiting (${kind}, ${env}) after ${Math.round(limitMs / 1000)} s`);
      await sleep(intervalMs);
    }
  };

  const appId = encodeURIComponent(world.gitlab.appProject);
  const deployId = encodeURIComponent(world.gitlab.deploymentsProject);
  const startedAt = Date.now();

  // 1. Bump the version in pom.xml and push it to main.
  const pomRes = await http.gitlab('GET', `/projects/${appId}/repository/files/pom.xml/raw?ref=main`);
  if (!pomRes.ok) throw new SeedFlowError(`reading pom.xml answered ${pomRes.status}`);
  const pom = await pomRes.text();
  const current = /<version>([^<]+)<\/version>/.exec(pom)?.[1];
  if (!current) throw new SeedFlowError('no <version> in pom.xml');
  const version = bumpVersion(current);
  const ciJob = `/job/${world.jenkins.ciJob}`;
  const before = await http.jenkins('GET', `${ciJob}/api/json`);
  const lastBefore = (await json<{ lastBuild?: { number: number } | null }>(before, 'CI job')).lastBuild?.number ?? 0;
  const commit = await json<{ id: string }>(
    await http.gitlab('POST', `/projects/${appId}/repository/commits`, {
      branch: 'main',
      commit_message: `Bump version to ${version}`,
      actions: [{ action: 'update', file_path: 'pom.xml', content: pom.replace(current, version) }],
    }),
    'pushing the version bump',
  );
  const imageTag = `${version}-${commit.id.slice(0, 7)}`;
  say(`seed flow: pushed ${version} (${commit.id.slice(0, 7)})`);

  // 2. Wait for the CI build of that push to complete.
  const ci = await waitFor('jenkins-build', 'dev', poll.jenkins, async () => {
    const res = await http.jenkins('GET', `${ciJob}/lastBuild/api/json`);
    if (res.status === 404) return undefined;
    const build = await json<{ number: number; building: boolean; result: string | null }>(res, 'CI build');
    return build.number > lastBefore && !build.building ? build : undefined;
  });
  if (ci.result !== 'SUCCESS' && ci.result !== 'UNSTABLE')
    throw new SeedFlowError(`CI build #${ci.number} ended ${ci.result}`);

  const mergeAndVerify = async (env: 'dev' | 'stage' | 'prod', sourceBranch: string): Promise<void> => {
    // 3. Merge the environment's MR once it is there.
    const mr = await waitFor('merge-request', env, poll.mergeRequest, async () => {
      const list = await json<{ iid: number }[]>(
        await http.gitlab(
          'GET',
          `/projects/${deployId}/merge_requests?state=opened&source_branch=${encodeURIComponent(sourceBranch)}`,
        ),
        'listing MRs',
      );
      return list[0];
    });
    let mergeSha: string | undefined;
    for (let attempt = 0; mergeSha === undefined; attempt++) {
      const res = await http.gitlab('PUT', `/projects/${deployId}/merge_requests/${mr.iid}/merge`);
      if (res.ok) mergeSha = ((await res.json()) as { merge_commit_sha: string }).merge_commit_sha;
      else if (attempt >= 10) throw new SeedFlowError(`merging !${mr.iid} answered ${res.status}`);
      else await sleep(poll.mergeRequest);
    }
    say(`seed flow: merged !${mr.iid} into ${env}`);
    // 4. Wait for Argo CD to sync the merge.
    const e = world.environments[env];
    if (!e) throw new Error(`the world has no environment ${env}`);
    await waitFor('argocd-sync', env, poll.argocd, async () => {
      const app = await json<{ status?: { sync?: { status?: string; revision?: string } } }>(
        await http.kube(`/apis/argoproj.io/v1alpha1/namespaces/${world.argocd.namespace}/applications/${e.argoApp}`),
        'reading the Application',
      );
      return app.status?.sync?.status === 'Synced' && app.status.sync.revision === mergeSha ? true : undefined;
    });
    // 5. Verify the pods run the new image and are ready.
    await waitFor('pods', env, poll.pods, async () => {
      const pods = await json<{
        items: {
          metadata: { deletionTimestamp?: string };
          spec: { containers: { image: string }[] };
          status?: { phase?: string; conditions?: { type: string; status: string }[] };
        }[];
      }>(
        await http.kube(
          `/api/v1/namespaces/${e.namespace}/pods?labelSelector=${encodeURIComponent(`app=${world.app}`)}`,
        ),
        'listing pods',
      );
      const live = pods.items.filter((p) => !p.metadata.deletionTimestamp);
      const ready = (p: (typeof live)[number]): boolean =>
        p.status?.phase === 'Running' &&
        (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      const allNew = live.length > 0 && live.every((p) => p.spec.containers[0]?.image.endsWith(`:${imageTag}`));
      return allNew && live.every(ready) ? true : undefined;
    });
    say(`seed flow: ${env} runs ${imageTag}`);
  };

  await mergeAndVerify('dev', `update-dev-${imageTag}`);
  const hops = [
    ['dev', 'stage'],
    ['stage', 'prod'],
  ] as const;
  for (const [source, target] of hops) {
    if (through === 'dev' || (through === 'stage' && target === 'prod')) break;
    // 6. Trigger the promote job, 7. wait for it to complete.
    const triggered = await http.jenkins('POST', `/job/${world.jenkins.promoteJob}/buildWithParameters`, {
      APP_NAME: world.app,
      SOURCE_ENV: source,
      TARGET_ENV: target,
      IMAGE_TAG: imageTag,
    });
    const queueUrl = triggered.headers.get('location');
    await triggered.arrayBuffer();
    if (!triggered.ok || !queueUrl) throw new SeedFlowError(`triggering the promote job answered ${triggered.status}`);
    let buildUrl: string | undefined;
    const promote = await waitFor('jenkins-build', target, poll.jenkins, async () => {
      if (buildUrl === undefined) {
        const item = await json<{ executable?: { url: string } | null; cancelled?: boolean }>(
          await http.jenkins('GET', `${queueUrl.replace(/\/$/, '')}/api/json`),
          'the queue item',
        );
        if (item.cancelled) throw new SeedFlowError('the promote job was cancelled in the queue');
        if (!item.executable) return undefined;
        buildUrl = item.executable.url;
      }
      const build = await json<{ building: boolean; result: string | null; number: number }>(
        await http.jenkins('GET', `${buildUrl.replace(/\/$/, '')}/api/json`),
        'the promote build',
      );
      return build.building ? undefined : build;
    });
    if (promote.result !== 'SUCCESS')
      throw new SeedFlowError(`promote build #${promote.number} ended ${promote.result}`);
    // 8-10 / 13-15.
    await mergeAndVerify(target, `promote-${target}-${imageTag}`);
  }
  return { startedAt, endedAt: Date.now(), imageTag, waits };
}
