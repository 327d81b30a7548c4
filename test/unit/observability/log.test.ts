/**
 * The worker's log lines: JSON or pretty, the SDK's metadata rendered (workflow id, run id, activity type,
 * attempt, the failure of a failed workflow), and no credential in any line however it got there.
 */
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { Secret } from '../../../src/config/secret.js';
import { lineRenderer, secretValues } from '../../../src/observability/log.js';
import { workerLogger } from '../../../src/worker/logger.js';

const TOKEN = 'glpat-Zx8s7EXAMPLEtokenValue';
const JENKINS = '11aa22bb33cc44dd55ee66ff77aa88bb99';
const at = 1_764_377_000_123n * 1_000_000n;

describe('log lines', () => {
  const json = lineRenderer({ format: 'json', secrets: [TOKEN, JENKINS] });

  it('render an activity entry as one JSON object with its workflow id, run id, activity type and attempt', () => {
    const line = json({
      level: 'INFO',
      message: 'step merge-merge-request started',
      timestampNanos: at,
      meta: { workflowId: 'promote-app-stage', runId: 'r-1', activityType: 'mergeMergeRequest', attempt: 2 },
    });
    expect(JSON.parse(line)).toEqual({
      time: '2025-11-29T00:43:20.123Z',
      level: 'INFO',
      msg: 'step merge-merge-request started',
      workflowId: 'promote-app-stage',
      runId: 'r-1',
      activityType: 'mergeMergeRequest',
      attempt: 2,
    });
    expect(line).not.toContain('\n');
  });

  it('render a failed workflow with its id and the failure type and message (the SDK passes it as `error`)', () => {
    const error = ApplicationFailure.create({ type: 'AppDegradedError', message: 'example-app is Degraded in stage' });
    const entry = JSON.parse(
      json({
        level: 'WARN',
        message: 'Workflow failed',
        timestampNanos: at,
        meta: { workflowId: 'promote-app-stage', runId: 'r-1', error },
      }),
    ) as Record<string, unknown>;
    expect(entry).toMatchObject({
      workflowId: 'promote-app-stage',
      error: { type: 'AppDegradedError', message: 'example-app is Degraded in stage' },
    });
  });

  it('never carry a credential: not a Secret, not a credential-named field, not a token inside a message or URL', () => {
    const cause = new Error(`GET https://ci.example/job/x?token=${JENKINS} refused`);
    const entries = [
      { level: 'ERROR', message: `PRIVATE-TOKEN ${TOKEN} was refused`, timestampNanos: at },
      { level: 'INFO', message: 'config', timestampNanos: at, meta: { gitlab: { token: new Secret(TOKEN) } } },
      { level: 'INFO', message: 'headers', timestampNanos: at, meta: { headers: { Authorization: 'Bearer abc123' } } },
      { level: 'WARN', message: 'Activity failed', timestampNanos: at, meta: { error: new Error('x', { cause }) } },
    ] as const;
    for (const format of ['json', 'pretty'] as const) {
      const render = lineRenderer({ format, secrets: [TOKEN, JENKINS] });
      const lines = entries.map((entry) => render(entry)).join('\n');
      expect(lines).not.toContain(TOKEN);
      expect(lines).not.toContain(JENKINS);
      expect(lines).not.toContain('abc123');
      expect(lines.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(4);
    }
  });

  it('find every Secret in a loaded configuration', () => {
    const config = {
      gitlab: { url: 'https://gitlab.example', token: new Secret(TOKEN) },
      jenkins: { token: new Secret(JENKINS) },
      none: undefined,
    };
    expect(secretValues(config).sort()).toEqual([JENKINS, TOKEN].sort());
  });

  it('are pretty for a person at a terminal: time, level, message, then the fields', () => {
    const pretty = lineRenderer({ format: 'pretty' });
    expect(
      pretty({
        level: 'INFO',
        message: 'step read-source succeeded',
        timestampNanos: at,
        meta: { step: 'read-source', durationMs: 12, note: 'two words' },
      }),
    ).toBe(
      '2025-11-29T00:43:20.123Z INFO  step read-source succeeded  step=read-source durationMs=12 note="two words"',
    );
  });

  it('are written at the configured level and above, redacting the configuration secrets', () => {
    const lines: string[] = [];
    const logger = workerLogger({
      level: 'INFO',
      format: undefined,
      isTerminal: false,
      config: { gitlab: { token: new Secret(TOKEN) } },
      write: (line) => lines.push(line),
    });
    logger.debug('hidden');
    logger.info(`token is ${TOKEN}`, { workflowId: 'w' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'INFO', msg: 'token is [redacted]', workflowId: 'w' });
  });
});
