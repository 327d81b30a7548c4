import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { workflowBundle } from '../support/temporal.js';
import { credentialsIn, historyFromJson, historyToJson, readableText, storedHistories } from './history-files.js';
import { TRACING_OFF } from '../../src/tracing/tracing.js';

/**
 * Every change to workflows/ must replay the histories of runs recorded on the previous code
 * (`npx tsx scripts/record-histories.ts`): a run in flight when a new worker deploys is replayed the same way.
 */
describe('stored workflow histories', () => {
  const stored = storedHistories();
  const find = (file: string) => {
    const found = stored.find((s) => s.file === file);
    if (!found) throw new Error(`no stored history ${file}`);
    return found;
  };
  const history = (file: string) => find(file).history;
  const json = (file: string) => find(file).json;
  /** The event types, an activity's scheduling as `ACTIVITY_TASK_SCHEDULED:<type>`. */
  const events = (file: string): string[] =>
    history(file).events!.map((e) => {
      const type = EventType[e.eventType!]!.replace(/^EVENT_TYPE_/, '');
      const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
      return activity ? `${type}:${activity}` : type;
    });
  const activities = (file: string): string[] =>
    events(file)
      .filter((e) => e.startsWith('ACTIVITY_TASK_SCHEDULED:'))
      .map((e) => e.slice('ACTIVITY_TASK_SCHEDULED:'.length));

  it('cover every path a run can be on when new code deploys, open runs at the approval gate included', () => {
    const ending = (file: string): string => {
      const last = history(file).events!.at(-1)!.eventType!;
      return CLOSED.get(last) ?? 'open';
    };
    // Older recordings kept under other names (README § Re-recording) may come on top.
    expect(Object.fromEntries(stored.map((s) => [s.file, ending(s.file)]))).toMatchObject({
      // approve (jenkins mode), and an environment's failure rolled back
      'validate-success.json': 'completed',
      'promote-stage-success.json': 'completed',
      'promote-prod-success.json': 'completed',
      'validate-rolled-back.json': 'completed', // recorded before the `validation-ends-failed` patch
      'promote-stage-rolled-back.json': 'failed',
      'validate-stage-degraded.json': 'failed', // the same path recorded after it
      'promote-stage-degraded.json': 'failed',
      // approval pending: both runs still open, the promotion's timer running
      'validate-approval-pending.json': 'open',
      'promote-prod-approval-pending.json': 'open',
      // reject, approval timeout
      'validate-prod-rejected.json': 'failed',
      'promote-prod-rejected.json': 'failed',
      'validate-approval-timed-out.json': 'failed',
      'promote-prod-approval-timed-out.json': 'failed',
      // supersede at the stage gate
      'validate-superseded.json': 'failed',
      'promote-stage-superseded.json': 'completed',
      // the validation cancelled while its stage promotion reverts
      'validate-cancelled-during-rollback.json': 'cancelled',
      'promote-stage-cancelled-during-rollback.json': 'failed',
      // gitlab mode
      'validate-gitlab-mode.json': 'completed',
      'promote-stage-gitlab-mode.json': 'completed',
      // `rollback: all`: prod reverted by its promotion, stage and dev by the validation
      'validate-rollback-all.json': 'failed',
      'promote-prod-rollback-all.json': 'failed',
      // iteration 1 (dev) failures: dev reverted; CI failed before anything changed
      'validate-dev-rolled-back.json': 'failed',
      'validate-ci-build-failed.json': 'failed',
    });
    expect(events('promote-prod-approval-pending.json').at(-1)).toBe('TIMER_STARTED');
    expect(events('promote-prod-rejected.json')).toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
    expect(events('promote-prod-approval-timed-out.json')).toContain('TIMER_FIRED');
    expect(events('promote-stage-superseded.json')).toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
    const cancelled = events('promote-stage-cancelled-during-rollback.json');
    const revert = cancelled.indexOf('ACTIVITY_TASK_SCHEDULED:revertMergeRequest');
    expect(revert).toBeGreaterThan(0);
    expect(cancelled.indexOf('WORKFLOW_EXECUTION_CANCEL_REQUESTED')).toBeGreaterThan(revert);
    expect(activities('promote-stage-gitlab-mode.json')).toContain('openPromotionMergeRequest');
    expect(activities('validate-rollback-all.json').filter((a) => a === 'revertMergeRequest')).toHaveLength(2);
    expect(activities('validate-dev-rolled-back.json')).toContain('revertMergeRequest');
    expect(readableText(json('validate-rolled-back.json'))).toContain('"status":"rolled_back"');
  });

  it('are stored in the JSON form the SDK writes, and read back to the same events', () => {
    for (const s of stored) {
      expect(s.history.events?.length, s.file).toBeGreaterThan(10);
      expect(historyToJson(historyFromJson(s.json)), s.file).toBe(s.json.trimEnd());
    }
  });

  it('replay against the current workflow bundle without a determinism error', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: workflowBundle(), sinks: TRACING_OFF.sinks },
      stored.map((s) => ({ workflowId: s.workflowId, history: s.history })),
    );
    const outcomes: { workflowId: string; error: string | undefined }[] = [];
    for await (const r of results)
      outcomes.push({ workflowId: r.workflowId, error: r.error ? `${r.error.name}: ${r.error.message}` : undefined });
    expect(outcomes).toHaveLength(stored.length);
    expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
  });

  it('would catch a change of workflow code: a history whose steps differ from the code fails to replay', async () => {
    const success = stored.find((s) => s.file === 'validate-success.json')!;
    const altered = historyFromJson(
      success.json.replace(/"name": "bumpAppVersion"/g, '"name": "bumpVersionTheOldWay"'),
    );
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: workflowBundle(), sinks: TRACING_OFF.sinks },
        altered,
        success.workflowId,
      ),
    ).rejects.toThrow(/[Nn]ondetermin|[Dd]eterminism/);
  });

  it('hold no credential, also inside the base64 payloads', () => {
    for (const s of stored) expect(credentialsIn(s.json), s.file).toEqual([]);
  });
});

const { EventType } = proto.temporal.api.enums.v1;
const CLOSED = new Map<number, string>([
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, 'completed'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, 'failed'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, 'cancelled'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, 'terminated'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, 'timed out'],
]);
