/**
 * Decides where Shepherd's Temporal lives: with `TEMPORAL_ADDRESS` set it connects there and starts nothing;
 * otherwise it starts the embedded dev server on the project-local state folder.
 */
import { Connection } from '@temporalio/client';
import type { ShepherdConfig } from '../config/load.js';
import { startDevServer } from './dev-server.js';
import { connectClient, targetFrom, type TemporalTarget } from './connection.js';
import { registerSearchAttributes, SearchAttributesMissingError } from './search-attributes.js';

export interface TemporalRuntime {
  readonly target: TemporalTarget;
  /** Web UI address when Shepherd started the server itself. */
  readonly uiUrl: string | undefined;
  /** True when this process started the dev server (and `stop` stops it). */
  readonly embedded: boolean;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  /** Start the Web UI with the embedded server (default true). */
  readonly ui?: boolean;
  /** Ports 0 = free ports, for tests and demos that must not collide with a running server. */
  readonly ephemeralPorts?: boolean;
  /** State folder override (e.g. a temporary one); the config's folder otherwise. */
  readonly stateDir?: string;
  readonly warn?: (message: string) => void;
}

export async function openTemporal(config: ShepherdConfig, opts: RuntimeOptions = {}): Promise<TemporalRuntime> {
  const t = config.temporal;
  if (t.address) {
    const target = targetFrom(t, t.address);
    const client = await connectClient(target);
    try {
      await registerSearchAttributes(client.connection as Connection, t.namespace);
    } catch (err) {
      opts.warn?.(
        err instanceof SearchAttributesMissingError
          ? err.message
          : `Could not register Shepherd's search attributes on ${t.address} (${(err as Error).message}); ` +
              '`npx shepherd doctor` says whether they are there.',
      );
    } finally {
      await client.connection.close();
    }
    return { target, uiUrl: undefined, embedded: false, stop: async () => {} };
  }
  const server = await startDevServer({
    stateDir: opts.stateDir ?? t.stateDir,
    port: opts.ephemeralPorts ? 0 : t.devServerPort,
    uiPort: opts.ui === false ? false : opts.ephemeralPorts ? 0 : t.uiPort,
    namespace: t.namespace,
  });
  return { target: targetFrom(t, server.address), uiUrl: server.uiUrl, embedded: true, stop: server.stop };
}
