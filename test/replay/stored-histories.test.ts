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

  it('cover a successful and a rolled-back run of both workflows', () => {
    expect(stored.map((s) => s.file)).toEqual(
      expect.arrayContaining([
        'validate-success.json',
        'promote-stage-success.json',
        'promote-prod-success.json',
        'validate-rolled-back.json',
        'promote-stage-rolled-back.json',
      ]),
    );
    const outcome = (file: string) => stored.find((s) => s.file === file)!.history.events!.at(-1)!.eventType;
    expect(outcome('validate-success.json')).toBe(completed);
    expect(outcome('promote-prod-success.json')).toBe(completed);
    // The rolled-back report is validatePipeline's result; its stage child fails after unwinding.
    expect(outcome('validate-rolled-back.json')).toBe(completed);
    expect(readableText(stored.find((s) => s.file === 'validate-rolled-back.json')!.json)).toContain(
      '"status":"rolled_back"',
    );
    expect(outcome('promote-stage-rolled-back.json')).toBe(failed);
    expect(readableText(stored.find((s) => s.file === 'promote-stage-rolled-back.json')!.json)).toContain(
      'revert-merge-request',
    );
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
const completed = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED;
const failed = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED;
