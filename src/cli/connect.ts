/**
 * How the operator commands (validate, promote, approve, reject, status, schedule) reach Temporal: the configured
 * `TEMPORAL_ADDRESS`, or else the embedded dev server that `shepherd dev-server` runs on the state folder. Unlike
 * `demo` and `worker`, they never start a server themselves: a command that only asks a question must not leave
 * one behind. When there is nothing to reach, the error says what to start.
 */
import type { Client } from '@temporalio/client';
import { ConfigError, type ShepherdConfig } from '../config/load.js';
import { connectClient, targetFrom, type TemporalTarget } from '../temporal/connection.js';
import { runningDevServer } from '../temporal/dev-server.js';

function noServer(message: string): ConfigError {
  return new ConfigError([{ variable: 'TEMPORAL_ADDRESS', rule: 'host:port', message }]);
}

/** The Temporal server the operator commands talk to; a ConfigError (exit 2) when there is none. */
export function operatorTarget(config: ShepherdConfig): TemporalTarget {
  if (config.temporal.address) return targetFrom(config.temporal, config.temporal.address);
  const running = runningDevServer(config.temporal.stateDir);
  if (running) return targetFrom(config.temporal, running.address);
  throw noServer(
    `is unset and no Temporal dev server runs on ${config.temporal.stateDir}: start one with \`npx shepherd dev-server\` in another terminal, or set TEMPORAL_ADDRESS to your Temporal server`,
  );
}

/** Runs `use` with a client on the operator target and closes the connection afterwards. */
export async function withClient<T>(
  config: ShepherdConfig,
  use: (client: Client, target: TemporalTarget) => Promise<T>,
): Promise<T> {
  const target = operatorTarget(config);
  let client: Client;
  try {
    client = await connectClient(target);
  } catch (err) {
    throw noServer(
      `${target.address} does not answer (${(err as Error).message.split('\n')[0]}): start \`npx shepherd dev-server\`, or point TEMPORAL_ADDRESS at a running Temporal server`,
    );
  }
  try {
    return await use(client, target);
  } finally {
    await client.connection.close();
  }
}
