/**
 * The example pipelines of `examples/pipelines/` run the nightly validation against the sandbox world built from
 * them, the way `npm run demo -- --pipeline FILE` does: Shepherd configured by the file (SHEPHERD_PIPELINE), the
 * CLI's own run input, its follow loop approving the gates and overriding a freeze window it meets; one app through
 * validatePipeline, several through the fan-out. The two-app pipeline runs with one app degraded in its second
 * environment: that app rolls back its stage only, the other reaches prod. `seed.yaml` is the default written out
 * (test/unit/config/pipeline-file.test.ts proves it equal to the default that every other workflow test runs).
 * One case at a time, each in its own namespace and world: they are whole runs, and the suite runs beside them.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFanOut } from '../../src/cli/fan-out.js';
import { followRun } from '../../src/cli/follow.js';
import { runFields, validationInput } from '../../src/cli/operator.js';
import type { ShepherdConfig } from '../../src/config/load.js';
import { PROJECT_ROOT } from '../../src/config/paths.js';
import { validationWorkflowId } from '../../src/domain/promotion-policy.js';
import type { FanOutReport, ValidationReport } from '../../src/domain/report.js';
import type { validatePipeline } from '../../workflows/index.js';
import { APPROVER, sandboxTemporal, type SandboxTemporal } from './sandbox-support.js';

const EXAMPLES = join(PROJECT_ROOT, 'examples', 'pipelines');
/** Every example but the seed's (the default) and the two-app one (run below with a degraded app). */
const FILES = readdirSync(EXAMPLES).filter(
  (f) => f.endsWith('.yaml') && f !== 'seed.yaml' && f !== 'two-apps-helm.yaml',
);
/** A whole run through every environment, while the rest of the suite runs beside it. */
const RUN_TIMEOUT_MS = 300_000;
const AUTO = { by: APPROVER, reason: 'example pipeline test' };

/** The run input's approvers: the test approves each gate, besides the approvers the pipeline names. */
function approvers(config: ShepherdConfig) {
  const named = runFields(config).environmentApprovers ?? {};
  return {
    approvers: [APPROVER],
    environmentApprovers: Object.fromEntries(Object.entries(named).map(([env, who]) => [env, [...who, APPROVER]])),
  };
}

/** Validates every app of the pipeline as the demo does; one report per app. */
async function validateAll(t: SandboxTemporal, config: ShepherdConfig): Promise<ValidationReport[]> {
  const apps = config.pipeline.apps.map((a) => a.app.name);
  if (apps.length === 1) {
    const input = validationInput(config, apps[0]!, {}, approvers(config));
    const handle = await t.client.workflow.start<typeof validatePipeline>('validatePipeline', {
      taskQueue: t.taskQueue,
      workflowId: validationWorkflowId(apps[0]!),
      args: [input],
    });
    const outcome = await followRun(t.client, handle, { out: () => undefined, tty: false, autoApprove: AUTO });
    if (outcome.kind !== 'validation') throw new Error(`no report (${outcome.kind})`);
    return [outcome.report];
  }
  const { appName: _first, ...fields } = validationInput(config, apps[0]!, {}, approvers(config));
  const lines: string[] = [];
  const reports = mkdtempSync(join(tmpdir(), 'shepherd-fan-out-'));
  try {
    await runFanOut(
      t.client,
      { kind: 'validate', apps, ...fields },
      {
        taskQueue: t.taskQueue,
        startedBy: 'the example pipeline test',
        follow: true,
        json: true,
        reportsDir: reports,
        out: (line) => lines.push(line),
        err: () => undefined,
        autoApprove: AUTO,
      },
    );
  } finally {
    rmSync(reports, { recursive: true, force: true });
  }
  const combined = JSON.parse(lines.at(-1)!) as FanOutReport;
  expect(combined.apps.map((r) => r.appName)).toEqual(apps);
  return combined.apps as ValidationReport[];
}

describe('the example pipelines', () => {
  const opened: SandboxTemporal[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((t) => t.teardown()));
  });

  it.each(FILES)(
    '%s validates every app through every environment',
    async (file) => {
      const t = await sandboxTemporal(import.meta.url, file.replace(/\.yaml$/, ''));
      opened.push(t);
      await t.inWorld({ pipelineFile: join(EXAMPLES, file) }, async (_sandbox, config) => {
        const order = config.pipeline.environments.map((e) => e.name);
        const reports = await validateAll(t, config);
        for (const report of reports) {
          expect(report.status, `${file} ${report.appName}: ${report.failure?.message ?? ''}`).toBe('succeeded');
          expect(report.iterations.map((i) => [i.env, i.status])).toEqual(order.map((e) => [e, 'succeeded']));
        }
        // A freeze window open now (the weekend one of four-env-kustomize) was overridden, and the report says so.
        for (const i of reports.flatMap((r) => r.iterations).filter((i) => i.freeze))
          expect(i.freeze).toMatchObject({ outcome: 'overridden', override: { by: APPROVER } });
      });
    },
    RUN_TIMEOUT_MS,
  );

  it('two-apps-helm.yaml with stage-degraded@web-app: web-app rolls back its stage only, example-app reaches prod', async () => {
    const t = await sandboxTemporal(import.meta.url, 'degraded');
    opened.push(t);
    await t.inWorld(
      { pipelineFile: join(EXAMPLES, 'two-apps-helm.yaml'), scenario: 'stage-degraded@web-app' },
      async (_sandbox, config) => {
        const reports = await validateAll(t, config);
        const byApp = Object.fromEntries(reports.map((r) => [r.appName, r]));
        expect(byApp['example-app']!.status).toBe('succeeded');
        expect(byApp['web-app']!.status).toBe('rolled_back');
        expect(byApp['web-app']!.iterations.map((i) => [i.env, i.status])).toEqual([
          ['dev', 'succeeded'],
          ['stage', 'rolled_back'],
        ]);
        expect(byApp['web-app']!.rollback.filter((r) => r.action === 'revert-merge-request').map((r) => r.env)).toEqual(
          ['stage'],
        );
      },
    );
  });
});
