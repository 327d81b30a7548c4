/**
 * How Shepherd's worker writes its log: one line per entry, JSON (for a log pipeline) or pretty (for a person at
 * a terminal), at a minimum level. The SDK hands every entry from workflow and activity code the context of where
 * it came from — workflowId, runId, workflowType, activityType, attempt, … — as metadata, and this renders it.
 *
 * Secrets: a value with `reveal()` (the config's Secret) renders as `[redacted]`; so does any field whose name says
 * it is a credential (token, password, authorization, …); and any configured secret value that appears anywhere in
 * the rendered line (a token inside an error message or a URL) is replaced with `[redacted]` before it is written.
 */
import type { LogLevel, LogMetadata } from '@temporalio/common';

export type LogFormat = 'json' | 'pretty';

const REDACTED = '[redacted]';
const CREDENTIAL_KEY = /token|password|passwd|secret|authorization|api[-_]?key|cookie|credential/i;

/** One entry, as the SDK's DefaultLogger hands it over. */
export interface RenderedEntry {
  readonly level: LogLevel;
  readonly message: string;
  readonly timestampNanos: bigint;
  readonly meta?: LogMetadata | undefined;
}

export interface LineRendererOptions {
  readonly format: LogFormat;
  /** Credential values that must never appear in a line (GitLab and Jenkins tokens, the webhook URL, …). */
  readonly secrets?: readonly string[];
}

/** Renders entries as lines (without the newline). */
export function lineRenderer(opts: LineRendererOptions): (entry: RenderedEntry) => string {
  // Longest first, so that a secret that contains another is replaced whole; short values would redact noise.
  const secrets = [...new Set(opts.secrets ?? [])].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const scrub = (line: string): string => secrets.reduce((out, secret) => out.split(secret).join(REDACTED), line);
  return (entry) => {
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    const fields = plain(entry.meta ?? {}) as Record<string, unknown>;
    if (opts.format === 'json')
      return scrub(JSON.stringify({ time, level: entry.level, msg: entry.message, ...fields }));
    const rest = Object.entries(fields)
      .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`)
      .join(' ');
    return scrub(`${time} ${entry.level.padEnd(5)} ${entry.message}${rest ? `  ${rest}` : ''}`);
  };
}

/**
 * The metadata as plain JSON values: errors as their type, message and cause (the SDK passes the failure of a
 * failed workflow or activity as `error`), secrets and credential-named fields redacted, bigints as strings.
 */
function plain(value: unknown, key = '', depth = 0): unknown {
  if (key && CREDENTIAL_KEY.test(key)) return REDACTED;
  if (value === null || value === undefined) return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (typeof (value as { reveal?: unknown }).reveal === 'function') return REDACTED;
  if (depth > 5) return '[…]';
  if (value instanceof Error) {
    const failure = value as Error & { type?: unknown; cause?: unknown };
    return {
      type: typeof failure.type === 'string' ? failure.type : failure.name,
      message: failure.message,
      ...(failure.cause !== undefined ? { cause: plain(failure.cause, '', depth + 1) } : {}),
    };
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => plain(item, '', depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const rendered = plain(v, k, depth + 1);
    if (rendered !== undefined) out[k] = rendered;
  }
  return out;
}

/** Every credential value in `config`: the plain value of each Secret (anything with `reveal()`) it holds. */
export function secretValues(config: unknown, depth = 0): string[] {
  if (config === null || typeof config !== 'object' || depth > 6) return [];
  const reveal = (config as { reveal?: unknown }).reveal;
  if (typeof reveal === 'function') {
    const value: unknown = reveal.call(config);
    return typeof value === 'string' ? [value] : [];
  }
  return Object.values(config).flatMap((v) => secretValues(v, depth + 1));
}
