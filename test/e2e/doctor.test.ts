/**
 * `shepherd doctor` against the sandbox world: every check green with a worker polling, and each fault named by its
 * own failing line — GitLab down, a wrong GitLab token, a wrong Jenkins token, a permission the cluster withholds, no
 * worker on the task queue. The command runs in-process through the CLI's own runner; the worker, whose start-up
 * check must refuse a broken installation, runs as the real binary.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { DoctorReport } from '../../src/doctor/index.js';
import { externalVariables } from '../support/external-variables.js';
import { writeWorldFile } from '../../src/sandbox/world/world-file.js';
import type { WorldInfo } from '../../src/sandbox/world/world.js';
import { startCli, runCli, type RunningCli } from '../support/cli.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { PROJECT_ROOT } from '../../src/config/paths.js';
import { kubeconfigYaml } from '../../src/sandbox/kubernetes/kubeconfig.js';
import { uniqueTaskQueue } from '../support/temporal.js';

describe('shepherd doctor against the sandbox world', () => {
  const dirs: string[] = [];
  let sandbox: TestSandbox;
  let worker: RunningCli | undefined;
  const taskQueue = uniqueTaskQueue(import.meta.filename);
  const saved = { ...process.env };

  /** A state folder announcing the world, with `edit` applied to what it announces (e.g. a wrong token). */
  const stateDirWith = (edit: (info: WorldInfo) => WorldInfo = (i) => i): string => {
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-doctor-state-'));
    dirs.push(dir);
    writeWorldFile(dir, edit(sandbox.world.info));
    return dir;
  };
  const envFor = (stateDir: string, queue = taskQueue): Record<string, string> => ({
    SHEPHERD_STATE_DIR: stateDir,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: queue,
  });

  /** Runs a command in-process, as `shepherd <cmd> ...args` would, with `env` as the environment. */
  async function shepherd(
    cmd: 'doctor' | 'config',
    args: string[],
    env: Record<string, string>,
  ): Promise<{ code: number; out: string[]; err: string[] }> {
    for (const k of Object.keys(process.env))
      if (/^(SHEPHERD|TEMPORAL|GITLAB|JENKINS|KUBE)/.test(k)) delete process.env[k];
    Object.assign(process.env, env);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([cmd, ...args], { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out, err };
  }
  const doctorJson = async (env: Record<string, string>): Promise<{ code: number; report: DoctorReport }> => {
    const { code, out } = await shepherd('doctor', ['--json'], env);
    expect(out).toHaveLength(1);
    return { code, report: JSON.parse(out[0]!) as DoctorReport };
  };
  const failed = (r: DoctorReport): string[] => r.checks.filter((c) => c.status === 'fail').map((c) => c.check);

  let greenDir: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    greenDir = stateDirWith();
    worker = startCli(['worker'], envFor(greenDir));
    // The worker bundles the workflows at start: on a busy machine that takes a minute or more.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not start:\n${worker!.stderr}`)), 240_000);
      const look = setInterval(() => {
        if (/Worker polling task queue/.test(worker!.stderr)) {
          clearInterval(look);
          clearTimeout(timer);
          resolve();
        }
      }, 100);
      void worker!.exited.then(() => {
        clearInterval(look);
        clearTimeout(timer);
        reject(new Error(`worker exited:\n${worker!.stderr}`));
      });
    });
  }, 300_000);

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGINT');
      await worker.exited;
    }
    await sandbox?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('passes every check, one line each, and exits 0', async () => {
    const { code, out, err } = await shepherd('doctor', [], envFor(greenDir));
    process.stderr.write(`--- green run ---\n${out.join('\n')}\n`);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.filter((l) => l.startsWith('✗'))).toEqual([]);
    const text = out.join('\n');
    for (const expected of [
      `✓ Temporal: a worker polls task queue "${taskQueue}"`,
      "✓ Temporal: Shepherd's search attributes are registered",
      '✓ GitLab: token has the api scope (scopes api)',
      '✓ GitLab: environment branch prod exists and is protected',
      '- GitLab: webhooks are registered — not applicable',
      '✓ Jenkins: promote job promote-environment takes APP_NAME, SOURCE_ENV, TARGET_ENV, IMAGE_TAG',
      '✓ Kubernetes: stage: Argo CD Application argocd/example-app-stage exists',
      '✓ Kubernetes: Argo CD: permissions in namespace argocd are granted (get applications.argoproj.io, list',
    ])
      expect(text).toContain(expected);
    expect(out.at(-1)).toMatch(/^All \d+ checks passed \(1 not applicable\)\.$/);
    // The sandbox's credentials never appear.
    const info = sandbox.world.info;
    for (const secret of [info.gitlab.token, info.jenkins.token, info.kubernetes.token])
      expect(text).not.toContain(secret);
  }, 30_000);

  it('prints one JSON object with --json, and config check --connect runs the same checks', async () => {
    const { code, report } = await doctorJson(envFor(greenDir));
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.counts).toEqual({ pass: report.checks.length - 1, fail: 0, skipped: 0, 'not-applicable': 1 });
    expect(new Set(report.checks.map((c) => c.system))).toEqual(
      new Set(['temporal', 'gitlab', 'jenkins', 'kubernetes']),
    );
    for (const c of report.checks)
      expect(Object.keys(c).sort()).toEqual(expect.arrayContaining(['check', 'status', 'system']));
    const viaConfig = await shepherd('config', ['check', '--connect', '--json'], envFor(greenDir));
    expect(viaConfig.code).toBe(0);
    expect((JSON.parse(viaConfig.out[0]!) as DoctorReport).checks.map((c) => c.check)).toEqual(
      report.checks.map((c) => c.check),
    );
  }, 30_000);

  it('names GitLab as down when it refuses connections, and exits 1', async () => {
    await sandbox.setScenario({
      name: 'gitlab-down',
      description: 'GitLab is down',
      http: [{ system: 'gitlab', down: true }],
    });
    try {
      const { code, out } = await shepherd('doctor', [], envFor(greenDir));
      process.stderr.write(`--- GitLab down ---\n${out.join('\n')}\n`);
      expect(code).toBe(1);
      expect(out.filter((l) => l.startsWith('✗'))).toEqual([
        expect.stringMatching(
          /^✗ GitLab: token is valid at http:\/\/127\.0\.0\.1:\d+ — GitLab could not be reached for GET user: .*\. Check that `npx shepherd sandbox` still runs/,
        ),
      ]);
      expect(out).toContain('- GitLab: projects, branches and token scopes — not checked: the token check failed');
      expect(out.at(-1)).toMatch(/^1 of \d+ checks failed, 1 not checked because of them/);
    } finally {
      await sandbox.setScenario(undefined);
    }
  }, 30_000);

  it('says the GitLab token is refused when it is wrong', async () => {
    const dir = stateDirWith((i) => ({ ...i, gitlab: { ...i.gitlab, token: 'glpat-wrong' } }));
    const { code, report } = await doctorJson(envFor(dir));
    expect(code).toBe(1);
    const [bad] = report.checks.filter((c) => c.status === 'fail');
    expect(failed(report)).toHaveLength(1);
    expect(bad).toMatchObject({ system: 'gitlab', detail: 'GitLab refused the token (HTTP 401)' });
    expect(JSON.stringify(report)).not.toContain('glpat-wrong');
  }, 30_000);

  it('says Jenkins refuses the credentials when its token is wrong', async () => {
    const dir = stateDirWith((i) => ({ ...i, jenkins: { ...i.jenkins, token: 'wrong-token' } }));
    const { code, report } = await doctorJson(envFor(dir));
    expect(code).toBe(1);
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([
      expect.objectContaining({ system: 'jenkins', detail: 'Jenkins refused the credentials (HTTP 401)' }),
    ]);
  }, 30_000);

  it('names the permission the cluster withholds, in its namespace', async () => {
    const put = (denied: unknown[]) =>
      fetch(`${sandbox.world.info.admin.url}/permissions`, { method: 'PUT', body: JSON.stringify({ denied }) });
    expect((await put([{ verb: 'watch', group: '', resource: 'pods', namespace: 'stage' }])).status).toBe(200);
    try {
      const { code, report } = await doctorJson(envFor(greenDir));
      expect(code).toBe(1);
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([
        expect.objectContaining({
          system: 'kubernetes',
          check: 'stage: permissions in namespace stage are granted',
          detail: 'missing watch pods',
        }),
      ]);
    } finally {
      await put([]);
    }
  }, 30_000);

  it('says no worker polls a task queue nobody serves', async () => {
    const { code, report } = await doctorJson(envFor(greenDir, `${taskQueue}-nobody`));
    expect(code).toBe(1);
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([
      expect.objectContaining({
        system: 'temporal',
        check: `a worker polls task queue "${taskQueue}-nobody"`,
        fix: expect.stringContaining('npx shepherd worker'),
      }),
    ]);
  }, 30_000);

  /**
   * The sandbox configured as real systems (external mode), as a team would write its variables; `extra` adds
   * per-environment clusters.
   */
  const externalEnv = (extra: Record<string, string>): Record<string, string> => ({
    ...envFor(greenDir),
    ...externalVariables(sandbox.world.info),
    ...extra,
  });

  it('reads a multi-cluster pipeline: each environment with a cluster of its own is reached, checked and asked for permissions there', async () => {
    // The stage workload's cluster: a kubeconfig of its own (a copy of the sandbox's, as a second cluster's would be).
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-doctor-clusters-'));
    dirs.push(dir);
    const stageKubeconfig = join(dir, 'stage-kubeconfig');
    copyFileSync(sandbox.world.info.kubernetes.kubeconfig, stageKubeconfig);
    const { code, out } = await shepherd('doctor', [], externalEnv({ SHEPHERD_KUBECONFIG_STAGE: stageKubeconfig }));
    process.stderr.write(`--- multi-cluster run ---\n${out.join('\n')}\n`);
    expect(out.filter((l) => l.startsWith('✗'))).toEqual([]);
    expect(code).toBe(0);
    expect(out).toContainEqual(
      expect.stringMatching(new RegExp(`^✓ Kubernetes: stage: cluster answers with ${stageKubeconfig}`)),
    );
    expect(out).toContainEqual(expect.stringMatching(/^✓ Kubernetes: stage: Deployment stage\/example-app exists/));
  }, 30_000);

  it('reaches each cluster a pipeline file names once, for all the environments on it', async () => {
    // examples/pipelines/two-clusters.yaml names the contexts main-cluster (dev, stage) and prod-cluster (prod): a
    // kubeconfig with both, here on the sandbox's one API server, as two clusters' contexts would be.
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-doctor-clusters-'));
    dirs.push(dir);
    const { kubernetes } = sandbox.world.info;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      kubeconfigYaml({
        server: kubernetes.url,
        token: kubernetes.token,
        contexts: [
          { name: 'main-cluster', server: kubernetes.url },
          { name: 'prod-cluster', server: kubernetes.url },
        ],
      }),
    );
    const pipeline = join(PROJECT_ROOT, 'examples/pipelines/two-clusters.yaml');
    const { code, report } = await doctorJson(externalEnv({ KUBECONFIG: kubeconfig, SHEPHERD_PIPELINE: pipeline }));
    expect(failed(report)).toEqual([]);
    expect(code).toBe(0);
    const reached = report.checks.map((c) => c.check).filter((c) => / answers with /.test(c));
    expect(reached).toEqual([
      `cluster answers with ${kubeconfig}`,
      `cluster main-cluster (dev, stage) answers with context main-cluster of ${kubeconfig}`,
      `cluster prod-cluster (prod) answers with context prod-cluster of ${kubeconfig}`,
    ]);
    expect(report.checks).toContainEqual(
      expect.objectContaining({ check: 'prod: permissions in namespace prod are granted', status: 'pass' }),
    );
  }, 30_000);

  it("names an environment's cluster that does not answer, skips what lives there and still checks its Argo CD Application", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-doctor-clusters-'));
    dirs.push(dir);
    const prodKubeconfig = join(dir, 'prod-kubeconfig');
    // A cluster nobody listens on: a free port on 127.0.0.1.
    writeFileSync(
      prodKubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: prod, cluster: { server: "http://127.0.0.1:' + String(await freePort()) + '" } }]',
        'users: [{ name: shepherd, user: { token: not-a-real-token } }]',
        'contexts: [{ name: prod, context: { cluster: prod, user: shepherd } }]',
        'current-context: prod',
        '',
      ].join('\n'),
    );
    const { code, report } = await doctorJson(externalEnv({ SHEPHERD_KUBECONFIG_PROD: prodKubeconfig }));
    expect(code).toBe(1);
    expect(failed(report)).toEqual([`prod: cluster answers with ${prodKubeconfig}`]);
    const bad = report.checks.find((c) => c.status === 'fail')!;
    expect(bad.fix).toContain('SHEPHERD_KUBECONFIG_PROD');
    const skippedChecks = report.checks.filter((c) => c.status === 'skipped').map((c) => c.check);
    expect(skippedChecks).toEqual([
      'prod: namespace and Deployment',
      'prod: permissions in namespace prod are granted',
    ]);
    expect(report.checks).toContainEqual(
      expect.objectContaining({ check: 'prod: Argo CD Application argocd/example-app-prod exists', status: 'pass' }),
    );
    expect(JSON.stringify(report)).not.toContain('not-a-real-token');
  }, 30_000);

  it('exits 2 on bad usage', async () => {
    const { code, err } = await shepherd('doctor', ['--jsn'], envFor(greenDir));
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('Usage: shepherd doctor [--json]');
  });

  it('keeps a worker from starting when its GitLab token is wrong, with the check that failed', async () => {
    const dir = stateDirWith((i) => ({ ...i, gitlab: { ...i.gitlab, token: 'glpat-wrong' } }));
    const { code, stderr } = await runCli(['worker'], envFor(dir, `${taskQueue}-refused`));
    expect(code).toBe(1);
    expect(stderr).toMatch(/✗ GitLab: token is valid at .* — GitLab refused the token \(HTTP 401\)\./);
    expect(stderr).toContain('The worker does not start while these checks fail.');
    expect(stderr).not.toContain('Worker polling');
    expect(stderr).not.toContain('glpat-wrong');
  }, 60_000);
});
