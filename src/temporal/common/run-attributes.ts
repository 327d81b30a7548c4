/**
 * The header a workflow puts on every activity it schedules (workflows/tracing-interceptors.ts) and the worker reads
 * into the activity's trace span (src/observability/tracing.ts): which app, environment and image tag the run is
 * about. Only these three keys; each is absent until the run knows it.
 */
export const RUN_ATTRIBUTES_HEADER = 'shepherd-run';

export interface RunAttributes {
  readonly app?: string | undefined;
  readonly environment?: string | undefined;
  readonly imageTag?: string | undefined;
}
