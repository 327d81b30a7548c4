import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../src/domain/report.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { METRICS } from '../../src/observability/metrics.js';
import { runCli, startCli } from '../support/cli.js';
import { eventually } from '../support/eventually.js';

type JsonReport = Omit<ValidationReport, 'iterations'> & {
  iterations: (ValidationReport['iterations'][number] & { image: string | null })[];
};

describe('shepherd demo (npm run demo)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function demoEnv(): Promise<{ env: Record<string, string>; reportsDir: string }> {
    const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-demo-state-'));
    const reportsDir = mkdtempSync(join(tmpdir(), 'shepherd-demo-reports-'));
    dirs.push(stateDir, reportsDir);
    const env = {
      SHEPHERD_STATE_DIR: stateDir,
      SHEPHERD_TEMPORAL_PORT: String(await freePort()),
      SHEPHERD_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
    };
    return { env, reportsDir };
  }

  async function demo(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string; report: JsonReport; reportsDir: string }> {
    const { env, reportsDir } = await demoEnv();
    const result = await runCli(['demo', '--json', '--reports', reportsDir, ...args], env);
    const last = result.stdout.trim().split('\n').at(-1) ?? '';
    return { ...result, report: JSON.parse(last) as JsonReport, reportsDir };
  }

  it('runs the three iterations to prod on one new image, approving prod through the update, and exits 0; with --keep its metrics stay up with the figures of the run', async () => {
    const { env, reportsDir } = await demoEnv();
    const cli = startCli(['demo', '--json', '--keep', '--reports', reportsDir], env);
    const kept = await eventually(
      () => /Keeping everything running.*metrics (http:\/\/\S+\/metrics)/.exec(cli.stderr) ?? undefined,
      'the demo to end its run and keep its servers up',
      { timeoutMs: 240_000, everyMs: 200 },
    );
    const scrape = await (await fetch(kept[1]!)).text();
    const series = (name: string): string[] => scrape.split('\n').filter((line) => line.startsWith(`${name}{`));
    expect(series(METRICS.validations.name)).toEqual([
      expect.stringMatching(/app="example-app".*outcome="succeeded".*\} 1$/),
    ]);
    expect(series(METRICS.promotions.name).filter((line) => line.includes('outcome="succeeded"'))).toHaveLength(2);
    cli.child.kill('SIGINT');
    const code = await cli.exited;
    const { stdout, stderr } = cli;
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as JsonReport;
    expect(code).toBe(0);
    expect(stdout.trim().split('\n'), `stdout: ${stdout.slice(0, 600)}`).toHaveLength(1);
    expect(stderr).toMatch(/Web UI: http:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toContain('approving as shepherd-demo through the `approve` update');
    expect(report.status).toBe('succeeded');
    expect(report.iterations.map((i) => [i.env, i.status])).toEqual([
      ['dev', 'succeeded'],
      ['stage', 'succeeded'],
      ['prod', 'succeeded'],
    ]);
    const images = new Set(report.iterations.map((i) => i.image));
    expect(images.size).toBe(1);
    expect([...images][0]).toMatch(/^1\.0\.37-SNAPSHOT-[0-9a-f]{7}$/);
    const junit = stderr.match(/(\/\S+\.junit\.xml)/)?.[1];
    expect(junit?.startsWith(reportsDir)).toBe(true);
    expect(readFileSync(junit!, 'utf8')).toContain('<testsuite name="iteration 3: prod"');
  });

  it('rolls stage back to its previous image under stage-degraded, leaves dev on the new image, and exits 1', async () => {
    const { code, report } = await demo(['--scenario', 'stage-degraded']);
    expect(code).toBe(1);
    expect(report.status).toBe('rolled_back');
    const [dev, stage] = report.iterations;
    expect(dev).toMatchObject({ env: 'dev', status: 'succeeded' });
    expect(stage).toMatchObject({ env: 'stage', status: 'rolled_back' });
    expect(report.failure).toMatchObject({ type: 'AppDegradedError', iteration: 2 });
    const back = report.rollback.find((r) => r.action === 'await-previous-image');
    expect(back).toMatchObject({ env: 'stage', status: 'succeeded', fromImageTag: stage!.imageTag });
    expect(back!.toImageTag).toMatch(/^1\.0\.36-SNAPSHOT-/);
    expect(report.rollback.every((r) => r.env !== 'dev')).toBe(true);
  });

  it('rejects an unknown scenario with exit code 2 before starting anything', async () => {
    const result = await runCli(['demo', '--scenario', 'nope'], {
      SHEPHERD_STATE_DIR: mkdtempSync(join(tmpdir(), 'shepherd-demo-state-')),
      SHEPHERD_TEMPORAL_PORT: String(await freePort()),
      SHEPHERD_UI_PORT: String(await freePort()),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown scenario "nope"');
  });
});
