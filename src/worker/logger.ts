/**
 * The worker's logger: every entry of the process — Shepherd's, the workflows' and activities' (with the workflow
 * id, run id, activity type and attempt the SDK attaches), the SDK's and its native core's — as one line on
 * stderr, at SHEPHERD_LOG_LEVEL, in SHEPHERD_LOG_FORMAT, with the configuration's secrets redacted.
 */
import { DefaultLogger, type Logger } from '@temporalio/worker';
import { lineRenderer, secretValues, type LogFormat } from '../observability/log.js';
import type { LogLevel } from '@temporalio/common';

export interface WorkerLoggerOptions {
  readonly level: LogLevel;
  /** Undefined: pretty when `isTerminal`, json otherwise. */
  readonly format: LogFormat | undefined;
  readonly isTerminal: boolean;
  /** The loaded configuration: every Secret in it is redacted from every line. */
  readonly config: unknown;
  /** Writes one line (without its newline). */
  readonly write: (line: string) => void;
}

export function workerLogger(opts: WorkerLoggerOptions): Logger {
  const render = lineRenderer({
    format: opts.format ?? (opts.isTerminal ? 'pretty' : 'json'),
    secrets: secretValues(opts.config),
  });
  return new DefaultLogger(opts.level, (entry) => opts.write(render(entry)));
}
