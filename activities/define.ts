/**
 * The one way an activity is defined: its input parsed with a schema, its errors mapped to Shepherd's failure
 * types, and its heartbeat state handed to the body typed. Every activity in `activities/` is a `defineActivity`.
 *
 * - Input: parsed with `input` before the body runs. A value the schema refuses ends the attempt with a
 *   non-retryable ValidationError naming the first field in error and its rule (`appName must be …`), the same
 *   words the workflow-input checks use.
 * - Errors: a ShepherdError leaves as `toApplicationFailure(err)` (type = class name, facts as details); `failure`
 *   may map a system's own non-Shepherd errors (a refused Kubernetes request); cancellation and anything else pass
 *   through unchanged, so that Temporal sees a cancelled attempt as cancelled.
 * - Heartbeat state: `resumed` is an earlier attempt's heartbeat details when they match `progress` (details of
 *   another shape, or none, read as undefined: the body starts afresh); `heartbeat` records new ones.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { ShepherdError, ValidationError } from '../src/domain/errors.js';
import { toApplicationFailure } from '../src/temporal/common/failures.js';

/** What an activity body gets besides its input. */
export interface ActivityContext<P> {
  /** `activityInfo().attempt`: 1 on the first try; every result reports it. */
  readonly attempt: number;
  /** Aborted when the activity is cancelled; handed to every client call. */
  readonly signal: AbortSignal;
  /** The heartbeat details of an earlier attempt, when they have the `progress` shape. */
  readonly resumed: P | undefined;
  /** Records progress: Temporal keeps the last details for the next attempt. */
  heartbeat(details: P): void;
}

export interface ActivityDefinition<S extends z.ZodType, P, R> {
  /** The input's schema; its output is what the body receives. */
  readonly input: S;
  /** The shape of the heartbeat details, for activities that resume from them. */
  readonly progress?: z.ZodType<P>;
  /** Maps a system's own errors that are not ShepherdErrors to a failure; undefined leaves the error as is. */
  readonly failure?: (err: unknown) => ApplicationFailure | undefined;
  readonly run: (input: z.output<S>, ctx: ActivityContext<P>) => Promise<R>;
}

/** The activity function Temporal registers: parse, run, map errors. */
export function defineActivity<S extends z.ZodType, R, P = never>(
  def: ActivityDefinition<S, P, R>,
): (input: z.input<S>) => Promise<R> {
  return async (raw) => {
    try {
      const input = parseActivityInput(def.input, raw);
      const info = activityInfo();
      const resumed = def.progress?.safeParse(info.heartbeatDetails);
      return await def.run(input, {
        attempt: info.attempt,
        signal: cancellationSignal(),
        resumed: resumed?.success ? resumed.data : undefined,
        heartbeat: (details) => heartbeat(details),
      });
    } catch (err) {
      if (err instanceof ShepherdError) throw toApplicationFailure(err);
      throw def.failure?.(err) ?? err;
    }
  };
}

/** Parses `raw` with `schema`, or throws a ValidationError naming the first field in error and its rule. */
export function parseActivityInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'input';
  throw new ValidationError(field, issue?.message ?? 'must be a JSON object');
}
