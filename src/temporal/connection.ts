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
import { connect as tlsConnect } from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalConfig } from '../config/load.js';
import { CERTIFICATE_FAILURE_CODES } from '../domain/certificates.js';

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
  try {
    const connection = await Connection.connect({
      address: target.address,
      ...(tls ? { tls } : {}),
      ...(target.apiKey ? { apiKey: target.apiKey.reveal() } : {}),
    });
    return new Client({ connection, namespace: target.namespace });
  } catch (err) {
    throw await explainConnectFailure(target, tls, err);
  }
}

/**
 * gRPC hides a refused certificate behind "Failed to connect before the deadline" (grpc-js) or a transport error (the
 * Rust core). When TLS is on and the connection failed, one TLS handshake with the same roots tells whether the
 * certificate is why, and the error then says so and what to set; any other failure is returned as it was.
 */
async function explainConnectFailure(
  target: TemporalTarget,
  tls: TLSConfig | undefined,
  err: unknown,
): Promise<unknown> {
  if (!tls) return err;
  const at = target.address.lastIndexOf(':');
  const host = target.address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(target.address.slice(at + 1));
  const code = await new Promise<string | undefined>((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      ALPNProtocols: ['h2'],
      ...(tls.serverNameOverride
        ? { servername: tls.serverNameOverride }
        : /^[\d.:]+$/.test(host)
          ? {}
          : { servername: host }),
      ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate).toString('utf8') } : {}),
      timeout: 5_000,
    });
    const done = (result: string | undefined): void => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => done(undefined));
    socket.once('timeout', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code));
  });
  if (code === undefined || !CERTIFICATE_FAILURE_CODES.has(code)) return err;
  const fix =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? 'set TEMPORAL_TLS_SERVER_NAME to a name the certificate was issued for, or use that name in TEMPORAL_ADDRESS'
      : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? "the certificate must be renewed on the server (or this machine's clock is wrong)"
        : 'set SHEPHERD_CA_FILE to your company CA bundle (PEM), or TEMPORAL_TLS_CA_PATH to the CA of your Temporal frontend';
  return new Error(`Temporal at ${target.address} presented a certificate Shepherd does not accept (${code}): ${fix}`, {
    cause: err,
  });
}

/**
 * A worker connection to the target. The worker package (and its native core) loads here, on first use: the
 * operator commands, which only need a client, never pay its seconds of start-up.
 */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  const tls = tlsConfig(target);
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect({
      address: target.address,
      ...(tls ? { tls } : {}),
      ...(target.apiKey ? { apiKey: target.apiKey.reveal() } : {}),
    });
  } catch (err) {
    throw await explainConnectFailure(target, tls, err);
  }
}
