import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { validatePipeline } from '../../workflows/validate-pipeline.js';
import { runCli } from '../support/cli.js';
import { APP, sandboxTemporal, type SandboxTemporal } from '../workflows/sandbox-support.js';

describe('shepherd report', () => {
  let t: SandboxTemporal;
  beforeAll(async () => {
    t = await sandboxTemporal(import.meta.url);
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('writes the JSON, Markdown and JUnit reports of a finished validation run, as a CI job after a nightly run would', async () => {
    const workflowId = `validate-${APP}-nightly`;
    await t.inWorld({}, () =>
      t.client.workflow.execute(validatePipeline, {
        taskQueue: t.taskQueue,
        workflowId,
        args: [{ appName: APP, through: 'dev' }],
      }),
    );
    const out = mkdtempSync(join(tmpdir(), 'shepherd-report-'));
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: t.namespace };
    const result = await runCli(['report', workflowId, '--out', out, '--json'], env);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      status: string;
      iterations: { env: string; image: string }[];
    };
    expect(report.status).toBe('succeeded');
    expect(report.iterations.map((i) => i.env)).toEqual(['dev']);
    const junit = result.stderr.match(/(\/\S+\.junit\.xml)/)?.[1];
    expect(junit?.startsWith(out)).toBe(true);
    expect(readFileSync(junit!, 'utf8')).toContain('<testsuite name="iteration 1: dev"');

    const missing = await runCli(['report', 'validate-nothing-here'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no workflow validate-nothing-here');
    const usage = await runCli(['report'], env);
    expect(usage.code).toBe(2);
  });
});
