/**
 * One place that turns Shepherd's Temporal configuration into connections: a client `Connection` for starting and
 * querying workflows, and a worker `NativeConnection`. TLS (mTLS or server-only) and Temporal Cloud API keys are
 * handled here and nowhere else.
 *
 * The frontend's certificate is checked against TEMPORAL_TLS_CA_PATH when it is set (it replaces the roots, for a
 * private Temporal CA), else against the default roots plus the company CA of SHEPHERD_CA_FILE when that is set
 * (`serverRootCACertificate` replaces the roots too, so it is given both), else against the default roots.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalConfig } from '../config/load.js';

/** Where to connect: the configured cluster, or the embedded dev server's address. */
export interface TemporalTarget {
  readonly address: string;
  readonly namespace: string;
  readonly tls?: TemporalConfig['tls'];
  readonly apiKey?: TemporalConfig['apiKey'];
}

export function targetFrom(config: TemporalConfig, address: string): TemporalTarget {
  return { address, namespace: config.namespace, tls: config.tls, apiKey: config.apiKey };
}

/** The roots to check the frontend's certificate against, when they are not the default ones. */
function serverRoots(t: NonNullable<TemporalConfig['tls']>, read: (path: string) => Buffer): Buffer | undefined {
  if (t.caPath) return read(t.caPath);
  if (t.companyCa) return Buffer.from(t.companyCa.trusted.join('\n'), 'utf8');
  return undefined;
}

export function tlsConfig(target: TemporalTarget): TLSConfig | undefined {
  if (!target.tls && !target.apiKey) return undefined;
  const t: NonNullable<TemporalConfig['tls']> = target.tls ?? {};
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(
        `Cannot read the Temporal ${what} at ${path} (${(err as NodeJS.ErrnoException).code}). Check the TEMPORAL_TLS_* paths.`,
        { cause: err },
      );
    }
  };
  const roots = serverRoots(t, (path) => read(path, 'CA bundle'));
  return {
    ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
    ...(roots ? { serverRootCACertificate: roots } : {}),
    ...(t.certPath && t.keyPath
      ? { clientCertPair: { crt: read(t.certPath, 'client certificate'), key: read(t.keyPath, 'client key') } }
      : {}),
  };
}

/** A client for the target namespace. Close `client.connection` when done. */
export async function connectClient(target: TemporalTarget): Promise<Client> {
  const tls = tlsConfig(target);
  const connection = await Connection.connect({
    address: target.address,
    ...(tls ? { tls } : {}),
    ...(target.apiKey ? { apiKey: target.apiKey.reveal() } : {}),
  });
  return new Client({ connection, namespace: target.namespace });
}

/**
 * A worker connection to the target. The worker package (and its native core) loads here, on first use: the
 * operator commands, which only need a client, never pay its seconds of start-up.
 */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  const tls = tlsConfig(target);
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect({
    address: target.address,
    ...(tls ? { tls } : {}),
    ...(target.apiKey ? { apiKey: target.apiKey.reveal() } : {}),
  });
}
