/**
 * The operator commands' usage and configuration errors: caught before any server is needed, in one or two lines
 * that say what to do, with exit code 2. No Temporal server runs on the state folder these calls use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runInProcess } from '../support/cli.js';

describe('shepherd operator commands without a server', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-cli-usage-'));
  const env = { SHEPHERD_STATE_DIR: stateDir, TEMPORAL_ADDRESS: '' };
  const shepherd = (...args: string[]) => runCli(args, env);
  const inProcess = (...args: string[]) => runInProcess(args, env);
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('lists the operator commands in the top-level help, each with its own --help', async () => {
    const top = await shepherd('--help');
    for (const name of ['validate', 'promote', 'approve', 'reject', 'override-freeze', 'status', 'schedule'])
      expect(top.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
    const schedule = await inProcess('schedule', '--help');
    expect(schedule.code).toBe(0);
    expect(schedule.stdout).toContain('Overlap policy SKIP');
    expect(schedule.stdout).toMatch(/--catchup-window DUR .*default 1h/);
  });

  it('says to start the dev server when there is neither TEMPORAL_ADDRESS nor a dev server on the state folder', async () => {
    const r = await shepherd('status');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `TEMPORAL_ADDRESS: is unset and no Temporal dev server runs on ${stateDir}: start one with \`npx shepherd dev-server\``,
    );
  });

  it('refuses missing or malformed flags with exit 2 before connecting', async () => {
    const cases: [string[], string][] = [
      [['promote', '--from', 'dev'], '--to is required'],
      [['validate', '--mode', 'svn'], '--mode (mode) must be one of jenkins, gitlab, got "svn"'],
      [['approve', 'promote-example-app-prod'], '--by NAME is required'],
      [['override-freeze', 'promote-example-app-prod', '--reason', 'hotfix'], '--by NAME is required'],
      [['override-freeze', 'promote-example-app-prod', '--by', 'alice', '--reason', ' '], '--reason TEXT is required'],
      [['schedule', 'create', '--cron', '0 2 * *'], 'has 4 fields; a cron expression has five'],
      [
        ['schedule', 'create', '--cron', '0 2 * * *', '--catchup-window', '5s'],
        '--catchup-window must be a duration of at least 10s',
      ],
    ];
    for (const [args, message] of cases) {
      const r = await inProcess(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
  });
});
