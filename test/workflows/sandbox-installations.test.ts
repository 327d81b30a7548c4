/**
 * Every installation scenario of the sandbox (a real team's GitLab, Argo CD, Jenkins or cluster set up as issue 13
 * lists) carries the nightly validation from dev through prod, the way `shepherd demo --scenario NAME` does: the
 * world's settings applied (configForWorld), the CLI's own run input, its follow loop approving the gates. The
 * failing variants end rolled back with the cause named. Each scenario runs in its own namespace and world, several
 * at once: they mostly wait on their worlds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { followRun } from '../../src/cli/follow.js';
import { validationInput } from '../../src/cli/operator.js';
import { Secret } from '../../src/config/secret.js';
import type { ValidationReport } from '../../src/domain/report.js';
import { validationWorkflowId } from '../../src/domain/promotion-policy.js';
import { SCENARIOS } from '../../src/sandbox/world/scenarios.js';
import { configForWorld } from '../../src/worker/activities.js';
import type { validatePipeline } from '../../workflows/index.js';
import { APP, APPROVER, environment, sandboxTemporal, tagOf, type SandboxTemporal } from './sandbox-support.js';

/**
 * What each failing variant must end with; every other installation scenario succeeds through prod. A failed MR
 * pipeline stops the stage merge, so nothing is reverted: the run fails, and its undo closes the stage MR.
 */
const FAILS: Readonly<Record<string, { status: ValidationReport['status']; failure: RegExp }>> = {
  'ci-must-pass-fails': { status: 'failed', failure: /pipelines\/\d+ failed/ },
};

const INSTALLATIONS = SCENARIOS.filter((s) => s.installation && Object.keys(s.installation).length > 0).map(
  (s) => s.name,
);

describe.concurrent('installation scenarios run the validation through prod', () => {
  const opened: SandboxTemporal[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((t) => t.teardown()));
  });

  it.each(INSTALLATIONS)('%s', async (scenario) => {
    const t = await sandboxTemporal(import.meta.url, scenario);
    opened.push(t);
    await t.inWorld({ scenario }, async (sandbox) => {
      const config = configForWorld(sandbox.world, { env: {} });
      const info = sandbox.world.info;
      const approver = info.gitlab.approvers?.[0];
      const input = validationInput(config, APP, { through: 'prod', mode: 'jenkins' }, { approvers: [APPROVER] });
      const handle = await t.client.workflow.start<typeof validatePipeline>('validatePipeline', {
        taskQueue: t.taskQueue,
        workflowId: validationWorkflowId(APP),
        args: [input],
      });
      const outcome = await followRun(t.client, handle, {
        out: () => undefined,
        tty: false,
        autoApprove: {
          by: APPROVER,
          reason: `installation scenario ${scenario}`,
          // Where GitLab approves (gitlab-approvals), as the world's first approver with their own token, as the demo does.
          ...(approver
            ? {
                gitlab: {
                  url: info.gitlab.url,
                  project: info.gitlab.deploymentsProject,
                  token: new Secret(approver.token),
                  tokenVariable: 'SHEPHERD_APPROVER_TOKEN',
                },
              }
            : {}),
        },
      });
      if (outcome.kind !== 'validation') throw new Error(`${scenario}: no report (${outcome.kind})`);
      const report = outcome.report;
      const expected = FAILS[scenario];
      if (approver) {
        const prod = report.iterations.find((i) => i.env === 'prod');
        expect(prod?.approval?.by, `${scenario}: the GitLab user who approved prod`).toBe(approver.username);
      }
      if (expected) {
        expect(report.status, scenario).toBe(expected.status);
        expect(report.failure?.message, scenario).toMatch(expected.failure);
        expect(report.rollback.length, `${scenario}: the undo ran`).toBeGreaterThan(0);
        return;
      }
      expect(report.failure, scenario).toBeUndefined();
      expect(report.status, scenario).toBe('succeeded');
      const state = await sandbox.state();
      for (const env of ['dev', 'stage', 'prod'] as const) {
        expect(tagOf(environment(state, env).image), `${scenario} ${env}`).toBe(report.imageTag);
        expect(environment(state, env), `${scenario} ${env}`).toMatchObject({ health: 'Healthy', sync: 'Synced' });
      }
    });
  });
});
