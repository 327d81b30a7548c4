/**
 * Part B, dev-server tier: a promotion gated by GitLab approvals (installation `gitlabApprovals`) against the
 * sandbox world, with the real worker and activities. The run waits for its MR's approval in GitLab, refuses the
 * identity-free `approve` update, and merges only once an eligible user approved; `shepherd approve` (the CLI, in
 * this process) approves in GitLab with the person's own token, and GitLab's refusal of the MR author is explained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import { writeWorldFile } from '../../src/sandbox/world/world-file.js';
import type { promoteEnvironment } from '../../workflows/index.js';
import { approveUpdate, progressQuery } from '../../workflows/messages.js';
import { runInProcess } from '../support/cli.js';
import { until } from '../support/eventually.js';
import { APP, deployNewImageToDev, project, sandboxTemporal, type SandboxTemporal } from './sandbox-support.js';

/** stage is gated by GitLab here, so that one hop (dev → stage, opened through the API) shows the whole gate. */
const STAGE_NEEDS_ALICE = {
  name: 'gitlab-approvals-stage',
  description: 'stage needs an approval in GitLab from alice',
  installation: { gitlabApprovals: { environments: ['stage'], approvers: ['alice'] } },
};

describe('a promotion gated by GitLab approvals, against the sandbox world', () => {
  let t: SandboxTemporal;
  const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-approvals-'));
  beforeAll(async () => {
    t = await sandboxTemporal(import.meta.url);
  });
  afterAll(async () => {
    await t?.teardown();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('waits for the MR approval in GitLab, refuses the approve update, is approved by alice through `shepherd approve` with her token, and records her', async () => {
    await t.inWorld({ scenario: STAGE_NEEDS_ALICE }, async (sandbox) => {
      const { info } = sandbox.world;
      expect(info.settings).toMatchObject({
        SHEPHERD_APPROVALS_SOURCE: 'gitlab',
        SHEPHERD_APPROVAL_ENVIRONMENTS: 'stage',
      });
      const alice = info.gitlab.approvers?.find((a) => a.username === 'alice');
      expect(alice).toBeDefined();
      // `shepherd approve` finds the running sandbox's GitLab through the state folder, as in embedded mode.
      writeWorldFile(stateDir, info);
      const cli = (token: string) =>
        runInProcess(['approve', promotionWorkflowId(APP, 'stage')], {
          SHEPHERD_STATE_DIR: stateDir,
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          TEMPORAL_NAMESPACE: t.namespace,
          SHEPHERD_APPROVER_TOKEN: token,
        });

      const imageTag = await deployNewImageToDev(t);
      const handle = await t.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
        taskQueue: t.taskQueue,
        workflowId: promotionWorkflowId(APP, 'stage'),
        args: [
          {
            appName: APP,
            sourceEnv: 'dev',
            targetEnv: 'stage',
            mode: 'gitlab',
            approvalEnvironments: ['stage'],
            approvalSource: 'gitlab',
          },
        ],
      });
      await until(
        async () => (await handle.query(progressQuery)).current?.waitingOn?.kind === 'approval',
        'the run to wait for its approval',
      );

      // A name typed into the update proves nothing: refused, and the gate keeps waiting.
      const refused = await handle.executeUpdate(approveUpdate, { args: [{ by: 'mallory' }] }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toContain('come from GitLab');

      // Shepherd's own token is the MR author's: GitLab refuses (401) and the CLI says why.
      const asAuthor = await cli(info.gitlab.token);
      expect(asAuthor.code).toBe(1);
      expect(asAuthor.stderr).toContain('GitLab refused (401): @shepherd may not approve');
      const deployments = () => sandbox.state().then((s) => project(s, info.gitlab.deploymentsProject));
      expect((await deployments()).mergeRequests.opened.map((m) => m.detailedMergeStatus)).toEqual(['not_approved']);

      const asAlice = await cli(alice!.token);
      expect(asAlice.code).toBe(0);
      expect(asAlice.stdout).toContain('@alice approved !');
      expect(asAlice.stdout).toContain('GitLab counts the MR approved');

      const result = await handle.result();
      expect(result.status).toBe('succeeded');
      expect(result.imageTag).toBe(imageTag);
      expect(result.approval).toEqual({
        by: 'alice',
        reason: expect.stringContaining(`approved in GitLab by Alice (@alice) on !${result.mergeRequest!.iid}`),
      });
      expect((await deployments()).mergeRequests.merged.map((m) => m.iid)).toContain(result.mergeRequest!.iid);
      // Nobody's token entered the run's history.
      const history = JSON.stringify(await handle.fetchHistory());
      expect(history).not.toContain(alice!.token);
      expect(history).not.toContain(info.gitlab.token);
    });
  });
});
