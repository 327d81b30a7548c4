/**
 * The operator CLI driven as a user drives it: its own dev server (`shepherd dev-server`), the sandbox world
 * (`shepherd sandbox`) and a worker (`shepherd worker`) on one state folder, then `validate`, `promote`, `status`,
 * `approve`, `schedule` as separate processes that find the server through that folder. The dev server is this
 * file's own because the workflow ids (`validate-example-app`, `promote-example-app-prod`) are business keys that
 * other tiers' runs against the sandbox app would share on the run's common server.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WorldState } from '../../src/sandbox/world/state.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { runCli, runInProcess, startCli, type RunningCli } from '../support/cli.js';
import { eventually, until, type PollOptions } from '../support/eventually.js';

interface StatusJson {
  workflowId: string;
  status: string;
  type: string;
  currentStep: string | null;
  waitingOn?: { kind: string; ref: string };
  since?: string;
  timeoutAt?: string;
  memo: Record<string, unknown>;
  searchAttributes: Record<string, string>;
  stepsDone: { name: string }[];
}

/** Each look runs the CLI in a child process: a few a second at most. */
const CLI_POLL: PollOptions = { timeoutMs: 60_000, everyMs: 500 };

async function stop(cli: RunningCli): Promise<void> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
  cli.child.kill('SIGINT');
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), 10_000);
  await cli.exited;
  clearTimeout(timer);
}

