/**
 * `shepherd promote --dry-run` and `shepherd validate --dry-run` against a sandbox world announced in the state
 * folder, as `npx shepherd sandbox` announces it: the plan shows what a run would do, and the world's inspection
 * endpoint proves that nothing changed — `/state` is the same before and after, and `/requests` holds only reads
 * (GET, which is also how the Kubernetes API gets and lists) and no webhook delivery.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DryRunPlan } from '../../src/cli/dry-run/plan.js';
import type { RequestCountsSnapshot } from '../../src/sandbox/core/measure.js';
import type { WorldState } from '../../src/sandbox/world/state.js';
import { writeWorldFile } from '../../src/sandbox/world/world-file.js';
import type { WorldInfo } from '../../src/sandbox/world/world.js';
import { mergeNewVersionToDev } from '../activities/kubernetes-support.js';
import { startDriver, type Driver } from '../sandbox/world-driver.js';
import { runCli, runInProcess } from '../support/cli.js';
import { until } from '../support/eventually.js';
import { externalVariables } from '../support/external-variables.js';

const IMAGE = 'docker.jmann.local/p2c/example-app';

describe('dry-run against the sandbox world', () => {
  let d: Driver;
  let devTag: string;
  let stageTag: string;
  const dirs: string[] = [];
  /** The environment of a CLI run against the world announced in `stateDir`: embedded mode, no Temporal. */
  const envFor = (stateDir: string): Record<string, string | undefined> => ({
    SHEPHERD_STATE_DIR: stateDir,
    SHEPHERD_PIPELINE: undefined,
    TEMPORAL_ADDRESS: undefined,
    GITLAB_URL_EXTERNAL: undefined,
    JENKINS_URL_EXTERNAL: undefined,
  });
  const stateDirWith = (info: WorldInfo | undefined): string => {
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-dry-run-state-'));
    dirs.push(dir);
    if (info) writeWorldFile(dir, info);
    return dir;
  };
  const admin = async <T>(method: 'GET' | 'DELETE', path: string): Promise<T> =>
    (await (await fetch(`${d.world.info.admin.url}${path}`, { method })).json()) as T;

  beforeAll(async () => {
    d = await startDriver();
    // dev runs a newer build than stage, as after the nightly's first iteration: a promotion has something to do.
    const { tag, mergeSha } = await mergeNewVersionToDev(d);
    await d.awaitSyncedAndHealthy('dev', mergeSha);
    await until(
      async () => (await d.readyPodImages('dev')).every((i) => i === `${IMAGE}:${tag}`),
      `dev's pods ready on ${tag}`,
    );
    devTag = tag;
    stageTag = (await d.state()).environments.stage!.image!.split(':')[1]!;
    // Whatever the world still does on its own (CI's branch clean-up, rollouts finishing) ends before the snapshot.
    let previous = '';
    await until(
      async () => {
        const now = JSON.stringify(await admin<WorldState>('GET', '/state'));
        const still = now === previous;
        previous = now;
        return still;
      },
      'the world to be still',
      { everyMs: 200 },
    );
  });

  afterAll(async () => {
    await d?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('plans a promotion and a validation from the world a real run would use, and changes nothing in it', async () => {
    const stateDir = stateDirWith(d.world.info);
    const before = await admin<WorldState>('GET', '/state');
    await admin('DELETE', '/requests');

    // The binary, as a user runs it.
    const promote = await runCli(
      ['promote', '--dry-run', '--from', 'dev', '--to', 'stage', '--json'],
      envFor(stateDir),
    );
    expect(promote.stderr).toContain('nothing was started or changed');
    expect(promote.code).toBe(0);
    const [plan, ...more] = promote.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DryRunPlan);
    expect(more).toEqual([]);
    expect(plan).toMatchObject({
      app: 'example-app',
      dryRun: true,
      steps: [
        {
          env: 'stage',
          action: 'promote',
          from: `${IMAGE}:${stageTag}`,
          to: `${IMAGE}:${devTag}`,
          branch: `promote-stage-${devTag}`,
          into: 'stage',
          gates: [],
        },
      ],
    });
    const files = plan!.steps[0]!.files;
    expect(files.map((f) => f.path)).toEqual(['env.cue', 'manifests/exampleApp/exampleApp.yaml']);
    for (const f of files) {
      expect(f.diff).toContain(`--- a/${f.path}\n+++ b/${f.path}\n@@ `);
      expect(f.diff).toMatch(new RegExp(`^-.*image: +"?${IMAGE}:${stageTag}"?$`, 'm'));
      expect(f.diff).toMatch(new RegExp(`^\\+.*image: +"?${IMAGE}:${devTag}"?$`, 'm'));
    }

    const validate = await runInProcess(['validate', '--dry-run'], envFor(stateDir));
    expect(validate.code).toBe(0);
    const text = validate.stdout;
    const version = devTag.replace(/-[0-9a-f]{7}$/, '');
    const next = version.replace(
      /^(\d+\.\d+\.)(\d+)/,
      (_, head: string, patch: string) => `${head}${Number(patch) + 1}`,
    );
    expect(text).toContain(`version bump: ${version} → ${next}`);
    expect(text).toContain(`-  <version>${version}</version>`);
    expect(text).toContain(`+  <version>${next}</version>`);
    expect(text).toContain(`  dev: ${IMAGE}:${devTag} → ${IMAGE}:${next}-<sha>`);
    expect(text).toContain(`    merge request update-dev-${next}-<sha> → dev`);
    expect(text).toContain(`  stage (from dev): ${IMAGE}:${stageTag} → ${IMAGE}:${next}-<sha>`);
    expect(text).toMatch(/ {2}prod \(from stage\): [\s\S]*⏸ approval: waits for an approval before the merge/);

    expect(await admin<WorldState>('GET', '/state')).toEqual(before);
    const requests = await admin<RequestCountsSnapshot>('GET', '/requests');
    const endpoints = Object.values(requests.systems).flatMap((s) => Object.keys(s.endpoints));
    expect(endpoints.filter((e) => !e.startsWith('GET '))).toEqual([]);
    expect(requests.systems.gitlab.total).toBeGreaterThan(0);
    expect(requests.systems.kubernetes.total).toBeGreaterThan(0);
    expect(requests.systems.jenkins.total).toBe(0);
    expect(requests.deliveries.total).toBe(0);
  });

  it('reads the configured systems in external mode, without a sandbox world announced', async () => {
    await admin('DELETE', '/requests');
    const external = await runInProcess(['promote', '--dry-run', '--from', 'stage', '--to', 'prod', '--json'], {
      ...envFor(stateDirWith(undefined)),
      ...externalVariables(d.world.info),
    });
    expect(external.stderr).toContain(`Dry run against GitLab ${d.world.info.gitlab.url}`);
    expect(external.code).toBe(0);
    expect(JSON.parse(external.stdout) as DryRunPlan).toMatchObject({
      app: 'example-app',
      steps: [{ env: 'prod', action: 'nothing-to-do', from: `${IMAGE}:${stageTag}`, to: `${IMAGE}:${stageTag}` }],
    });
    const requests = await admin<RequestCountsSnapshot>('GET', '/requests');
    expect(requests.systems.gitlab.total).toBeGreaterThan(0);
    expect(
      Object.values(requests.systems)
        .flatMap((s) => Object.keys(s.endpoints))
        .filter((e) => !e.startsWith('GET ')),
    ).toEqual([]);
  });

  it('exits 1 naming GitLab and what to do when a read fails, and 2 when no world runs', async () => {
    const wrongToken = stateDirWith({ ...d.world.info, gitlab: { ...d.world.info.gitlab, token: 'glpat-wrong' } });
    const refused = await runInProcess(['promote', '--dry-run', '--from', 'dev', '--to', 'stage'], envFor(wrongToken));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/The dry run could not be made: could not read .* from GitLab: .*What to do: check/);
    expect(refused.stdout).toBe('');

    const noWorld = await runInProcess(['validate', '--dry-run'], envFor(stateDirWith(undefined)));
    expect(noWorld.code).toBe(2);
    expect(noWorld.stderr).toContain('start `npx shepherd sandbox`');

    const follow = await runInProcess(['validate', '--dry-run', '--follow'], envFor(stateDirWith(d.world.info)));
    expect(follow.code).toBe(2);
    expect(follow.stderr).toContain('--follow cannot be combined with --dry-run');
  });
});
