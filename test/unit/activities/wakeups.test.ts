/**
 * Which history events wake a wait: `wake` signals for its own system, recorded since it began (with a margin for
 * clocks); other signals, other systems, older wake-ups and malformed payloads do not.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { wakeUpsIn } from '../../../activities/wakeups.js';
import { WAKE_SIGNAL, type WakeHint } from '../../../src/domain/wake.js';

const { EventType } = proto.temporal.api.enums.v1;
const { HistoryEvent } = proto.temporal.api.history.v1;
const T0 = Date.parse('2026-11-29T06:00:00Z');

function signal(name: string, input: unknown, atMs: number): proto.temporal.api.history.v1.IHistoryEvent {
  return HistoryEvent.fromObject({
    eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    eventTime: { seconds: Math.floor(atMs / 1000), nanos: (atMs % 1000) * 1e6 },
    workflowExecutionSignaledEventAttributes: {
      signalName: name,
      input: { payloads: [defaultPayloadConverter.toPayload(input)] },
    },
  });
}
const hint = (system: WakeHint['system']): WakeHint => ({ system, event: 'build', receivedAt: '' });

describe('wakeUpsIn', () => {
  it('counts the wake signals of the wait’s system recorded since it began', () => {
    const events = [
      signal(WAKE_SIGNAL, hint('jenkins'), T0 + 10),
      signal(WAKE_SIGNAL, hint('jenkins'), T0 + 20),
      HistoryEvent.fromObject({
        eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        eventTime: { seconds: T0 / 1000 },
      }),
    ];
    expect(wakeUpsIn(events, 'jenkins', T0)).toBe(2);
  });

  it("ignores another system's wake-ups, other signals, older ones and payloads that are no wake hint", () => {
    const events = [
      signal(WAKE_SIGNAL, hint('gitlab'), T0 + 10),
      signal('releaseValidationLock', hint('jenkins'), T0 + 10),
      signal(WAKE_SIGNAL, hint('jenkins'), T0 - 1),
      signal(WAKE_SIGNAL, 'jenkins', T0 + 10),
      signal(WAKE_SIGNAL, { event: 'build' }, T0 + 10),
    ];
    expect(wakeUpsIn(events, 'jenkins', T0)).toBe(0);
    expect(wakeUpsIn(events, 'gitlab', T0)).toBe(1);
  });
});