describe('the shepherd operator CLI against a dev server, the sandbox world and a worker', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-cli-state-'));
  const reportsDir = mkdtempSync(join(tmpdir(), 'shepherd-cli-reports-'));
  const env: Record<string, string> = {
    SHEPHERD_STATE_DIR: stateDir,
    TEMPORAL_ADDRESS: '',
    TEMPORAL_TASK_QUEUE: 'shepherd-cli-e2e',
    SHEPHERD_APPROVERS: 'alice,bob',
  };
  const processes: RunningCli[] = [];
  let adminUrl = '';

  /**
   * The first call of each command goes through the binary, the path a user takes; later calls of it (status is
   * polled) run the same `main()` in-process, which saves a Node start and a TypeScript load each.
   */
  const throughBinary = new Set<string>();
  const shepherd = (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const command = args[0]!;
    if (throughBinary.has(command)) return runInProcess(args, env);
    throughBinary.add(command);
    return runCli(args, env);
  };
  const status = async (id: string): Promise<StatusJson> => {
    const r = await shepherd('status', id, '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as StatusJson;
  };
  const worldState = async (): Promise<WorldState> => (await (await fetch(`${adminUrl}/state`)).json()) as WorldState;

  beforeAll(async () => {
    Object.assign(env, { SHEPHERD_TEMPORAL_PORT: String(await freePort()) });
    const server = startCli(['dev-server', '--headless', '--json'], env);
    const sandbox = startCli(['sandbox', '--json'], env);
    processes.push(server, sandbox);
    await server.waitForLine(/^\{/, 60_000);
    adminUrl = (JSON.parse(await sandbox.waitForLine(/^\{/, 60_000)) as { admin: { url: string } }).admin.url;
    // The bundle global setup built from these sources: bundling workflows/ at start takes a busy machine a minute.
    const worker = startCli(['worker', '--workflow-bundle', inject('workflowBundlePath')], env);
    processes.push(worker);
    await until(() => worker.stderr.includes('Worker polling'), 'the worker to poll', CLI_POLL).catch((err: Error) => {
      throw new Error(`${err.message}; the worker said: ${worker.stderr.slice(-2000)}`);
    });
  });

  afterAll(async () => {
    for (const p of processes.reverse()) await stop(p);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(reportsDir, { recursive: true, force: true });
  });

  it('refuses a promotion against the pipeline order with exit 2, naming the flag and the rule, and changes nothing', async () => {
    const before = await worldState();
    for (const [from, to] of [
      ['stage', 'dev'],
      ['prod', 'stage'],
    ]) {
      const r = await shepherd('promote', '--app', 'example-app', '--from', from!, '--to', to!);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `--to (targetEnv) must be the environment after sourceEnv: dev→stage or stage→prod, got "${to}"; nothing was started`,
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(2);
    }
    const after = await worldState();
    expect(after.gitlab).toEqual(before.gitlab);
    expect(after.jenkins).toEqual(before.jenkins);
    const list = await shepherd('status', '--all', '--json');
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('validate --follow --json shows the steps, writes the reports and ends with the report line', async () => {
    const r = await shepherd('validate', '--through', 'stage', '--follow', '--json', '--reports', reportsDir);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      status: string;
      iterations: { env: string; status: string; image: string }[];
    };
    expect(report.status).toBe('succeeded');
    expect(report.iterations.map((i) => [i.env, i.status])).toEqual([
      ['dev', 'succeeded'],
      ['stage', 'succeeded'],
    ]);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Started validatePipeline validate-example-app \(run [0-9a-f-]+\)/);
    expect(r.stderr).toContain('✓ [dev] merge-merge-request');
    expect(readdirSync(reportsDir).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\.junit\.xml$/),
        expect.stringMatching(/\.md$/),
        expect.stringMatching(/\.json$/),
      ]),
    );
  });

  it('promote --follow shows a prod promotion waiting for approval; status names the approval; approve refuses someone off the list, then alice approves it', async () => {
    const follower = startCli(['promote', '--from', 'stage', '--to', 'prod', '--follow', '--json'], env);
    processes.push(follower);
    await until(() => /Started promoteEnvironment/.test(follower.stderr), 'the promotion to start', CLI_POLL);

    const waiting = await eventually(
      async () => {
        const s = await status('promote-example-app-prod');
        return s.currentStep === 'approval' ? s : undefined;
      },
      'the prod promotion to wait for approval',
      CLI_POLL,
    );
    expect(waiting).toMatchObject({
      status: 'RUNNING',
      type: 'promoteEnvironment',
      waitingOn: { kind: 'approval', ref: 'alice, bob' },
      searchAttributes: { app: 'example-app', env: 'prod' },
    });
    expect(waiting.timeoutAt).toBeDefined();
    expect(waiting.stepsDone.map((s) => s.name)).toContain('await-merge-request');
    const text = await shepherd('status', 'promote-example-app-prod');
    expect(text.stdout).toMatch(/now: {2}\[prod\] approval image \S+, waiting for an approval from alice, bob, since/);
    expect(text.stdout).toContain('`npx shepherd approve promote-example-app-prod --by NAME`');
    const list = await shepherd('status');
    expect(list.stdout).toMatch(/promote-example-app-prod\s+promoteEnvironment\s+waiting-approval\s+prod/);
    // The list names the gate: image, target and who may approve (from the run's memo; no query needed).
    expect(list.stdout).toMatch(/waiting for approval of \S+ into prod by alice, bob \(!\d+\)/);

    const again = await shepherd('promote', '--from', 'stage', '--to', 'prod');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already runs as promote-example-app-prod');
    expect(again.stdout).toContain('joining it');

    const refused = await shepherd('approve', 'promote-example-app-prod', '--by', 'mallory');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('promote-example-app-prod refused: mallory is not on the approvers list for prod');
    expect((await status('promote-example-app-prod')).currentStep).toBe('approval');

    const approved = await shepherd('approve', '--env', 'prod', '--by', 'alice', '--reason', 'e2e');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/^promote-example-app-prod: approved by alice at /);
    const done = await eventually(
      async () => {
        const s = await status('promote-example-app-prod');
        return s.status === 'RUNNING' ? undefined : s;
      },
      'the prod promotion to finish',
      CLI_POLL,
    );
    expect(done.status).toBe('COMPLETED');
    // A finished run still shows its steps, read from its result.
    expect(done.stepsDone.map((s) => s.name)).toEqual(expect.arrayContaining(['approval', 'verify-workload']));
    expect(await follower.exited, follower.stderr).toBe(0);
    expect(follower.stderr).toMatch(
      /Started promoteEnvironment promote-example-app-prod \(run [0-9a-f-]+\): example-app stage→prod/,
    );
    expect(follower.stderr).toContain(
      '! promote-example-app-prod waits for an approval: `npx shepherd approve promote-example-app-prod --by NAME`',
    );
    expect(JSON.parse(follower.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      status: 'succeeded',
      targetEnv: 'prod',
      approval: { by: 'alice', reason: 'e2e' },
    });
    const late = await shepherd('reject', 'promote-example-app-prod', '--by', 'bob');
    expect(late.code).toBe(1);
  });

  it('schedule create then trigger runs a validation with the schedule’s search attributes; a malformed cron is exit 2', async () => {
    const bad = await shepherd('schedule', 'create', '--cron', '0 25 * * *');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--cron: hour "25" is not *, a value or a range within 0-23');

    const created = await shepherd(
      'schedule',
      'create',
      '--cron',
      '0 2 * * *',
      '--id',
      'nightly-e2e',
      '--through',
      'dev',
    );
    expect(created.code, created.stderr).toBe(0);
    const dup = await shepherd('schedule', 'create', '--cron', '0 2 * * *', '--id', 'nightly-e2e');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('Schedule nightly-e2e already exists');

    const triggered = await shepherd('schedule', 'trigger', '--id', 'nightly-e2e');
    expect(triggered.code, triggered.stderr).toBe(0);
    const described = await eventually(
      async () => {
        const r = await shepherd('schedule', 'describe', '--id', 'nightly-e2e', '--json');
        const d = JSON.parse(r.stdout) as { recentActions: { workflowId: string }[] };
        return d.recentActions.length > 0 ? (d as Record<string, unknown> & typeof d) : undefined;
      },
      'the schedule to start a run',
      CLI_POLL,
    );
    expect(described).toMatchObject({
      cron: '0 2 * * *',
      timezone: 'UTC',
      overlap: 'SKIP',
      catchupWindow: '1h',
      paused: false,
      workflowType: 'validatePipeline',
      through: 'dev',
    });
    const runId = described.recentActions[0]!.workflowId;
    expect(runId).toMatch(/^validate-example-app-/);

    const finished = await eventually(
      async () => {
        const s = await status(runId);
        return s.status === 'RUNNING' ? undefined : s;
      },
      'the scheduled validation to finish',
      CLI_POLL,
    );
    expect(finished).toMatchObject({
      status: 'COMPLETED',
      type: 'validatePipeline',
      memo: { startedBy: 'schedule nightly-e2e' },
      searchAttributes: { app: 'example-app', status: 'succeeded' },
    });

    expect((await shepherd('schedule', 'pause', '--id', 'nightly-e2e', '--note', 'e2e')).code).toBe(0);
    expect(JSON.parse((await shepherd('schedule', 'describe', '--id', 'nightly-e2e', '--json')).stdout)).toMatchObject({
      paused: true,
      note: 'e2e',
    });
    expect((await shepherd('schedule', 'delete', '--id', 'nightly-e2e')).code).toBe(0);
    const gone = await shepherd('schedule', 'describe', '--id', 'nightly-e2e');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No schedule nightly-e2e');
  });
});
