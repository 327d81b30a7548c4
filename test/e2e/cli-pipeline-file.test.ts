/**
 * `--pipeline FILE`, the option every command that loads the configuration takes: it names the pipeline file over
 * SHEPHERD_PIPELINE, and a malformed file stops the command with exit 2 and every problem of the file, each with its
 * path and line, before anything connects anywhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runInProcess } from '../support/cli.js';

describe('shepherd --pipeline FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-cli-pipeline-'));
  const env = { SHEPHERD_STATE_DIR: dir, TEMPORAL_ADDRESS: '', SHEPHERD_PIPELINE: undefined };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const broken = join(dir, 'broken.yaml');
  writeFileSync(
    broken,
    ['environments:', '  - name: dev', '  - name: Stage', '    cluster: nowhere', '  - name: dev', 'apps: []', ''].join(
      '\n',
    ),
  );

  it('stops with exit 2 and lists every problem of a malformed file with its path and line', async () => {
    const r = await runCli(['config', 'check', '--pipeline', broken], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the pipeline file ${broken} has 5 problems:\n`);
    expect(r.stderr).toContain('  environments[1].name (line 3): must be lowercase letters');
    expect(r.stderr).toContain(
      '  environments[1].cluster (line 4): names cluster "nowhere", which `clusters` does not declare',
    );
    expect(r.stderr).toContain('  environments[2].name (line 5): repeats environment "dev"');
    expect(r.stderr).toContain('  environments[2].branch (line 5): shares its files with environments[0]');
    expect(r.stderr).toContain('  apps (line 6): must list at least one app');
    expect(r.stderr).toContain('What to do: fix each one');
    expect(r.stdout).toBe('');
  });

  it('wins over SHEPHERD_PIPELINE, resolved from the current directory', async () => {
    const example = 'examples/pipelines/four-env-kustomize.yaml';
    const r = await runInProcess(['config', 'check', '--pipeline', example], { ...env, SHEPHERD_PIPELINE: broken });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['qa', 'uat', 'preprod', 'live']) expect(r.stdout).toContain(`"${name}": {`);
  });

  it('is listed in every command’s help', async () => {
    for (const command of ['validate', 'promote', 'status']) {
      const r = await runInProcess([command, '--help'], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ {2}--pipeline FILE {3}the pipeline file/m);
    }
  });
});
