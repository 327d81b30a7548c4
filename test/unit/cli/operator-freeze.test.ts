import { describe, expect, it } from 'vitest';
import { currentLine } from '../../../src/cli/operator.js';

describe('the current step of a run at its freeze gate', () => {
  it('says which window it waits for and until when it is frozen, not when it gives up', () => {
    const line = currentLine(
      {
        name: 'freeze-window',
        env: 'prod',
        status: 'running',
        startedAt: '2026-01-10T12:00:00.000Z',
        imageTag: '1.0.37-SNAPSHOT-a1b2c3d',
        waitingOn: { kind: 'freeze', ref: 'Fri 16:00 → Mon 08:00 Europe/Berlin' },
        timeoutAt: '2026-01-12T07:00:00.000Z',
      },
      Date.parse('2026-01-10T12:30:00.000Z'),
    );
    expect(line).toBe(
      '[prod] freeze-window image 1.0.37-SNAPSHOT-a1b2c3d, waiting for the freeze window Fri 16:00 → Mon 08:00 Europe/Berlin to close, since 2026-01-10T12:00:00.000Z (30m), frozen until 2026-01-12T07:00:00.000Z',
    );
  });

  it('still says when any other wait gives up', () => {
    expect(
      currentLine(
        {
          name: 'approval',
          status: 'running',
          startedAt: '2026-01-10T12:00:00.000Z',
          waitingOn: { kind: 'approval', ref: 'alice' },
          timeoutAt: '2026-01-11T12:00:00.000Z',
        },
        Date.parse('2026-01-10T12:00:30.000Z'),
      ),
    ).toContain('gives up at 2026-01-11T12:00:00.000Z');
  });
});
